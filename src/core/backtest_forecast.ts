/**
 * The solar forecast a site could really have had at each hour of a backtest, made only from
 * what was measured before it: persistence of the clear-sky index. The measured irradiance of
 * the last 24 hours over the Haurwitz clear sky of the same hours gives an index; the next 48
 * hours are forecast as clear sky × that index, at the air temperature measured at the same
 * hour the day before. Before a day of history exists the site has only the backend's fallback,
 * clear sky × 0.75, flagged as such. Pure.
 *
 * Why persistence: it is the baseline every solar forecast is measured against, and it needs
 * no weather service a replay of 2021 could no longer ask. It is weak — outlook.ts measured at
 * Bauchi that yesterday's index predicts today's with an RMSE of 0.238, little better than the
 * climatology's 0.25 relative spread — so the backtest gives it that spread (PV_REL_UNCERTAINTY
 * of the clear-sky climatology) and a real weather model can only do better.
 */
import type { BacktestSeries } from "./backtest_series.ts";
import { clearSkyMeanGhiWm2 } from "./solar.ts";
import {
  SOLAR_FORECAST_HOURS,
  type SolarForecast,
  type SolarHour,
  TYPICAL_CLEAR_SKY_INDEX,
} from "./solar_forecast.ts";

const HOUR_MS = 3_600_000;
/** Hours of measured history the index is taken over. */
export const PERSISTENCE_WINDOW_H = 24;

interface Location {
  latitude: number;
  longitude: number;
}

/** Mean clear-sky GHI of every series hour and of the 48 after it (forecasts reach past the end). */
export function clearSkyHours(series: BacktestSeries, location: Location): Float64Array {
  const out = new Float64Array(series.hours + SOLAR_FORECAST_HOURS);
  for (let i = 0; i < out.length; i++) {
    const start = new Date(series.startMs + i * HOUR_MS);
    out[i] = clearSkyMeanGhiWm2(location, { start, durationS: 3600 });
  }
  return out;
}

/**
 * The forecast issued at the start of series hour `hour`, and the clear-sky index it used
 * (null: no full day of history yet, the climatology's 0.75 stands in).
 */
export function persistenceSolarForecast(
  series: BacktestSeries,
  clearGhiWm2: Float64Array,
  options: { hour: number; location: Location },
): { forecast: SolarForecast; clearSkyIndex: number | null } {
  const { hour, location } = options;
  let index: number | null = null;
  if (hour >= PERSISTENCE_WINDOW_H) {
    let measured = 0, clear = 0;
    for (let i = hour - PERSISTENCE_WINDOW_H; i < hour; i++) {
      measured += series.ghiWm2[i]!;
      clear += clearGhiWm2[i]!;
    }
    index = clear > 0 ? measured / clear : null;
  }
  const k = index ?? TYPICAL_CLEAR_SKY_INDEX;
  const hours: SolarHour[] = [];
  for (let j = 0; j < SOLAR_FORECAST_HOURS; j++) {
    const i = hour + j;
    const past = hour - PERSISTENCE_WINDOW_H + (j % PERSISTENCE_WINDOW_H);
    hours.push({
      start: new Date(series.startMs + i * HOUR_MS),
      ghiWm2: clearGhiWm2[i]! * k,
      clearGhiWm2: clearGhiWm2[i]!,
      cloudPct: null,
      tempC: past >= 0 ? series.ambientC[past]! : null,
      climatology: index === null,
    });
  }
  const forecast: SolarForecast = {
    source: "clear-sky-climatology",
    fallback: index === null,
    reason: index === null
      ? `no day of measurements yet; assuming clear sky × ${TYPICAL_CLEAR_SKY_INDEX}`
      : `persistence: clear sky × the last 24 h's clear-sky index ${k.toFixed(2)}`,
    issuedAt: index === null ? null : new Date(series.startMs + hour * HOUR_MS),
    latitude: location.latitude,
    longitude: location.longitude,
    hours,
  };
  return { forecast, clearSkyIndex: index };
}
