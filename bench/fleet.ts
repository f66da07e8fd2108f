/**
 * `deno task bench:fleet`: a simulated fleet against the real backend (its own process), on a
 * private Mosquitto from deploy/mosquitto/kasi.conf and a temporary PostgreSQL database.
 *
 *  1. Round trip: --sites (1000) sites, one MQTT connection each, telemetry every 10 s, the
 *     backend's command interval 10 s, for --seconds (90); telemetry→command p50/p99 over the
 *     run after the --warmup (30 s: connections ramping, first command of every site).
 *     0 skips it.
 *  2. Memory: --memory-sites (100 000) sites on one shared connection; the backend's V8 heap
 *     and external memory (ArrayBuffer backing stores, outside the heap) after garbage
 *     collection, before any site and once every site has reported and been commanded; the
 *     difference per site. 0 skips it.
 *
 *   deno task bench:fleet [--sites 1000] [--seconds 90] [--warmup 30] [--memory-sites 100000]
 *                         [--heap-snapshot FILE]   (the backend's heap: FILE.base before any
 *                                                   site, FILE after the memory run)
 *
 * One connection per site needs an open-files limit above --sites for this process and the
 * broker (ulimit -n).
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { Fleet } from "../src/device/fleet.ts";
import type { Logger } from "../src/core/log.ts";
import { startPrivateBroker } from "./_mosquitto.ts";
import { BENCH_PG_URL } from "./ingest_run.ts";

const { values } = parseArgs({
  // `deno task bench:… -- --flag` passes the "--" on.
  args: Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args,
  options: {
    sites: { type: "string", default: "1000" },
    seconds: { type: "string", default: "90" },
    warmup: { type: "string", default: "30" },
    "memory-sites": { type: "string", default: "100000" },
    "heap-snapshot": { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const sites = Number(values.sites);
const seconds = Number(values.seconds);
const warmupS = Number(values.warmup);
const memorySites = Number(values["memory-sites"]);
for (const [name, v] of Object.entries({ sites, seconds, memorySites })) {
  if (!Number.isSafeInteger(v) || v < 0) {
    console.error(`bench:fleet: --${name} must be a whole number ≥ 0`);
    Deno.exit(2);
  }
}
const say = (line: string) => console.error(`[bench:fleet] ${line}`);
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

interface Probe {
  ask: (command: "mem" | "pending" | `heap ${string}`) => Promise<
    {
      heapUsed: number;
      external: number;
      rss: number;
      sites: number;
      pending: number;
      planning: number;
      gc: boolean;
    }
  >;
  stop: () => Promise<void>;
}

async function startBackend(
  mqttUrl: string,
  databaseUrl: string,
  commandIntervalS: number,
): Promise<Probe> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      new URL("./backend_probe.ts", import.meta.url).pathname,
      JSON.stringify({ mqttUrl, databaseUrl, commandIntervalS }),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let carry = "";
  const nextLine = async (): Promise<Record<string, unknown>> => {
    while (!carry.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) throw new Error("the backend process ended");
      carry += value;
    }
    const i = carry.indexOf("\n");
    const line = carry.slice(0, i);
    carry = carry.slice(i + 1);
    return JSON.parse(line);
  };
  await nextLine(); // ready
  const encoder = new TextEncoder();
  return {
    ask: async (command) => {
      await writer.write(encoder.encode(command + "\n"));
      return await nextLine() as never;
    },
    stop: async () => {
      await writer.write(encoder.encode("stop\n"));
      await nextLine().catch(() => {});
      await child.status;
    },
  };
}

const broker = await startPrivateBroker();
const dbName = `kasi_bench_${Date.now().toString(36)}`;
const admin = postgres(BENCH_PG_URL, { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE ${dbName}`);
const dbUrl = new URL(BENCH_PG_URL);
dbUrl.pathname = `/${dbName}`;
const result: Record<string, unknown> = {};
try {
  // --- 1. Round trip ------------------------------------------------------------------------
  const backend = sites > 0 ? await startBackend(broker.url, dbUrl.toString(), 10) : null;
  if (backend) {
    try {
      say(`round trip: ${sites} sites, one connection each, every 10 s, for ${seconds} s`);
      const fleet = new Fleet({
        sites,
        seed: 1,
        prefix: `rt${Date.now().toString(36)}`,
        mqttUrl: broker.url,
        sharedConnection: false,
        rampS: Math.min(10, warmupS / 2),
        speed: 1,
        intervalS: 10,
        log: quiet,
      });
      const started = performance.now();
      await fleet.start();
      say(`${fleet.metrics.counts.connectionsOpen} connections open`);
      const report = setInterval(() => {
        const c = fleet.metrics.counts;
        const w = fleet.metrics.windowRoundTrip();
        say(
          `${Math.round((performance.now() - started) / 1000)} s: ${c.connectionsOpen} ` +
            `connections, ${c.telemetryAcked}/${c.telemetrySent} telemetry acked, ` +
            `${w.count} commands timed, p50 ${w.p50Ms} ms, p99 ${w.p99Ms} ms`,
        );
      }, 10_000);
      await new Promise((r) =>
        setTimeout(r, Math.max(0, warmupS * 1000 - (performance.now() - started)))
      );
      const warm = fleet.metrics.roundTrip().count;
      await new Promise((r) =>
        setTimeout(r, Math.max(0, seconds * 1000 - (performance.now() - started)))
      );
      clearInterval(report);
      const all = fleet.metrics.roundTrip();
      const steady = fleet.metrics.roundTripSince(warm);
      const counts = { ...fleet.metrics.counts };
      await fleet.stop();
      result.roundTrip = { sites, seconds, warmupS, counts, all, steady };
      say(
        `round trip after warm-up: p50 ${steady.p50Ms} ms, p99 ${steady.p99Ms} ms over ` +
          `${steady.count} commands (whole run p99 ${all.p99Ms} ms)`,
      );
    } finally {
      await backend.stop();
    }
  }

  // --- 2. Memory per site -------------------------------------------------------------------
  if (memorySites > 0) {
    await admin.unsafe(`DROP DATABASE ${dbName} WITH (FORCE)`);
    await admin.unsafe(`CREATE DATABASE ${dbName}`);
    // A fresh broker: the retained statuses of the first part would be sites too.
    const memBroker = await startPrivateBroker();
    // A command interval of an hour: after its first command a site is planned again only when
    // its advice basis moves or is 5 min old (planner.ts), as between a real fleet's commands. At
    // 10 s every message of 100 000 sites would be due, 1 700 forward forecasts a second.
    const probe = await startBackend(memBroker.url, dbUrl.toString(), 3600);
    try {
      const base = await probe.ask("mem");
      if (values["heap-snapshot"]) await probe.ask(`heap ${values["heap-snapshot"]}.base`);
      say(
        `memory: base heap ${(base.heapUsed / 1e6).toFixed(1)} MB; ${memorySites} sites on ` +
          "one shared connection, telemetry every 60 s",
      );
      const fleet = new Fleet({
        sites: memorySites,
        seed: 2,
        prefix: `mem${Date.now().toString(36)}`,
        mqttUrl: memBroker.url,
        sharedConnection: true,
        rampS: 0,
        speed: 1,
        // Every site reports and is commanded within a minute, at a rate (1 700 messages and
        // commands a second) the backend keeps up with, so no backlog is counted as state.
        intervalS: 60,
        log: quiet,
      });
      await fleet.start();
      // The first plan of a site runs its forward forecasts (milliseconds of CPU each), so 100 000
      // new sites take minutes to command: wait while they are, up to half an hour.
      const until = Date.now() + 1_800_000;
      let progressAt = Date.now(), commandedBefore = 0;
      while (Date.now() < until && Date.now() - progressAt < 60_000) {
        await new Promise((r) => setTimeout(r, 5000));
        const c = fleet.metrics.counts;
        say(
          `memory: ${c.telemetryAcked} telemetry acknowledged, ${c.sitesCommanded} sites ` +
            "commanded",
        );
        if (c.sitesCommanded >= memorySites) break;
        if (c.sitesCommanded > commandedBefore) progressAt = Date.now();
        commandedBefore = c.sitesCommanded;
      }
      // A quiet fleet: what the backend then holds is its state per site, not a backlog.
      fleet.pause();
      // Quiet means nothing left to write and no plan waiting for its forecast: a waiting plan
      // holds its inputs (some 5 KB), a backlog, not state.
      let left = { pending: -1, planning: -1 };
      for (let i = 0; i < 600; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        left = await probe.ask("pending");
        if (left.pending === 0 && left.planning === 0 && i >= 2) break;
      }
      if (left.pending !== 0 || left.planning !== 0) {
        say(`memory: the backend still holds ${left.pending} messages, ${left.planning} plans`);
      }
      const after = await probe.ask("mem");
      if (values["heap-snapshot"]) {
        await probe.ask(`heap ${values["heap-snapshot"]}`);
        const file = values["heap-snapshot"];
        say(
          `memory: heap snapshots written to ${file}.base and ${file}; per site by shape: ` +
            `deno run -A bench/heap_diff.ts ${file}.base ${file} --sites ${memorySites}`,
        );
      }
      const commanded = fleet.metrics.counts.sitesCommanded;
      await fleet.stop();
      const perSiteB = (after.heapUsed - base.heapUsed) / after.sites;
      const externalPerSiteB = (after.external - base.external) / after.sites;
      result.memory = {
        sites: memorySites,
        backendSites: after.sites,
        sitesCommanded: commanded,
        baseHeapBytes: base.heapUsed,
        heapBytes: after.heapUsed,
        rssBytes: after.rss,
        baseExternalBytes: base.external,
        externalBytes: after.external,
        /** V8 heap per site. */
        perSiteBytes: Math.round(perSiteB),
        /** Outside the heap per site (load-profile buffers). */
        externalPerSiteBytes: Math.round(externalPerSiteB),
        gc: after.gc,
      };
      say(
        `memory: ${after.sites} sites known, heap ${(after.heapUsed / 1e6).toFixed(1)} MB: ` +
          `${Math.round(perSiteB)} bytes per site beyond the base, and ` +
          `${Math.round(externalPerSiteB)} outside the heap`,
      );
    } finally {
      await probe.stop();
      await memBroker.stop();
    }
  }
} finally {
  await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end({ timeout: 5 });
  await broker.stop();
}

