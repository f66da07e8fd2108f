/**
 * Battery and generator alarms: SoC below the site's reserve, the reserve predicted within hours
 * with neither generator nor sun to help, a generator that failed to start, and one that ran past
 * its maximum continuous time. Pure.
 */
import {
  ACTIVE,
  type AlarmCondition,
  type Debounce,
  debounce,
  IDLE,
  round1,
} from "./alarm_debounce.ts";
import { CONSERVATIVE_BELOW_BATTERY_H } from "./advice.ts";
import { DEFAULT_POLICY_PARAMS } from "./policy_params.ts";
import type { SiteProfile } from "./site_profile.ts";
import type { TelemetryRecord } from "./telemetry.ts";

/**
 * Below reserve: raised once the SoC has stayed under the reserve for 15 minutes (and three
 * samples). The device starts its generator at or near the reserve, and the bank dips a little
 * further through the start and the 1 min warm-up before the charger carries it back up; 15
 * minutes is five times that whole start sequence (crank, safety delay, warm-up), so a bank still
 * under its reserve then is not being rescued. Cleared five points above it: the recovery
 * hysteresis the device's own policy uses (policy_params.ts recoveryHysteresisPct).
 */
export const BELOW_RESERVE = {
  clearMarginPct: DEFAULT_POLICY_PARAMS.recoveryHysteresisPct,
  rule: { raiseSamples: 3, raiseHoldMs: 15 * 60_000, clearSamples: 3 },
} as const;

/**
 * Reserve predicted: within 6 h (advice.ts CONSERVATIVE_BELOW_BATTERY_H, about the longest a
 * call-out to an unattended site takes), with the generator unable to help (none fitted, fuel at
 * the device's fuel reserve where it stops the set, or a failed start) and no sun before then.
 * Cleared at 9 h (1.5×), or as soon as the generator runs or the sun will cover the load in time.
 */
export const RESERVE_PREDICTED = {
  raiseH: CONSERVATIVE_BELOW_BATTERY_H,
  clearH: 1.5 * CONSERVATIVE_BELOW_BATTERY_H,
  rule: { raiseSamples: 3, raiseHoldMs: 0, clearSamples: 2 },
} as const;

/**
 * Over-run: the device stops a run at maxRunS (8 h, policy_params.ts) for the engine's pause and
 * oil check; a run 15 min past it (cool-down 3 min, and a reporting delay) is a device whose limit
 * did not act or a set started by hand.
 */
export const OVER_RUN = {
  maxRunS: DEFAULT_POLICY_PARAMS.maxRunS ?? 8 * 3600,
  graceS: 15 * 60,
} as const;

/** Device events that mean the generator failed, and the one that means it works again. */
export const GENERATOR_FAILURE_EVENTS = new Set([
  "generator-start-failed",
  "generator-stopped-unexpectedly",
]);
export const GENERATOR_RECOVERED_EVENT = "generator-recovered";

export interface PowerRuleState {
  reserve: Debounce;
  predicted: Debounce;
  /** Set by a failure event, cleared by the recovery event or the generator sensed running. */
  genFailed: boolean;
  /** Start of the current continuous run (first running sample), ms. */
  runSinceMs: number | null;
  overRun: boolean;
}

export function newPowerRuleState(): PowerRuleState {
  return { reserve: IDLE, predicted: IDLE, genFailed: false, runSinceMs: null, overRun: false };
}

export interface PowerContext {
  profile: SiteProfile;
  /** The SoC the backend reads for the site (BMS, or its estimate); null when unknown. */
  socPct: number | null;
  /** Median hours to the reserve without the generator (the latest advice); null: unknown. */
  batteryH: number | null;
  /** When PV is expected to carry the load again; null: not expected. */
  pvCoversLoadAt: Date | null;
}

