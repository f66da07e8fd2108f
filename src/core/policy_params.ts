/**
 * Site-local settings of the device's dispatch policy (src/core/policy.ts), their defaults and
 * where each default comes from. The strategic command tunes thresholds and strategy; these stay
 * on the device because they belong to the site's equipment and neighbours (warm-up, quiet hours,
 * exercise day), not to the forecast.
 */
import { cellsInSeries } from "./battery.ts";
import type { Strategy } from "./command.ts";
import { MIN_LOAD_RATIO } from "./generator.ts";
import type { Chemistry, SiteProfile } from "./site_profile.ts";
import { formatClockTime } from "./site_time.ts";

/** A daily window in site-local minutes of the day, [startMin, endMin); wraps past midnight. */
export interface DailyWindow {
  startMin: number;
  endMin: number;
}

export interface PolicyParams {
  /** Below this the generator is stopped so it never runs dry (air in the injection system). */
  fuelReservePct: number;
  /** A stopped generator restarts only above reserve + this, so fuel-gauge noise cannot flap it. */
  fuelRestartMarginPct: number;
  /** Minimum generator run time: short runs wet-stack a diesel and wear its starter. */
  minRunS: number;
  /** A generator commanded on but not running after this long is treated as failed. */
  genStartTimeoutS: number;
  /** Delay before each step up of the shed tier. */
  shedStepDelayS: number;
  /** SoC margin above a threshold before shedding or shutdown is undone. */
  recoveryHysteresisPct: number;
  /** Overrides the chemistry-based critical SoC (`criticalSocPct`) when set. */
  criticalSocPct: number | null;
  /** Running but not carrying the load: the battery keeps the load while the engine warms up. */
  warmupS: number;
  /** Load back on the battery, engine running unloaded this long, then stopped. */
  cooldownS: number;
  /** Longest continuous run (null: no limit); then the generator rests `restS`. */
  maxRunS: number | null;
  restS: number;
  /** Start on a battery voltage at or below this per cell (null: the chemistry's default)… */
  lowVoltageStartCellV: number | null;
  /** …held this long without a single reading above it, so a crank dip never starts it. */
  lowVoltageStartDelayS: number;
  /** A low-voltage run is released once the voltage stays at or above this per cell… */
  chargedCellV: number | null;
  chargedStopDelayS: number;
  /** SoC at or above the stop target for this long before the SoC request is released. */
  socStopDelayS: number;
  /** Inverter continuous rating (W) for the high-load rule; null: the generator's rating. */
  inverterRatedW: number | null;
  highLoadStartRatio: number;
  highLoadStartDelayS: number;
  highLoadStopRatio: number;
  highLoadStopDelayS: number;
  /** Load following: the generator stops at SoC ≥ start + this (at most the stop threshold). */
  loadFollowingBandPct: number;
  /** Below this fraction of its rating a diesel wet-stacks; the surplus charges the battery. */
  minLoadRatio: number;
  /** Measured PV must be above (or below) the load this long before "PV covers the load" flips. */
  pvCoverDelayS: number;
  /** The battery above reserve must hold this many times the energy to bridge to the PV time. */
  pvBridgeMargin: number;
  /** No start in this daily window (site-local), unless the battery is near critical. */
  quietHours: DailyWindow | null;
  /** "Near critical": SoC ≤ critical + this. Safety starts override quiet hours and rests. */
  nearCriticalMarginPct: number;
  /** Exercise run when the generator has not run this long (null: never). */
  exerciseIntervalS: number | null;
  exerciseDurationS: number;
  /** Exercise starts only in the hour from this site-local minute of the day. */
  exerciseAtMin: number;
  /** Strategy when no valid command is held. */
  localStrategy: Strategy;
  /** Both transfer contactors open this long between leaving one source and closing the other. */
  transferDeadTimeMs: number;
}

const MINUTE_S = 60;
const HOUR_S = 3600;

