/**
 * A small fleet against the real backend (in this process), on a private Mosquitto started from
 * deploy/mosquitto/kasi.conf, so no other test's backend on the shared broker answers it.
 */
import assert from "node:assert/strict";
import { BackendService } from "../../src/backend/service.ts";
import { MemoryLogger } from "../../src/core/log.ts";
import { decodeRecordingLine } from "../../src/core/recording.ts";
import { runMigrations } from "../../src/db/migrate.ts";
import { Fleet } from "../../src/device/fleet.ts";
import { startPrivateBroker } from "../../bench/_mosquitto.ts";
import { withTempDatabase } from "../_helpers/pg.ts";

async function withBackend(
  fn: (ctx: { mqttUrl: string; sql: import("postgres").Sql }) => Promise<void>,
) {
  const broker = await startPrivateBroker();
  try {
    await withTempDatabase(async (url, sql) => {
      await runMigrations(sql);
      const service = new BackendService({
        mqttUrl: broker.url,
        databaseUrl: url,
        // A command every second, so each telemetry message (one a second) is answered.
        commandIntervalS: 1,
        weather: {},
        log: new MemoryLogger(),
        clientId: `kasi-backend-test-${crypto.randomUUID().slice(0, 8)}`,
        sessionExpiryS: 0,
        dbMax: 2,
      });
      await service.start();
      try {
        await fn({ mqttUrl: broker.url, sql });
      } finally {
        await service.stop();
      }
    });
  } finally {
    await broker.stop();
  }
}

async function runFleet(
  mqttUrl: string,
  options: { sharedConnection: boolean; prefix: string; seconds: number },
) {
  const recorded: { topic: string; payload: string; atMs: number; retain: boolean }[] = [];
  const fleet = new Fleet({
    sites: 4,
    seed: 3,
    prefix: options.prefix,
    mqttUrl,
    sharedConnection: options.sharedConnection,
    rampS: 0,
    // 10 simulated seconds per message at 10×: one message a second per site.
    speed: 10,
    intervalS: 10,
    log: new MemoryLogger(),
    onPublished: (m) => recorded.push(m),
  });
  await fleet.start();
  await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
  const openBeforeStop = fleet.metrics.counts.connectionsOpen;
  await fleet.stop();
  // The last PUBACKs and commands in flight.
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { fleet, openBeforeStop, recorded };
}

Deno.test("Fleet of 4 sites, one connection each: every message stored, commands timed", async () => {
  await withBackend(async ({ mqttUrl, sql }) => {
    const prefix = `ft${Date.now().toString(36)}`;
    const { fleet, openBeforeStop, recorded } = await runFleet(mqttUrl, {
      sharedConnection: false,
      prefix,
      seconds: 4.5,
    });
    const c = fleet.metrics.counts;
    assert.equal(openBeforeStop, 4);
    // 4 sites × one a second for 4.5 s: 4–5 ticks each (the first at 0.25 · i s).
    assert.ok(c.telemetrySent >= 16 && c.telemetrySent <= 20, `${c.telemetrySent} sent`);
    assert.equal(c.telemetryAcked, c.telemetrySent);
    assert.equal(
      c.publishErrors + c.connectionErrors,
      0,
      JSON.stringify(fleet.metrics.lastErrors),
    );
    const rows = async () =>
      (await sql`select count(*)::int as n from telemetry where site_id like ${prefix + "-%"}`)[0]!
        .n;
    const until = Date.now() + 5000;
    while ((await rows()) < c.telemetrySent && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(await rows(), c.telemetrySent, "every message is a row");
    // Each site's first message gets a command at once, later ones once the 1 s interval is up.
    assert.ok(c.commandsAccepted >= 8, `${c.commandsAccepted} commands`);
    const rt = fleet.metrics.roundTrip();
    assert.equal(rt.count, c.commandsAccepted - c.commandsRetained);
    // A round trip is positive and, for the attribution to hold, shorter than the interval.
    assert.ok(rt.p50Ms! > 0 && rt.maxMs! < 1000, JSON.stringify(rt));
    // The recording holds every message with its topic, readable as recording lines.
    assert.equal(recorded.length, c.telemetrySent + c.otherSent);
    const statusLines = recorded.filter((m) => m.topic.endsWith("/status"));
    assert.deepEqual(statusLines.map((m) => [m.payload, m.retain]), [
      ...Array(4).fill(["online", true]),
      ...Array(4).fill(["offline", true]),
    ]);
  });
});

Deno.test("Fleet on a shared connection: one connection, commands routed to their sites", async () => {
  await withBackend(async ({ mqttUrl }) => {
    const { fleet, openBeforeStop } = await runFleet(mqttUrl, {
      sharedConnection: true,
      prefix: `fs${Date.now().toString(36)}`,
      seconds: 3.5,
    });
    const c = fleet.metrics.counts;
    assert.equal(openBeforeStop, 1);
    assert.equal(c.telemetryAcked, c.telemetrySent);
    assert.ok(c.commandsAccepted >= 4, `${c.commandsAccepted} commands`);
    assert.equal(c.commandsRejected, 0);
  });
});

Deno.test("decodeRecordingLine() reads what a fleet records", () => {
  const line = JSON.stringify({
    at: "2026-11-20T10:00:00.000Z",
    topic: "kasi/v1/sites/f-00000/status",
    payload: "online",
    retain: true,
  });
  const r = decodeRecordingLine(line);
  assert.ok(r.ok);
  assert.equal(r.message.atMs, Date.UTC(2026, 10, 20, 10));
  assert.deepEqual([...r.message.payload], [...new TextEncoder().encode("online")]);
  assert.equal(r.message.retain, true);
  assert.equal(r.message.qos, 1);
});
