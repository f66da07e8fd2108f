/**
 * Sensor alarms: a reading that is a sentinel (65535, 32767, -32768 and their scaled forms that
 * 16-bit registers and ADCs return on a bus error), physically impossible for the site, an
 * impossible jump from the last good reading, stuck at exactly one value while the rest of the
 * site moves, or a sensor the device itself reported invalid (its `sensor-invalid` event). One
 * alarm per site lists every sensor at fault. Pure.
 */
import { ACTIVE, type AlarmCondition, IDLE } from "./alarm_debounce.ts";
import { fuelRateLph } from "./generator.ts";
import type { SiteProfile } from "./site_profile.ts";
import type { TelemetryRecord } from "./telemetry.ts";
import type { Debounce } from "./alarm_debounce.ts";
import {
  badValue,
  FIELDS,
  JUMP_UNITS,
  jumpLimit,
  SENSOR_BAD_SAMPLES,
  SENSOR_GOOD_SAMPLES,
  type SensorField,
  STUCK,
  STUCK_FUEL_BURN_PCT,
  stuckCandidate,
} from "./alarm_sensor_checks.ts";

/** One field's history, flat (one object per field and record: the rules run at ingest rates). */
interface FieldState {
  /** The last reading judged good, and when; null before the first. */
  goodValue: number | null;
  goodAtMs: number;
  bad: number;
  okRun: number;
  faulty: boolean;
  reason: string;
  /** Stuck detection: the repeated value, since when, how many samples, how many moved. */
  sameValue: number;
  sameSinceMs: number;
  sameSamples: number;
  sameMoved: number;
  /** Fuel the generator burned (% of tank) while this value stood still. */
  burnedPct: number;
}

export interface SensorRuleState {
  /** Per field of FIELDS, by index; null until the field has read a value. */
  fields: readonly (FieldState | null)[];
  /** Sensors the device reported invalid (its events), with the reason. */
  device: Record<string, string>;
  /** Whether the site's sensor-invalid alarm is active. */
  alarm: Debounce;
  prev: TelemetryRecord | null;
  /** Consecutive records with no bad reading: an alarm clears only after SENSOR_GOOD_SAMPLES. */
  cleanRecords: number;
  /** Telemetry rejected since the last record taken: the field its reason names, and why. */
  rejects: { count: number; field: string; reason: string } | null;
  /** Fields whose telemetry was rejected SENSOR_BAD_SAMPLES times in a row, until records pass. */
  rejected: Record<string, string>;
}

export function newSensorRuleState(): SensorRuleState {
  return {
    fields: FIELDS.map(() => null),
    device: {},
    alarm: IDLE,
    prev: null,
    cleanRecords: 0,
    rejects: null,
    rejected: {},
  };
}

function newField(value: number, atMs: number): FieldState {
  return {
    goodValue: null,
    goodAtMs: 0,
    bad: 0,
    okRun: 0,
    faulty: false,
    reason: "",
    sameValue: value,
    sameSinceMs: atMs,
    sameSamples: 0,
    sameMoved: 0,
    burnedPct: 0,
  };
}

/**
 * Which readings changed from the previous record (bit i for FIELDS[i]), and whether the
 * generator or the source did: what "the rest of the site moves" means for a stuck reading.
 */
function movement(
  r: TelemetryRecord,
  prev: TelemetryRecord | null,
): { mask: number; state: boolean } {
  if (prev === null) return { mask: 0, state: false };
  let mask = 0;
  for (let i = 0; i < FIELDS.length; i++) {
    const read = FIELDS[i]!.read;
    const a = read(r), b = read(prev);
    if (a !== null && b !== null && a !== b) mask |= 1 << i;
  }
  return { mask, state: r.genRunning !== prev.genRunning || r.source !== prev.source };
}

