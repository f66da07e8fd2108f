/**
 * The first generation's policy in a backtest, as it ran: every step the device compares the
 * battery's (loaded) voltage with its mode's thresholds (legacy_policy.ts `legacyDecide`), and
 * the backend's hourly command carries the simple predictions (prediction.ts `predictRuntime`:
 * SoC read from that voltage, the present load, no PV — its sites had none) and the coarse
 * forecast for the shutdown rule. No load shedding, no delays, no minimum run. Pure.
 */
import type { Forecast, Mode } from "./command.ts";
import { legacyDecide } from "./legacy_policy.ts";
import { type Prediction, predictRuntime } from "./prediction.ts";
import type { SimOutputs, SimReadings } from "./simulator.ts";
import type { SiteProfile } from "./site_profile.ts";
import type { Source } from "./telemetry.ts";

export interface LegacyState {
  source: Source;
  forecast: Forecast;
  /** Until the first command: nothing to shut down on. */
  predictedBatteryH: number;
  predictedDieselH: number;
}

export function newLegacyState(): LegacyState {
  return {
    source: "battery",
    forecast: "unknown",
    predictedBatteryH: Infinity,
    predictedDieselH: Infinity,
  };
}

export function legacyObserve(
  s: LegacyState,
  readings: SimReadings,
  o: { mode: Mode; profile: SiteProfile },
): SimOutputs {
  const d = legacyDecide({
    batteryV: readings.batteryV,
    source: s.source,
    mode: o.mode,
    forecast: s.forecast,
    predictedBatteryH: s.predictedBatteryH,
    predictedDieselH: s.predictedDieselH,
  }, { nominalV: o.profile.nominalV });
  s.source = d.source;
  return { source: d.source, genRun: d.genOn, shedTier: 0 };
}

/** The first-generation backend's hourly prediction, sent with the forecast. */
export function legacyPlan(
  s: LegacyState,
  readings: SimReadings,
  o: { profile: SiteProfile; forecast: Forecast },
): Prediction {
  const p = predictRuntime(o.profile, {
    socPct: null,
    batteryV: readings.batteryV,
    loadW: readings.loadW,
    pvW: null,
    fuelPct: readings.fuelPct,
  });
  s.predictedBatteryH = p.batteryH;
  s.predictedDieselH = p.dieselH;
  s.forecast = o.forecast;
  return p;
}
