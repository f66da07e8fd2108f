/**
 * DeviceAgent without a link: the control loop keeps running, telemetry waits in the bounded
 * queue and is flushed once the broker is reachable. The link is a TCP relay in front of the real
 * Mosquitto that the test cuts and restores.
 */
import assert from "node:assert/strict";
import { MemoryLogger } from "../../src/core/log.ts";
import { v1Topic } from "../../src/core/topics.ts";
import { DeviceAgent } from "../../src/device/agent.ts";
import { SimDriver } from "../../src/device/sim_driver.ts";
import { SIM_PRESETS, simSiteFromPreset } from "../../src/device/sim_presets.ts";
import { TEST_MQTT_URL, uniqueSiteId } from "../_helpers/mqtt.ts";
import { clearRetained, Inbox } from "./inbox.ts";
import { TcpProxy } from "./tcp_proxy.ts";

async function waitUntil(what: string, ok: () => boolean, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("DeviceAgent keeps deciding offline, drops the oldest beyond its queue limit, flushes on reconnect", async () => {
  const siteId = uniqueSiteId("agent-offline");
  const broker = new URL(TEST_MQTT_URL);
  const proxy = new TcpProxy(TcpProxy.freePort(), {
    hostname: broker.hostname,
    port: Number(broker.port || 1883),
  });
  const preset = SIM_PRESETS.small;
  const site = simSiteFromPreset(preset, { siteId, seed: 2 });
  const startTime = new Date("2026-03-20T12:00:00Z");
  const driver = new SimDriver({
    site,
    initialSocPct: preset.initialSocPct,
    initialFuelPct: preset.initialFuelPct,
    now: startTime,
  });
  const agent = new DeviceAgent({
    siteId,
    mqttUrl: `mqtt://127.0.0.1:${proxy.port}`,
    driver,
    profile: site.profile,
    telemetryIntervalS: 10,
    speed: 200,
    log: new MemoryLogger(),
    startTime,
    offlineQueueLimit: 5,
    mqttOptions: { reconnectPeriod: 100, connectTimeout: 1000 },
  });
  const inbox = await Inbox.open(TEST_MQTT_URL, v1Topic(siteId, "telemetry"));
  try {
    await agent.start();
    // No relay yet: the loop runs, 5 messages wait, older ones are dropped and counted.
    await waitUntil("8 ticks offline", () => agent.snapshot().ticks >= 8);
    const offline = agent.snapshot();
    assert.equal(offline.connected, false);
    assert.equal(offline.queued, 5);
    // Every tick queues one telemetry message (no output changes at 65 % SoC, so no events):
    // queued + dropped = telemetry messages so far = last seq + 1.
    assert.equal(offline.queued + offline.dropped, offline.telemetrySeq + 1);
    assert.ok(offline.dropped >= 3, `dropped ${offline.dropped}`);
    // The simulated clock moved 10 s per tick although nothing was published.
    assert.equal(offline.simTime.getTime() - startTime.getTime(), (offline.ticks - 1) * 10_000);

    proxy.up();
    await waitUntil("connected", () => agent.snapshot().connected);
    // The flush starts with the oldest message kept: the 5th-last before reconnecting, or later.
    const flushed = await inbox.waitFor("flushed telemetry", () => true);
    assert.ok(JSON.parse(flushed.text).seq >= offline.dropped, flushed.text);
    await waitUntil("queue empty", () => agent.snapshot().queued === 0);

    // Cut the link again: telemetry queues again, and flushes again once the relay is back.
    await proxy.down();
    await waitUntil("disconnected", () => !agent.snapshot().connected);
    await waitUntil("queued again", () => agent.snapshot().queued > 0);
    const lastSeqOffline = agent.snapshot().telemetrySeq;
    proxy.up();
    await inbox.waitFor(
      "telemetry after the second outage",
      (m) => JSON.parse(m.text).seq >= lastSeqOffline,
    );
    // QoS 1 is at-least-once: a message in flight when the link was cut comes again after the
    // reconnect. Counting each seq at its first arrival, they arrive in order.
    const seqs = [...new Set(inbox.messages.map((m) => JSON.parse(m.text).seq as number))];
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), "flushed in order");
  } finally {
    await agent.stop();
    await proxy.down();
    await inbox.close();
    await clearRetained(TEST_MQTT_URL, [v1Topic(siteId, "status")]);
  }
});

Deno.test("DeviceAgent.stop() ends cleanly when the broker was never reachable", async () => {
  const siteId = uniqueSiteId("agent-nobroker");
  const preset = SIM_PRESETS.medium;
  const site = simSiteFromPreset(preset, { siteId, seed: 3 });
  const startTime = new Date("2026-03-20T12:00:00Z");
  const driver = new SimDriver({
    site,
    initialSocPct: preset.initialSocPct,
    initialFuelPct: preset.initialFuelPct,
    now: startTime,
  });
  const log = new MemoryLogger();
  const agent = new DeviceAgent({
    siteId,
    mqttUrl: `mqtt://127.0.0.1:${TcpProxy.freePort()}`,
    driver,
    profile: site.profile,
    telemetryIntervalS: 60,
    speed: 1200,
    log,
    startTime,
    mqttOptions: { reconnectPeriod: 50 },
  });
  await agent.start();
  await waitUntil("3 ticks", () => agent.snapshot().ticks >= 3);
  await agent.stop();
  const snap = agent.snapshot();
  assert.equal(snap.running, false);
  assert.equal(snap.connected, false);
  assert.ok(snap.queued >= 3, `queued ${snap.queued}`);
  // One warning for the outage, however many retries failed.
  assert.equal(
    log.entries.filter((e) => e.msg.startsWith("broker unreachable")).length,
    1,
  );
});
