/**
 * The alarm engine: the pure rules of src/core/alarm_rules.ts run per site on every committed
 * batch (records, device events, status changes) and on a clock tick (silence); each change of a
 * condition becomes a stored alarm — raised → acknowledged → cleared, one open per site and kind —
 * published on `kasi/v1/sites/{siteId}/event` and POSTed to the webhooks. Rules run synchronously
 * in memory; storing, publishing and notifying run in the background, one change after the other,
 * so ingestion never waits for them and a failure is logged, never thrown into it.
 */
import type postgres from "postgres";
import { type Alarm, ALARM_EVENT_ORIGIN, type AlarmKind } from "../core/alarm.ts";
import {
  type AlarmCondition,
  type AlarmRuleState,
  newAlarmRuleState,
  onEvent,
  onRecord,
  onReject,
  onStatus,
  onTick,
  type RuleResult,
  seedAlarmRuleState,
  type SiteRuleContext,
} from "../core/alarm_rules.ts";
import type { Logger } from "../core/log.ts";
import type { TelemetryRecord } from "../core/telemetry.ts";
import { parseTopic, v1Topic } from "../core/topics.ts";
import {
  acknowledgeAlarm,
  clearAlarm,
  insertAlarm,
  listAlarms,
  loadOpenAlarms,
  openAlarm,
} from "../db/alarm_store.ts";
import type { AckResult, AlarmBook, AlarmFilter } from "./alarm_book.ts";
import type { AlarmChange, AlarmWebhooks } from "./alarm_webhooks.ts";
import type { SiteEvent } from "./messages.ts";

/** The payload of an alarm event on `kasi/v1/sites/{siteId}/event`. */
export interface AlarmEventPayload {
  kind: "alarm";
  origin: typeof ALARM_EVENT_ORIGIN;
  ts: string;
  site_id: string;
  change: AlarmChange;
  alarm: Alarm;
}

/** Changes kept for a retry while the database fails: one per site and kind, 8 kinds × 10 000. */
const MAX_RETRIES = 80_000;

export interface AlarmEngineOptions {
  sql: postgres.Sql;
  log: Logger;
  now: () => Date;
  /** Publishes one alarm event (QoS 1); the service's MQTT client once connected. */
  publish?: (topic: string, payload: string) => Promise<unknown>;
  webhooks?: AlarmWebhooks;
}

/** What one committed batch brings the rules. */
export interface AlarmInput {
  records: readonly TelemetryRecord[];
  events?: readonly SiteEvent[];
  statuses?: readonly { siteId: string; status: "online" | "offline"; at: Date }[];
  /** Rejected messages; those on a site's telemetry topic feed its sensor rule. */
  rejects?: readonly { topic: string; reason: string; receivedAt: Date }[];
}

/** The site's context for a record: profile, SoC, the latest advice's hours and PV time. */
export type ContextOf = (siteId: string, record: TelemetryRecord) => SiteRuleContext;

export class AlarmEngine implements AlarmBook {
  readonly #o: AlarmEngineOptions;
  readonly #rules = new Map<string, AlarmRuleState>();
  /** Stored open alarms per site. */
  readonly #open = new Map<string, Map<AlarmKind, Alarm>>();
  readonly #listeners = new Set<(alarm: Alarm) => void>();
  #work: Promise<void> = Promise.resolve();
  /** Set by close(): what is still queued is dropped, not tried on a closed pool one by one. */
  #closed = false;
  /** Changes dropped by close(); they are raised again from the telemetry after a restart. */
  dropped = 0;
  /** Changes that could not be stored, by site and kind (the newest wins), tried each tick. */
  readonly #retry = new Map<string, { siteId: string; condition: AlarmCondition }>();
  #sinceMs = 0;
  /** Whether the last tick could not hear the sites (see tick). */
  #deaf = false;
  stats = { raised: 0, cleared: 0, acknowledged: 0, failures: 0 };

  constructor(options: AlarmEngineOptions) {
    this.#o = options;
  }

