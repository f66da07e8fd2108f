/**
 * The end-to-end ingest measurement behind `deno task bench:ingest` and its shortened test:
 * publishers (their own process, QoS 1) → a private Mosquitto → the real BackendService
 * (mqtt_link → classifyMessage → BatchWriter → PostgreSQL, acknowledged after COMMIT, planner
 * running) → committed rows, counted until every message is a row or ingest stalls. Loss is
 * detected, never hidden: rows are compared with the distinct messages sent, after the broker
 * acknowledged every one of them. Then the same publishers feed the first generation's way, one
 * awaited INSERT per message, for the ratio.
 */
import mqtt from "mqtt";
import postgres from "postgres";
import { classifyMessage } from "../src/backend/messages.ts";
import { BackendService } from "../src/backend/service.ts";
import type { Logger } from "../src/core/log.ts";
import { insertTelemetry } from "../src/db/store.ts";
import { runMigrations } from "../src/db/migrate.ts";
import { startPrivateBroker } from "./_mosquitto.ts";
import type { PublisherPlan } from "./ingest_publisher.ts";

export const BENCH_PG_URL = Deno.env.get("KASI_BENCH_PG_URL") ??
  Deno.env.get("KASI_TEST_PG_URL") ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface IngestOptions {
  messages: number;
  sites: number;
  connections: number;
  /** Unacknowledged messages per publisher connection. */
  window: number;
  /** Messages for the one-INSERT-per-message baseline; 0 skips it. */
  baselineMessages: number;
  /** Mosquitto with its stock limits instead of deploy/mosquitto/kasi.conf. */
  stockBroker?: boolean;
  /** No new row for this long after the broker acknowledged everything: the rest is lost. */
  stallMs?: number;
  /** Progress lines. */
  say?: (line: string) => void;
}

export interface RunFigures {
  messages: number;
  /** PUBACKs the publishers got from the broker. */
  brokerAcked: number;
  rows: number;
  /** Messages acknowledged by the broker that never became a row. */
  lost: number;
  seconds: number;
  msgsPerS: number;
  /** Rate between 10 % and 90 % of the rows: without start-up and tail. */
  sustainedMsgsPerS: number;
  /** Rate at which the broker acknowledged the publishers. */
  publishMsgsPerS: number;
}

