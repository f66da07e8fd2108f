/**
 * The batch writer: received messages wait here until they are committed, then are acknowledged.
 * A batch is written when `maxBatch` messages wait or `maxDelayMs` has passed since the first
 * one, as ONE transaction (telemetry in one statement, rejects, sites, events, statuses). Only
 * after COMMIT is each message's broker acknowledgement sent, in the order received (MQTT 5
 * §4.6), so a crash can lose nothing that was acknowledged: the broker redelivers the rest, and
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
import type { Inbound, SiteEvent } from "./messages.ts";

export const DEFAULT_MAX_BATCH = 1000;
export const DEFAULT_MAX_DELAY_MS = 50;
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
  rejected: number;
  events: number;
  /** Profiles the sites announced; already saved. */
  profiles: SiteProfile[];
}

export interface BatchWriterOptions {
  sql: postgres.Sql;
  log: Logger;
  maxBatch?: number;
  maxDelayMs?: number;
  /** Called after COMMIT and the acks; must not throw (errors are logged). */
  onCommitted: (batch: CommittedBatch) => void;
}

export class BatchWriter {
  readonly #o: BatchWriterOptions;
  readonly #maxBatch: number;
  readonly #maxDelayMs: number;
  #queue: QueuedMessage[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushing: Promise<unknown> | undefined;
  #failures = 0;
  #stopping = false;
  stats = { batches: 0, failedAttempts: 0 };

  constructor(options: BatchWriterOptions) {
    this.#o = options;
    this.#maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    this.#maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  }

  get pending(): number {
    return this.#queue.length;
  }

  push(message: QueuedMessage): void {
    this.#queue.push(message);
    this.#schedule();
  }

  /** Writes everything queued, retrying up to `deadlineMs`; what is left is not acknowledged. */
  async drain(deadlineMs: number): Promise<void> {
    this.#stopping = true;
    const until = Date.now() + deadlineMs;
    this.#clearTimer();
    while (this.#queue.length > 0 || this.#flushing) {
      if (this.#flushing) {
        await this.#flushing;
        continue;
      }
      if (Date.now() >= until) {
        this.#o.log.warn("stopping with messages not written; the broker will redeliver them", {
          pending: this.#queue.length,
        });
        return;
      }
      const attempt = this.#flushOnce();
      this.#flushing = attempt.finally(() => (this.#flushing = undefined));
      const ok = await attempt;
      if (!ok) await sleep(Math.min(this.#backoffMs(), Math.max(0, until - Date.now())));
    }
  }

  #schedule() {
    if (this.#flushing || this.#stopping) return;
    if (this.#queue.length >= this.#maxBatch && this.#failures === 0) {
      this.#clearTimer();
      this.#startFlush();
    } else if (this.#timer === undefined && this.#queue.length > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#startFlush();
      }, this.#failures > 0 ? this.#backoffMs() : this.#maxDelayMs);
    }
  }

  #startFlush() {
    if (this.#flushing || this.#stopping) return;
    this.#flushing = this.#flushOnce().finally(() => {
      this.#flushing = undefined;
      this.#schedule();
    });
  }

  #clearTimer() {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #backoffMs(): number {
    return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.max(0, this.#failures - 1));
  }

  /** One attempt at the oldest `maxBatch` messages; true when they were committed and acked. */
  async #flushOnce(): Promise<boolean> {
    const batch = this.#queue.slice(0, this.#maxBatch);
    if (batch.length === 0) return true;
    const split = splitBatch(batch);
    let inserted = 0;
    try {
      inserted = await this.#o.sql.begin(async (tx) => {
        const n = await insertTelemetry(tx, split.records);
        await insertRejects(tx, split.rejects);
        await upsertSites(tx, split.sites);
        await insertSiteEvents(tx, split.events);
        for (const profile of split.profiles) await saveSiteProfile(tx, profile);
        for (const s of latestStatusPerSite(split.statuses)) {
          await setSiteStatus(tx, s.siteId, { status: s.status, at: s.at });
        }
        return n;
      });
    } catch (error) {
      this.#failures++;
      this.stats.failedAttempts++;
      const fields = { error, messages: batch.length, retryInMs: this.#backoffMs() };
      if (this.#failures === 1) {
        this.#o.log.error("database write failed; keeping messages unacknowledged", fields);
      } else {this.#o.log.debug("database write failed again", {
          ...fields,
          attempt: this.#failures,
        });}
      return false;
    }
    if (this.#failures > 0) {
      this.#o.log.info("database writes recovered", { failedAttempts: this.#failures });
      this.#failures = 0;
    }
    // Committed: only now may the broker forget these messages.
    this.#queue.splice(0, batch.length);
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
        inserted,
        rejected: split.rejects.length,
        events: split.events.length,
        profiles: split.profiles,
      });
    } catch (error) {
      this.#o.log.error("after-commit step failed", { error });
    }
    return true;
  }
}

function splitBatch(batch: QueuedMessage[]) {
  const records: TelemetryRecord[] = [];
  const topicSiteIds: string[] = [];
  const rejects: RejectedMessage[] = [];
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
        rejects.push(inbound.reject);
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
  return [...latest.values()];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
