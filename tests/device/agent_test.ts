/** DeviceAgent against the real Mosquitto (TEST_MQTT_URL), at 200× speed. */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { encodeCommandV1, type StrategicCommand } from "../../src/core/command.ts";
import { MemoryLogger } from "../../src/core/log.ts";
import { decodeTelemetryV1 } from "../../src/core/telemetry.ts";
import { v1Topic } from "../../src/core/topics.ts";
import { type AgentEvent, DeviceAgent } from "../../src/device/agent.ts";
import { SimDriver } from "../../src/device/sim_driver.ts";
import { SIM_PRESETS, simSiteFromPreset } from "../../src/device/sim_presets.ts";
import { TEST_MQTT_URL, uniqueSiteId } from "../_helpers/mqtt.ts";
import { clearRetained, Inbox, type Received } from "./inbox.ts";

const HOUR_MS = 3_600_000;
/**
 * Command seqs far above what a backend running on the shared broker would send this site: such
 * a backend plans for every site it hears from, and its small seqs are then simply stale.
 */
const SEQ = 1_000_000;

function simAgent(
  siteId: string,
  options: { clock?: () => Date; log?: MemoryLogger; sleep?: (ms: number) => Promise<void> } = {},
) {
  const preset = SIM_PRESETS.small;
  const site = simSiteFromPreset(preset, { siteId, seed: 1 });
  const startTime = new Date("2026-03-20T12:00:00Z");
  const driver = new SimDriver({
    site,
    initialSocPct: preset.initialSocPct,
    initialFuelPct: preset.initialFuelPct,
    now: startTime,
  });
  const log = options.log ?? new MemoryLogger();
  // 10 simulated seconds per tick at 200× = one tick every 50 ms.
  const agent = new DeviceAgent({
    siteId,
    mqttUrl: TEST_MQTT_URL,
    driver,
    profile: site.profile,
    telemetryIntervalS: 10,
    speed: 200,
    log,
    startTime,
    clock: options.clock,
    sleep: options.sleep,
  });
  return { agent, driver, log };
}

function command(siteId: string, patch: Partial<StrategicCommand>): StrategicCommand {
  const now = Date.now();
  return {
    siteId,
    seq: 1,
    issuedAt: new Date(now - 1000),
    validUntil: new Date(now + HOUR_MS),
    mode: "normal",
    genStartSocPct: 99,
    genStopSocPct: 100,
    reserveSocPct: 50,
    forecast: "unknown",
    predictedBatteryH: 4,
    predictedDieselH: 100,
    reason: "agent test",
    ...patch,
  };
}

const isEvent = (kind: string, extra: (e: AgentEvent) => boolean = () => true) => (m: Received) => {
  if (!m.topic.endsWith("/event")) return false;
  const e = JSON.parse(m.text) as AgentEvent;
  return e.kind === kind && extra(e);
};

async function publishCommand(c: StrategicCommand | string, siteId: string) {
  const client = await mqtt.connectAsync(TEST_MQTT_URL, { reconnectPeriod: 0 });
  const payload = typeof c === "string" ? c : encodeCommandV1(c);
  await client.publishAsync(v1Topic(siteId, "command"), payload, { qos: 1, retain: true });
  await client.endAsync();
}

