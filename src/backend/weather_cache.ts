/**
 * Forecasts per grid cell, shared by every site in the cell, for one weather API: one request
 * at a time per cell, a cache, a retry delay after a failure, a request budget that the whole
 * fleet shares, and old-but-usable data when a refresh cannot be had. Weather only refines the
 * plan: nothing here throws, and each cause of failure is logged once per streak.
 */
import type { Logger } from "../core/log.ts";
import type { RateLimit, RateLimiter } from "./rate_limiter.ts";
import { WeatherFetchError } from "./weather_http.ts";

/** 0.1° is about 11 km: the same forecast for every site in that cell. */
export const WEATHER_GRID_DEG = 0.1;
/** The planner waits for weather: a slow API must not hold it longer than this. */
export const WEATHER_TIMEOUT_MS = 5000;
/** After a failure, wait this long before asking again for the same place. */
export const WEATHER_RETRY_MS = 5 * 60 * 1000;
/** Forecast data this old still beats the climatology when a refresh cannot be had... */
export const WEATHER_MAX_STALE_MS = 6 * 3600 * 1000;
/**
 * ...and when the budget spreads refreshes wider, data lives 1.5 refresh intervals, but never
 * past a day: a reply covers 4 days (Open-Meteo) or 5 (OpenWeatherMap), so day-old data still
 * spans the 48 h ahead.
 */
export const WEATHER_STALE_CAP_MS = 24 * 3600 * 1000;
/** A cell counts towards the budget's share while a site asked for it within this time. */
const ACTIVE_CELL_MS = 2 * 3600 * 1000;
/** How long to wait after the budget said no before trying the limiter again for a cell. */
const BUDGET_RETRY_MS = 60 * 1000;
/** Refreshes of cells that hold usable data leave this share of every limit to first fetches. */
const REFRESH_RESERVE = 0.1;

/** `deg` on the grid, printed without float noise (10.3, not 10.299999999999999). */
export function roundToGrid(deg: number): number {
  return Number((Math.round(deg / WEATHER_GRID_DEG) * WEATHER_GRID_DEG).toFixed(1));
}

export type CellResult<T> =
  | { ok: true; data: T; fetchedAt: Date; staleBecause: string | null }
  | { ok: false; reason: string };

/** The settings every cached weather provider takes, besides its own URL and key. */
export interface ProviderCacheOptions {
  log: Logger;
  timeoutMs?: number;
  /** The real clock for the cache and rate limits (see WeatherCacheOptions.clockMs). */
  clockMs?: () => number;
  cacheMs?: number;
  retryMs?: number;
  /** The request budget; each provider defaults to its free tier's. */
  limits?: readonly RateLimit[];
}

export interface WeatherCacheOptions<T> {
  /** "Open-Meteo", "OpenWeatherMap": names the API in reasons and logs. */
  provider: string;
  /** One request for a cell; throws WeatherFetchError. */
  fetch: (latitude: number, longitude: number) => Promise<T>;
  limiter: RateLimiter;
  log: Logger;
  /** The least time between two requests for one cell. */
  cacheMs: number;
  /**
   * The real clock, in ms, for the cache and the rate limits. Default: the time each `get` is
   * asked for. A simulation that plans at accelerated time passes the wall clock here, so the
   * free tiers are counted in real minutes and days.
   */
  clockMs?: () => number;
  retryMs?: number;
  maxStaleMs?: number;
}

interface Entry<T> {
  data: T | null;
  fetchedAtMs: number;
  retryAtMs: number;
  lastError: string | null;
}

export class WeatherCache<T> {
  readonly #o: WeatherCacheOptions<T>;
  readonly #entries = new Map<string, Entry<T>>();
  readonly #lastAskedMs = new Map<string, number>();
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #loggedCauses = new Set<string>();
  #pausedUntilMs = 0;
  #prunedAtMs = -Infinity;
  /** HTTP requests made: lets tests see the cache and the budget at work. */
  requests = 0;

  constructor(options: WeatherCacheOptions<T>) {
    this.#o = options;
  }

  /** Cells asked for within the last 2 h: the ones that share the budget. */
  get activeCells(): number {
    return this.#lastAskedMs.size;
  }

  /** How often a cell may be refreshed: the cache time, or wider if the budget needs it. */
  refreshIntervalMs(): number {
    return Math.max(this.#o.cacheMs, this.#o.limiter.minIntervalMs(Math.max(1, this.activeCells)));
  }

  #maxStaleMs(): number {
    const base = this.#o.maxStaleMs ?? WEATHER_MAX_STALE_MS;
    return Math.max(base, Math.min(WEATHER_STALE_CAP_MS, 1.5 * this.refreshIntervalMs()));
  }

