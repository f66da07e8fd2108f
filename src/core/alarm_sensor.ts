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

/**
 * One field's history is SLOTS numbers at `index × SLOTS` in SensorRuleState.history, NaN where
 * a value is unknown. One array of doubles for all fields is one object a site (V8 keeps a
 * packed double array unboxed: 8 bytes a number), where an object per field with its numbers
 * boxed was 1.6 KB a site; copying it per record costs some 20 ns.
 */
const GOOD = 0; // the last reading judged good (NaN before the first)
const GOOD_AT_MS = 1; // …and when
const BAD = 2; // consecutive bad readings
const OK_RUN = 3; // consecutive good readings
const FAULTY = 4; // 1 while the field is at fault
const SAME = 5; // stuck detection: the repeated value (NaN until the field has read a value)
const SAME_SINCE_MS = 6; // …since when
const SAME_SAMPLES = 7; // …how many samples
const SAME_MOVED = 8; // …in how many of them other readings moved
const BURNED_PCT = 9; // fuel the generator burned (% of tank) while this value stood still
const SLOTS = 10;

/** No field has a reason yet: shared until one has. */
const NO_REASONS: readonly string[] = FIELDS.map(() => "");
const NONE: Readonly<Record<string, string>> = Object.freeze({});

export interface SensorRuleState {
  /** Every field's history (see SLOTS), in the order of FIELDS. */
  history: readonly number[];
  /** Per field: why it is bad, from the first bad reading of its run; "" while it reads well. */
  reasons: readonly string[];
  /** Sensors the device reported invalid (its events), with the reason. */
  device: Readonly<Record<string, string>>;
  /** Whether the site's sensor-invalid alarm is active. */
  alarm: Debounce;
  prev: TelemetryRecord | null;
  /** Consecutive records with no bad reading: an alarm clears only after SENSOR_GOOD_SAMPLES. */
  cleanRecords: number;
  /** Telemetry rejected since the last record taken: the field its reason names, and why. */
  rejects: { count: number; field: string; reason: string } | null;
  /** Fields whose telemetry was rejected SENSOR_BAD_SAMPLES times in a row, until records pass. */
  rejected: Readonly<Record<string, string>>;
}

