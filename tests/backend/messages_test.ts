import assert from "node:assert/strict";
import { classifyMessage } from "../../src/backend/messages.ts";
import { defaultV1Profile, profileOf, SiteStates } from "../../src/backend/site_state.ts";
import { forecastLoad } from "../../src/core/load_forecast.ts";
import { legacySiteProfile } from "../../src/core/site_profile.ts";
import type { TelemetryRecord } from "../../src/core/telemetry.ts";

const AT = new Date("2026-11-20T10:05:00Z");
const bytes = (text: string) => new TextEncoder().encode(text);

function classify(topic: string, payload: string) {
  return classifyMessage(topic, bytes(payload), AT);
}

Deno.test("classifyMessage() reads status as a bare word or a JSON object", () => {
  assert.deepEqual(classify("kasi/v1/sites/s1/status", "offline"), {
    kind: "status",
    siteId: "s1",
    status: "offline",
    at: AT,
  });
  assert.deepEqual(
    classify("kasi/v1/sites/s1/status", '{"status":"online","ts":"2026-11-20T10:04:00Z"}'),
    { kind: "status", siteId: "s1", status: "online", at: new Date("2026-11-20T10:04:00Z") },
  );
  // An empty retained message clears the topic: nothing to store, nothing to reject.
  assert.equal(classify("kasi/v1/sites/s1/status", "").kind, "ignore");
  const bad = classify("kasi/v1/sites/s1/status", "sleeping");
  assert.equal(bad.kind, "reject");
  assert.match(bad.kind === "reject" ? bad.reject.reason : "", /"sleeping"/);
  const badJson = classify("kasi/v1/sites/s1/status", '{"status":"up"}');
  assert.match(badJson.kind === "reject" ? badJson.reject.reason : "", /^status: .*"up"/);
});

