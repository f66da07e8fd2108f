import assert from "node:assert/strict";
import {
  ADVICE_MOVE_PCT,
  ADVICE_REFRESH_MS,
  type AdviceBasis,
  basisHolds,
} from "../../src/backend/planner.ts";

const BASE: AdviceBasis = {
  atMs: 0,
  socPct: 60,
  fuelPct: 50,
  source: "battery",
  genRunning: false,
  shedTier: 0,
  storedProfile: null,
};

Deno.test("basisHolds() keeps advice while SoC and fuel move under 2 points and nothing switches", () => {
  assert.equal(ADVICE_MOVE_PCT, 2);
  assert.equal(basisHolds(BASE, { ...BASE, atMs: 60_000, socPct: 58.1, fuelPct: 51.9 }), true);
  // 2 points is enough to plan again, either way.
  assert.equal(basisHolds(BASE, { ...BASE, socPct: 58 }), false);
  assert.equal(basisHolds(BASE, { ...BASE, fuelPct: 52 }), false);
  // A fuel sensor that stops (or starts) reporting changes what the tank hours can say.
  assert.equal(basisHolds(BASE, { ...BASE, fuelPct: null }), false);
});

Deno.test("basisHolds() plans again on a switch, a new profile, or after 5 minutes", () => {
  assert.equal(basisHolds(BASE, { ...BASE, source: "generator" }), false);
  assert.equal(basisHolds(BASE, { ...BASE, genRunning: true }), false);
  assert.equal(basisHolds(BASE, { ...BASE, shedTier: 1 }), false);
  const announced = {
    siteId: "s",
    chemistry: "lifepo4" as const,
    nominalV: 48 as const,
    capacityWh: 9600,
    reserveSocPct: 20,
    tankL: 200,
    generatorRatedKw: 10,
    pvKwp: 0,
    latitude: 0,
    longitude: 0,
    timeZone: "UTC",
  };
  assert.equal(basisHolds(BASE, { ...BASE, storedProfile: announced }), false);
  assert.equal(ADVICE_REFRESH_MS, 300_000);
  assert.equal(basisHolds(BASE, { ...BASE, atMs: 299_999 }), true);
  assert.equal(basisHolds(BASE, { ...BASE, atMs: 300_000 }), false);
});
