import assert from "node:assert/strict";
import { MAX_PREDICTION_H, predictRuntime } from "../../src/core/prediction.ts";
import { legacySiteProfile, type SiteProfile } from "../../src/core/site_profile.ts";

const legacy = legacySiteProfile("00000000-0000-0000-0000-0000000000a1");

Deno.test("predictRuntime() reads SoC from voltage for the first-generation reference message", () => {
  // 12.5 V → 81.25 % (BCI interpolation); usable to the 50 % reserve: 31.25 % · 5000 Wh
  // = 1562.5 Wh; at 150 W that lasts 1562.5 / 150 = 10.4167 h.
  // Diesel: 85 % of 100 L = 85 L; a 5 kW set held at its 1.5 kW minimum burns
  // 0.0332·5 + 0.2728·1.5 = 0.5752 L/h, so 85 / 0.5752 = 147.775 h.
  const p = predictRuntime(legacy, {
    socPct: null,
    batteryV: 12.5,
    loadW: 150,
    pvW: null,
    fuelPct: 85,
  });
  assert.equal(p.socFromVoltage, true);
  assert.ok(Math.abs(p.socPct - 81.25) < 1e-9);
  assert.ok(Math.abs(p.batteryH - 10.41667) < 1e-4);
  assert.ok(Math.abs(p.fuelRateLph - 0.5752) < 1e-9);
  assert.ok(Math.abs(p.dieselH - 147.775) < 1e-3);
});

Deno.test("predictRuntime() returns 0 h when the battery is at its reserve", () => {
  const p = predictRuntime(legacy, { socPct: 50, batteryV: 12.2, loadW: 300, pvW: 0, fuelPct: 0 });
  assert.equal(p.batteryH, 0);
  assert.equal(p.dieselH, 0);
});

Deno.test("predictRuntime() prefers a reported SoC and subtracts PV from the load", () => {
  const clinic: SiteProfile = {
    ...legacy,
    siteId: "clinic-1",
    chemistry: "lifepo4",
    nominalV: 24,
    capacityWh: 10_000,
    reserveSocPct: 20,
    tankL: 200,
    generatorRatedKw: 10,
  };
  // (70 − 20) % · 10 kWh = 5000 Wh over a net 1200 − 200 = 1000 W → 5 h.
  // Diesel: 50 % of 200 L = 100 L at 1.2 kW demand, held at 3 kW minimum:
  // 0.0332·10 + 0.2728·3 = 1.1504 L/h → 100 / 1.1504 = 86.926 h.
  const p = predictRuntime(clinic, {
    socPct: 70,
    batteryV: 25.0,
    loadW: 1200,
    pvW: 200,
    fuelPct: 50,
  });
  assert.equal(p.socFromVoltage, false);
  assert.ok(Math.abs(p.batteryH - 5) < 1e-9);
  assert.ok(Math.abs(p.dieselH - 86.926) < 1e-3);
});

Deno.test("predictRuntime() caps at a week when PV covers the load", () => {
  const p = predictRuntime(legacy, {
    socPct: 90,
    batteryV: 13,
    loadW: 100,
    pvW: 400,
    fuelPct: 100,
  });
  assert.equal(p.batteryH, MAX_PREDICTION_H);
});