Deno.test("classifyMessage() keeps an event's whole object as detail and checks kind and site", () => {
  const event = {
    ts: "2026-11-20T10:00:00Z",
    kind: "decision",
    detail: "gen on",
    reasons: ["soc"],
  };
  const ok = classify("kasi/v1/sites/s1/event", JSON.stringify(event));
  assert.deepEqual(ok, {
    kind: "event",
    event: {
      siteId: "s1",
      time: new Date("2026-11-20T10:00:00Z"),
      kind: "decision",
      detail: event,
    },
    receivedAt: AT,
  });
  // A device clock far ahead: the receive time is used.
  const ahead = classify("kasi/v1/sites/s1/event", '{"kind":"x","ts":"2099-01-01T00:00:00Z"}');
  assert.equal(ahead.kind === "event" ? ahead.event.time.getTime() : 0, AT.getTime());
  const cases: [string, RegExp][] = [
    ['{"detail":"no kind"}', /^kind: .*undefined/],
    ['{"kind":""}', /^kind: Too small.*\(got ""\)/],
    ["[1,2]", /expected a JSON object with "kind", got an array/],
    ["{oops", /expected a JSON object with "kind", got not JSON/],
    ['{"kind":"x","site_id":"s2"}', /^site_id: "s2" does not match the topic's site "s1"/],
  ];
  for (const [payload, pattern] of cases) {
    const r = classify("kasi/v1/sites/s1/event", payload);
    assert.equal(r.kind, "reject", payload);
    assert.match(r.kind === "reject" ? r.reject.reason : "", pattern);
  }
});

Deno.test("classifyMessage() rejects a topic site id that is not a valid id", () => {
  const r = classify("kasi/v1/sites/bad id!/telemetry", "{}");
  assert.equal(r.kind, "reject");
  assert.match(r.kind === "reject" ? r.reject.reason : "", /^topic: site id "bad id!" must be/);
  const other = classify("kasi/v2/sites/s1/telemetry", "{}");
  assert.match(other.kind === "reject" ? other.reject.reason : "", /is not a Kasi topic/);
});

Deno.test("classifyMessage() keeps the topic's spelling of a first-generation site id", () => {
  const upper = "ABCDEF00-0000-0000-0000-0000000000A1";
  const r = classify(
    `kasi_power/sites/${upper}/telemetry`,
    JSON.stringify({
      site_id: upper,
      timestamp_utc: "2026-11-20T10:00:00Z",
      active_source: "Battery",
      battery_voltage: 12.5,
      is_generator_on: false,
      fuel_level_percent: 85,
      current_load_watts: 150,
    }),
  );
  assert.equal(r.kind, "telemetry");
  if (r.kind !== "telemetry") return;
  assert.equal(r.record.siteId, upper.toLowerCase());
  assert.equal(r.topicSiteId, upper);
});

function record(siteId: string, isoTime: string, loadW: number): TelemetryRecord {
  return {
    siteId,
    time: new Date(isoTime),
    protocol: "v1",
    source: "battery",
    batteryV: 52,
    batteryA: null,
    socPct: 80,
    batteryTempC: null,
    loadW,
    pvW: null,
    genRunning: false,
    genW: null,
    fuelPct: 50,
    shedTier: null,
    seq: null,
    clockRestamped: false,
  };
}

Deno.test("SiteStates.observe() learns the load of newer records and ignores late ones", () => {
  const states = new SiteStates();
  const touched = states.observe([
    record("s1", "2026-11-20T10:00:00Z", 400),
    record("s1", "2026-11-20T10:15:00Z", 1000),
    record("s1", "2026-11-20T10:10:00Z", 5000), // older than the newest: no effect
  ], ["s1", "s1", "s1"]);
  assert.deepEqual([...touched], ["s1"]);
  const s = states.get("s1")!;
  assert.equal(s.latest!.time.toISOString(), "2026-11-20T10:15:00.000Z");
  // Under an hour of history the load forecast is its mean with a day's time constant
  // (load_forecast.ts FALLBACK_TAU_S): alpha = 1 − e^(−900/86400) = 0.010363, so
  // 400 + 0.010363 · (1000 − 400) = 406.22 W; the late 5000 W never entered it.
  const point = forecastLoad(s.loadProfile!, new Date("2026-11-20T11:00:00Z"))!;
  assert.equal(point.basis, "ewma");
  assert.ok(Math.abs(point.meanW - (400 + (1 - Math.exp(-900 / 86400)) * 600)) < 1e-9);
  assert.ok(Math.abs(point.meanW - 406.22) < 0.01);
  // A redelivery of the newest changes nothing and touches nothing.
  assert.equal(states.observe([record("s1", "2026-11-20T10:15:00Z", 1000)], ["s1"]).size, 0);
});

Deno.test("profileOf() uses the stored profile, else the protocol's default", () => {
  const states = SiteStates.fromSnapshots([
    {
      siteId: "v",
      protocol: "v1",
      status: "online",
      profile: null,
      latest: null,
      lastCommandSeq: 4,
    },
    {
      siteId: "l",
      protocol: "legacy",
      status: "unknown",
      profile: null,
      latest: null,
      lastCommandSeq: null,
    },
    {
      siteId: "p",
      protocol: "v1",
      status: "unknown",
      profile: { ...defaultV1Profile("p"), capacityWh: 20_000 },
      latest: null,
      lastCommandSeq: null,
    },
  ]);
  assert.deepEqual(profileOf(states.get("v")!), defaultV1Profile("v"));
  assert.deepEqual(profileOf(states.get("l")!), legacySiteProfile("l"));
  assert.equal(profileOf(states.get("p")!).capacityWh, 20_000);
  assert.equal(states.get("v")!.lastSeq, 4);
  assert.deepEqual(states.views().map((v) => v.siteId), ["l", "p", "v"]);
});

Deno.test("classifyMessage() ignores the backend's own alarm events, not a device's 'alarm'", () => {
  const at = new Date("2026-03-20T12:00:00Z");
  const own = JSON.stringify({ kind: "alarm", origin: "kasi-backend", change: "raised" });
  assert.deepEqual(classifyMessage("kasi/v1/sites/s1/event", new TextEncoder().encode(own), at), {
    kind: "ignore",
    why: "the backend's own alarm event",
  });
  const device = JSON.stringify({ kind: "alarm", detail: "door open" });
  const inbound = classifyMessage("kasi/v1/sites/s1/event", new TextEncoder().encode(device), at);
  assert.equal(inbound.kind, "event");
});
