/**
 * Runtime prediction as a forward simulation: from the battery's state of charge (with its
 * uncertainty), the fuel in the tank, a load forecast, a PV forecast and the dispatch in force,
 * step the site through the next `horizonH` hours (default 48 h in 15-minute steps) and report
 * - battery hours: until the reserve with no generator at all (what an operator means by it);
 * - tank hours: until the generator can no longer run on the fuel left, under the dispatch
 *   (the fuel reached its reserve while running, or a start was refused because the fuel was
 *   under the restart level);
 * - the next outage: the battery at its critical SoC while the generator cannot help (no fuel,
 *   none fitted, not available);
 * - generator hours and litres within the horizon;
 * each as a P10–P50–P90 band over seeded Monte Carlo scenarios.
 *
 * Uncertainty, per scenario:
 * - initial SoC uniform within ± its half-width: the estimator gives a bound, not a
 *   distribution, and uniform is the maximum-entropy choice for a bound;
 * - load = mean + spread · z(t) with z standard normal, made of a part fixed for the scenario
 *   (weight LOAD_ERROR_SHARED) and an AR(1) part with time constant LOAD_ERROR_TAU_H. Both were
 *   fitted to the day-ahead errors of load_forecast.ts on the Ouessant 2016 load, whose lag
 *   autocorrelation is 0.90 at 1 h, 0.74 at 3 h, 0.57 at 6 h, 0.50 at 12 h and 0.57 at 24 h: a
 *   persistent level error plus a fast-fading one (0.45 + 0.55 · e^(−lag / 5 h)). Drawing
 *   independent errors per step would average them away and shrink the band falsely;
 * - PV = forecast · max(0, 1 + rel · ε_day), one ε per scenario and 24 h of horizon: the relative
 *   uncertainty is read as the 1-σ error of a day's PV energy.
 * With no uncertainty at all one scenario is run and the band collapses to a point.
 *
 * Beyond the horizon: an event not reached within it is extrapolated by simulating on at the
 * scenario's mean load and mean PV over the horizon (its mean net draw, with the dispatch still
 * cycling the generator), up to MAX_PREDICTION_H (168 h); an event not reached by then is
 * reported as MAX_PREDICTION_H, which reads "a week or more" as in prediction.ts. `extrapolated`
 * tells which medians lie past the horizon: those are weaker than the simulated ones, but an
 * operator still wants "about 3 days" rather than "more than 48 h".
 */
import { KasiError } from "./errors.ts";
import { DEFAULT_FUEL_CURVE, type FuelCurve, MIN_LOAD_RATIO } from "./generator.ts";
import type { LoadPoint } from "./load_forecast.ts";
import { criticalSocPct, DEFAULT_POLICY_PARAMS } from "./policy.ts";
import { MAX_PREDICTION_H } from "./prediction.ts";
import {
  type BatteryRun,
  type DispatchRun,
  type SimParams,
  stepBattery,
  stepDispatch,
  type StepInput,
} from "./runtime_sim.ts";
import { nextRandom } from "./simulator.ts";
import type { SiteProfile } from "./site_profile.ts";

/** Share of the load error's variance that holds for the whole scenario (see above). */
export const LOAD_ERROR_SHARED = 0.45;
/** Time constant of the fast part of the load error (see above). */
export const LOAD_ERROR_TAU_H = 5;
/** P10 and P90 from 200 scenarios have a sampling error of about ±2 percentile points. */
export const DEFAULT_SCENARIOS = 200;
export const DEFAULT_HORIZON_H = 48;
export const DEFAULT_STEP_S = 900;
/**
 * Step past the horizon. It stays exact while a step crosses no more thresholds than
 * runtime_sim.ts allows (16): a start/stop cycle crosses two, so cycles down to a quarter of an
 * hour — a 5-point start/stop gap charged at C/5 takes longer — are followed exactly.
 */
const TAIL_STEP_H = 2;

export interface DispatchSettings {
  genStartSocPct: number;
  genStopSocPct: number;
  /** The generator stops at this fuel level (% of tank). */
  fuelReservePct: number;
  /** A stopped generator restarts only above reserve + this. Default: the device policy's. */
  fuelRestartMarginPct?: number;
  /** Fraction of the energy put into the battery that it stores, 0..1. */
  chargeEfficiency: number;
  /** Charger (and battery acceptance) limit, in capacity per hour. */
  chargeCRate: number;
  generatorAvailable: boolean;
  /** Default: the device policy's critical SoC for the chemistry and reserve. */
  criticalSocPct?: number;
}

