import assert from "node:assert/strict";
import {
  type Advice,
  adviceChanged,
  commandFromAdvice,
  computeAdvice,
  ewma,
  ewmaAlpha,
  thresholdsFor,
} from "../../src/core/advice.ts";
import { decodeCommandV1, encodeCommandV1, encodeLegacyCommand } from "../../src/core/command.ts";
import { legacySiteProfile, type SiteProfile } from "../../src/core/site_profile.ts";
import type { TelemetryRecord } from "../../src/core/telemetry.ts";
import type { WeatherClassification } from "../../src/core/weather.ts";

const LEGACY_ID = "00000000-0000-0000-0000-0000000000a1";
const legacy = legacySiteProfile(LEGACY_ID);

const UNKNOWN: WeatherClassification = {
  forecast: "unknown",
  meanCloudPct: null,
  reason: "no key",
};
const CLEAR: WeatherClassification = { forecast: "clear", meanCloudPct: 10, reason: "clear" };
const CLOUDY: WeatherClassification = { forecast: "cloudy", meanCloudPct: 90, reason: "cloudy" };

/** The first generation's reference message, decoded. */
const referenceRecord: TelemetryRecord = {
  siteId: LEGACY_ID,
  time: new Date("2026-11-20T10:00:00Z"),
  protocol: "legacy",
  source: "battery",
  batteryV: 12.5,
  batteryA: null,
  socPct: null,
  batteryTempC: null,
  loadW: 150,
  pvW: null,
  genRunning: false,
  genW: null,
  fuelPct: 85,
  shedTier: null,
  seq: null,
  clockRestamped: false,
};

/** A 48 V LiFePO4 clinic with a 10 kW generator and a 200 L tank. */
const clinic: SiteProfile = {
  siteId: "clinic-1",
  chemistry: "lifepo4",
  nominalV: 48,
  capacityWh: 10_000,
  reserveSocPct: 20,
  tankL: 200,
  generatorRatedKw: 10,
  pvKwp: 3,
  latitude: 10.3,
  longitude: 9.8,
  timeZone: "Africa/Lagos",
};

function clinicRecord(overrides: Partial<TelemetryRecord>): TelemetryRecord {
  return {
    ...referenceRecord,
    siteId: "clinic-1",
    protocol: "v1",
    batteryV: 52,
    socPct: 80,
    loadW: 400,
    pvW: 0,
    fuelPct: 50,
    ...overrides,
  };
}

Deno.test("computeAdvice() gives the reference first-generation message normal mode and its hours", () => {
  // SoC by BCI interpolation: 75 + (12.5 − 12.45) / (12.65 − 12.45) · 25 = 81.25 %.
  // Battery: (81.25 − 50) % · 5000 Wh / 150 W = 1562.5 / 150 = 10.4167 h.
  // Diesel: 85 L at 0.0332·5 + 0.2728·1.5 = 0.5752 L/h → 85 / 0.5752 = 147.7747 h.
  // Unknown forecast, 10.4 h ≥ 6 h → normal; start max(40, reserve 50) = 50, stop 90.
  const a = computeAdvice({
    profile: legacy,
    latest: referenceRecord,
    meanLoadW: null,
    weather: UNKNOWN,
  });
  assert.equal(a.mode, "normal");
  assert.equal(a.forecast, "unknown");
  assert.ok(Math.abs(a.predictedBatteryH - 1562.5 / 150) < 1e-9);
  assert.ok(Math.abs(a.predictedDieselH - 85 / 0.5752) < 1e-9);
  assert.equal(a.genStartSocPct, 50);
  assert.equal(a.genStopSocPct, 90);
  assert.equal(a.reserveSocPct, 50);
  // Usable: (81.25 − 50) % · 5000 Wh = 1562.5 → 1563 Wh; 85 / 0.5752 = 147.77 → 147.8 h.
  assert.equal(
    a.reason,
    "Normal: no forecast. Battery at 81 % (from voltage, 1563 Wh above the 50 % reserve) " +
      "lasts 10.4 h at 150 W; fuel lasts 147.8 h. Weather: no key. " +
      "Start the generator at 50 %, stop at 90 %.",
  );
});

