import assert from "node:assert/strict";
import {
  type CoulombParams,
  countedSocDeltaPct,
  effectiveCurrentA,
  peukertEffectiveCurrentA,
} from "../../src/core/coulomb_count.ts";

// A 100 Ah lead-acid battery rated at 20 h (I_20 = 5 A), Victron's defaults: k = 1.25, 95 %.
const LEAD_ACID_100AH: CoulombParams = {
  capacityAh: 100,
  peukertExponent: 1.25,
  peukertRatedH: 20,
  chargeEfficiency: 0.95,
  currentThresholdA: 0.1,
};

Deno.test("peukertEffectiveCurrentA() gives 28.28 A for 20 A from a 100 Ah C20 battery at k = 1.25", () => {
  // 20 · (20 / 5)^0.25 = 20 · 4^0.25 = 20 · √2 = 28.2843 A.
  assert.ok(Math.abs(peukertEffectiveCurrentA(20, LEAD_ACID_100AH) - 20 * Math.SQRT2) < 1e-9);
  // At the rated current itself nothing changes: 5 · 1^0.25 = 5 A.
  assert.ok(Math.abs(peukertEffectiveCurrentA(5, LEAD_ACID_100AH) - 5) < 1e-12);
  // Slower than rated drains less: 2.5 · 0.5^0.25 = 2.5 · 0.840896 = 2.102241 A.
  assert.ok(Math.abs(peukertEffectiveCurrentA(2.5, LEAD_ACID_100AH) - 2.102241) < 1e-6);
});

Deno.test("peukertEffectiveCurrentA() barely corrects LiFePO4 (k = 1.05, rated at 5 h)", () => {
  // 100 Ah at 5 h: I_5 = 20 A. 50 A: 50 · 2.5^0.05 = 50 · e^(0.05 · 0.916291) = 50 · 1.046880
  // = 52.344 A, under 5 % more where lead-acid's k = 1.25 would give 50 · 2.5^0.25 = 62.87 A.
  const lfp = { capacityAh: 100, peukertExponent: 1.05, peukertRatedH: 5 };
  assert.ok(Math.abs(peukertEffectiveCurrentA(50, lfp) - 52.344) < 1e-3);
  assert.throws(() => peukertEffectiveCurrentA(-1, lfp), /dischargeA must be a finite number ≥ 0/);
});

Deno.test("effectiveCurrentA() applies charge efficiency on charge, Peukert on discharge, zero below the threshold", () => {
  // 10 A charging stores 10 · 0.95 = 9.5 A; 20 A discharging drains 28.28 A; 0.05 A < 0.1 A is 0.
  assert.ok(Math.abs(effectiveCurrentA(10, LEAD_ACID_100AH) - 9.5) < 1e-12);
  assert.ok(Math.abs(effectiveCurrentA(-20, LEAD_ACID_100AH) + 20 * Math.SQRT2) < 1e-9);
  assert.equal(effectiveCurrentA(0.05, LEAD_ACID_100AH), 0);
  assert.equal(effectiveCurrentA(-0.05, LEAD_ACID_100AH), 0);
  assert.throws(() => effectiveCurrentA(NaN, LEAD_ACID_100AH), /currentA must be a finite/);
});

Deno.test("countedSocDeltaPct() counts an hour at −20 A as −28.28 % and an hour at +10 A as +9.5 %", () => {
  // 28.2843 A · 1 h / 100 Ah = 28.2843 %; 10 A · 0.95 · 1 h / 100 Ah = 9.5 %.
  const down = countedSocDeltaPct({ fromA: -20, toA: -20, dtS: 3600 }, LEAD_ACID_100AH);
  assert.ok(Math.abs(down + 28.2843) < 1e-4, `${down}`);
  const up = countedSocDeltaPct({ fromA: null, toA: 10, dtS: 3600 }, LEAD_ACID_100AH);
  assert.ok(Math.abs(up - 9.5) < 1e-12, `${up}`);
});

Deno.test("countedSocDeltaPct() integrates a ramp by the trapezoid rule", () => {
  // Without Peukert (k = 1), −10 A to −30 A over an hour is a mean 20 A: −20 % of 100 Ah.
  const linear = { ...LEAD_ACID_100AH, peukertExponent: 1 };
  const d = countedSocDeltaPct({ fromA: -10, toA: -30, dtS: 3600 }, linear);
  assert.ok(Math.abs(d + 20) < 1e-12, `${d}`);
  assert.throws(
    () => countedSocDeltaPct({ fromA: 0, toA: 0, dtS: -1 }, linear),
    /dtS must be a finite number ≥ 0, got -1/,
  );
});
