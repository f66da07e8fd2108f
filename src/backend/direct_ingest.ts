/**
 * Ingest without a broker: messages already classified by `classifyMessage` (messages.ts) go
 * through the backend's own BatchWriter — the same statements, the same transactions, the same
 * duplicate handling — for `kasi replay --to db` (backfill) and the ingest benchmark. Where the
 * backend waits for the broker's Receive Maximum to bound what it holds, `push` makes the caller
 * wait once `maxPending` messages are not yet committed.
 */
import type postgres from "postgres";
import type { Logger } from "../core/log.ts";
import { BatchWriter, type CommittedBatch } from "./batch_writer.ts";
import type { Inbound } from "./messages.ts";

export interface DirectIngestOptions {
  sql: postgres.Sql;
  log: Logger;
  maxBatch?: number;
  maxDelayMs?: number;
  /** Messages held before `push` waits; default 10 batches, as the backend's Receive Maximum. */
  maxPending?: number;
}

export interface DirectIngestTotals {
  /** Messages pushed. */
  pushed: number;
  /** Messages whose transaction committed. */
  committed: number;
  /** Telemetry rows inserted. */
  stored: number;
  /** Telemetry already stored: same site, same time. */
  duplicates: number;
  events: number;
  /** Events identical to one already stored, skipped. */
  duplicateEvents: number;
  statuses: number;
  profiles: number;
  /** Rejects written to rejected_messages. */
  rejects: number;
}

export class DirectIngest {
  readonly #writer: BatchWriter;
  readonly #maxPending: number;
  #waiters: (() => void)[] = [];
  readonly totals: DirectIngestTotals = {
    pushed: 0,
    committed: 0,
    stored: 0,
    duplicates: 0,
    events: 0,
    duplicateEvents: 0,
    statuses: 0,
    profiles: 0,
    rejects: 0,
  };

  constructor(options: DirectIngestOptions) {
    const maxBatch = options.maxBatch ?? 1000;
    this.#maxPending = options.maxPending ?? 10 * maxBatch;
    if (!(this.#maxPending >= maxBatch)) {
      throw new RangeError(
        `maxPending must be ≥ maxBatch (${maxBatch}), got ${options.maxPending}`,
      );
    }
    this.#writer = new BatchWriter({
      sql: options.sql,
      log: options.log,
      maxBatch,
      maxDelayMs: options.maxDelayMs,
      onCommitted: (batch) => this.#committed(batch),
    });
  }

  /** Messages pushed and not yet committed. */
  get pending(): number {
    return this.#writer.pending;
  }

  /** Queues one message; resolves at once, or once the writer has room again. */
  push(inbound: Inbound): Promise<void> {
    this.totals.pushed++;
    this.#writer.push({ inbound, ack: () => this.#acked() });
    if (this.#writer.pending < this.#maxPending) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Writes what is queued, retrying a failing database for up to `timeoutMs`; returns how many
   * messages were left unwritten (0 when everything committed).
   */
  async finish(timeoutMs: number): Promise<number> {
    await this.#writer.drain(timeoutMs);
    this.#release(Infinity);
    return this.#writer.pending;
  }

  #acked() {
    this.totals.committed++;
  }

  #committed(batch: CommittedBatch) {
    const t = this.totals;
    t.stored += batch.inserted;
    t.duplicates += batch.records.length - batch.inserted;
    t.events += batch.events;
    t.duplicateEvents += batch.duplicateEvents;
    t.statuses += batch.statuses.length;
    t.profiles += batch.profiles.length;
    t.rejects += batch.rejects.length;
    this.#release(this.#maxPending);
  }

  #release(below: number) {
    while (this.#waiters.length > 0 && this.#writer.pending < below) this.#waiters.shift()!();
  }
}