/** One reading of one field: judged on its own, against the last good one, and for sticking. */
function judge(
  f: FieldState,
  field: SensorField,
  v: number,
  ctx: {
    r: TelemetryRecord;
    prev: TelemetryRecord | null;
    profile: SiteProfile;
    othersMoved: boolean;
  },
): FieldState {
  const { r, prev, profile } = ctx;
  const atMs = r.time.getTime();
  let reason = badValue(field, v, r, profile);
  if (reason === null && f.goodValue !== null) {
    const h = (atMs - f.goodAtMs) / 3.6e6;
    const limit = jumpLimit(field, profile, h);
    if (limit !== null && Math.abs(v - f.goodValue) > limit) {
      reason = `jumped from ${f.goodValue} to ${v} ${JUMP_UNITS[field]} in ${
        (h * 60).toFixed(0)
      } min`;
    }
  }
  let { sameValue, sameSinceMs, sameSamples, sameMoved, burnedPct } = f;
  if (v !== sameValue) {
    sameValue = v;
    sameSinceMs = atMs;
    sameSamples = 1;
    sameMoved = 0;
    burnedPct = 0;
  } else {
    sameSamples++;
    if (ctx.othersMoved) sameMoved++;
    if (r.genRunning && prev?.genRunning && profile.tankL > 0) {
      const dtH = (atMs - prev.time.getTime()) / 3.6e6;
      const burnLph = fuelRateLph(profile.generatorRatedKw, (r.genW ?? r.loadW) / 1000);
      burnedPct += burnLph * dtH / profile.tankL * 100;
    } else if (!r.genRunning) burnedPct = 0;
  }
  const stuckMs = atMs - sameSinceMs;
  if (
    reason === null && stuckCandidate(field, v) && sameSamples >= STUCK.samples &&
    stuckMs >= STUCK.minMs && sameMoved >= STUCK.movedShare * sameSamples
  ) {
    reason = `stuck at ${v} for ${(stuckMs / 60_000).toFixed(0)} min while other readings moved`;
  }
  if (reason === null && field === "fuel_pct" && burnedPct >= STUCK_FUEL_BURN_PCT) {
    reason = `stuck at ${v} % while the generator burned about ${burnedPct.toFixed(1)} % ` +
      "of the tank";
  }
  if (reason !== null) {
    const bad = f.bad + 1;
    const faulty = f.faulty || bad >= SENSOR_BAD_SAMPLES;
    // The reason of the first bad reading of the run is the one reported.
    const first = f.faulty || f.bad > 0 ? f.reason : reason;
    return {
      goodValue: f.goodValue,
      goodAtMs: f.goodAtMs,
      bad,
      okRun: 0,
      faulty,
      reason: first,
      sameValue,
      sameSinceMs,
      sameSamples,
      sameMoved,
      burnedPct,
    };
  }
  const okRun = f.okRun + 1;
  const faulty = f.faulty && okRun < SENSOR_GOOD_SAMPLES;
  return {
    goodValue: v,
    goodAtMs: atMs,
    bad: 0,
    okRun,
    faulty,
    reason: faulty ? f.reason : "",
    sameValue,
    sameSinceMs,
    sameSamples,
    sameMoved,
    burnedPct,
  };
}

function condition(s: SensorRuleState, active: boolean, at: Date): AlarmCondition {
  const faults: [string, string][] = [
    ...s.fields.flatMap((f, i) =>
      f?.faulty ? [[FIELDS[i]!.name, f.reason] as [string, string]] : []
    ),
    ...Object.entries(s.device).map(([n, why]) => [n, `device: ${why}`] as [string, string]),
    ...Object.entries(s.rejected).map(([n, why]) => [n, `rejected: ${why}`] as [string, string]),
  ];
  const names = faults.map(([n]) => n);
  return {
    kind: "sensor-invalid",
    active,
    severity: "warning",
    message: active
      ? faults.map(([n, why]) => `${n} ${why}`).join("; ")
      : "Every sensor reads plausibly again",
    values: active ? { sensors: names.join(","), reason: faults[0]?.[1] ?? "" } : {},
    at,
  };
}

