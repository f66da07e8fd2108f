import assert from "node:assert/strict";
import { SiteStates } from "../../src/backend/site_state.ts";
import type { TelemetryRecord } from "../../src/core/telemetry.ts";

const T0 = new Date("2026-03-01T12:00:00Z").getTime();

function record(siteId: string, atS: number, loadW: number): TelemetryRecord {
  return {
    siteId,
    time: new Date(T0 + atS * 1000),
    protocol: "v1",
    source: "battery",
    batteryV: 52,
    batteryA: null,
    socPct: 80,
    batteryTempC: null,
    loadW,
    pvW: 0,
    genRunning: false,
    genW: null,
    fuelPct: 50,
    shedTier: null,
    seq: null,
    clockRestamped: false,
  };
}

/** The mean load of `siteId` after a 400 W → 1400 W step, sampled every 60 s for `steps`. */
function meanAfterStep(states: SiteStates, steps: number): number {
  states.observe([record("s", 0, 400)], ["s"]);
  for (let i = 1; i <= steps; i++) states.observe([record("s", 60 * i, 1400)], ["s"]);
  return states.get("s")!.loadEwmaW!;
}

Deno.test("SiteStates follows a load step faster with a shorter loadWindowS", () => {
  // One sample 60 s after the step: mean = 400 + (1 − e^(−60/τ)) · (1400 − 400).
  // τ = 900 s (default): e^(−1/15) = 1 − 1/15 + (1/15)²/2 − (1/15)³/6 + … = 0.935507
  //   → 400 + 0.064493 · 1000 = 464.49 W.
  // τ = 60 s (the default at 15× speed): e^(−1) = 0.367879 → 400 + 0.632121 · 1000 = 1032.12 W.
  const slow = meanAfterStep(new SiteStates(), 1);
  const fast = meanAfterStep(new SiteStates({ loadWindowS: 60 }), 1);
  assert.ok(Math.abs(slow - 464.49) < 0.01, `${slow}`);
  assert.ok(Math.abs(fast - 1032.12) < 0.01, `${fast}`);

  // Five samples (300 s): the weights multiply to e^(−300/τ), so mean = 1400 − 1000 · e^(−300/τ).
  // τ = 900 s: e^(−1/3) = 0.716531 → 683.47 W.  τ = 60 s: e^(−5) = 0.006738 → 1393.26 W.
  const slow5 = meanAfterStep(new SiteStates({ loadWindowS: 900 }), 5);
  const fast5 = meanAfterStep(new SiteStates({ loadWindowS: 60 }), 5);
  assert.ok(Math.abs(slow5 - 683.47) < 0.01, `${slow5}`);
  assert.ok(Math.abs(fast5 - 1393.26) < 0.01, `${fast5}`);
});

Deno.test("SiteStates names a loadWindowS that is not a positive number of seconds", () => {
  for (const bad of [0, -60, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(
      () => new SiteStates({ loadWindowS: bad }),
      new RegExp(`loadWindowS must be a number of seconds > 0, got ${bad}`),
    );
  }
});

Deno.test("SiteStates reports a site the first time it is seen, but not one from the database", () => {
  const seen: unknown[] = [];
  const states = SiteStates.fromSnapshots([{
    siteId: "known",
    protocol: "v1",
    status: "online",
    profile: null,
    latest: record("known", 0, 400),
    lastCommandSeq: 3,
  }], { onNewSite: (site) => seen.push(site) });
  states.observe([record("known", 10, 500)], ["known"]);
  assert.deepEqual(seen, []);

  states.setStatus("fresh", "online");
  states.observe([record("fresh", 10, 500), record("other", 10, 500)], ["fresh", "other"]);
  states.observe([record("other", 20, 500)], ["other"]);
  states.setProfile({
    siteId: "announced",
    chemistry: "lifepo4",
    nominalV: 48,
    capacityWh: 9600,
    reserveSocPct: 20,
    tankL: 200,
    generatorRatedKw: 10,
    pvKwp: 0,
    latitude: 0,
    longitude: 0,
    timeZone: "UTC",
  });
  assert.deepEqual(seen, [
    { siteId: "fresh", protocol: "v1", seenIn: "status" },
    { siteId: "other", protocol: "v1", seenIn: "telemetry" },
    { siteId: "announced", protocol: "v1", seenIn: "profile" },
  ]);
});
