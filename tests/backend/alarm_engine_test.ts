/** The alarm engine on its own (real PostgreSQL, publishing into an array). */
import assert from "node:assert/strict";
import { AlarmEngine } from "../../src/backend/alarms.ts";
import { defaultV1Profile } from "../../src/backend/site_state.ts";
import { MemoryLogger } from "../../src/core/log.ts";
import type { TelemetryRecord } from "../../src/core/telemetry.ts";
import { runMigrations } from "../../src/db/migrate.ts";
import { withTempDatabase } from "../_helpers/pg.ts";

const T0 = new Date("2026-03-20T00:00:00Z");
const at = (min: number) => new Date(T0.getTime() + min * 60_000);

function record(siteId: string, min: number): TelemetryRecord {
  return {
    siteId,
    time: at(min),
    protocol: "v1",
    source: "battery",
    batteryV: 52.1 + min / 1000,
    batteryA: null,
    socPct: 80,
    batteryTempC: 25,
    loadW: 400 + min,
    pvW: 0,
    genRunning: false,
    genW: null,
    fuelPct: 50,
    shedTier: 0,
    seq: min,
    clockRestamped: false,
  };
}

Deno.test("AlarmEngine judges no site silent while it cannot hear them, then counts afresh", async () => {
  await withTempDatabase(async (_url, sql) => {
    await runMigrations(sql);
    let now = at(0);
    const published: { topic: string; payload: string }[] = [];
    const engine = new AlarmEngine({
      sql,
      log: new MemoryLogger(),
      now: () => now,
      publish: (topic, payload) => Promise.resolve(published.push({ topic, payload })),
    });
    await engine.start([]);
    const ctx = (siteId: string) => ({
      profile: defaultV1Profile(siteId),
      socPct: 80,
      batteryH: null,
      pvCoversLoadAt: null,
    });
    engine.observe({ records: [record("s1", 0), record("s1", 1)] }, ctx);
    // The broker link is down from minute 2 to minute 20: nothing is silent meanwhile.
    for (const m of [5, 12, 20]) {
      now = at(m);
      engine.tick({ hearing: false });
    }
    // Heard again at 21: silence counts from there, so 30 (9 min) is not offline, 31.5 is.
    now = at(21);
    engine.tick({ hearing: true });
    now = at(30);
    engine.tick({ hearing: true });
    await engine.idle();
    assert.equal(published.length, 0, "nothing raised");
    now = at(31.5);
    engine.tick({ hearing: true });
    await engine.idle();
    assert.deepEqual(published.map((p) => [p.topic, JSON.parse(p.payload).alarm.kind]), [
      ["kasi/v1/sites/s1/event", "site-offline"],
    ]);
    assert.deepEqual(engine.openCounts(), new Map([["s1", 1]]));
    assert.equal(engine.openAlarms()[0]?.raisedAt, at(31.5).toISOString());
  });
});

Deno.test("AlarmEngine.close() drops what is still queued, quietly, and stores what ran before", async () => {
  await withTempDatabase(async (_url, sql) => {
    await runMigrations(sql);
    const log = new MemoryLogger();
    const engine = new AlarmEngine({
      sql,
      log,
      now: () => at(0),
      publish: () => Promise.resolve(),
    });
    await engine.start([]);
    // Last wills as a stopping fleet sends them: the first is stored, three are queued behind
    // it when the engine closes (close() comes before any of them has started).
    const offline = (siteId: string) => ({ siteId, status: "offline" as const, at: at(0) });
    const noContext = () => {
      throw new Error("no record, no context");
    };
    engine.observe({ records: [], statuses: [offline("a")] }, noContext);
    await engine.idle();
    engine.observe({ records: [], statuses: ["b", "c", "d"].map(offline) }, noContext);
    engine.close();
    await engine.idle();
    const rows = await sql`select site_id, kind from alarms`;
    assert.deepEqual(rows.map((r) => [r.site_id, r.kind]), [["a", "site-offline"]]);
    assert.equal(engine.dropped, 3);
    assert.deepEqual(log.entries.filter((e) => e.level === "error"), []);
  });
});
