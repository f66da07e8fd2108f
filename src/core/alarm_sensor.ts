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
  STUCK_FIELDS,
  STUCK_FUEL_BURN_PCT,
  stuckCandidate,
} from "./alarm_sensor_checks.ts";

/**
 * Where one field's numbers sit in SensorRuleState.history; -1 where the field has no such
 * check. One array of doubles for all fields is one object a site (V8 keeps a packed double
 * array unboxed, 8 bytes a number; an object per field with its numbers boxed was 1.6 KB a
 * site), and each field keeps only what its checks read: 40 numbers, where ten for each of the
 * eight fields were 80. Copying it per record costs some 20 ns.
 */
interface Slots {
  /** Consecutive good readings (> 0), or bad ones (< 0). */
  run: number;
  /** 1 while the field is at fault. */
  faulty: number;
  /** The fields with a jump limit: the last reading judged good (NaN before the first). */
  good: number;
  /** …and when, ms. */
  goodAtMs: number;
  /** Stuck detection and the fuel gauge: the repeated value (NaN before the first reading). */
  same: number;
  /** Stuck detection: since when, how many samples, in how many of them other readings moved. */
  sameSinceMs: number;
  sameSamples: number;
  sameMoved: number;
  /** The fuel gauge: % of the tank the generator burned while the value stood still. */
  burnedPct: number;
}

const SLOTS: readonly Slots[] = (() => {
  let next = 0;
  const take = (has: boolean) => (has ? next++ : -1);
  return FIELDS.map(({ name }) => {
    const jump = name in JUMP_UNITS;
    const stuck = STUCK_FIELDS.includes(name);
    const fuel = name === "fuel_pct";
    return {
      run: take(true),
      faulty: take(true),
      good: take(jump),
      goodAtMs: take(jump),
      same: take(stuck || fuel),
      sameSinceMs: take(stuck),
      sameSamples: take(stuck),
      sameMoved: take(stuck),
      burnedPct: take(fuel),
    };
  });
})();

/**
 * After the fields' slots, the previous record as the rules read it (whether the rest of the
 * site moved, how long the generator ran): each field's value (NaN for null), its time (ms) and
 * whether the generator ran, NaN before the first record. Held as numbers, not as the record:
 * the site state holds the newest record in its own compact form (held_record.ts).
 */
const PREV = Math.max(...SLOTS.flatMap((at) => Object.values(at))) + 1;
const PREV_TIME_MS = PREV + FIELDS.length;
const PREV_GEN_RUNNING = PREV_TIME_MS + 1;

/** A new site's history: NaN for the values not read yet, 0 for the counts. */
const NEW_HISTORY: readonly number[] = (() => {
  // Assigned in index order from an empty literal, the array is packed doubles; slice() keeps
  // it so.
  const history: number[] = [];
  for (const slots of SLOTS) {
    for (const [key, at] of Object.entries(slots)) {
      if (at >= 0) history[at] = key === "good" || key === "same" ? NaN : 0;
    }
  }
  for (let at = PREV; at <= PREV_GEN_RUNNING; at++) history[at] = NaN;
  return history;
})();

/** No field has a reason yet: shared until one has. */
const NO_REASONS: readonly string[] = FIELDS.map(() => "");
const NONE: Readonly<Record<string, string>> = Object.freeze({});

export interface SensorRuleState {
  /** Every field's history (where each number sits: SLOTS). */
  history: readonly number[];
  /** Per field: why it is bad, from the first bad reading of its run; "" while it reads well. */
  reasons: readonly string[];
  /** Sensors the device reported invalid (its events), with the reason. */
  device: Readonly<Record<string, string>>;
  /** Whether the site's sensor-invalid alarm is active. */
  sensorAlarm: Debounce;
  /** The previous record's source (its numbers are in `history`); null before the first. */
  prevSource: TelemetryRecord["source"] | null;
  /** Consecutive records with no bad reading: an alarm clears only after SENSOR_GOOD_SAMPLES. */
  cleanRecords: number;
  /** Telemetry rejected since the last record taken: the field its reason names, and why. */
  rejects: { count: number; field: string; reason: string } | null;
  /** Fields whose telemetry was rejected SENSOR_BAD_SAMPLES times in a row, until records pass. */
  rejected: Readonly<Record<string, string>>;
}

