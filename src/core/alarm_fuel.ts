/**
 * Fuel alarms: low fuel (a percentage, or the hours the generator could still run) and fuel
 * loss (the level falls with the generator off, beyond gauge noise and thermal contraction).
 * Pure: the state goes in and comes out with the conditions that changed.
 */
import type { Alarm } from "./alarm.ts";
import {
  ACTIVE,
  type AlarmCondition,
  type Debounce,
  debounce,
  IDLE,
  round1,
} from "./alarm_debounce.ts";
import { type FuelCurve, fuelRateLph } from "./generator.ts";
import type { SiteProfile } from "./site_profile.ts";
import type { TelemetryRecord } from "./telemetry.ts";

/**
 * Low fuel raises below 10 % of the tank or below 8 h of running, and clears only at 15 % and
 * 12 h (hysteresis: a gauge wobbling around 10 % never flaps). 8 h is a working day: time for a
 * fuel delivery to be arranged and driven out before the tank runs dry. Three consecutive
 * samples: one noisy reading (a float gauge sloshing, a loose sender contact) never raises.
 */
export const LOW_FUEL = {
  raisePct: 10,
  clearPct: 15,
  raiseRunH: 8,
  clearRunH: 12,
  rule: { raiseSamples: 3, raiseHoldMs: 0, clearSamples: 3 },
} as const;

/**
 * The hours left are counted at 75 % of the generator's rating: ISO 8528-1 rates prime power for
 * an average load of up to 70 % over 24 h, and a set charging the battery runs near its top; a
 * lower load would make the hours look longer than a bad night gives.
 */
export const RUN_HOURS_LOAD_RATIO = 0.75;

/**
 * Fuel loss. A resistive float gauge reads within about ±2 % of the tank (gauge noise); diesel
 * contracts 0.00083 per °C (ASTM D1250 / API MPMS 11.1 volume correction: about 0.83 × 10⁻³ /°C
 * for diesel at 15 °C), and fuel in an above-ground tank swings some 15 °C between afternoon and
 * dawn. A level that falls with the generator off is loss only when the fall exceeds
 * noise + thermal contraction of the fuel held, on the median of the last five readings (one
 * noisy reading cannot move a median of five), for three consecutive samples.
 */
export const FUEL_LOSS = {
  gaugeNoisePct: 2,
  expansionPerC: 0.00083,
  tempSwingC: 15,
  medianOf: 5,
  rule: { raiseSamples: 3, raiseHoldMs: 0, clearSamples: 1 },
  /**
   * An open loss clears on a refuel, or once the level has held (within half the allowance) for
   * 6 h with the generator off: a leak goes on through generator runs, and an alarm that cleared
   * at every start and came back at every stop would flap with the generator.
   */
  steadyClearMs: 6 * 3600_000,
  /**
   * A rise of at least this much (% of tank) is a refuel: the same 5 % step fuel_learning.ts
   * counts as one. It, or the generator running, starts a new reference level.
   */
  refuelPct: 5,
} as const;

export interface FuelRuleState {
  low: Debounce;
  loss: Debounce;
  /** Latest readings with the generator off, newest last (for the median). */
  recent: number[];
  /** Highest median level since the generator stopped or the tank was refilled. */
  refPct: number | null;
  /** When the reference level was taken. */
  refMs: number | null;
  /** Whether the generator ran in the previous sample: each run and each stop is a segment. */
  running: boolean | null;
  /** While a loss is open: since when the level has held steady with the generator off. */
  steadySinceMs: number | null;
}

export function newFuelRuleState(): FuelRuleState {
  return {
    low: IDLE,
    loss: IDLE,
    recent: [],
    refPct: null,
    refMs: null,
    running: null,
    steadySinceMs: null,
  };
}

