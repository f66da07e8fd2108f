import assert from "node:assert/strict";
import {
  socBand,
  type SocEstimate,
  type SocSample,
  updateSocEstimate,
} from "../../src/core/soc_estimator.ts";
import type { BatteryPack } from "../../src/core/soc_params.ts";

// 12 V 100 Ah lead-acid (1200 Wh): pack resistance 6 · 90 / 100 = 5.4 mΩ, rest below C/100 = 1 A
// for 6 h, unknown current C/5 = 20 A, Peukert 1.25 at 20 h (I_20 = 5 A), charge efficiency 95 %.
const LEAD: BatteryPack = { chemistry: "flooded-lead-acid", nominalV: 12, capacityWh: 1200 };
// 12 V 100 Ah LiFePO4: 4 cells, voltage error 10 mV (meter) + 12.5 mV (hysteresis) per cell.
const LFP: BatteryPack = { chemistry: "lifepo4", nominalV: 12, capacityWh: 1200 };
const T0 = Date.parse("2026-03-20T00:00:00Z");

function at(s: number, patch: Partial<SocSample>): SocSample {
  return {
    time: new Date(T0 + s * 1000),
    batteryV: 12.5,
    batteryA: null,
    bmsSocPct: null,
    tempC: null,
    ...patch,
  };
}

/** Feeds samples in order from `start`, returning every estimate. */
function run(pack: BatteryPack, start: SocEstimate | null, samples: SocSample[]): SocEstimate[] {
  const out: SocEstimate[] = [];
  let prev = start;
  for (const s of samples) {
    prev = updateSocEstimate(prev, s, { profile: pack });
    out.push(prev);
  }
  return out;
}

function near(actual: number, expected: number, tol: number, what: string) {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);
}

Deno.test("updateSocEstimate() takes a BMS SoC whatever the voltage says", () => {
  const e = updateSocEstimate(null, at(0, { bmsSocPct: 42, batteryV: 12.65, batteryA: 0 }), {
    profile: LEAD,
  });
  assert.deepEqual([e.socPct, e.uncertaintyPct, e.method, e.holding], [42, 5, "bms", false]);
  // Even after a full rest at a voltage that says 100 %, the BMS's 42 % wins.
  const later = updateSocEstimate(
    e,
    at(7 * 3600, { bmsSocPct: 42, batteryV: 12.65, batteryA: 0 }),
    {
      profile: LEAD,
    },
  );
  assert.deepEqual([later.socPct, later.method], [42, "bms"]);
});

Deno.test("updateSocEstimate() counts an hour at −20 A from 100 % down to 71.72 % (Peukert k = 1.25)", () => {
  const start = updateSocEstimate(null, at(0, { bmsSocPct: 100, batteryA: -20 }), {
    profile: LEAD,
  });
  // 360 steps of 10 s at −20 A. Effective 20 · (20 / 5)^0.25 = 28.2843 A for 1 h = 28.2843 Ah of
  // 100 Ah: 100 − 28.2843 = 71.7157 %. Uncertainty 5 (BMS) + 5 % of 28.2843 = 6.4142 points.
  // 12.35 V + 20 A · 5.4 mΩ = 12.458 V corrected, about 76 %: consistent, no override.
  const samples = Array.from(
    { length: 360 },
    (_, i) => at(10 * (i + 1), { batteryA: -20, batteryV: 12.35 }),
  );
  const last = run(LEAD, start, samples).at(-1)!;
  near(last.socPct, 100 - 20 * Math.SQRT2, 1e-9, "socPct");
  near(last.uncertaintyPct, 5 + 0.05 * 20 * Math.SQRT2, 1e-9, "uncertaintyPct");
  assert.equal(last.method, "coulomb");
});

Deno.test("updateSocEstimate() stores 95 % of the charging Ah", () => {
  const start = updateSocEstimate(null, at(0, { bmsSocPct: 50, batteryA: 10 }), { profile: LEAD });
  // 2 h at +10 A: 20 Ah in, 19 Ah stored: 50 + 19 = 69 %; uncertainty 5 + 0.05 · 19 = 5.95.
  // 13.0 V on charge sits above any resting voltage: no override either way.
  const samples = Array.from(
    { length: 720 },
    (_, i) => at(10 * (i + 1), { batteryA: 10, batteryV: 13.0 }),
  );
  const last = run(LEAD, start, samples).at(-1)!;
  near(last.socPct, 69, 1e-9, "socPct");
  near(last.uncertaintyPct, 5.95, 1e-9, "uncertaintyPct");
});

