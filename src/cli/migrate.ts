/** `kasi migrate`: creates or updates the database schema, then exits. */
import { Command } from "@commander-js/extra-typings";

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function migrateCommand() {
  return new Command("migrate")
    .description("Create or update the Kasi database schema (safe to run at any time).")
    .option(
      "--database-url <url>",
      "PostgreSQL URL (default: $KASI_DATABASE_URL, then $DATABASE_URL, " +
        "then postgres://postgres@127.0.0.1:5432/postgres)",
    )
    .action(async (options) => {
      // Loaded here, so other subcommands never load the database code.
      const { connectDatabase, redactDatabaseUrl, resolveDatabaseUrl } = await import(
        "../db/client.ts"
      );
      const { runMigrations } = await import("../db/migrate.ts");
      const { jsonLogger } = await import("./log.ts");
      const url = resolveDatabaseUrl({ flag: options.databaseUrl, env: Deno.env.toObject() });
      const sql = await connectDatabase(url, { max: 1 });
      try {
        console.log(`Migrating ${redactDatabaseUrl(url)}`);
        const result = await runMigrations(sql, {
          log: jsonLogger({ level: "warn", component: "migrate" }),
        });
        for (const applied of result.applied) console.log(`Applied migration ${applied}`);
        const timescale = result.timescale
          ? "TimescaleDB: enabled — telemetry is a hypertable" +
            (result.rollup === "continuous-aggregate"
              ? ", telemetry_hourly a continuous aggregate"
              : ", telemetry_hourly a table the backend maintains")
          : "TimescaleDB: not available — plain PostgreSQL";
        console.log(`Database is up to date (${plural(result.total, "migration")}, ${timescale})`);
      } finally {
        await sql.end({ timeout: 5 });
      }
    });
}
