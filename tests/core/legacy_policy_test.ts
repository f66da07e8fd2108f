/** The first generation's fixed voltage-threshold policy, as the foundation issue states it. */
import assert from "node:assert/strict";
import { legacyDecide, type LegacyInput } from "../../src/core/legacy_policy.ts";

const BASE: LegacyInput = {
  batteryV: 12.4,
  source: "battery",
  mode: "normal",
  forecast: "clear",
  predictedBatteryH: 5,
  predictedDieselH: 30,
};
const run = (patch: Partial<LegacyInput>, nominalV?: 12 | 24 | 48) =>
  legacyDecide({ ...BASE, ...patch }, { nominalV }).source;

Deno.test("legacyDecide() switches to diesel below 11.5 / 11.8 / 12.1 V by mode", () => {
  const cases: [LegacyInput["mode"], number, string][] = [
    ["eco", 11.49, "generator"],
    ["eco", 11.5, "battery"],
    ["normal", 11.79, "generator"],
    ["normal", 11.8, "battery"],
    ["conservative", 12.09, "generator"],
    ["conservative", 12.1, "battery"],
  ];
  for (const [mode, batteryV, want] of cases) {
    assert.equal(run({ mode, batteryV }), want, `${mode} ${batteryV} V`);
  }
  const d = legacyDecide({ ...BASE, mode: "eco", batteryV: 11.4 });
  assert.deepEqual(d, {
    source: "generator",
    genOn: true,
    reason: "11.4 V < 11.5 V (eco): switch to diesel",
  });
});

Deno.test("legacyDecide() goes back to the battery only above 13.8 V", () => {
  assert.equal(run({ source: "generator", batteryV: 13.8 }), "generator");
  assert.equal(run({ source: "generator", batteryV: 13.81 }), "battery");
  // Between the thresholds each source holds: 12.9 V keeps diesel and keeps battery.
  assert.equal(run({ source: "generator", batteryV: 12.9 }), "generator");
  assert.equal(run({ source: "battery", batteryV: 12.9 }), "battery");
});

Deno.test("legacyDecide() shuts down when both predictions are under 1 h and it is cloudy", () => {
  const low = { predictedBatteryH: 0.9, predictedDieselH: 0.9 };
  assert.deepEqual(legacyDecide({ ...BASE, ...low, forecast: "cloudy" }), {
    source: "off",
    genOn: false,
    reason: "battery 0.9 h and diesel 0.9 h both < 1 h with a cloudy forecast: shut down",
  });
  assert.equal(run({ ...low, forecast: "clear" }), "battery");
  assert.equal(run({ ...low, forecast: "unknown" }), "battery");
  assert.equal(run({ ...low, predictedBatteryH: 1, forecast: "cloudy" }), "battery");
  assert.equal(run({ ...low, predictedDieselH: 1, forecast: "cloudy" }), "battery");
  // Out of shutdown the voltage rules apply again: 11.0 V → diesel.
  assert.equal(run({ source: "off", batteryV: 11.0 }), "generator");
});

Deno.test("legacyDecide() scales its voltages by the cell count for 24 and 48 V banks", () => {
  // Eco 11.5 V × 2 = 23.0 V; back to battery 13.8 V × 4 = 55.2 V.
  assert.equal(run({ mode: "eco", batteryV: 22.99 }, 24), "generator");
  assert.equal(run({ mode: "eco", batteryV: 23.0 }, 24), "battery");
  assert.equal(run({ source: "generator", batteryV: 55.2 }, 48), "generator");
  assert.equal(run({ source: "generator", batteryV: 55.21 }, 48), "battery");
});

Deno.test("legacyDecide() flips once each way while the voltage sweeps 11 → 14 → 11 V", () => {
  // Normal mode: down to 11.7 V → diesel; charging up to 13.9 V → battery; discharging down
  // again → diesel at 11.7. The 11.8–13.8 V gap is its only hysteresis.
  const volts = [12.0, 11.9, 11.7, 12.5, 13.5, 13.8, 13.9, 13.0, 12.0, 11.8, 11.7];
  let source: LegacyInput["source"] = "battery";
  const flips: string[] = [];
  volts.forEach((batteryV, i) => {
    const next = legacyDecide({ ...BASE, source, batteryV }).source;
    if (next !== source) flips.push(`${i}:${next}`);
    source = next;
  });
  assert.deepEqual(flips, ["2:generator", "6:battery", "10:generator"]);
});
