import assert from "node:assert/strict";
import { demoStartTime } from "../../src/cli/demo_run.ts";
import { runMigrations } from "../../src/db/migrate.ts";
import { insertTelemetry } from "../../src/db/store.ts";
import { withTempDatabase } from "../_helpers/pg.ts";
import { telemetryRecord } from "../db/fixtures.ts";

Deno.test("demoStartTime() starts at today's 05:00 UTC, or at the dawn after the newest row", async () => {
  await withTempDatabase(async (_url, sql) => {
    await runMigrations(sql);
    const now = new Date("2026-12-03T21:30:00Z");
    // An empty database: today's dawn, even late in the evening.
    assert.deepEqual(await demoStartTime(sql, now), new Date("2026-12-03T05:00:00Z"));
    // An earlier demo's rows from before today's dawn do not move it.
    await insertTelemetry(sql, [telemetryRecord({ time: new Date("2026-12-02T23:00:00Z") })]);
    assert.deepEqual(await demoStartTime(sql, now), new Date("2026-12-03T05:00:00Z"));
    // A demo at 300× that ran three simulated days ahead: go on from the dawn after its rows.
    await insertTelemetry(sql, [telemetryRecord({ time: new Date("2026-12-06T17:42:10Z") })]);
    assert.deepEqual(await demoStartTime(sql, now), new Date("2026-12-07T05:00:00Z"));
    // A row at 04:59: that same day's dawn still lies ahead of it.
    await insertTelemetry(sql, [telemetryRecord({ time: new Date("2026-12-08T04:59:00Z") })]);
    assert.deepEqual(await demoStartTime(sql, now), new Date("2026-12-08T05:00:00Z"));
  });
});
