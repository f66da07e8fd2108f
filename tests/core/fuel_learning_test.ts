import assert from "node:assert/strict";
import { type FuelSample, learnFuelCurve } from "../../src/core/fuel_learning.ts";
import { DEFAULT_FUEL_CURVE, fuelRateLph, specificFuelLPerKwh } from "../../src/core/generator.ts";
import { nextRandom } from "../../src/core/simulator.ts";

const INDONESIA = new URL(
  "../../../shared/data/indonesia-diesel-microgrid-fuel-summary.csv",
  import.meta.url,
);

interface VillageRow {
  village: string;
  ratingKva: number;
  meanLoadKva: number;
  loadFraction: number;
  fuelLPerDay: number | null;
  energyKwhPerDay: number;
  sfcLPerKwh: number | null;
}

/** The CSV's `nan` is a missing value. */
function num(text: string): number | null {
  return text.trim().toLowerCase() === "nan" ? null : Number(text);
}

async function villages(): Promise<VillageRow[]> {
  const [header, ...rows] = (await Deno.readTextFile(INDONESIA)).trim().split("\n");
  assert.equal(
    header,
    "village,genset_rating_kVA,mean_load_kVA,genset_load_fraction," +
      "observed_daily_fuel_l_per_day,mean_energy_on_operating_days_kWh,observed_sfc_l_per_kWh",
  );
  return rows.map((line) => {
    const c = line.split(",");
    return {
      village: c[0]!,
      ratingKva: num(c[1]!)!,
      meanLoadKva: num(c[2]!)!,
      loadFraction: num(c[3]!)!,
      fuelLPerDay: num(c[4]!),
      energyKwhPerDay: num(c[5]!)!,
      sfcLPerKwh: num(c[6]!),
    };
  });
}

/**
 * Power factor assumed for both the rating and the load: 0.8. Gensets are rated in kVA at
 * 0.8 lagging (ISO 8528-1), so a 25 kVA set is a 20 kW engine. Taking the load at the same 0.8
 * keeps the file's load fraction (kVA / kVA) the engine's load fraction (kW / kW). The dataset's
 * author found kVA·h and kWh within about 10 % (dsoto/WP19 lab book 2017-10-03), i.e. a load
 * power factor near 1: the engine load would then be 1 / 0.8 = 1.25× the fraction used here and
 * the default SFC lower still, so the gap shown below is if anything understated.
 */
const POWER_FACTOR = 0.8;

Deno.test("indonesia fuel summary: parsed rows are consistent, `nan` is missing", async () => {
  const rows = await villages();
  assert.equal(rows.length, 3);
  // SFC = daily fuel / daily energy: atamali 30 / 15.2 = 1.974 → 1.97; ayapo 60 / 90 = 0.667.
  assert.ok(Math.abs(rows[0]!.fuelLPerDay! / rows[0]!.energyKwhPerDay - 1.97) < 0.005);
  assert.ok(Math.abs(rows[1]!.fuelLPerDay! / rows[1]!.energyKwhPerDay - 0.667) < 0.001);
  // Load fraction = mean load / rating: 2.8561 / 25 = 0.114244.
  assert.ok(Math.abs(rows[0]!.meanLoadKva / rows[0]!.ratingKva - rows[0]!.loadFraction) < 1e-6);
  assert.equal(rows[2]!.village, "kensio");
  assert.equal(rows[2]!.sfcLPerKwh, null);
  assert.equal(rows[2]!.fuelLPerDay, null);
});

Deno.test("specificFuelLPerKwh() of the default curve is far below the measured village SFC", async () => {
  const rows = await villages();
  // Default SFC at load fraction x: F0 / x + F1.
  // atamali x = 0.114244: 0.0332 / 0.114244 + 0.2728 = 0.29061 + 0.2728 = 0.56341 L/kWh;
  //   measured 1.97 → 1.97 / 0.56341 = 3.497× the default.
  // ayapo   x = 0.326881: 0.0332 / 0.326881 + 0.2728 = 0.10157 + 0.2728 = 0.37437 L/kWh;
  //   measured 0.667 → 0.667 / 0.37437 = 1.782× the default.
  // kensio  x = 0.0641703: 0.0332 / 0.0641703 + 0.2728 = 0.51737 + 0.2728 = 0.79017 L/kWh;
  //   measured: missing.
  const expected = [
    { defaultSfc: 0.56341, ratio: 3.497 },
    { defaultSfc: 0.37437, ratio: 1.782 },
    { defaultSfc: 0.79017, ratio: null },
  ];
  rows.forEach((row, i) => {
    const ratedKw = row.ratingKva * POWER_FACTOR;
    const outKw = row.meanLoadKva * POWER_FACTOR;
    const sfc = specificFuelLPerKwh(ratedKw, outKw);
    assert.ok(Math.abs(sfc - expected[i]!.defaultSfc) < 5e-5, `${row.village}: ${sfc}`);
    if (row.sfcLPerKwh === null) return;
    assert.ok(Math.abs(row.sfcLPerKwh / sfc - expected[i]!.ratio!) < 5e-3, row.village);
  });
  // The lower the load, the further above the curve: 3.5× at 11 % against 1.8× at 33 %.
});

