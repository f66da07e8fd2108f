import assert from "node:assert/strict";
import {
  dailyClearness,
  dayOfYear,
  initialSimState,
  nextRandom,
  pvPowerW,
  type SimOutputs,
  type SimSite,
  type SimState,
  solarElevationDeg,
  step,
} from "../../src/core/simulator.ts";
import { solarNoonUtc } from "../../src/core/solar.ts";

/** 12 V 5000 Wh lead-acid, 5 kW generator, 100 L tank, no PV, a constant 500 W load. */
const SITE: SimSite = {
  profile: {
    siteId: "sim-1",
    chemistry: "flooded-lead-acid",
    nominalV: 12,
    capacityWh: 5000,
    reserveSocPct: 50,
    tankL: 100,
    generatorRatedKw: 5,
    pvKwp: 0,
    latitude: 0,
    longitude: 0,
    timeZone: "UTC",
  },
  load: { baseW: 500, daytimeW: 0, eveningW: 0, noiseFrac: 0 },
  internalResistanceOhm: 0.004,
  chargeCRate: 0.2,
  seed: 1,
  // 80 °F, the BCI table's temperature: the rest voltage is the table's own.
  fixedAmbientC: (80 - 32) / 1.8,
};
const EQUINOX_NOON = new Date("2026-03-20T12:00:00Z");
const ON_BATTERY: SimOutputs = { source: "battery", genRun: false, shedTier: 0 };
const ON_GENERATOR: SimOutputs = { source: "generator", genRun: true, shedTier: 0 };

function withLoad(baseW: number): SimSite {
  return { ...SITE, load: { ...SITE.load, baseW } };
}

function simState(socPct: number, fuelL = 50): SimState {
  return { socPct, fuelL, genRunning: false, genFailed: false, rng: 1 };
}