export const DEFAULT_POLICY_PARAMS: Readonly<PolicyParams> = {
  fuelReservePct: 5,
  fuelRestartMarginPct: 2,
  minRunS: 15 * MINUTE_S,
  // Longer than a whole start sequence of a genset controller: the DSE704 cranks 10 s, rests
  // 10 s, three attempts (50 s), then a 12 s "safety on" delay before it reports running.
  genStartTimeoutS: 120,
  shedStepDelayS: 5 * MINUTE_S,
  recoveryHysteresisPct: 5,
  criticalSocPct: null,
  // ASCO's 165 ATS waits 15 s for a standby set to stabilise because its load is dark meanwhile;
  // here the battery carries the load, so the engine gets a full minute (DSE and Onan manuals:
  // let it warm up before loading), short enough not to idle unloaded for long (wet stacking).
  warmupS: 60,
  // Cummins: idle 3–5 min before shutting down so oil and coolant carry heat from the turbo;
  // ASCO's 165 ATS gives 1 min. The low end of Cummins' range: idling unloaded longer wet-stacks.
  cooldownS: 3 * MINUTE_S,
  // Generac portable sets: check the oil before each use or at least every 8 h of operation; a
  // Generac dealer (Genserve) has owners stop, let the engine cool 10–15 min, and check it.
  // Unattended, the device gives the engine that pause.
  maxRunS: 8 * HOUR_S,
  restS: 15 * MINUTE_S,
  lowVoltageStartCellV: null,
  // Victron's GX generator start/stop uses 20 s; a minute spans six 10 s samples, longer than
  // a whole crank attempt (10 s) or any motor inrush (well under a second).
  lowVoltageStartDelayS: 60,
  chargedCellV: null,
  chargedStopDelayS: 5 * MINUTE_S,
  // SoC is already a filtered estimate (BMS, coulomb counter) and start and stop sit at least
  // 5 points apart (advice.ts MIN_START_STOP_GAP_PCT): no delay unless the SoC source is noisy.
  socStopDelayS: 0,
  inverterRatedW: null,
  // Victron's GX defaults start at 1600 W and stop at 800 W of AC load, half the start, with
  // 20 s timers. Here: start at 80 % of the rating, stop at half that (40 %), the stop only after
  // 5 min below it so a fluctuating load cannot flap the generator.
  highLoadStartRatio: 0.8,
  highLoadStartDelayS: 60,
  highLoadStopRatio: 0.4,
  highLoadStopDelayS: 5 * MINUTE_S,
  // HOMER's load following has no band (the battery takes over as soon as it can); a real set
  // needs one. 10 points on the small preset (5 kWh, 5 kW set at 650 W load) take the minimum-load
  // surplus 1500 − 650 = 850 W about 35 min to add: longer than the minimum run.
  loadFollowingBandPct: 10,
  minLoadRatio: MIN_LOAD_RATIO,
  // A passing cloud dims PV for minutes; the same 10 min both ways keeps one cloud from starting
  // or stopping anything.
  pvCoverDelayS: 10 * MINUTE_S,
  // The present load stands in for the load until PV covers it; evening loads run higher (the
  // demo's sites add an evening bump), so bridge only with 25 % to spare.
  pvBridgeMargin: 1.25,
  // Victron's GX offers quiet hours 21:00–06:00 but leaves them off; so does Kasi.
  quietHours: null,
  // As close to the emergency shutdown as the recovery hysteresis: safety starts from here.
  nearCriticalMarginPct: 5,
  // NFPA 110 §8.4.2: exercise monthly, 30 min under load (≥ 30 % of nameplate); standby makers
  // (Generac, Cummins PowerCommand) exercise weekly. Weekly, 30 min, skipped after any 30 min run.
  exerciseIntervalS: 7 * 24 * HOUR_S,
  exerciseDurationS: 30 * MINUTE_S,
  // Mid-morning: daylight, staff on site to see and hear the run, outside night quiet hours.
  exerciseAtMin: 10 * 60,
  // What v1 devices did; it leaves the battery fullest while the backend is out of reach.
  localStrategy: "cycle-charging",
  // Open-transition transfer switches offer an adjustable dead ("neutral") time with both
  // contacts open (Thomson TSC 900 §5.12.5); 1 s is far above a contactor's tens of ms to open.
  transferDeadTimeMs: 1000,
};

/**
 * Per-cell voltage thresholds for the voltage rules.
 * Lead-acid start 11.5 V per 12 V (1.917 V/cell): Victron's GX default, and the first
 * generation's Eco switch-over. Released at 13.8 V per 12 V (2.30 V/cell): float voltage, the
 * first generation's "back to battery" point, reached only once the charger has put charge in.
 * LiFePO4 start 3.0 V/cell: Victron's Lithium Battery manual puts 2.8 V/cell at about 3 % left,
 * where its BMS disconnects loads; 3.0 V starts the generator before that. Released at 3.45 V/cell,
 * between Victron's LiFePO4 float (13.5 V = 3.375 V/cell) and absorption (14.2 V = 3.55 V/cell).
 */
export const CELL_VOLTAGES: Readonly<Record<Chemistry, { startV: number; chargedV: number }>> = {
  "flooded-lead-acid": { startV: 11.5 / 6, chargedV: 13.8 / 6 },
  agm: { startV: 11.5 / 6, chargedV: 13.8 / 6 },
  lifepo4: { startV: 3.0, chargedV: 3.45 },
};

/** Pack voltages of the voltage rules for a site. */
export function voltageThresholds(
  profile: Pick<SiteProfile, "chemistry" | "nominalV">,
  params: Pick<PolicyParams, "lowVoltageStartCellV" | "chargedCellV">,
): { startV: number; chargedV: number } {
  const cells = cellsInSeries(profile.chemistry, profile.nominalV);
  const d = CELL_VOLTAGES[profile.chemistry];
  // To the millivolt, so 11.5 / 6 · 6 is 11.5 and not a float a hair below it.
  const mv = (v: number) => Math.round(v * 1000) / 1000;
  return {
    startV: mv((params.lowVoltageStartCellV ?? d.startV) * cells),
    chargedV: mv((params.chargedCellV ?? d.chargedV) * cells),
  };
}

