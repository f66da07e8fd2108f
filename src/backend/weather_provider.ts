/**
 * Forecasts for the planner, from OpenWeatherMap's 5-day / 3-hour forecast. Every failure (no
 * key, network, timeout, HTTP error, unexpected body) becomes an "unknown" forecast: weather only
 * refines the plan, it must never stop it. Each cause is logged once, not once per message.
 */
import type { Logger } from "../core/log.ts";
import {
  classifyForecast,
  type ForecastItem,
  parseOpenWeatherForecast,
  unknownWeather,
  type WeatherClassification,
} from "../core/weather.ts";

export const DEFAULT_OPENWEATHER_URL = "https://api.openweathermap.org";
/** The forecast is recomputed by OpenWeatherMap every 3 h; 30 min keeps us well inside its free tier. */
export const WEATHER_CACHE_MS = 30 * 60 * 1000;
/** After a failure, wait this long before asking again for the same place. */
export const WEATHER_RETRY_MS = 5 * 60 * 1000;
/** The planner waits for weather: a slow API must not hold it longer than this. */
export const WEATHER_TIMEOUT_MS = 5000;
/** 0.1° is about 11 km: the same cloud forecast for every site in that cell. */
export const WEATHER_GRID_DEG = 0.1;
/** How far ahead the planner looks. */
export const WEATHER_HORIZON_H = 24;

export interface Location {
  latitude: number;
  longitude: number;
}

/** What the planner asks: the classification of the next day at a place. */
export interface WeatherProvider {
  forecastFor(location: Location, now: Date): Promise<WeatherClassification>;
}

export interface OpenWeatherOptions {
  /** OPENWEATHER_API_KEY; without one every forecast is "unknown" and no request is made. */
  apiKey?: string;
  /** KASI_WEATHER_URL, for tests and proxies; default https://api.openweathermap.org. */
  baseUrl?: string;
  log: Logger;
  timeoutMs?: number;
  cacheMs?: number;
  retryMs?: number;
}

type CacheEntry =
  | { ok: true; items: ForecastItem[]; untilMs: number }
  | { ok: false; reason: string; untilMs: number };

class FetchFailure extends Error {
  constructor(readonly kind: string, message: string) {
    super(message);
  }
}

export class OpenWeatherProvider implements WeatherProvider {
  readonly #options: OpenWeatherOptions;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #inFlight = new Map<string, Promise<CacheEntry>>();
  readonly #loggedCauses = new Set<string>();
  /** HTTP requests made: lets tests see the cache at work. */
  requests = 0;

  constructor(options: OpenWeatherOptions) {
    this.#options = options;
  }

  async forecastFor(location: Location, now: Date): Promise<WeatherClassification> {
    if (!this.#options.apiKey) {
      const reason = "no OpenWeatherMap API key (set OPENWEATHER_API_KEY)";
      this.#logOnce("no-key", reason);
      return unknownWeather(reason);
    }
    const lat = roundToGrid(location.latitude);
    const lon = roundToGrid(location.longitude);
    const key = `${lat},${lon}`;
    let entry = this.#cache.get(key);
    if (!entry || entry.untilMs <= now.getTime()) {
      let pending = this.#inFlight.get(key);
      if (!pending) {
        pending = this.#fetchEntry(lat, lon, now).finally(() => this.#inFlight.delete(key));
        this.#inFlight.set(key, pending);
      }
      entry = await pending;
      this.#cache.set(key, entry);
    }
    if (!entry.ok) return unknownWeather(entry.reason);
    return classifyForecast(entry.items, { now, horizonH: WEATHER_HORIZON_H });
  }

  async #fetchEntry(lat: number, lon: number, now: Date): Promise<CacheEntry> {
    try {
      const items = await this.#fetchForecast(lat, lon);
      // A success ends every failure streak: a later failure is news again.
      this.#loggedCauses.clear();
      return {
        ok: true,
        items,
        untilMs: now.getTime() + (this.#options.cacheMs ?? WEATHER_CACHE_MS),
      };
    } catch (error) {
      const failure = error instanceof FetchFailure
        ? error
        : new FetchFailure("error", `weather request failed: ${(error as Error).message}`);
      this.#logOnce(failure.kind, failure.message);
      return {
        ok: false,
        reason: failure.message,
        untilMs: now.getTime() + (this.#options.retryMs ?? WEATHER_RETRY_MS),
      };
    }
  }

  async #fetchForecast(lat: number, lon: number): Promise<ForecastItem[]> {
    const base = (this.#options.baseUrl ?? DEFAULT_OPENWEATHER_URL).replace(/\/+$/, "");
    const url = new URL(`${base}/data/2.5/forecast`);
    url.searchParams.set("lat", String(lat));
    url.searchParams.set("lon", String(lon));
    url.searchParams.set("appid", this.#options.apiKey!);
    const timeoutMs = this.#options.timeoutMs ?? WEATHER_TIMEOUT_MS;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    this.requests++;
    try {
      let response: Response;
      try {
        response = await fetch(url, { signal: controller.signal });
      } catch (error) {
        if (controller.signal.aborted) {
          throw new FetchFailure("timeout", `weather request timed out after ${timeoutMs} ms`);
        }
        throw new FetchFailure("network", `weather request failed: ${(error as Error).message}`);
      }
      let body: unknown;
      try {
        body = await response.json();
      } catch (error) {
        const why = controller.signal.aborted
          ? `timed out after ${timeoutMs} ms`
          : (error as Error).message;
        throw new FetchFailure(
          `http-${response.status}-body`,
          `weather response (HTTP ${response.status}) is not JSON: ${why}`,
        );
      }
      const parsed = parseOpenWeatherForecast(body);
      if (!response.ok) {
        const detail = parsed.ok ? "" : `: ${parsed.reason}`;
        throw new FetchFailure(
          `http-${response.status}`,
          `weather HTTP ${response.status}${detail}`,
        );
      }
      if (!parsed.ok) {
        throw new FetchFailure("body", `weather response not understood: ${parsed.reason}`);
      }
      return parsed.items;
    } finally {
      clearTimeout(timer);
    }
  }

  #logOnce(cause: string, reason: string) {
    if (this.#loggedCauses.has(cause)) return;
    this.#loggedCauses.add(cause);
    this.#options.log.warn("weather forecast unavailable; planning without it", { reason });
  }
}

function roundToGrid(deg: number): number {
  // Rounded on the grid and printed without float noise (10.3, not 10.299999999999999).
  return Number((Math.round(deg / WEATHER_GRID_DEG) * WEATHER_GRID_DEG).toFixed(1));
}
