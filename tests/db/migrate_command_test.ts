/** `kasi migrate` (src/cli/migrate.ts), run in-process against a temporary database. */
import assert from "node:assert/strict";
import { migrateCommand } from "../../src/cli/migrate.ts";
import { KasiError } from "../../src/core/errors.ts";
import { withTempDatabase } from "../_helpers/pg.ts";

async function run(args: string[]): Promise<string[]> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...parts: unknown[]) => lines.push(parts.join(" "));
  try {
    await migrateCommand().exitOverride().parseAsync(args, { from: "user" });
  } finally {
    console.log = original;
  }
  return lines;
}

Deno.test("kasi migrate prints each applied migration, then that nothing is left", async () => {
  await withTempDatabase(async (url) => {
    assert.deepEqual(await run(["--database-url", url]), [
      `Migrating ${url}`,
      "Applied migration 1: initial schema",
      "Applied migration 2: power_events shows first-generation sites",
      "Applied migration 3: hourly telemetry rollup",
      "Applied migration 4: alarms",
      "Database is up to date (4 migrations, TimescaleDB: not available — plain PostgreSQL)",
    ]);
    assert.deepEqual(await run(["--database-url", url]), [
      `Migrating ${url}`,
      "Database is up to date (4 migrations, TimescaleDB: not available — plain PostgreSQL)",
    ]);
  });
});

Deno.test("kasi migrate throws DATABASE_UNAVAILABLE instead of exiting", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assert.rejects(
    run(["--database-url", `postgres://postgres@127.0.0.1:${port}/postgres`]),
    (error: unknown) => error instanceof KasiError && error.code === "DATABASE_UNAVAILABLE",
  );
});