/** One record through the battery and generator rules. */
export function powerRules(
  s: PowerRuleState,
  record: TelemetryRecord,
  ctx: PowerContext,
): { state: PowerRuleState; conditions: AlarmCondition[] } {
  const atMs = record.time.getTime();
  const at = record.time;
  const conditions: AlarmCondition[] = [];
  const { reserveSocPct } = ctx.profile;
  const soc = ctx.socPct;

  let reserve = s.reserve;
  if (soc !== null) {
    reserve = debounce(s.reserve, {
      raise: soc < reserveSocPct,
      clear: soc >= reserveSocPct + BELOW_RESERVE.clearMarginPct,
      atMs,
    }, BELOW_RESERVE.rule);
    if (reserve.active !== s.reserve.active) {
      conditions.push({
        kind: "battery-below-reserve",
        active: reserve.active,
        severity: "critical",
        message: reserve.active
          ? `Battery ${soc.toFixed(1)} %, below its ${reserveSocPct} % reserve for 15 min`
          : `Battery back to ${soc.toFixed(1)} % (reserve ${reserveSocPct} %)`,
        values: { socPct: round1(soc), reserveSocPct, batteryV: round1(record.batteryV) },
        at,
      });
    }
  }

  // The generator: failure events are handled in generatorEvent(); running clears them.
  let genFailed = s.genFailed;
  if (genFailed && record.genRunning) {
    genFailed = false;
    conditions.push({
      kind: "generator-start-failed",
      active: false,
      severity: "critical",
      message: "Generator running again",
      values: { genRunning: true },
      at,
    });
  }

  const fuelGone = record.fuelPct !== null &&
    record.fuelPct <= DEFAULT_POLICY_PARAMS.fuelReservePct;
  const noGenerator = ctx.profile.generatorRatedKw <= 0 || fuelGone || genFailed;
  const h = ctx.batteryH;
  const sunInTime = ctx.profile.pvKwp > 0 && ctx.pvCoversLoadAt !== null && h !== null &&
    ctx.pvCoversLoadAt.getTime() <= atMs + h * 3600_000;
  const helpless = !record.genRunning && noGenerator && !sunInTime;
  const belowNow = reserve.active;
  const predicted = debounce(s.predicted, {
    raise: h !== null && h < RESERVE_PREDICTED.raiseH && helpless && !belowNow,
    clear: h === null || h >= RESERVE_PREDICTED.clearH || !helpless || belowNow,
    atMs,
  }, RESERVE_PREDICTED.rule);
  if (predicted.active !== s.predicted.active) {
    const why = ctx.profile.generatorRatedKw <= 0
      ? "no generator"
      : genFailed
      ? "the generator failed"
      : "fuel at the generator's reserve";
    conditions.push({
      kind: "battery-reserve-predicted",
      active: predicted.active,
      severity: "warning",
      message: predicted.active
        ? `Battery reaches its ${reserveSocPct} % reserve in ${h!.toFixed(1)} h; ${why}, ` +
          "no sun before then"
        : belowNow
        ? "Reserve reached: see battery-below-reserve"
        : "Battery no longer predicted to reach its reserve unaided",
      values: {
        batteryH: h === null ? null : round1(h),
        reserveSocPct,
        socPct: soc === null ? null : round1(soc),
        genRunning: record.genRunning,
      },
      at,
    });
  }

  let runSinceMs = record.genRunning ? (s.runSinceMs ?? atMs) : null;
  const runS = runSinceMs === null ? 0 : (atMs - runSinceMs) / 1000;
  // Once over-run, it stays so until the generator stops (also across a backend restart).
  const overRun = record.genRunning && (s.overRun || runS > OVER_RUN.maxRunS + OVER_RUN.graceS);
  if (overRun !== s.overRun) {
    conditions.push({
      kind: "generator-over-run",
      active: overRun,
      severity: "warning",
      message: overRun
        ? `Generator running for ${(runS / 3600).toFixed(1)} h, past its ` +
          `${OVER_RUN.maxRunS / 3600} h maximum continuous run`
        : "Generator stopped",
      values: { runH: round1(runS / 3600), maxRunH: OVER_RUN.maxRunS / 3600 },
      at,
    });
  }
  if (!record.genRunning) runSinceMs = null;
  return {
    state: { reserve, predicted, genFailed, runSinceMs, overRun },
    conditions,
  };
}

/** A device event about the generator: failure raises at once (the device already waited). */
export function generatorEvent(
  s: PowerRuleState,
  event: { kind: string; time: Date; values: Record<string, unknown> },
): { state: PowerRuleState; conditions: AlarmCondition[] } {
  if (GENERATOR_FAILURE_EVENTS.has(event.kind)) {
    if (s.genFailed) return { state: s, conditions: [] };
    const waited = typeof event.values.waited_s === "number" ? event.values.waited_s : null;
    return {
      state: { ...s, genFailed: true },
      conditions: [{
        kind: "generator-start-failed",
        active: true,
        severity: "critical",
        message: event.kind === "generator-start-failed"
          ? `Generator did not start${waited === null ? "" : ` within ${waited} s`}`
          : "Generator stopped by itself while commanded on",
        values: {
          event: event.kind,
          waitedS: waited,
          fuelPct: typeof event.values.fuel_pct === "number" ? event.values.fuel_pct : null,
          socPct: typeof event.values.soc_pct === "number" ? event.values.soc_pct : null,
        },
        at: event.time,
      }],
    };
  }
  if (event.kind === GENERATOR_RECOVERED_EVENT && s.genFailed) {
    return {
      state: { ...s, genFailed: false },
      conditions: [{
        kind: "generator-start-failed",
        active: false,
        severity: "critical",
        message: "Generator recovered",
        values: { event: event.kind },
        at: event.time,
      }],
    };
  }
  return { state: s, conditions: [] };
}

/** Marks the rules of alarms already open (reloaded at start) active, so none is raised twice. */
export function seedPower(s: PowerRuleState, open: ReadonlySet<string>): PowerRuleState {
  return {
    ...s,
    reserve: open.has("battery-below-reserve") ? ACTIVE : s.reserve,
    predicted: open.has("battery-reserve-predicted") ? ACTIVE : s.predicted,
    genFailed: open.has("generator-start-failed") || s.genFailed,
    overRun: open.has("generator-over-run") || s.overRun,
  };
}
