/**
 * The alarm rules' cost per telemetry record: they run on every record the backend takes, after
 * its batch commits (src/backend/alarms.ts), so they are on the ingest path's CPU budget.
 */
import { newAlarmRuleState, onRecord } from "../src/core/alarm_rules.ts";
import { legacySiteProfile } from "../src/core/site_profile.ts";
import type { TelemetryRecord } from "../src/core/telemetry.ts";

const profile = { ...legacySiteProfile("bench"), pvKwp: 1 };
const context = { profile, socPct: 70, batteryH: 10, pvCoversLoadAt: null };
const t0 = Date.parse("2026-11-20T00:00:00Z");
// A day of 10 s samples that move as a real site's do.
const records: TelemetryRecord[] = Array.from({ length: 8640 }, (_, i) => ({
  siteId: "bench",
  time: new Date(t0 + i * 10_000),
  protocol: "v1",
  source: "battery",
  batteryV: 12.6 + (i % 7) / 100,
  batteryA: -10 + (i % 5),
  socPct: 70 - i / 1000,
  batteryTempC: 25 + (i % 3) / 10,
  loadW: 450 + (i % 11),
  pvW: i % 8640 > 3000 && i % 8640 < 6000 ? 600 + (i % 13) : 0,
  genRunning: false,
  genW: null,
  fuelPct: 60 - (i % 3) / 10,
  shedTier: 0,
  seq: i,
  clockRestamped: false,
}));

let state = newAlarmRuleState();
let next = 0;
Deno.bench("alarm rules: one telemetry record (onRecord)", () => {
  if (next === records.length) (state = newAlarmRuleState(), next = 0);
  state = onRecord(state, records[next++]!, context).state;
});
