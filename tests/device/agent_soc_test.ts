/**
 * DeviceAgent without a SoC sensor: the SoC it decides on and reports is the estimator's
 * (src/core/soc_estimator.ts), counted from the battery current. No broker is needed: the agent
 * runs offline and queues its telemetry.
 */
import assert from "node:assert/strict";
import { MemoryLogger } from "../../src/core/log.ts";
import type { SiteProfile } from "../../src/core/site_profile.ts";
import { DeviceAgent } from "../../src/device/agent.ts";
import {
  type Driver,
  type Outputs,
  SAFE_OUTPUTS,
  type SensorReadings,
} from "../../src/device/driver.ts";
import { TcpProxy } from "./tcp_proxy.ts";

/** A driver whose first reading is a battery at rest and every later one a steady discharge. */
class ScriptedDriver implements Driver {
  reads = 0;
  #outputs: Outputs = { ...SAFE_OUTPUTS };
  constructor(readonly first: SensorReadings, readonly rest: SensorReadings) {}
  readSensors(): Promise<SensorReadings> {
    return Promise.resolve(this.reads++ === 0 ? this.first : this.rest);
  }
  setOutputs(outputs: Outputs): Promise<void> {
    this.#outputs = { ...outputs };
    return Promise.resolve();
  }
  readOutputs(): Promise<Outputs> {
    return Promise.resolve({ ...this.#outputs });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function waitUntil(what: string, ok: () => boolean, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

// 12 V 5 kWh flooded lead-acid (the small preset's bank): 416.667 Ah, I_20 = 20.833 A, pack
// resistance 6 · 90 mΩ·Ah / 416.667 Ah = 1.296 mΩ.
const PROFILE: SiteProfile = {
  siteId: "agent-soc-test",
  chemistry: "flooded-lead-acid",
  nominalV: 12,
  capacityWh: 5000,
  reserveSocPct: 50,
  tankL: 100,
  generatorRatedKw: 5,
  pvKwp: 0,
  latitude: 12,
  longitude: 8.52,
  timeZone: "Africa/Lagos",
};

const READING: SensorReadings = {
  batteryV: 12.24,
  batteryA: 0,
  socPct: null,
  loadW: 0,
  pvW: null,
  genRunning: false,
  genW: null,
  fuelPct: 50,
  batteryTempC: null,
};

Deno.test("DeviceAgent counts the SoC from the battery current when the driver reports none", async () => {
  // Tick 0: 12.24 V at rest is 50 % (BCI), ±7.738 (10 mV per cell: 12.18 V → 41.667 %,
  // 12.30 V → 57.143 %). Later ticks: −41.667 A (C/10, twice I_20): effective
  // 41.667 · 2^0.25 = 49.550 A. Tick 1 is a trapezoid from 0 A (below the 0.1 A threshold):
  // 49.550 / 2 · 10 s / 3600 / 416.667 Ah = 0.0165168 %; each tick after drains 0.0330335 %.
  // The corrected voltage 12.10 + 41.667 · 0.001296 = 12.154 V (±0.114 V) overlaps the count:
  // no override.
  const dischargeA = -5000 / 12 / 10;
  const driver = new ScriptedDriver(READING, { ...READING, batteryV: 12.10, batteryA: dischargeA });
  const agent = new DeviceAgent({
    siteId: PROFILE.siteId,
    mqttUrl: `mqtt://127.0.0.1:${TcpProxy.freePort()}`,
    driver,
    profile: PROFILE,
    telemetryIntervalS: 10,
    speed: 1000,
    log: new MemoryLogger(),
    startTime: new Date("2026-03-20T00:00:00Z"),
    mqttOptions: { reconnectPeriod: 60_000, connectTimeout: 500 },
  });
  try {
    await agent.start();
    const first = agent.snapshot();
    assert.deepEqual([first.socPct, first.socMethod, first.socFromVoltage], [
      50,
      "ocv-corrected",
      true,
    ]);
    assert.ok(Math.abs(first.socUncertaintyPct! - (57.142857 - 41.666667) / 2) < 1e-6);
    await waitUntil("5 ticks", () => agent.snapshot().ticks >= 5);
  } finally {
    await agent.stop();
  }
  const s = agent.snapshot();
  const stepPct = 41.666667 * 2 ** 0.25 * 10 / 3600 / 416.666667 * 100;
  assert.ok(Math.abs(stepPct - 0.0330335) < 1e-6, `${stepPct}`);
  const expected = 50 - stepPct / 2 - (s.ticks - 2) * stepPct;
  assert.equal(s.socMethod, "coulomb");
  assert.ok(Math.abs(s.socPct! - expected) < 1e-6, `${s.socPct} vs ${expected}`);
  // The uncertainty grows by 5 % of what was counted.
  const counted = 50 - expected;
  assert.ok(Math.abs(s.socUncertaintyPct! - (7.738095 + 0.05 * counted)) < 1e-5);
});
