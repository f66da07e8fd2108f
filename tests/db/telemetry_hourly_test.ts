/** The hourly rollup of plain PostgreSQL (src/db/telemetry_hourly.ts), on the real server. */
import assert from "node:assert/strict";
import type postgres from "postgres";
import { runMigrations } from "../../src/db/migrate.ts";
import { insertTelemetry, upsertSites } from "../../src/db/store.ts";
import {
  catchUpHours,
  hourlyRollupKind,
  hourOf,
  recomputeHours,
} from "../../src/db/telemetry_hourly.ts";
import { continuousAggregateSelect } from "../../src/db/timescale.ts";
import { withTempDatabase } from "../_helpers/pg.ts";
import { telemetryRecord } from "./fixtures.ts";

const H12 = new Date("2025-03-01T12:00:00Z");

/** Three rows inside 12:00–13:00 UTC and one on either side of it. */
const ROWS = [
  telemetryRecord({ time: new Date("2025-03-01T11:59:59.999Z"), socPct: 10, loadW: 5000 }),
  telemetryRecord({
    time: new Date("2025-03-01T12:00:00Z"),
    socPct: 50,
    batteryV: 51,
    batteryTempC: 25,
    loadW: 100,
    pvW: null,
    genRunning: false,
    genW: null,
    source: "battery",
    fuelPct: 80,
    shedTier: 0,
  }),
  telemetryRecord({
    time: new Date("2025-03-01T12:20:00Z"),
    socPct: 60,
    batteryV: 52,
    batteryTempC: 30,
    loadW: 200,
    pvW: 0,
    genRunning: true,
    genW: 1500,
    source: "generator",
    fuelPct: 79.5,
    shedTier: 0,
  }),
  telemetryRecord({
    time: new Date("2025-03-01T12:59:59.999Z"),
    socPct: 70,
    batteryV: 53,
    batteryTempC: null,
    loadW: 600,
    pvW: 300,
    genRunning: true,
    genW: 2500,
    source: "generator",
    fuelPct: 79,
    shedTier: 1,
  }),
  telemetryRecord({ time: new Date("2025-03-01T13:00:00Z"), socPct: 90, loadW: 1 }),
];

/** One row of telemetry_hourly; its bigint counts as numbers (the test pool returns strings). */
async function hour(sql: postgres.Sql, siteId: string, bucket: Date) {
  const [row] = await sql`
    select * from telemetry_hourly where site_id = ${siteId} and bucket = ${bucket}`;
  if (row === undefined) return undefined;
  const counts = Object.keys(row).filter((k) => k === "samples" || k.endsWith("_samples"));
  return { ...row, ...Object.fromEntries(counts.map((k) => [k, Number(row[k])])) };
}

Deno.test("hourOf() is the start of the UTC hour", () => {
  // 12:59:59.999 is in the hour from 12:00; 13:00:00.000 starts the next one.
  assert.deepEqual(hourOf(new Date("2025-03-01T12:59:59.999Z")), H12);
  assert.deepEqual(hourOf(new Date("2025-03-01T13:00:00Z")), new Date("2025-03-01T13:00:00Z"));
});

Deno.test("recomputeHours() writes an hour's aggregates, and late rows replace them", async () => {
  await withTempDatabase(async (_url, sql) => {
    await runMigrations(sql);
    assert.equal(await hourlyRollupKind(sql), "table");
    await insertTelemetry(sql, ROWS);
    const siteId = ROWS[0]!.siteId;
    // The same hour named twice is recomputed once (a doubled key must not double the counts).
    const hours = [{ siteId, bucket: H12 }, { siteId, bucket: H12 }];
    assert.equal(await recomputeHours(sql, hours), 1);
    const row = await hour(sql, siteId, H12);
    // By hand over the three rows at 12:00, 12:20 and 12:59:59.999:
    assert.equal(row!.samples, 3);
    assert.deepEqual(row!.first_time, new Date("2025-03-01T12:00:00Z"));
    assert.deepEqual(row!.last_time, new Date("2025-03-01T12:59:59.999Z"));
    assert.equal(row!.soc_avg_pct, 60); // (50 + 60 + 70) / 3
    assert.equal(row!.soc_min_pct, 50);
    assert.equal(row!.soc_max_pct, 70);
    assert.equal(row!.battery_avg_v, 52); // (51 + 52 + 53) / 3
    assert.equal(row!.battery_min_v, 51);
    assert.equal(row!.battery_max_v, 53);
    assert.equal(row!.battery_temp_max_c, 30); // the null is not a reading
    assert.equal(row!.load_avg_w, 300); // (100 + 200 + 600) / 3
    assert.equal(row!.load_max_w, 600);
    assert.equal(row!.pv_avg_w, 150); // (0 + 300) / 2: the null is left out
    assert.equal(row!.pv_max_w, 300);
    assert.equal(row!.gen_avg_w, 2000); // (1500 + 2500) / 2
    assert.equal(row!.fuel_avg_pct, 79.5); // (80 + 79.5 + 79) / 3
    assert.equal(row!.fuel_min_pct, 79);
    assert.equal(row!.fuel_max_pct, 80);
    assert.equal(row!.gen_running_samples, 2);
    assert.equal(row!.source_battery_samples, 1);
    assert.equal(row!.source_generator_samples, 2);
    assert.equal(row!.source_off_samples, 0);
    assert.equal(row!.shed_samples, 1); // shed_tier 1 > 0
    // The neighbouring hours were not asked for.
    assert.equal(await hour(sql, siteId, new Date("2025-03-01T11:00:00Z")), undefined);

    // A row that arrives late (a device's offline queue), then the same hour again.
    await insertTelemetry(sql, [
      telemetryRecord({
        time: new Date("2025-03-01T12:40:00Z"),
        socPct: 20,
        batteryV: 48,
        loadW: 3100,
        source: "off",
        genRunning: false,
        shedTier: 3,
      }),
    ]);
    assert.equal(await recomputeHours(sql, [{ siteId, bucket: H12 }]), 1);
    const late = await hour(sql, siteId, H12);
    assert.equal(late!.samples, 4);
    assert.equal(late!.soc_avg_pct, 50); // (50 + 60 + 70 + 20) / 4
    assert.equal(late!.soc_min_pct, 20);
    assert.equal(late!.load_avg_w, 1000); // (100 + 200 + 600 + 3100) / 4
    assert.equal(late!.source_off_samples, 1);
    assert.equal(late!.shed_samples, 2);
    const [count] = await sql`select count(*)::int as n from telemetry_hourly`;
    assert.equal(count!.n, 1);
  });
});

