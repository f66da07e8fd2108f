/**
 * A site's outlook: the forward runtime forecast (runtime_forecast.ts) for its battery, fuel,
 * load and solar under a dispatch, plus when the sun is next expected to carry the load. The
 * backend plans with it and the backtest scores it. Pure: time and the PRNG state come in.
 */
import { DEFAULT_FUEL_CURVE, type FuelCurve } from "./generator.ts";
import type { LoadPoint } from "./load_forecast.ts";
import { DEFAULT_POLICY_PARAMS } from "./policy.ts";
import {
  DEFAULT_STEP_S,
  forecastRuntime,
  type PvForecast,
  type RuntimeForecast,
} from "./runtime_forecast.ts";
import { DEFAULT_CHARGE_C_RATE } from "./simulator.ts";
import type { SiteProfile } from "./site_profile.ts";
import { pvForecastW, type SolarForecast, type SolarSource } from "./solar_forecast.ts";

/**
 * 100 scenarios put P10 and P90 within about ±3 percentile points of their true value (the
 * binomial standard error √(0.1 · 0.9 / 100) = 0.03) at half the cost of the forecast's default
 * 200: the backend runs one per site per plan.
 */
export const OUTLOOK_SCENARIOS = 100;
/** How far ahead the sun is looked for to carry the load: the next daylight, within a day. */
export const PV_COVER_LOOKAHEAD_H = 24;
/** PV must meet the load this long for the sun to count as carrying it (4 steps of 15 min). */
export const PV_COVER_HOLD_STEPS = 4;
/** z of the 10th percentile of a normal distribution: the PV-cover time uses the P10 sun. */
const Z_P10 = 1.2816;
/** Charge efficiency of lead-acid and LiFePO4 banks alike (soc_params.ts, Victron's default). */
export const OUTLOOK_CHARGE_EFFICIENCY = 0.95;

/**
 * 1-σ relative error of a day's PV energy, per forecast source. Clear sky × climatology: 0.25,
 * the relative standard deviation of the daily clear-sky index measured at Bauchi over a year
 * (mean 0.774, σ 0.193; ../shared/data/nigeria-bauchi-esmap-ghi-hourly.csv against the Haurwitz
 * model of solar.ts); yesterday's index predicts today's little better there (RMSE 0.238).
 * Weather-model forecasts do better than either (Perez et al., "Comparison of numerical weather
 * prediction solar irradiance forecasts in the US, Canada and Europe", Solar Energy 94, 2013);
 * 0.2 is our assumption for a day-ahead one until sites have history to measure it on.
 */
export const PV_REL_UNCERTAINTY: Readonly<Record<SolarSource, number>> = {
  "open-meteo": 0.2,
  "openweathermap": 0.2,
  "clear-sky-climatology": 0.25,
};

/** The PV forecast a site's solar forecast gives the outlook; null for a site without PV. */
export function pvForecastFor(
  solar: SolarForecast,
  profile: Pick<SiteProfile, "pvKwp">,
): PvForecast | null {
  if (profile.pvKwp <= 0) return null;
  return {
    powerW: pvForecastW(solar, { kwp: profile.pvKwp }),
    relUncertainty: PV_REL_UNCERTAINTY[solar.source],
  };
}

export interface OutlookInput {
  profile: SiteProfile;
  now: Date;
  socPct: number;
  /** Half-width of the SoC band, percentage points. */
  socUncertaintyPct: number;
  /** Null when the site has no fuel sensor. */
  fuelPct: number | null;
  load: (time: Date) => LoadPoint;
  /** Null: no solar is counted (no PV, or no location to forecast it for). */
  pv: PvForecast | null;
  /**
   * The PV forecast is the offline fallback (clear sky × climatology): good enough for hours
   * on average, not for telling a device when the sun will carry its load.
   */
  pvIsFallback?: boolean;
  /** The generator start and stop points the device will use. */
  thresholds: { genStartSocPct: number; genStopSocPct: number };
  fuelCurve?: FuelCurve;
  scenarios?: number;
  rngState?: number;
}

export interface Outlook {
  forecast: RuntimeForecast;
  /**
   * The first 15-minute instant within PV_COVER_LOOKAHEAD_H from which the pessimistic (P10) PV
   * meets the expected load for an hour (now, when it already does); null when it does not
   * within a day, or when the PV forecast is only the fallback.
   */
  pvCoversLoadAt: Date | null;
}

export function siteOutlook(input: OutlookInput): Outlook {
  const { profile, now } = input;
  const pv = profile.pvKwp > 0 ? input.pv : null;
  const forecast = forecastRuntime({
    profile,
    start: now,
    socPct: input.socPct,
    socUncertaintyPct: input.socUncertaintyPct,
    fuelL: input.fuelPct === null ? null : input.fuelPct / 100 * profile.tankL,
    load: input.load,
    pv,
    dispatch: {
      genStartSocPct: input.thresholds.genStartSocPct,
      genStopSocPct: input.thresholds.genStopSocPct,
      fuelReservePct: DEFAULT_POLICY_PARAMS.fuelReservePct,
      chargeEfficiency: OUTLOOK_CHARGE_EFFICIENCY,
      chargeCRate: DEFAULT_CHARGE_C_RATE,
      generatorAvailable: profile.generatorRatedKw > 0,
    },
  }, {
    scenarios: input.scenarios ?? OUTLOOK_SCENARIOS,
    rngState: input.rngState,
    fuelCurve: input.fuelCurve ?? DEFAULT_FUEL_CURVE,
  });
  const pvCoversLoadAt = pv && !input.pvIsFallback ? firstPvCover(pv, input.load, now) : null;
  return { forecast, pvCoversLoadAt };
}

function firstPvCover(
  pv: PvForecast,
  load: (time: Date) => LoadPoint,
  now: Date,
): Date | null {
  const steps = PV_COVER_LOOKAHEAD_H * 3600 / DEFAULT_STEP_S;
  const p10 = Math.max(0, 1 - Z_P10 * pv.relUncertainty);
  let run = 0;
  for (let i = 0; i < steps + PV_COVER_HOLD_STEPS; i++) {
    const t = new Date(now.getTime() + i * DEFAULT_STEP_S * 1000);
    run = pv.powerW(t) * p10 >= load(t).meanW ? run + 1 : 0;
    if (run === PV_COVER_HOLD_STEPS) {
      return new Date(t.getTime() - (PV_COVER_HOLD_STEPS - 1) * DEFAULT_STEP_S * 1000);
    }
  }
  return null;
}
