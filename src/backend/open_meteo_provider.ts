/**
 * Open-Meteo's forecast (`/v1/forecast`): hourly irradiance straight from the weather models,
 * no key. Its free API is for non-commercial use (open-meteo.com/en/terms); a commercial
 * deployment sets OPEN_METEO_API_KEY and is sent to customer-api.open-meteo.com.
 */
import {
  OPEN_METEO_HOURLY,
  type OpenMeteoStep,
  parseOpenMeteoForecast,
} from "../core/open_meteo.ts";
import {
  classifySolarForecast,
  fallbackSiteWeather,
  type SiteWeather,
  solarForecastFromOpenMeteo,
} from "../core/solar_forecast.ts";
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

export const DEFAULT_OPEN_METEO_URL = "https://api.open-meteo.com";
/** Where Open-Meteo serves API-key (commercial) customers. */
export const OPEN_METEO_CUSTOMER_URL = "https://customer-api.open-meteo.com";
/**
 * Hourly, as Open-Meteo itself suggests ("We suggest updating the weather forecast API every
 * hour", open-meteo.com/en/pricing): the models behind "best match" run every 1–6 h.
 */
export const OPEN_METEO_CACHE_MS = 60 * 60 * 1000;
/**
 * Days asked for, from 00:00 UTC today: 4, so that a reply fetched late in a UTC day still
 * covers the 48 h ahead for another day if refreshes fail (3 would end 48 h out at worst).
 * Up to 7 days and 10 variables count as one API call (open-meteo.com/en/pricing, "How is one
 * API call defined?").
 */
export const OPEN_METEO_FORECAST_DAYS = 4;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/**
 * The free tier: "Kindly ensure that your daily requests remain below 10,000"
 * (open-meteo.com/en/pricing); its author gives the enforced limits as "600 calls / min, 5.000
 * calls / hour and 10.000 calls / day. Limits are applied on an IP basis", and the pricing
 * table 300,000 a month. Kasi takes 90 % of each; 31 days covers any month.
 */
export const OPEN_METEO_FREE_LIMITS: readonly RateLimit[] = [
  { count: 540, windowMs: MINUTE_MS },
  { count: 4500, windowMs: 60 * MINUTE_MS },
  { count: 9000, windowMs: DAY_MS },
  { count: 270_000, windowMs: 31 * DAY_MS },
];
/** With a key: the smallest commercial plan ("Standard", 1,000,000 calls a month), 90 %. */
export const OPEN_METEO_STANDARD_LIMITS: readonly RateLimit[] = [
  { count: 900_000, windowMs: 31 * DAY_MS },
];

const PROVIDER = "Open-Meteo";

/** `limits` defaults to OPEN_METEO_FREE_LIMITS, or OPEN_METEO_STANDARD_LIMITS with a key. */
export interface OpenMeteoOptions extends ProviderCacheOptions {
  /** KASI_OPEN_METEO_URL, for tests and proxies; default by key (free or customer API). */
  baseUrl?: string;
  /** OPEN_METEO_API_KEY, for commercial use; sent as `apikey`. */
  apiKey?: string;
}

/**
 * The request: GHI, cloud cover and temperature, hourly; `timeformat=unixtime` so every stamp
 * is UTC seconds whatever the zone, and `timezone=GMT` so days start at 00:00 UTC.
 */
export function openMeteoForecastUrl(
  baseUrl: string,
  options: { latitude: number; longitude: number; apiKey?: string },
): URL {
  const url = new URL(`${baseUrl.replace(/\/+$/, "")}/v1/forecast`);
  url.searchParams.set("latitude", String(options.latitude));
  url.searchParams.set("longitude", String(options.longitude));
  url.searchParams.set("hourly", OPEN_METEO_HOURLY.join(","));
  url.searchParams.set("timezone", "GMT");
  url.searchParams.set("timeformat", "unixtime");
  url.searchParams.set("forecast_days", String(OPEN_METEO_FORECAST_DAYS));
  if (options.apiKey) url.searchParams.set("apikey", options.apiKey);
  return url;
}

export class OpenMeteoProvider implements WeatherProvider {
  readonly #o: OpenMeteoOptions;
  readonly #cache: WeatherCache<OpenMeteoStep[]>;

  constructor(options: OpenMeteoOptions) {
    this.#o = options;
    const limits = options.limits ??
      (options.apiKey ? OPEN_METEO_STANDARD_LIMITS : OPEN_METEO_FREE_LIMITS);
    this.#cache = new WeatherCache({
      provider: PROVIDER,
      fetch: (lat, lon) => this.#fetch(lat, lon),
      limiter: new RateLimiter(limits),
      log: options.log,
      cacheMs: options.cacheMs ?? OPEN_METEO_CACHE_MS,
      retryMs: options.retryMs,
      clockMs: options.clockMs,
    });
  }

  /** HTTP requests made: lets tests see the cache and the budget at work. */
  get requests(): number {
    return this.#cache.requests;
  }

  /** The cache's current least interval between two requests for one cell. */
  refreshIntervalMs(): number {
    return this.#cache.refreshIntervalMs();
  }

  /** The site's weather at `now`, built when the function is called (WeatherProvider). */
  async weatherFor(location: WeatherLocation, now: Date): Promise<() => SiteWeather> {
    const cell = await this.#cache.get(location.latitude, location.longitude, now);
    if (!cell.ok) return () => fallbackSiteWeather(location, { now, reason: cell.reason });
    return () => {
      const solar = solarForecastFromOpenMeteo(cell.data, location, {
        now,
        issuedAt: cell.fetchedAt,
        reason: `${PROVIDER} hourly irradiance, ${freshnessText(cell)}`,
      });
      return {
        classification: classifySolarForecast(solar, { now, horizonH: WEATHER_HORIZON_H }),
        solar,
      };
    };
  }

  /** The site's weather at `now`, built at once. */
  async forecastFor(location: WeatherLocation, now: Date): Promise<SiteWeather> {
    return (await this.weatherFor(location, now))();
  }

  async #fetch(lat: number, lon: number): Promise<OpenMeteoStep[]> {
    const base = this.#o.baseUrl ??
      (this.#o.apiKey ? OPEN_METEO_CUSTOMER_URL : DEFAULT_OPEN_METEO_URL);
    const url = openMeteoForecastUrl(base, {
      latitude: lat,
      longitude: lon,
      apiKey: this.#o.apiKey,
    });
    const reply = await fetchWeatherJson(url, {
      provider: PROVIDER,
      timeoutMs: this.#o.timeoutMs ?? WEATHER_TIMEOUT_MS,
    });
    const parsed = parseOpenMeteoForecast(reply.body);
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
    return parsed.steps;
  }
}
