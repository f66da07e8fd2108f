/**
 * `kasi backend`: MQTT in, PostgreSQL, predictions, strategic commands out. The constructor only
 * stores options; `start()` connects and subscribes, `stop()` stops taking messages, writes and
 * acknowledges what it holds, lets running plans finish, disconnects and closes the database.
 */
import type mqtt from "mqtt";
import type postgres from "postgres";
import type { SiteProfile } from "../core/site_profile.ts";
import { BACKEND_SUBSCRIPTIONS, parseTopic } from "../core/topics.ts";
import { connectDatabase } from "../db/client.ts";
import { runMigrations } from "../db/migrate.ts";
import { loadSiteSnapshots, telemetryBetween } from "../db/store.ts";
import { telemetryBuckets } from "../db/telemetry_buckets.ts";
import type { AlarmBook } from "./alarm_book.ts";
import { BackendMetrics } from "./backend_metrics.ts";
import {
  BatchWriter,
  type CommittedBatch,
  DEFAULT_MAX_BATCH,
  DEFAULT_MAX_DELAY_MS,
} from "./batch_writer.ts";
import { AlarmEngine } from "./alarms.ts";
import { AlarmWebhooks } from "./alarm_webhooks.ts";
import { RateLimitedWarn } from "./log_limiter.ts";
import type { HttpOptions, HttpServer } from "./http/server.ts";
import { classifyMessage } from "./messages.ts";
import { connectLink, type ReceivedMessage } from "./mqtt_link.ts";
import { Planner } from "./planner.ts";
import { RollupJob } from "./rollup.ts";
import {
  defaultV1Profile,
  profileOf,
  SiteStates,
  type SiteStatesOptions,
  type SiteView,
} from "./site_state.ts";
import { SiteWeatherProvider } from "./weather_provider.ts";

export type { SiteView } from "./site_state.ts";

export {
  type BackendOptions,
  type BackendStats,
  DEFAULT_CLIENT_ID,
  DEFAULT_COMMAND_INTERVAL_S,
  DEFAULT_SESSION_EXPIRY_S,
} from "./service_options.ts";
import {
  type BackendOptions,
  type BackendStats,
  DEFAULT_CLIENT_ID,
  DEFAULT_COMMAND_INTERVAL_S,
  DEFAULT_SESSION_EXPIRY_S,
} from "./service_options.ts";

const DEFAULT_STOP_TIMEOUT_MS = 5000;
/** /readyz counts the database down when `select 1` takes longer than this. */
const READY_DB_TIMEOUT_MS = 2000;