export interface FuelContext {
  profile: SiteProfile;
  /** The site's learned fuel curve; the default curve when absent. */
  fuelCurve?: FuelCurve;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Hours the generator could run on what is left, at RUN_HOURS_LOAD_RATIO of its rating. */
export function runHoursLeft(fuelPct: number, ctx: FuelContext): number {
  const { tankL, generatorRatedKw } = ctx.profile;
  const lph = fuelRateLph(generatorRatedKw, generatorRatedKw * RUN_HOURS_LOAD_RATIO, {
    curve: ctx.fuelCurve,
  });
  return lph > 0 ? fuelPct / 100 * tankL / lph : Infinity;
}

/** Litres a fall must exceed to be loss: gauge noise plus thermal contraction of the fuel held. */
export function fuelLossAllowanceL(refPct: number, tankL: number): number {
  const heldL = refPct / 100 * tankL;
  return FUEL_LOSS.gaugeNoisePct / 100 * tankL +
    FUEL_LOSS.expansionPerC * FUEL_LOSS.tempSwingC * heldL;
}

/** One record through both fuel rules. */
export function fuelRules(
  s: FuelRuleState,
  record: TelemetryRecord,
  ctx: FuelContext,
): { state: FuelRuleState; conditions: AlarmCondition[] } {
  const pct = record.fuelPct;
  const { tankL, generatorRatedKw } = ctx.profile;
  if (pct === null || tankL <= 0 || generatorRatedKw <= 0) return { state: s, conditions: [] };
  const atMs = record.time.getTime();
  const conditions: AlarmCondition[] = [];

  const hoursLeft = runHoursLeft(pct, ctx);
  const low = debounce(s.low, {
    raise: pct < LOW_FUEL.raisePct || hoursLeft < LOW_FUEL.raiseRunH,
    clear: pct >= LOW_FUEL.clearPct && hoursLeft >= LOW_FUEL.clearRunH,
    atMs,
  }, LOW_FUEL.rule);
  if (low.active !== s.low.active) {
    const litres = round1(pct / 100 * tankL);
    conditions.push({
      kind: "low-fuel",
      active: low.active,
      severity: "warning",
      message: low.active
        ? `Fuel ${pct.toFixed(0)} % (${litres} L, ${hoursLeft.toFixed(1)} h of running), below ` +
          `${LOW_FUEL.raisePct} % or ${LOW_FUEL.raiseRunH} h`
        : `Fuel back to ${pct.toFixed(0)} % (${litres} L)`,
      values: { fuelPct: round1(pct), fuelL: litres, runHoursLeft: round1(hoursLeft) },
      at: record.time,
    });
  }

  let { recent, refPct, refMs, steadySinceMs } = s;
  const loss = s.loss;
  let lossL = 0;
  let allowanceL = 0;
  let refilled = false;
  let measured = false;
  // A new segment (generator started or stopped): a new reference level.
  if (s.running !== record.genRunning) {
    recent = [];
    refPct = null;
    refMs = null;
    steadySinceMs = null;
  }
  // concat allocates the array at its size, where a spread leaves room to grow (240 bytes).
  recent = recent.slice(-(FUEL_LOSS.medianOf - 1)).concat(pct);
  if (recent.length >= 3) {
    const level = median(recent);
    if (!record.genRunning) {
      measured = true;
      if (refPct === null || level > refPct) {
        // Rising: a refuel (or warm fuel expanding). A refuel never alarms and clears a loss.
        refilled = refPct !== null && level - refPct >= FUEL_LOSS.refuelPct;
        refPct = level;
        refMs = atMs;
      }
      lossL = (refPct - level) / 100 * tankL;
    } else {
      // Running: burning is not loss, but no engine burns twice its full-load rate (the
      // learner's drop-too-fast, fuel_learning.ts): what falls faster is siphoned.
      if (refPct === null || level > refPct) (refPct = level, refMs = atMs);
      const fastLph = 2 * fuelRateLph(generatorRatedKw, generatorRatedKw, { curve: ctx.fuelCurve });
      lossL = (refPct - level) / 100 * tankL - fastLph * (atMs - refMs!) / 3.6e6;
    }
    allowanceL = fuelLossAllowanceL(refPct, tankL);
  }
  let nextLoss = loss;
  if (!loss.active) {
    nextLoss = debounce(loss, {
      raise: lossL > allowanceL && allowanceL > 0,
      clear: false,
      atMs,
    }, FUEL_LOSS.rule);
  } else if (refilled) {
    nextLoss = IDLE;
  } else if (measured) {
    // Still losing (a leak goes on through generator runs), or steady long enough to clear.
    steadySinceMs = lossL <= allowanceL / 2 ? (steadySinceMs ?? atMs) : null;
    if (steadySinceMs !== null && atMs - steadySinceMs >= FUEL_LOSS.steadyClearMs) {
      nextLoss = IDLE;
    }
  }
  if (!nextLoss.active) steadySinceMs = null;
  if (nextLoss.active !== loss.active) {
    conditions.push({
      kind: "fuel-loss",
      active: nextLoss.active,
      severity: "critical",
      message: nextLoss.active && record.genRunning
        ? `Fuel fell ${round1(lossL)} L faster than the running generator can burn (from ` +
          `${round1(refPct!)} % to ${round1(pct)} %): siphoning?`
        : nextLoss.active
        ? `Fuel fell ${litres(lossL, allowanceL)} L with the generator off (from ` +
          `${round1(refPct!)} % to ${round1(pct)} %), beyond the ` +
          `${
            litres(allowanceL, lossL)
          } L gauge noise and thermal contraction allow: theft or a leak?`
        : refilled
        ? `Tank refilled (${round1(pct)} %)`
        : `Fuel level steady for ${FUEL_LOSS.steadyClearMs / 3.6e6} h with the generator off ` +
          `(${round1(pct)} %)`,
      values: nextLoss.active
        ? {
          lostL: round1(lossL),
          fromPct: round1(refPct!),
          fuelPct: round1(pct),
          allowanceL: round1(allowanceL),
          genRunning: record.genRunning,
        }
        : { fuelPct: round1(pct), refilled },
      at: record.time,
    });
  }
  return {
    state: {
      low,
      loss: nextLoss,
      recent,
      refPct,
      refMs,
      running: record.genRunning,
      steadySinceMs,
    },
    conditions,
  };
}

/** Litres to one decimal, or two where one decimal would print `x` and `other` alike. */
function litres(x: number, other: number): string {
  return round1(x) === round1(other) ? x.toFixed(2) : String(round1(x));
}

/**
 * The fuel rules of alarms still open at start. An open fuel loss takes the level it was raised
 * at as its reference (and the generator's state then as its segment), so a refuel during the
 * restart clears it as a refuel does; without them the rule started from the level it first
 * read, and only six steady hours cleared the loss.
 */
export function seedFuel(
  s: FuelRuleState,
  open: ReadonlyMap<string, Pick<Alarm, "values" | "raisedAt">>,
): FuelRuleState {
  const low = open.has("low-fuel") ? ACTIVE : s.low;
  const loss = open.get("fuel-loss");
  if (loss === undefined) return { ...s, low };
  const { fuelPct, genRunning } = loss.values;
  if (typeof fuelPct !== "number" || typeof genRunning !== "boolean") {
    return { ...s, low, loss: ACTIVE };
  }
  return {
    ...s,
    low,
    loss: ACTIVE,
    recent: [],
    refPct: fuelPct,
    refMs: Date.parse(loss.raisedAt),
    running: genRunning,
  };
}