  /**
   * Reloads the open alarms and seeds each site's rules with them (so none is raised twice), and
   * with its newest telemetry time (so a site silent since before the start goes offline).
   */
  async start(sites: readonly { siteId: string; latestTime: Date | null }[]): Promise<void> {
    this.#sinceMs = this.#o.now().getTime();
    for (const alarm of await loadOpenAlarms(this.#o.sql)) this.#remember(alarm);
    for (const s of sites) {
      const state = this.#state(s.siteId);
      this.#rules.set(s.siteId, { ...state, lastTimeMs: s.latestTime?.getTime() ?? null });
    }
    for (const [siteId, open] of this.#open) {
      this.#rules.set(siteId, seedAlarmRuleState(this.#state(siteId), open));
    }
  }

  /** Runs the rules on a committed batch. Never throws; the stores happen in the background. */
  observe(input: AlarmInput, contextOf: ContextOf): void {
    for (const record of input.records) {
      this.#run(
        record.siteId,
        (state) => onRecord(state, record, contextOf(record.siteId, record)),
      );
    }
    for (const e of input.events ?? []) {
      const detail = e.detail as { values?: unknown } | null;
      const values = detail !== null && typeof detail.values === "object" && detail.values !== null
        ? detail.values as Record<string, unknown>
        : {};
      this.#run(e.siteId, (state) => onEvent(state, { kind: e.kind, time: e.time, values }));
    }
    for (const r of input.rejects ?? []) {
      const topic = parseTopic(r.topic);
      if (!topic || (topic.kind === "v1" && topic.channel !== "telemetry")) continue;
      const siteId = topic.kind === "legacy-telemetry" ? topic.siteId.toLowerCase() : topic.siteId;
      // Only sites already known: a stray topic must not create rule state (memory).
      if (!this.#rules.has(siteId)) continue;
      this.#run(siteId, (state) => onReject(state, { reason: r.reason, at: r.receivedAt }));
    }
    // After the records: a last will older than a record of the same batch is stale (onStatus).
    for (const s of input.statuses ?? []) {
      this.#run(s.siteId, (state) => onStatus(state, s));
    }
  }

  /**
   * The clock: changes not stored are tried again; sites silent for too long go offline. With
   * `hearing: false` (the backend's own broker link is down, or its database writes fail, so
   * telemetry cannot reach the rules) no site is judged silent, and silence counts again from
   * the first tick that hears: one backend outage must not raise an alarm for every site.
   */
  tick(options: { hearing?: boolean } = {}): void {
    const retries = [...this.#retry.values()];
    this.#retry.clear();
    for (const r of retries) this.#change(r.siteId, r.condition);
    const now = this.#o.now();
    if (options.hearing === false) {
      this.#deaf = true;
      return;
    }
    if (this.#deaf) {
      this.#deaf = false;
      this.#sinceMs = now.getTime();
      return;
    }
    for (const siteId of this.#rules.keys()) {
      this.#run(siteId, (state) => onTick(state, now, this.#sinceMs));
    }
  }

  /** Drops the changes still queued (the backend is stopping and its pool is about to close). */
  close(): void {
    this.#closed = true;
  }

  /** Resolves when every change so far is stored, published and handed to the webhooks. */
  async idle(): Promise<void> {
    let seen: Promise<void> | undefined;
    while (seen !== this.#work) {
      seen = this.#work;
      await seen;
    }
  }

  list(filter: AlarmFilter = {}): Promise<Alarm[]> {
    return listAlarms(this.#o.sql, filter);
  }

  acknowledge(id: number, options: { by: string; at?: Date }): Promise<AckResult> {
    const at = options.at ?? this.#o.now();
    return this.#enqueue(async () => {
      const result = await acknowledgeAlarm(this.#o.sql, id, { by: options.by, at });
      if (result === null) return { ok: false, reason: "not-found" } as const;
      if (result.alarm.state === "cleared") {
        return { ok: false, reason: "already-cleared" } as const;
      }
      if (result.changed) {
        this.#remember(result.alarm);
        this.stats.acknowledged++;
        await this.#announce(result.alarm, "acknowledged");
      }
      return { ok: true, alarm: result.alarm } as const;
    });
  }

  openCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [siteId, open] of this.#open) if (open.size > 0) counts.set(siteId, open.size);
    return counts;
  }

  /** Open alarms from memory, oldest first (the demo's list). */
  openAlarms(): Alarm[] {
    return [...this.#open.values()].flatMap((m) => [...m.values()])
      .sort((a, b) => a.raisedAt.localeCompare(b.raisedAt) || a.id - b.id);
  }

  subscribe(listener: (alarm: Alarm) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #state(siteId: string): AlarmRuleState {
    return this.#rules.get(siteId) ?? newAlarmRuleState();
  }

  #run(siteId: string, rule: (state: AlarmRuleState) => RuleResult) {
    let result: RuleResult;
    try {
      result = rule(this.#state(siteId));
    } catch (error) {
      this.stats.failures++;
      this.#o.log.error("alarm rules failed", { siteId, error });
      return;
    }
    this.#rules.set(siteId, result.state);
    for (const c of result.conditions) this.#change(siteId, c);
  }

  /** Stores one change in the background; a failure (logged by #enqueue) is retried next tick. */
  #change(siteId: string, c: AlarmCondition) {
    const key = `${siteId}\u0000${c.kind}`;
    // A newer change of the same alarm supersedes one waiting for a retry.
    this.#retry.delete(key);
    this.#enqueue(() => this.#apply(siteId, c)).catch(() => {
      if (this.#retry.has(key)) return;
      // Bounded: a database down for long keeps at most this many (one per site and kind).
      if (this.#retry.size < MAX_RETRIES) this.#retry.set(key, { siteId, condition: c });
    });
  }

  /** Runs `fn` after every change queued before it; its failure is logged, never thrown. */
  #enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#work.then(() => {
      if (!this.#closed) return fn();
      this.dropped++;
      throw new Error("Cannot store the alarm change: the alarm engine is closed");
    });
    this.#work = run.then(() => {}, (error) => {
      if (this.#closed) return;
      this.stats.failures++;
      this.#o.log.error("alarm change not stored; tried again on the next tick", { error });
    });
    return run;
  }

  async #apply(siteId: string, c: AlarmCondition): Promise<void> {
    const open = this.#open.get(siteId)?.get(c.kind);
    if (c.active) {
      if (open) return;
      const alarm = await insertAlarm(this.#o.sql, {
        siteId,
        kind: c.kind,
        severity: c.severity,
        message: c.message,
        raisedAt: c.at,
        values: c.values,
      }) ?? await openAlarm(this.#o.sql, siteId, c.kind);
      if (!alarm) return;
      this.#remember(alarm);
      this.stats.raised++;
      this.#o.log.warn("alarm raised", { siteId, kind: c.kind, id: alarm.id, message: c.message });
      await this.#announce(alarm, "raised");
      return;
    }
    if (!open) return;
    const alarm = await clearAlarm(this.#o.sql, { siteId, kind: c.kind }, {
      at: c.at,
      values: c.values,
    });
    this.#open.get(siteId)?.delete(c.kind);
    if (!alarm) return;
    this.stats.cleared++;
    this.#o.log.info("alarm cleared", { siteId, kind: c.kind, id: alarm.id, message: c.message });
    await this.#announce(alarm, "cleared");
  }

  #remember(alarm: Alarm) {
    let open = this.#open.get(alarm.siteId);
    if (!open) this.#open.set(alarm.siteId, open = new Map());
    if (alarm.state === "cleared") open.delete(alarm.kind);
    else open.set(alarm.kind, alarm);
  }

  async #announce(alarm: Alarm, change: AlarmChange): Promise<void> {
    for (const listener of this.#listeners) {
      try {
        listener(alarm);
      } catch (error) {
        this.#o.log.warn("alarm listener failed", { error });
      }
    }
    this.#o.webhooks?.notify(alarm, change);
    if (!this.#o.publish) return;
    const payload: AlarmEventPayload = {
      kind: "alarm",
      origin: ALARM_EVENT_ORIGIN,
      ts: this.#o.now().toISOString(),
      site_id: alarm.siteId,
      change,
      alarm,
    };
    try {
      await this.#o.publish(v1Topic(alarm.siteId, "event"), JSON.stringify(payload));
    } catch (error) {
      this.#o.log.warn("alarm event not published", { siteId: alarm.siteId, id: alarm.id, error });
    }
  }
}
