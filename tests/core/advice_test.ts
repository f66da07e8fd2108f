import assert from "node:assert/strict";
import {
  type Advice,
  adviceChanged,
  commandFromAdvice,
  computeAdvice,
  ewma,
  ewmaAlpha,
  type PlannedAdvice,
  thresholdsFor,
} from "../../src/core/advice.ts";
import { heldAdvice } from "../../src/core/held_advice.ts";
import { decodeCommandV1, encodeCommandV1, encodeLegacyCommand } from "../../src/core/command.ts";
import type { LoadPoint } from "../../src/core/load_forecast.ts";
import type { PvForecast } from "../../src/core/runtime_forecast.ts";
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

const NOW = new Date("2026-11-20T10:00:00Z");
const HOUR_MS = 3_600_000;

/** A load known exactly: one scenario, so every figure below is a hand computation. */
function constantLoad(meanW: number): (time: Date) => LoadPoint {
  return () => ({ meanW, spreadW: 0, basis: "profile" });
}

function constantPv(powerW: number): PvForecast {
  return { powerW: () => powerW, relUncertainty: 0 };
}

function advise(
  profile: SiteProfile,
  latest: TelemetryRecord,
  options: {
    socPct: number;
    uncertaintyPct?: number;
    fromVoltage?: boolean;
    loadW?: number;
    pv?: PvForecast | null;
    pvIsFallback?: boolean;
    weather?: WeatherClassification;
  },
): PlannedAdvice {
  return computeAdvice({
    profile,
    latest,
    now: NOW,
    soc: {
      socPct: options.socPct,
      uncertaintyPct: options.uncertaintyPct ?? 0,
      fromVoltage: options.fromVoltage ?? false,
    },
    load: constantLoad(options.loadW ?? latest.loadW),
    pv: options.pv ?? null,
    pvIsFallback: options.pvIsFallback,
    weather: options.weather ?? UNKNOWN,
  });
}

/** The reference message read through the BCI table: 12.5 V → 81.25 %. */
const reference = () => advise(legacy, referenceRecord, { socPct: 81.25, fromVoltage: true });

Deno.test("computeAdvice() gives the reference first-generation message normal mode and its hours", () => {
  // Battery, no generator: (81.25 − 50) % · 5000 Wh / 150 W = 1562.5 / 150 = 10.4167 h.
  // Unknown forecast, P10 = 10.4 h ≥ 6 h → normal; start max(40, reserve 50) = 50, stop 90.
  const a = reference();
  assert.equal(a.mode, "normal");
  assert.equal(a.forecast, "unknown");
  assert.ok(Math.abs(a.predictedBatteryH - 1562.5 / 150) < 1e-9);
  assert.equal(a.genStartSocPct, 50);
  assert.equal(a.genStopSocPct, 90);
  assert.equal(a.reserveSocPct, 50);
  // Under the dispatch the 5 kW set starts at 50 % and charges at C/5 = 1000 W: it runs at
  // 150 + 1000 = 1150 W, held up to its 1.5 kW minimum: 0.0332·5 + 0.2728·1.5 = 0.5752 L/h,
  // and the battery stores 1000 · 0.95 = 950 W: 50 → 90 % = 2000 Wh takes 2.10526 h. Back to
  // 50 % at 150 W takes 2000 / 150 = 13.3333 h. Starts in 48 h: 10.4167, 25.8553, 41.2939 h.
  const f = a.outlook.forecast;
  assert.ok(Math.abs(f.generatorH.p50 - 3 * 2000 / 950) < 1e-6, `${f.generatorH.p50}`);
  assert.ok(Math.abs(f.fuelUsedL.p50 - 3 * 2000 / 950 * 0.5752) < 1e-6, `${f.fuelUsedL.p50}`);
  // 1.21 L a cycle of 15.44 h from 80 L above the 5 % reserve: far beyond a week.
  assert.equal(a.predictedDieselH, 168);
  assert.equal(f.outageAt.p50, null);
  assert.equal(a.strategy, "cycle-charging");
  assert.equal(a.pvCoversLoadAt, null);
  // Usable: (81.25 − 50) % · 5000 Wh = 1562.5 → 1563 Wh.
  assert.equal(
    a.reason,
    "Normal: no forecast. Battery at 81 % from voltage (1563 Wh above the 50 % reserve) lasts " +
      "10.4 h (mean load 150 W, no solar counted); fuel lasts more than a week on this plan; " +
      "no outage expected within a week. Weather: no key. " +
      "Start the generator at 50 %, stop at 90 %, cycle-charging.",
  );
});

