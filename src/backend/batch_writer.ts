/**
 * The batch writer: received messages wait here until they are committed, then are acknowledged.
 * A batch is written when `maxBatch` messages wait or `maxDelayMs` has passed since the first
 * one, as ONE transaction (telemetry in one statement, rejects, sites, events, statuses); up to
 * `maxConcurrent` transactions run at once. Only after COMMIT is each message's broker
 * acknowledgement sent, in the order received (MQTT 5 §4.6: a later batch that commits first
 * waits for the earlier one), so a crash can lose nothing that was acknowledged: the broker
 * redelivers the rest, and
 * the telemetry primary key makes the redelivery one row. When the database fails nothing is
 * acknowledged; the batch is retried with backoff and the broker stops sending once the
 * client's Receive Maximum of unacknowledged messages is reached, which bounds memory.
 */
import type postgres from "postgres";
import type { Logger } from "../core/log.ts";
import type { SiteProfile } from "../core/site_profile.ts";
import type { TelemetryRecord } from "../core/telemetry.ts";
import {
  insertRejects,
  insertSiteEvents,
  insertTelemetry,
  type RejectedMessage,
  saveSiteProfile,
  setSiteStatus,
  upsertSites,
} from "../db/store.ts";
import type { RejectCode } from "../core/telemetry.ts";
import type { Inbound, SiteEvent } from "./messages.ts";

export const DEFAULT_MAX_BATCH = 1000;
/**
 * How long a partial batch waits for more. Short, because every command answers telemetry
 * that waited here (target: telemetry→command p99 ≤ 50 ms). Under load, batches still fill up:
 * while both transactions are busy the queue grows, and the next batch takes up to maxBatch.
 */
export const DEFAULT_MAX_DELAY_MS = 5;
/**
 * Transactions in flight at once. One at a time leaves the backend idle half the time waiting
 * for PostgreSQL (bench:ingest profile: 49 % idle) and PostgreSQL on one core; two overlap one
 * batch's COMMIT with the next one's INSERT. More gains nothing on 2 cores: each batch updates
 * the same `sites` rows, and those row locks queue the transactions behind each other.
 */
export const DEFAULT_MAX_CONCURRENT = 2;
/**
 * `sites.last_seen` is kept to this resolution: a known site's row is rewritten only when it was
 * last written this long ago (or its protocol changed). Rewriting every site's row in every
 * batch cost PostgreSQL one row update per message; a minute is the resolution a "last seen"
 * column is read at, and the telemetry rows keep every exact time.
 */
export const SITE_SEEN_RESOLUTION_MS = 60_000;
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5000;

export interface QueuedMessage {
  inbound: Inbound;
  /** Sends the broker acknowledgement; a no-op for QoS 0. */
  ack: () => void;
}

/** What one committed batch held, for the site state and planner. */
export interface CommittedBatch {
  records: TelemetryRecord[];
  /** Per record: the site id as its topic spelled it. */
  topicSiteIds: string[];
  statuses: { siteId: string; status: "online" | "offline"; at: Date }[];
  inserted: number;
  /** From the batch's first message reaching the writer to its COMMIT, in ms (clockMs). */
  latencyMs: number;
  /** Events stored; an event identical to a stored one is skipped (insertSiteEvents). */
  events: number;
  /** Events skipped as identical to a stored one. */
  duplicateEvents: number;
  /** Profiles the sites announced; already saved. */
  profiles: SiteProfile[];
  /** The device events of the batch, in arrival order (the alarm rules read them). */
  siteEvents: SiteEvent[];
  /**
   * Rejected messages, already stored, each with its stable code (the metrics count by it; the
   * alarm rules read a site's rejected telemetry).
   */
  rejects: CodedReject[];
}

export interface CodedReject extends RejectedMessage {
  code: RejectCode;
}