Deno.test("updateSocEstimate() re-anchors to the OCV table after 6 h of rest, not before", () => {
  // The count says 80 % (a BMS reading, then the BMS link is lost); the battery rests at 12.24 V.
  const start = updateSocEstimate(null, at(0, { bmsSocPct: 80, batteryA: 0, batteryV: 12.24 }), {
    profile: LEAD,
  });
  const samples = Array.from(
    { length: 360 },
    (_, i) => at(60 * (i + 1), { batteryA: 0, batteryV: 12.24 }),
  );
  const out = run(LEAD, start, samples);
  const before = out[358]!; // 5 h 59 min of rest
  assert.deepEqual([before.socPct, before.uncertaintyPct, before.method], [80, 5, "coulomb"]);
  assert.equal(before.restSince?.getTime(), T0);
  const after = out[359]!; // 6 h
  // 12.24 V is 50 %; ±10 mV per cell = ±0.06 V: 12.18 V → 25 + (0.12 / 0.18)·25 = 41.667 %,
  // 12.30 V → 50 + (0.06 / 0.21)·25 = 57.143 %, half-width 7.738. The count's [75, 85] lies
  // outside it: the rested voltage wins.
  assert.equal(after.method, "ocv-rest");
  near(after.socPct, 50, 1e-9, "socPct");
  near(after.uncertaintyPct, (57.142857 - 41.666667) / 2, 1e-6, "uncertaintyPct");
});

Deno.test("updateSocEstimate() narrows a count that overlaps the rest band to their intersection", () => {
  // Count 55 ± 5 = [50, 60] against the 12.24 V rest band [41.667, 57.143]: [50, 57.143], so
  // 53.571 ± 3.571. Applying the same rest reading again changes nothing.
  const start = updateSocEstimate(null, at(0, { bmsSocPct: 55, batteryA: 0, batteryV: 12.24 }), {
    profile: LEAD,
  });
  // Samples every 10 min (within the 900 s gap limit); the 36th is 6 h into the rest.
  const rest = Array.from(
    { length: 37 },
    (_, i) => at(600 * (i + 1), { batteryA: 0, batteryV: 12.24 }),
  );
  const out = run(LEAD, start, rest).slice(35);
  assert.equal(out[0]!.time.getTime() - T0, 6 * 3_600_000);
  near(out[0]!.socPct, (50 + 57.142857) / 2, 1e-6, "socPct");
  near(out[0]!.uncertaintyPct, (57.142857 - 50) / 2, 1e-6, "uncertaintyPct");
  assert.equal(out[0]!.method, "ocv-rest");
  assert.deepEqual(
    [out[1]!.socPct, out[1]!.uncertaintyPct, out[1]!.method],
    [out[0]!.socPct, out[0]!.uncertaintyPct, "ocv-rest"],
  );
});

Deno.test("updateSocEstimate() holds the SoC through a single dip without a current sensor", () => {
  // 12.45 V is 75 %. Without a current reading the error per cell is 10 mV + 20 A · 5.4 mΩ ·
  // (1 + 1) / 6 = 46 mV: 12.174 V → 25 + (0.114 / 0.18)·25 = 40.833 %, 12.726 V → 100 %.
  const out = run(LEAD, null, [
    at(0, { batteryV: 12.45 }),
    at(10, { batteryV: 9.8 }), // a motor start: one reading at 9.8 V (0 %)
    at(20, { batteryV: 12.45 }),
  ]);
  near(out[0]!.socPct, 75, 1e-9, "first");
  near(out[0]!.uncertaintyPct, (100 - 40.833333) / 2, 1e-6, "first uncertainty");
  assert.equal(out[0]!.method, "voltage-loaded");
  assert.deepEqual([out[1]!.socPct, out[1]!.holding], [out[0]!.socPct, true]);
  assert.equal(out[1]!.lowVoltage?.since.getTime(), T0 + 10_000);
  assert.deepEqual([out[2]!.socPct, out[2]!.holding, out[2]!.lowVoltage], [
    out[0]!.socPct,
    false,
    null,
  ]);
});

