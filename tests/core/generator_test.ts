import assert from "node:assert/strict";
import {
  DEFAULT_FUEL_CURVE,
  fuelLitresFromPct,
  fuelPctFromLitres,
  fuelRateLph,
  generatorOutputKw,
  MIN_LOAD_RATIO,
  specificFuelLPerKwh,
} from "../../src/core/generator.ts";

// Published worked example (HOMER fuel curve): a 50 kW generator burns 8.48 L/h at 25 kW
// and 15.3 L/h at 50 kW.

Deno.test("fuelRateLph() reproduces the 50 kW worked example at half and full load", () => {
  assert.ok(Math.abs(fuelRateLph(50, 25) - 8.48) < 1e-9);
  assert.ok(Math.abs(fuelRateLph(50, 50) - 15.3) < 1e-9);
});

Deno.test("fuelRateLph() burns the no-load term at zero output", () => {
  // F0 · P_rated = 0.0332 · 50 = 1.66 L/h.
  assert.ok(Math.abs(fuelRateLph(50, 0) - 1.66) < 1e-9);
});

Deno.test("fuelRateLph() is 0 without a generator and caps output at the rating", () => {
  assert.equal(fuelRateLph(0, 3), 0);
  assert.equal(fuelRateLph(50, 80), fuelRateLph(50, 50));
});

Deno.test("generatorOutputKw() holds at least 30 % of the rating", () => {
  // 5 kW set: 30 % = 1.5 kW minimum; a 0.15 kW demand still loads it to 1.5 kW.
  assert.equal(generatorOutputKw(5, 0.15), 1.5);
  assert.equal(generatorOutputKw(5, 3), 3);
  assert.equal(generatorOutputKw(5, 9), 5);
});

Deno.test("generatorOutputKw() takes a site's own minimum load ratio", () => {
  // 20 kW set held at 40 %: 8 kW minimum; with no minimum a 2 kW demand stays 2 kW.
  assert.equal(generatorOutputKw(20, 2, { minLoadRatio: 0.4 }), 8);
  assert.equal(generatorOutputKw(20, 2, { minLoadRatio: 0 }), 2);
  assert.throws(() => generatorOutputKw(20, 2, { minLoadRatio: 1.5 }), /minLoadRatio.*1\.5/);
});

Deno.test("fuelRateLph() follows a site's learned curve when given one", () => {
  // F0 = 0.05, F1 = 0.3 on a 10 kW set at 4 kW: 0.05·10 + 0.3·4 = 1.7 L/h.
  const curve = { f0LPerKwhRated: 0.05, f1LPerKwhOut: 0.3 };
  assert.ok(Math.abs(fuelRateLph(10, 4, { curve }) - 1.7) < 1e-12);
});

Deno.test("specificFuelLPerKwh() rises at low load on the 50 kW worked example", () => {
  // 8.48 L/h / 25 kW = 0.3392 L/kWh; 15.3 / 50 = 0.306 L/kWh; at 10 % (5 kW):
  // (1.66 + 0.2728·5) / 5 = 3.024 / 5 = 0.6048 L/kWh, nearly twice the full-load figure.
  assert.ok(Math.abs(specificFuelLPerKwh(50, 25) - 0.3392) < 1e-12);
  assert.ok(Math.abs(specificFuelLPerKwh(50, 50) - 0.306) < 1e-12);
  assert.ok(Math.abs(specificFuelLPerKwh(50, 5) - 0.6048) < 1e-12);
  assert.equal(specificFuelLPerKwh(50, 0), Infinity);
  assert.throws(() => specificFuelLPerKwh(0, 5), /ratedKw must be > 0, got 0/);
});

Deno.test("fuelLitresFromPct() and fuelPctFromLitres() convert a tank reading both ways", () => {
  // 85 % of a 100 L tank = 85 L; 30 L in a 200 L tank = 15 %.
  assert.equal(fuelLitresFromPct(85, 100), 85);
  assert.equal(fuelPctFromLitres(30, 200), 15);
  assert.equal(fuelPctFromLitres(fuelLitresFromPct(42.5, 380), 380), 42.5);
});

Deno.test("fuelLitresFromPct() and fuelPctFromLitres() name the bad field", () => {
  assert.throws(() => fuelLitresFromPct(120, 100), /fuelPct must be within 0\.\.100, got 120/);
  assert.throws(() => fuelLitresFromPct(50, 0), /tankL must be > 0, got 0/);
  assert.throws(() => fuelPctFromLitres(-1, 100), /fuelL must be within 0\.\.100 L, got -1/);
  assert.throws(() => fuelPctFromLitres(Number.NaN, 100), /fuelL must be a finite number, got NaN/);
});

Deno.test("DEFAULT_FUEL_CURVE pins the worked example's coefficients", () => {
  // F1 = (15.3 − 8.48) / 25 = 0.2728; F0 = (8.48 − 0.2728·25) / 50 = 0.0332.
  assert.deepEqual(DEFAULT_FUEL_CURVE, { f0LPerKwhRated: 0.0332, f1LPerKwhOut: 0.2728 });
  assert.equal(MIN_LOAD_RATIO, 0.3);
});
