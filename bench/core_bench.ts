/**
 * Hot-path costs: decode + validate of one message of each protocol, one prediction (simple and
 * forward-simulated), one decision, one load-profile update and forecast.
 */
import { forecastLoad, newLoadProfile, updateLoadProfile } from "../src/core/load_forecast.ts";
import { decide, initialPolicyMemory } from "../src/core/policy.ts";
import { predictRuntime } from "../src/core/prediction.ts";
import { DEFAULT_SCENARIOS, forecastRuntime } from "../src/core/runtime_forecast.ts";
import { solarElevationDeg } from "../src/core/simulator.ts";
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

// One site's learned load profile (two weeks of minute samples of a clinic-like day), its
// forecaster, and a PV forecast from the sun's elevation: the inputs of a forward prediction.
const clinic = {
  ...profile,
  chemistry: "lifepo4" as const,
  nominalV: 48 as const,
  capacityWh: 20_000,
  reserveSocPct: 30,
  tankL: 200,
  generatorRatedKw: 8,
  pvKwp: 4,
  latitude: 10.3,
  longitude: 9.8,
};
let loadState = newLoadProfile({ utcOffsetMin: 60 });
const learnFrom = now.getTime() - 14 * 86_400_000;
for (let ms = learnFrom; ms < now.getTime(); ms += 60_000) {
  const hour = new Date(ms).getUTCHours() + 1;
  loadState = updateLoadProfile(loadState, {
    time: new Date(ms),
    loadW: 600 + (hour >= 8 && hour < 17 ? 900 : 0) + 100 * Math.sin(ms / 7e6),
  });
}
const loadForecast = (t: Date) => forecastLoad(loadState, t)!;
const pvForecast = {
  powerW: (t: Date) =>
    clinic.pvKwp * 800 *
    Math.max(0, Math.sin(solarElevationDeg(clinic.latitude, clinic.longitude, t) * Math.PI / 180)),
  relUncertainty: 0.3,
};
const runtimeInput = {
  profile: clinic,
  start: now,
  socPct: 62,
  socUncertaintyPct: 8,
  fuelL: 120,
  load: loadForecast,
  pv: pvForecast,
  dispatch: {
    genStartSocPct: 40,
    genStopSocPct: 90,
    fuelReservePct: 5,
    chargeEfficiency: 0.95,
    chargeCRate: 0.2,
    generatorAvailable: true,
  },
};

Deno.bench(
  `forecastRuntime() 48 h / 15 min, ${DEFAULT_SCENARIOS} scenarios`,
  { group: "runtime" },
  () => {
    forecastRuntime(runtimeInput, { rngState: 1 });
  },
);

Deno.bench(
  "forecastRuntime() 48 h / 15 min, certain inputs (1 scenario)",
  { group: "runtime" },
  () => {
    forecastRuntime(
      {
        ...runtimeInput,
        socUncertaintyPct: 0,
        load: () => ({ meanW: 900, spreadW: 0, basis: "profile" }),
        pv: null,
      },
    );
  },
);

const sampleAt = new Date(now.getTime() + 30_000);
Deno.bench("updateLoadProfile() one sample", () => {
  updateLoadProfile(loadState, { time: sampleAt, loadW: 750 });
});

const inADay = new Date(now.getTime() + 86_400_000);
Deno.bench("forecastLoad() one point", () => {
  forecastLoad(loadState, inADay);
});