export interface IngestResult {
  kasi: RunFigures & { redeliveries: number; batches: number; commandsSent: number };
  baseline?: RunFigures;
  ratio?: number;
  broker: "kasi" | "stock";
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function publisherLog(say: (line: string) => void): Logger {
  return { ...quiet, warn: (m, f) => say(`backend warn: ${m} ${JSON.stringify(f ?? {})}`) };
}

async function withDatabase<T>(fn: (url: string, sql: postgres.Sql) => Promise<T>): Promise<T> {
  const name = `kasi_bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const admin = postgres(BENCH_PG_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(BENCH_PG_URL);
  url.pathname = `/${name}`;
  const sql = postgres(url.toString(), { max: 2, onnotice: () => {} });
  try {
    await runMigrations(sql);
    return await fn(url.toString(), sql);
  } finally {
    await sql.end({ timeout: 5 });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end({ timeout: 5 });
  }
}

function startPublisher(plan: PublisherPlan) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./ingest_publisher.ts", import.meta.url).pathname,
      JSON.stringify(plan),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  return (async () => {
    const out = await child.output();
    if (!out.success) throw new Error(`the publisher process failed (exit ${out.code})`);
    return JSON.parse(new TextDecoder().decode(out.stdout)) as {
      acked: number;
      firstSendMs: number;
      lastAckMs: number;
    };
  })();
}

/** Waits until `rows()` reaches `target`, or stops growing for `stallMs` once `published`. */
async function watch(options: {
  target: number;
  rows: () => number | Promise<number>;
  published: () => boolean;
  stallMs: number;
}): Promise<{ rows: number; at10: number; at90: number; endMs: number }> {
  let rows = 0;
  let lastChangeMs = Date.now();
  let at10 = 0;
  let at90 = 0;
  let endMs = Date.now();
  while (true) {
    const now = Date.now();
    const r = await options.rows();
    if (r !== rows) {
      rows = r;
      lastChangeMs = now;
      endMs = now;
    }
    if (!at10 && rows >= options.target * 0.1) at10 = now;
    if (!at90 && rows >= options.target * 0.9) at90 = now;
    if (rows >= options.target) return { rows, at10, at90, endMs };
    if (options.published() && now - lastChangeMs > options.stallMs) {
      return { rows, at10, at90, endMs };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function figures(
  o: { messages: number; acked: number; rows: number; firstSendMs: number; lastAckMs: number },
  w: { at10: number; at90: number; endMs: number },
): RunFigures {
  const seconds = (w.endMs - o.firstSendMs) / 1000;
  const mid = (w.at90 - w.at10) / 1000;
  return {
    messages: o.messages,
    brokerAcked: o.acked,
    rows: o.rows,
    lost: o.acked - o.rows,
    seconds: Math.round(seconds * 100) / 100,
    msgsPerS: Math.round(o.rows / seconds),
    sustainedMsgsPerS: mid > 0 ? Math.round((o.messages * 0.8) / mid) : 0,
    publishMsgsPerS: Math.round(o.acked / ((o.lastAckMs - o.firstSendMs) / 1000)),
  };
}

async function countRows(sql: postgres.Sql, prefix: string): Promise<number> {
  const [row] = await sql`
    select count(*)::int as n, count(distinct (site_id, time))::int as d
    from telemetry where site_id like ${prefix + "-%"}`;
  // The primary key makes a second row for one (site, time) impossible; checked anyway.
  if (row!.n !== row!.d) throw new Error(`${row!.n - row!.d} duplicate rows under ${prefix}`);
  return row!.n;
}

export async function runIngestBenchmark(options: IngestOptions): Promise<IngestResult> {
  const say = options.say ?? (() => {});
  const stallMs = options.stallMs ?? 5000;
  const broker = await startPrivateBroker({ stock: options.stockBroker });
  say(
    `broker: ${options.stockBroker ? "stock Mosquitto limits" : "deploy/mosquitto/kasi.conf"} ` +
      `on ${broker.url}`,
  );
  try {
    return await withDatabase(async (url, sql) => {
      const port = broker.port;
      const plan = (prefix: string, messages: number): PublisherPlan => ({
        host: "127.0.0.1",
        port,
        sitePrefix: prefix,
        sites: options.sites,
        messages,
        connections: options.connections,
        window: options.window,
        // Messages span floor(M / sites) · 10 s ending before now: plausible device times.
        baseMs: Date.now() - (Math.ceil(messages / options.sites) + 60) * 10_000,
      });

      // --- Kasi: the backend's real ingest path ---------------------------------------------
      const service = new BackendService({
        mqttUrl: broker.url,
        databaseUrl: url,
        clientId: `kasi-bench-backend-${crypto.randomUUID().slice(0, 6)}`,
        sessionExpiryS: 0,
        weather: {},
        log: publisherLog(say),
      });
      await service.start();
      let kasi: IngestResult["kasi"];
      try {
        const prefix = `bk${Date.now().toString(36)}`;
        say(
          `kasi: ${options.messages} messages from ${options.sites} sites over ` +
            `${options.connections} connections`,
        );
        let published = false;
        const pub = startPublisher(plan(prefix, options.messages));
        pub.then(() => (published = true), () => (published = true));
        const w = await watch({
          target: options.messages,
          rows: () => service.stats().stored,
          published: () => published,
          stallMs,
        });
        const p = await pub;
        const rows = await countRows(sql, prefix);
        const stats = service.stats();
        kasi = {
          ...figures({ messages: options.messages, rows, ...p }, w),
          redeliveries: stats.duplicates,
          batches: stats.batches,
          commandsSent: stats.commandsSent,
        };
        say(`kasi: ${rows} rows of ${p.acked} acknowledged in ${kasi.seconds} s`);
      } finally {
        await service.stop();
      }
      if (options.baselineMessages <= 0) {
        return { kasi, broker: options.stockBroker ? "stock" : "kasi" };
      }

      // --- Baseline: one awaited INSERT per message, acknowledged on receipt -----------------
      const prefix = `bb${Date.now().toString(36)}`;
      const one = postgres(url, { max: 1, onnotice: () => {} });
      const client = await mqtt.connectAsync(broker.url, {
        clientId: `kasi-bench-baseline-${crypto.randomUUID().slice(0, 6)}`,
        reconnectPeriod: 0,
      });
      let inserted = 0;
      const queue: { topic: string; payload: Uint8Array }[] = [];
      let wake: (() => void) | undefined;
      let stop = false;
      client.on("message", (topic, payload) => {
        queue.push({ topic, payload: new Uint8Array(payload) });
        wake?.();
      });
      const worker = (async () => {
        while (!stop) {
          const m = queue.shift();
          if (!m) {
            await new Promise<void>((resolve) => (wake = resolve));
            continue;
          }
          const inbound = classifyMessage(m.topic, m.payload, new Date());
          if (inbound.kind === "telemetry") {
            inserted += await insertTelemetry(one, [inbound.record]);
          }
        }
      })();
      try {
        await client.subscribeAsync("kasi/v1/sites/+/telemetry", { qos: 1 });
        say(`baseline: ${options.baselineMessages} messages, one awaited INSERT each`);
        let published = false;
        const pub = startPublisher(plan(prefix, options.baselineMessages));
        pub.then(() => (published = true), () => (published = true));
        const w = await watch({
          target: options.baselineMessages,
          rows: () => inserted,
          published: () => published,
          stallMs,
        });
        const p = await pub;
        const rows = await countRows(sql, prefix);
        const baseline = figures({ messages: options.baselineMessages, rows, ...p }, w);
        say(`baseline: ${rows} rows in ${baseline.seconds} s`);
        return {
          kasi,
          baseline,
          ratio: Math.round((kasi.sustainedMsgsPerS / baseline.sustainedMsgsPerS) * 10) / 10,
          broker: options.stockBroker ? "stock" : "kasi",
        };
      } finally {
        stop = true;
        wake?.();
        await client.endAsync();
        await worker;
        await one.end({ timeout: 5 });
      }
    });
  } finally {
    await broker.stop();
  }
}