function settle(
  s: SensorRuleState,
  at: Date,
): { state: SensorRuleState; conditions: AlarmCondition[] } {
  const any = s.fields.some((f) => f?.faulty === true) ||
    Object.keys(s.device).length > 0 || Object.keys(s.rejected).length > 0;
  if (any === s.alarm.active) return { state: s, conditions: [] };
  // An alarm reloaded at start knows no field yet: it waits for clean records before clearing.
  if (!any && s.cleanRecords < SENSOR_GOOD_SAMPLES) return { state: s, conditions: [] };
  const state = { ...s, alarm: any ? ACTIVE : IDLE };
  return { state, conditions: [condition(state, any, at)] };
}

/** One record through the sensor rules. */
export function sensorRules(
  s: SensorRuleState,
  r: TelemetryRecord,
  profile: SiteProfile,
): { state: SensorRuleState; conditions: AlarmCondition[] } {
  const fields = s.fields.slice();
  const moves = movement(r, s.prev);
  let clean = true;
  for (let i = 0; i < FIELDS.length; i++) {
    const { name, read } = FIELDS[i]!;
    const v = read(r);
    if (v === null) continue;
    const f = fields[i] ?? newField(v, r.time.getTime());
    const othersMoved = moves.state || (moves.mask & ~(1 << i)) !== 0;
    const next = judge(f, name, v, { r, prev: s.prev, profile, othersMoved });
    fields[i] = next;
    if (next.bad > 0) clean = false;
  }
  const cleanRecords = clean ? s.cleanRecords + 1 : 0;
  // Telemetry that passes again for SENSOR_GOOD_SAMPLES records ends a rejected field's fault.
  const rejected = cleanRecords >= SENSOR_GOOD_SAMPLES ? {} : s.rejected;
  return settle({ ...s, fields, prev: r, cleanRecords, rejects: null, rejected }, r.time);
}

/** The device's own `sensor-invalid` / `sensor-recovered` events. */
export function sensorEvent(
  s: SensorRuleState,
  event: { kind: string; time: Date; values: Record<string, unknown> },
): { state: SensorRuleState; conditions: AlarmCondition[] } {
  const sensor = typeof event.values.sensor === "string" ? event.values.sensor : null;
  if (sensor === null) return { state: s, conditions: [] };
  if (event.kind === "sensor-invalid") {
    const reason = typeof event.values.reason === "string" ? event.values.reason : "invalid";
    return settle({ ...s, device: { ...s.device, [sensor]: reason } }, event.time);
  }
  if (event.kind === "sensor-recovered" && sensor in s.device) {
    const device = { ...s.device };
    delete device[sensor];
    // The device says it reads again: that is enough, unless another reading is still bad.
    return settle({ ...s, device, cleanRecords: SENSOR_GOOD_SAMPLES }, event.time);
  }
  return { state: s, conditions: [] };
}

/**
 * A telemetry message of the site the backend rejected (a sentinel out of the schema's range,
 * `fuel_pct: 65535`, rejects the whole message). SENSOR_BAD_SAMPLES in a row, naming one field,
 * make that field at fault: a site that only sends what cannot be read is not offline, its
 * sensor is broken.
 */
export function telemetryRejected(
  s: SensorRuleState,
  reject: { reason: string; at: Date },
): { state: SensorRuleState; conditions: AlarmCondition[] } {
  const field = reject.reason.split(":")[0]!.trim() || "payload";
  const count = s.rejects?.field === field ? s.rejects.count + 1 : 1;
  const rejects = {
    count,
    field,
    reason: s.rejects?.field === field ? s.rejects.reason : reject.reason,
  };
  const state = { ...s, rejects, cleanRecords: 0 };
  if (count < SENSOR_BAD_SAMPLES || field in s.rejected) return { state, conditions: [] };
  return settle({ ...state, rejected: { ...s.rejected, [field]: rejects.reason } }, reject.at);
}

/** An alarm reloaded open at start: active until every sensor reads well (three samples). */
export function seedSensor(s: SensorRuleState, open: boolean): SensorRuleState {
  return open ? { ...s, alarm: ACTIVE } : s;
}
