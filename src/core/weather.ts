/**
 * Weather for planning: the OpenWeatherMap 5-day / 3-hour forecast (`/data/2.5/forecast`), parsed
 * at the edge, and reduced to the one thing the planner needs: will the next day be sunny enough
 * to count on PV? Pure: the caller fetches and passes the clock.
 */
import { z } from "zod";
import type { Forecast } from "./command.ts";
import { describeIssues } from "./issues.ts";

/** 0 °C in kelvin; OpenWeatherMap reports temperatures in kelvin unless `units` is given. */
export const KELVIN_AT_0C = 273.15;
/** Each forecast item covers the 3 hours that start at its `dt`. */
export const FORECAST_STEP_S = 3 * 3600;

/**
 * Cloudy when the mean cloud cover over the horizon is at least this.
 *
 * Kasten & Czeplak (1980): GHI = GHI_clear · (1 − 0.75 · C^3.4), C the cloud fraction.
 * - C = 0.50: 0.5^3.4 = 0.0947, 1 − 0.75·0.0947 = 0.929 — half cover costs only 7 % of PV yield.
 * - C = 0.75: 0.75^3.4 = 0.3760, 1 − 0.75·0.3760 = 0.718 — about 28 % lost.
 * - C = 1.00: 1 − 0.75 = 0.25 — overcast keeps a quarter.
 * A 50 % threshold would call a day "cloudy" that still gives 93 % of clear-sky yield. 75 %
 * (6 oktas, "mostly cloudy"/"broken" in the WMO cloud-amount scale) is where the loss becomes
 * large enough (over a quarter) that the generator plan should not count on the sun.
 */
export const CLOUDY_MEAN_CLOUD_PCT = 75;

const OwmForecastItemSchema = z.object({
  /** Start of the forecast interval, unix seconds UTC (`dt_txt` carries no zone: not used). */
  dt: z.number().int(),
  main: z.object({
    temp: z.number(),
    humidity: z.number().min(0).max(100).optional(),
  }),
  weather: z.array(z.object({
    id: z.number().int(),
    main: z.string(),
    description: z.string(),
  })),
  clouds: z.object({ all: z.number().min(0).max(100) }),
  wind: z.object({ speed: z.number().min(0) }).optional(),
  /** Probability of precipitation, 0–1. */
  pop: z.number().min(0).max(1).optional(),
  /** Only on items with rain: volume over the 3 hours, mm. */
  rain: z.object({ "3h": z.number().min(0).optional() }).optional(),
  dt_txt: z.string().optional(),
});

/**
 * The documented success shape. `cod` is a string here (the current-weather endpoint sends a
 * number); `cnt` is not checked against `list.length` because the documentation's own example
 * says 40 and lists 4.
 */
export const OwmForecastSchema = z.object({
  cod: z.string(),
  message: z.number().optional(),
  cnt: z.number().int().min(0),
  list: z.array(OwmForecastItemSchema),
  city: z.object({
    name: z.string().optional(),
    coord: z.object({ lat: z.number(), lon: z.number() }).optional(),
    timezone: z.number().int().optional(),
  }).optional(),
});

/** The error body OpenWeatherMap sends with a 401/404/429 (`cod` as number or string). */
export const OwmErrorSchema = z.object({
  cod: z.union([z.number(), z.string()]),
  message: z.string(),
});

/** One 3-hour forecast step, in the units the code uses. */
export interface ForecastItem {
  time: Date;
  cloudPct: number;
  tempC: number;
  /** Probability of precipitation, 0–1, or null when not given. */
  pop: number | null;
  rainMm: number | null;
}

export type ForecastParseResult =
  | { ok: true; items: ForecastItem[] }
  | { ok: false; reason: string };

/** Parses a `/data/2.5/forecast` response body (already JSON-decoded). */
export function parseOpenWeatherForecast(body: unknown): ForecastParseResult {
  const parsed = OwmForecastSchema.safeParse(body);
  if (!parsed.success) {
    const error = OwmErrorSchema.safeParse(body);
    if (error.success) {
      return {
        ok: false,
        reason: `OpenWeatherMap error ${error.data.cod}: ${error.data.message}`,
      };
    }
    return { ok: false, reason: describeIssues(parsed.error.issues, body) };
  }
  if (parsed.data.cod !== "200") {
    return { ok: false, reason: `cod: expected "200", got "${parsed.data.cod}"` };
  }
  return {
    ok: true,
    items: parsed.data.list.map((item) => ({
      time: new Date(item.dt * 1000),
      cloudPct: item.clouds.all,
      tempC: item.main.temp - KELVIN_AT_0C,
      pop: item.pop ?? null,
      rainMm: item.rain?.["3h"] ?? null,
    })),
  };
}

export interface WeatherClassification {
  forecast: Forecast;
  /** Mean cloud cover of the items in the horizon; null when there were none. */
  meanCloudPct: number | null;
  /** Plain words, for the command's reason and the logs. */
  reason: string;
}

/**
 * Mean `clouds.all` of the 3-hour steps that overlap [now, now + horizon): cloudy at or above
 * `CLOUDY_MEAN_CLOUD_PCT`, clear below, unknown when no step falls in the window.
 */
export function classifyForecast(
  items: readonly ForecastItem[],
  options: { now: Date; horizonH: number },
): WeatherClassification {
  const startMs = options.now.getTime();
  const endMs = startMs + options.horizonH * 3600_000;
  const inWindow = items.filter((item) => {
    const t = item.time.getTime();
    return t + FORECAST_STEP_S * 1000 > startMs && t < endMs;
  });
  if (inWindow.length === 0) {
    return {
      forecast: "unknown",
      meanCloudPct: null,
      reason: `no forecast step in the next ${options.horizonH} h`,
    };
  }
  const meanCloudPct = inWindow.reduce((sum, item) => sum + item.cloudPct, 0) /
    inWindow.length;
  const forecast = meanCloudPct >= CLOUDY_MEAN_CLOUD_PCT ? "cloudy" : "clear";
  return {
    forecast,
    meanCloudPct,
    reason: `${forecast}: mean cloud cover ${
      Math.round(meanCloudPct)
    } % over the next ${options.horizonH} h`,
  };
}

/** The classification used whenever no forecast can be had (no key, network error, bad body). */
export function unknownWeather(reason: string): WeatherClassification {
  return { forecast: "unknown", meanCloudPct: null, reason };
}
