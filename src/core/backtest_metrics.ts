/**
 * The figures a backtest reports per policy, accumulated step by step from the physics' energy
 * flows (simulator.ts `SimFlows`), and the scoring of "hours until reserve" predictions against
 * the counterfactual truth (backtest_truth.ts). Pure.
 */
import type { SimFlows } from "./simulator.ts";

export interface BacktestMetrics {
  hours: number;
  demandKwh: number;
  servedKwh: number;
  /** Demand not served, shed load included. */
  unservedKwh: number;
  /** Hours with the bus dead (shutdown, empty battery, a generator source not running). */
  outageH: number;
  /** Hours with loads shed on a live bus. */
  shedH: number;
  fuelL: number;
  refuels: number;
  refuelL: number;
  /** Hours the engine ran (warm-up and cool-down included). */
  generatorH: number;
  generatorStarts: number;
  generatorKwh: number;
  generatorToBatteryKwh: number;
  pvAvailableKwh: number;
  pvUsedKwh: number;
  pvCurtailedKwh: number;
  batteryToLoadKwh: number;
  /** Sum of the SoC's falls / 100: discharge throughput in rated capacities. */
  equivalentFullCycles: number;
  hoursBelowReserve: number;
  hoursBelow30: number;
  hoursBelowCritical: number;
  minSocPct: number;
  meanSocPct: number;
}

export function emptyMetrics(initialSocPct: number): BacktestMetrics {
  return {
    hours: 0,
    demandKwh: 0,
    servedKwh: 0,
    unservedKwh: 0,
    outageH: 0,
    shedH: 0,
    fuelL: 0,
    refuels: 0,
    refuelL: 0,
    generatorH: 0,
    generatorStarts: 0,
    generatorKwh: 0,
    generatorToBatteryKwh: 0,
    pvAvailableKwh: 0,
    pvUsedKwh: 0,
    pvCurtailedKwh: 0,
    batteryToLoadKwh: 0,
    equivalentFullCycles: 0,
    hoursBelowReserve: 0,
    hoursBelow30: 0,
    hoursBelowCritical: 0,
    minSocPct: initialSocPct,
    meanSocPct: 0,
  };
}

/** An unserved power this small is rounding, not an outage. */
const EPS_W = 1e-6;

/** Adds one step; `running` / `wasRunning`: the engine burned fuel in this / the previous step. */
export function addStep(
  m: BacktestMetrics,
  flows: SimFlows,
  o: {
    dtS: number;
    shedTier: number;
    running: boolean;
    wasRunning: boolean;
    reserveSocPct: number;
    criticalSocPct: number;
  },
): void {
  const h = o.dtS / 3600;
  const kwh = (w: number) => w * h / 1000;
  m.meanSocPct = (m.meanSocPct * m.hours + flows.socEndPct * h) / (m.hours + h);
  m.hours += h;
  m.demandKwh += kwh(flows.demandW);
  m.servedKwh += kwh(flows.servedW);
  m.unservedKwh += kwh(flows.unservedW);
  if (flows.demandW > EPS_W && flows.servedW <= EPS_W) m.outageH += h;
  else if (o.shedTier > 0 && flows.unservedW > EPS_W) m.shedH += h;
  m.fuelL += flows.fuelUsedL;
  if (o.running) m.generatorH += h;
  if (o.running && !o.wasRunning) m.generatorStarts += 1;
  m.generatorKwh += kwh(flows.genOutW);
  m.generatorToBatteryKwh += kwh(flows.genToBatteryW);
  m.pvAvailableKwh += kwh(flows.pvAvailableW);
  m.pvUsedKwh += kwh(flows.pvToLoadW + flows.pvToBatteryW);
  m.pvCurtailedKwh += kwh(flows.pvCurtailedW);
  m.batteryToLoadKwh += kwh(flows.batteryToLoadW);
  m.equivalentFullCycles += Math.max(0, flows.socStartPct - flows.socEndPct) / 100;
  const soc = flows.socEndPct;
  if (soc < o.reserveSocPct) m.hoursBelowReserve += h;
  if (soc < 30) m.hoursBelow30 += h;
  if (soc < o.criticalSocPct) m.hoursBelowCritical += h;
  m.minSocPct = Math.min(m.minSocPct, soc);
}

/** One "hours until reserve" prediction made at a plan, and what happened. */
export interface PredictionRecord {
  time: Date;
  /** True SoC at the plan. */
  socPct: number;
  p50H: number;
  /** The band, when the prediction has one. */
  p10H: number | null;
  p90H: number | null;
  /** The counterfactual truth; null when the series ended first. */
  truthH: number | null;
}

export interface ErrorStats {
  scored: number;
  maeH: number;
  /** 90th percentile of |predicted − truth|. */
  p90AbsErrorH: number;
  /** Mean of predicted − truth: > 0 is optimistic. */
  biasH: number;
  /** Share of the truths inside [P10, P90]; null without a band. */
  coverage: number | null;
}

export interface PredictionStats {
  plans: number;
  /** Plans whose truth the series could not tell (it ended first). */
  censored: number;
  all: ErrorStats;
  /** Only the plans with the true SoC above the reserve (a battery at reserve predicts 0 h). */
  aboveReserve: ErrorStats;
}

/** Linear-interpolated quantile of sorted values (type 7). */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function errorStats(records: PredictionRecord[]): ErrorStats {
  const abs: number[] = [];
  let sum = 0, bias = 0, inside = 0, banded = 0;
  for (const r of records) {
    const e = r.p50H - r.truthH!;
    abs.push(Math.abs(e));
    sum += Math.abs(e);
    bias += e;
    if (r.p10H !== null && r.p90H !== null) {
      banded++;
      if (r.truthH! >= r.p10H && r.truthH! <= r.p90H) inside++;
    }
  }
  abs.sort((a, b) => a - b);
  const n = records.length;
  return {
    scored: n,
    maeH: n === 0 ? NaN : sum / n,
    p90AbsErrorH: quantile(abs, 0.9),
    biasH: n === 0 ? NaN : bias / n,
    coverage: banded === 0 ? null : inside / banded,
  };
}

export function predictionStats(
  records: PredictionRecord[],
  options: { reserveSocPct: number },
): PredictionStats {
  const scored = records.filter((r) => r.truthH !== null);
  return {
    plans: records.length,
    censored: records.length - scored.length,
    all: errorStats(scored),
    aboveReserve: errorStats(scored.filter((r) => r.socPct > options.reserveSocPct)),
  };
}
