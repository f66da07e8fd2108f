/**
 * DeviceAgent's safety rules against the real Mosquitto, with a scripted driver at 200× speed:
 * invalid sensors (decision withheld, no made-up telemetry), read-back mismatch (alarm, safe
 * state, retry), input changes, and the driver's configured safe state on stop.
 */
import assert from "node:assert/strict";
import { MemoryLogger } from "../../src/core/log.ts";
import { decodeTelemetryV1 } from "../../src/core/telemetry.ts";
import { v1Topic } from "../../src/core/topics.ts";
import { type AgentEvent, DeviceAgent } from "../../src/device/agent.ts";
import type { Driver, Outputs, OutputsReadBack, SensorReadings } from "../../src/device/driver.ts";
import { SIM_PRESETS, simSiteFromPreset } from "../../src/device/sim_presets.ts";
import { TEST_MQTT_URL, uniqueSiteId } from "../_helpers/mqtt.ts";
import { clearRetained, Inbox } from "./inbox.ts";

/** 12 V lead-acid at rest, BMS SoC 80 %: no generator request (local start at 50 %). */
const HEALTHY: SensorReadings = {
  batteryV: 12.7,
  batteryA: -2,
  socPct: 80,
  loadW: 300,
  pvW: null,
  genRunning: false,
  genW: null,
  fuelPct: 60,
  batteryTempC: 25,
  inputs: { door: false },
};

