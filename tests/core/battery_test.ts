import assert from "node:assert/strict";
import {
  cellsInSeries,
  LEAD_ACID_OCV_V_PER_CELL_PER_C,
  LEAD_ACID_TABLE_TEMP_C,
  ocvAtTableTemperatureV,
  ocvFromSoc,
  socBandFromOcv,
  socFromOcv,
} from "../../src/core/battery.ts";

// BCI resting-voltage table for a 12 V lead-acid battery at 27 °C:
// 11.89 V = 0 %, 12.06 = 25 %, 12.24 = 50 %, 12.45 = 75 %, 12.65 = 100 %.

Deno.test("socFromOcv() returns the BCI table points for a 12 V lead-acid battery", () => {
  const points: [number, number][] = [[11.89, 0], [12.06, 25], [12.24, 50], [12.45, 75], [
    12.65,
    100,
  ]];
  for (const [voltageV, socPct] of points) {
    assert.ok(
      Math.abs(socFromOcv("flooded-lead-acid", 12, voltageV) - socPct) < 1e-9,
      `${voltageV} V`,
    );
  }
});

Deno.test("socFromOcv() interpolates linearly between table points", () => {
  // 12.5 V lies a quarter of the way from 12.45 (75 %) to 12.65 (100 %): 75 + 0.25·25 = 81.25 %.
  assert.ok(Math.abs(socFromOcv("agm", 12, 12.5) - 81.25) < 1e-9);
});

Deno.test("socFromOcv() scales lead-acid by cell count for 24 V and 48 V banks", () => {
  // 24 V = 12 cells: 2 × 12.24 V = 24.48 V is 50 %; 48 V = 24 cells: 4 × 12.45 = 49.8 V is 75 %.
  assert.equal(cellsInSeries("flooded-lead-acid", 24), 12);
  assert.ok(Math.abs(socFromOcv("flooded-lead-acid", 24, 24.48) - 50) < 1e-9);
  assert.ok(Math.abs(socFromOcv("flooded-lead-acid", 48, 49.8) - 75) < 1e-9);
});

Deno.test("socFromOcv() clamps below empty and above full", () => {
  assert.equal(socFromOcv("flooded-lead-acid", 12, 10.5), 0);
  assert.equal(socFromOcv("flooded-lead-acid", 12, 13.8), 100);
});

Deno.test("socFromOcv() reads a 12 V LiFePO4 bank through its 4 cells", () => {
  // 4 × 3.272 V = 13.088 V ≈ 53 %; 4 × 3.24 = 12.96 V ≈ 31 %.
  assert.equal(cellsInSeries("lifepo4", 12), 4);
  assert.ok(Math.abs(socFromOcv("lifepo4", 12, 13.088) - 53) < 1e-9);
  assert.ok(Math.abs(socFromOcv("lifepo4", 12, 12.96) - 31) < 1e-9);
  // Midway between 3.20 V (18 %) and 3.24 V (31 %) per cell: 3.22 V → 24.5 %.
  assert.ok(Math.abs(socFromOcv("lifepo4", 12, 4 * 3.22) - 24.5) < 1e-9);
});

Deno.test("ocvFromSoc() inverts socFromOcv()", () => {
  // 50 % on a 12 V lead-acid battery is 12.24 V by the BCI table.
  assert.ok(Math.abs(ocvFromSoc("flooded-lead-acid", 12, 50) - 12.24) < 1e-9);
  for (const soc of [5, 37.5, 62, 90]) {
    const v = ocvFromSoc("lifepo4", 48, soc);
    assert.ok(Math.abs(socFromOcv("lifepo4", 48, v) - soc) < 1e-9, `${soc} %`);
  }
});

// Every OCV point of issue 3, per cell, read through packs of 12, 24 and 48 V. Lead-acid cells
// are 2 V nominal (6, 12, 24 in series), LiFePO4 cells 3.2 V (4, 8, 16 in series).
const LEAD_ACID_12V_POINTS: [number, number][] = [
  [11.89, 0],
  [12.06, 25],
  [12.24, 50],
  [12.45, 75],
  [12.65, 100],
];
const LIFEPO4_CELL_POINTS: [number, number][] = [
  [3.32, 96],
  [3.304, 79],
  [3.272, 53],
  [3.24, 31],
  [3.20, 18],
  [3.17, 10],
  [3.12, 5],
  [2.90, 1],
];

