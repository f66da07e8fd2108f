import assert from "node:assert/strict";
import {
  decodeLegacyTelemetry,
  decodeTelemetryV1,
  encodeTelemetryV1,
  MAX_PAYLOAD_BYTES,
  type TelemetryRecord,
} from "../../src/core/telemetry.ts";

const CASES_FILE = new URL(
  "../../../shared/cases/first-gen-telemetry.jsonl",
  import.meta.url,
);

interface Case {
  name: string;
  topic: string;
  payload: string;
  expect: "stored" | "stored-once" | "rejected" | "not-1970" | "not-future";
}

async function loadCases(): Promise<Case[]> {
  const text = await Deno.readTextFile(CASES_FILE);
  return text.split("\n").filter((line) => line.trim()).map((line) => JSON.parse(line));
}

const RECEIVED_AT = new Date("2026-11-20T10:05:00Z");
const encoder = new TextEncoder();

/** For each rejected case: the field its reason must name and the value it must show. */
const REJECT_REASONS: Record<string, RegExp> = {
  "number sent as a string": /battery_voltage: .*"12\.4"/,
  "null value": /fuel_level_percent: .*null/,
  "0xFFFF sensor sentinel": /fuel_level_percent: .*65535/,
  "negative load": /current_load_watts: .*-40/,
  "epoch milliseconds instead of RFC 3339": /timestamp_utc: .*1763632860000/,
  "unknown source": /active_source: .*"Nuclear"/,
  "site id disagrees with the topic": /site_id: "00000000-0000-0000-0000-0000000000a2" .*topic/,
  "empty payload": /payload: empty \(0 bytes\)/,
  "truncated JSON": /payload: not JSON/,
  "JSON that is not an object": /payload: expected a JSON object, got an array/,
  "one megabyte payload": new RegExp(
    `payload: \\d{7} bytes exceeds the limit of ${MAX_PAYLOAD_BYTES}`,
  ),
};

Deno.test("decodeLegacyTelemetry() handles every case of first-gen-telemetry.jsonl as expected", async () => {
  const cases = await loadCases();
  const kinds = new Set(cases.map((c) => c.expect));
  // Every kind the README defines is present, so none goes untested.
  assert.deepEqual([...kinds].sort(), [
    "not-1970",
    "not-future",
    "rejected",
    "stored",
    "stored-once",
  ]);
  const storedKeys = new Set<string>();
  for (const c of cases) {
    const topicSiteId = c.topic.split("/")[2]!;
    // Bytes, as MQTT delivers them.
    const result = decodeLegacyTelemetry(encoder.encode(c.payload), topicSiteId, RECEIVED_AT);
    const key = result.ok ? `${result.record.siteId}@${result.record.time.toISOString()}` : "";
    switch (c.expect) {
      case "stored": {
        assert.ok(result.ok, `${c.name}: ${result.ok ? "" : result.reason}`);
        assert.equal(result.record.clockRestamped, false, c.name);
        assert.equal(
          result.record.time.toISOString(),
          JSON.parse(c.payload).timestamp_utc.replace("Z", ".000Z"),
        );
        storedKeys.add(key);
        break;
      }
      case "stored-once":
        // Decodes to the same (site, time) as an earlier case: the primary key makes it one row.
        assert.ok(result.ok, c.name);
        assert.ok(storedKeys.has(key), `${c.name}: ${key} is not the key of an earlier case`);
        break;
      case "rejected": {
        assert.equal(result.ok, false, `${c.name} was accepted`);
        const pattern = REJECT_REASONS[c.name];
        assert.ok(pattern, `no expected reason for case "${c.name}"`);
        assert.match(result.ok ? "" : result.reason, pattern, c.name);
        break;
      }
      case "not-1970":
      case "not-future":
        // Re-stamped with the receive time and flagged: never stored at 1970 or 2099.
        assert.ok(result.ok, c.name);
        assert.equal(result.record.time.toISOString(), RECEIVED_AT.toISOString(), c.name);
        assert.equal(result.record.clockRestamped, true, c.name);
        break;
    }
  }
});

