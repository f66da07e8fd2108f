import assert from "node:assert/strict";
import { cellsInSeries, ocvFromSoc, socFromOcv } from "../../src/core/battery.ts";

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
