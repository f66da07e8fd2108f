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

Deno.test("SiteStates reads a first-generation site's SoC from its voltage and holds it through a dip", () => {
  const states = new SiteStates();
  const id = "00000000-0000-0000-0000-0000000000a1";
  const legacy = (atS: number, batteryV: number): TelemetryRecord => ({
    ...record(id, atS, 150),
    protocol: "legacy",
    batteryV,
    socPct: null,
    fuelPct: 85,
  });
  states.observe([legacy(0, 12.5)], [id]);
  const first = states.get(id)!.soc!;
  // No PV on first-generation sites: the battery carries the 150 W load, 150 / 12.5 = 12 A.
  // Pack resistance 6 cells · 90 mΩ·Ah / 416.67 Ah = 1.296 mΩ (soc_params.ts), so the resting
  // voltage is 12.5 + 12 · 0.001296 = 12.5156 V → BCI: 75 + 0.0656 / 0.2 · 25 = 83.19 %.
  assert.ok(Math.abs(first.socPct - 83.19) < 0.01, `${first.socPct}`);
  assert.equal(first.method, "ocv-corrected");
  assert.ok(first.uncertaintyPct > 0);
  // A generator crank pulls the bus to 11.9 V (0.6 % by the table) for 10 s: the estimate holds.
  states.observe([legacy(10, 11.9)], [id]);
  // Only the charge drawn meanwhile is counted: Peukert (k 1.25, C20 = 20.83 A) makes 12 A and
  // 150 / 11.9 = 12.61 A count as 10.455 and 11.118 A; their mean over 10 s is 0.02996 Ah of
  // 416.67 Ah = 0.0072 points.
  const dip = states.get(id)!.soc!;
  assert.ok(Math.abs(first.socPct - dip.socPct - 0.0072) < 0.0005, `${dip.socPct}`);
  assert.equal(dip.method, "coulomb");
});

Deno.test("SiteStates learns the load only while nothing is shed and the bus is live", () => {
  const states = new SiteStates();
  states.observe([record("s", 0, 400)], ["s"]);
  const learnedAt = () => states.get("s")!.loadProfile!.lastSampleMs;
  assert.equal(learnedAt(), T0);
  // Shed loads and a dark bus say what the site got, not what it needs: not learned.
  states.observe([{ ...record("s", 60, 80), shedTier: 2 }], ["s"]);
  states.observe([{ ...record("s", 120, 0), source: "off" }], ["s"]);
  assert.equal(learnedAt(), T0);
  assert.equal(states.get("s")!.latest!.loadW, 0, "the newest record is still the latest");
  states.observe([record("s", 180, 420)], ["s"]);
  assert.equal(learnedAt(), T0 + 180_000);
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
