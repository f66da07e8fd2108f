/**
 * Every alarm rule of one site, as pure functions of (the site's rule state, one input) → (new
 * state, the conditions that changed). Inputs: a telemetry record, a device event, a status
 * change (last will), and a clock tick for silence. The backend's alarm engine keeps the state
 * per site and turns conditions into stored alarms (raised → acknowledged → cleared).
 */
import type { Alarm, AlarmKind } from "./alarm.ts";
import { type AlarmCondition, round1 } from "./alarm_debounce.ts";
import {
  type FuelContext,
  fuelRules,
  type FuelRuleState,
  newFuelRuleState,
  seedFuel,
} from "./alarm_fuel.ts";
import {
  generatorEvent,
  newPowerRuleState,
  type PowerContext,
  powerRules,
  type PowerRuleState,
  seedPower,
} from "./alarm_power.ts";
import {
  newSensorRuleState,
  seedSensor,
  sensorEvent,
  sensorRules,
  type SensorRuleState,
  telemetryRejected,
} from "./alarm_sensor.ts";
import type { TelemetryRecord } from "./telemetry.ts";

export type { AlarmCondition } from "./alarm_debounce.ts";

/**
 * Offline: no telemetry for 5 reporting intervals, and never less than 10 minutes. Five
 * intervals ride out a message or two lost to a weak link; the 10-minute floor keeps a broker
 * restart, a backend catching up on its queue, or a GC pause from raising a fleet-wide alarm
 * (telecom NOCs page on a site down after 5–15 minutes). The interval is learned from the spacing
 * of the site's records (an EWMA over gaps no longer than three intervals, so an outage does not
 * teach it). A last will ("offline" on the status topic) raises at once: the broker sends it only
 * after 1.5 keep-alives without a packet (MQTT 5 §3.1.2.10), already debounced. Cleared by the
 * next telemetry.
 */
export const OFFLINE = {
  intervals: 5,
  minSilenceS: 600,
  /** Before any spacing is learned. */
  defaultIntervalS: 60,
  intervalAlpha: 0.2,
} as const;

/** The offline rule's state. */
interface OfflineRuleState {
  /** Newest record time, ms; older records (late, redelivered) are not evaluated. */
  lastTimeMs: number | null;
  /** When telemetry was last rejected (receive time, ms): the site is talking, if badly. */
  lastRejectMs: number | null;
  intervalS: number | null;
  offline: boolean;
}

/**
 * Every rule's state of one site, in one flat object: the backend holds one per site, and
 * each nested object was another 24-byte header and 8-byte pointer (96 bytes a site for three).
 * Each rule reads its own fields and returns them; `compose` puts them together again.
 */
export interface AlarmRuleState
  extends OfflineRuleState, FuelRuleState, PowerRuleState, SensorRuleState {}

/** One literal with every field in one order (V8 then keeps one layout for all sites). */
function compose(
  o: OfflineRuleState,
  f: FuelRuleState,
  p: PowerRuleState,
  s: SensorRuleState,
): AlarmRuleState {
  return {
    lastTimeMs: o.lastTimeMs,
    lastRejectMs: o.lastRejectMs,
    intervalS: o.intervalS,
    offline: o.offline,
    low: f.low,
    loss: f.loss,
    recent: f.recent,
    refPct: f.refPct,
    refMs: f.refMs,
    running: f.running,
    steadySinceMs: f.steadySinceMs,
    reserve: p.reserve,
    predicted: p.predicted,
    genFailed: p.genFailed,
    runSinceMs: p.runSinceMs,
    overRun: p.overRun,
    history: s.history,
    reasons: s.reasons,
    device: s.device,
    sensorAlarm: s.sensorAlarm,
    prevSource: s.prevSource,
    cleanRecords: s.cleanRecords,
    rejects: s.rejects,
    rejected: s.rejected,
  };
}

export function newAlarmRuleState(): AlarmRuleState {
  return compose(
    { lastTimeMs: null, lastRejectMs: null, intervalS: null, offline: false },
    newFuelRuleState(),
    newPowerRuleState(),
    newSensorRuleState(),
  );
}

/**
 * Marks the rules of alarms still open (reloaded at start) active, so none is raised twice; an
 * open fuel loss also takes back the level it was raised at (alarm_fuel.ts `seedFuel`).
 */
export function seedAlarmRuleState(
  s: AlarmRuleState,
  open: ReadonlyMap<AlarmKind, Pick<Alarm, "values" | "raisedAt">>,
): AlarmRuleState {
  return compose(
    { ...s, offline: s.offline || open.has("site-offline") },
    seedFuel(s, open),
    seedPower(s, new Set(open.keys())),
    seedSensor(s, open.has("sensor-invalid")),
  );
}

export type SiteRuleContext = FuelContext & PowerContext;

export interface RuleResult {
  state: AlarmRuleState;
  conditions: AlarmCondition[];
}

