/**
 * A short simulation that fills a migrated database the way production does: three simulated
 * sites (the small, medium and large presets) run their agents against the real Mosquitto and a
 * real BackendService, both on one accelerated clock, for 2.5 simulated hours starting at a
 * whole UTC hour three hours ago. Besides what the sites send by themselves (telemetry, status,
 * profile, decisions) the fleet gets one first-generation site, one undecodable message and one
 * generator start failure, so every relation a panel reads has rows.
 */
import postgres from "postgres";
import { legacyTelemetryTopic, v1Topic } from "../../src/core/topics.ts";
import { MemoryLogger } from "../../src/core/log.ts";
import { runMigrations } from "../../src/db/migrate.ts";
import { hourOf } from "../../src/db/telemetry_hourly.ts";
import { DeviceAgent } from "../../src/device/agent.ts";
import { SimDriver } from "../../src/device/sim_driver.ts";
import {
  SIM_PRESETS,
  type SimPresetName,
  simSiteFromPreset,
} from "../../src/device/sim_presets.ts";
import { TEST_MQTT_URL, uniqueLegacySiteId, uniqueSiteId } from "../_helpers/mqtt.ts";
import { TEST_PG_URL, withTempDatabase } from "../_helpers/pg.ts";
import { clearRetained, publisher, startBackend, waitFor } from "../backend/harness.ts";

/** Simulated seconds per real second: 2.5 h in 7.5 s. */
const SPEED = 1200;
const SIMULATED_S = 2.5 * 3600;
/** Telemetry every simulated minute: 150 rows per site. */
const INTERVAL_S = 60;

export interface SimulatedFleet {
  /** A pool connected as the database's read-only Grafana role. */
  reader: postgres.Sql;
  /** The owner's pool (migrations, the backend's writes). */
  sql: postgres.Sql;
  sites: { siteId: string; preset: SimPresetName }[];
  legacySiteId: string;
  /** Simulated start and end. */
  start: Date;
  end: Date;
  /** What the backend counted. */
  stored: number;
}

/**
 * Creates the Grafana reader role with grafana/postgres/create_reader.sh, as the database
 * container's first start does, before any table exists (so only its default privileges can
 * make the later tables readable).
 */
