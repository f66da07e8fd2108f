/** Hot-path costs: decode + validate of one message of each protocol, one prediction, one decision. */
import { decide, initialPolicyMemory } from "../src/core/policy.ts";
import { predictRuntime } from "../src/core/prediction.ts";
import { legacySiteProfile } from "../src/core/site_profile.ts";
import {
  decodeLegacyTelemetry,
  decodeLegacyTelemetryReference,
  decodeTelemetryV1,
  decodeTelemetryV1Reference,
} from "../src/core/telemetry.ts";

const encoder = new TextEncoder();
const receivedAt = new Date("2026-11-20T10:00:05Z");
const legacySite = "00000000-0000-0000-0000-0000000000a1";
const legacyPayload = encoder.encode(
  `{"site_id":"${legacySite}","timestamp_utc":"2026-11-20T10:00:00Z","active_source":"Battery",` +
    `"battery_voltage":12.5,"is_generator_on":false,"fuel_level_percent":85.0,"current_load_watts":150.0}`,
);
const v1Payload = encoder.encode(JSON.stringify({
  v: 1,
  site_id: "demo-1",
  ts: "2026-11-20T10:00:00Z",
  seq: 42,
  source: "battery",
  battery_v: 25.9,
  battery_a: -12.5,
  soc_pct: 71.5,
  load_w: 420,
  pv_w: 180,
  gen_running: false,
  fuel_pct: 64,
  shed_tier: 0,
}));
const profile = legacySiteProfile(legacySite);
const now = new Date("2026-11-20T10:00:00Z");

Deno.bench("decode + validate one first-generation message", {
  group: "decode",
  baseline: true,
}, () => {
  const r = decodeLegacyTelemetry(legacyPayload, legacySite, receivedAt);
  if (!r.ok) throw new Error(r.reason);
});

Deno.bench("decode + validate one v1 message", { group: "decode" }, () => {
  const r = decodeTelemetryV1(v1Payload, "demo-1", receivedAt);
  if (!r.ok) throw new Error(r.reason);
});

// The zod path every reject takes, and the definition the fast path is tested against.
Deno.bench("zod path: one first-generation message", { group: "decode" }, () => {
  const r = decodeLegacyTelemetryReference(legacyPayload, legacySite, receivedAt);
  if (!r.ok) throw new Error(r.reason);
});

Deno.bench("zod path: one v1 message", { group: "decode" }, () => {
  const r = decodeTelemetryV1Reference(v1Payload, "demo-1", receivedAt);
  if (!r.ok) throw new Error(r.reason);
});

Deno.bench("predictRuntime() for one site", () => {
  predictRuntime(profile, { socPct: null, batteryV: 12.5, loadW: 150, pvW: null, fuelPct: 85 });
});

Deno.bench("decide() one tactical decision", () => {
  decide(
    {
      ...initialPolicyMemory({ source: "battery", genOn: false, shedTier: 0 }, now),
      socPct: 48,
      batteryV: 12.2,
      loadW: 150,
      pvW: 0,
      fuelPct: 85,
      genRunning: false,
    },
    { command: null, now, profile },
  );
});
