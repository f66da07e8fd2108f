/** Break-before-make on the hardware: the agent's output switching (src/device/switch_outputs.ts). */
import assert from "node:assert/strict";
import type { Driver, Outputs, SensorReadings } from "../../src/device/driver.ts";
import { switchOutputs } from "../../src/device/switch_outputs.ts";

/** Records every call; `stuck` keeps the source it had (a welded contactor) whatever is set. */
class FakeDriver implements Driver {
  calls: string[] = [];
  #outputs: Outputs;
  constructor(initial: Outputs, readonly stuck = false) {
    this.#outputs = initial;
  }
  readSensors(): Promise<SensorReadings> {
    throw new Error("not used");
  }
  setOutputs(o: Outputs): Promise<void> {
    this.calls.push(`set ${o.source}`);
    this.#outputs = this.stuck ? { ...o, source: this.#outputs.source } : { ...o };
    return Promise.resolve();
  }
  readOutputs(): Promise<Outputs> {
    this.calls.push(`read ${this.#outputs.source}`);
    return Promise.resolve({ ...this.#outputs });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const ON_BATTERY: Outputs = { source: "battery", genRun: true, shedTier: 0 };
const ON_GEN: Outputs = { source: "generator", genRun: true, shedTier: 0 };

Deno.test("switchOutputs() opens both, checks, waits the dead time, then closes the new source", async () => {
  const d = new FakeDriver(ON_BATTERY);
  const waits: number[] = [];
  const sleep = (ms: number) => {
    waits.push(ms);
    d.calls.push(`wait ${ms}`);
    return Promise.resolve();
  };
  const r = await switchOutputs(d, ON_GEN, { from: "battery", deadTimeMs: 1000, sleep });
  assert.deepEqual(d.calls, [
    "set off",
    "read off",
    "wait 1000",
    "set generator",
    "read generator",
  ]);
  assert.deepEqual([r.actual.source, r.blocked], ["generator", null]);
});

Deno.test("switchOutputs() never closes the new source when the break did not open", async () => {
  const d = new FakeDriver(ON_BATTERY, true);
  const r = await switchOutputs(d, ON_GEN, {
    from: "battery",
    deadTimeMs: 1000,
    sleep: () => Promise.resolve(),
  });
  assert.deepEqual(d.calls, ["set off", "read battery"]);
  assert.deepEqual(r.blocked, { from: "battery", to: "generator", readBack: "battery" });
  assert.equal(r.actual.source, "battery");
});

Deno.test("switchOutputs() sets once when the source does not change or one side is off", async () => {
  const same = new FakeDriver(ON_BATTERY);
  await switchOutputs(same, { ...ON_BATTERY, shedTier: 1 }, { from: "battery", deadTimeMs: 1000 });
  assert.deepEqual(same.calls, ["set battery", "read battery"]);
  const fromOff = new FakeDriver({ ...ON_GEN, source: "off" });
  await switchOutputs(fromOff, ON_GEN, { from: "off", deadTimeMs: 1000 });
  assert.deepEqual(fromOff.calls, ["set generator", "read generator"]);
});