  async get(latitude: number, longitude: number, now: Date): Promise<CellResult<T>> {
    const lat = roundToGrid(latitude);
    const lon = roundToGrid(longitude);
    const key = `${lat},${lon}`;
    const nowMs = this.#o.clockMs?.() ?? now.getTime();
    this.#lastAskedMs.set(key, nowMs);
    this.#prune(nowMs);
    const entry = this.#entries.get(key);
    const fresh = entry?.data != null && nowMs < entry.fetchedAtMs + this.refreshIntervalMs();
    const waiting = (entry !== undefined && nowMs < entry.retryAtMs) ||
      nowMs < this.#pausedUntilMs;
    if (!fresh && !waiting) {
      let pending = this.#inFlight.get(key);
      if (!pending) {
        pending = this.#refresh(key, lat, lon, nowMs).finally(() => this.#inFlight.delete(key));
        this.#inFlight.set(key, pending);
      }
      await pending;
    }
    return this.#result(this.#entries.get(key), nowMs);
  }

  #result(entry: Entry<T> | undefined, nowMs: number): CellResult<T> {
    if (entry?.data != null) {
      const ageMs = nowMs - entry.fetchedAtMs;
      const fresh = ageMs < this.refreshIntervalMs();
      if (fresh || ageMs < this.#maxStaleMs()) {
        return {
          ok: true,
          data: entry.data,
          fetchedAt: new Date(entry.fetchedAtMs),
          staleBecause: fresh
            ? null
            : entry.lastError ?? `${this.#o.provider} paused after a rate-limit reply`,
        };
      }
    }
    return {
      ok: false,
      reason: entry?.lastError ?? `${this.#o.provider} paused after a rate-limit reply`,
    };
  }

  async #refresh(key: string, lat: number, lon: number, nowMs: number): Promise<void> {
    const entry: Entry<T> = this.#entries.get(key) ??
      { data: null, fetchedAtMs: 0, retryAtMs: 0, lastError: null };
    const usable = entry.data !== null && nowMs - entry.fetchedAtMs < this.#maxStaleMs();
    if (!this.#o.limiter.tryAcquire(nowMs, { reserveFraction: usable ? REFRESH_RESERVE : 0 })) {
      const reason = `${this.#o.provider} request budget reached (${this.#budgetText(nowMs)})`;
      this.#entries.set(key, { ...entry, retryAtMs: nowMs + BUDGET_RETRY_MS, lastError: reason });
      this.#logOnce("budget", reason, { activeCells: this.activeCells });
      return;
    }
    this.requests++;
    try {
      const data = await this.#o.fetch(lat, lon);
      // A success ends every failure streak: a later failure is news again.
      this.#loggedCauses.clear();
      this.#entries.set(key, { data, fetchedAtMs: nowMs, retryAtMs: 0, lastError: null });
    } catch (error) {
      const failure = error instanceof WeatherFetchError ? error : new WeatherFetchError(
        "error",
        `${this.#o.provider} request failed: ${(error as Error).message}`,
      );
      const retryMs = this.#o.retryMs ?? WEATHER_RETRY_MS;
      if (failure.kind === "http-429") {
        // Over a limit we did not know of (another client on the same key or address): every
        // cell waits, not just this one.
        this.#pausedUntilMs = nowMs + Math.max(retryMs, (failure.retryAfterS ?? 0) * 1000);
      }
      this.#entries.set(key, { ...entry, retryAtMs: nowMs + retryMs, lastError: failure.message });
      this.#logOnce(failure.kind, failure.message);
    }
  }

  #budgetText(nowMs: number): string {
    return this.#o.limiter.usage(nowMs)
      .map((u) => `${u.used}/${u.count} per ${durationText(u.windowMs)}`)
      .join(", ");
  }

  /** Forgets cells no site asked for lately, at most once a minute. */
  #prune(nowMs: number): void {
    if (nowMs - this.#prunedAtMs < 60_000) return;
    this.#prunedAtMs = nowMs;
    for (const [key, askedMs] of this.#lastAskedMs) {
      if (nowMs - askedMs > ACTIVE_CELL_MS) {
        this.#lastAskedMs.delete(key);
        this.#entries.delete(key);
      }
    }
  }

  #logOnce(cause: string, reason: string, fields: Record<string, unknown> = {}): void {
    if (this.#loggedCauses.has(cause)) return;
    this.#loggedCauses.add(cause);
    this.#o.log.warn("weather forecast unavailable; planning with what is left", {
      provider: this.#o.provider,
      reason,
      ...fields,
    });
  }
}

function durationText(ms: number): string {
  if (ms >= 86_400_000) return `${Math.round(ms / 86_400_000)} d`;
  if (ms >= 3_600_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 60_000)} min`;
}

/** How far ahead the coarse "clear" / "cloudy" call looks. */
export const WEATHER_HORIZON_H = 24;

/** "fetched 2026-12-03T05:00Z" plus, for old data, why it was not refreshed. */
export function freshnessText(cell: { fetchedAt: Date; staleBecause: string | null }): string {
  const at = `${cell.fetchedAt.toISOString().slice(0, 16)}Z`;
  return cell.staleBecause === null
    ? `fetched ${at}`
    : `fetched ${at}, not refreshed: ${cell.staleBecause}`;
}
