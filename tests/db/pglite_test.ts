/**
 * The schema and store on PGlite (embedded PostgreSQL in WebAssembly), served over TCP by
 * pglite-socket as the embedded default does. PGlite is one backend process: the socket server
 * admits one connection at a time (maxConnections defaults to 1), so the client uses max: 1.
 * All connections would share that one session, so on PGlite the migration lock excludes
 * nothing; it need not, since only the process that embeds PGlite can reach it.
 */
import assert from "node:assert/strict";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import postgres from "postgres";
import { MIGRATION_LOCK_KEY, runMigrations } from "../../src/db/migrate.ts";
import {
  insertTelemetry,
  loadSiteSnapshots,
  recentTelemetry,
  upsertSites,
} from "../../src/db/store.ts";
import { catchUpHours, recomputeHours } from "../../src/db/telemetry_hourly.ts";
import { telemetryRecord } from "./fixtures.ts";

Deno.test("runMigrations() and the store work on PGlite through pglite-socket", async (t) => {
  const db = await PGlite.create();
  // Port 0: the OS picks a free port; getServerConn() then reports it.
  const server = new PGLiteSocketServer({ db, port: 0, host: "127.0.0.1" });
  await server.start();
  const [host, port] = server.getServerConn().split(":");
  const queries: string[] = [];
  const sql = postgres({
    host,
    port: Number(port),
    user: "postgres",
    database: "postgres",
    max: 1,
    onnotice: () => {},
    debug: (_connection, query) => queries.push(query),
  });
  try {
    await t.step("migrations apply once, without TimescaleDB", async () => {
      const first = await runMigrations(sql);
      assert.deepEqual(first, {
        applied: [
          "1: initial schema",
          "2: power_events shows first-generation sites",
          "3: hourly telemetry rollup",
          "4: alarms",
        ],
        total: 4,
        timescale: false,
        rollup: "table",
      });
      const second = await runMigrations(sql);
      assert.deepEqual(second, { applied: [], total: 4, timescale: false, rollup: "table" });
    });

    await t.step("runMigrations() takes the advisory lock and releases it", async () => {
      const held = async () => {
        const [row] = await sql`
          select count(*)::int as n from pg_locks where locktype = 'advisory' and granted`;
        return row!.n;
      };
      await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY}::bigint)`;
      assert.equal(await held(), 1, "PGlite supports session advisory locks");
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY}::bigint)`;
      queries.length = 0;
      await runMigrations(sql);
      assert.ok(queries.some((q) => q.includes("pg_try_advisory_lock")));
      assert.ok(queries.some((q) => q.includes("pg_advisory_unlock")));
      assert.equal(await held(), 0);
    });

    await t.step("insertTelemetry() skips a redelivery with ON CONFLICT", async () => {
      const a = telemetryRecord({ time: new Date("2025-03-01T12:00:00Z"), seq: 1 });
      const b = telemetryRecord({ time: new Date("2025-03-01T12:01:00Z"), seq: 2 });
      assert.equal(await insertTelemetry(sql, [a, b]), 2);
      assert.equal(await insertTelemetry(sql, [b]), 0);
      const since = new Date("2025-03-01T00:00:00Z");
      assert.deepEqual(await recentTelemetry(sql, a.siteId, { since }), [a, b]);
      await upsertSites(sql, [{ siteId: a.siteId, protocol: "v1", seenAt: b.time }]);
      const [snapshot] = await loadSiteSnapshots(sql);
      assert.deepEqual(snapshot!.latest, b);
    });

    await t.step(
      "the backend's hourly rollup runs on PGlite (date_bin, jsonb_to_recordset)",
      async () => {
        // The two rows above, 12:00:00 and 12:01:00, with loads of 1234.5 W each: one hour.
        const bucket = new Date("2025-03-01T12:00:00Z");
        const siteId = telemetryRecord().siteId;
        assert.equal(await recomputeHours(sql, [{ siteId, bucket }]), 1);
        const [row] = await sql`
        select samples::int, load_avg_w from telemetry_hourly where site_id = ${siteId}`;
        assert.deepEqual({ ...row }, { samples: 2, load_avg_w: 1234.5 });
        assert.equal(await catchUpHours(sql), 1, "the newest hour again");
      },
    );
  } finally {
    await sql.end({ timeout: 5 });
    await server.stop();
    await db.close();
  }
});