Deno.test("updateSocEstimate() falls on a low voltage that persists 60 s, to the run's highest reading", () => {
  // From 75 % (12.45 V), readings of 11.90 V, 11.95 V, 11.90 V … for 60 s. 11.95 V is
  // (0.06 / 0.17)·25 = 8.824 %, 11.90 V is (0.01 / 0.17)·25 = 1.471 %: the estimate holds 75 %
  // until the run is 60 s old, then falls to the highest, 8.824 %, with the half-width of its
  // band [soc(11.674 V) = 0, soc(12.226 V) = 25 + (0.166 / 0.18)·25 = 48.056] = 24.028.
  const volts = [11.9, 11.95, 11.9, 11.9, 11.9, 11.9, 11.9];
  const out = run(LEAD, null, [
    at(0, { batteryV: 12.45 }),
    ...volts.map((v, i) => at(10 * (i + 1), { batteryV: v })),
  ]);
  const at60 = out[6]!; // t = 60 s: the run started at 10 s, 50 s old
  assert.deepEqual([at60.socPct, at60.holding], [75, true]);
  const at70 = out[7]!; // t = 70 s: 60 s old
  assert.equal(at70.holding, false);
  assert.equal(at70.lowVoltage, null);
  near(at70.socPct, 0.06 / 0.17 * 25, 1e-9, "socPct");
  near(at70.uncertaintyPct, (25 + 0.166 / 0.18 * 25) / 2, 1e-9, "uncertaintyPct");
});

Deno.test("updateSocEstimate() lets a persistent low corrected voltage pull a drifted LiFePO4 count down", () => {
  // The count says 80 ± 5 while the pack delivers 10 A (C/10, under its C/5 limit) at 12.40 V.
  // Pack resistance 4 · 70 mΩ·Ah / 100 Ah = 2.8 mΩ: corrected 12.40 + 10 · 0.0028 = 12.428 V,
  // 3.107 V a cell → 1 + (3.107 − 2.90) / 0.22 · 4 = 4.7636 %. Error per cell 10 mV meter +
  // 12.5 mV hysteresis + 10 · 2.8 mΩ / 4 = 29.5 mV: [3.0775 → 4.2273 %, 3.1365 → 5 + 0.0165 /
  // 0.05 · 5 = 6.65 %], wholly below [75, 85].
  const start = updateSocEstimate(null, at(0, { bmsSocPct: 80, batteryA: -10, batteryV: 13.2 }), {
    profile: LFP,
  });
  const out = run(
    LFP,
    start,
    Array.from({ length: 7 }, (_, i) => at(10 * (i + 1), { batteryA: -10, batteryV: 12.4 })),
  );
  // Until the run (from 10 s) is 60 s old, the count goes on: Peukert k 1.05 at the 5 h rate
  // (20 A): 10 · (10 / 20)^0.05 = 9.659 A effective, 10 s → 0.026831 % a step.
  assert.equal(out[5]!.method, "coulomb");
  near(out[5]!.socPct, 80 - 6 * 10 * 0.5 ** 0.05 * 10 / 3600, 1e-6, "counting");
  assert.equal(out[6]!.method, "ocv-corrected");
  near(out[6]!.socPct, 1 + 0.207 / 0.22 * 4, 1e-6, "socPct");
  near(out[6]!.uncertaintyPct, (5 + 0.0165 / 0.05 * 5 - (1 + 0.1775 / 0.22 * 4)) / 2, 1e-6, "u");
});

Deno.test("updateSocEstimate() never reads a loaded lead-acid voltage as an empty battery", () => {
  // 5 A (the 20-hour rate) and 10 A (C/10) at 11.90 V for ten minutes: a lead-acid bank's
  // voltage sags by more than V − I·R explains under any real load, so both are only counted.
  // 10 A: 10 · 2^0.25 = 11.892 A effective, 11.892 · 600 / 3600 = 1.982 Ah of 100 → 78.018 %.
  for (const amps of [5, 10]) {
    const start = updateSocEstimate(
      null,
      at(0, { bmsSocPct: 80, batteryA: -amps, batteryV: 12.3 }),
      { profile: LEAD },
    );
    const out = run(
      LEAD,
      start,
      Array.from({ length: 60 }, (_, i) => at(10 * (i + 1), { batteryA: -amps, batteryV: 11.9 })),
    );
    assert.ok(out.every((e) => e.method === "coulomb"), `${amps} A`);
    const effectiveA = amps * (amps / 5) ** 0.25;
    near(out[59]!.socPct, 80 - effectiveA * 600 / 3600, 1e-4, `${amps} A counted only`);
  }
});