export class BackendService {
  readonly #o: BackendOptions;
  #sql: postgres.Sql | undefined;
  #client: mqtt.MqttClient | undefined;
  #writer: BatchWriter | undefined;
  #planner: Planner | undefined;
  #rollup: RollupJob | undefined;
  #http: HttpServer | undefined;
  readonly #metrics: BackendMetrics;
  #alarms: AlarmEngine | undefined;
  #webhooks: AlarmWebhooks | undefined;
  #alarmTimer: ReturnType<typeof setInterval> | undefined;
  readonly #siteOptions: SiteStatesOptions;
  #sites: SiteStates;
  readonly #rejects: RateLimitedWarn;
  #accepting = false;
  readonly #unplanned = new Set<string>();
  readonly #strings = new Map<string, string>();
  #counts = {
    received: 0,
    stored: 0,
    duplicates: 0,
    rejected: 0,
    events: 0,
    statusUpdates: 0,
    commandsSent: 0,
  };

  constructor(options: BackendOptions) {
    this.#o = options;
    this.#siteOptions = {
      onNewSite: (site) => options.log.info("new site", { ...site }),
    };
    this.#sites = new SiteStates(this.#siteOptions);
    this.#rejects = new RateLimitedWarn({ log: options.log, what: "rejected messages" });
    this.#metrics = new BackendMetrics({
      sites: () => [...this.#sites.statusCounts()].map(([status, count]) => ({ status, count })),
      alarmsOpen: () => {
        const counts = this.#alarmBook()?.openCounts();
        if (!counts) return null;
        let n = 0;
        for (const c of counts.values()) n += c;
        return n;
      },
      pending: () => this.#writer?.pending ?? 0,
      streamClients: () => this.#http?.stream.clients ?? 0,
    });
  }

  async start(): Promise<void> {
    const { log } = this.#o;
    const now = this.#o.now ?? (() => new Date());
    const sql = this.#o.sql ??
      await connectDatabase(this.#o.databaseUrl, { max: this.#o.dbMax, log });
    this.#sql = sql;
    try {
      if (this.#o.migrate) {
        const result = await runMigrations(sql, { log });
        if (result.applied.length > 0) log.info("migrated", { applied: result.applied });
      }
      this.#sites = SiteStates.fromSnapshots(
        await loadSiteSnapshots(sql, { log }),
        this.#siteOptions,
      );
      await this.#startAlarms(sql, now);
      this.#rollup = new RollupJob({ sql, log, intervalS: this.#o.rollupIntervalS });
      await this.#rollup.start();
      const maxBatch = this.#o.batch?.maxBatch ?? DEFAULT_MAX_BATCH;
      this.#writer = new BatchWriter({
        sql,
        log,
        maxBatch,
        maxDelayMs: this.#o.batch?.maxDelayMs ?? DEFAULT_MAX_DELAY_MS,
        onCommitted: (batch) => this.#afterCommit(batch),
      });
      // Ten batches in flight: rides out a burst, and bounds memory (10 000 × a few hundred bytes).
      const receiveMaximum = Math.min(65_535, Math.max(100, 10 * maxBatch));
      this.#accepting = true;
      this.#client = await connectLink(this.#o.mqttUrl, {
        clientId: this.#o.clientId ?? DEFAULT_CLIENT_ID,
        log,
        sessionExpiryS: this.#o.sessionExpiryS ?? DEFAULT_SESSION_EXPIRY_S,
        receiveMaximum,
        onMessage: (m) => this.#onMessage(m, now()),
      });
      const weather = this.#o.weatherProvider ??
        new SiteWeatherProvider({ ...this.#o.weather, log, clockMs: this.#o.wallClockMs });
      this.#planner = new Planner({
        sql,
        mqtt: this.#client,
        sites: this.#sites,
        weather,
        log,
        commandIntervalS: this.#o.commandIntervalS ?? DEFAULT_COMMAND_INTERVAL_S,
        now,
        wallClockMs: this.#o.wallClockMs ?? (() => now().getTime()),
        onCommandSent: (command) => {
          this.#counts.commandsSent++;
          this.#metrics.commandsSent.inc();
          this.#http?.stream.touch([command.siteId]);
        },
      });
      // Sites touched by a batch committed before the planner existed.
      this.#planner.schedule(this.#unplanned);
      this.#unplanned.clear();
      await this.#client.subscribeAsync(
        Object.values(BACKEND_SUBSCRIPTIONS).map(String),
        { qos: 1 },
      );
      if (this.#o.http) await this.#startHttp(this.#o.http, sql, now);
      log.info("backend started", {
        sites: this.#sites.size,
        subscriptions: Object.values(BACKEND_SUBSCRIPTIONS),
      });
    } catch (error) {
      await this.#close();
      throw error;
    }
  }

  async stop(): Promise<void> {
    this.#accepting = false;
    try {
      await this.#http?.close();
      this.#http = undefined;
      const timeoutMs = this.#o.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
      await this.#writer?.drain(timeoutMs);
      // Commands being sent go out; a planner stuck on a dead broker does not hold the stop.
      if (this.#planner && !(await withinMs(this.#planner.idle(), timeoutMs))) {
        this.#o.log.warn("stopping while commands are still being sent");
      }
      await this.#rollup?.stop(timeoutMs);
    } finally {
      await this.#close();
      this.#o.log.info("backend stopped", { ...this.stats() });
    }
  }

  /** The HTTP server's address (http://host:port/) once started with `http`, else null. */
  httpUrl(): string | null {
    return this.#http?.url ?? null;
  }

  /** The HTTP server's bound port (the one the OS chose for port 0), else null. */
  httpPort(): number | null {
    return this.#http?.port ?? null;
  }

  /** The Prometheus exposition text of the backend's metrics. */
  metricsText(): string {
    return this.#metrics.registry.render();
  }

  /** The alarms the API serves and the metrics count: the engine's, or a test's own book. */
  #alarmBook(): AlarmBook | undefined {
    return this.#o.alarms ?? this.#alarms;
  }

  async #startHttp(options: HttpOptions, sql: postgres.Sql, now: () => Date) {
    // Loaded only when asked for: the page's files and uPlot are some 200 KB of text.
    const { startHttpServer } = await import("./http/server.ts");
    this.#http = await startHttpServer(options, {
      log: this.#o.log,
      metrics: this.#metrics.registry,
      sites: (ids) => this.#sites.views(ids),
      now,
      telemetry: (siteId, range) => telemetryBetween(sql, siteId, range),
      telemetryBuckets: (siteId, range) => telemetryBuckets(sql, siteId, range),
      alarms: this.#alarmBook(),
      readiness: async () => {
        let answered = false;
        const query = sql`select 1`.then(() => (answered = true), () => {});
        const inTime = await withinMs(query, READY_DB_TIMEOUT_MS);
        return { mqtt: this.#client?.connected ?? false, database: inTime && answered };
      },
    });
  }

  /** The alarm engine: list, acknowledge, open counts, changes (the HTTP API and views use it). */
  alarms(): AlarmBook & Pick<AlarmEngine, "openAlarms" | "idle" | "tick"> {
    if (!this.#alarms) throw new Error("Cannot read alarms: the backend is not started");
    return this.#alarms;
  }

  async #startAlarms(sql: postgres.Sql, now: () => Date) {
    const { log } = this.#o;
    const urls = this.#o.alarmWebhookUrls ?? [];
    this.#webhooks = urls.length > 0 ? new AlarmWebhooks({ urls, log }) : undefined;
    this.#alarms = new AlarmEngine({
      sql,
      log,
      now,
      webhooks: this.#webhooks,
      publish: (topic, payload) => {
        const client = this.#client;
        if (!client) return Promise.reject(new Error("not connected to the broker"));
        return client.publishAsync(topic, payload, { qos: 1 });
      },
    });
    await this.#alarms.start(
      this.#sites.views().map((v) => ({ siteId: v.siteId, latestTime: v.latest?.time ?? null })),
    );
    const tickMs = (this.#o.alarmTickS ?? 10) * 1000;
    this.#alarmTimer = setInterval(() => {
      // Telemetry reaches the rules only through the broker and a committed batch.
      const hearing = (this.#client?.connected ?? false) && !(this.#writer?.failing ?? false);
      this.#alarms?.tick({ hearing });
    }, tickMs);
  }

  sites(): SiteView[] {
    return this.#sites.views();
  }

  stats(): BackendStats {
    return {
      ...this.#counts,
      batches: this.#writer?.stats.batches ?? 0,
      pending: this.#writer?.pending ?? 0,
      planning: this.#planner?.backlog ?? 0,
    };
  }

  #onMessage(message: ReceivedMessage, receivedAt: Date) {
    // After stop() began: not taken, not acknowledged; the broker redelivers it.
    if (!this.#accepting || !this.#writer) return;
    this.#counts.received++;
    this.#metrics.received.inc();
    const inbound = classifyMessage(message.topic, message.payload, receivedAt);
    if (inbound.kind === "reject") {
      this.#rejects.warn("message rejected", {
        topic: message.topic,
        ...siteOf(message.topic),
        reason: inbound.reject.reason,
      });
    }
    this.#writer.push({ inbound, ack: message.ack });
  }

  #afterCommit(batch: CommittedBatch) {
    this.#counts.stored += batch.inserted;
    this.#counts.duplicates += batch.records.length - batch.inserted;
    this.#counts.rejected += batch.rejects.length;
    this.#counts.events += batch.events;
    this.#counts.statusUpdates += batch.statuses.length;
    for (const s of batch.statuses) this.#sites.setStatus(s.siteId, s.status);
    for (const p of batch.profiles) this.#sites.setProfile(this.#shared(p));
    this.#rollup?.touch(batch.records);
    const touched = this.#sites.observe(batch.records, batch.topicSiteIds);
    this.#metrics.committed(batch);
    if (this.#http) {
      this.#http.stream.touch(touched);
      this.#http.stream.touch(batch.statuses.map((s) => s.siteId));
      this.#http.stream.touch(batch.profiles.map((p) => p.siteId));
    }
    this.#alarms?.observe(
      {
        records: batch.records,
        events: batch.siteEvents,
        statuses: batch.statuses,
        rejects: batch.rejects,
      },
      (siteId, record) => {
        const state = this.#sites.get(siteId);
        const advice = state?.advice ?? null;
        return {
          // Every site of a committed record is known by now (observe above).
          profile: state ? profileOf(state) : defaultV1Profile(siteId),
          socPct: record.socPct ?? state?.soc?.socPct ?? null,
          batteryH: advice?.predictedBatteryH ?? null,
          pvCoversLoadAt: advice?.pvCoversLoadAt ?? null,
          fuelCurve: state?.fuel?.curve,
        };
      },
    );
    if (this.#planner) this.#planner.schedule(touched);
    else for (const siteId of touched) this.#unplanned.add(siteId);
  }

  /**
   * The profile with its chemistry, time zone and name as one shared string each where sites
   * repeat them: every announcement arrives as new JSON, and a string per site per field is
   * memory held for every site.
   */
  #shared(p: SiteProfile): SiteProfile {
    const one = (value: string) => {
      const known = this.#strings.get(value);
      if (known !== undefined) return known;
      // Bounded: 3 chemistries, some 600 IANA zones, and names that repeat (a fleet's own
      // naming scheme); unique names simply stay the site's own.
      if (this.#strings.size < 2000) this.#strings.set(value, value);
      return value;
    };
    return {
      ...p,
      ...(p.name === undefined ? {} : { name: one(p.name) }),
      chemistry: one(p.chemistry) as SiteProfile["chemistry"],
      timeZone: one(p.timeZone),
    };
  }

  async #close() {
    this.#rejects.flush();
    await this.#http?.close().catch(() => {});
    this.#http = undefined;
    clearInterval(this.#alarmTimer);
    this.#alarmTimer = undefined;
    // Changes in progress are stored before the pool closes; webhooks not yet delivered are not.
    if (this.#alarms && !(await withinMs(this.#alarms.idle(), DEFAULT_STOP_TIMEOUT_MS))) {
      this.#alarms.close();
      await this.#alarms.idle();
      // Not lost for good: the open ones are raised again from the telemetry after a restart.
      this.#o.log.warn("stopping with alarm changes not stored", {
        dropped: this.#alarms.dropped,
      });
    }
    this.#webhooks?.stop();
    this.#rollup?.cancel();
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.endAsync().catch(() => client.end(true));
    const sql = this.#sql;
    this.#sql = undefined;
    if (sql && sql !== this.#o.sql) await sql.end({ timeout: 5 });
  }
}

/** The site a topic names, when it is a Kasi topic, for the log. */
function siteOf(topic: string): { siteId?: string } {
  const siteId = parseTopic(topic)?.siteId;
  return siteId === undefined ? {} : { siteId };
}

/** Whether `promise` settled within `ms`; the timer is cleared either way. */
async function withinMs(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
