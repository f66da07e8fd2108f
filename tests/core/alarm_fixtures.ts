/** Hand-made telemetry sequences for the alarm rule tests. */
import { type AlarmRuleState, newAlarmRuleState, onRecord } from "../../src/core/alarm_rules.ts";
import type { AlarmCondition, SiteRuleContext } from "../../src/core/alarm_rules.ts";
import { legacySiteProfile, type SiteProfile } from "../../src/core/site_profile.ts";
import type { TelemetryRecord } from "../../src/core/telemetry.ts";

export const T0 = new Date("2026-03-20T00:00:00Z");

/** A 12 V lead-acid site: 100 L tank, 5 kW generator, reserve 50 %, no PV. */
export function profile(overrides: Partial<SiteProfile> = {}): SiteProfile {
  return { ...legacySiteProfile("alarm-site"), ...overrides };
}

/** A quiet sample at `minutes` after T0; override what the test is about. */
export function rec(minutes: number, overrides: Partial<TelemetryRecord> = {}): TelemetryRecord {
  return {
    siteId: "alarm-site",
    time: new Date(T0.getTime() + minutes * 60_000),
    protocol: "v1",
    source: "battery",
    // Varies in its last digits, as a real voltmeter does.
    batteryV: 12.6 + ((minutes * 7) % 10) / 1000,
    batteryA: null,
    socPct: 70,
    batteryTempC: 25,
    loadW: 450 + ((minutes * 13) % 7),
    pvW: null,
    genRunning: false,
    genW: null,
    fuelPct: 60,
    shedTier: 0,
    seq: Math.round(minutes),
    clockRestamped: false,
    ...overrides,
  };
}

export function ctx(overrides: Partial<SiteRuleContext> = {}): SiteRuleContext {
  return { profile: profile(), socPct: null, batteryH: null, pvCoversLoadAt: null, ...overrides };
}

export interface Step {
  index: number;
  conditions: AlarmCondition[];
}

/** Feeds records through onRecord; returns every step that changed a condition, and the state. */
export function run(
  records: readonly TelemetryRecord[],
  context: SiteRuleContext | ((r: TelemetryRecord, i: number) => SiteRuleContext) = ctx(),
  start: AlarmRuleState = newAlarmRuleState(),
): { steps: Step[]; state: AlarmRuleState } {
  let state = start;
  const steps: Step[] = [];
  records.forEach((r, index) => {
    const c = typeof context === "function" ? context(r, index) : context;
    const result = onRecord(state, r, c);
    state = result.state;
    if (result.conditions.length > 0) steps.push({ index, conditions: result.conditions });
  });
  return { steps, state };
}

/** The steps as "index kind +/-" strings, easy to compare with a hand-made expectation. */
export function changes(steps: readonly Step[]): string[] {
  return steps.flatMap((s) =>
    s.conditions.map((c) => `${s.index} ${c.kind} ${c.active ? "raised" : "cleared"}`)
  );
}