Deno.test("socFromOcv() returns every lead-acid point of the issue at 12, 24 and 48 V", () => {
  for (const [nominalV, batteries] of [[12, 1], [24, 2], [48, 4]] as const) {
    assert.equal(cellsInSeries("agm", nominalV), 6 * batteries);
    for (const [v12, socPct] of LEAD_ACID_12V_POINTS) {
      // A 24 V bank is two 12 V batteries in series: 2 × 12.45 = 24.90 V is 75 %.
      for (const chemistry of ["flooded-lead-acid", "agm"] as const) {
        const got = socFromOcv(chemistry, nominalV, v12 * batteries);
        assert.ok(Math.abs(got - socPct) < 1e-9, `${chemistry} ${nominalV} V ${v12} → ${got}`);
      }
    }
  }
  // Spelled out for 48 V: 4 × 12.06 = 48.24 V is 25 %, 4 × 11.89 = 47.56 V is empty.
  assert.ok(Math.abs(socFromOcv("flooded-lead-acid", 48, 48.24) - 25) < 1e-9);
  assert.ok(Math.abs(socFromOcv("flooded-lead-acid", 48, 47.56) - 0) < 1e-9);
});

Deno.test("socFromOcv() returns every LiFePO4 point of the issue at 12, 24 and 48 V", () => {
  for (const [nominalV, cells] of [[12, 4], [24, 8], [48, 16]] as const) {
    assert.equal(cellsInSeries("lifepo4", nominalV), cells);
    for (const [cellV, socPct] of LIFEPO4_CELL_POINTS) {
      const got = socFromOcv("lifepo4", nominalV, cellV * cells);
      assert.ok(Math.abs(got - socPct) < 1e-9, `${nominalV} V ${cellV} V/cell → ${got}`);
    }
  }
  // Spelled out: 16 × 3.304 = 52.864 V is 79 %; 8 × 3.17 = 25.36 V is 10 %.
  assert.ok(Math.abs(socFromOcv("lifepo4", 48, 52.864) - 79) < 1e-9);
  assert.ok(Math.abs(socFromOcv("lifepo4", 24, 25.36) - 10) < 1e-9);
});

Deno.test("ocvAtTableTemperatureV() reproduces Discover's worked temperature examples", () => {
  // Discover: a full 12 V battery reads 12.53 V at 30 °F (−1.1 °C) and 12.698 V at 100 °F
  // (37.8 °C); Table 7: −0.120 V and +0.048 V around 12.65 V at 80 °F.
  const agm12 = { chemistry: "agm", nominalV: 12 } as const;
  const cold = ocvAtTableTemperatureV(agm12, { packV: 12.53, tempC: (30 - 32) / 1.8 });
  const hot = ocvAtTableTemperatureV(agm12, { packV: 12.698, tempC: (100 - 32) / 1.8 });
  assert.ok(Math.abs(cold - 12.65) < 1e-9, `${cold}`);
  assert.ok(Math.abs(hot - 12.65) < 1e-9, `${hot}`);
  // A 24 V bank doubles it: 2 × 12.53 = 25.06 V at 30 °F is 2 × 12.65 = 25.30 V at 80 °F.
  const bank24 = { chemistry: "flooded-lead-acid", nominalV: 24 } as const;
  const cold24 = ocvAtTableTemperatureV(bank24, { packV: 25.06, tempC: (30 - 32) / 1.8 });
  assert.ok(Math.abs(cold24 - 25.30) < 1e-9, `${cold24}`);
  // The coefficient: 0.024 V / 6 cells / (10 °F = 5.556 °C) = 0.72 mV per cell per °C.
  assert.ok(Math.abs(LEAD_ACID_OCV_V_PER_CELL_PER_C - 0.00072) < 1e-12);
  assert.ok(Math.abs(LEAD_ACID_TABLE_TEMP_C - 26.6667) < 1e-4);
});

