/**
 * OpenWeatherMap's 5-day / 3-hour forecast (`/data/2.5/forecast`, needs OPENWEATHER_API_KEY):
 * cloud cover every 3 h, turned into hourly irradiance through Kasten–Czeplak, and the old
 * coarse "clear" / "cloudy" call from the mean cloud cover. Without a key, or when the API
 * fails, the site gets "unknown" and the clear-sky climatology.
 */
import {
  fallbackSiteWeather,
  type SiteWeather,
  solarForecastFromOpenWeather,
} from "../core/solar_forecast.ts";
import { classifyForecast, type ForecastItem, parseOpenWeatherForecast } from "../core/weather.ts";
import { type RateLimit, RateLimiter } from "./rate_limiter.ts";
import {
  freshnessText,
  type ProviderCacheOptions,
  WEATHER_HORIZON_H,
  WEATHER_TIMEOUT_MS,
  WeatherCache,
} from "./weather_cache.ts";
import { fetchWeatherJson, WeatherFetchError } from "./weather_http.ts";
import type { WeatherLocation, WeatherProvider } from "./weather_provider.ts";

export const DEFAULT_OPENWEATHER_URL = "https://api.openweathermap.org";
/** The forecast is recomputed by OpenWeatherMap every 3 h; 30 min keeps us well inside its free tier. */
export const WEATHER_CACHE_MS = 30 * 60 * 1000;
const DAY_MS = 86_400_000;
/**
 * The Free plan: 60 calls/minute and 1,000,000 calls/month (openweathermap.org/full-price,
 * "API calls"), counted per account over all its keys (openweathermap.org/appid). Kasi takes
 * 90 % of each, leaving room for the account's other users; 31 days covers any month.
 */
export const OPENWEATHER_FREE_LIMITS: readonly RateLimit[] = [
  { count: 54, windowMs: 60_000 },
  { count: 900_000, windowMs: 31 * DAY_MS },
];

const PROVIDER = "OpenWeatherMap";

/** `limits` defaults to OPENWEATHER_FREE_LIMITS. */
export interface OpenWeatherOptions extends ProviderCacheOptions {
  /** OPENWEATHER_API_KEY; without one every forecast is "unknown" and no request is made. */
  apiKey?: string;
  /** KASI_WEATHER_URL, for tests and proxies; default https://api.openweathermap.org. */
  baseUrl?: string;
}

export class OpenWeatherProvider implements WeatherProvider {
  readonly #o: OpenWeatherOptions;
  readonly #cache: WeatherCache<ForecastItem[]>;
  #warnedNoKey = false;

  constructor(options: OpenWeatherOptions) {
    this.#o = options;
    this.#cache = new WeatherCache({
      provider: PROVIDER,
      fetch: (lat, lon) => this.#fetch(lat, lon),
      limiter: new RateLimiter(options.limits ?? OPENWEATHER_FREE_LIMITS),
      log: options.log,
      cacheMs: options.cacheMs ?? WEATHER_CACHE_MS,
      retryMs: options.retryMs,
      clockMs: options.clockMs,
    });
  }

  /** HTTP requests made: lets tests see the cache at work. */
  get requests(): number {
    return this.#cache.requests;
  }

  /** The site's weather at `now`, built when the function is called (WeatherProvider). */
  async weatherFor(location: WeatherLocation, now: Date): Promise<() => SiteWeather> {
    if (!this.#o.apiKey) {
      const reason = "no OpenWeatherMap API key (set OPENWEATHER_API_KEY)";
      if (!this.#warnedNoKey) {
        this.#warnedNoKey = true;
        this.#o.log.warn("weather forecast unavailable; planning with what is left", {
          provider: PROVIDER,
          reason,
        });
      }
      return () => fallbackSiteWeather(location, { now, reason });
    }
    const cell = await this.#cache.get(location.latitude, location.longitude, now);
    if (!cell.ok) return () => fallbackSiteWeather(location, { now, reason: cell.reason });
    return () => ({
      classification: classifyForecast(cell.data, { now, horizonH: WEATHER_HORIZON_H }),
      solar: solarForecastFromOpenWeather(cell.data, location, {
        now,
        issuedAt: cell.fetchedAt,
        reason: `${PROVIDER} cloud cover × clear sky (Kasten–Czeplak), ${freshnessText(cell)}`,
      }),
    });
  }

  /** The site's weather at `now`, built at once. */
  async forecastFor(location: WeatherLocation, now: Date): Promise<SiteWeather> {
    return (await this.weatherFor(location, now))();
  }

  async #fetch(lat: number, lon: number): Promise<ForecastItem[]> {
    const base = (this.#o.baseUrl ?? DEFAULT_OPENWEATHER_URL).replace(/\/+$/, "");
    const url = new URL(`${base}/data/2.5/forecast`);
    url.searchParams.set("lat", String(lat));
    url.searchParams.set("lon", String(lon));
    url.searchParams.set("appid", this.#o.apiKey!);
    const reply = await fetchWeatherJson(url, {
      provider: PROVIDER,
      timeoutMs: this.#o.timeoutMs ?? WEATHER_TIMEOUT_MS,
    });
    const parsed = parseOpenWeatherForecast(reply.body);
    if (!reply.ok) {
      const detail = parsed.ok ? "" : `: ${parsed.reason}`;
      throw new WeatherFetchError(
        `http-${reply.status}`,
        `${PROVIDER} HTTP ${reply.status}${detail}`,
        reply.retryAfterS,
      );
    }
    if (!parsed.ok) {
      throw new WeatherFetchError("body", `${PROVIDER} response not understood: ${parsed.reason}`);
    }
    return parsed.items;
  }
}
