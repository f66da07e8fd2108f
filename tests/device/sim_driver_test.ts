import assert from "node:assert/strict";
import type { SimSite } from "../../src/core/simulator.ts";
import { SimDriver } from "../../src/device/sim_driver.ts";
import { SIM_PRESET_NAMES, SIM_PRESETS, simSiteFromPreset } from "../../src/device/sim_presets.ts";
import { SiteProfileSchema } from "../../src/core/site_profile.ts";

const NOON = new Date("2026-03-20T12:00:00Z");

/**
 * The small preset (12 V 5000 Wh flooded, 3 mΩ) with no PV, a constant 1000 W and the air at
 * 80 °F (the BCI table's temperature). An hour on the battery from 80 % (OCV 12.49 V): the sag
 * per ampere is b = 0.003 + 6 · (0.27 / 0.95074^1.5 + 0.02) / 416.667 = 0.0074820 Ω,
 * I = (12.49 − √(12.49² − 4 · 0.007482 · 1000)) / (2 · 0.007482) = 84.3235 A; Peukert (k 1.25,
 * I_20 = 20.833 A): 84.3235 · (84.3235 / 20.833)^0.25 = 119.6041 A → −28.7050 % in an hour:
 * 51.2950 %.
 */
const SITE: SimSite = {
  ...simSiteFromPreset(SIM_PRESETS.small, { siteId: "drv-1", seed: 1 }),
  load: { baseW: 1000, daytimeW: 0, eveningW: 0, noiseFrac: 0 },
  fixedAmbientC: (80 - 32) / 1.8,
};
const AFTER_HOUR_ON_BATTERY_PCT = 51.295;
const NO_PV: SimSite = { ...SITE, profile: { ...SITE.profile, pvKwp: 0 } };

function driver(site = NO_PV) {
  return new SimDriver({ site, initialSocPct: 80, initialFuelPct: 50, now: NOON });
}

Deno.test("SimDriver starts in the safe outputs and reads back what was set", async () => {
  const d = driver();
  assert.deepEqual(await d.readOutputs(), { source: "battery", genRun: false, shedTier: 0 });
  await d.setOutputs({ source: "generator", genRun: true, shedTier: 2 });
  assert.deepEqual(await d.readOutputs(), { source: "generator", genRun: true, shedTier: 2 });
});

Deno.test("SimDriver moves the physics only on advance()", async () => {
  const d = driver();
  assert.equal((await d.readSensors()).socPct, 80);
  assert.equal((await d.readSensors()).pvW, null, "no PV on the site: null, not 0");
  await d.advance(3600, new Date(NOON.getTime() + 3_600_000));
  assert.ok(Math.abs((await d.readSensors()).socPct! - AFTER_HOUR_ON_BATTERY_PCT) < 1e-3);
  // Fuel: 50 % of 100 L, untouched with the generator off.
  assert.equal((await d.readSensors()).fuelPct, 50);
});

Deno.test("SimDriver fault injection: an empty tank or a failed generator never runs", async () => {
  const d = driver();
  await d.setOutputs({ source: "battery", genRun: true, shedTier: 0 });
  d.setGeneratorFailed(true);
  await d.advance(60, NOON);
  assert.equal((await d.readSensors()).genRunning, false);
  d.setGeneratorFailed(false);
  d.setFuelPct(0);
  await d.advance(60, NOON);
  assert.equal((await d.readSensors()).genRunning, false);
  d.setFuelPct(40);
  await d.advance(60, NOON);
  assert.equal((await d.readSensors()).genRunning, true);
  assert.throws(() => d.setFuelPct(120), /fuelPct must be 0..100, got 120/);
});

Deno.test("SimDriver rejects bad outputs and use after close, naming the value", async () => {
  const d = driver();
  await assert.rejects(
    d.setOutputs({ source: "battery", genRun: false, shedTier: 4 }),
    /shedTier must be an integer 0..3, got 4/,
  );
  await assert.rejects(d.advance(-1, NOON), /dtS must be a finite number ≥ 0, got -1/);
  await d.close();
  await assert.rejects(d.readSensors(), /closed/);
});