export function newSensorRuleState(): SensorRuleState {
  return {
    history: NEW_HISTORY.slice(),
    reasons: NO_REASONS,
    device: NONE,
    sensorAlarm: IDLE,
    prevSource: null,
    cleanRecords: 0,
    rejects: null,
    rejected: NONE,
  };
}

/**
 * Which readings changed from the previous record (bit i for FIELDS[i]), and whether the
 * generator or the source did: what "the rest of the site moves" means for a stuck reading.
 */
function movement(r: TelemetryRecord, s: SensorRuleState): { mask: number; state: boolean } {
  const h = s.history;
  if (s.prevSource === null) return { mask: 0, state: false };
  let mask = 0;
  for (let i = 0; i < FIELDS.length; i++) {
    const a = FIELDS[i]!.read(r), b = h[PREV + i]!;
    if (a !== null && !Number.isNaN(b) && a !== b) mask |= 1 << i;
  }
  return {
    mask,
    state: (r.genRunning ? 1 : 0) !== h[PREV_GEN_RUNNING] || r.source !== s.prevSource,
  };
}

interface ReadingContext {
  r: TelemetryRecord;
  /** The previous record's time (NaN before the first) and whether the generator ran then. */
  prevTimeMs: number;
  prevGenRunning: boolean;
  profile: SiteProfile;
  othersMoved: boolean;
}

/** Why this reading of the field is bad, with its stuck window in `h` moved on. */
function badReading(
  h: number[],
  at: Slots,
  field: SensorField,
  v: number,
  ctx: ReadingContext,
): string | null {
  const { r, profile } = ctx;
  const atMs = r.time.getTime();
  let reason = badValue(field, v, r, profile);
  const good = at.good >= 0 ? h[at.good]! : NaN;
  if (reason === null && !Number.isNaN(good)) {
    const hours = (atMs - h[at.goodAtMs]!) / 3.6e6;
    const limit = jumpLimit(field, profile, hours);
    if (limit !== null && Math.abs(v - good) > limit) {
      reason = `jumped from ${good} to ${v} ${JUMP_UNITS[field]} in ${(hours * 60).toFixed(0)} min`;
    }
  }
  if (at.same < 0) return reason;
  if (v !== h[at.same]) {
    // A new value, or the field's first (`same` is NaN until then, and NaN equals nothing).
    const first = Number.isNaN(h[at.same]!);
    h[at.same] = v;
    if (at.sameSinceMs >= 0) {
      h[at.sameSinceMs] = atMs;
      h[at.sameSamples] = first ? 0 : 1;
      h[at.sameMoved] = 0;
    }
    if (at.burnedPct >= 0) h[at.burnedPct] = 0;
    if (first) standStill(h, at, ctx);
  } else standStill(h, at, ctx);
  if (reason === null && at.sameSinceMs >= 0 && stuckCandidate(field, v)) {
    const stuckMs = atMs - h[at.sameSinceMs]!;
    const samples = h[at.sameSamples]!;
    if (
      samples >= STUCK.samples && stuckMs >= STUCK.minMs &&
      h[at.sameMoved]! >= STUCK.movedShare * samples
    ) {
      reason = `stuck at ${v} for ${(stuckMs / 60_000).toFixed(0)} min while other readings moved`;
    }
  }
  const burned = at.burnedPct >= 0 ? h[at.burnedPct]! : 0;
  if (reason === null && burned >= STUCK_FUEL_BURN_PCT) {
    reason = `stuck at ${v} % while the generator burned about ${burned.toFixed(1)} % ` +
      "of the tank";
  }
  return reason;
}

/** One more sample at the same value: counted, with what the rest did and the fuel burned. */
function standStill(h: number[], at: Slots, ctx: ReadingContext): void {
  const { r, profile } = ctx;
  if (at.sameSamples >= 0) {
    h[at.sameSamples]!++;
    if (ctx.othersMoved) h[at.sameMoved]!++;
  }
  if (at.burnedPct < 0) return;
  if (r.genRunning && ctx.prevGenRunning && profile.tankL > 0) {
    const dtH = (r.time.getTime() - ctx.prevTimeMs) / 3.6e6;
    const burnLph = fuelRateLph(profile.generatorRatedKw, (r.genW ?? r.loadW) / 1000);
    h[at.burnedPct] = h[at.burnedPct]! + burnLph * dtH / profile.tankL * 100;
  } else if (!r.genRunning) h[at.burnedPct] = 0;
}