Deno.test("encodeLegacyCommand() of the reference advice has exactly the first-generation keys", () => {
  const c = commandFromAdvice(reference(), {
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
  // 1562.5 / 150 = 10.4167 → 10.42 at two decimals; the tank outlasts the 168 h cap.
  assert.deepEqual(m, {
    mode: "Normal",
    weather_forecast: "Unknown",
    predicted_battery_hours: 10.42,
    predicted_diesel_hours: 168,
  });
});

Deno.test("computeAdvice() is conservative when the forecast is cloudy", () => {
  const a = advise(legacy, referenceRecord, { socPct: 81.25, weather: CLOUDY });
  assert.equal(a.mode, "conservative");
  assert.equal(a.genStartSocPct, 50);
  assert.equal(a.genStopSocPct, 95);
  // The outlook is the conservative plan's: 50 → 95 % = 2250 Wh at 950 W = 2.36842 h a run.
  // Starts at 10.4167 h and, 2.36842 + 2250 / 150 = 17.3684 h later, at 27.7851 and 45.1535 h;
  // the third run ends at 47.5219 h, inside the 48 h horizon: 3 · 2.36842 = 7.10526 h.
  assert.ok(Math.abs(a.outlook.forecast.generatorH.p50 - 3 * 2250 / 950) < 1e-9);
});

Deno.test("computeAdvice() is conservative when even the median lasts but the P10 is under 6 h", () => {
  // SoC 81.25 ± 16 % (uniform): usable 15.25 .. 47.25 % of 5000 Wh at 200 W = 3.8125 .. 11.8125 h.
  // The median, 7.8 h, is ≥ 6 h; the 10th percentile, 3.8125 + 0.1 · 8 = 4.61 h, is not.
  const a = advise(legacy, { ...referenceRecord, loadW: 200 }, {
    socPct: 81.25,
    uncertaintyPct: 16,
    weather: CLEAR,
  });
  const b = a.outlook.forecast.batteryH;
  // 100 draws: a sample quantile q has a standard error of √(q(1 − q) / 100) percentile
  // points (3 at P10, 5 at P50); allow two of them.
  assert.ok(b.p10 > 3.8125 + 0.04 * 8 && b.p10 < 3.8125 + 0.16 * 8, `${b.p10}`);
  assert.ok(b.p50 > 3.8125 + 0.4 * 8 && b.p50 < 3.8125 + 0.6 * 8, `${b.p50}`);
  assert.equal(a.mode, "conservative");
  assert.match(a.reason, /^Conservative: the battery may have under 6 h left\. /);
  assert.match(a.reason, /lasts 7\.\d h \(P10 4\.\d h\)/);
});

Deno.test("computeAdvice() chooses eco when clear, battery ≥ 12 h and diesel ≥ 24 h", () => {
  // Battery: (80 − 20) % · 10 000 Wh / 400 W = 15 h. Under normal dispatch the 10 kW set runs at
  // its 3 kW minimum (400 + 2000 W charging): 0.0332·10 + 0.2728·3 = 1.1504 L/h for
  // 5000 Wh / 1900 W = 2.63 h a cycle of 15.13 h: 90 L above the reserve last far beyond a day.
  const a = advise(clinic, clinicRecord({}), { socPct: 80, weather: CLEAR });
  assert.ok(Math.abs(a.predictedBatteryH - 15) < 1e-9);
  assert.equal(a.predictedDieselH, 168);
  assert.equal(a.mode, "eco");
  assert.equal(a.genStartSocPct, 30);
  assert.equal(a.genStopSocPct, 85);
  assert.equal(a.reserveSocPct, 20);
});

Deno.test("computeAdvice() stays normal when the tank cannot start the generator within a day", () => {
  // 6 % of 200 L = 12 L, under the restart level (5 % reserve + 2 % margin) · 200 L = 14 L: at
  // 40 % (after 4000 Wh / 400 W = 10 h) the start is refused → tank hours 10 < 24 → normal.
  // With no generator the battery falls to LiFePO4's critical 5 % after 7500 / 400 = 18.75 h.
  const a = advise(clinic, clinicRecord({ fuelPct: 6 }), { socPct: 80, weather: CLEAR });
  assert.ok(Math.abs(a.predictedDieselH - 10) < 1e-9, `${a.predictedDieselH}`);
  assert.equal(a.mode, "normal");
  assert.equal(a.genStartSocPct, 40);
  assert.equal(a.genStopSocPct, 90);
  const outage = a.outlook.forecast.outageAt.p50;
  assert.equal(outage?.getTime(), NOW.getTime() + 18.75 * HOUR_MS);
  assert.match(a.reason, /outage possible from 2026-11-21T04:45Z\./);
});

Deno.test("computeAdvice() predicts from the load forecast, not the latest spike", () => {
  // Latest sample 1200 W, forecast 400 W: 6000 Wh / 400 W = 15 h (not 6000 / 1200 = 5 h).
  const a = advise(clinic, clinicRecord({ loadW: 1200 }), { socPct: 80, loadW: 400 });
  assert.ok(Math.abs(a.predictedBatteryH - 15) < 1e-9);
});

Deno.test("computeAdvice() follows the load when the sun will carry it, and says since when", () => {
  // PV 2000 W against a 1681 W load: the battery never drains (a week or more), the sun covers
  // the load now, and a day of PV (48 kWh) beats a day of load (40.3 kWh) → load following.
  const a = advise(clinic, clinicRecord({ loadW: 1681 }), {
    socPct: 100,
    pv: constantPv(2000),
    weather: UNKNOWN,
  });
  assert.equal(a.predictedBatteryH, 168);
  assert.equal(a.strategy, "load-following");
  assert.equal(a.pvCoversLoadAt?.getTime(), NOW.getTime());
  assert.match(
    a.reason,
    /Battery at 100 % \(8000 Wh above the 20 % reserve\) lasts more than a week \(mean load 1681 W, solar 2000 W\); /,
  );
  assert.match(a.reason, /, load-following\.$/);
});

Deno.test("computeAdvice() finds when the pessimistic sun first carries the load for an hour", () => {
  // No sun for 3 h, then 1000 W. With a 20 % PV error the P10 sun is 1000 · (1 − 1.2816 · 0.2)
  // = 743.7 W ≥ the 400 W load, from +3 h on; a fallback forecast gives no such time.
  const dawn = NOW.getTime() + 3 * HOUR_MS;
  const pv: PvForecast = { powerW: (t) => (t.getTime() >= dawn ? 1000 : 0), relUncertainty: 0.2 };
  const a = advise(clinic, clinicRecord({}), { socPct: 80, pv });
  assert.equal(a.pvCoversLoadAt?.getTime(), dawn);
  const fallback = advise(clinic, clinicRecord({}), { socPct: 80, pv, pvIsFallback: true });
  assert.equal(fallback.pvCoversLoadAt, null);
  // 1000 W by day is under half what the load needs over a day? 24 h of 400 W = 9.6 kWh;
  // 21 h of 1000 W = 21 kWh ≥ 9.6 → load following.
  assert.equal(a.strategy, "load-following");
  // PV too weak for the load: 100 W against 400 W never covers it, and cycle charging stays.
  const weak = advise(clinic, clinicRecord({}), { socPct: 80, pv: constantPv(100) });
  assert.equal(weak.pvCoversLoadAt, null);
  assert.equal(weak.strategy, "cycle-charging");
});

Deno.test("computeAdvice() gives the battery time at the load net of solar", () => {
  // 6000 Wh / (1900 − 219) W = 6000 / 1681 = 3.569 h → "3.6 h", under 6 h → conservative.
  const a = advise(clinic, clinicRecord({}), { socPct: 80, loadW: 1900, pv: constantPv(219) });
  assert.ok(Math.abs(a.predictedBatteryH - 6000 / 1681) < 1e-9);
  assert.equal(a.mode, "conservative");
  assert.match(
    a.reason,
    /Battery at 80 % \(6000 Wh above the 20 % reserve\) lasts 3\.6 h \(mean load 1900 W, solar 219 W\); /,
  );
});

Deno.test("computeAdvice() says more than a week where a prediction hits the 168 h cap", () => {
  // Battery: 6000 Wh / (420 − 400) W = 300 h, capped at 168 h. The generator would start at
  // 40 % after 4000 / 20 = 200 h: the tank is untouched within the week → 168 h.
  const a = advise(clinic, clinicRecord({ fuelPct: 100 }), {
    socPct: 80,
    loadW: 420,
    pv: constantPv(400),
  });
  assert.equal(a.predictedBatteryH, 168);
  assert.equal(a.predictedDieselH, 168);
  assert.match(
    a.reason,
    /lasts more than a week \(mean load 420 W, solar 400 W\); fuel lasts more than a week on this plan;/,
  );
  assert.doesNotMatch(a.reason, /168/);
});

Deno.test("computeAdvice() says when the battery is at its reserve or the fuel level is unknown", () => {
  const a = advise(clinic, clinicRecord({ socPct: 20, fuelPct: null }), { socPct: 20 });
  assert.equal(a.predictedBatteryH, 0);
  assert.equal(a.predictedDieselH, 0);
  assert.match(
    a.reason,
    /Battery at 20 % is at or below the 20 % reserve; fuel level not reported; /,
  );
});

Deno.test("computeAdvice() shows the SoC band and shortens a long weather reason to fit", () => {
  // StrategicCommand.reason holds at most 500 characters; the thresholds must survive.
  const a = advise(clinic, clinicRecord({}), {
    socPct: 80,
    uncertaintyPct: 3,
    weather: { ...CLEAR, reason: "x".repeat(600) },
  });
  assert.match(a.reason, /Battery at 80 ± 3 % \(/);
  assert.equal(a.reason.length, 500);
  assert.match(a.reason, /x…\. Start the generator at 30 %, stop at 85 %, cycle-charging\.$/);
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
  const base = advise(clinic, clinicRecord({}), { socPct: 80, weather: CLEAR });
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
  assert.equal(adviceChanged(base, { ...base, strategy: "load-following" }), true);
  // The PV-cover time appearing is news; moving by 30 min is not, by 31 min it is.
  const at = (min: number) => new Date(NOW.getTime() + min * 60_000);
  assert.equal(adviceChanged(base, { ...base, pvCoversLoadAt: at(120) }), true);
  assert.equal(
    adviceChanged({ ...base, pvCoversLoadAt: at(120) }, { ...base, pvCoversLoadAt: at(150) }),
    false,
  );
  assert.equal(
    adviceChanged({ ...base, pvCoversLoadAt: at(120) }, { ...base, pvCoversLoadAt: at(151) }),
    true,
  );
  // 15 h → 16.4 h: moved 1.4 h < 10 % of 15 = 1.5 h → no.
  assert.equal(adviceChanged(base, withHours(16.4)), false);
  // 15 h → 16.6 h: 1.6 h > 1.5 h and > 0.5 h → yes.
  assert.equal(adviceChanged(base, withHours(16.6)), true);
  // 2 h → 2.4 h: 0.4 h is 20 % but under 0.5 h → no.
  assert.equal(adviceChanged(withHours(2), withHours(2.4)), false);
  // Diesel 168 h → 150 h: 18 h > 16.8 h → yes; → 152 h: 16 h < 16.8 h → no.
  assert.equal(adviceChanged(base, withHours(15, 150)), true);
  assert.equal(adviceChanged(base, withHours(15, 152)), false);
});

Deno.test("commandFromAdvice() makes a v1 command that decodes back", () => {
  const pv: PvForecast = {
    powerW: (t) => (t.getTime() >= NOW.getTime() + 2 * HOUR_MS ? 5000 : 0),
    relUncertainty: 0,
  };
  const a = advise(clinic, clinicRecord({}), { socPct: 80, weather: CLEAR, pv });
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
  // From +2 h the sun carries the load: the battery never reaches its reserve.
  assert.equal(decoded.command.predictedBatteryH, 168);
  assert.equal(decoded.command.predictedDieselH, 168);
  assert.equal(decoded.command.strategy, "load-following");
  assert.equal(decoded.command.pvCoversLoadAt?.toISOString(), "2026-11-20T12:00:00.000Z");
  // One scenario (nothing uncertain): the bands collapse onto the medians; no outage in a week.
  assert.deepEqual(decoded.command.batteryBandH, { p10: 168, p90: 168 });
  assert.deepEqual(decoded.command.dieselBandH, { p10: 168, p90: 168 });
  assert.equal(decoded.command.nextOutageAt, undefined);
});

Deno.test("heldAdvice() keeps every field of the advice and builds the same reason text", () => {
  const cases = [
    reference(),
    advise(legacy, referenceRecord, { socPct: 81.25, weather: CLOUDY }),
    // A clinic with PV and a fuel reading: the solar and fuel sentences and a diesel band.
    advise(clinic, clinicRecord({}), { socPct: 64, uncertaintyPct: 7, pv: constantPv(900) }),
  ];
  for (const planned of cases) {
    const held = heldAdvice(planned);
    assert.equal("outlook" in held, false);
    const { outlook: _outlook, reasonFacts: _facts, ...fields } = planned;
    for (const [key, value] of Object.entries(fields)) {
      assert.deepEqual(held[key as keyof typeof held], value, key);
    }
    // The command needs only the forecast's battery band and first outage, which advice keeps.
    assert.deepEqual(held.batteryBandH, {
      p10: planned.outlook.forecast.batteryH.p10,
      p90: planned.outlook.forecast.batteryH.p90,
    });
    assert.equal(held.nextOutageAt?.getTime(), planned.outlook.forecast.outageAt.p10?.getTime());
  }
  assert.match(cases[2]!.reason, /fuel lasts/);
});