export interface BatchWriterOptions {
  sql: postgres.Sql;
  log: Logger;
  maxBatch?: number;
  maxDelayMs?: number;
  /** Transactions in flight at once (default 2); acknowledgements stay in arrival order. */
  maxConcurrent?: number;
  /** Called after COMMIT and the acks; must not throw (errors are logged). */
  onCommitted: (batch: CommittedBatch) => void;
  /** A monotonic clock in ms for batch latency (default performance.now). */
  clockMs?: () => number;
}

/** A batch taken from the queue: being written, waiting for a retry, or committed. */
interface Flight {
  batch: QueuedMessage[];
  split: ReturnType<typeof splitBatch>;
  /** When its first message was pushed (clockMs). */
  firstAtMs: number;
  /** Set on COMMIT. */
  result?: { inserted: number; events: number; committedAtMs: number };
}

export class BatchWriter {
  readonly #o: BatchWriterOptions;
  readonly #maxBatch: number;
  readonly #maxDelayMs: number;
  readonly #maxConcurrent: number;
  #queue: QueuedMessage[] = [];
  /** When each queued message was pushed, parallel to #queue. */
  #queueAt: number[] = [];
  readonly #clockMs: () => number;
  /** Taken batches in the order taken; acknowledged from the front once committed. */
  readonly #flights: Flight[] = [];
  #running = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #retrying: Flight[] = [];
  #settled: (() => void)[] = [];
  #failures = 0;
  #stopping = false;
  /**
   * Per site: the minute (since the epoch) of the last_seen last committed to `sites`, negated
   * for a first-generation site. A small integer, not an object: V8 keeps it unboxed (a Smi),
   * about 60 bytes less per site than { atMs, protocol } (bench:fleet memory, 100 000 sites).
   */
  readonly #seenWritten = new Map<string, number>();
  stats = { batches: 0, failedAttempts: 0 };