async function createReader(database: string, role: string): Promise<void> {
  const server = new URL(TEST_PG_URL);
  const script = new URL("../../grafana/postgres/create_reader.sh", import.meta.url).pathname;
  const out = await new Deno.Command("sh", {
    args: [script],
    env: {
      PGHOST: server.hostname,
      PGPORT: server.port || "5432",
      PGPASSWORD: decodeURIComponent(server.password),
      POSTGRES_USER: decodeURIComponent(server.username || "postgres"),
      POSTGRES_DB: database,
      READER_DB_USER: role,
      READER_DB_PASSWORD: "not-checked-by-trust-auth",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`create_reader.sh failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

export async function withSimulatedFleet(
  fn: (fleet: SimulatedFleet) => Promise<void>,
): Promise<void> {
  let role: string | undefined;
  try {
    await withTempDatabase(async (url, sql) => {
      const database = new URL(url).pathname.slice(1);
      role = `${database}_reader`;
      await createReader(database, role);
      const readerUrl = new URL(url);
      readerUrl.username = role;
      readerUrl.password = "";
      const reader = postgres(readerUrl.toString(), { max: 2, onnotice: () => {} });
      try {
        await runMigrations(sql);
        const fleet = await simulate(url, sql);
        await fn({ ...fleet, reader, sql });
      } finally {
        await reader.end({ timeout: 5 });
      }
    });
  } finally {
    // A role belongs to the server, not the database: dropped once the database is gone.
    if (role !== undefined) {
      const admin = postgres(TEST_PG_URL, { max: 1, onnotice: () => {} });
      await admin.unsafe(`DROP ROLE IF EXISTS ${role}`).finally(() => admin.end({ timeout: 5 }));
    }
  }
}

async function simulate(
  url: string,
  sql: postgres.Sql,
): Promise<Omit<SimulatedFleet, "reader" | "sql">> {
  const start = new Date(hourOf(new Date()).getTime() - 3 * 3_600_000);
  const end = new Date(start.getTime() + SIMULATED_S * 1000);
  const startedMs = performance.now();
  const clock = () => new Date(start.getTime() + (performance.now() - startedMs) * SPEED);
  const presets: SimPresetName[] = ["small", "medium", "large"];
  const sites = presets.map((preset) => ({ siteId: uniqueSiteId(`graf-${preset}`), preset }));
  const legacySiteId = uniqueLegacySiteId();
  const log = new MemoryLogger();
  const { service } = await startBackend(url, {
    now: clock,
    commandIntervalS: 1800,
    rollupIntervalS: 1,
    log,
  });
  const agents = sites.map(({ siteId, preset }, i) => {
    const p = SIM_PRESETS[preset];
    const site = simSiteFromPreset(p, { siteId, seed: i + 1 });
    const driver = new SimDriver({
      site,
      initialSocPct: p.initialSocPct,
      initialFuelPct: p.initialFuelPct,
      now: start,
    });
    const agent = new DeviceAgent({
      siteId,
      mqttUrl: TEST_MQTT_URL,
      driver,
      profile: site.profile,
      telemetryIntervalS: INTERVAL_S,
      speed: SPEED,
      log,
      startTime: start,
      clock,
      policyParams: { ...p.dispatch },
    });
    return { agent, driver };
  });
  const pub = await publisher();
  try {
    for (const { agent } of agents) await agent.start();
    await pub.publishAsync(
      legacyTelemetryTopic(legacySiteId),
      JSON.stringify({
        site_id: legacySiteId,
        timestamp_utc: new Date(start.getTime() + 600_000).toISOString(),
        active_source: "Battery",
        battery_voltage: 12.5,
        is_generator_on: false,
        fuel_level_percent: 85.0,
        current_load_watts: 150.0,
      }),
      { qos: 1 },
    );
    await pub.publishAsync(v1Topic(sites[0]!.siteId, "telemetry"), "{not json", { qos: 1 });
    await pub.publishAsync(
      v1Topic(sites[1]!.siteId, "event"),
      JSON.stringify({
        ts: new Date(start.getTime() + 1_800_000).toISOString(),
        kind: "generator-start-failed",
        detail: "generator did not run within 120 s of its start signal",
        reasons: ["soc at the start point"],
        values: { soc_pct: 44.6, waited_s: 120 },
      }),
      { qos: 1 },
    );
    await waitFor("2.5 simulated hours", () => clock() >= end, SIMULATED_S / SPEED * 1000 + 5000);
  } finally {
    for (const { agent, driver } of agents) {
      await agent.stop();
      await driver.close();
    }
    await pub.endAsync();
    // Each agent said "offline" as it stopped; the backend stores it before it stops too.
    await waitFor(
      "the sites' offline status",
      () =>
        sites.every(({ siteId }) =>
          service.sites().find((v) => v.siteId === siteId)?.status === "offline"
        ),
    ).catch(() => {});
    await service.stop();
    for (const { siteId } of sites) {
      await clearRetained(v1Topic(siteId, "command"));
      await clearRetained(v1Topic(siteId, "status"));
    }
  }
  // The test broker is shared: retained messages of other runs (a demo's status, another
  // test's site) reached this backend too. Only this fleet stays, so the panels can be checked
  // against what it sent.
  const ours = [...sites.map((s) => s.siteId), legacySiteId];
  const tables = ["telemetry", "telemetry_hourly", "commands", "site_events", "alarms", "sites"];
  for (const table of tables) {
    await sql.unsafe(`delete from ${table} where site_id <> all($1::text[])`, [ours]);
  }
  await sql`delete from rejected_messages where split_part(topic, '/', 4) <> all(${ours})`;
  return { sites, legacySiteId, start, end, stored: service.stats().stored };
}
