/**
 * The work of `kasi demo`: embedded broker and database, migrations, the backend and three
 * simulated sites, and a live table until Ctrl-C (or `--duration`).
 */
import type postgres from "postgres";
import { BackendService } from "../backend/service.ts";
import type { SiteView } from "../backend/site_state.ts";
import { KasiError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { connectDatabase } from "../db/client.ts";
import { runMigrations } from "../db/migrate.ts";
import { startSimDevice } from "../device/run.ts";
import { SIM_PRESETS, type SimPresetName } from "../device/sim_presets.ts";
import { startEmbeddedBroker } from "../embedded/broker.ts";
import { startEmbeddedDatabase } from "../embedded/database.ts";
import { assertPortFree } from "../embedded/ports.ts";
import type { DemoSettings } from "./demo.ts";
import { alarmChangeLine, type DemoRow, renderAlarms, renderDemoTable } from "./demo_table.ts";
import { jsonLogger } from "./log.ts";
import { type StopSignal, stopSignal } from "./signals.ts";

/**
 * Three sites of different sizes: a telecom tower, a clinic and a village mini-grid. The tower's
 * tank leaks 2 L/h (a loose fuel-line fitting drips about that): a fuel-loss alarm within the
 * first simulated hours (a couple of real minutes at 300×), and low fuel a day or so later.
 */
export const DEMO_SITES: readonly {
  siteId: string;
  preset: SimPresetName;
  seed: number;
  fuelLeakLph?: number;
}[] = [
  { siteId: "demo-1", preset: "small", seed: 1, fuelLeakLph: 2 },
  { siteId: "demo-2", preset: "medium", seed: 2 },
  { siteId: "demo-3", preset: "large", seed: 3 },
];

export function demoRow(view: SiteView): DemoRow {
  return {
    siteId: view.siteId,
    status: view.status,
    source: view.latest?.source ?? null,
    socPct: view.prediction?.socPct ?? view.latest?.socPct ?? null,
    fuelPct: view.latest?.fuelPct ?? null,
    loadW: view.latest?.loadW ?? null,
    pvW: view.latest?.pvW ?? null,
    batteryH: view.prediction?.batteryH ?? null,
    dieselH: view.prediction?.dieselH ?? null,
    mode: view.lastCommand?.mode ?? null,
    commandSeq: view.lastCommand?.seq ?? null,
  };
}

function fileLogger(path: string): { log: Logger; close(): void } {
  const file = Deno.openSync(path, { create: true, append: true });
  const encoder = new TextEncoder();
  const log = jsonLogger({ write: (line) => file.writeSync(encoder.encode(line)) });
  return { log, close: () => file.close() };
}

/** Resolves on the first stop signal, or after `durationS`; the signals stay handled after. */
function waitForStop(signal: StopSignal, durationS: number | null): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const elapsed = new Promise<string>((resolve) => {
    if (durationS !== null) timer = setTimeout(() => resolve("duration"), durationS * 1000);
  });
  return Promise.race([signal.received, elapsed]).finally(() => clearTimeout(timer));
}

/**
 * Holds an exclusive lock on `dir/demo.lock` for the life of the process: PGlite has no lock of
 * its own, and two demos on one data directory would corrupt it. The OS drops the lock when the
 * process ends, however it ends.
 */
function lockDataDir(dir: string): Deno.FsFile {
  const file = Deno.openSync(`${dir}/demo.lock`, { create: true, write: true });
  if (!file.tryLockSync(true)) {
    file.close();
    throw new KasiError(
      "DATA_DIR_IN_USE",
      `another kasi demo is using ${dir}; stop it first, or pass --data-dir to run a second demo`,
    );
  }
  return file;
}

/**
 * Where the simulated clock starts: 05:00 UTC today (dawn at the demo sites, UTC+1..+3), so a
 * newcomer sees the sun come up, the batteries charge and, later, a generator run within
 * minutes. A data directory that already holds simulated time past that goes on from the next
 * dawn after its newest row: time never runs backwards for the stored sites.
 */
export async function demoStartTime(sql: postgres.Sql, now: Date): Promise<Date> {
  const dawn = (t: Date) => {
    const d = new Date(t);
    d.setUTCHours(5, 0, 0, 0);
    return d;
  };
  const [row] = await sql<{ newest: Date | null }[]>`select max(time) as newest from telemetry`;
  const today = dawn(now);
  const newest = row?.newest ?? null;
  if (newest === null || newest.getTime() < today.getTime()) return today;
  const next = dawn(newest);
  if (next.getTime() <= newest.getTime()) next.setUTCDate(next.getUTCDate() + 1);
  return next;
}