interface SeriesOptions {
  ratedKw: number;
  outKw: (day: number) => number;
  lph: (outKw: number) => number;
  days: number;
  runStartH: number;
  runH: number;
  tankL: number;
  startL: number;
  seed: number;
  /** Uniform gauge noise ±this % of the tank. */
  noisePct: number;
  /** Litres added (+) or removed (−) at a sample time, in addition to burning. */
  event?: (t: Date) => number;
}

const T0 = Date.UTC(2026, 2, 1);
const STEP_MS = 5 * 60_000;

/**
 * A genset running `runH` hours from `runStartH` each day, read every 5 minutes by a noisy
 * gauge. The fuel of an interval (t − 5 min, t] is burned when the set ran at its start.
 */
function series(o: SeriesOptions): FuelSample[] {
  const out: FuelSample[] = [];
  let litres = o.startL;
  let rng = o.seed;
  let wasRunning = false;
  let prevKw = 0;
  for (let ms = T0; ms < T0 + o.days * 86_400_000; ms += STEP_MS) {
    const t = new Date(ms);
    const day = Math.floor((ms - T0) / 86_400_000);
    const hour = (ms - T0 - day * 86_400_000) / 3_600_000;
    if (wasRunning) litres -= o.lph(prevKw) * STEP_MS / 3_600_000;
    litres += o.event?.(t) ?? 0;
    const running = hour >= o.runStartH && hour < o.runStartH + o.runH;
    const kw = running ? o.outKw(day) : 0;
    const r = nextRandom(rng);
    rng = r.state;
    const pct = litres / o.tankL * 100 + o.noisePct * (2 * r.value - 1);
    out.push({
      time: t,
      fuelPct: Math.min(100, Math.max(0, pct)),
      genRunning: running,
      genW: kw * 1000,
      loadW: kw * 1000,
    });
    wasRunning = running;
    prevKw = kw;
  }
  return out;
}

Deno.test("learnFuelCurve() recovers each village's measured SFC from a synthetic gauge series", async () => {
  const rows = (await villages()).filter((r) => r.sfcLPerKwh !== null);
  for (const row of rows) {
    const ratedKw = row.ratingKva * POWER_FACTOR;
    const outKw = row.meanLoadKva * POWER_FACTOR;
    const sfc = row.sfcLPerKwh!;
    // atamali: 20 kW set at 2.28488 kW burning 1.97 L/kWh = 4.5012 L/h, 30 L on its 15.2 kWh
    // day (6.65 h); ayapo: 32 kW at 10.46 kW, 0.667 L/kWh = 6.977 L/h, 60 L a day (8.6 h).
    const runH = row.energyKwhPerDay / outKw;
    const samples = series({
      ratedKw,
      outKw: () => outKw,
      lph: (kw) => sfc * kw,
      days: 8,
      runStartH: 17,
      runH,
      tankL: 600,
      startL: 500,
      seed: 7,
      noisePct: 0.5,
    });
    const learned = learnFuelCurve(samples, { ratedKw, tankL: 600 });
    // One load only: F0 and F1 cannot be told apart, so one scale factor on the default curve:
    // atamali 1.97 / 0.56341 = 3.497, ayapo 0.667 / 0.37437 = 1.782.
    assert.equal(learned.method, "scale", row.village);
    const learnedSfc = specificFuelLPerKwh(ratedKw, outKw, { curve: learned.curve });
    // ±0.5 % gauge noise on a 600 L tank over 8 runs of 80–100 readings each: within 2 %.
    assert.ok(Math.abs(learnedSfc / sfc - 1) < 0.02, `${row.village}: ${learnedSfc} vs ${sfc}`);
    assert.equal(learned.anomalies.length, 0);
  }
});