/** Readings chosen per readSensors() call; outputs stored, optionally read back wrong. */
class ScriptedDriver implements Driver {
  calls = 0;
  sets: Outputs[] = [];
  #outputs: Outputs = { source: "battery", genRun: false, shedTier: 0 };
  constructor(
    readonly script: (call: number) => SensorReadings,
    readonly readBack: (o: Outputs) => OutputsReadBack = (o) => ({ ...o }),
    readonly safeOutputs?: Outputs,
  ) {}
  readSensors(): Promise<SensorReadings> {
    return Promise.resolve(this.script(this.calls++));
  }
  setOutputs(o: Outputs): Promise<void> {
    this.sets.push({ source: o.source, genRun: o.genRun, shedTier: o.shedTier });
    this.#outputs = { ...o };
    return Promise.resolve();
  }
  readOutputs(): Promise<OutputsReadBack> {
    return Promise.resolve(this.readBack(this.#outputs));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const START = new Date("2026-03-20T12:00:00Z");

function agentOver(siteId: string, driver: Driver, log = new MemoryLogger()) {
  const profile = simSiteFromPreset(SIM_PRESETS.small, { siteId, seed: 1 }).profile;
  return new DeviceAgent({
    siteId,
    mqttUrl: TEST_MQTT_URL,
    driver,
    profile,
    telemetryIntervalS: 10,
    speed: 200,
    log,
    startTime: START,
    outputFaultRetryS: 60,
    policyParams: { transferDeadTimeMs: 0 },
  });
}

async function withInboxes(
  siteId: string,
  fn: (telemetry: Inbox, events: Inbox) => Promise<void>,
): Promise<void> {
  const telemetry = await Inbox.open(TEST_MQTT_URL, v1Topic(siteId, "telemetry"));
  const events = await Inbox.open(TEST_MQTT_URL, v1Topic(siteId, "event"));
  try {
    await fn(telemetry, events);
  } finally {
    await telemetry.close();
    await events.close();
    await clearRetained(TEST_MQTT_URL, [v1Topic(siteId, "status")]);
  }
}

const eventsOf = (inbox: Inbox, kind: string) =>
  inbox.messages.map((m) => JSON.parse(m.text) as AgentEvent).filter((e) => e.kind === kind);

Deno.test("DeviceAgent withholds decisions and telemetry while the battery voltage is invalid", async () => {
  const siteId = uniqueSiteId("agent-invalid");
  // Calls 3, 4 and 5 (ticks 3–5): the voltage sensor gives EIO.
  const driver = new ScriptedDriver((call) =>
    call >= 3 && call <= 5
      ? {
        ...HEALTHY,
        batteryV: null,
        invalid: [{
          sensor: "batteryV",
          reason: "/sys/…/in_voltage0_raw: EIO: Input/output error",
        }],
      }
      : HEALTHY
  );
  const agent = agentOver(siteId, driver);
  await withInboxes(siteId, async (telemetry, events) => {
    try {
      await agent.start();
      await telemetry.waitFor(
        "telemetry after the outage",
        (m) => JSON.parse(m.text).seq === 4,
        5000,
      );
      const records = telemetry.messages.map((m) => decodeTelemetryV1(m.text, siteId, new Date()))
        .flatMap((r) => (r.ok ? [r.record] : []));
      // Ticks 0–2 send seq 0–2; ticks 3–5 send nothing (no battery_v to send); tick 6 sends seq 3.
      assert.deepEqual(records.slice(0, 5).map((r) => r.seq), [0, 1, 2, 3, 4]);
      assert.ok(records.every((r) => r.batteryV === 12.7), "never a made-up voltage");
      const invalid = eventsOf(events, "sensor-invalid");
      assert.equal(invalid.length, 1, "reported once, not every tick");
      assert.deepEqual(invalid[0]!.values, {
        sensor: "battery_v",
        reason: "/sys/…/in_voltage0_raw: EIO: Input/output error",
        required: true,
      });
      const withheld = eventsOf(events, "decision-withheld");
      assert.equal(withheld.length, 1);
      assert.deepEqual(withheld[0]!.values, {
        sensors: "battery_v",
        source: "battery",
        gen_run: false,
        shed_tier: 0,
      });
      await events.waitFor("recovery", (m) => m.text.includes('"sensor-recovered"'));
      // The outputs were set once per decided tick (0, 1, 2, 6, …) and never while withheld.
      assert.ok(driver.sets.length >= 4);
    } finally {
      await agent.stop();
    }
  });
});

Deno.test("DeviceAgent treats an invalid optional sensor as not fitted, and says so", async () => {
  const siteId = uniqueSiteId("agent-optional");
  const driver = new ScriptedDriver(() => ({
    ...HEALTHY,
    fuelPct: 37, // left by a careless driver: the invalid list wins
    invalid: [{ sensor: "fuelPct", reason: "0.3 is outside the calibration table 0.5–4.5" }],
  }));
  const agent = agentOver(siteId, driver);
  await withInboxes(siteId, async (telemetry, events) => {
    try {
      await agent.start();
      const m = await telemetry.waitFor("telemetry", () => true, 5000);
      const payload = JSON.parse(m.text);
      assert.equal(payload.fuel_pct, undefined, "no fuel_pct: not measured");
      assert.equal(payload.battery_v, 12.7);
      const e = await events.waitFor("sensor-invalid", (x) => x.text.includes('"sensor-invalid"'));
      assert.match(JSON.parse(e.text).detail, /fuel_pct invalid: .*; treated as not fitted/);
    } finally {
      await agent.stop();
    }
  });
});

Deno.test("DeviceAgent alarms on a read-back mismatch, holds the safe state, then retries", async () => {
  const siteId = uniqueSiteId("agent-mismatch");
  // SoC 45 % ≤ the local start 50 %: the generator is commanded on at tick 0, but its run relay
  // never reads on (the relay's coil is open-circuit).
  const driver = new ScriptedDriver(
    () => ({ ...HEALTHY, socPct: 45 }),
    (o) => ({ ...o, genRun: false }),
  );
  const agent = agentOver(siteId, driver);
  await withInboxes(siteId, async (_telemetry, events) => {
    try {
      await agent.start();
      await events.waitFor("second alarm", (m) => /"attempt":2/.test(m.text), 5000);
      const alarms = eventsOf(events, "output-mismatch");
      // Tick 0 at 12:00:00 trips, held 60 s; the tick at 12:01:00 retries and trips again.
      assert.deepEqual(alarms.map((a) => [a.values?.attempt, a.values?.safe_until]), [
        [1, "2026-03-20T12:01:00.000Z"],
        [2, "2026-03-20T12:02:00.000Z"],
      ]);
      assert.deepEqual(
        [alarms[0]!.values?.commanded_gen_run, alarms[0]!.values?.read_gen_run],
        [true, false],
      );
      assert.match(
        alarms[0]!.detail,
        /generator run reads off, commanded on; going to the safe state/,
      );
      // Commanded on, then straight to the safe state (generator off), held there until 12:01.
      assert.deepEqual(driver.sets.slice(0, 3), [
        { source: "battery", genRun: true, shedTier: 0 },
        { source: "battery", genRun: false, shedTier: 0 },
        { source: "battery", genRun: false, shedTier: 0 },
      ]);
      assert.ok(agent.snapshot().safeStateUntil !== null);
    } finally {
      await agent.stop();
    }
  });
});

Deno.test("DeviceAgent reports an input change and stops in the driver's safe state", async () => {
  const siteId = uniqueSiteId("agent-input");
  const safe: Outputs = { source: "off", genRun: false, shedTier: 1 };
  const driver = new ScriptedDriver(
    (call) => ({ ...HEALTHY, inputs: { door: call >= 2 } }),
    undefined,
    safe,
  );
  const agent = agentOver(siteId, driver);
  await withInboxes(siteId, async (_telemetry, events) => {
    try {
      await agent.start();
      const m = await events.waitFor("door", (x) => x.text.includes('"input-changed"'), 5000);
      assert.deepEqual(JSON.parse(m.text).values, { input: "door", state: true, was: false });
      assert.equal(JSON.parse(m.text).detail, "input door: inactive → active");
    } finally {
      await agent.stop();
    }
    assert.deepEqual(driver.sets.at(-1), safe);
    assert.equal(eventsOf(events, "input-changed").length, 1);
  });
});