if (values.json) {
  console.log(JSON.stringify(result));
} else {
  const rt = result.roundTrip as {
    counts: { telemetrySent: number; telemetryAcked: number; connectionsOpen: number };
    all: { p50Ms: number; p99Ms: number; count: number };
    steady: { p50Ms: number; p99Ms: number; count: number };
  } | undefined;
  const mem = result.memory as
    | { perSiteBytes: number; externalPerSiteBytes: number; sites: number }
    | undefined;
  console.log([
    ...(rt
      ? [
        `fleet, ${sites} sites, one connection each, telemetry every 10 s`,
        `  connections  ${rt.counts.connectionsOpen} open; telemetry ${rt.counts.telemetryAcked}/` +
        `${rt.counts.telemetrySent} acknowledged`,
        `  round trip   p50 ${rt.steady.p50Ms} ms, p99 ${rt.steady.p99Ms} ms after the ${warmupS} ` +
        `s warm-up (${rt.steady.count} commands); whole run p50 ${rt.all.p50Ms} ms, p99 ` +
        `${rt.all.p99Ms} ms`,
      ]
      : ["  round trip   skipped"]),
    mem
      ? `  memory       ${mem.perSiteBytes + mem.externalPerSiteBytes} bytes per site beyond ` +
        `the base, at ${mem.sites} sites (V8 heap ${mem.perSiteBytes}, outside it ` +
        `${mem.externalPerSiteBytes})`
      : "  memory       skipped",
  ].join("\n"));
}
