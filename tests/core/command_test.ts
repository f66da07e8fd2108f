/** The optional dispatch fields of the v1 command keep old devices and old backends working. */
import assert from "node:assert/strict";
import { z } from "zod";
import { decodeCommandV1, encodeCommandV1, type StrategicCommand } from "../../src/core/command.ts";

const BASE: StrategicCommand = {
  siteId: "tower-1",
  seq: 7,
  issuedAt: new Date("2026-03-20T12:00:00Z"),
  validUntil: new Date("2026-03-20T12:15:00Z"),
  mode: "eco",
  genStartSocPct: 30,
  genStopSocPct: 85,
  reserveSocPct: 40,
  forecast: "clear",
  predictedBatteryH: 6,
  predictedDieselH: 50,
  reason: "sunny",
};

/** The 13 keys of a v1 command as v1 backends sent it (docs/protocol.md). */
const V1_KEYS = [
  "v",
  "site_id",
  "seq",
  "issued_at",
  "valid_until",
  "mode",
  "gen_start_soc_pct",
  "gen_stop_soc_pct",
  "reserve_soc_pct",
  "forecast",
  "predicted_battery_h",
  "predicted_diesel_h",
  "reason",
];

Deno.test("encodeCommandV1() without the new fields sends exactly the v1 keys", () => {
  assert.deepEqual(Object.keys(JSON.parse(encodeCommandV1(BASE))), V1_KEYS);
});

Deno.test("decodeCommandV1() of a v1 backend's command leaves strategy and PV time absent", () => {
  const r = decodeCommandV1(encodeCommandV1(BASE));
  assert.ok(r.ok);
  assert.equal(r.command.strategy, undefined);
  assert.equal(r.command.pvCoversLoadAt, undefined);
});

Deno.test("decodeCommandV1() round-trips strategy and pv_covers_load_at", () => {
  const c = {
    ...BASE,
    strategy: "load-following" as const,
    pvCoversLoadAt: new Date("2026-03-21T07:30:00Z"),
  };
  const wire = JSON.parse(encodeCommandV1(c));
  assert.equal(wire.strategy, "load-following");
  assert.equal(wire.pv_covers_load_at, "2026-03-21T07:30:00.000Z");
  const r = decodeCommandV1(JSON.stringify(wire));
  assert.ok(r.ok);
  assert.equal(r.command.strategy, "load-following");
  assert.deepEqual(r.command.pvCoversLoadAt, new Date("2026-03-21T07:30:00Z"));
  // null means the same as absent.
  const nulls = decodeCommandV1(
    JSON.stringify({ ...wire, strategy: null, pv_covers_load_at: null }),
  );
  assert.ok(nulls.ok);
  assert.equal(nulls.command.strategy, undefined);
  assert.equal(nulls.command.pvCoversLoadAt, undefined);
});

Deno.test("decodeCommandV1() round-trips the prediction bands and the next outage, rounded", () => {
  const c: StrategicCommand = {
    ...BASE,
    batteryBandH: { p10: 4.256, p90: 7.994 },
    dieselBandH: { p10: 40, p90: 61.005 },
    nextOutageAt: new Date("2026-03-21T03:15:00Z"),
  };
  const wire = JSON.parse(encodeCommandV1(c));
  // Hours go out at two decimals, as the predictions do: 4.256 → 4.26, 7.994 → 7.99.
  assert.equal(wire.predicted_battery_h_p10, 4.26);
  assert.equal(wire.predicted_battery_h_p90, 7.99);
  assert.equal(wire.predicted_diesel_h_p90, 61.01);
  assert.equal(wire.next_outage_at, "2026-03-21T03:15:00.000Z");
  const r = decodeCommandV1(JSON.stringify(wire));
  assert.ok(r.ok);
  assert.deepEqual(r.command.batteryBandH, { p10: 4.26, p90: 7.99 });
  assert.deepEqual(r.command.dieselBandH, { p10: 40, p90: 61.01 });
  assert.deepEqual(r.command.nextOutageAt, new Date("2026-03-21T03:15:00Z"));
  // A band with one end missing is no band.
  const half = decodeCommandV1(JSON.stringify({ ...wire, predicted_diesel_h_p90: null }));
  assert.ok(half.ok);
  assert.equal(half.command.dieselBandH, undefined);
});

Deno.test("decodeCommandV1() names a bad strategy or PV time and the value", () => {
  const wire = JSON.parse(encodeCommandV1(BASE));
  const bad = decodeCommandV1(JSON.stringify({ ...wire, strategy: "peak-shaving" }));
  assert.ok(!bad.ok);
  assert.match(bad.reason, /^strategy: .*\(got "peak-shaving"\)/);
  const time = decodeCommandV1(JSON.stringify({ ...wire, pv_covers_load_at: "07:30" }));
  assert.ok(!time.ok);
  assert.match(time.reason, /^pv_covers_load_at: .*\(got "07:30"\)/);
});

/** The v1 command schema as deployed before the new fields (git 1bcd83b, src/core/command.ts). */
const DEPLOYED_V1 = z.object({
  v: z.literal(1),
  site_id: z.string(),
  seq: z.number().int().min(0),
  issued_at: z.iso.datetime({ offset: true }),
  valid_until: z.iso.datetime({ offset: true }),
  mode: z.enum(["eco", "normal", "conservative"]),
  gen_start_soc_pct: z.number().min(0).max(100),
  gen_stop_soc_pct: z.number().min(0).max(100),
  reserve_soc_pct: z.number().min(0).max(100),
  forecast: z.enum(["clear", "cloudy", "unknown"]),
  predicted_battery_h: z.number().min(0),
  predicted_diesel_h: z.number().min(0),
  reason: z.string().max(500),
});

Deno.test("a device built before the new fields accepts a command that carries them", () => {
  const wire = JSON.parse(encodeCommandV1({
    ...BASE,
    strategy: "load-following",
    pvCoversLoadAt: new Date("2026-03-21T07:30:00Z"),
  }));
  const parsed = DEPLOYED_V1.safeParse(wire);
  assert.ok(parsed.success);
  // Unknown keys are stripped: it sees the plain v1 command.
  assert.deepEqual(Object.keys(parsed.data), V1_KEYS);
  assert.equal(parsed.data.gen_stop_soc_pct, 85);
});
