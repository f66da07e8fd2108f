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

Deno.test("pvPowerW() is kWp · 1000 · sin(elevation) · clearness · 0.8", () => {
  const site: SimSite = { ...SITE, profile: { ...SITE.profile, pvKwp: 2 }, fixedClearness: 1 };
  // At solar noon elevation ≈ 90° − 0.04° → sin ≈ 1.0000: 2 · 1000 · 1 · 1 · 0.8 = 1600 W.
  const noon = solarNoonUtc(0, EQUINOX_NOON);
  near(pvPowerW(site, noon), 1600, 1, "clear noon");
  // Clearness 0.5 halves it: 800 W.
  near(pvPowerW({ ...site, fixedClearness: 0.5 }, noon), 800, 1, "half-clear noon");
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

Deno.test("step() drains load · 1 h / capacity from the battery with no PV", () => {
  // 500 W · 1 h / 5000 Wh = 10 %: 80 % → 70 %, in one step or in 360 steps of 10 s.
  const one = step(SITE, simState(80), { dtS: 3600, now: EQUINOX_NOON, outputs: ON_BATTERY });
  near(one.state.socPct, 70, 1e-9, "one step");
  let s = simState(80);
  for (let i = 0; i < 360; i++) {
    s = step(SITE, s, { dtS: 10, now: EQUINOX_NOON, outputs: ON_BATTERY }).state;
  }
  near(s.socPct, 70, 1e-9, "360 steps");
  assert.equal(one.state.fuelL, 50);
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
  // 500 W is below the 30 % minimum (1.5 kW): F = 0.166 + 0.2728 · 1.5 = 0.5752 L.
  const light = step(SITE, simState(100), { dtS: 3600, now: EQUINOX_NOON, outputs: ON_GENERATOR });
  near(50 - light.state.fuelL, 0.5752, 1e-9, "fuel at minimum load");
});

Deno.test("step() charges at C/5 from a running generator", () => {
  // C/5 of 5000 Wh = 1000 W for 1 h: +20 %, 50 % → 70 %. Output 500 + 1000 = 1.5 kW:
  // F = 0.166 + 0.2728 · 1.5 = 0.5752 L.
  const r = step(SITE, simState(50), { dtS: 3600, now: EQUINOX_NOON, outputs: ON_GENERATOR });
  near(r.state.socPct, 70, 1e-9, "SoC");
  near(50 - r.state.fuelL, 0.5752, 1e-9, "fuel");
  assert.equal(r.readings.genW, 1500);
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

Deno.test("step() sags the terminal voltage by I · R under load", () => {
  // OCV at 50 % = 12.24 V (BCI). 612 W / 12.24 V = 50 A; 50 A · 0.004 Ω = 0.2 V → 12.04 V.
  const r = step(withLoad(612), simState(50), { dtS: 0, now: EQUINOX_NOON, outputs: ON_BATTERY });
  near(r.readings.batteryV, 12.04, 1e-9, "terminal V");
  near(r.readings.batteryA!, -50, 1e-9, "current");
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

Deno.test("step() clamps SoC to 0..100 and drops the load of an empty battery", () => {
  const empty = step(SITE, simState(1), { dtS: 3600, now: EQUINOX_NOON, outputs: ON_BATTERY });
  assert.equal(empty.state.socPct, 0);
  const dead = step(SITE, simState(0), { dtS: 60, now: EQUINOX_NOON, outputs: ON_BATTERY });
  assert.equal(dead.readings.loadW, 0);
  // 3 kWp at noon ≈ 2400 W into a full battery: curtailed, SoC stays 100.
  const sunny: SimSite = { ...SITE, profile: { ...SITE.profile, pvKwp: 3 }, fixedClearness: 1 };
  const full = step(sunny, simState(100), { dtS: 3600, now: EQUINOX_NOON, outputs: ON_BATTERY });
  assert.equal(full.state.socPct, 100);
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
