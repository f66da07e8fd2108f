import assert from "node:assert/strict";
import { predictRuntime } from "../../src/core/prediction.ts";
import {
  type DispatchSettings,
  forecastRuntime,
  type RuntimeForecastInput,
} from "../../src/core/runtime_forecast.ts";
import { legacySiteProfile } from "../../src/core/site_profile.ts";

const START = new Date("2026-03-02T00:00:00Z");
const HOUR_MS = 3_600_000;
const legacy = legacySiteProfile("00000000-0000-0000-0000-0000000000a1");

/** 10 kWh LiFePO4 clinic, 30 % reserve (critical = min(5, 30 / 2) = 5 %), 5 kW set, 200 L tank. */
const clinic = {
  chemistry: "lifepo4" as const,
  capacityWh: 10_000,
  reserveSocPct: 30,
  tankL: 200,
  generatorRatedKw: 5,
  pvKwp: 3,
};

const dispatch: DispatchSettings = {
  genStartSocPct: 40,
  genStopSocPct: 80,
  fuelReservePct: 5,
  chargeEfficiency: 0.9,
  chargeCRate: 0.2,
  generatorAvailable: true,
};

function constantLoad(meanW: number, spreadW = 0) {
  return () => ({ meanW, spreadW, basis: "profile" as const });
}

function input(over: Partial<RuntimeForecastInput>): RuntimeForecastInput {
  return {
    profile: clinic,
    start: START,
    socPct: 50,
    socUncertaintyPct: 0,
    fuelL: 100,
    load: constantLoad(1000),
    pv: null,
    dispatch,
    ...over,
  };
}

