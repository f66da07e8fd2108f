/** DeviceAgent's dispatch wiring against the real Mosquitto, at 200× speed: warm-up, failures. */
import assert from "node:assert/strict";
import { MemoryLogger } from "../../src/core/log.ts";
import { decodeTelemetryV1 } from "../../src/core/telemetry.ts";
import { v1Topic } from "../../src/core/topics.ts";
import { type AgentEvent, DeviceAgent } from "../../src/device/agent.ts";
import { SimDriver } from "../../src/device/sim_driver.ts";
import { SIM_PRESETS, simSiteFromPreset } from "../../src/device/sim_presets.ts";
import { TEST_MQTT_URL, uniqueSiteId } from "../_helpers/mqtt.ts";
import { clearRetained, Inbox } from "./inbox.ts";

async function waitUntil(what: string, ok: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The small preset (12 V lead-acid, reserve 50 %: local start 50 %) at SoC 45 %: the generator
 * is started on the first tick without any command. 10 simulated seconds per tick at 200×.
 */
function lowSite(siteId: string) {
  const preset = SIM_PRESETS.small;
  const site = simSiteFromPreset(preset, { siteId, seed: 3 });
  const startTime = new Date("2026-03-20T12:00:00Z");
  const driver = new SimDriver({ site, initialSocPct: 45, initialFuelPct: 70, now: startTime });
  const agent = new DeviceAgent({
    siteId,
    mqttUrl: TEST_MQTT_URL,
    driver,
    profile: site.profile,
    telemetryIntervalS: 10,
    speed: 200,
    log: new MemoryLogger(),
    startTime,
    // A short dead time keeps the test fast; the transfer still goes through "off".
    policyParams: { transferDeadTimeMs: 20 },
  });
  return { agent, driver };
}

Deno.test("DeviceAgent keeps the load on the battery through the generator's warm-up", async () => {
  const siteId = uniqueSiteId("agent-warmup");
  const inbox = await Inbox.open(TEST_MQTT_URL, v1Topic(siteId, "telemetry"));
  const { agent } = lowSite(siteId);
  try {
    await agent.start();
    await inbox.waitFor("telemetry on generator", (m) => {
      const r = decodeTelemetryV1(m.text, siteId, new Date());
      return r.ok && r.record.source === "generator";
    }, 5000);
    const records = inbox.messages.map((m) => decodeTelemetryV1(m.text, siteId, new Date()))
      .flatMap((r) => r.ok ? [r.record] : []);
    const firstRunning = records.find((r) => r.genRunning)!;
    const firstOnGen = records.find((r) => r.source === "generator")!;
    // Run signal at tick 0, sensed running at tick 1 (seq 1), warm-up 60 s = 6 ticks: the load
    // moves at tick 7. Until then the running generator is unloaded and the battery carries it.
    assert.equal(firstRunning.seq, 1);
    assert.equal(firstRunning.source, "battery");
    assert.equal(firstOnGen.seq, 7);
  } finally {
    await agent.stop();
    await inbox.close();
    await clearRetained(TEST_MQTT_URL, [v1Topic(siteId, "status")]);
  }
});

Deno.test("DeviceAgent reports a generator that fails to start once, with the values", async () => {
  const siteId = uniqueSiteId("agent-genfail");
  const inbox = await Inbox.open(TEST_MQTT_URL, v1Topic(siteId, "event"));
  const { agent, driver } = lowSite(siteId);
  driver.setGeneratorFailed(true);
  const failures = () =>
    inbox.messages.map((m) => JSON.parse(m.text) as AgentEvent)
      .filter((e) => e.kind === "generator-start-failed");
  try {
    await agent.start();
    // Commanded on at tick 0; 120 s (genStartTimeoutS) later is tick 12.
    await inbox.waitFor("start failure", (m) => m.text.includes('"generator-start-failed"'), 5000);
    const ticksAtFailure = agent.snapshot().ticks;
    await waitUntil("20 more ticks", () => agent.snapshot().ticks >= ticksAtFailure + 20);
    assert.equal(failures().length, 1, "reported once per failure");
    const e = failures()[0]!;
    assert.equal(e.detail, "generator did not run within 120 s of its start signal");
    assert.equal(e.values?.waited_s, 120);
    assert.equal(e.values?.requests, "soc");
    assert.equal(e.values?.commanded_at, "2026-03-20T12:00:00.000Z");
    assert.equal(typeof e.values?.soc_pct, "number");
    assert.equal(agent.snapshot().decision?.genPhase, "failed");
  } finally {
    await agent.stop();
    await inbox.close();
    await clearRetained(TEST_MQTT_URL, [v1Topic(siteId, "status")]);
  }
});

Deno.test("DeviceAgent refuses bad dispatch settings and an unknown time zone, naming them", () => {
  const { driver } = lowSite("agent-bad");
  const base = {
    siteId: "agent-bad",
    mqttUrl: TEST_MQTT_URL,
    driver,
    log: new MemoryLogger(),
    profile: simSiteFromPreset(SIM_PRESETS.small, { siteId: "agent-bad", seed: 1 }).profile,
  };
  assert.throws(
    () => new DeviceAgent({ ...base, policyParams: { cooldownS: -3 } }),
    /policy setting cooldownS must be a number ≥ 0, got -3/,
  );
  assert.throws(
    () => new DeviceAgent({ ...base, profile: { ...base.profile, timeZone: "Africa/Atlantis" } }),
    /timeZone "Africa\/Atlantis" is not an IANA time zone/,
  );
});
