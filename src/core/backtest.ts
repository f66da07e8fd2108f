/**
 * The backtest engine: one site replayed over measured hourly series (load, irradiance, air
 * temperature; backtest_series.ts) in fixed steps (default 5 min, the hourly inputs held within
 * the hour) through the simulator's physics, under each policy in turn:
 * - `kasi`: the device's decide() every step with the backend's hourly command
 *   (backtest_kasi.ts);
 * - `legacy`: the first generation's fixed voltage thresholds (backtest_legacy.ts).
 * Same site, same physics, same refuelling rule. At each hourly plan the policy's "hours until
 * reserve" is recorded with the counterfactual truth (backtest_truth.ts). Pure: progress goes
 * to a callback, time is the series'.
 */
import type { Mode } from "./command.ts";
import { legacyObserve, legacyPlan, newLegacyState } from "./backtest_legacy.ts";
import { kasiObserve, kasiPlan, newKasiState } from "./backtest_kasi.ts";
import {
  addStep,
  type BacktestMetrics,
  emptyMetrics,
  type PredictionRecord,
  type PredictionStats,
  predictionStats,
} from "./backtest_metrics.ts";
import { clearSkyHours, persistenceSolarForecast } from "./backtest_forecast.ts";
import type { BacktestSeries } from "./backtest_series.ts";
import { hoursToReserve } from "./backtest_truth.ts";
import { KasiError } from "./errors.ts";
import { OUTLOOK_SCENARIOS } from "./outlook.ts";
import { criticalSocPct, type PolicyParams } from "./policy.ts";
import { resolvePolicyParams } from "./policy_params.ts";
import {
  initialSimState,
  type SimOutputs,
  type SimReadings,
  type SimSite,
  type SimState,
  step,
} from "./simulator.ts";
import { classifySolarForecast } from "./solar_forecast.ts";

export const BACKTEST_POLICIES = ["kasi", "legacy"] as const;
export type BacktestPolicy = typeof BACKTEST_POLICIES[number];

export interface BacktestSite {
  sim: SimSite;
  /** Kasi's site-local dispatch settings (the device's). */
  dispatch: Partial<PolicyParams>;
  initialSocPct: number;
  initialFuelPct: number;
  /** The tank is filled to the brim when it falls below this, % of the tank. */
  refuelBelowPct: number;
}

export interface BacktestOptions {
  policies?: readonly BacktestPolicy[];
  /** Step, s; default 300. */
  stepS?: number;
  /** Scenarios of each forward forecast; default the backend's OUTLOOK_SCENARIOS (100). */
  scenarios?: number;
  /** The first generation's mode; default normal. */
  legacyMode?: Mode;
  /** Keep every step's values (tests). */
  trace?: boolean;
  onProgress?: (p: { policy: BacktestPolicy; hoursDone: number; hours: number }) => void;
}

/** Every step's values, index k = the step ending at start + (k + 1) · stepS. */
export interface StepTrace {
  socPct: Float64Array;
  /** Kasi: the device's estimate; legacy: NaN. */
  estimatePct: Float64Array;
  batteryV: Float64Array;
  /** The outputs the step ran under: source 0 battery, 1 generator, 2 off. */
  source: Uint8Array;
  genRun: Uint8Array;
  shedTier: Uint8Array;
  demandW: Float64Array;
  servedW: Float64Array;
  unservedW: Float64Array;
  pvAvailableW: Float64Array;
  pvToLoadW: Float64Array;
  pvToBatteryW: Float64Array;
  pvCurtailedW: Float64Array;
  batteryToLoadW: Float64Array;
  genToLoadW: Float64Array;
  genToBatteryW: Float64Array;
  genOutW: Float64Array;
  fuelUsedL: Float64Array;
  /** Fuel in the tank after the step, before any refill. */
  fuelL: Float64Array;
}

export interface PolicyRun {
  policy: BacktestPolicy;
  metrics: BacktestMetrics;
  predictions: PredictionStats;
  records: PredictionRecord[];
  /** Kasi: how often each mode and strategy was advised. */
  modes: Record<string, number>;
  strategies: Record<string, number>;
  trace: StepTrace | null;
}

export interface BacktestResult {
  startMs: number;
  hours: number;
  stepS: number;
  runs: PolicyRun[];
}

const SOURCE_CODE = { battery: 0, generator: 1, off: 2 } as const;