function near(actual: number, expected: number, tol: number, what = ""): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} vs ${expected} ± ${tol}`);
}

Deno.test("forecastRuntime() agrees with predictRuntime() for a constant load, no PV, no uncertainty", () => {
  // The first-generation reference: 81.25 % (12.5 V), 50 % reserve, 5000 Wh, 150 W →
  // 31.25 % · 5000 / 150 = 10.4167 h. Tank: 85 L; a 5 kW set carrying 150 W is held at its
  // 1.5 kW minimum: 0.0332 · 5 + 0.2728 · 1.5 = 0.5752 L/h → 85 / 0.5752 = 147.775 h. The
  // dispatch that makes the simple model's assumption true: start at once (start ≥ SoC), never
  // reach stop, no charging, no fuel reserve.
  const simple = predictRuntime(legacy, {
    socPct: 81.25,
    batteryV: 12.5,
    loadW: 150,
    pvW: null,
    fuelPct: 85,
  });
  const f = forecastRuntime({
    profile: legacy,
    start: START,
    socPct: 81.25,
    socUncertaintyPct: 0,
    fuelL: 85,
    load: constantLoad(150),
    pv: null,
    dispatch: {
      genStartSocPct: 90,
      genStopSocPct: 100,
      fuelReservePct: 0,
      chargeEfficiency: 1,
      chargeCRate: 0,
      generatorAvailable: true,
    },
  });
  assert.equal(f.scenarios, 1);
  near(f.batteryH.p50, 10.41667, 1e-4, "batteryH");
  near(f.batteryH.p50, simple.batteryH, 1e-9, "batteryH vs simple");
  near(f.tankH!.p50, 147.775, 1e-3, "tankH");
  near(f.tankH!.p50, simple.dieselH, 1e-9, "tankH vs simple");
  // The outage, extrapolated: when the fuel is gone at 147.775 h the battery (never charged,
  // still 81.25 %) falls to the lead-acid critical SoC, half the 50 % reserve = 25 %:
  // 56.25 % · 5000 Wh / 150 W = 18.75 h later, at 166.525 h.
  near(f.outageH.p50, 166.525, 1e-3, "outageH");
  assert.deepEqual(f.extrapolated, { batteryH: false, tankH: true, outageH: true });
  // Over the 48 h horizon it runs throughout: 48 h and 48 · 0.5752 = 27.6096 L.
  near(f.generatorH.p50, 48, 1e-9, "generatorH");
  near(f.fuelUsedL.p50, 27.6096, 1e-9, "fuelUsedL");
});

Deno.test("forecastRuntime() gives usable Wh / net W for battery hours, past the horizon too", () => {
  // (50 − 30) % · 10 kWh = 2000 Wh at 1000 W = 2 h.
  assert.equal(forecastRuntime(input({})).batteryH.p50, 2);
  // 2000 Wh at 40 W = 50 h: past the 48 h horizon, extrapolated at the same mean draw.
  const slow = forecastRuntime(input({ load: constantLoad(40) }));
  near(slow.batteryH.p50, 50, 1e-9);
  assert.equal(slow.extrapolated.batteryH, true);
  // 2000 Wh at 10 W = 200 h: beyond a week, reported as the 168 h cap.
  assert.equal(forecastRuntime(input({ load: constantLoad(10) })).batteryH.p50, 168);
  // At the reserve already: 0 h.
  assert.equal(forecastRuntime(input({ socPct: 30 })).batteryH.p50, 0);
});

Deno.test("forecastRuntime() never empties the battery when PV exactly covers the load", () => {
  const f = forecastRuntime(
    input({ load: constantLoad(400), pv: { powerW: () => 400, relUncertainty: 0 } }),
  );
  assert.equal(f.batteryH.p50, 168);
  assert.equal(f.outageH.p50, 168);
  assert.equal(f.outageAt.p50, null);
  // Net zero keeps SoC at 50 % > start 40 %: the generator never runs.
  assert.equal(f.generatorH.p90, 0);
  assert.equal(f.meanPvW, 400);
});

Deno.test("forecastRuntime() stores surplus PV at the charge efficiency", () => {
  // Load 500 W; PV 1500 W for the first 2 h, then none. Surplus 1000 W (under the C/5 =
  // 2000 W limit) stores 900 W = 9 %/h: 50 → 68 % by 2 h. Then (68 − 30) % · 10 kWh = 3800 Wh
  // at 500 W = 7.6 h: reserve at 9.6 h.
  const pv = {
    powerW: (t: Date) => t.getTime() < START.getTime() + 2 * HOUR_MS ? 1500 : 0,
    relUncertainty: 0,
  };
  near(forecastRuntime(input({ load: constantLoad(500), pv })).batteryH.p50, 9.6, 1e-9);
});

Deno.test("forecastRuntime() burns the fuel curve's litres over start/stop cycles", () => {
  // 1000 W from 50 %: 1000 Wh = 10 % an hour, so the start point (40 %) is reached at 1 h.
  // Running, the set carries 1000 W and charges at C/5 = 2000 W: 3 kW out, burning
  // 0.0332 · 5 + 0.2728 · 3 = 0.9844 L/h; the battery gains 2000 · 0.9 = 1800 W = 18 %/h,
  // 40 → 80 % in 40 / 18 = 2.2222 h (2.1876 L). Off, 80 → 40 % takes 4 h: a cycle is 6.2222 h.
  // Runs start at 1 + 6.2222 k h: k = 0..7 fall within 48 h and the 8th ends at 46.78 h,
  // so 8 runs: 17.7778 h and 17.7778 · 0.9844 = 17.5004 L.
  const f = forecastRuntime(input({}));
  near(f.generatorH.p50, 17.77778, 1e-4, "generatorH");
  near(f.fuelUsedL.p50, 17.50044, 1e-4, "fuelUsedL");
  // Without the generator the battery lasts (50 − 30) % · 10 kWh / 1000 W = 2 h.
  assert.equal(f.batteryH.p50, 2);
  // 100 L, 10 L reserve: 90 L lasts 41 runs, well past a week (27 runs fit in 168 h).
  assert.equal(f.tankH!.p50, 168);
  assert.equal(f.outageH.p50, 168);
});

Deno.test("forecastRuntime() predicts the outage when the tank runs dry", () => {
  // As above with 20 L. A start needs more than reserve + restart margin = (5 + 2) % of 200 L
  // = 14 L. Before run k the tank holds 20 − 2.18756 k L: 20, 17.81, 15.62 (k = 2), then 13.44
  // < 14 L at k = 3, whose start at 1 + 3 · 6.2222 = 19.6667 h is refused: the tank is done.
  // The battery then falls from 40 % to the critical 5 % at 10 %/h: 3.5 h → outage at 23.1667 h.
  const f = forecastRuntime(input({ fuelL: 20 }));
  near(f.tankH!.p50, 19.66667, 1e-4, "tankH");
  near(f.outageH.p50, 23.16667, 1e-4, "outageH");
  // 23.1667 h = 23 h 10 min.
  assert.equal(f.outageAt.p50!.toISOString(), "2026-03-02T23:10:00.000Z");
  // Three runs: 6.6667 h, 6.5627 L.
  near(f.generatorH.p50, 6.66667, 1e-4);
  near(f.fuelUsedL.p50, 6.56267, 1e-4);
  assert.deepEqual(f.extrapolated, { batteryH: false, tankH: false, outageH: false });
});

Deno.test("forecastRuntime() puts the outage at the critical SoC without a generator", () => {
  // No generator: (50 − 5) % · 10 kWh = 4500 Wh at 1000 W = 4.5 h; no tank to report.
  const none = forecastRuntime(input({ profile: { ...clinic, generatorRatedKw: 0 } }));
  assert.equal(none.outageH.p50, 4.5);
  assert.equal(none.tankH, null);
  assert.equal(none.generatorH.p90, 0);
  // A generator that is not available counts the same.
  const down = forecastRuntime(input({ dispatch: { ...dispatch, generatorAvailable: false } }));
  assert.equal(down.outageH.p50, 4.5);
  // No fuel sensor: the generator is assumed to have fuel, no tank hours, no outage.
  const blind = forecastRuntime(input({ fuelL: null }));
  assert.equal(blind.tankH, null);
  assert.equal(blind.outageH.p50, 168);
});

Deno.test("forecastRuntime() widens the band with SoC uncertainty and collapses it without", () => {
  // SoC 50 ± 10 % uniform: hours = (SoC − 30) · 100 Wh / 1000 W = (SoC − 30) / 10, uniform on
  // 1..3 h: P10 = 1.2 h, P50 = 2 h, P90 = 2.8 h. 200 draws put a sample P10 within about
  // ±0.05 h (√(0.1 · 0.9 / 200) · 2 h): asserted within 0.15 h.
  const f = forecastRuntime(input({ socUncertaintyPct: 10 }), { rngState: 42 });
  assert.equal(f.scenarios, 200);
  near(f.batteryH.p10, 1.2, 0.15, "p10");
  near(f.batteryH.p50, 2, 0.15, "p50");
  near(f.batteryH.p90, 2.8, 0.15, "p90");
  const none = forecastRuntime(input({}));
  assert.equal(none.scenarios, 1);
  assert.equal(none.batteryH.p10, none.batteryH.p90);
});

Deno.test("forecastRuntime() widens the band with load and PV uncertainty", () => {
  const width = (over: Partial<RuntimeForecastInput>) => {
    const b = forecastRuntime(input({ load: constantLoad(40, 0), ...over }), { rngState: 7 })
      .batteryH;
    assert.ok(b.p10 <= b.p50 && b.p50 <= b.p90, JSON.stringify(b));
    return b.p90 - b.p10;
  };
  // 2000 Wh at 40 W ± 4 W, ± 12 W: the band grows with the spread.
  const narrow = width({ load: constantLoad(40, 4) });
  const wide = width({ load: constantLoad(40, 12) });
  assert.ok(narrow > 0 && wide > 2 * narrow, `${narrow} vs ${wide}`);
  // PV of 20 W against the 40 W load, certain, then ± 50 % per day.
  const pv = (rel: number) => ({ powerW: () => 20, relUncertainty: rel });
  assert.equal(width({ pv: pv(0) }), 0);
  assert.ok(width({ pv: pv(0.5) }) > 0);
});

Deno.test("forecastRuntime() repeats itself for the same PRNG state and moves it on", () => {
  const a = forecastRuntime(input({ socUncertaintyPct: 5, load: constantLoad(900, 150) }), {
    rngState: 99,
  });
  const b = forecastRuntime(input({ socUncertaintyPct: 5, load: constantLoad(900, 150) }), {
    rngState: 99,
  });
  assert.deepEqual(a, b);
  assert.notEqual(a.rngState, 99);
});

Deno.test("forecastRuntime() names the bad field", () => {
  assert.throws(
    () => forecastRuntime(input({ socPct: 120 })),
    /socPct must be within 0\.\.100, got 120/,
  );
  assert.throws(
    () => forecastRuntime(input({ dispatch: { ...dispatch, genStopSocPct: 30 } })),
    /dispatch\.genStopSocPct must be above genStartSocPct 40, got 30/,
  );
  assert.throws(
    () => forecastRuntime(input({ fuelL: 300 })),
    /fuelL must be within 0\.\.200, got 300/,
  );
  assert.throws(() => forecastRuntime(input({}), { stepS: 7 }), /stepS must be a whole number/);
  assert.throws(
    () =>
      forecastRuntime(input({ load: () => ({ meanW: Number.NaN, spreadW: 0, basis: "ewma" }) })),
    /load\(2026-03-02T00:07:30\.000Z\)\.meanW must be ≥ 0 W, got NaN/,
  );
});
