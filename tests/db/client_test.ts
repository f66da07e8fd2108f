import assert from "node:assert/strict";
import {
  connectDatabase,
  DEFAULT_DATABASE_URL,
  redactDatabaseUrl,
  resolveDatabaseUrl,
} from "../../src/db/client.ts";
import { KasiError } from "../../src/core/errors.ts";
import { withTempDatabase } from "../_helpers/pg.ts";

const FLAG = "postgres://flag@db.example:5432/kasi";
const KASI = "postgres://kasi-env@db.example:5432/kasi";
const GEN1 = "postgresql://gen1@db.example:5432/power";

Deno.test("resolveDatabaseUrl() prefers flag, then KASI_DATABASE_URL, then DATABASE_URL", () => {
  const env = { KASI_DATABASE_URL: KASI, DATABASE_URL: GEN1 };
  assert.equal(resolveDatabaseUrl({ flag: FLAG, env }), FLAG);
  assert.equal(resolveDatabaseUrl({ env }), KASI);
  assert.equal(resolveDatabaseUrl({ env: { DATABASE_URL: GEN1 } }), GEN1);
  assert.equal(resolveDatabaseUrl({ env: {} }), "postgres://postgres@127.0.0.1:5432/postgres");
  assert.equal(DEFAULT_DATABASE_URL, "postgres://postgres@127.0.0.1:5432/postgres");
});

Deno.test("resolveDatabaseUrl() treats empty variables as unset", () => {
  assert.equal(resolveDatabaseUrl({ env: { KASI_DATABASE_URL: "", DATABASE_URL: GEN1 } }), GEN1);
  assert.equal(resolveDatabaseUrl({ env: { KASI_DATABASE_URL: "  " } }), DEFAULT_DATABASE_URL);
});

Deno.test("resolveDatabaseUrl() names the source and hides the password of a bad URL", () => {
  assert.throws(
    () => resolveDatabaseUrl({ env: { KASI_DATABASE_URL: "mysql://u:secret@h/db" } }),
    (error: unknown) => {
      assert.ok(error instanceof KasiError);
      assert.equal(error.code, "CONFIG_INVALID");
      assert.match(error.message, /^KASI_DATABASE_URL: expected a postgres:\/\//);
      assert.doesNotMatch(error.message, /secret/);
      return true;
    },
  );
  assert.throws(
    () => resolveDatabaseUrl({ flag: "not a url", env: {} }),
    /--database-url: expected a URL like .*got "not a url"/,
  );
});

Deno.test("redactDatabaseUrl() replaces the password only", () => {
  assert.equal(
    redactDatabaseUrl("postgres://kasi:s3cret@db:5432/kasi"),
    "postgres://kasi:***@db:5432/kasi",
  );
  assert.equal(redactDatabaseUrl(DEFAULT_DATABASE_URL), DEFAULT_DATABASE_URL);
});

Deno.test("redactDatabaseUrl() shows a value that is not a URL, without what may be a password", () => {
  assert.equal(redactDatabaseUrl("notaurl"), "notaurl");
  // A space in the host makes it no URL, yet user:password@ is still recognisable.
  assert.equal(
    redactDatabaseUrl("postgres://kasi:s3cret@my db/kasi"),
    "postgres://kasi:***@my db/kasi",
  );
});

Deno.test("connectDatabase() fails with DATABASE_UNAVAILABLE and no password when nothing listens", async () => {
  // Take a free port from the OS, then release it: connecting there is refused.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assert.rejects(
    connectDatabase(`postgres://kasi:hunter2@127.0.0.1:${port}/kasi`, { max: 1 }),
    (error: unknown) => {
      assert.ok(error instanceof KasiError);
      assert.equal(error.code, "DATABASE_UNAVAILABLE");
      assert.ok(
        error.message.startsWith(
          `Cannot connect to PostgreSQL at postgres://kasi:***@127.0.0.1:${port}/kasi: `,
        ),
        error.message,
      );
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    },
  );
});

Deno.test("connectDatabase() reports a missing database by its server message", async () => {
  const url = "postgres://postgres@127.0.0.1:5432/kasi_no_such_db_x9";
  await assert.rejects(
    connectDatabase(url, { max: 1 }),
    /Cannot connect to PostgreSQL at .*kasi_no_such_db_x9: database "kasi_no_such_db_x9" does not exist/,
  );
});

Deno.test("connectDatabase() returns int8 as a number while it is exact, as text beyond 2^53", async () => {
  await withTempDatabase(async (url) => {
    const sql = await connectDatabase(url, { max: 1 });
    try {
      const [row] = await sql`
        select count(*) as n, 9007199254740991::int8 as max_safe, 9007199254740993::int8 as big
        from generate_series(1, 3)`;
      assert.equal(row!.n, 3);
      assert.equal(row!.max_safe, Number.MAX_SAFE_INTEGER);
      // 2^53 + 1 has no exact double, so the digits are kept as text.
      assert.equal(row!.big, "9007199254740993");
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});
