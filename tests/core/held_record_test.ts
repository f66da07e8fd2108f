import assert from "node:assert/strict";
import { heldRecord, plainRecord } from "../../src/core/held_record.ts";
import type { TelemetryRecord } from "../../src/core/telemetry.ts";

const full: TelemetryRecord = {
  siteId: "tower-7",
  time: new Date("2026-11-20T10:15:00Z"),
  protocol: "v1",
  source: "generator",
  batteryV: 51.89,
  batteryA: -13.4,
  socPct: 62.1,
  batteryTempC: 28.5,
  loadW: 699,
  pvW: 0,
  genRunning: true,
  genW: 4200.5,
  fuelPct: 71.5,
  shedTier: 1,
  seq: 4_294_967_296,
  clockRestamped: true,
};
const sparse: TelemetryRecord = {
  ...full,
  protocol: "legacy",
  source: "off",
  batteryA: null,
  socPct: null,
  batteryTempC: null,
  pvW: null,
  genRunning: false,
  genW: null,
  fuelPct: null,
  shedTier: null,
  seq: null,
  clockRestamped: false,
};

Deno.test("heldRecord() reads back every field, null and zero apart, and serialises alike", () => {
  for (const r of [full, sparse]) {
    const held = heldRecord(r);
    assert.deepEqual(plainRecord(held), r);
    assert.equal(JSON.stringify(held), JSON.stringify(r));
  }
  assert.equal(heldRecord(full).pvW, 0);
  assert.equal(heldRecord(sparse).pvW, null);
  const held = heldRecord(full);
  assert.equal(heldRecord(held), held, "a held record is not wrapped twice");
});