Deno.test("DeviceAgent publishes status, telemetry and acts on commands over MQTT", async () => {
  const siteId = uniqueSiteId("agent");
  const inbox = await Inbox.open(TEST_MQTT_URL, `kasi/v1/sites/${siteId}/#`);
  // The real waits the agent asks for: the transfer's dead time among them.
  const waits: number[] = [];
  const sleep = (ms: number) => {
    waits.push(ms);
    return new Promise<void>((resolve) => setTimeout(resolve, ms));
  };
  const { agent, driver, log } = simAgent(siteId, { sleep });
  try {
    await agent.start();
    await inbox.waitFor("status online", (m) => m.topic.endsWith("/status") && m.text === "online");
    // A late subscriber gets "online" as a retained message.
    const late = await Inbox.open(TEST_MQTT_URL, v1Topic(siteId, "status"));
    const retained = await late.waitFor("retained status", () => true);
    await late.close();
    assert.deepEqual([retained.text, retained.retain], ["online", true]);

    // It announces its equipment: the small preset is 12 V, 5 kWh lead-acid (sim_presets.ts).
    const announced = await inbox.waitFor("profile event", isEvent("profile"));
    const profile = JSON.parse(announced.text).profile;
    assert.deepEqual(
      [profile.site_id, profile.nominal_v, profile.capacity_wh, profile.chemistry],
      [siteId, 12, 5000, "flooded-lead-acid"],
    );

    const first = await inbox.waitFor("telemetry", (m) => m.topic.endsWith("/telemetry"));
    const decoded = decodeTelemetryV1(first.text, siteId, new Date());
    assert.ok(decoded.ok, decoded.ok ? "" : decoded.reason);
    assert.equal(decoded.record.clockRestamped, false);
    // The small preset starts at 65 % SoC, above its local start (max(40, reserve 50) = 50 %).
    assert.equal(decoded.record.genRunning, false);
    assert.equal(decoded.record.source, "battery");

    // Start at 99 %: the generator starts on the next tick and carries the load once it has
    // warmed up (60 s = 6 ticks) and the transfer has passed through "off" (1 s dead time).
    await publishCommand(command(siteId, { seq: SEQ + 1 }), siteId);
    const accepted = await inbox.waitFor(
      "command-accepted",
      isEvent("command-accepted", (e) => e.command_seq === SEQ + 1),
    );
    assert.equal((JSON.parse(accepted.text) as AgentEvent).command_seq, SEQ + 1);
    const acceptedAt = inbox.messages.indexOf(accepted);
    const onGen = await inbox.waitFor("telemetry on generator", (m) => {
      if (!m.topic.endsWith("/telemetry") || inbox.messages.indexOf(m) < acceptedAt) return false;
      const r = decodeTelemetryV1(m.text, siteId, new Date());
      return r.ok && r.record.genRunning && r.record.source === "generator";
    });
    assert.ok(onGen);
    // The 1 s dead time (policy_params.ts) is simulated time: 1000 ms / 200× = 5 ms of real wait.
    assert.deepEqual(waits, [5]);
    assert.ok(
      log.entries.some((e) =>
        e.msg.startsWith(`acting on command seq ${SEQ + 1}: mode normal, start gen at 99 %`)
      ),
    );
    await inbox.waitFor("decision event", isEvent("decision", (e) => e.detail.includes("genOn")));
    assert.equal(driver.simState.genRunning, true);

    // Expired (SEQ + 2), invalid (field named), stale (SEQ): all rejected with the reason.
    const now = Date.now();
    await publishCommand(
      command(siteId, {
        seq: SEQ + 2,
        issuedAt: new Date(now - 2 * HOUR_MS),
        validUntil: new Date(now - HOUR_MS),
      }),
      siteId,
    );
    const expired = await inbox.waitFor(
      "expired rejection",
      isEvent("command-rejected", (e) => e.command_seq === SEQ + 2),
    );
    assert.match((JSON.parse(expired.text) as AgentEvent).detail, /^expired/);
    const bad = JSON.parse(encodeCommandV1(command(siteId, { seq: SEQ + 3 })));
    bad.gen_start_soc_pct = 150;
    await publishCommand(JSON.stringify(bad), siteId);
    const invalid = await inbox.waitFor(
      "invalid rejection",
      isEvent("command-rejected", (e) => e.detail.includes("gen_start_soc_pct")),
    );
    assert.match((JSON.parse(invalid.text) as AgentEvent).detail, /^invalid payload/);
    await publishCommand(command(siteId, { seq: SEQ }), siteId);
    await inbox.waitFor(
      "stale rejection",
      isEvent(
        "command-rejected",
        (e) => e.detail === `stale seq: ${SEQ} ≤ last accepted ${SEQ + 1}`,
      ),
    );

    const snap = agent.snapshot();
    assert.equal(snap.commandSeq, SEQ + 1);
    assert.equal(snap.mode, "normal");
    assert.equal(snap.usingLocalDefaults, false);
    assert.equal(snap.connected, true);
    assert.equal(snap.outputs?.source, "generator");

    // Telemetry seq increases by one per message.
    const seqs = inbox.messages.filter((m) => m.topic.endsWith("/telemetry"))
      .map((m) => JSON.parse(m.text).seq as number);
    assert.deepEqual(seqs, seqs.map((_, i) => seqs[0]! + i));

    await agent.stop();
    await inbox.waitFor(
      "status offline",
      (m) => m.topic.endsWith("/status") && m.text === "offline",
    );
    const after = await Inbox.open(TEST_MQTT_URL, v1Topic(siteId, "status"));
    const retainedOffline = await after.waitFor("retained offline", () => true);
    await after.close();
    assert.deepEqual([retainedOffline.text, retainedOffline.retain], ["offline", true]);
    // stop() leaves the safe outputs: generator off, load on battery, nothing shed.
    assert.deepEqual(await driver.readOutputs(), { source: "battery", genRun: false, shedTier: 0 });
  } finally {
    await agent.stop();
    await inbox.close();
    await clearRetained(TEST_MQTT_URL, [v1Topic(siteId, "status"), v1Topic(siteId, "command")]);
  }
});

Deno.test("DeviceAgent falls back to local defaults when the command expires", async () => {
  const siteId = uniqueSiteId("agent-expiry");
  let offsetMs = 0;
  const clock = () => new Date(Date.now() + offsetMs);
  const inbox = await Inbox.open(TEST_MQTT_URL, v1Topic(siteId, "event"));
  const { agent } = simAgent(siteId, { clock });
  try {
    await agent.start();
    await publishCommand(command(siteId, { seq: SEQ + 5, mode: "eco" }), siteId);
    await inbox.waitFor(
      "command-accepted",
      isEvent("command-accepted", (e) => e.command_seq === SEQ + 5),
    );
    assert.equal(agent.snapshot().usingLocalDefaults, false);
    // Two hours later on the wall clock the one-hour command has expired.
    offsetMs = 2 * HOUR_MS;
    const fallback = await inbox.waitFor(
      "fallback",
      isEvent("fallback-local-defaults", (e) => e.command_seq === SEQ + 5),
    );
    const event = JSON.parse(fallback.text) as AgentEvent;
    assert.equal(event.command_seq, SEQ + 5);
    assert.match(
      event.detail,
      new RegExp(`command seq ${SEQ + 5} expired .*start gen at 50 %, stop at 90 %`),
    );
    const snap = agent.snapshot();
    assert.equal(snap.usingLocalDefaults, true);
    assert.equal(snap.decision?.thresholds.origin, "local-defaults");
  } finally {
    await agent.stop();
    await inbox.close();
    await clearRetained(TEST_MQTT_URL, [v1Topic(siteId, "status"), v1Topic(siteId, "command")]);
  }
});
