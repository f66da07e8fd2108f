/**
 * One typed hourly solar forecast per site, whatever the weather source: 48 hourly means of
 * global horizontal irradiance from the hour that holds `now`, and the PV power function the
 * forward prediction runs on. Built from Open-Meteo (irradiance given), OpenWeatherMap (cloud
 * cover through Kasten–Czeplak) or, when neither can be had, clear sky × a climatological
 * clear-sky index, flagged as a fallback. Pure.
 */
import type { OpenMeteoStep } from "./open_meteo.ts";
import { checkPvOptions, type PvOptions, pvOutputW } from "./pv.ts";
import {
  clearSkyGhiWm2,
  clearSkyMeanGhiWm2,
  cloudyGhiWm2,
  kastenCzeplakFactor,
  solarPosition,
} from "./solar.ts";
import {
  CLOUDY_MEAN_CLOUD_PCT,
  type ForecastItem,
  unknownWeather,
  type WeatherClassification,
} from "./weather.ts";

export const SOLAR_SOURCES = ["open-meteo", "openweathermap", "clear-sky-climatology"] as const;
export type SolarSource = typeof SOLAR_SOURCES[number];

/** Hours a forecast covers: the forward prediction's default horizon. */
export const SOLAR_FORECAST_HOURS = 48;
const HOUR_MS = 3_600_000;

/**
 * Measured-to-clear-sky irradiation ratio assumed when no forecast can be had: 0.75, the
 * global mean all-sky / clear-sky surface downward shortwave ratio, 185 / 247 W/m² (all-sky:
 * Wild et al. 2013, "The global energy balance from a surface perspective", Clim. Dyn.
 * 40:3107; clear-sky: Wild et al. 2019, "The cloud-free global energy balance and inferred
 * cloud radiative effects", Clim. Dyn. 52:4787). Checked on Bauchi's ESMAP year
 * (tests/core/solar_forecast_test.ts): measured / Haurwitz = 0.764 over the year, but 0.55 in
 * August and 0.94 in November — a fallback, not a forecast.
 */
export const TYPICAL_CLEAR_SKY_INDEX = 0.75;

/**
 * Irradiance ratio at or below which a day counts as "cloudy": Kasten–Czeplak at the 75 %
 * cloud cover that makes an OpenWeatherMap day cloudy, 1 − 0.75 · 0.75^3.4 = 0.718. The two
 * sources thus draw the line at the same loss of sunshine.
 */
export const CLOUDY_IRRADIANCE_RATIO = kastenCzeplakFactor(CLOUDY_MEAN_CLOUD_PCT / 100);

/** One hour of the forecast: [start, start + 1 h). */
export interface SolarHour {
  start: Date;
  /** Mean global horizontal irradiance over the hour, W/m². */
  ghiWm2: number;
  /** Mean clear-sky (Haurwitz) GHI over the hour, W/m²: the ceiling before cloud. */
  clearGhiWm2: number;
  /** Cloud cover, %, or null when the source gave none. */
  cloudPct: number | null;
  /** Air temperature, °C, or null when the source gave none. */
  tempC: number | null;
  /** True when the source had nothing for this hour and clear sky × 0.75 stands in. */
  climatology: boolean;
}

export interface SolarForecast {
  source: SolarSource;
  /** True when no weather source answered and the hours are clear sky × climatology. */
  fallback: boolean;
  /** Plain words: where the numbers come from, or why the fallback. */
  reason: string;
  /** When the source's data was fetched; null for the climatology. */
  issuedAt: Date | null;
  latitude: number;
  longitude: number;
  /** SOLAR_FORECAST_HOURS consecutive hours from the UTC hour that holds `now`. */
  hours: SolarHour[];
}

/** What a weather provider gives the planner for a site: the old coarse call and the hours. */
export interface SiteWeather {
  /** The command's coarse `forecast` ("clear" / "cloudy" / "unknown") and its reason. */
  classification: WeatherClassification;
  solar: SolarForecast;
}

interface Location {
  latitude: number;
  longitude: number;
}

/** The start of the UTC hour that holds `now`. */
export function forecastStart(now: Date): Date {
  return new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS);
}

/** The hours' skeleton: each hour's start and clear-sky mean. */
function clearHours(location: Location, now: Date): { start: Date; clearGhiWm2: number }[] {
  const first = forecastStart(now).getTime();
  return Array.from({ length: SOLAR_FORECAST_HOURS }, (_, i) => {
    const start = new Date(first + i * HOUR_MS);
    return { start, clearGhiWm2: clearSkyMeanGhiWm2(location, { start, durationS: 3600 }) };
  });
}