const NON_NEGATIVE: readonly (keyof PolicyParams)[] = [
  "fuelReservePct",
  "fuelRestartMarginPct",
  "minRunS",
  "genStartTimeoutS",
  "shedStepDelayS",
  "recoveryHysteresisPct",
  "warmupS",
  "cooldownS",
  "restS",
  "lowVoltageStartDelayS",
  "chargedStopDelayS",
  "socStopDelayS",
  "highLoadStartDelayS",
  "highLoadStopDelayS",
  "loadFollowingBandPct",
  "pvCoverDelayS",
  "nearCriticalMarginPct",
  "exerciseDurationS",
  "transferDeadTimeMs",
];

/** Defaults merged with `params`, checked once; a bad value is a RangeError naming it. */
export function resolvePolicyParams(params: Partial<PolicyParams> = {}): PolicyParams {
  const p: PolicyParams = { ...DEFAULT_POLICY_PARAMS, ...params };
  const fail = (name: string, rule: string, value: unknown) => {
    const shown = typeof value === "number" ? String(value) : JSON.stringify(value);
    throw new RangeError(`policy setting ${name} must be ${rule}, got ${shown}`);
  };
  for (const name of NON_NEGATIVE) {
    const v = p[name];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) fail(name, "a number ≥ 0", v);
  }
  const positiveOrNull = ["maxRunS", "exerciseIntervalS", "inverterRatedW"] as const;
  for (const name of positiveOrNull) {
    const v = p[name];
    if (v !== null && !(typeof v === "number" && Number.isFinite(v) && v > 0)) {
      fail(name, "a number > 0 or null", v);
    }
  }
  for (const name of ["lowVoltageStartCellV", "chargedCellV", "criticalSocPct"] as const) {
    const v = p[name];
    if (v !== null && !(typeof v === "number" && Number.isFinite(v) && v >= 0)) {
      fail(name, "a number ≥ 0 or null", v);
    }
  }
  for (const name of ["highLoadStartRatio", "highLoadStopRatio", "minLoadRatio"] as const) {
    const v = p[name];
    if (!(typeof v === "number" && v >= 0 && v <= 1)) fail(name, "a ratio 0..1", v);
  }
  if (p.highLoadStopRatio >= p.highLoadStartRatio) {
    fail(
      "highLoadStopRatio",
      `below highLoadStartRatio ${p.highLoadStartRatio}`,
      p.highLoadStopRatio,
    );
  }
  if (!(p.pvBridgeMargin >= 1)) fail("pvBridgeMargin", "a number ≥ 1", p.pvBridgeMargin);
  if (!Number.isInteger(p.exerciseAtMin) || p.exerciseAtMin < 0 || p.exerciseAtMin >= 1440) {
    fail("exerciseAtMin", "a minute of the day 0..1439", p.exerciseAtMin);
  }
  if (p.quietHours !== null) {
    const { startMin, endMin } = p.quietHours;
    for (const [k, v] of [["startMin", startMin], ["endMin", endMin]] as const) {
      if (!Number.isInteger(v) || v < 0 || v >= 1440) fail(`quietHours.${k}`, "0..1439", v);
    }
  }
  if (p.localStrategy !== "cycle-charging" && p.localStrategy !== "load-following") {
    fail("localStrategy", '"cycle-charging" or "load-following"', p.localStrategy);
  }
  return p;
}

/** One line for the start-up log: the site-local dispatch settings in force. */
export function describePolicyParams(p: PolicyParams, profile: SiteProfile): string {
  const min = (s: number) => `${Math.round(s / 60)} min`;
  const quiet = p.quietHours
    ? `${formatClockTime(p.quietHours.startMin)}–${formatClockTime(p.quietHours.endMin)}`
    : "off";
  const exercise = p.exerciseIntervalS === null
    ? "off"
    : `every ${p.exerciseIntervalS / 86_400} d at ${formatClockTime(p.exerciseAtMin)} for ` +
      min(p.exerciseDurationS);
  return `time zone ${profile.timeZone}, quiet hours ${quiet}, exercise ${exercise}, ` +
    `warm-up ${p.warmupS} s, cool-down ${p.cooldownS} s, minimum run ${min(p.minRunS)}, ` +
    `maximum run ${p.maxRunS === null ? "off" : `${p.maxRunS / 3600} h`} then ${min(p.restS)} ` +
    `rest, high load ≥ ${p.highLoadStartRatio * 100} % of ` +
    `${p.inverterRatedW ?? profile.generatorRatedKw * 1000} W, transfer dead time ` +
    `${p.transferDeadTimeMs} ms`;
}