Deno.test("encodeLegacyCommand() of the reference advice has exactly the first-generation keys", () => {
  const a = computeAdvice({
    profile: legacy,
    latest: referenceRecord,
    meanLoadW: null,
    weather: UNKNOWN,
  });
  const c = commandFromAdvice(a, {
    siteId: LEGACY_ID,
    seq: 1,
    issuedAt: new Date("2026-11-20T10:00:01Z"),
    validUntil: new Date("2026-11-20T10:05:01Z"),
  });
  const m = JSON.parse(encodeLegacyCommand(c));
  assert.deepEqual(Object.keys(m).sort(), [
    "mode",
    "predicted_battery_hours",
    "predicted_diesel_hours",
    "weather_forecast",
  ]);
  // 1562.5 / 150 = 10.4167 → 10.42; 85 / 0.5752 = 147.7747 → 147.77 at two decimals.
  assert.deepEqual(m, {
    mode: "Normal",
    weather_forecast: "Unknown",
    predicted_battery_hours: 10.42,
    predicted_diesel_hours: 147.77,
  });
});

Deno.test("computeAdvice() is conservative when the forecast is cloudy", () => {
  const a = computeAdvice({
    profile: legacy,
    latest: referenceRecord,
    meanLoadW: null,
    weather: CLOUDY,
  });
  assert.equal(a.mode, "conservative");
  assert.equal(a.genStartSocPct, 50);
  assert.equal(a.genStopSocPct, 95);
});

Deno.test("computeAdvice() is conservative under 6 h of battery even with a clear sky", () => {
  // 1562.5 Wh / 300 W = 5.21 h < 6 h.
  const a = computeAdvice({
    profile: legacy,
    latest: { ...referenceRecord, loadW: 300 },
    meanLoadW: null,
    weather: CLEAR,
  });
  assert.ok(Math.abs(a.predictedBatteryH - 1562.5 / 300) < 1e-9);
  assert.equal(a.mode, "conservative");
});

Deno.test("computeAdvice() chooses eco when clear, battery ≥ 12 h and diesel ≥ 24 h", () => {
  // Battery: (80 − 20) % · 10 000 Wh / 400 W = 15 h. Diesel: 50 % of 200 L = 100 L; a 10 kW set
  // held at its 3 kW minimum burns 0.0332·10 + 0.2728·3 = 1.1504 L/h → 86.93 h.
  const a = computeAdvice({
    profile: clinic,
    latest: clinicRecord({}),
    meanLoadW: null,
    weather: CLEAR,
  });
  assert.ok(Math.abs(a.predictedBatteryH - 15) < 1e-9);
  assert.ok(Math.abs(a.predictedDieselH - 100 / 1.1504) < 1e-9);
  assert.equal(a.mode, "eco");
  assert.equal(a.genStartSocPct, 30);
  assert.equal(a.genStopSocPct, 85);
  assert.equal(a.reserveSocPct, 20);
});

Deno.test("computeAdvice() stays normal when clear but the tank holds under a day", () => {
  // 10 % of 200 L = 20 L / 1.1504 L/h = 17.39 h < 24 h.
  const a = computeAdvice({
    profile: clinic,
    latest: clinicRecord({ fuelPct: 10 }),
    meanLoadW: null,
    weather: CLEAR,
  });
  assert.ok(Math.abs(a.predictedDieselH - 20 / 1.1504) < 1e-9);
  assert.equal(a.mode, "normal");
  assert.equal(a.genStartSocPct, 40);
  assert.equal(a.genStopSocPct, 90);
});

Deno.test("computeAdvice() predicts from the mean load, not the latest spike", () => {
  // Latest sample 1200 W, mean 400 W: 6000 Wh / 400 W = 15 h (not 6000 / 1200 = 5 h).
  const a = computeAdvice({
    profile: clinic,
    latest: clinicRecord({ loadW: 1200 }),
    meanLoadW: 400,
    weather: CLEAR,
  });
  assert.ok(Math.abs(a.predictedBatteryH - 15) < 1e-9);
});