Deno.test("learnFuelCurve() skips a refuel and flags a theft while the generator is off", () => {
  // atamali as above; 150 L refuelled on day 3 at 10:00 and 15 L stolen on day 5 at 03:00.
  const refuelAt = T0 + 3 * 86_400_000 + 10 * 3_600_000;
  const theftAt = T0 + 5 * 86_400_000 + 3 * 3_600_000;
  const samples = series({
    ratedKw: 20,
    outKw: () => 2.28488,
    lph: (kw) => 1.97 * kw,
    days: 8,
    runStartH: 17,
    runH: 15.2 / 2.28488,
    tankL: 200,
    startL: 130,
    seed: 11,
    noisePct: 0.5,
    event: (t) => t.getTime() === refuelAt ? 150 : t.getTime() === theftAt ? -15 : 0,
  });
  const learned = learnFuelCurve(samples, { ratedKw: 20, tankL: 200 });
  assert.equal(learned.refuels.length, 1);
  assert.equal(learned.refuels[0]!.at.getTime(), refuelAt);
  // 150 L on a 200 L tank is +75 %, read through ±0.5 % noise: 150 ± 2 L.
  assert.ok(Math.abs(learned.refuels[0]!.addedL - 150) < 2);
  assert.equal(learned.anomalies.length, 1);
  assert.equal(learned.anomalies[0]!.kind, "drop-while-off");
  assert.equal(learned.anomalies[0]!.to.getTime(), theftAt);
  assert.ok(Math.abs(learned.anomalies[0]!.droppedL - 15) < 2);
  // Neither event leaks into the curve: 1.97 L/kWh within 2 %.
  const sfc = specificFuelLPerKwh(20, 2.28488, { curve: learned.curve });
  assert.ok(Math.abs(sfc / 1.97 - 1) < 0.02, `${sfc}`);
});

Deno.test("learnFuelCurve() flags a slow leak while off and a siphoning while running", () => {
  // 2 L/h leak from 01:00 to 13:00 on day 2 (24 L = 6 % of 400 L, above the 3 % flag);
  // 30 L siphoned in one 5-minute interval while running on day 4 at 18:00 (7.5 %, above the
  // 5 % jump): 360 L/h against twice the 20 kW set's full-load burn,
  // 2 · (0.0332 + 0.2728) · 20 = 12.24 L/h.
  const leakFrom = T0 + 2 * 86_400_000 + 3_600_000;
  const siphonAt = T0 + 4 * 86_400_000 + 18 * 3_600_000;
  const samples = series({
    ratedKw: 20,
    outKw: () => 2.28488,
    lph: (kw) => 1.97 * kw,
    days: 8,
    runStartH: 17,
    runH: 15.2 / 2.28488,
    tankL: 400,
    startL: 380,
    seed: 3,
    noisePct: 0.5,
    event: (t) => {
      const ms = t.getTime();
      if (ms === siphonAt) return -30;
      return ms > leakFrom && ms <= leakFrom + 12 * 3_600_000 ? -2 * STEP_MS / 3_600_000 : 0;
    },
  });
  const learned = learnFuelCurve(samples, { ratedKw: 20, tankL: 400 });
  const kinds = learned.anomalies.map((a) => a.kind).sort();
  assert.deepEqual(kinds, ["drop-too-fast", "drop-while-off"]);
  const leak = learned.anomalies.find((a) => a.kind === "drop-while-off")!;
  // The off segment runs from 23:40 on day 1 to 16:55 on day 2 and holds the whole 24 L; its
  // ends are means of 7 readings of ±2 L noise each.
  assert.ok(Math.abs(leak.droppedL - 24) < 3, `${leak.droppedL}`);
  const siphon = learned.anomalies.find((a) => a.kind === "drop-too-fast")!;
  assert.equal(siphon.to.getTime(), siphonAt);
  // Two readings of ±0.5 % of 400 L: 30 ± 4 L.
  assert.ok(Math.abs(siphon.droppedL - 30) < 4);
  const sfc = specificFuelLPerKwh(20, 2.28488, { curve: learned.curve });
  assert.ok(Math.abs(sfc / 1.97 - 1) < 0.03, `${sfc}`);
});