Deno.test("updateSocEstimate() counts a generator crank's charge but does not fall on its voltage", () => {
  // 80 % at −5 A (the 20 h rate: 5 A effective). One 10 s reading at −300 A and 9.8 V, then
  // −5 A again. Effective 300 · 60^0.25 = 834.947 A; two trapezoid steps of (5 + 834.947) / 2 A
  // for 10 s each: 839.947 · 10 / 3600 = 2.3332 Ah of 100: 80 − 2.3332 = 77.6668 %.
  const start = updateSocEstimate(null, at(0, { bmsSocPct: 80, batteryA: -5, batteryV: 12.4 }), {
    profile: LEAD,
  });
  const out = run(LEAD, start, [
    at(10, { batteryA: -300, batteryV: 9.8 }),
    at(20, { batteryA: -5, batteryV: 12.4 }),
  ]);
  near(out[1]!.socPct, 80 - (5 + 300 * 60 ** 0.25) * 10 / 3600, 1e-9, "socPct");
  assert.deepEqual([out[0]!.method, out[1]!.method], ["coulomb", "coulomb"]);
  assert.equal(out[1]!.lowVoltage, null);
});

Deno.test("updateSocEstimate() says the LiFePO4 plateau is wide and its steep end narrow", () => {
  // First readings at rest (I = 0): error 10 + 12.5 = 22.5 mV per cell.
  // 13.248 V = 3.312 V/cell: 87.5 %; 3.2895 V → 53 + (0.0175 / 0.032)·26 = 67.219 %,
  // 3.3345 V → 96 + (0.0145 / 0.08)·4 = 96.725 %: ±14.753 points.
  const plateau = updateSocEstimate(null, at(0, { batteryV: 13.248, batteryA: 0 }), {
    profile: LFP,
  });
  assert.equal(plateau.method, "ocv-corrected");
  near(plateau.socPct, 87.5, 1e-9, "plateau socPct");
  near(plateau.uncertaintyPct, (96.725 - 67.21875) / 2, 1e-9, "plateau uncertainty");
  // 12.0 V = 3.00 V/cell on 2.90–3.12 V (4 % per 0.22 V): 1 + (0.10 / 0.22)·4 = 2.818 %,
  // ±0.0225 · 4 / 0.22 = ±0.409 points.
  const empty = updateSocEstimate(null, at(0, { batteryV: 12.0, batteryA: 0 }), { profile: LFP });
  near(empty.socPct, 1 + 0.1 / 0.22 * 4, 1e-9, "low socPct");
  near(empty.uncertaintyPct, 0.0225 * 4 / 0.22, 1e-9, "low uncertainty");
});

Deno.test("updateSocEstimate() widens the count over a telemetry gap and restarts the rest clock", () => {
  // 60 ± 5 %, then the next sample an hour later (> 900 s): no charge counted at 0 A, but the
  // current in between is unknown, up to C/5 = 20 A for 1 h = 20 % more uncertainty.
  const start = updateSocEstimate(null, at(0, { bmsSocPct: 60, batteryA: 0, batteryV: 12.3 }), {
    profile: LEAD,
  });
  const e = updateSocEstimate(start, at(3600, { batteryA: 0, batteryV: 12.3 }), { profile: LEAD });
  assert.deepEqual([e.socPct, e.uncertaintyPct], [60, 25]);
  assert.equal(e.restSince?.getTime(), T0 + 3_600_000);
});

Deno.test("updateSocEstimate() reads a charging voltage without current as no information", () => {
  // 14.4 V is above the 12.65 V full-charge OCV even minus its 0.276 V error: a charger.
  const first = updateSocEstimate(null, at(0, { batteryV: 14.4 }), { profile: LEAD });
  assert.deepEqual([first.socPct, first.uncertaintyPct], [50, 50]);
  const prev = updateSocEstimate(null, at(0, { batteryV: 12.24 }), { profile: LEAD });
  const held = updateSocEstimate(prev, at(10, { batteryV: 14.4 }), { profile: LEAD });
  assert.deepEqual([held.socPct, held.holding, held.method], [50, true, "voltage-loaded"]);
});