function learnInterval(s: AlarmRuleState, atMs: number): number | null {
  if (s.lastTimeMs === null) return s.intervalS;
  const dtS = (atMs - s.lastTimeMs) / 1000;
  if (s.intervalS === null) return dtS <= OFFLINE.minSilenceS ? dtS : null;
  if (dtS > 3 * s.intervalS) return s.intervalS;
  return s.intervalS + OFFLINE.intervalAlpha * (dtS - s.intervalS);
}

/** One telemetry record: every record rule. A record not newer than the last is ignored. */
export function onRecord(
  s: AlarmRuleState,
  record: TelemetryRecord,
  ctx: SiteRuleContext,
): RuleResult {
  const atMs = record.time.getTime();
  if (s.lastTimeMs !== null && atMs <= s.lastTimeMs) return { state: s, conditions: [] };
  const conditions: AlarmCondition[] = [];
  if (s.offline) {
    conditions.push({
      kind: "site-offline",
      active: false,
      severity: "critical",
      message: "Site reporting again",
      values: { lastSilenceS: s.lastTimeMs === null ? null : round1((atMs - s.lastTimeMs) / 1000) },
      at: record.time,
    });
  }
  const fuel = fuelRules(s, record, ctx);
  const power = powerRules(s, record, ctx);
  const sensor = sensorRules(s, record, ctx.profile);
  conditions.push(...fuel.conditions, ...power.conditions, ...sensor.conditions);
  const offline = {
    lastTimeMs: atMs,
    lastRejectMs: s.lastRejectMs,
    intervalS: learnInterval(s, atMs),
    offline: false,
  };
  return {
    state: compose(offline, fuel.state, power.state, sensor.state),
    conditions,
  };
}

/** A device event (generator failures, invalid sensors); other kinds change nothing. */
export function onEvent(
  s: AlarmRuleState,
  event: { kind: string; time: Date; values: Record<string, unknown> },
): RuleResult {
  const gen = generatorEvent(s, event);
  const sensor = sensorEvent(s, event);
  if (
    gen.conditions.length === 0 && sensor.conditions.length === 0 &&
    gen.state === s && sensor.state === s
  ) {
    return { state: s, conditions: [] };
  }
  return {
    state: compose(s, s, gen.state, sensor.state),
    conditions: [...gen.conditions, ...sensor.conditions],
  };
}

/** A telemetry message of the site that was rejected: evidence of a broken sensor (alarm_sensor). */
export function onReject(s: AlarmRuleState, reject: { reason: string; at: Date }): RuleResult {
  const sensor = telemetryRejected(s, reject);
  return {
    state: compose({ ...s, lastRejectMs: reject.at.getTime() }, s, s, sensor.state),
    conditions: sensor.conditions,
  };
}

/** A status message: "offline" is the site's last will. "online" waits for its telemetry. */
export function onStatus(
  s: AlarmRuleState,
  status: { status: "online" | "offline"; at: Date },
): RuleResult {
  if (status.status !== "offline" || s.offline) return { state: s, conditions: [] };
  // A last will older than the newest telemetry is stale (the site already came back).
  if (s.lastTimeMs !== null && status.at.getTime() < s.lastTimeMs) {
    return { state: s, conditions: [] };
  }
  return {
    state: { ...s, offline: true },
    conditions: [{
      kind: "site-offline",
      active: true,
      severity: "critical",
      message: "Site offline: its agent stopped, or the broker sent its last will",
      values: {
        reason: "last-will",
        lastTelemetryAt: s.lastTimeMs === null ? null : new Date(s.lastTimeMs).toISOString(),
      },
      at: status.at,
    }],
  };
}

/** Seconds of silence after which a site is offline. */
export function offlineAfterS(s: AlarmRuleState): number {
  const interval = s.intervalS ?? OFFLINE.defaultIntervalS;
  return Math.max(OFFLINE.intervals * interval, OFFLINE.minSilenceS);
}

/**
 * The clock: raises site-offline when the site has been silent too long. `sinceMs` is the
 * earliest time silence counts from (the engine's start: a backend just started has not yet
 * heard what the broker queued for it).
 */
export function onTick(s: AlarmRuleState, now: Date, sinceMs: number): RuleResult {
  if (s.offline || s.lastTimeMs === null) return { state: s, conditions: [] };
  // Rejected telemetry is the site talking: sensor-invalid says what is wrong, not offline.
  const heardMs = Math.max(s.lastTimeMs, s.lastRejectMs ?? -Infinity, sinceMs);
  const silentS = (now.getTime() - heardMs) / 1000;
  const limitS = offlineAfterS(s);
  if (silentS <= limitS) return { state: s, conditions: [] };
  return {
    state: { ...s, offline: true },
    conditions: [{
      kind: "site-offline",
      active: true,
      severity: "critical",
      message: `No telemetry for ${(silentS / 60).toFixed(0)} min (limit ${
        (limitS / 60).toFixed(0)
      } min)`,
      values: {
        reason: "silent",
        lastTelemetryAt: new Date(s.lastTimeMs).toISOString(),
        silentS: Math.round(silentS),
        intervalS: s.intervalS === null ? null : round1(s.intervalS),
      },
      at: now,
    }],
  };
}
