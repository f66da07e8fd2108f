/**
 * Weather for the planner: per site, one typed 48-hour hourly solar forecast and the old
 * coarse "clear" / "cloudy" / "unknown" call, from Open-Meteo or OpenWeatherMap, cached per
 * 0.1° cell, within each API's free-tier limits, falling back to clear sky × climatology
 * (flagged) when no forecast can be had. Weather only refines the plan: it never fails it.
 *
 * Which API serves a site: the profile's `weatherSource` when it names one; otherwise
 * OpenWeatherMap when the backend has an OPENWEATHER_API_KEY (the operator chose it, and an
 * existing deployment keeps its behaviour), else Open-Meteo, which needs no key and gives
 * irradiance itself rather than cloud cover. A site that asks for OpenWeatherMap on a backend
 * without a key gets the climatology and a warning saying which variable to set.
 */
import type { Logger } from "../core/log.ts";
import type { WeatherSource } from "../core/site_profile.ts";
import type { SiteWeather } from "../core/solar_forecast.ts";
import { OpenMeteoProvider } from "./open_meteo_provider.ts";
import { OpenWeatherProvider } from "./openweather_provider.ts";

export type { SiteWeather, SolarForecast, SolarHour } from "../core/solar_forecast.ts";
export {
  DEFAULT_OPEN_METEO_URL,
  OPEN_METEO_CACHE_MS,
  OPEN_METEO_FREE_LIMITS,
  OpenMeteoProvider,
} from "./open_meteo_provider.ts";
export {
  DEFAULT_OPENWEATHER_URL,
  OPENWEATHER_FREE_LIMITS,
  OpenWeatherProvider,
  WEATHER_CACHE_MS,
} from "./openweather_provider.ts";
export {
  WEATHER_GRID_DEG,
  WEATHER_HORIZON_H,
  WEATHER_RETRY_MS,
  WEATHER_TIMEOUT_MS,
} from "./weather_cache.ts";

/** Where a site is, and which API it asked for (a SiteProfile is one). */
export interface WeatherLocation {
  latitude: number;
  longitude: number;
  weatherSource?: WeatherSource;
}

/**
 * What the planner asks: the site's weather at `now`. Never rejects. The forecast's cell is
 * fetched (or read from the cache) first; the site's own hourly solar forecast is built only
 * when the returned function is called, just before the forward forecast that reads it: a plan
 * waiting its turn then holds the shared cell, not some 5 KB of hours of its own (at 100 000
 * sites tens of thousands wait).
 */
export interface WeatherProvider {
  weatherFor(location: WeatherLocation, now: Date): Promise<() => SiteWeather>;
}

export interface SiteWeatherOptions {
  /** OPENWEATHER_API_KEY. */
  apiKey?: string;
  /** KASI_WEATHER_URL: OpenWeatherMap's base URL (tests, proxies). */
  baseUrl?: string;
  /** KASI_OPEN_METEO_URL: Open-Meteo's base URL (tests, proxies, a self-hosted instance). */
  openMeteoUrl?: string;
  /** OPEN_METEO_API_KEY: Open-Meteo's commercial API. */
  openMeteoApiKey?: string;
  log: Logger;
  timeoutMs?: number;
  /** The real clock for the caches and rate limits (see WeatherCacheOptions.clockMs). */
  clockMs?: () => number;
}

/** The source a site is served from (see the module comment). */
export function weatherSourceFor(
  location: WeatherLocation,
  options: { openWeatherKey: boolean },
): WeatherSource {
  return location.weatherSource ?? (options.openWeatherKey ? "openweathermap" : "open-meteo");
}

/** The backend's provider: routes each site to Open-Meteo or OpenWeatherMap. */
export class SiteWeatherProvider implements WeatherProvider {
  readonly openWeather: OpenWeatherProvider;
  readonly openMeteo: OpenMeteoProvider;
  readonly #hasOpenWeatherKey: boolean;

  constructor(options: SiteWeatherOptions) {
    this.#hasOpenWeatherKey = Boolean(options.apiKey);
    this.openWeather = new OpenWeatherProvider({
      apiKey: options.apiKey,
      baseUrl: options.baseUrl,
      log: options.log,
      timeoutMs: options.timeoutMs,
      clockMs: options.clockMs,
    });
    this.openMeteo = new OpenMeteoProvider({
      baseUrl: options.openMeteoUrl,
      apiKey: options.openMeteoApiKey,
      log: options.log,
      timeoutMs: options.timeoutMs,
      clockMs: options.clockMs,
    });
  }

  weatherFor(location: WeatherLocation, now: Date): Promise<() => SiteWeather> {
    const source = weatherSourceFor(location, { openWeatherKey: this.#hasOpenWeatherKey });
    return source === "openweathermap"
      ? this.openWeather.weatherFor(location, now)
      : this.openMeteo.weatherFor(location, now);
  }

  /** The site's weather at `now`, built at once. */
  async forecastFor(location: WeatherLocation, now: Date): Promise<SiteWeather> {
    return (await this.weatherFor(location, now))();
  }
}