Deno.test("updateSocEstimate() reads lead-acid through the temperature correction", () => {
  // Discover: a full battery reads 12.53 V at 30 °F (−1.1 °C); rested, that is 100 %.
  const e = updateSocEstimate(
    null,
    at(0, { batteryV: 12.53, batteryA: 0, tempC: (30 - 32) / 1.8 }),
    { profile: LEAD },
  );
  near(e.socPct, 100, 1e-9, "socPct");
});

Deno.test("updateSocEstimate() rejects bad samples, naming the field", () => {
  const opts = { profile: LEAD };
  assert.throws(
    () => updateSocEstimate(null, at(0, { batteryV: 0 }), opts),
    /sample.batteryV must be a finite number > 0, got 0/,
  );
  assert.throws(
    () => updateSocEstimate(null, at(0, { bmsSocPct: 101 }), opts),
    /sample.bmsSocPct must be within 0–100 or null, got 101/,
  );
  const prev = updateSocEstimate(null, at(10, {}), opts);
  assert.throws(
    () => updateSocEstimate(prev, at(0, {}), opts),
    /sample.time 2026-03-20T00:00:00.000Z is before the previous estimate's 2026-03-20T00:00:10.000Z/,
  );
});

Deno.test("socBand() clips the band to 0–100 %", () => {
  assert.deepEqual(socBand({ socPct: 95, uncertaintyPct: 10 }), { lowPct: 85, highPct: 100 });
  assert.deepEqual(socBand({ socPct: 3, uncertaintyPct: 5 }), { lowPct: 0, highPct: 8 });
});

/** Hourly rows of the real 12 V 500 Ah LiFePO4 bank (DD/MM/YYYY dates, local time, gaps). */
async function bankRows(): Promise<{ time: Date; minV: number; maxV: number }[]> {
  const url = new URL(
    "../../../shared/data/lifepo4-12v-bank-voltage-hourly-minmax.csv",
    import.meta.url,
  );
  const lines = (await Deno.readTextFile(url)).trim().split("\n").slice(1);
  return lines.map((line) => {
    const [date, clock, min, max] = line.trim().split(",");
    const [d, m, y] = date!.split("/");
    return {
      time: new Date(`${y}-${m}-${d}T${clock}:00Z`),
      minV: Number(min),
      maxV: Number(max),
    };
  });
}

Deno.test("updateSocEstimate() on the real LiFePO4 bank: 8 days in 50 mV stay a wide SoC band", async () => {
  const rows = (await bankRows()).filter((r) =>
    r.time >= new Date("2025-11-19T00:00:00Z") && r.time <= new Date("2025-11-26T23:00:00Z")
  );
  // 19–26 Nov 2025: 192 hourly rows, no gap; every reading between 13.24 and 13.29 V.
  assert.equal(rows.length, 192);
  assert.equal(Math.min(...rows.map((r) => r.minV)), 13.24);
  assert.equal(Math.max(...rows.map((r) => r.maxV)), 13.29);
  const bank: BatteryPack = { chemistry: "lifepo4", nominalV: 12, capacityWh: 6000 };

  // Read as rested voltages (I = 0), error 22.5 mV per cell. By hand from the table:
  // 13.24 V = 3.31 V/cell → 79 + (0.006 / 0.016)·17 = 85.375 %;
  // 13.29 V = 3.3225 V/cell → 96 + (0.0025 / 0.08)·4 = 96.125 %: 50 mV spans 10.75 points.
  // Half-widths: at 13.29 V [soc(3.3) = 75.75, soc(3.345) = 97.25] → 10.75; at 13.24 V
  // [soc(3.2875) = 65.594, soc(3.3325) = 96.625] → 15.516; in between it falls steadily with V.
  for (const r of rows) {
    for (const v of [r.minV, r.maxV]) {
      const e = updateSocEstimate(null, { ...at(0, {}), batteryV: v, batteryA: 0 }, {
        profile: bank,
      });
      assert.ok(e.socPct >= 85.375 - 1e-9 && e.socPct <= 96.125 + 1e-9, `${v} V: ${e.socPct}`);
      assert.ok(e.uncertaintyPct >= 10.75 - 1e-9, `${v} V: ±${e.uncertaintyPct}`);
      assert.ok(e.uncertaintyPct <= 15.515625 + 1e-9, `${v} V: ±${e.uncertaintyPct}`);
    }
  }

  // Run over the hourly minima as a site without a current sensor: the unknown current (C/5 =
  // 100 A through 4 · 70 / 500 = 0.56 mΩ, doubled) adds 0.112 / 4 = 28 mV per cell, 50.5 mV in
  // all. The minima lie in 13.24–13.28 V; the narrowest band is at 13.28 V (3.32 V/cell):
  // [soc(3.2695) = 31 + (0.0295 / 0.032)·22 = 51.281, soc(3.3705) = 98.525] → ±23.622; the widest
  // at 13.24 V: [soc(3.2595) = 44.406, soc(3.3605) = 98.025] → ±26.809. The estimate is always
  // one of the readings, so within [85.375, 96] %, and never claims better than ±23.6 %.
  let prev: SocEstimate | null = null;
  for (const r of rows) {
    prev = updateSocEstimate(prev, { ...at(0, {}), time: r.time, batteryV: r.minV }, {
      profile: bank,
    });
    assert.ok(prev.socPct >= 85.375 - 1e-9 && prev.socPct <= 96 + 1e-9, `${prev.socPct}`);
    assert.ok(prev.uncertaintyPct >= 23.621875 - 1e-9, `±${prev.uncertaintyPct}`);
    assert.ok(prev.uncertaintyPct <= 26.809375 + 1e-9, `±${prev.uncertaintyPct}`);
  }
});