export interface PvForecast {
  powerW: (time: Date) => number;
  /** 1-σ relative error of a day's PV energy, e.g. 0.3. */
  relUncertainty: number;
}

export interface RuntimeForecastInput {
  profile: Pick<
    SiteProfile,
    "chemistry" | "capacityWh" | "reserveSocPct" | "tankL" | "generatorRatedKw" | "pvKwp"
  >;
  start: Date;
  socPct: number;
  /** Half-width of the SoC's uncertainty, percentage points. */
  socUncertaintyPct: number;
  /** Null when the site has no fuel sensor: the generator is then assumed to have fuel. */
  fuelL: number | null;
  /** Load expected at a time, e.g. `(t) => forecastLoad(state, t)` with a null check. */
  load: (time: Date) => LoadPoint;
  /** Null, or a site without PV (pvKwp 0): no PV. */
  pv: PvForecast | null;
  dispatch: DispatchSettings;
}

export interface RuntimeForecastOptions {
  horizonH?: number;
  stepS?: number;
  scenarios?: number;
  /** mulberry32 state (simulator.ts `nextRandom`); the state after the run is returned. */
  rngState?: number;
  fuelCurve?: FuelCurve;
  minLoadRatio?: number;
}

/** 10th, 50th and 90th percentiles over the scenarios. */
export interface Band {
  p10: number;
  p50: number;
  p90: number;
}

export interface RuntimeForecast {
  start: Date;
  horizonH: number;
  stepS: number;
  /** 1 when nothing was uncertain. */
  scenarios: number;
  /** Hours to the reserve without the generator; MAX_PREDICTION_H = a week or more. */
  batteryH: Band;
  /** Hours until the fuel can no longer run the generator; null without sensor or generator. */
  tankH: Band | null;
  /** Hours until the next outage; MAX_PREDICTION_H = none within a week. */
  outageH: Band;
  /** The same as times; null when none within a week. P10 is the earliest (worst) case. */
  outageAt: { p10: Date | null; p50: Date | null; p90: Date | null };
  /** Within the horizon. */
  generatorH: Band;
  fuelUsedL: Band;
  /**
   * Medians beyond the horizon, extrapolated at the horizon's mean net draw (a median at the
   * cap, "none within a week", is beyond it too).
   */
  extrapolated: { batteryH: boolean; tankH: boolean; outageH: boolean };
  /** Mean forecast load and PV over the horizon. */
  meanLoadW: number;
  meanPvW: number;
  rngState: number;
}

function invalid(field: string, value: unknown, why: string): never {
  throw new KasiError("INPUT_INVALID", `${field} ${why}, got ${value}`);
}

function within(field: string, value: number, lo: number, hi: number): void {
  if (!(Number.isFinite(value) && value >= lo && value <= hi)) {
    invalid(field, value, `must be within ${lo}..${hi}`);
  }
}

function simParams(input: RuntimeForecastInput, options: RuntimeForecastOptions): SimParams {
  const { profile, dispatch } = input;
  const tankL = profile.tankL;
  const critical = dispatch.criticalSocPct ??
    criticalSocPct(profile.chemistry, profile.reserveSocPct);
  within("dispatch.criticalSocPct", critical, 0, 100);
  const restart = dispatch.fuelRestartMarginPct ?? DEFAULT_POLICY_PARAMS.fuelRestartMarginPct;
  within("dispatch.fuelRestartMarginPct", restart, 0, 100);
  const available = dispatch.generatorAvailable && profile.generatorRatedKw > 0;
  return {
    capacityWh: profile.capacityWh,
    ratedW: available ? profile.generatorRatedKw * 1000 : 0,
    chargeLimitW: dispatch.chargeCRate * profile.capacityWh,
    chargeEfficiency: dispatch.chargeEfficiency,
    reserveSocPct: profile.reserveSocPct,
    criticalSocPct: critical,
    startSocPct: dispatch.genStartSocPct,
    stopSocPct: dispatch.genStopSocPct,
    fuelReserveL: dispatch.fuelReservePct / 100 * tankL,
    fuelRestartL: (dispatch.fuelReservePct + restart) / 100 * tankL,
    curve: { curve: options.fuelCurve ?? DEFAULT_FUEL_CURVE },
    minLoad: { minLoadRatio: options.minLoadRatio ?? MIN_LOAD_RATIO },
  };
}