function newTrace(n: number): StepTrace {
  const f = () => new Float64Array(n);
  const u = () => new Uint8Array(n);
  return {
    socPct: f(),
    estimatePct: f(),
    batteryV: f(),
    source: u(),
    genRun: u(),
    shedTier: u(),
    demandW: f(),
    servedW: f(),
    unservedW: f(),
    pvAvailableW: f(),
    pvToLoadW: f(),
    pvToBatteryW: f(),
    pvCurtailedW: f(),
    batteryToLoadW: f(),
    genToLoadW: f(),
    genToBatteryW: f(),
    genOutW: f(),
    fuelUsedL: f(),
    fuelL: f(),
  };
}

function check(site: BacktestSite, series: BacktestSeries, stepS: number, scenarios: number) {
  const bad = (what: string, value: unknown, rule: string): never => {
    throw new KasiError("INPUT_INVALID", `${what} must be ${rule}, got ${value}`);
  };
  if (!(Number.isInteger(stepS) && stepS > 0 && 3600 % stepS === 0)) {
    bad("stepS", stepS, "a whole number of seconds dividing an hour");
  }
  if (!(Number.isInteger(scenarios) && scenarios >= 1)) bad("scenarios", scenarios, "≥ 1");
  if (!(site.refuelBelowPct >= 0 && site.refuelBelowPct < 100)) {
    bad("refuelBelowPct", site.refuelBelowPct, "within 0..100");
  }
  if (series.hours < 1) bad("series.hours", series.hours, "≥ 1");
}

interface Controller {
  observe(readings: SimReadings, time: Date): SimOutputs;
  /** Plans at a whole hour; returns the policy's "hours until reserve". */
  plan(
    readings: SimReadings,
    time: Date,
    hour: number,
  ): Omit<PredictionRecord, "truthH" | "socPct">;
  estimatePct(): number;
}

function controllerFor(
  policy: BacktestPolicy,
  ctx: {
    site: BacktestSite;
    series: BacktestSeries;
    clear: Float64Array;
    params: PolicyParams;
    legacyMode: Mode;
    scenarios: number;
    modes: Record<string, number>;
    strategies: Record<string, number>;
  },
): Controller {
  const profile = ctx.site.sim.profile;
  const sky = (hour: number, time: Date) => {
    const { forecast } = persistenceSolarForecast(ctx.series, ctx.clear, {
      hour,
      location: profile,
    });
    return { forecast, weather: classifySolarForecast(forecast, { now: time, horizonH: 24 }) };
  };
  if (policy === "legacy") {
    const s = newLegacyState();
    return {
      observe: (readings) => legacyObserve(s, readings, { mode: ctx.legacyMode, profile }),
      plan: (readings, time, hour) => {
        const p = legacyPlan(s, readings, { profile, forecast: sky(hour, time).weather.forecast });
        return { time, p50H: p.batteryH, p10H: null, p90H: null };
      },
      estimatePct: () => NaN,
    };
  }
  const s = newKasiState({
    start: new Date(ctx.series.startMs),
    utcOffsetMin: ctx.series.utcOffsetMin,
  });
  return {
    observe: (readings, time) => kasiObserve(s, readings, { time, profile, params: ctx.params }),
    plan: (_readings, time, hour) => {
      const { forecast, weather } = sky(hour, time);
      const advice = kasiPlan(s, {
        time,
        profile,
        solar: forecast,
        weather,
        scenarios: ctx.scenarios,
      });
      ctx.modes[advice.mode] = (ctx.modes[advice.mode] ?? 0) + 1;
      ctx.strategies[advice.strategy] = (ctx.strategies[advice.strategy] ?? 0) + 1;
      const b = advice.batteryBandH;
      return { time, p50H: advice.predictedBatteryH, p10H: b.p10, p90H: b.p90 };
    },
    estimatePct: () => s.estimatePct,
  };
}