Deno.test("decodeLegacyTelemetry() maps the reference message into a record", () => {
  const result = decodeLegacyTelemetry(
    JSON.stringify({
      site_id: "ABCDEF00-0000-0000-0000-0000000000A1",
      timestamp_utc: "2026-11-20T10:00:00Z",
      active_source: "Diesel",
      battery_voltage: 12.5,
      is_generator_on: true,
      fuel_level_percent: 85,
      current_load_watts: 150,
    }),
    "abcdef00-0000-0000-0000-0000000000a1",
    RECEIVED_AT,
  );
  assert.ok(result.ok);
  assert.deepEqual(
    result.record,
    {
      siteId: "abcdef00-0000-0000-0000-0000000000a1",
      time: new Date("2026-11-20T10:00:00Z"),
      protocol: "legacy",
      source: "generator",
      batteryV: 12.5,
      batteryA: null,
      socPct: null,
      batteryTempC: null,
      loadW: 150,
      pvW: null,
      genRunning: true,
      genW: null,
      fuelPct: 85,
      shedTier: null,
      seq: null,
      clockRestamped: false,
    } satisfies TelemetryRecord,
  );
});

Deno.test("decodeLegacyTelemetry() rejects a site id that is not UUID-shaped, naming it", () => {
  const result = decodeLegacyTelemetry(
    JSON.stringify({
      site_id: "tower-7",
      timestamp_utc: "2026-11-20T10:00:00Z",
      active_source: "Battery",
      battery_voltage: 12.5,
      is_generator_on: false,
      fuel_level_percent: 85,
      current_load_watts: 150,
    }),
    "tower-7",
    RECEIVED_AT,
  );
  assert.equal(result.ok, false);
  assert.match(result.ok ? "" : result.reason, /site_id: must be a UUID-shaped id.*"tower-7"/);
});

const v1Base = {
  v: 1,
  site_id: "clinic-1",
  ts: "2026-11-20T10:00:00Z",
  seq: 42,
  source: "battery",
  battery_v: 51.2,
  battery_a: -12.5,
  soc_pct: 76,
  battery_temp_c: 28.5,
  load_w: 640,
  pv_w: 0,
  gen_running: false,
  gen_w: null,
  fuel_pct: 55,
  shed_tier: 0,
};

function v1(overrides: Record<string, unknown>, topicSiteId = "clinic-1") {
  return decodeTelemetryV1(JSON.stringify({ ...v1Base, ...overrides }), topicSiteId, RECEIVED_AT);
}

Deno.test("decodeTelemetryV1() decodes a full message and converts an offset to UTC", () => {
  const result = v1({ ts: "2026-11-20T11:00:00+01:00", firmware: "2.1.0" });
  assert.ok(result.ok, result.ok ? "" : result.reason);
  assert.equal(result.record.time.toISOString(), "2026-11-20T10:00:00.000Z");
  assert.equal(result.record.protocol, "v1");
  assert.equal(result.record.batteryA, -12.5);
  assert.equal(result.record.genW, null);
  assert.equal(result.record.seq, 42);
  assert.equal(result.record.clockRestamped, false);
});

Deno.test("decodeTelemetryV1() rejects bad fields, naming the field and the value", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ v: 2 }, /^v: .*\(got 2\)/],
    [{ battery_v: "51.2" }, /^battery_v: .*received string \(got "51\.2"\)/],
    [{ load_w: undefined }, /^load_w: .*received undefined/],
    [{ soc_pct: 101 }, /^soc_pct: Too big.*\(got 101\)/],
    [{ fuel_pct: -1 }, /^fuel_pct: Too small.*\(got -1\)/],
    [{ shed_tier: 4 }, /^shed_tier: .*\(got 4\)/],
    [{ seq: 1.5 }, /^seq: .*\(got 1\.5\)/],
    [{ source: "solar" }, /^source: .*"battery"\|"generator"\|"off" \(got "solar"\)/],
    [{ gen_running: "false" }, /^gen_running: .*\(got "false"\)/],
    // RFC 3339 requires a zone: a naive local time is not accepted.
    [{ ts: "2026-11-20 10:00:00" }, /^ts: .*\(got "2026-11-20 10:00:00"\)/],
    [{ site_id: "bad id!" }, /^site_id: must be 1-64 letters.*\(got "bad id!"\)/],
  ];
  for (const [overrides, pattern] of cases) {
    const result = v1(overrides);
    assert.equal(result.ok, false, JSON.stringify(overrides));
    assert.match(result.ok ? "" : result.reason, pattern);
  }
});