Deno.test("learnFuelCurve() fits F0 and F1 apart when runs span different loads", () => {
  // A 10 kW set with F0 = 0.06 and F1 = 0.25, run 4 h a day at 3, 5, 7 and 9 kW in turn:
  // at 3 kW 0.06·10 + 0.25·3 = 1.35 L/h, at 9 kW 0.6 + 2.25 = 2.85 L/h; 8.4 L a day on average.
  // Over 200 seeds of this set-up the fit scatters by σ = 0.0022 (F0) and 0.0036 (F1), so the
  // bounds below (10 % and 5 %) sit at 2.7σ and 3.5σ.
  const curve = { f0LPerKwhRated: 0.06, f1LPerKwhOut: 0.25 };
  const samples = series({
    ratedKw: 10,
    outKw: (day) => [3, 5, 7, 9][day % 4]!,
    lph: (kw) => fuelRateLph(10, kw, { curve }),
    days: 28,
    runStartH: 8,
    runH: 4,
    tankL: 300,
    startL: 290,
    seed: 5,
    noisePct: 0.2,
  });
  const learned = learnFuelCurve(samples, { ratedKw: 10, tankL: 300 });
  assert.equal(learned.method, "linear");
  assert.ok(
    Math.abs(learned.curve.f0LPerKwhRated - 0.06) < 0.006,
    `${learned.curve.f0LPerKwhRated}`,
  );
  assert.ok(Math.abs(learned.curve.f1LPerKwhOut - 0.25) < 0.0125, `${learned.curve.f1LPerKwhOut}`);
});

Deno.test("learnFuelCurve() keeps the default curve without enough running hours", () => {
  // 3 days of 4 h runs: 12 h of running < the 20 h needed.
  const samples = series({
    ratedKw: 10,
    outKw: () => 5,
    lph: (kw) => fuelRateLph(10, kw),
    days: 3,
    runStartH: 8,
    runH: 4,
    tankL: 100,
    startL: 90,
    seed: 1,
    noisePct: 0.3,
  });
  const learned = learnFuelCurve(samples, { ratedKw: 10, tankL: 100 });
  assert.equal(learned.method, "default");
  assert.deepEqual(learned.curve, DEFAULT_FUEL_CURVE);
  assert.match(learned.reason, /< 20 h/);
});

Deno.test("learnFuelCurve() keeps the default curve when too little fuel was burned", () => {
  // 8 days × 4 h = 32 h at 1 kW on a 10 kW set: 0.332 + 0.2728 = 0.6048 L/h → 19.4 L, under
  // 20 % of a 1000 L tank (200 L), so gauge noise would dominate the estimate.
  const samples = series({
    ratedKw: 10,
    outKw: () => 1,
    lph: (kw) => fuelRateLph(10, kw),
    days: 8,
    runStartH: 8,
    runH: 4,
    tankL: 1000,
    startL: 900,
    seed: 1,
    noisePct: 0.3,
  });
  const learned = learnFuelCurve(samples, { ratedKw: 10, tankL: 1000 });
  assert.equal(learned.method, "default");
  assert.match(learned.reason, /L burned < 20 % of the 1000 L tank/);
});

Deno.test("learnFuelCurve() rejects a burn below the physical floor", () => {
  // A gauge that barely moves: 0.05 L/kWh at 5 kW on a 10 kW set, i.e. a diesel 2 kWh/L…
  // (1 / (9.94 · 0.05) = 200 % efficient) — a wrong tank size, not a wonderful engine.
  // 10 days × 4 h × 0.25 L/h = 10 L out of a 40 L tank: enough burn (≥ 8 L) to fit.
  const samples = series({
    ratedKw: 10,
    outKw: () => 5,
    lph: (kw) => 0.05 * kw,
    days: 10,
    runStartH: 8,
    runH: 4,
    tankL: 40,
    startL: 38,
    seed: 1,
    noisePct: 0.1,
  });
  const learned = learnFuelCurve(samples, { ratedKw: 10, tankL: 40 });
  assert.equal(learned.method, "default");
  assert.match(learned.reason, /below the physical 0\.22/);
});

Deno.test("learnFuelCurve() names an out-of-order sample", () => {
  const a = { time: new Date(T0), fuelPct: 50, genRunning: false, genW: 0, loadW: 0 };
  assert.throws(
    () => learnFuelCurve([a, { ...a, time: new Date(T0 - 1000) }], { ratedKw: 10, tankL: 100 }),
    /samples\[1\]\.time 2026-02-28T23:59:59\.000Z is not after the previous sample/,
  );
  assert.throws(() => learnFuelCurve([], { ratedKw: 10, tankL: 0 }), /tankL is invalid: 0/);
});
