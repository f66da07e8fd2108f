/**
 * Keeps the plain `telemetry_hourly` table up to date on PostgreSQL without TimescaleDB (where
 * TimescaleDB is enabled, the table is a continuous aggregate refreshed by its own policy, and
 * this job does nothing). The backend tells it which site-hours each committed batch touched;
 * every `intervalS` (default 5 min) it recomputes exactly those hours from telemetry in one
 * idempotent statement, so late rows (a device's offline queue) land in the right hour. At start
 * it catches up from each site's newest stored hour, for rows written while no backend ran.
 * Dashboards read the table only for ranges of several days, so minutes of lag are invisible.
 */
import type { Logger } from "../core/log.ts";
import type { Db } from "../db/client.ts";
import {
  catchUpHours,
  type HourlyRollupKind,
  hourlyRollupKind,
  hourOf,
  recomputeHours,
  type SiteHour,
} from "../db/telemetry_hourly.ts";

/** Five minutes: far below the hour a bucket spans, and one small statement per interval. */
export const DEFAULT_ROLLUP_INTERVAL_S = 300;
/**
 * Pending site-hours that trigger a run before the interval: a live fleet touches one or two
 * hours per site per interval, so this is only reached by a burst of old data (a replay), and it
 * bounds the job's memory to about a megabyte.
 */
const MAX_PENDING = 10_000;
/** Site-hours per statement: each is an index range scan of at most an hour of one site. */
const HOURS_PER_STATEMENT = 2_000;

/** What the job runs on; the database functions by default, a stand-in in timer tests. */
export interface RollupStore {
  kind(): Promise<HourlyRollupKind>;
  recompute(hours: SiteHour[]): Promise<number>;
  catchUp(): Promise<number>;
}

export interface RollupJobOptions {
  sql: Db;
  log: Logger;
  intervalS?: number;
  store?: RollupStore;
}

export class RollupJob {
  readonly #o: RollupJobOptions;
  readonly #store: RollupStore;
  readonly #intervalMs: number;
  #pending = new Map<string, SiteHour>();
  #active = false;
  #stopping = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #chain: Promise<void> = Promise.resolve();
  stats = { runs: 0, rows: 0, failures: 0 };

  constructor(options: RollupJobOptions) {
    this.#o = options;
    const sql = options.sql;
    this.#store = options.store ?? {
      kind: () => hourlyRollupKind(sql),
      recompute: (hours) => recomputeHours(sql, hours),
      catchUp: () => catchUpHours(sql),
    };
    const intervalS = options.intervalS ?? DEFAULT_ROLLUP_INTERVAL_S;
    if (!(intervalS > 0)) throw new RangeError(`intervalS must be > 0, got ${intervalS}`);
    this.#intervalMs = intervalS * 1000;
  }

  /** Whether this job maintains the table (plain PostgreSQL) or leaves it to TimescaleDB. */
  get active(): boolean {
    return this.#active;
  }

  /** Checks what telemetry_hourly is; when it is a table, starts the catch-up and the timer. */
  async start(): Promise<void> {
    const kind = await this.#store.kind();
    if (kind !== "table") {
      this.#o.log.info("telemetry_hourly is not a plain table; the backend does not maintain it", {
        kind,
      });
      return;
    }
    this.#active = true;
    // In the background: a long first-generation history must not delay ingestion.
    this.#enqueue(async () => {
      const rows = await this.#store.catchUp();
      if (rows > 0) this.#o.log.info("telemetry_hourly caught up", { rows });
    });
    this.#arm();
  }

  /** Notes the site-hours of committed telemetry, recomputed at the next run. */
  touch(records: readonly { siteId: string; time: Date }[]): void {
    if (!this.#active) return;
    for (const r of records) {
      const bucket = hourOf(r.time);
      const key = `${r.siteId}\n${bucket.getTime()}`;
      if (!this.#pending.has(key)) this.#pending.set(key, { siteId: r.siteId, bucket });
    }
    if (this.#pending.size >= MAX_PENDING) void this.flush();
  }

  /** Site-hours waiting for the next run. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Recomputes every pending site-hour now; resolves when this and earlier runs are done. */
  flush(): Promise<void> {
    return this.#enqueue(() => this.#recomputePending());
  }

  /** Stops the timer and writes what is pending, waiting at most `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#active) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    try {
      await Promise.race([this.flush(), late]);
    } finally {
      clearTimeout(timer);
      this.#active = false;
    }
  }

  /** Drops what is pending and stops the timer, without writing (a failed start). */
  cancel(): void {
    this.#stopping = true;
    this.#active = false;
    clearTimeout(this.#timer);
    this.#pending.clear();
  }

  #arm() {
    this.#timer = setTimeout(() => {
      void this.flush().finally(() => {
        if (this.#active && !this.#stopping) this.#arm();
      });
    }, this.#intervalMs);
  }

  /** Runs `work` after the runs before it; a failure is logged and counted, never thrown. */
  #enqueue(work: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(async () => {
      try {
        await work();
        this.stats.runs++;
      } catch (error) {
        this.stats.failures++;
        await this.#afterFailure(error);
      }
    });
    return this.#chain;
  }

  async #recomputePending() {
    if (this.#pending.size === 0) return;
    const hours = [...this.#pending.values()];
    this.#pending = new Map();
    for (let i = 0; i < hours.length; i += HOURS_PER_STATEMENT) {
      const part = hours.slice(i, i + HOURS_PER_STATEMENT);
      try {
        this.stats.rows += await this.#store.recompute(part);
      } catch (error) {
        // Kept for the next run, with whatever arrived meanwhile.
        for (const h of hours.slice(i)) {
          const key = `${h.siteId}\n${h.bucket.getTime()}`;
          if (!this.#pending.has(key)) this.#pending.set(key, h);
        }
        throw error;
      }
    }
  }

  /**
   * A `kasi migrate` run while this backend runs may have turned the table into a continuous
   * aggregate: then the job stands down. Otherwise (database away) it retries at the next run.
   */
  async #afterFailure(error: unknown) {
    const kind = await this.#store.kind().catch(() => "table" as const);
    if (kind !== "table") {
      this.#o.log.info("telemetry_hourly is no longer a plain table; the rollup stops", { kind });
      this.#active = false;
      this.#pending.clear();
      clearTimeout(this.#timer);
      return;
    }
    this.#o.log.warn("hourly rollup failed; retrying at the next run", {
      error,
      pending: this.#pending.size,
    });
  }
}