function climatologyHour(h: { start: Date; clearGhiWm2: number }): SolarHour {
  return {
    start: h.start,
    ghiWm2: h.clearGhiWm2 * TYPICAL_CLEAR_SKY_INDEX,
    clearGhiWm2: h.clearGhiWm2,
    cloudPct: null,
    tempC: null,
    climatology: true,
  };
}

/** The fallback: clear sky × TYPICAL_CLEAR_SKY_INDEX for every hour, flagged, with why. */
export function climatologySolarForecast(
  location: Location,
  options: { now: Date; reason: string },
): SolarForecast {
  return {
    source: "clear-sky-climatology",
    fallback: true,
    reason: `${options.reason}; assuming clear sky × ${TYPICAL_CLEAR_SKY_INDEX}`,
    issuedAt: null,
    latitude: location.latitude,
    longitude: location.longitude,
    hours: clearHours(location, options.now).map(climatologyHour),
  };
}

/** What a provider answers when it has no forecast: "unknown", and the climatology. */
export function fallbackSiteWeather(
  location: Location,
  options: { now: Date; reason: string },
): SiteWeather {
  return {
    classification: unknownWeather(options.reason),
    solar: climatologySolarForecast(location, options),
  };
}

function meanOfKnown(values: (number | null | undefined)[]): number | null {
  const known = values.filter((v): v is number => typeof v === "number");
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0) / known.length;
}

/**
 * From Open-Meteo's steps: the hour [S, S + 1 h) takes the irradiance stamped S + 1 h (a
 * preceding-hour mean) and the mean of the instantaneous cloud cover and temperature stamped S
 * and S + 1 h. An hour without irradiance but with cloud cover uses Kasten–Czeplak; an hour
 * with neither falls back to the climatology.
 */
export function solarForecastFromOpenMeteo(
  steps: readonly OpenMeteoStep[],
  location: Location,
  options: { now: Date; issuedAt: Date; reason?: string },
): SolarForecast {
  const byTime = new Map(steps.map((s) => [s.time.getTime(), s]));
  const hours = clearHours(location, options.now).map((h): SolarHour => {
    const atStart = byTime.get(h.start.getTime());
    const atEnd = byTime.get(h.start.getTime() + HOUR_MS);
    const cloudPct = meanOfKnown([atStart?.cloudPct, atEnd?.cloudPct]);
    const tempC = meanOfKnown([atStart?.tempC, atEnd?.tempC]);
    let ghiWm2 = atEnd?.ghiWm2 ?? null;
    if (ghiWm2 === null && cloudPct !== null) ghiWm2 = cloudyGhiWm2(h.clearGhiWm2, cloudPct);
    if (ghiWm2 === null) return { ...climatologyHour(h), cloudPct, tempC };
    return { ...h, ghiWm2, cloudPct, tempC, climatology: false };
  });
  return {
    source: "open-meteo",
    fallback: false,
    reason: options.reason ?? "Open-Meteo hourly irradiance",
    issuedAt: options.issuedAt,
    latitude: location.latitude,
    longitude: location.longitude,
    hours,
  };
}

/** OpenWeatherMap steps are 3 h apart; a wider gap is missing data, not a slow change. */
const OWM_MAX_GAP_MS = 3 * HOUR_MS;
/** A step's value holds for half a step either side where there is no neighbour... */
const OWM_HOLD_MS = 1.5 * HOUR_MS;
/** ...and for a whole step before the first one: the list starts at the next 3-hour mark. */
const OWM_LEAD_MS = 3 * HOUR_MS;

function interpolateAt(
  items: readonly ForecastItem[],
  tMs: number,
  pick: (item: ForecastItem) => number,
): number | null {
  for (let i = 0; i + 1 < items.length; i++) {
    const aMs = items[i]!.time.getTime();
    const bMs = items[i + 1]!.time.getTime();
    if (aMs <= tMs && tMs <= bMs && bMs - aMs <= OWM_MAX_GAP_MS) {
      const a = pick(items[i]!);
      return bMs === aMs ? a : a + (pick(items[i + 1]!) - a) * (tMs - aMs) / (bMs - aMs);
    }
  }
  const first = items[0];
  if (first && tMs < first.time.getTime()) {
    return first.time.getTime() - tMs <= OWM_LEAD_MS ? pick(first) : null;
  }
  let nearest: ForecastItem | null = null;
  for (const item of items) {
    const d = Math.abs(item.time.getTime() - tMs);
    if (d <= OWM_HOLD_MS && (!nearest || d < Math.abs(nearest.time.getTime() - tMs))) {
      nearest = item;
    }
  }
  return nearest ? pick(nearest) : null;
}

/**
 * From OpenWeatherMap's 3-hour steps: cloud cover and temperature are the model's state at
 * each `dt`, interpolated linearly to each hour's middle; the hour's GHI is its clear-sky mean
 * × Kasten–Czeplak of that cloud cover. A step holds for the 3 h before the first one and for
 * half a step past a gap's edge; hours further from any step (the example in the documentation
 * jumps four days) fall back to the climatology.
 */