Deno.test("catchUpHours() summarises every site from its newest stored hour on", async () => {
  await withTempDatabase(async (_url, sql) => {
    await runMigrations(sql);
    const other = ROWS.map((r) => ({ ...r, siteId: "clinic-2", loadW: r.loadW * 2 }));
    await insertTelemetry(sql, [...ROWS, ...other]);
    await upsertSites(sql, [
      { siteId: ROWS[0]!.siteId, protocol: "v1", seenAt: ROWS[4]!.time },
      { siteId: "clinic-2", protocol: "v1", seenAt: ROWS[4]!.time },
    ]);
    // Three hours (11:00, 12:00, 13:00) for each of two sites.
    assert.equal(await catchUpHours(sql), 6);
    const rows = await sql<{ site_id: string; bucket: Date; samples: number; load: number }[]>`
      select site_id, bucket, samples::int, load_max_w as load from telemetry_hourly
      order by site_id, bucket`;
    assert.deepEqual(rows.map((r) => [r.site_id, r.bucket.toISOString(), r.samples, r.load]), [
      ["clinic-2", "2025-03-01T11:00:00.000Z", 1, 10000],
      ["clinic-2", "2025-03-01T12:00:00.000Z", 3, 1200],
      ["clinic-2", "2025-03-01T13:00:00.000Z", 1, 2],
      ["tower-07", "2025-03-01T11:00:00.000Z", 1, 5000],
      ["tower-07", "2025-03-01T12:00:00.000Z", 3, 600],
      ["tower-07", "2025-03-01T13:00:00.000Z", 1, 1],
    ]);
    // Again: only each site's newest hour (13:00, which may have been partial) is redone.
    await insertTelemetry(sql, [telemetryRecord({ time: new Date("2025-03-01T13:30:00Z") })]);
    assert.equal(await catchUpHours(sql), 2);
    const newest = await hour(sql, "tower-07", new Date("2025-03-01T13:00:00Z"));
    assert.equal(newest!.samples, 2);
  });
});

Deno.test("the continuous aggregate's query gives exactly the backend's rollup", async () => {
  await withTempDatabase(async (_url, sql) => {
    await runMigrations(sql);
    // TimescaleDB's time_bucket for timestamptz, as documented (timescale/docs api/time_bucket.md):
    // UTC buckets from the origin 2000-01-03 00:00 UTC. Plain PostgreSQL has date_bin.
    await sql.unsafe(`
      create function time_bucket(bucket_width interval, ts timestamptz) returns timestamptz
      language sql immutable as
      $$ select date_bin(bucket_width, ts, timestamptz '2000-01-03 00:00:00+00') $$`);
    const other = ROWS.map((r) => ({ ...r, siteId: "clinic-2", socPct: null, fuelPct: null }));
    await insertTelemetry(sql, [...ROWS, ...other]);
    await upsertSites(sql, [
      { siteId: ROWS[0]!.siteId, protocol: "v1", seenAt: ROWS[4]!.time },
      { siteId: "clinic-2", protocol: "v1", seenAt: ROWS[4]!.time },
    ]);
    await catchUpHours(sql);
    const table = await sql.unsafe(`select * from telemetry_hourly order by site_id, bucket`);
    const aggregate = await sql.unsafe(
      `select * from (${continuousAggregateSelect()}) a order by site_id, bucket`,
    );
    assert.equal(table.length, 6);
    // Same columns in the same order, and the same values: one relation name serves both.
    assert.deepEqual(aggregate.columns.map((c) => c.name), table.columns.map((c) => c.name));
    assert.deepEqual([...aggregate], [...table]);
  });
});