export async function runDemo(settings: DemoSettings): Promise<void> {
  await Deno.mkdir(settings.dataDir, { recursive: true });
  const lock = lockDataDir(settings.dataDir);
  const logPath = `${settings.dataDir}/demo.log`;
  const { log, close: closeLog } = fileLogger(logPath);
  const say = (line: string) => console.log(line);
  // Listening from the start: a Ctrl-C during start-up still stops everything cleanly.
  const signal = stopSignal({
    onRepeat: () => say("Still stopping… (Ctrl-C once more exits at once)"),
  });
  const cleanups: (() => Promise<void> | void)[] = [
    () => lock.close(),
    () => signal.dispose(),
    closeLog,
  ];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (error) {
        log.error("demo cleanup step failed", { error });
      }
    }
  };

  try {
    say(`Kasi demo — logs in ${logPath}`);
    // Before anything starts: a taken web view port fails at once, not after the migrations.
    assertPortFree("127.0.0.1", settings.httpPort, { what: "HTTP", flag: "--http-port" });
    const database = await startEmbeddedDatabase({
      dataDir: `${settings.dataDir}/pgdata`,
      port: settings.dbPort,
      log,
    });
    cleanups.push(() => database.close());
    say(`  embedded PostgreSQL  ${database.url} (one connection at a time: the backend's)`);
    const broker = await startEmbeddedBroker({ port: settings.mqttPort, log });
    cleanups.push(() => broker.close());
    say(`  embedded MQTT broker ${broker.url}`);

    // PGlite serves one connection at a time, so the demo and the backend share one pool of 1.
    const sql = await connectDatabase(database.url, { max: 1, log });
    cleanups.push(() => sql.end({ timeout: 5 }));
    const migrated = await runMigrations(sql, { log });
    say(`  database migrated    ${migrated.applied.length} new, ${migrated.total} in all`);

    // One simulated clock for the sites and the backend, so forecasts, load profiles, command
    // validity and the PV-cover time all speak of the same hours as the simulated sun.
    const startTime = await demoStartTime(sql, new Date());
    const startedMs = performance.now();
    const simClock = () =>
      new Date(startTime.getTime() + (performance.now() - startedMs) * settings.speed);

    const backend = new BackendService({
      mqttUrl: broker.url,
      databaseUrl: database.url,
      sql,
      // The interval is asked in real seconds; the backend counts it on the simulated clock.
      commandIntervalS: settings.commandIntervalS * settings.speed,
      log,
      clientId: "kasi-demo-backend",
      now: simClock,
      wallClockMs: () => Date.now(),
      // Tokenless: the server refuses that on anything but loopback.
      http: { port: settings.httpPort, hostname: "127.0.0.1", allowTokenless: true },
    });
    await backend.start();
    cleanups.push(() => backend.stop());
    const webUrl = backend.httpUrl();
    say("");
    say(`  Web view: ${webUrl}   (fleet, urgency list, live charts)`);
    say("");

    for (const s of DEMO_SITES) {
      const device = await startSimDevice({
        ...s,
        speed: settings.speed,
        intervalS: 10,
        mqttUrl: broker.url,
        log,
        startTime,
        clock: simClock,
      });
      cleanups.push(() => device.stop());
      const leak = s.fuelLeakLph ? `; its tank leaks ${s.fuelLeakLph} L/h` : "";
      say(`  site ${s.siteId}: ${SIM_PRESETS[s.preset].description}${leak}`);
    }

    const interactive = Deno.stdout.isTerminal();
    // The latest alarm changes, shown under the table (and printed at once when not a terminal).
    const recent: string[] = [];
    const unsubscribe = backend.alarms().subscribe((alarm) => {
      const line = alarmChangeLine(alarm);
      recent.push(line);
      if (recent.length > 6) recent.shift();
      if (!interactive) say(`alarm: ${line}`);
    });
    cleanups.push(unsubscribe);
    const render = () => {
      const stats = backend.stats();
      const sim = simClock();
      const simH = (sim.getTime() - startTime.getTime()) / 3600_000;
      const simText = `${sim.toISOString().slice(0, 10)} ${sim.toISOString().slice(11, 16)}`;
      const rows = backend.sites().filter((v) => DEMO_SITES.some((s) => s.siteId === v.siteId))
        .sort((a, b) => a.siteId.localeCompare(b.siteId)).map(demoRow);
      const text = [
        `Kasi demo · ${settings.speed}× speed · simulated ${simText} UTC, ` +
        `${simH.toFixed(1)} h in · ` +
        `${stats.stored} rows stored, ${stats.rejected} rejected, ${stats.commandsSent} commands sent`,
        `Web view: ${webUrl}`,
        "",
        renderDemoTable(rows),
        "",
        renderAlarms(backend.alarms().openAlarms(), recent),
        "",
        interactive ? "Ctrl-C stops everything." : "",
      ].join("\n");
      if (interactive) Deno.stdout.writeSync(new TextEncoder().encode(`\x1b[H\x1b[2J${text}\n`));
      else say(text);
    };
    const refreshMs = interactive ? 1000 : 10_000;
    const timer = setInterval(render, refreshMs);
    cleanups.push(() => clearInterval(timer));

    const why = await waitForStop(signal, settings.durationS);
    clearInterval(timer);
    render();
    say(`\nStopping (${why})…`);
  } finally {
    await cleanup();
  }
  say("Stopped cleanly.");
}
