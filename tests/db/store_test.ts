import assert from "node:assert/strict";
import postgres from "postgres";
import type { StrategicCommand } from "../../src/core/command.ts";
import { MemoryLogger } from "../../src/core/log.ts";
import type { SiteProfile } from "../../src/core/site_profile.ts";
import { connectDatabase } from "../../src/db/client.ts";
import { runMigrations } from "../../src/db/migrate.ts";
import {
  insertCommand,
  insertRejects,
  insertSiteEvents,
  insertTelemetry,
  loadSiteSnapshots,
  recentTelemetry,
  saveSiteProfile,
  setSiteStatus,
  upsertSites,
} from "../../src/db/store.ts";
import { withTempDatabase } from "../_helpers/pg.ts";
import { legacyRecord, telemetryRecord } from "./fixtures.ts";

const MINUTE_MS = 60_000;

/** A fresh migrated database for each test. */
function withSchema(fn: (sql: postgres.Sql, url: string) => Promise<void>): () => Promise<void> {
  return () =>
    withTempDatabase(async (url, sql) => {
      await runMigrations(sql);
      await fn(sql, url);
    });
}

async function count(sql: postgres.Sql, table: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(table)}`;
  return row!.n;
}

Deno.test(
  "insertTelemetry() inserts a redelivered (site_id, time) once and reports 0 the second time",
  withSchema(async (sql) => {
    const record = telemetryRecord();
    assert.equal(await insertTelemetry(sql, [record]), 1);
    // Same key, different reading: a redelivery must not become a second row.
    assert.equal(await insertTelemetry(sql, [{ ...record, loadW: 999 }]), 0);
    assert.equal(await count(sql, "telemetry"), 1);
    const [row] = await sql`select load_w from telemetry`;
    assert.equal(row!.load_w, 1234.5, "the first delivery is kept");
  }),
);

Deno.test(
  "insertTelemetry() of an empty batch returns 0 without a query",
  withSchema(async (_sql, url) => {
    const queries: string[] = [];
    const db = postgres(url, { max: 1, debug: (_c, query) => queries.push(query) });
    try {
      assert.equal(await insertTelemetry(db, []), 0);
      assert.deepEqual(queries, []);
    } finally {
      await db.end({ timeout: 5 });
    }
  }),
);

Deno.test(
  "insertTelemetry() writes 500 and 5000 records in one statement each, 16 parameters",
  withSchema(async (_sql, url) => {
    const queries: string[] = [];
    const parameterCounts: number[] = [];
    const db = postgres(url, {
      max: 1,
      debug: (_c, query, parameters) => {
        queries.push(query);
        parameterCounts.push(parameters.length);
      },
    });
    try {
      await db`select 1`; // open the connection first, so only the inserts are counted
      queries.length = 0;
      const start = Date.parse("2025-03-01T00:00:00Z");
      const batch = (n: number, offset: number) =>
        Array.from(
          { length: n },
          (_, i) =>
            telemetryRecord({ time: new Date(start + (offset + i) * 1000), seq: offset + i }),
        );

      assert.equal(await insertTelemetry(db, batch(500, 0)), 500);
      assert.equal(queries.length, 1);
      assert.equal(await count(db, "telemetry"), 500);

      queries.length = 0;
      parameterCounts.length = 0;
      // One array per column (16 columns), whatever the number of rows: no split at the
      // protocol's 65 535 parameters, which a VALUES list reached at 4 095 rows.
      assert.equal(await insertTelemetry(db, batch(5000, 500)), 5000);
      assert.equal(queries.filter((q) => q.includes("insert into telemetry")).length, 1);
      assert.deepEqual(parameterCounts, [16]);
      assert.equal(await count(db, "telemetry"), 5500);
    } finally {
      await db.end({ timeout: 5 });
    }
  }),
);

Deno.test(
  "recentTelemetry() returns inserted records unchanged, nulls and int8 included, oldest first",
  withSchema(async (sql, url) => {
    const full = telemetryRecord({ time: new Date("2025-03-01T12:00:00.123Z") });
    const sparse = telemetryRecord({
      time: new Date("2025-03-01T12:00:10Z"),
      batteryA: null,
      socPct: null,
      batteryTempC: null,
      pvW: null,
      genW: null,
      fuelPct: null,
      shedTier: null,
      seq: null,
      clockRestamped: true,
    });
    const generator = telemetryRecord({
      time: new Date("2025-03-01T12:00:05Z"),
      source: "generator",
      genRunning: true,
      genW: 4200,
      seq: 0,
    });
    const other = telemetryRecord({ siteId: "tower-08", time: new Date("2025-03-01T12:00:07Z") });
    assert.equal(await insertTelemetry(sql, [sparse, full, other, generator]), 4);
    const since = new Date("2025-03-01T11:00:00Z");
    assert.deepEqual(await recentTelemetry(sql, "tower-07", { since }), [full, generator, sparse]);
    // The same through connectDatabase(), whose int8 parser returns numbers itself.
    const db = await connectDatabase(url, { max: 1 });
    try {
      assert.deepEqual(await recentTelemetry(db, "tower-07", { since }), [full, generator, sparse]);
    } finally {
      await db.end({ timeout: 5 });
    }
    const legacy = legacyRecord();
    await insertTelemetry(sql, [legacy]);
    assert.deepEqual(await recentTelemetry(sql, legacy.siteId, { since }), [legacy]);
  }),
);

Deno.test(
  "recentTelemetry() with a limit returns the newest rows after `since`, oldest first",
  withSchema(async (sql) => {
    const start = Date.parse("2025-03-01T00:00:00Z");
    const records = [0, 1, 2, 3, 4].map((i) =>
      telemetryRecord({ time: new Date(start + i * MINUTE_MS), seq: i })
    );
    await insertTelemetry(sql, records);
    // since = minute 1 leaves minutes 1..4; the newest 2 of those are minutes 3 and 4.
    const got = await recentTelemetry(sql, "tower-07", {
      since: new Date(start + MINUTE_MS),
      limit: 2,
    });
    assert.deepEqual(got.map((r) => r.seq), [3, 4]);
  }),
);

Deno.test(
  "the first-generation Grafana query on power_events runs unchanged and maps the source",
  withSchema(async (sql) => {
    const now = Date.now();
    // The view shows first-generation rows only; a v1 row must not appear in it.
    await insertTelemetry(sql, [
      telemetryRecord({ time: new Date(now - 5 * MINUTE_MS), protocol: "v1", batteryV: 52 }),
      telemetryRecord({
        time: new Date(now - 10 * MINUTE_MS),
        protocol: "legacy",
        source: "generator",
        genRunning: true,
        batteryV: 12.6,
        fuelPct: 37.5,
        loadW: 900,
      }),
      // Two hours old: outside the query's one-hour window.
      telemetryRecord({ time: new Date(now - 120 * MINUTE_MS), protocol: "legacy", source: "off" }),
    ]);
    const rows = await sql.unsafe(
      "SELECT time, voltage, fuel_level, load_watts, active_source FROM power_events " +
        "WHERE time > now() - interval '1 hour' ORDER BY time",
    );
    assert.equal(rows.length, 1);
    assert.deepEqual({ ...rows[0] }, {
      time: new Date(now - 10 * MINUTE_MS),
      voltage: 12.6,
      fuel_level: 37.5,
      load_watts: 900,
      active_source: "Diesel",
    });
    const sources = await sql`
      select t.source, p.active_source from telemetry t join power_events p using (site_id, time)
      order by t.time`;
    assert.deepEqual(sources.map((r) => [r.source, r.active_source]), [
      ["off", "Shutdown"],
      ["generator", "Diesel"],
    ]);
  }),
);

Deno.test(
  "insertRejects() keeps the first 64 KiB of a 1 MiB payload and its full size",
  withSchema(async (sql) => {
    const big = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
    const receivedAt = new Date("2025-03-01T12:00:00Z");
    const small = new TextEncoder().encode('{"v":2}');
    assert.equal(
      await insertRejects(sql, [
        { topic: "kasi/v1/sites/a/telemetry", payload: big, reason: "too big", receivedAt },
        { topic: "kasi/v1/sites/a/telemetry", payload: small, reason: "v: bad", receivedAt },
      ]),
      2,
    );
    const rows = await sql`
      select payload, payload_bytes, truncated, reason, received_at
      from rejected_messages order by id`;
    // 1 MiB = 1 048 576 bytes; 64 KiB = 65 536 bytes kept.
    assert.equal(rows[0]!.payload_bytes, 1_048_576);
    assert.equal(rows[0]!.truncated, true);
    assert.equal(rows[0]!.payload.byteLength, 65_536);
    assert.deepEqual(new Uint8Array(rows[0]!.payload), big.subarray(0, 65_536));
    assert.deepEqual(rows[0]!.received_at, receivedAt);
    assert.equal(rows[1]!.payload_bytes, 7);
    assert.equal(rows[1]!.truncated, false);
    assert.deepEqual(new Uint8Array(rows[1]!.payload), small);
  }),
);

const PROFILE: SiteProfile = {
  siteId: "tower-07",
  name: "Tower 7, Kano",
  chemistry: "lifepo4",
  nominalV: 48,
  capacityWh: 14_400,
  reserveSocPct: 20,
  tankL: 200,
  generatorRatedKw: 8,
  pvKwp: 3.2,
  latitude: 12.0,
  longitude: 8.52,
  timeZone: "Africa/Lagos",
};

function command(seq: number): StrategicCommand {
  return {
    siteId: "tower-07",
    seq,
    issuedAt: new Date(Date.UTC(2025, 2, 1, seq)),
    validUntil: new Date(Date.UTC(2025, 2, 1, seq + 6)),
    mode: "eco",
    genStartSocPct: 30,
    genStopSocPct: 80,
    reserveSocPct: 20,
    forecast: "clear",
    predictedBatteryH: 5,
    predictedDieselH: 20,
    reason: "test",
  };
}

Deno.test(
  "loadSiteSnapshots() returns each site's newest row, highest command seq and profile",
  withSchema(async (sql) => {
    const t = (minute: number) => new Date(Date.UTC(2025, 2, 1, 12, minute));
    const newest = telemetryRecord({ time: t(30), seq: 30 });
    await insertTelemetry(sql, [
      telemetryRecord({ time: t(10), seq: 10 }),
      newest,
      telemetryRecord({ time: t(20), seq: 20 }),
    ]);
    await upsertSites(sql, [
      { siteId: "tower-07", protocol: "v1", seenAt: t(10) },
      { siteId: "tower-07", protocol: "v1", seenAt: t(30) },
      { siteId: "quiet-site", protocol: "v1", seenAt: t(5) },
      { siteId: "bad-profile", protocol: "legacy", seenAt: t(5) },
    ]);
    await saveSiteProfile(sql, PROFILE);
    await sql`update sites set profile = '{"siteId": "bad-profile", "nominalV": 13}'
      where site_id = 'bad-profile'`;
    for (const seq of [3, 7, 5]) {
      const c = command(seq);
      assert.equal(await insertCommand(sql, { command: c, topic: "t", payload: '{"v":1}' }), true);
    }
    assert.equal(
      await insertCommand(sql, { command: command(7), topic: "t", payload: "{}" }),
      false,
      "a seq already stored is not saved twice",
    );
    await setSiteStatus(sql, "tower-07", { status: "online", at: t(31) });

    const log = new MemoryLogger();
    const snapshots = await loadSiteSnapshots(sql, { log });
    assert.deepEqual(snapshots, [
      {
        siteId: "bad-profile",
        protocol: "legacy",
        status: "unknown",
        profile: null,
        latest: null,
        lastCommandSeq: null,
      },
      {
        siteId: "quiet-site",
        protocol: "v1",
        status: "unknown",
        profile: null,
        latest: null,
        lastCommandSeq: null,
      },
      {
        siteId: "tower-07",
        protocol: "v1",
        status: "online",
        profile: PROFILE,
        latest: newest,
        lastCommandSeq: 7,
      },
    ]);
    assert.equal(log.entries.filter((e) => e.level === "warn").length, 1);
    assert.equal(log.entries[0]!.fields.siteId, "bad-profile");
  }),
);

Deno.test(
  "upsertSites() raises last_seen, keeps first_seen, and never moves last_seen back",
  withSchema(async (sql) => {
    const at = (h: number) => new Date(Date.UTC(2025, 2, 1, h));
    await upsertSites(sql, [{ siteId: "s1", protocol: "legacy", seenAt: at(5) }]);
    await upsertSites(sql, [{ siteId: "s1", protocol: "v1", seenAt: at(9) }]);
    await upsertSites(sql, [{ siteId: "s1", protocol: "legacy", seenAt: at(7) }]); // late batch
    const [row] = await sql`select protocol, first_seen, last_seen from sites`;
    assert.deepEqual({ ...row }, { protocol: "v1", first_seen: at(5), last_seen: at(9) });
  }),
);

Deno.test(
  "setSiteStatus() creates an unknown site and ignores a status older than the stored one",
  withSchema(async (sql) => {
    const at = (m: number) => new Date(Date.UTC(2025, 2, 1, 12, m));
    await setSiteStatus(sql, "s2", { status: "online", at: at(10), protocol: "legacy" });
    await setSiteStatus(sql, "s2", { status: "offline", at: at(5) }); // stale retained message
    let [row] = await sql`select protocol, status, status_at, first_seen from sites`;
    assert.deepEqual({ ...row }, {
      protocol: "legacy",
      status: "online",
      status_at: at(10),
      first_seen: at(10),
    });
    await setSiteStatus(sql, "s2", { status: "offline", at: at(20) });
    [row] = await sql`select protocol, status, status_at from sites`;
    assert.deepEqual({ ...row }, { protocol: "legacy", status: "offline", status_at: at(20) });
  }),
);

Deno.test(
  "insertSiteEvents() stores events with their detail as JSON, a missing one as {}",
  withSchema(async (sql) => {
    const time = new Date("2025-03-01T12:00:00Z");
    assert.equal(await insertSiteEvents(sql, []), 0);
    assert.equal(
      await insertSiteEvents(sql, [
        { siteId: "s3", time, kind: "generator-start", detail: { reason: "soc 30 %", tries: 1 } },
        { siteId: "s3", time, kind: "door-open", detail: undefined },
      ]),
      2,
    );
    const rows = await sql`select site_id, time, kind, detail from site_events order by id`;
    assert.deepEqual(rows.map((r) => ({ ...r })), [
      { site_id: "s3", time, kind: "generator-start", detail: { reason: "soc 30 %", tries: 1 } },
      { site_id: "s3", time, kind: "door-open", detail: {} },
    ]);
  }),
);

Deno.test(
  "insertSiteEvents() skips an event identical to a stored one or to one earlier in the batch",
  withSchema(async (sql) => {
    const time = new Date("2025-03-01T12:00:00Z");
    const event = { siteId: "s4", time, kind: "command-accepted", detail: { command_seq: 7 } };
    // Same site, time, kind and detail twice in one batch: one row.
    assert.equal(await insertSiteEvents(sql, [event, { ...event }]), 1);
    // Delivered again (QoS 1) with one new event that differs only in its detail: one more row.
    assert.equal(
      await insertSiteEvents(sql, [event, { ...event, detail: { command_seq: 8 } }]),
      1,
    );
    const rows = await sql`select detail from site_events where site_id = 's4' order by id`;
    assert.deepEqual(rows.map((r) => r.detail), [{ command_seq: 7 }, { command_seq: 8 }]);
  }),
);

Deno.test(
  "insertTelemetry() keeps a site id with quotes and backslashes and every null exactly",
  withSchema(async (sql) => {
    // Array literals quote each element; `"` and `\` inside must be escaped (PostgreSQL docs,
    // "8.15.6 Array Input and Output Syntax"), and NULL must stay NULL, not the text "NULL".
    const odd = legacyRecord({ siteId: 'we"ird\\id,{x}' });
    const named = telemetryRecord({ siteId: "NULL" });
    assert.equal(await insertTelemetry(sql, [odd, named]), 2);
    assert.deepEqual(await recentTelemetry(sql, odd.siteId, { since: new Date(0) }), [odd]);
    assert.deepEqual(await recentTelemetry(sql, "NULL", { since: new Date(0) }), [named]);
  }),
);