function near(actual: number, expected: number, tolerance: number, what: string) {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

Deno.test("nextRandom() repeats the same sequence for the same seed", () => {
  const draw = (seed: number) => {
    let s = seed;
    return Array.from({ length: 5 }, () => {
      const r = nextRandom(s);
      s = r.state;
      return r.value;
    });
  };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
  for (const v of draw(7)) assert.ok(v >= 0 && v < 1, `${v} in [0, 1)`);
});

Deno.test("dayOfYear() is 1 on 1 January and 79 on 20 March (2026 is not a leap year)", () => {
  assert.equal(dayOfYear(new Date("2026-01-01T23:59:00Z")), 1);
  // 31 (Jan) + 28 (Feb) + 20 = 79.
  assert.equal(dayOfYear(EQUINOX_NOON), 79);
});

Deno.test("solarElevationDeg() at solar noon on an equinox is 90° − latitude within 1°", () => {
  // On the March equinox δ ≈ 0 and at solar noon ω = 0, so α = 90° − |φ − δ| ≈ 90° − |φ|.
  // Solar noon is not 12:00 UTC at 0°: the equation of time on 20 March is about −7.4 min
  // (apparent sun late), so noon falls near 12:07 UTC (solar_test.ts pins it).
  const noon = solarNoonUtc(0, EQUINOX_NOON);
  for (const latitude of [0, 12, -2.52, 45]) {
    near(
      solarElevationDeg(latitude, 0, noon),
      90 - Math.abs(latitude),
      1,
      `latitude ${latitude}`,
    );
  }
  // At longitude 30° E solar noon comes 30 / 15 = 2 h earlier, near 10:07 UTC.
  near(solarElevationDeg(0, 30, solarNoonUtc(30, EQUINOX_NOON)), 90, 1, "30° E, 2 h earlier");
});

Deno.test("solarElevationDeg() on the December solstice at the equator is 90° − 23.45°", () => {
  // n = 355: 360 · (284 + 355) / 365 = 630.25° → sin = −1.000 → δ = −23.45°; α = 90 − 23.45.
  near(solarElevationDeg(0, 0, new Date("2026-12-21T12:00:00Z")), 66.55, 0.1, "solstice noon");
});

Deno.test("solarElevationDeg() is 0° six hours before solar noon and about −90° at midnight on the equator", () => {
  // φ = 0: sin α = cos δ · cos ω; ω = −90° six hours before solar noon (06:07 UTC) gives 0;
  // ω ≈ −180° gives −cos δ ≈ −1.
  const sixHoursBefore = new Date(solarNoonUtc(0, EQUINOX_NOON).getTime() - 6 * 3600_000);
  near(solarElevationDeg(0, 0, sixHoursBefore), 0, 0.1, "ω = −90°");
  assert.ok(solarElevationDeg(0, 0, new Date("2026-03-20T00:00:00Z")) < -88);
});

Deno.test("pvPowerW() is Haurwitz clear sky × clearness through the PV model", () => {
  const site: SimSite = { ...SITE, profile: { ...SITE.profile, pvKwp: 2 }, fixedClearness: 1 };
  // At solar noon on the equinox at 0°, 0° the zenith is ≈ 0.04°: Haurwitz GHI =
  // 1098 · e^(−0.057) = 1037.16 W/m². At 25 °C air the NOCT cell is 25 + 25 · 1037.16 / 800 =
  // 57.41 °C, derate 1 − 0.004 · 32.41 = 0.87035: 2 kWp · 1.03716 · 0.825 · 0.87035 = 1489.4 W.
  const noon = solarNoonUtc(0, EQUINOX_NOON);
  near(pvPowerW(site, noon, { ambientC: 25 }), 1489.4, 0.5, "clear noon");
  // Clearness 0.5: 518.58 W/m², cell 25 + 16.21 = 41.21 °C, derate 0.93517:
  // 2 · 0.51858 · 0.825 · 0.93517 = 800.2 W.
  near(pvPowerW({ ...site, fixedClearness: 0.5 }, noon, { ambientC: 25 }), 800.2, 0.5, "half");
  assert.equal(pvPowerW(site, new Date("2026-03-20T00:00:00Z")), 0);
});

Deno.test("dailyClearness() is the same for a seed and day, and stays within 0.45..1", () => {
  const morning = new Date("2026-03-20T06:00:00Z");
  assert.equal(dailyClearness(3, morning), dailyClearness(3, EQUINOX_NOON));
  for (let d = 0; d < 30; d++) {
    const c = dailyClearness(3, new Date(EQUINOX_NOON.getTime() + d * 86_400_000));
    assert.ok(c >= 0.45 && c <= 1, `${c}`);
  }
});

Deno.test("step() drains the battery through its sag and Peukert with no PV", () => {
  // OCV at 80 % = 12.45 + 0.20 · 5/25 = 12.49 V. The sag per ampere is b = R + 6 cells ·
  // (0.27 / (0.80 + 0.15074)^1.5 + 0.02) / 416.667 Ah = 0.004 + 0.0044820 = 0.0084820 Ω; V·I =
  // 500 W with V = 12.49 − b·I: I = (12.49 − √(12.49² − 4 · 0.008482 · 500)) / (2 · 0.008482)
  // = 41.1839 A at 12.1407 V. Peukert (k 1.25, I_20 = 416.667 / 20 = 20.833 A): 41.1839 ·
  // (41.1839 / 20.833)^0.25 = 48.8337 A effective; one hour: 48.8337 / 416.667 Ah = 11.7201 %
  // → 68.2799 %.
  const one = step(SITE, simState(80), { dtS: 3600, now: EQUINOX_NOON, outputs: ON_BATTERY });
  near(one.state.socPct, 68.2799, 1e-3, "one step");
  near(one.readings.batteryA!, -41.1839, 1e-3, "current");
  assert.equal(one.state.fuelL, 50);
  // Below the 20-hour current Peukert gives more than the lossless count: 100 W is 8.0504 A,
  // 8.0504 · (8.0504 / 20.833)^0.25 = 6.3472 A → 1.5233 % in an hour, not 100 / 5000 = 2 %.
  const slow = step(withLoad(100), simState(80), {
    dtS: 3600,
    now: EQUINOX_NOON,
    outputs: ON_BATTERY,
  });
  near(80 - slow.state.socPct, 1.5233, 1e-3, "slow discharge");
});

Deno.test("step() burns the fuel curve's litres while the generator carries the load", () => {
  // Full battery, so no charging: output = max(2 kW, 0.3 · 5 kW) = 2 kW;
  // F = 0.0332 · 5 + 0.2728 · 2 = 0.166 + 0.5456 = 0.7116 L in 1 h.
  const r = step(withLoad(2000), simState(100), {
    dtS: 3600,
    now: EQUINOX_NOON,
    outputs: ON_GENERATOR,
  });
  near(50 - r.state.fuelL, 0.7116, 1e-9, "fuel at 2 kW");
  assert.equal(r.state.socPct, 100);
  assert.equal(r.readings.genW, 2000);
  assert.equal(r.readings.loadW, 2000);
  // A full lead-acid battery floats: the charger holds 2.25 V/cell = 13.50 V.
  near(r.readings.batteryV, 13.5, 1e-9, "float voltage");
  // 500 W is below the 30 % minimum (1.5 kW): F = 0.166 + 0.2728 · 1.5 = 0.5752 L.
  const light = step(SITE, simState(100), { dtS: 3600, now: EQUINOX_NOON, outputs: ON_GENERATOR });
  near(50 - light.state.fuelL, 0.5752, 1e-9, "fuel at minimum load");
});

Deno.test("step() charges in bulk at the charger's C/5 from a running generator", () => {
  // C/5 of 5000 Wh = 1000 W offered at 50 %. While charging V = OCV + b · I with
  // b = R + 6 · (0.48 / 0.5^1.2 + 0.036) / 416.667 Ah = 0.004 + 6 · 1.13875 / 416.667 =
  // 0.020398 Ω; V·I = 1000 W: I = (−12.24 + √(12.24² + 4 · 0.020398 · 1000)) / (2 · 0.020398)
  // = 72.854 A at 13.726 V, under the 14.40 V absorption: bulk. Ten minutes store
  // 72.854 · 0.95 · (1/6) h / 416.667 Ah = 2.7685 %. Output 500 + 1000 = 1.5 kW:
  // 0.5752 L/h · 1/6 h = 0.095867 L.
  const r = step(SITE, simState(50), { dtS: 600, now: EQUINOX_NOON, outputs: ON_GENERATOR });
  near(r.flows.socEndPct - 50, 2.7685, 1e-3, "SoC");
  near(r.readings.batteryA!, 72.854, 1e-3, "current");
  near(50 - r.state.fuelL, 0.095867, 1e-6, "fuel");
  assert.equal(r.flows.chargeStage, "bulk");
  near(r.readings.genW!, 1500, 1e-9, "output");
  // The voltage is read at the new SoC with the same current: higher than 13.726 V, below 14.4.
  assert.ok(r.readings.batteryV > 13.726 && r.readings.batteryV < 14.4, `${r.readings.batteryV}`);
});

Deno.test("step() holds the absorption voltage and the current tapers near full", () => {
  // At 85 % (OCV 12.53 V) b = 0.004 + 6 · (0.48 / 0.15^1.2 + 0.036) / 416.667 = 0.071844 Ω:
  // 14.40 V lets (14.40 − 12.53) / 0.071844 = 26.022 A in, 374.72 W of the 1000 W offered.
  // The generator gives 500 + 374.72 = 874.72 W and burns at its 1.5 kW minimum.
  const r = step(SITE, simState(85), { dtS: 600, now: EQUINOX_NOON, outputs: ON_GENERATOR });
  assert.equal(r.flows.chargeStage, "absorption");
  near(r.readings.batteryA!, 26.022, 1e-3, "current");
  near(r.readings.batteryV, 14.4, 1e-9, "absorption voltage");
  near(r.readings.genW!, 874.72, 1e-2, "generator output");
  near(50 - r.state.fuelL, 0.5752 / 6, 1e-9, "fuel at minimum load");
  // Ten minutes: 26.022 · 0.95 / 6 / 416.667 = 0.98884 %.
  near(r.state.socPct - 85, 0.98884, 1e-4, "SoC");
});

Deno.test("step() runs a generator that does not carry the load unloaded (warm-up, cool-down)", () => {
  // Source battery, run signal on: the battery carries 500 W (68.2799 % after 1 h, as above)
  // and the generator burns F0 · 5 kW = 0.166 L/h with no output and no charging.
  const r = step(SITE, simState(80), {
    dtS: 3600,
    now: EQUINOX_NOON,
    outputs: { source: "battery", genRun: true, shedTier: 0 },
  });
  near(r.state.socPct, 68.2799, 1e-3, "SoC");
  near(50 - r.state.fuelL, 0.166, 1e-9, "no-load fuel");
  assert.deepEqual([r.readings.genRunning, r.readings.genW], [true, 0]);
});

Deno.test("step() caps the generator's charging at the decision's genChargeLimitW", () => {
  // 300 W offered at 50 % (b = 0.020398 Ω): I = (−12.24 + √(12.24² + 4 · 0.020398 · 300)) /
  // 0.040796 = 23.583 A (V·I = 300 W); the generator gives 500 + 300 = 800 W.
  const r = step(SITE, simState(50), {
    dtS: 600,
    now: EQUINOX_NOON,
    outputs: { ...ON_GENERATOR, genChargeLimitW: 300 },
  });
  near(r.readings.batteryA!, 23.583, 1e-3, "current");
  near(r.flows.genToBatteryW, 300, 1e-9, "charge");
  near(r.readings.genW!, 800, 1e-9, "output");
});

Deno.test("step() reduces the load by shed tier and to 0 on shutdown", () => {
  const at = (outputs: SimOutputs) =>
    step(withLoad(1000), simState(80), { dtS: 60, now: EQUINOX_NOON, outputs }).readings.loadW;
  // Tiers keep 100 %, 80 %, 50 %, 20 % of 1000 W.
  assert.deepEqual([0, 1, 2, 3].map((shedTier) => at({ ...ON_BATTERY, shedTier })), [
    1000,
    800,
    500,
    200,
  ]);
  assert.equal(at({ ...ON_BATTERY, source: "off" }), 0);
  // Bus switched to a generator that is not running: nothing is supplied.
  assert.equal(at({ source: "generator", genRun: false, shedTier: 0 }), 0);
  const off = step(SITE, simState(80), {
    dtS: 3600,
    now: EQUINOX_NOON,
    outputs: { ...ON_BATTERY, source: "off" },
  });
  assert.equal(off.state.socPct, 80);
});

Deno.test("step() sags the terminal voltage under load", () => {
  // OCV at 50 % = 12.24 V (BCI). b = 0.004 + 6 · (0.27 / 0.65074^1.5 + 0.02) / 416.667 =
  // 0.0116945 Ω; 612 W: I = (12.24 − √(12.24² − 4 · 0.0116945 · 612)) / (2 · 0.0116945) =
  // 52.6483 A, V = 12.24 − 0.0116945 · 52.6483 = 11.6243 V (V·I = 612 W).
  const r = step(withLoad(612), simState(50), { dtS: 0, now: EQUINOX_NOON, outputs: ON_BATTERY });
  near(r.readings.batteryV, 11.6243, 1e-4, "terminal V");
  near(r.readings.batteryA!, -52.6483, 1e-3, "current");
});

Deno.test("step() replays measured demand, irradiance and air temperature", () => {
  // 2 kWp under 500 W/m² at 30 °C air: cell 30 + 25 · 500 / 800 = 45.625 °C, derate
  // 1 − 0.004 · 20.625 = 0.9175: 2 · 0.5 · 0.825 · 0.9175 = 756.94 W. Demand 300 W: PV serves it
  // and offers 456.94 W to the battery at 50 % (bulk); nothing is curtailed or unserved.
  const site: SimSite = { ...SITE, profile: { ...SITE.profile, pvKwp: 2 } };
  const r = step(site, simState(50), {
    dtS: 300,
    now: new Date("2026-03-20T00:00:00Z"),
    outputs: ON_BATTERY,
    demandW: 300,
    ghiWm2: 500,
    ambientC: 30,
  });
  near(r.flows.pvAvailableW, 756.94, 1e-2, "PV");
  assert.deepEqual([r.flows.demandW, r.flows.pvToLoadW, r.flows.unservedW], [300, 300, 0]);
  near(r.flows.pvToBatteryW, 456.94, 1e-2, "PV to battery");
  near(r.flows.pvCurtailedW, 0, 1e-9, "curtailed");
  assert.equal(r.readings.batteryTempC, 30);
});

Deno.test("step() stops the generator when the tank runs dry", () => {
  // 0.1 L at 0.5752 L/h lasts about 10 min; after 1 h the tank is 0 and the generator is off.
  const r = step(SITE, simState(100, 0.1), { dtS: 3600, now: EQUINOX_NOON, outputs: ON_GENERATOR });
  assert.equal(r.state.fuelL, 0);
  assert.equal(r.state.genRunning, false);
  assert.equal(r.readings.fuelPct, 0);
  const failed = step(SITE, { ...simState(100), genFailed: true }, {
    dtS: 60,
    now: EQUINOX_NOON,
    outputs: ON_GENERATOR,
  });
  assert.equal(failed.readings.genRunning, false);
});

Deno.test("step() clamps SoC to 0..100 and cuts the load off under the end voltage", () => {
  // At 1 % (OCV 11.8968 V) b = 0.004 + 6 · (0.27 / 0.16074^1.5 + 0.02) / 416.667 = 0.064618 Ω:
  // 500 W would take 64.92 A at 11.8968 − 4.195 = 7.70 V, under 6 · 1.75 = 10.5 V: the inverter
  // disconnects the load, nothing is drawn, the battery reads its rest voltage.
  const empty = step(SITE, simState(1), { dtS: 3600, now: EQUINOX_NOON, outputs: ON_BATTERY });
  assert.deepEqual([empty.state.socPct, empty.readings.loadW, empty.flows.unservedW], [1, 0, 500]);
  near(empty.readings.batteryV, 11.8968, 1e-9, "rest voltage");
  const dead = step(SITE, simState(0), { dtS: 60, now: EQUINOX_NOON, outputs: ON_BATTERY });
  assert.equal(dead.readings.loadW, 0);
  // 3 kWp at noon ≈ 2200 W into a full battery: what the 500 W load does not take is
  // curtailed, and SoC stays 100.
  const sunny: SimSite = { ...SITE, profile: { ...SITE.profile, pvKwp: 3 }, fixedClearness: 1 };
  const full = step(sunny, simState(100), { dtS: 3600, now: EQUINOX_NOON, outputs: ON_BATTERY });
  assert.equal(full.state.socPct, 100);
  near(full.flows.pvCurtailedW, full.flows.pvAvailableW - 500, 1e-9, "curtailed");
});

Deno.test("step() gives the same readings for the same seed, different for another", () => {
  const noisy: SimSite = {
    ...SITE,
    load: { baseW: 500, daytimeW: 300, eveningW: 200, noiseFrac: 0.1 },
  };
  const run = (seed: number) => {
    const site = { ...noisy, seed };
    let s = initialSimState(site, { socPct: 80, fuelPct: 50 });
    const loads: number[] = [];
    for (let i = 0; i < 10; i++) {
      const now = new Date(EQUINOX_NOON.getTime() + i * 60_000);
      const r = step(site, s, { dtS: 60, now, outputs: ON_BATTERY });
      s = r.state;
      loads.push(r.readings.loadW);
    }
    return loads;
  };
  assert.deepEqual(run(5), run(5));
  assert.notDeepEqual(run(5), run(6));
  // Noise ±10 % around the shape, which rises from 12:00 to 12:09 solar time:
  // 12:00: 500 + 300 · e^(−(1/3)²) + 200 · e^(−(7.5/1.5)²) = 500 + 268.5 + 0.0 = 768.5 W;
  // 12:09: 500 + 300 · e^(−(0.85/3)²) = 500 + 276.8 = 776.8 W. So 768.5 · 0.9 = 691.6 W is the
  // least and 776.8 · 1.1 = 854.5 W the most any reading can be.
  for (const w of run(5)) assert.ok(w >= 691.6 && w <= 854.5, `${w}`);
});

Deno.test("step() drains a fuel leak with the generator off, and never below empty", () => {
  const leaky = { ...SITE, fuelLeakLph: 3.6 };
  // 3.6 L/h for 1000 s is 1 L; the generator is off, so that is all the tank loses.
  const r = step(leaky, simState(80, 50), { dtS: 1000, now: EQUINOX_NOON, outputs: ON_BATTERY });
  near(r.state.fuelL, 49, 1e-9, "fuel after the leak");
  assert.equal(r.flows.fuelUsedL, 0, "a leak is not burn");
  const dry = step(leaky, simState(80, 0.5), { dtS: 1000, now: EQUINOX_NOON, outputs: ON_BATTERY });
  assert.equal(dry.state.fuelL, 0);
});