Deno.test("computeAdvice() says solar covers the load instead of a battery time", () => {
  // SoC 100 %: (100 − 20) % · 10 000 Wh = 8000 Wh usable; mean load 1681 W < solar 2000 W.
  const a = computeAdvice({
    profile: clinic,
    latest: clinicRecord({ socPct: 100, loadW: 1700, pvW: 2000 }),
    meanLoadW: 1681,
    weather: UNKNOWN,
  });
  assert.match(
    a.reason,
    /Battery at 100 % \(8000 Wh above the 20 % reserve\): solar 2000 W covers the 1681 W load; /,
  );
  assert.doesNotMatch(a.reason, /168\.0 h/);
});

Deno.test("computeAdvice() gives the battery time at the load net of solar", () => {
  // 6000 Wh / (1900 − 219) W = 6000 / 1681 = 3.569 h → "3.6 h".
  const a = computeAdvice({
    profile: clinic,
    latest: clinicRecord({ pvW: 219 }),
    meanLoadW: 1900,
    weather: UNKNOWN,
  });
  assert.ok(Math.abs(a.predictedBatteryH - 6000 / 1681) < 1e-9);
  assert.match(
    a.reason,
    /Battery at 80 % \(6000 Wh above the 20 % reserve\) lasts 3\.6 h at a net 1681 W \(load 1900 W − solar 219 W\); /,
  );
});

Deno.test("computeAdvice() says more than a week where a prediction hits the 168 h cap", () => {
  // Battery: 6000 Wh / (420 − 400) W = 300 h, capped at 168 h. Fuel: 100 % of 200 L at
  // 1.1504 L/h (10 kW set at its 3 kW minimum) = 173.85 h, capped at 168 h.
  const a = computeAdvice({
    profile: clinic,
    latest: clinicRecord({ loadW: 420, pvW: 400, fuelPct: 100 }),
    meanLoadW: null,
    weather: UNKNOWN,
  });
  assert.equal(a.predictedBatteryH, 168);
  assert.equal(a.predictedDieselH, 168);
  assert.match(
    a.reason,
    /lasts more than a week at a net 20 W \(load 420 W − solar 400 W\); fuel lasts more than a week\./,
  );
  assert.doesNotMatch(a.reason, /168/);
});

Deno.test("computeAdvice() says when the battery is at its reserve or the fuel level is unknown", () => {
  const a = computeAdvice({
    profile: clinic,
    latest: clinicRecord({ socPct: 20, fuelPct: null }),
    meanLoadW: null,
    weather: UNKNOWN,
  });
  assert.equal(a.predictedBatteryH, 0);
  assert.match(
    a.reason,
    /Battery at 20 % is at or below the 20 % reserve; fuel level not reported\./,
  );
});

Deno.test("computeAdvice() shortens a long weather reason so the reason fits a command", () => {
  // StrategicCommand.reason holds at most 500 characters; the thresholds must survive.
  const a = computeAdvice({
    profile: clinic,
    latest: clinicRecord({}),
    meanLoadW: null,
    weather: { ...CLEAR, reason: "x".repeat(600) },
  });
  assert.equal(a.reason.length, 500);
  assert.match(a.reason, /x…\. Start the generator at 30 %, stop at 85 %\.$/);
  const c = commandFromAdvice(a, {
    siteId: "clinic-1",
    seq: 1,
    issuedAt: new Date("2026-11-20T10:00:00Z"),
    validUntil: new Date("2026-11-20T10:05:00Z"),
  });
  const decoded = decodeCommandV1(encodeCommandV1(c));
  assert.ok(decoded.ok, decoded.ok ? "" : decoded.reason);
  assert.equal(decoded.command.reason, a.reason);
});