Deno.test("updateSocEstimate() synchronises to 100 % after 3 min at the charged voltage and tail current", () => {
  // A count that drifted: it says 70 %. The charger holds 14.4 V (absorption) and the current
  // tapers; Victron's rule for a 12 V lead-acid bank: ≥ 13.2 V with ≤ 4 % of 100 Ah = 4 A for
  // 3 min. Each 60 s sample at 3 A adds 3 · 0.95 · (60/3600) / 100 · 100 = 0.0475 points.
  const start = updateSocEstimate(null, at(0, { bmsSocPct: 70, batteryA: 3 }), { profile: LEAD });
  const drifted = { ...start, method: "coulomb" as const, uncertaintyPct: 8 };
  const samples = [60, 120, 180, 240].map((s) => at(s, { batteryV: 14.4, batteryA: 3 }));
  const [e60, e120, e180, e240] = run(LEAD, drifted, samples);
  // The detection clock starts at the first sample that qualifies (60 s): 180 s later is 240 s.
  near(e180!.socPct, 70 + 3 * 0.0475, 1e-9, "still counting at 180 s");
  assert.equal(e180!.method, "coulomb");
  assert.deepEqual(e60!.chargedSince, new Date(T0 + 60_000));
  assert.deepEqual(e120!.chargedSince, new Date(T0 + 60_000));
  assert.deepEqual([e240!.socPct, e240!.uncertaintyPct, e240!.method], [100, 3, "full-charge"]);
});

Deno.test("updateSocEstimate() does not call a battery full above the tail current or below the charged voltage", () => {
  const start = updateSocEstimate(null, at(0, { bmsSocPct: 70, batteryA: 0 }), { profile: LEAD });
  const drifted = { ...start, method: "coulomb" as const };
  // Bulk charge at 10 A > 4 A: the voltage is high but the battery still takes charge.
  const bulk = run(
    LEAD,
    drifted,
    [60, 300, 600].map((s) => at(s, { batteryV: 14.4, batteryA: 10 })),
  );
  assert.ok(bulk.every((e) => e.method === "coulomb" && e.chargedSince === null));
  // Resting at 12.7 V (OCV of a full battery, under 13.2 V) for 10 min: no charger, no sync.
  const rest = run(
    LEAD,
    drifted,
    [60, 300, 600].map((s) => at(s, { batteryV: 12.7, batteryA: 0 })),
  );
  assert.ok(rest.every((e) => e.method !== "full-charge" && e.chargedSince === null));
  // LiFePO4: 4 cells · 3.325 V = 13.30 V. 13.28 V at 1 A never qualifies; 13.40 V does.
  const lfp0 = updateSocEstimate(null, at(0, { bmsSocPct: 80, batteryA: 1 }), { profile: LFP });
  const lfp = { ...lfp0, method: "coulomb" as const };
  const low = run(LFP, lfp, [60, 300].map((s) => at(s, { batteryV: 13.28, batteryA: 1 })));
  assert.ok(low.every((e) => e.chargedSince === null));
  const high = run(LFP, lfp, [60, 300].map((s) => at(s, { batteryV: 13.4, batteryA: 1 })));
  assert.equal(high[1]!.method, "full-charge");
});