Deno.test("decodeTelemetryV1() rejects a site id that differs from the topic's", () => {
  const result = v1({}, "clinic-2");
  assert.equal(result.ok, false);
  assert.equal(
    result.ok ? "" : result.reason,
    `site_id: "clinic-1" does not match the topic's site "clinic-2"`,
  );
});

Deno.test("decodeTelemetryV1() rejects payloads that are not a JSON object", () => {
  const cases: [string | Uint8Array, RegExp][] = [
    ["", /^payload: empty \(0 bytes\)$/],
    ["{", /^payload: not JSON/],
    ["42", /^payload: expected a JSON object, got number$/],
    ["null", /^payload: expected a JSON object, got null$/],
    [new Uint8Array([0x7b, 0xff, 0x7d]), /^payload: not valid UTF-8$/],
    [new Uint8Array(MAX_PAYLOAD_BYTES + 1), /^payload: 65537 bytes exceeds the limit of 65536$/],
  ];
  for (const [payload, pattern] of cases) {
    const result = decodeTelemetryV1(payload, "clinic-1", RECEIVED_AT);
    assert.equal(result.ok, false);
    assert.match(result.ok ? "" : result.reason, pattern);
  }
});

Deno.test("decodeTelemetryV1() keeps device time within bounds and re-stamps outside them", () => {
  // Received 10:05:00; up to 5 min ahead (10:10:00) is clock drift, beyond is a wrong clock.
  const ahead4 = v1({ ts: "2026-11-20T10:09:00Z" });
  assert.ok(ahead4.ok);
  assert.equal(ahead4.record.clockRestamped, false);
  const ahead6 = v1({ ts: "2026-11-20T10:11:00Z" });
  assert.ok(ahead6.ok);
  assert.equal(ahead6.record.clockRestamped, true);
  assert.equal(ahead6.record.time.toISOString(), RECEIVED_AT.toISOString());
  // The earliest plausible time is 2020-01-01T00:00:00Z: one second before is re-stamped.
  const early = v1({ ts: "2019-12-31T23:59:59Z" });
  assert.ok(early.ok);
  assert.equal(early.record.clockRestamped, true);
  const rtcEpoch = v1({ ts: "2000-01-01T00:00:00Z" });
  assert.ok(rtcEpoch.ok);
  assert.equal(rtcEpoch.record.clockRestamped, true);
});

Deno.test("encodeTelemetryV1() round-trips through decodeTelemetryV1() and omits nulls", () => {
  const record: TelemetryRecord = {
    siteId: "clinic-1",
    time: new Date("2026-11-20T10:00:00Z"),
    protocol: "v1",
    source: "generator",
    batteryV: 52.1,
    batteryA: 20,
    socPct: 48.5,
    batteryTempC: null,
    loadW: 900,
    pvW: null,
    genRunning: true,
    genW: 3100,
    fuelPct: 40,
    shedTier: 1,
    seq: 7,
    clockRestamped: false,
  };
  const text = encodeTelemetryV1(record);
  const wire = JSON.parse(text);
  assert.equal(wire.v, 1);
  assert.equal(wire.ts, "2026-11-20T10:00:00.000Z");
  assert.equal("battery_temp_c" in wire, false);
  assert.equal("pv_w" in wire, false);
  const decoded = decodeTelemetryV1(text, "clinic-1", RECEIVED_AT);
  assert.ok(decoded.ok, decoded.ok ? "" : decoded.reason);
  assert.deepEqual(decoded.record, record);
});

Deno.test("decodeTelemetryV1() measures a string payload's size in UTF-8 bytes", () => {
  // 22,000 "€" are 22,000 UTF-16 units but 3 bytes each in UTF-8: 66,000 bytes > 65,536.
  const payload = JSON.stringify({ note: "€".repeat(22_000) });
  const r = decodeTelemetryV1(payload, "site-1", new Date("2026-11-20T10:00:00Z"));
  assert.equal(r.ok, false);
  assert.match(r.ok ? "" : r.reason, /exceeds the limit of 65536/);
});