Deno.test("ocvAtTableTemperatureV() stops at Table 7's 160 °F and leaves LiFePO4 and no sensor alone", () => {
  // At 90 °C, beyond 160 °F (71.1 °C): corrected as at 160 °F, −0.192 V (Table 7, 12 V).
  // 12.432 V − 0.192 = 12.24 V, 50 %; unclamped it would be 12.432 − 0.00432·63.33 = 12.158 V.
  const agm12 = { chemistry: "agm", nominalV: 12 } as const;
  const v = ocvAtTableTemperatureV(agm12, { packV: 12.432, tempC: 90 });
  assert.ok(Math.abs(v - 12.24) < 1e-9, `${v}`);
  assert.equal(ocvAtTableTemperatureV(agm12, { packV: 12.432, tempC: null }), 12.432);
  const lfp = { chemistry: "lifepo4", nominalV: 12 } as const;
  assert.equal(ocvAtTableTemperatureV(lfp, { packV: 13.088, tempC: 0 }), 13.088);
  assert.throws(
    () => ocvAtTableTemperatureV(agm12, { packV: 12.4, tempC: NaN }),
    /tempC must be a finite number, got NaN/,
  );
});

Deno.test("socBandFromOcv() is wide on the LiFePO4 plateau and narrow on its steep ends", () => {
  const lfp12 = { chemistry: "lifepo4", nominalV: 12 } as const;
  // 13.248 V = 3.312 V/cell, ±10 mV: 3.302 V → 53 + (0.030 / 0.032)·26 = 77.375 %;
  // 3.322 V → 96 + (0.002 / 0.08)·4 = 96.1 %; half-width (96.1 − 77.375) / 2 = 9.3625 points.
  // At 3.312 V itself: 79 + (0.008 / 0.016)·17 = 87.5 %.
  const plateau = socBandFromOcv(lfp12, { packV: 13.248, errorVPerCell: 0.010 });
  assert.ok(Math.abs(plateau.socPct - 87.5) < 1e-9);
  assert.ok(Math.abs(plateau.lowPct - 77.375) < 1e-9);
  assert.ok(Math.abs(plateau.highPct - 96.1) < 1e-9);
  assert.ok(Math.abs(plateau.uncertaintyPct - 9.3625) < 1e-9);
  // 12.0 V = 3.00 V/cell, on 2.90–3.12 V (4 % in 220 mV): ±10 mV is ±0.01 · 4 / 0.22 = ±0.1818 %.
  const low = socBandFromOcv(lfp12, { packV: 12.0, errorVPerCell: 0.010 });
  assert.ok(Math.abs(low.uncertaintyPct - 0.04 / 0.22) < 1e-9, `${low.uncertaintyPct}`);
  // 13.44 V = 3.36 V/cell, on 3.32–3.40 V (4 % in 80 mV): ±0.01 · 4 / 0.08 = ±0.5 %.
  const high = socBandFromOcv(lfp12, { packV: 13.44, errorVPerCell: 0.010 });
  assert.ok(Math.abs(high.uncertaintyPct - 0.5) < 1e-9, `${high.uncertaintyPct}`);
});

Deno.test("socBandFromOcv() reads a lead-acid mid-range voltage to about ±7 %", () => {
  // 12.34 V on 12 V, ±10 mV per cell = ±0.06 V: 12.28–12.40 V lies on 12.24–12.45 V (25 % per
  // 0.21 V), so the half-width is 0.06 · 25 / 0.21 = 7.142857 %.
  const band = socBandFromOcv({ chemistry: "flooded-lead-acid", nominalV: 12 }, {
    packV: 12.34,
    errorVPerCell: 0.010,
  });
  assert.ok(Math.abs(band.uncertaintyPct - 0.06 * 25 / 0.21) < 1e-9, `${band.uncertaintyPct}`);
  assert.throws(
    () => socBandFromOcv({ chemistry: "agm", nominalV: 12 }, { packV: 12.3, errorVPerCell: -0.01 }),
    /errorVPerCell must be a finite number ≥ 0, got -0.01/,
  );
});