Deno.test("SIM_PRESETS are valid site profiles of three different sizes", () => {
  const sizes = SIM_PRESET_NAMES.map((name) => {
    const site = simSiteFromPreset(SIM_PRESETS[name], { siteId: `preset-${name}`, seed: 1 });
    SiteProfileSchema.parse(site.profile);
    return [site.profile.nominalV, site.profile.capacityWh];
  });
  assert.deepEqual(sizes, [[12, 5_000], [24, 10_000], [48, 30_000]]);
});

Deno.test("SimDriver: a generator not switched to the load runs unloaded on its no-load fuel", async () => {
  // Warm-up / cool-down: source battery, run signal on. 1000 W for 1 h from the battery (as
  // above, 51.295 %); the generator burns F0 · 5 kW = 0.0332 · 5 = 0.166 L/h of its 100 L
  // tank: 50 % − 0.166 % = 49.834 %.
  const d = driver();
  await d.setOutputs({ source: "battery", genRun: true, shedTier: 0 });
  await d.advance(3600, new Date(NOON.getTime() + 3_600_000));
  const r = await d.readSensors();
  assert.ok(Math.abs(r.socPct! - AFTER_HOUR_ON_BATTERY_PCT) < 1e-3, `SoC ${r.socPct}`);
  assert.ok(Math.abs(r.fuelPct! - 49.834) < 1e-9, `fuel ${r.fuelPct}`);
  assert.deepEqual([r.genRunning, r.genW], [true, 0]);
});

Deno.test("SimDriver caps the generator's battery charge at genChargeLimitW", async () => {
  // On the generator at 80 % (OCV 12.49 V) the charger sees b = 0.003 + 6 · (0.48 / 0.2^1.2 +
  // 0.036) / 416.667 Ah = 0.051202 Ω. With a 200 W limit: I = (−12.49 + √(12.49² + 4 · 0.051202
  // · 200)) / (2 · 0.051202) = 15.0805 A, in bulk (13.26 V); an hour stores 15.0805 · 0.95 /
  // 416.667 = 3.4384 % → 83.438 %. Output 1000 + 200 W, under the 1.5 kW minimum: fuel
  // 0.0332 · 5 + 0.2728 · 1.5 = 0.5752 L → 49.4248 %. Without a limit the C/5 charger offers
  // 1000 W but at 14.40 V the battery takes only (14.40 − 12.49) / 0.051202 = 37.303 A
  // (537.17 W): +8.5052 % → 88.505 %, output 1537.17 W, fuel 0.166 + 0.2728 · 1.53717 =
  // 0.58534 L → 49.41466 %.
  const limited = driver();
  await limited.setOutputs({
    source: "generator",
    genRun: true,
    shedTier: 0,
    genChargeLimitW: 200,
  });
  await limited.advance(3600, new Date(NOON.getTime() + 3_600_000));
  const r = await limited.readSensors();
  assert.ok(Math.abs(r.socPct! - 83.4384) < 1e-3, `SoC ${r.socPct}`);
  assert.ok(Math.abs(r.fuelPct! - 49.4248) < 1e-9, `fuel ${r.fuelPct}`);
  const full = driver();
  await full.setOutputs({ source: "generator", genRun: true, shedTier: 0 });
  await full.advance(3600, new Date(NOON.getTime() + 3_600_000));
  const f = await full.readSensors();
  assert.ok(Math.abs(f.socPct! - 88.5052) < 1e-3, `SoC ${f.socPct}`);
  assert.ok(Math.abs(f.fuelPct! - 49.41466) < 1e-4, `fuel ${f.fuelPct}`);
  await assert.rejects(
    full.setOutputs({ source: "generator", genRun: true, shedTier: 0, genChargeLimitW: -5 }),
    /genChargeLimitW must be a number of W ≥ 0 or null, got -5/,
  );
});