  constructor(options: BatchWriterOptions) {
    this.#o = options;
    this.#maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    this.#maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    this.#maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
    this.#clockMs = options.clockMs ?? (() => performance.now());
    if (!(Number.isInteger(this.#maxConcurrent) && this.#maxConcurrent >= 1)) {
      throw new RangeError(`maxConcurrent must be an integer ≥ 1, got ${options.maxConcurrent}`);
    }
  }

  /** Whether the last write failed and its batch waits for a retry (the database is down). */
  get failing(): boolean {
    return this.#failures > 0;
  }

  /** Messages received and not yet acknowledged. */
  get pending(): number {
    let n = this.#queue.length;
    for (const f of this.#flights) n += f.batch.length;
    return n;
  }

  push(message: QueuedMessage): void {
    this.#queue.push(message);
    this.#queueAt.push(this.#clockMs());
    this.#schedule();
  }

  /** Writes everything held, retrying up to `deadlineMs`; what is left is not acknowledged. */
  async drain(deadlineMs: number): Promise<void> {
    this.#stopping = true;
    const until = Date.now() + deadlineMs;
    this.#clearTimers();
    while (this.#running > 0) await new Promise<void>((resolve) => this.#settled.push(resolve));
    while (true) {
      const flight = this.#flights.find((f) => !f.result) ??
        (this.#queue.length > 0 ? this.#take() : undefined);
      if (!flight) return;
      if (Date.now() >= until) {
        this.#o.log.warn("stopping with messages not written; the broker will redeliver them", {
          pending: this.pending,
        });
        return;
      }
      if (!(await this.#write(flight))) {
        await sleep(Math.min(this.#backoffMs(), Math.max(0, until - Date.now())));
      }
    }
  }

  #schedule() {
    // After a failure, only its retry runs until a write succeeds: no new transactions pile up
    // on a sick database.
    if (this.#stopping || this.#failures > 0) return;
    while (this.#running < this.#maxConcurrent && this.#queue.length >= this.#maxBatch) {
      this.#clearTimer();
      this.#start(this.#take());
    }
    if (this.#queue.length > 0 && this.#running < this.#maxConcurrent && !this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.#stopping || this.#failures > 0 || this.#queue.length === 0) return;
        if (this.#running < this.#maxConcurrent) this.#start(this.#take());
      }, this.#maxDelayMs);
    }
  }

  #take(): Flight {
    const batch = this.#queue.splice(0, this.#maxBatch);
    const at = this.#queueAt.splice(0, batch.length);
    const flight = { batch, split: splitBatch(batch), firstAtMs: at[0] ?? this.#clockMs() };
    this.#flights.push(flight);
    return flight;
  }

  #start(flight: Flight) {
    void this.#write(flight).then((ok) => {
      if (ok || this.#stopping) return;
      this.#retrying.push(flight);
      this.#retryTimer ??= setTimeout(() => this.#retryNow(), this.#backoffMs());
    });
  }

  /** Retries the failed batches (after the backoff, or as soon as another write succeeded). */
  #retryNow() {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const flights = this.#retrying.splice(0);
    if (this.#stopping) return;
    // In the order taken, so the oldest commits (and unblocks the acknowledgements) first.
    flights.sort((a, b) => this.#flights.indexOf(a) - this.#flights.indexOf(b));
    for (const flight of flights) this.#start(flight);
  }

  #clearTimer() {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #clearTimers() {
    this.#clearTimer();
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#retrying.length = 0;
  }

  #backoffMs(): number {
    return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.max(0, this.#failures - 1));
  }

  /** One attempt at one batch, as one transaction; true when it committed. */
  async #write(flight: Flight): Promise<boolean> {
    const split = flight.split;
    const sitesToWrite = this.#sitesDue(split.sites);
    this.#running++;
    try {
      let events = 0;
      const inserted = await this.#transaction(async (tx) => {
        const n = await insertTelemetry(tx, split.records);
        await insertRejects(tx, split.rejects);
        await upsertSites(tx, sitesToWrite);
        events = await insertSiteEvents(tx, split.events);
        // Sorted by site: concurrent transactions lock shared rows in one order (no deadlock).
        const profiles = [...split.profiles].sort((a, b) => compare(a.siteId, b.siteId));
        for (const profile of profiles) await saveSiteProfile(tx, profile);
        for (const s of latestStatusPerSite(split.statuses)) {
          await setSiteStatus(tx, s.siteId, { status: s.status, at: s.at });
        }
        return n;
      });
      flight.result = { inserted, events, committedAtMs: this.#clockMs() };
      for (const site of sitesToWrite) {
        const minute = Math.floor(site.seenAt.getTime() / SITE_SEEN_RESOLUTION_MS);
        const seen = this.#seenWritten.get(site.siteId);
        if (seen === undefined || minute >= Math.abs(seen)) {
          this.#seenWritten.set(site.siteId, site.protocol === "legacy" ? -minute : minute);
        }
      }
    } catch (error) {
      this.#failures++;
      this.stats.failedAttempts++;
      const fields = { error, messages: flight.batch.length, retryInMs: this.#backoffMs() };
      if (this.#failures === 1) {
        this.#o.log.error("database write failed; keeping messages unacknowledged", fields);
      } else {
        this.#o.log.debug("database write failed again", { ...fields, attempt: this.#failures });
      }
      return false;
    } finally {
      this.#running--;
      for (const resolve of this.#settled.splice(0)) resolve();
    }
    if (this.#failures > 0) {
      this.#o.log.info("database writes recovered", { failedAttempts: this.#failures });
      this.#failures = 0;
      // The database answers again: the failed batch need not wait out its backoff.
      if (this.#retrying.length > 0) this.#retryNow();
    }
    this.#release();
    this.#schedule();
    return true;
  }

  /**
   * BEGIN … COMMIT on a connection reserved while idle, not `sql.begin`: in postgres.js 3.4.9 a
   * BEGIN pipelined onto a busy pool connection can lose its reservation (porsager/postgres
   * #823, #1189): the batch fails with UNSAFE_TRANSACTION and the server is left inside a
   * transaction that other queries then run in. bench:fleet hit it with two batches and the
   * planner's command inserts sharing the pool. A reserved connection has nothing pipelined.
   */
  async #transaction<T>(fn: (tx: postgres.Sql) => Promise<T>): Promise<T> {
    const conn = await this.#o.sql.reserve();
    try {
      await conn`begin`;
      try {
        const result = await fn(conn);
        await conn`commit`;
        return result;
      } catch (error) {
        await conn`rollback`.catch(() => {});
        throw error;
      }
    } finally {
      conn.release();
    }
  }

  /** The sightings `sites` needs: new sites, changed protocols, last_seen older than a minute. */
  #sitesDue(sites: ReturnType<typeof splitBatch>["sites"]) {
    return sites.filter((s) => {
      const seen = this.#seenWritten.get(s.siteId);
      if (seen === undefined || (seen < 0) !== (s.protocol === "legacy")) return true;
      return Math.floor(s.seenAt.getTime() / SITE_SEEN_RESOLUTION_MS) > Math.abs(seen);
    });
  }

  /** Acknowledges committed batches from the front, so acks go out in the order received. */
  #release() {
    while (this.#flights[0]?.result) {
      const { batch, split, result, firstAtMs } = this.#flights.shift()!;
      // Committed: only now may the broker forget these messages.
      for (const m of batch) {
        try {
          m.ack();
        } catch (error) {
          this.#o.log.warn("could not acknowledge a message", { error });
        }
      }
      this.stats.batches++;
      try {
        this.#o.onCommitted({
          records: split.records,
          topicSiteIds: split.topicSiteIds,
          statuses: split.statuses,
          inserted: result!.inserted,
          latencyMs: result!.committedAtMs - firstAtMs,
          events: result!.events,
          duplicateEvents: split.events.length - result!.events,
          profiles: split.profiles,
          siteEvents: split.events,
          rejects: split.rejects,
        });
      } catch (error) {
        this.#o.log.error("after-commit step failed", { error });
      }
    }
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function splitBatch(batch: QueuedMessage[]) {
  const records: TelemetryRecord[] = [];
  const topicSiteIds: string[] = [];
  const rejects: CodedReject[] = [];
  const sites: { siteId: string; protocol: "v1" | "legacy"; seenAt: Date }[] = [];
  const events: SiteEvent[] = [];
  const profiles: SiteProfile[] = [];
  const statuses: { siteId: string; status: "online" | "offline"; at: Date }[] = [];
  for (const { inbound } of batch) {
    switch (inbound.kind) {
      case "telemetry":
        records.push(inbound.record);
        topicSiteIds.push(inbound.topicSiteId);
        sites.push({
          siteId: inbound.record.siteId,
          protocol: inbound.record.protocol,
          seenAt: inbound.receivedAt,
        });
        break;
      case "reject":
        rejects.push({ ...inbound.reject, code: inbound.code });
        break;
      case "event":
        events.push(inbound.event);
        sites.push({ siteId: inbound.event.siteId, protocol: "v1", seenAt: inbound.receivedAt });
        break;
      case "profile":
        events.push(inbound.event);
        profiles.push(inbound.profile);
        sites.push({ siteId: inbound.event.siteId, protocol: "v1", seenAt: inbound.receivedAt });
        break;
      case "status":
        statuses.push(inbound);
        break;
      case "ignore":
        break;
    }
  }
  return { records, topicSiteIds, rejects, sites, events, profiles, statuses };
}

function latestStatusPerSite(
  statuses: { siteId: string; status: "online" | "offline"; at: Date }[],
) {
  const latest = new Map<string, (typeof statuses)[number]>();
  // Later in the batch wins at equal times: it was received later.
  for (const s of statuses) {
    const seen = latest.get(s.siteId);
    if (!seen || s.at.getTime() >= seen.at.getTime()) latest.set(s.siteId, s);
  }
  // In site order, as every shared row is locked (see #write).
  return [...latest.values()].sort((a, b) => compare(a.siteId, b.siteId));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
