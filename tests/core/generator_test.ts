import assert from "node:assert/strict";
import { fuelRateLph, generatorOutputKw } from "../../src/core/generator.ts";

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