/**
 * One reading of one field: judged on its own, against the last good one, and for sticking.
 * Updates the field's history in `h` (a copy the caller owns); returns the field's reason.
 */
function judge(
  h: number[],
  at: Slots,
  field: SensorField,
  v: number,
  ctx: ReadingContext & { reason: string },
): string {
  const reason = badReading(h, at, field, v, ctx);
  const faulty = h[at.faulty] === 1;
  const run = h[at.run]!;
  if (reason !== null) {
    const bad = (run < 0 ? -run : 0) + 1;
    h[at.run] = -bad;
    h[at.faulty] = faulty || bad >= SENSOR_BAD_SAMPLES ? 1 : 0;
    // The reason of the first bad reading of the run is the one reported.
    return faulty || bad > 1 ? ctx.reason : reason;
  }
  const okRun = (run > 0 ? run : 0) + 1;
  const stillFaulty = faulty && okRun < SENSOR_GOOD_SAMPLES;
  if (at.good >= 0) {
    h[at.good] = v;
    h[at.goodAtMs] = ctx.r.time.getTime();
  }
  h[at.run] = okRun;
  h[at.faulty] = stillFaulty ? 1 : 0;
  return stillFaulty ? ctx.reason : "";
}

function faultyFields(s: SensorRuleState): [string, string][] {
  const faults: [string, string][] = [];
  for (let i = 0; i < FIELDS.length; i++) {
    if (s.history[SLOTS[i]!.faulty] === 1) faults.push([FIELDS[i]!.name, s.reasons[i]!]);
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
  for (const at of SLOTS) if (s.history[at.faulty] === 1) return true;
  return false;
}

function settle(
  s: SensorRuleState,
  at: Date,
): { state: SensorRuleState; conditions: AlarmCondition[] } {
  const any = anyFaulty(s) || Object.keys(s.device).length > 0 ||
    Object.keys(s.rejected).length > 0;
  if (any === s.sensorAlarm.active) return { state: s, conditions: [] };
  // An alarm reloaded at start knows no field yet: it waits for clean records before clearing.
  if (!any && s.cleanRecords < SENSOR_GOOD_SAMPLES) return { state: s, conditions: [] };
  const state = { ...s, sensorAlarm: any ? ACTIVE : IDLE };
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
  const moves = movement(r, s);
  const prevTimeMs = s.history[PREV_TIME_MS]!;
  const prevGenRunning = s.history[PREV_GEN_RUNNING] === 1;
  let clean = true;
  for (let i = 0; i < FIELDS.length; i++) {
    const v = FIELDS[i]!.read(r);
    if (v === null) continue;
    const othersMoved = moves.state || (moves.mask & ~(1 << i)) !== 0;
    const at = SLOTS[i]!;
    const reason = judge(history, at, FIELDS[i]!.name, v, {
      r,
      prevTimeMs,
      prevGenRunning,
      profile,
      othersMoved,
      reason: reasons[i]!,
    });
    if (reason !== reasons[i]) {
      if (reasons === s.reasons) reasons = reasons.slice();
      (reasons as string[])[i] = reason;
    }
    if (history[at.run]! < 0) clean = false;
  }
  if (reasons !== s.reasons && reasons.every((why) => why === "")) reasons = NO_REASONS;
  for (let i = 0; i < FIELDS.length; i++) history[PREV + i] = FIELDS[i]!.read(r) ?? NaN;
  history[PREV_TIME_MS] = r.time.getTime();
  history[PREV_GEN_RUNNING] = r.genRunning ? 1 : 0;
  const cleanRecords = clean ? s.cleanRecords + 1 : 0;
  // Telemetry that passes again for SENSOR_GOOD_SAMPLES records ends a rejected field's fault.
  const rejected = cleanRecords >= SENSOR_GOOD_SAMPLES ? NONE : s.rejected;
  return settle(
    // Only the sensor fields: `s` may be every rule's state (alarm_rules.ts), 24 fields to copy.
    {
      history,
      reasons,
      device: s.device,
      sensorAlarm: s.sensorAlarm,
      prevSource: r.source,
      cleanRecords,
      rejects: null,
      rejected,
    },
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
  return open ? { ...s, sensorAlarm: ACTIVE } : s;
}