Deno.test("thresholdsFor() keeps start at or above the reserve and stop above start", () => {
  assert.deepEqual(thresholdsFor("eco", 35), { genStartSocPct: 35, genStopSocPct: 85 });
  assert.deepEqual(thresholdsFor("normal", 0), { genStartSocPct: 40, genStopSocPct: 90 });
  // Reserve 93: start 93, stop max(95, 93 + 5) = 98.
  assert.deepEqual(thresholdsFor("conservative", 93), { genStartSocPct: 93, genStopSocPct: 98 });
  // Reserve 99: start capped at 100 − 5 = 95, stop 100.
  assert.deepEqual(thresholdsFor("eco", 99), { genStartSocPct: 95, genStopSocPct: 100 });
});

Deno.test("ewma() starts at the first sample and moves by alpha of the difference", () => {
  assert.equal(ewma(null, 150, 0.3), 150);
  // 100 + 0.25 · (200 − 100) = 125.
  assert.equal(ewma(100, 200, 0.25), 125);
  assert.equal(ewma(100, 200, 0), 100);
  assert.equal(ewma(100, 200, 1), 200);
});

Deno.test("ewmaAlpha() is 1 − e^(−dt/τ)", () => {
  // dt = τ: 1 − e^−1 = 0.632121.
  assert.ok(Math.abs(ewmaAlpha(600, 600) - 0.632121) < 1e-6);
  // dt = τ/10: 1 − e^−0.1 = 0.095163.
  assert.ok(Math.abs(ewmaAlpha(60, 600) - 0.095163) < 1e-6);
  assert.equal(ewmaAlpha(0, 600), 0);
});

Deno.test("adviceChanged() publishes on any decision change or a prediction move > 10 % and > 0.5 h", () => {
  const base = computeAdvice({
    profile: clinic,
    latest: clinicRecord({}),
    meanLoadW: null,
    weather: CLEAR,
  });
  const withHours = (batteryH: number, dieselH = base.predictedDieselH): Advice => ({
    ...base,
    predictedBatteryH: batteryH,
    predictedDieselH: dieselH,
  });
  assert.equal(adviceChanged(null, base), true);
  assert.equal(adviceChanged(base, { ...base }), false);
  assert.equal(adviceChanged(base, { ...base, mode: "normal" }), true);
  assert.equal(adviceChanged(base, { ...base, forecast: "unknown" }), true);
  assert.equal(adviceChanged(base, { ...base, genStartSocPct: 35 }), true);
  // 15 h → 16.4 h: moved 1.4 h < 10 % of 15 = 1.5 h → no.
  assert.equal(adviceChanged(base, withHours(16.4)), false);
  // 15 h → 16.6 h: 1.6 h > 1.5 h and > 0.5 h → yes.
  assert.equal(adviceChanged(base, withHours(16.6)), true);
  // 2 h → 2.4 h: 0.4 h is 20 % but under 0.5 h → no.
  assert.equal(adviceChanged(withHours(2), withHours(2.4)), false);
  // Diesel 86.93 h → 100 h: 13.07 h > 8.69 h → yes.
  assert.equal(adviceChanged(base, withHours(15, 100)), true);
});

Deno.test("commandFromAdvice() makes a v1 command that decodes back", () => {
  const a = computeAdvice({
    profile: clinic,
    latest: clinicRecord({}),
    meanLoadW: null,
    weather: CLEAR,
  });
  const c = commandFromAdvice(a, {
    siteId: "clinic-1",
    seq: 7,
    issuedAt: new Date("2026-11-20T10:00:00Z"),
    validUntil: new Date("2026-11-20T10:05:00Z"),
  });
  const decoded = decodeCommandV1(encodeCommandV1(c));
  assert.ok(decoded.ok, decoded.ok ? "" : decoded.reason);
  assert.equal(decoded.command.seq, 7);
  assert.equal(decoded.command.mode, "eco");
  assert.equal(decoded.command.predictedBatteryH, 15);
  // 86.926 h → 86.93 at two decimals.
  assert.equal(decoded.command.predictedDieselH, 86.93);
});
