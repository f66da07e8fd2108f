/**
 * What "hours until the reserve" actually was at a moment of a backtest: from the TRUE simulated
 * state, facing the ACTUAL load and PV of the series that follow, with no generator, the time the
 * battery takes to fall to the reserve — a counterfactual replay through the same physics
 * (simulator.ts) at the same step, the crossing interpolated within its step. Capped at
 * MAX_PREDICTION_H (168 h) like the predictions it scores; null when the series ends first (the
 * truth is then unknown and the prediction is not scored). Pure.
 */
import type { BacktestSeries } from "./backtest_series.ts";
import { MAX_PREDICTION_H } from "./prediction.ts";
import { type SimOutputs, type SimSite, type SimState, step } from "./simulator.ts";

const ON_BATTERY: SimOutputs = { source: "battery", genRun: false, shedTier: 0 };

export interface TruthOptions {
  /** Steps of the backtest already done: the replay starts at the end of step `fromStep − 1`. */
  fromStep: number;
  stepS: number;
  reserveSocPct: number;
}

export function hoursToReserve(
  site: SimSite,
  series: BacktestSeries,
  state: SimState,
  options: TruthOptions,
): number | null {
  const { fromStep, stepS, reserveSocPct } = options;
  if (state.socPct <= reserveSocPct) return 0;
  const maxSteps = Math.ceil(MAX_PREDICTION_H * 3600 / stepS);
  let s = state;
  for (let j = 0; j < maxSteps; j++) {
    const k = fromStep + j;
    const hour = Math.floor(k * stepS / 3600);
    if (hour >= series.hours) return null;
    const r = step(site, s, {
      dtS: stepS,
      now: new Date(series.startMs + (k + 1) * stepS * 1000),
      outputs: ON_BATTERY,
      demandW: series.loadW[hour]!,
      ghiWm2: series.ghiWm2[hour]!,
      ambientC: series.ambientC[hour]!,
    });
    if (r.state.socPct <= reserveSocPct) {
      const before = s.socPct, after = r.state.socPct;
      const within = before === after ? 1 : (before - reserveSocPct) / (before - after);
      return Math.min(MAX_PREDICTION_H, (j + within) * stepS / 3600);
    }
    s = r.state;
  }
  return MAX_PREDICTION_H;
}