function validate(input: RuntimeForecastInput, horizonH: number, stepS: number, n: number): void {
  const { profile, dispatch } = input;
  if (!Number.isFinite(input.start.getTime())) {
    invalid("start", input.start, "must be a valid time");
  }
  within("socPct", input.socPct, 0, 100);
  within("socUncertaintyPct", input.socUncertaintyPct, 0, 100);
  within("profile.capacityWh", profile.capacityWh, Number.MIN_VALUE, Infinity);
  within("profile.reserveSocPct", profile.reserveSocPct, 0, 100);
  if (input.fuelL !== null) within("fuelL", input.fuelL, 0, profile.tankL);
  within("dispatch.genStartSocPct", dispatch.genStartSocPct, 0, 100);
  within("dispatch.genStopSocPct", dispatch.genStopSocPct, 0, 100);
  if (dispatch.genStopSocPct <= dispatch.genStartSocPct) {
    invalid(
      "dispatch.genStopSocPct",
      dispatch.genStopSocPct,
      `must be above genStartSocPct ${dispatch.genStartSocPct}`,
    );
  }
  within("dispatch.fuelReservePct", dispatch.fuelReservePct, 0, 100);
  within("dispatch.chargeEfficiency", dispatch.chargeEfficiency, Number.MIN_VALUE, 1);
  within("dispatch.chargeCRate", dispatch.chargeCRate, 0, 10);
  if (input.pv) within("pv.relUncertainty", input.pv.relUncertainty, 0, 10);
  within("horizonH", horizonH, Number.MIN_VALUE, MAX_PREDICTION_H);
  if (!(Number.isInteger(stepS) && stepS > 0 && (horizonH * 3600) % stepS === 0)) {
    invalid("stepS", stepS, `must be a whole number of seconds dividing the ${horizonH} h horizon`);
  }
  if (!(Number.isInteger(n) && n >= 1 && n <= 100_000)) {
    invalid("scenarios", n, "must be 1..100000");
  }
}

/** Linear-interpolated quantile of sorted values (Hyndman & Fan type 7, as numpy's default). */
function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function band(values: Float64Array): Band {
  const sorted = values.slice().sort();
  return { p10: quantile(sorted, 0.1), p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9) };
}