export function solarForecastFromOpenWeather(
  items: readonly ForecastItem[],
  location: Location,
  options: { now: Date; issuedAt: Date; reason?: string },
): SolarForecast {
  const sorted = [...items].sort((a, b) => a.time.getTime() - b.time.getTime());
  const hours = clearHours(location, options.now).map((h): SolarHour => {
    const midMs = h.start.getTime() + HOUR_MS / 2;
    const cloudPct = interpolateAt(sorted, midMs, (i) => i.cloudPct);
    const tempC = interpolateAt(sorted, midMs, (i) => i.tempC);
    if (cloudPct === null) return climatologyHour(h);
    return {
      ...h,
      ghiWm2: cloudyGhiWm2(h.clearGhiWm2, cloudPct),
      cloudPct,
      tempC,
      climatology: false,
    };
  });
  return {
    source: "openweathermap",
    fallback: false,
    reason: options.reason ?? "OpenWeatherMap cloud cover × clear sky (Kasten–Czeplak)",
    issuedAt: options.issuedAt,
    latitude: location.latitude,
    longitude: location.longitude,
    hours,
  };
}

/**
 * The command's coarse forecast from irradiance (Open-Meteo): the next `horizonH` hours'
 * forecast irradiation over their clear-sky irradiation; "cloudy" at or below
 * CLOUDY_IRRADIANCE_RATIO (0.718), "clear" above. "unknown" for a fallback, for a window
 * without daylight, and when the climatology fills more than half of the window's clear-sky
 * irradiation.
 */
export function classifySolarForecast(
  forecast: SolarForecast,
  options: { now: Date; horizonH: number },
): WeatherClassification {
  if (forecast.fallback) return unknownWeather(forecast.reason);
  const startMs = options.now.getTime();
  const endMs = startMs + options.horizonH * HOUR_MS;
  const window = forecast.hours.filter((h) => {
    const t = h.start.getTime();
    return t + HOUR_MS > startMs && t < endMs;
  });
  const clearWh = window.reduce((s, h) => s + h.clearGhiWm2, 0);
  if (clearWh <= 0) return unknownWeather(`no daylight in the next ${options.horizonH} h`);
  const filledWh = window.filter((h) => h.climatology).reduce((s, h) => s + h.clearGhiWm2, 0);
  if (filledWh > clearWh / 2) {
    return unknownWeather(`forecast covers too little of the next ${options.horizonH} h`);
  }
  const ratio = window.reduce((s, h) => s + h.ghiWm2, 0) / clearWh;
  const forecastKind = ratio <= CLOUDY_IRRADIANCE_RATIO ? "cloudy" : "clear";
  return {
    forecast: forecastKind,
    meanCloudPct: meanOfKnown(window.map((h) => h.cloudPct)),
    reason: `${forecastKind}: sunshine ${
      Math.round(ratio * 100)
    } % of clear sky over the next ${options.horizonH} h`,
  };
}

/**
 * PV power, W, at any time: the forecast's hourly irradiance shaped within the hour by the
 * clear-sky curve (so a 15-minute step at sunrise sees the sun rise, and the hour's energy is
 * kept), through pvOutputW at the hour's air temperature (`defaultTempC`, 25 °C, when none).
 * Outside the forecast's hours: clear sky × TYPICAL_CLEAR_SKY_INDEX. Options are checked once.
 */
export function pvForecastW(
  forecast: SolarForecast,
  options: PvOptions & { defaultTempC?: number },
): (time: Date) => number {
  checkPvOptions(options);
  const defaultTempC = options.defaultTempC ?? 25;
  const firstMs = forecast.hours[0]?.start.getTime() ?? 0;
  return (time: Date) => {
    const tMs = time.getTime();
    const zenith = solarPosition(forecast.latitude, forecast.longitude, time).zenithDeg;
    const clearNow = clearSkyGhiWm2(zenith);
    const hour = forecast.hours[Math.floor((tMs - firstMs) / HOUR_MS)];
    if (!hour) {
      return pvOutputW(clearNow * TYPICAL_CLEAR_SKY_INDEX, { ...options, ambientC: defaultTempC });
    }
    // Mean × (instant / mean) of clear sky; an hour Haurwitz calls dark but the source lit
    // (twilight at high latitude) keeps its flat mean.
    const ghiWm2 = hour.clearGhiWm2 > 0 ? hour.ghiWm2 * clearNow / hour.clearGhiWm2 : hour.ghiWm2;
    return pvOutputW(ghiWm2, { ...options, ambientC: hour.tempC ?? defaultTempC });
  };
}
