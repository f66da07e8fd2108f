/** What `kasi backend` is started with, and what it counts (src/backend/service.ts). */
import type postgres from "postgres";
import type { Logger } from "../core/log.ts";
import type { AlarmBook } from "./alarm_book.ts";
import type { HttpOptions } from "./http/server.ts";
import type { SiteWeatherOptions, WeatherProvider } from "./weather_provider.ts";

export const DEFAULT_COMMAND_INTERVAL_S = 60;
export const DEFAULT_CLIENT_ID = "kasi-backend";
/** A day: the broker queues for the backend through a long outage or a slow upgrade. */
export const DEFAULT_SESSION_EXPIRY_S = 24 * 3600;

export interface BackendOptions {
  mqttUrl: string;
  /** postgres:// URL; the service opens its own pool and closes it in stop(). */
  databaseUrl: string;
  /** A pool the caller owns, used instead of opening one from `databaseUrl`; never closed here. */
  sql?: postgres.Sql;
  /** Seconds between commands to a site whose advice has not changed (default 60). */
  commandIntervalS?: number;
  /** Weather API settings (keys, base URLs); Open-Meteo serves sites when there is no key. */
  weather?: Omit<SiteWeatherOptions, "log">;
  /** Another forecast source, used instead of Open-Meteo / OpenWeatherMap (tests). */
  weatherProvider?: WeatherProvider;
  log: Logger;
  batch?: { maxBatch?: number; maxDelayMs?: number };
  /** Fixed per deployment so the broker keeps its session; default "kasi-backend". */
  clientId?: string;
  /** Pool size of the service's own pool (PGlite via its socket needs 1). Default 10. */
  dbMax?: number;
  /** Broker session expiry; 0 ends the session at disconnect (tests). */
  sessionExpiryS?: number;
  /** Apply pending migrations at start (the CLI does; tests migrate themselves). */
  migrate?: boolean;
  /** How long stop() keeps trying to write what it holds (default 5 s); the rest is redelivered. */
  stopTimeoutMs?: number;
  /**
   * The clock telemetry, plans and commands live on: real time by default; a test's, or the
   * demo's simulated clock that runs `speed` times faster.
   */
  now?: () => Date;
  /**
   * The real clock in ms, when `now` is not real time: weather rate limits and the least gap
   * between two early commands are counted on it. Default: `now`.
   */
  wallClockMs?: () => number;
  /** Seconds between recomputes of the hourly rollup on plain PostgreSQL (default 300). */
  rollupIntervalS?: number;
  /** Serve health, metrics, the JSON API and the web view (src/backend/http/). */
  http?: HttpOptions;
  /** A book the API lists and acknowledges instead of the alarm engine's (tests of the API). */
  alarms?: AlarmBook;
  /** URLs every alarm raise, acknowledgement and clear is POSTed to (KASI_ALARM_WEBHOOK_URL). */
  alarmWebhookUrls?: readonly string[];
  /** Real seconds between checks for silent sites (default 10). */
  alarmTickS?: number;
}

export interface BackendStats {
  /** Messages taken from the broker. */
  received: number;
  /** Telemetry rows inserted. */
  stored: number;
  /** Telemetry already stored (redeliveries, repeats). */
  duplicates: number;
  rejected: number;
  events: number;
  statusUpdates: number;
  commandsSent: number;
  batches: number;
  /** Messages waiting to be written and acknowledged. */
  pending: number;
  /** Sites being planned or waiting for it (a forward forecast each, one at a time). */
  planning: number;
}