export function newSensorRuleState(): SensorRuleState {
  // Pushed one by one from an empty literal, the array stays packed doubles.
  const history: number[] = [];
  for (let i = 0; i < FIELDS.length; i++) {
    history.push(NaN, 0, 0, 0, 0, NaN, 0, 0, 0, 0);
  }
  return {
    history,
    reasons: NO_REASONS,
    device: NONE,
    alarm: IDLE,
    prev: null,
    cleanRecords: 0,
    rejects: null,
    rejected: NONE,
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

/** Why this reading of the field is bad, and its stuck window (`h` at `o`) moved on. */
function badReading(
  h: number[],
  o: number,
  field: SensorField,
  v: number,
  ctx: {
    r: TelemetryRecord;
    prev: TelemetryRecord | null;
    profile: SiteProfile;
    othersMoved: boolean;
  },
): string | null {
  const { r, prev, profile } = ctx;
  const atMs = r.time.getTime();
  let reason = badValue(field, v, r, profile);
  const good = h[o + GOOD]!;
  if (reason === null && !Number.isNaN(good)) {
    const hours = (atMs - h[o + GOOD_AT_MS]!) / 3.6e6;
    const limit = jumpLimit(field, profile, hours);
    if (limit !== null && Math.abs(v - good) > limit) {
      reason = `jumped from ${good} to ${v} ${JUMP_UNITS[field]} in ${(hours * 60).toFixed(0)} min`;
    }
  }
  if (v !== h[o + SAME]) {
    // A new value, or the field's first (SAME is NaN until then, and NaN equals nothing).
    const first = Number.isNaN(h[o + SAME]!);
    h[o + SAME] = v;
    h[o + SAME_SINCE_MS] = atMs;
    h[o + SAME_SAMPLES] = first ? 0 : 1;
    h[o + SAME_MOVED] = 0;
    h[o + BURNED_PCT] = 0;
    if (first) standStill(h, o, ctx);
  } else standStill(h, o, ctx);
  const stuckMs = atMs - h[o + SAME_SINCE_MS]!;
  const samples = h[o + SAME_SAMPLES]!;
  if (
    reason === null && stuckCandidate(field, v) && samples >= STUCK.samples &&
    stuckMs >= STUCK.minMs && h[o + SAME_MOVED]! >= STUCK.movedShare * samples
  ) {
    reason = `stuck at ${v} for ${(stuckMs / 60_000).toFixed(0)} min while other readings moved`;
  }
  const burned = h[o + BURNED_PCT]!;
  if (reason === null && field === "fuel_pct" && burned >= STUCK_FUEL_BURN_PCT) {
    reason = `stuck at ${v} % while the generator burned about ${burned.toFixed(1)} % ` +
      "of the tank";
  }
  return reason;
}

/** One more sample at the same value: counted, with what the rest did and the fuel burned. */
function standStill(
  h: number[],
  o: number,
  ctx: {
    r: TelemetryRecord;
    prev: TelemetryRecord | null;
    profile: SiteProfile;
    othersMoved: boolean;
  },
): void {
  const { r, prev, profile } = ctx;
  h[o + SAME_SAMPLES]!++;
  if (ctx.othersMoved) h[o + SAME_MOVED]!++;
  if (r.genRunning && prev?.genRunning && profile.tankL > 0) {
    const dtH = (r.time.getTime() - prev.time.getTime()) / 3.6e6;
    const burnLph = fuelRateLph(profile.generatorRatedKw, (r.genW ?? r.loadW) / 1000);
    h[o + BURNED_PCT] = h[o + BURNED_PCT]! + burnLph * dtH / profile.tankL * 100;
  } else if (!r.genRunning) h[o + BURNED_PCT] = 0;
}

/**
 * One reading of one field: judged on its own, against the last good one, and for sticking.
 * Updates the field's history in `h` (a copy the caller owns); returns the field's reason.
 */
function judge(
  h: number[],
  o: number,
  field: SensorField,
  v: number,
  ctx: {
    r: TelemetryRecord;
    prev: TelemetryRecord | null;
    profile: SiteProfile;
    othersMoved: boolean;
    reason: string;
  },
): string {
  const reason = badReading(h, o, field, v, ctx);
  const faulty = h[o + FAULTY] === 1;
  if (reason !== null) {
    const bad = h[o + BAD]! + 1;
    // The reason of the first bad reading of the run is the one reported.
    const first = faulty || h[o + BAD]! > 0 ? ctx.reason : reason;
    h[o + BAD] = bad;
    h[o + OK_RUN] = 0;
    h[o + FAULTY] = faulty || bad >= SENSOR_BAD_SAMPLES ? 1 : 0;
    return first;
  }
  const okRun = h[o + OK_RUN]! + 1;
  const stillFaulty = faulty && okRun < SENSOR_GOOD_SAMPLES;
  h[o + GOOD] = v;
  h[o + GOOD_AT_MS] = ctx.r.time.getTime();
  h[o + BAD] = 0;
  h[o + OK_RUN] = okRun;
  h[o + FAULTY] = stillFaulty ? 1 : 0;
  return stillFaulty ? ctx.reason : "";
}

function faultyFields(s: SensorRuleState): [string, string][] {
  const faults: [string, string][] = [];
  for (let i = 0; i < FIELDS.length; i++) {
    if (s.history[i * SLOTS + FAULTY] === 1) faults.push([FIELDS[i]!.name, s.reasons[i]!]);
  }
  return faults;
}

function condition(s: SensorRuleState, active: boolean, at: Date): AlarmCondition {
  const faults: [string, string][] = [
    ...faultyFields(s),
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

function anyFaulty(s: SensorRuleState): boolean {
  for (let i = 0; i < FIELDS.length; i++) if (s.history[i * SLOTS + FAULTY] === 1) return true;
  return false;
}

function settle(
  s: SensorRuleState,
  at: Date,
): { state: SensorRuleState; conditions: AlarmCondition[] } {
  const any = anyFaulty(s) || Object.keys(s.device).length > 0 ||
    Object.keys(s.rejected).length > 0;
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
  const history = s.history.slice();
  let reasons = s.reasons;
  const moves = movement(r, s.prev);
  let clean = true;
  for (let i = 0; i < FIELDS.length; i++) {
    const v = FIELDS[i]!.read(r);
    if (v === null) continue;
    const othersMoved = moves.state || (moves.mask & ~(1 << i)) !== 0;
    const o = i * SLOTS;
    const reason = judge(history, o, FIELDS[i]!.name, v, {
      r,
      prev: s.prev,
      profile,
      othersMoved,
      reason: reasons[i]!,
    });
    if (reason !== reasons[i]) {
      if (reasons === s.reasons) reasons = reasons.slice();
      (reasons as string[])[i] = reason;
    }
    if (history[o + BAD]! > 0) clean = false;
  }
  if (reasons !== s.reasons && reasons.every((why) => why === "")) reasons = NO_REASONS;
  const cleanRecords = clean ? s.cleanRecords + 1 : 0;
  // Telemetry that passes again for SENSOR_GOOD_SAMPLES records ends a rejected field's fault.
  const rejected = cleanRecords >= SENSOR_GOOD_SAMPLES ? NONE : s.rejected;
  return settle(
    { ...s, history, reasons, prev: r, cleanRecords, rejects: null, rejected },
    r.time,
  );
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
    const rest: Record<string, string> = { ...s.device };
    delete rest[sensor];
    const device = Object.keys(rest).length === 0 ? NONE : rest;
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