function runPolicy(
  policy: BacktestPolicy,
  site: BacktestSite,
  series: BacktestSeries,
  o:
    & { stepS: number; scenarios: number; legacyMode: Mode; trace: boolean; clear: Float64Array }
    & Pick<BacktestOptions, "onProgress">,
): PolicyRun {
  const { sim } = site;
  const { profile } = sim;
  const { stepS } = o;
  const params = resolvePolicyParams(site.dispatch);
  const reserve = profile.reserveSocPct;
  const critical = params.criticalSocPct ?? criticalSocPct(profile.chemistry, reserve);
  const modes: Record<string, number> = {};
  const strategies: Record<string, number> = {};
  const ctrl = controllerFor(policy, {
    site,
    series,
    clear: o.clear,
    params,
    legacyMode: o.legacyMode,
    scenarios: o.scenarios,
    modes,
    strategies,
  });
  const stepsPerHour = 3600 / stepS;
  const n = series.hours * stepsPerHour;
  const trace = o.trace ? newTrace(n) : null;
  const metrics = emptyMetrics(site.initialSocPct);
  const records: PredictionRecord[] = [];
  const at = (k: number) => new Date(series.startMs + k * stepS * 1000);
  const inputs = (hour: number) => ({
    demandW: series.loadW[hour]!,
    ghiWm2: series.ghiWm2[hour]!,
    ambientC: series.ambientC[hour]!,
  });
  let state: SimState = initialSimState(sim, {
    socPct: site.initialSocPct,
    fuelPct: site.initialFuelPct,
  });
  const idle: SimOutputs = { source: "battery", genRun: false, shedTier: 0 };
  const first = step(sim, state, { dtS: 0, now: at(0), outputs: idle, ...inputs(0) });
  let outputs = ctrl.observe(first.readings, at(0));
  const plan = (readings: SimReadings, k: number) => {
    const hour = k / stepsPerHour;
    const p = ctrl.plan(readings, at(k), hour);
    const truthH = hoursToReserve(sim, series, state, {
      fromStep: k,
      stepS,
      reserveSocPct: reserve,
    });
    records.push({ ...p, socPct: state.socPct, truthH });
  };
  plan(first.readings, 0);
  let wasRunning = false;
  for (let k = 0; k < n; k++) {
    const hour = Math.floor(k / stepsPerHour);
    const r = step(sim, state, { dtS: stepS, now: at(k + 1), outputs, ...inputs(hour) });
    const running = r.flows.fuelUsedL > 0;
    addStep(metrics, r.flows, {
      dtS: stepS,
      shedTier: outputs.shedTier,
      running,
      wasRunning,
      reserveSocPct: reserve,
      criticalSocPct: critical,
    });
    wasRunning = running;
    state = r.state;
    if (trace) {
      const f = r.flows;
      trace.socPct[k] = f.socEndPct;
      trace.batteryV[k] = r.readings.batteryV;
      trace.source[k] = SOURCE_CODE[outputs.source];
      trace.genRun[k] = outputs.genRun ? 1 : 0;
      trace.shedTier[k] = outputs.shedTier;
      trace.demandW[k] = f.demandW;
      trace.servedW[k] = f.servedW;
      trace.unservedW[k] = f.unservedW;
      trace.pvAvailableW[k] = f.pvAvailableW;
      trace.pvToLoadW[k] = f.pvToLoadW;
      trace.pvToBatteryW[k] = f.pvToBatteryW;
      trace.pvCurtailedW[k] = f.pvCurtailedW;
      trace.batteryToLoadW[k] = f.batteryToLoadW;
      trace.genToLoadW[k] = f.genToLoadW;
      trace.genToBatteryW[k] = f.genToBatteryW;
      trace.genOutW[k] = f.genOutW;
      trace.fuelUsedL[k] = f.fuelUsedL;
      trace.fuelL[k] = state.fuelL;
    }
    if (profile.tankL > 0 && state.fuelL < site.refuelBelowPct / 100 * profile.tankL) {
      metrics.refuels += 1;
      metrics.refuelL += profile.tankL - state.fuelL;
      state = { ...state, fuelL: profile.tankL };
    }
    outputs = ctrl.observe(r.readings, at(k + 1));
    if (trace) trace.estimatePct[k] = ctrl.estimatePct();
    if ((k + 1) % stepsPerHour === 0) {
      if (k + 1 < n) plan(r.readings, k + 1);
      const hoursDone = (k + 1) / stepsPerHour;
      if (hoursDone % 24 === 0) o.onProgress?.({ policy, hoursDone, hours: series.hours });
    }
  }
  return {
    policy,
    metrics,
    predictions: predictionStats(records, { reserveSocPct: reserve }),
    records,
    modes,
    strategies,
    trace,
  };
}

export function runBacktest(
  site: BacktestSite,
  series: BacktestSeries,
  options: BacktestOptions = {},
): BacktestResult {
  const stepS = options.stepS ?? 300;
  const scenarios = options.scenarios ?? OUTLOOK_SCENARIOS;
  check(site, series, stepS, scenarios);
  const clear = clearSkyHours(series, site.sim.profile);
  const runs = (options.policies ?? BACKTEST_POLICIES).map((policy) =>
    runPolicy(policy, site, series, {
      stepS,
      scenarios,
      legacyMode: options.legacyMode ?? "normal",
      trace: options.trace ?? false,
      clear,
      onProgress: options.onProgress,
    })
  );
  return { startMs: series.startMs, hours: series.hours, stepS, runs };
}