/** Standard normal draws by Box–Muller from the passed-in PRNG; keeps the spare draw. */
class Normal {
  state: number;
  #spare: number | null = null;
  constructor(state: number) {
    this.state = state;
  }
  uniform(): number {
    const r = nextRandom(this.state);
    this.state = r.state;
    return r.value;
  }
  next(): number {
    if (this.#spare !== null) {
      const z = this.#spare;
      this.#spare = null;
      return z;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log is finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.#spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }
}

export function forecastRuntime(
  input: RuntimeForecastInput,
  options: RuntimeForecastOptions = {},
): RuntimeForecast {
  const horizonH = options.horizonH ?? DEFAULT_HORIZON_H;
  const stepS = options.stepS ?? DEFAULT_STEP_S;
  const requested = options.scenarios ?? DEFAULT_SCENARIOS;
  validate(input, horizonH, stepS, requested);
  const p = simParams(input, options);
  const { profile } = input;
  const steps = horizonH * 3600 / stepS;
  const dtH = stepS / 3600;
  const startMs = input.start.getTime();

  // Forecasts are read once, at each step's middle, and shared by every scenario.
  const meanL = new Float64Array(steps), spreadL = new Float64Array(steps);
  const pvW = new Float64Array(steps);
  const withPv = input.pv !== null && profile.pvKwp > 0;
  let certain = input.socUncertaintyPct === 0 && (!withPv || input.pv!.relUncertainty === 0);
  for (let k = 0; k < steps; k++) {
    const t = new Date(startMs + (k + 0.5) * stepS * 1000);
    const point = input.load(t);
    if (!(Number.isFinite(point.meanW) && point.meanW >= 0)) {
      invalid(`load(${t.toISOString()}).meanW`, point.meanW, "must be ≥ 0 W");
    }
    if (!(Number.isFinite(point.spreadW) && point.spreadW >= 0)) {
      invalid(`load(${t.toISOString()}).spreadW`, point.spreadW, "must be ≥ 0 W");
    }
    meanL[k] = point.meanW;
    spreadL[k] = point.spreadW;
    if (point.spreadW > 0) certain = false;
    if (withPv) {
      const w = input.pv!.powerW(t);
      if (!Number.isFinite(w)) invalid(`pv.powerW(${t.toISOString()})`, w, "must be finite");
      pvW[k] = Math.max(0, w);
    }
  }
  const n = certain ? 1 : requested;
  const rng = new Normal(options.rngState ?? 1);
  const rel = withPv ? input.pv!.relUncertainty : 0;
  const phi = Math.exp(-dtH / LOAD_ERROR_TAU_H);
  const innovation = Math.sqrt(1 - phi * phi);
  const shared = Math.sqrt(LOAD_ERROR_SHARED), fast = Math.sqrt(1 - LOAD_ERROR_SHARED);
  const days = Math.ceil(horizonH / 24);
  const pvFactor = new Float64Array(days);
  const tracksTank = input.fuelL !== null && p.ratedW > 0;

  const batteryH = new Float64Array(n), tankH = new Float64Array(n), outageH = new Float64Array(n);
  const genH = new Float64Array(n), fuelUsedL = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const soc0 = Math.min(
      100,
      Math.max(0, input.socPct + input.socUncertaintyPct * (2 * rng.uniform() - 1)),
    );
    const levelZ = certain ? 0 : rng.next();
    let fastZ = certain ? 0 : rng.next();
    for (let d = 0; d < days; d++) pvFactor[d] = rel > 0 ? Math.max(0, 1 + rel * rng.next()) : 1;
    const bat: BatteryRun = { socPct: soc0, reserveH: soc0 <= p.reserveSocPct ? 0 : null };
    const run: DispatchRun = {
      socPct: soc0,
      fuelL: input.fuelL,
      genOn: false,
      tankH: input.fuelL !== null && input.fuelL <= p.fuelReserveL ? 0 : null,
      outageH: null,
      genH: 0,
      fuelUsedL: 0,
    };
    let sumL = 0, sumP = 0;
    const step: StepInput = { loadW: 0, pvW: 0, t0H: 0, dtH, record: true };
    for (let k = 0; k < steps; k++) {
      const z = shared * levelZ + fast * fastZ;
      if (!certain) fastZ = phi * fastZ + innovation * rng.next();
      const loadW = Math.max(0, meanL[k]! + spreadL[k]! * z);
      const solarW = pvW[k]! * pvFactor[Math.floor(k * dtH / 24)]!;
      sumL += loadW;
      sumP += solarW;
      step.loadW = loadW;
      step.pvW = solarW;
      step.t0H = k * dtH;
      stepBattery(p, bat, step);
      stepDispatch(p, run, step);
    }
    // Past the horizon: on at the scenario's mean net draw, up to a week. The inputs are
    // constant there, so long steps lose nothing: stepDispatch cuts them at every threshold.
    const tail = { loadW: sumL / steps, pvW: sumP / steps, t0H: horizonH, dtH: 0, record: false };
    for (
      ;
      tail.t0H < MAX_PREDICTION_H && (bat.reserveH === null || run.outageH === null);
      tail.t0H += TAIL_STEP_H
    ) {
      tail.dtH = Math.min(TAIL_STEP_H, MAX_PREDICTION_H - tail.t0H);
      stepBattery(p, bat, tail);
      stepDispatch(p, run, tail);
    }
    const cap = (h: number | null) => Math.min(h ?? MAX_PREDICTION_H, MAX_PREDICTION_H);
    batteryH[i] = cap(bat.reserveH);
    tankH[i] = cap(run.tankH);
    outageH[i] = cap(run.outageH);
    genH[i] = run.genH;
    fuelUsedL[i] = run.fuelUsedL;
  }

  const outage = band(outageH);
  const at = (h: number) =>
    h >= MAX_PREDICTION_H ? null : new Date(startMs + Math.round(h * 3_600_000));
  const battery = band(batteryH);
  const tank = tracksTank ? band(tankH) : null;
  let meanLoadW = 0, meanPvW = 0;
  for (let k = 0; k < steps; k++) (meanLoadW += meanL[k]!, meanPvW += pvW[k]!);
  return {
    start: input.start,
    horizonH,
    stepS,
    scenarios: n,
    batteryH: battery,
    tankH: tank,
    outageH: outage,
    outageAt: { p10: at(outage.p10), p50: at(outage.p50), p90: at(outage.p90) },
    generatorH: band(genH),
    fuelUsedL: band(fuelUsedL),
    extrapolated: {
      batteryH: battery.p50 > horizonH,
      tankH: tank !== null && tank.p50 > horizonH,
      outageH: outage.p50 > horizonH,
    },
    meanLoadW: meanLoadW / steps,
    meanPvW: meanPvW / steps,
    rngState: rng.state,
  };
}
