import assert from "node:assert/strict";
import postgres from "postgres";
import { KasiError } from "../../src/core/errors.ts";
import { MemoryLogger } from "../../src/core/log.ts";
import { startEmbeddedDatabase } from "../../src/embedded/database.ts";

// PGlite allows one connection at a time; see src/embedded/database.ts.
const CLIENT_OPTIONS = { max: 1, onnotice: () => {}, connect_timeout: 10 } as const;

const T0 = new Date("2024-03-01T12:00:00.000Z");
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

Deno.test("startEmbeddedDatabase() serves SQL the backend uses and keeps it across a restart", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "kasi_pglite_" });
  // A nested path that does not exist yet, like .kasi/pgdata on a fresh clone.
  const dataDir = `${root}/.kasi/pgdata`;
  const log = new MemoryLogger();
  try {
    const db = await startEmbeddedDatabase({ dataDir, port: 0, log });
    const sql = postgres(db.url, CLIENT_OPTIONS);
    try {
      await t.step("the url names user postgres, 127.0.0.1, a real port and db postgres", () => {
        const url = new URL(db.url);
        assert.equal(url.protocol, "postgres:");
        assert.equal(url.username, "postgres");
        assert.equal(url.hostname, "127.0.0.1");
        assert.ok(Number(url.port) > 0, db.url);
        assert.equal(url.pathname, "/postgres");
        assert.ok(log.entries.some((e) => e.msg === "embedded PostgreSQL listening"));
      });

      await t.step("composite primary key, sql(rows) and ON CONFLICT DO NOTHING", async () => {
        await sql`CREATE TABLE telemetry (
          site_id text NOT NULL,
          time timestamptz NOT NULL,
          battery_v double precision NOT NULL,
          PRIMARY KEY (site_id, time)
        )`;
        const first = [
          { site_id: "s1", time: minutes(0), battery_v: 52.1 },
          { site_id: "s1", time: minutes(1), battery_v: 52.0 },
          { site_id: "s2", time: minutes(0), battery_v: 25.6 },
        ];
        const inserted = await sql`INSERT INTO telemetry ${sql(first)}`;
        assert.equal(inserted.count, 3);
        // (s1, +1 min) and (s2, +0 min) already exist: 3 rows offered - 2 duplicates = 1 inserted.
        const second = [
          { site_id: "s1", time: minutes(1), battery_v: 99 },
          { site_id: "s2", time: minutes(0), battery_v: 99 },
          { site_id: "s2", time: minutes(1), battery_v: 25.5 },
        ];
        const result = await sql`INSERT INTO telemetry ${sql(second)} ON CONFLICT DO NOTHING`;
        assert.equal(result.count, 1);
        const [kept] = await sql`SELECT battery_v FROM telemetry WHERE site_id = 's1'
          AND time = ${minutes(1)}`;
        assert.equal(kept?.battery_v, 52.0, "the duplicate must not overwrite the stored row");
        await assert.rejects(
          () => sql`INSERT INTO telemetry ${sql([first[0]!])}`,
          (error: unknown) => (error as { code?: string }).code === "23505", // unique_violation
        );
      });

      await t.step("timestamptz comes back as the same instant, as a Date", async () => {
        const sent = new Date("2024-03-01T12:34:56.789Z");
        const [row] = await sql`SELECT ${sent}::timestamptz AS t`;
        assert.ok(row?.t instanceof Date);
        assert.equal(row.t.getTime(), sent.getTime());
      });

      await t.step("pg_advisory_lock and pg_advisory_unlock", async () => {
        await sql`SELECT pg_advisory_lock(4242)`;
        // A bigint key k shows in pg_locks as classid = k >> 32 = 0, objid = k & 0xffffffff = 4242.
        const held = await sql`SELECT objid FROM pg_locks WHERE locktype = 'advisory'`;
        assert.deepEqual(held.map((r) => Number(r.objid)), [4242]);
        const [unlocked] = await sql`SELECT pg_advisory_unlock(4242) AS ok`;
        assert.equal(unlocked?.ok, true);
        const [again] = await sql`SELECT pg_advisory_unlock(4242) AS ok`;
        assert.equal(again?.ok, false, "a lock not held cannot be released");
      });

      await t.step("sql.begin commits on success and rolls back on a throw", async () => {
        await sql.begin(async (tx) => {
          await tx`INSERT INTO telemetry VALUES ('s3', ${minutes(0)}, 12.8)`;
        });
        await assert.rejects(() =>
          sql.begin(async (tx) => {
            await tx`INSERT INTO telemetry VALUES ('s4', ${minutes(0)}, 12.7)`;
            throw new Error("abort");
          })
        );
        const sites = await sql`SELECT DISTINCT site_id FROM telemetry ORDER BY site_id`;
        assert.deepEqual(sites.map((r) => r.site_id), ["s1", "s2", "s3"]);
      });
    } finally {
      // close() while the client is still connected, as on Ctrl-C: it must not wait for clients.
      await db.close();
      await sql.end({ timeout: 5 });
    }

    await t.step(
      "rows are still there after close() and a restart on the same dataDir",
      async () => {
        const reopened = await startEmbeddedDatabase({ dataDir, port: 0 });
        const sql2 = postgres(reopened.url, CLIENT_OPTIONS);
        try {
          // 3 first + 1 from ON CONFLICT + 1 committed in sql.begin = 5 rows.
          const [row] = await sql2`SELECT count(*)::int AS n FROM telemetry`;
          assert.equal(row?.n, 5);
          const [t0] = await sql2`SELECT time FROM telemetry WHERE site_id = 's3'`;
          assert.equal((t0?.time as Date).getTime(), minutes(0).getTime());
        } finally {
          await sql2.end({ timeout: 5 });
          await reopened.close();
        }
      },
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("startEmbeddedDatabase() makes a second client wait until the first one ends", async () => {
  const root = await Deno.makeTempDir({ prefix: "kasi_pglite_" });
  const db = await startEmbeddedDatabase({ dataDir: root, port: 0 });
  const first = postgres(db.url, CLIENT_OPTIONS);
  const second = postgres(db.url, CLIENT_OPTIONS);
  try {
    await first`SELECT 1`;
    let settled = false;
    const waiting = second`SELECT 2 AS n`.finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(settled, false, "pglite-socket serves one connection; the second must wait");
    await first.end({ timeout: 5 });
    const [row] = await waiting;
    assert.equal(row?.n, 2);
  } finally {
    await first.end({ timeout: 5 });
    await second.end({ timeout: 5 });
    await db.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("startEmbeddedDatabase() throws PORT_IN_USE naming the port and --db-port", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = taken.addr.port;
  const root = await Deno.makeTempDir({ prefix: "kasi_pglite_" });
  try {
    await assert.rejects(
      () => startEmbeddedDatabase({ dataDir: `${root}/pgdata`, port }),
      (error: unknown) => {
        assert.ok(error instanceof KasiError);
        assert.equal(error.code, "PORT_IN_USE");
        assert.equal(
          error.message,
          `PostgreSQL port ${port} on 127.0.0.1 is already in use; pass --db-port to choose another`,
        );
        return true;
      },
    );
    // The port is checked before PGlite starts, so nothing was written.
    await assert.rejects(() => Deno.stat(`${root}/pgdata`), Deno.errors.NotFound);
  } finally {
    taken.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("startEmbeddedDatabase() names dataDir when it cannot be created", async () => {
  const root = await Deno.makeTempDir({ prefix: "kasi_pglite_" });
  // A regular file where the data directory should go: mkdir under it must fail.
  await Deno.writeTextFile(`${root}/file`, "");
  try {
    await assert.rejects(
      () => startEmbeddedDatabase({ dataDir: `${root}/file/pgdata`, port: 0 }),
      (error: unknown) =>
        error instanceof KasiError && error.code === "DATABASE_UNAVAILABLE" &&
        error.message.startsWith(`Cannot open the embedded database in ${root}/file/pgdata: `),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
