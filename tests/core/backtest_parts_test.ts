import assert from "node:assert/strict";
import { clearSkyHours, persistenceSolarForecast } from "../../src/core/backtest_forecast.ts";
import { type PredictionRecord, predictionStats } from "../../src/core/backtest_metrics.ts";
import { alignSeries, type BacktestSeries, loadDayFor } from "../../src/core/backtest_series.ts";
import { hoursToReserve } from "../../src/core/backtest_truth.ts";
import { KasiError } from "../../src/core/errors.ts";
import { initialSimState, type SimSite } from "../../src/core/simulator.ts";
import { parseBauchiSolar, parseOuessantLoad } from "../../src/cli/backtest_data.ts";

const DATA = new URL("../../../shared/data/", import.meta.url);
const load = parseOuessantLoad(
  await Deno.readTextFile(new URL("ouessant-island-load-pv-hourly-2016.csv", DATA)),
);
const solar = parseBauchiSolar(
  await Deno.readTextFile(new URL("nigeria-bauchi-esmap-ghi-hourly.csv", DATA)),
);

function near(actual: number, expected: number, tolerance: number, what: string) {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

Deno.test("loadDayFor() takes the same weekday nearest the same date, wrapped by 52 weeks", () => {
  const ouessant = { firstDayMs: Date.UTC(2016, 0, 1), lastDayMs: Date.UTC(2016, 11, 30) };
  // 2021-09-20 is a Monday; 2016-09-20 a Tuesday: the Monday before, 2016-09-19.
  assert.equal(loadDayFor(Date.UTC(2021, 8, 20), ouessant), Date.UTC(2016, 8, 19));
  // 2022-01-01 is a Saturday; 2016-01-01 a Friday: the Saturday after, 2016-01-02.
  assert.equal(loadDayFor(Date.UTC(2022, 0, 1), ouessant), Date.UTC(2016, 0, 2));
  // 2021-12-31 (Friday) → 2016-12-31 is a Saturday → Friday 2016-12-30, the file's last day.
  assert.equal(loadDayFor(Date.UTC(2021, 11, 31), ouessant), Date.UTC(2016, 11, 30));
  // 2022-08-01 and 2016-08-01 are both Mondays.
  assert.equal(loadDayFor(Date.UTC(2022, 7, 1), ouessant), Date.UTC(2016, 7, 1));
  // Dates whose same weekday falls outside the file wrap by 364 days: Thursday 2015-01-01 →
  // Thursday 2015-12-31 → 2016-12-29; Saturday 2022-12-31 → 2016-12-31 → 2016-01-02.
  assert.equal(loadDayFor(Date.UTC(2015, 0, 1), ouessant), Date.UTC(2016, 11, 29));
  assert.equal(loadDayFor(Date.UTC(2022, 11, 31), ouessant), Date.UTC(2016, 0, 2));
});

Deno.test("alignSeries() puts Ouessant's load on Bauchi's hours, scaled to the stated mean", () => {
  // The 8,760 Ouessant hours sum to 6,774,979 kW·h: mean 773.3994 kW; 200 W / 773.3994 kW =
  // 0.258599 W per kW.
  const s = alignSeries(load, solar, { meanLoadW: 200, utcOffsetMin: 60 });
  near(s.loadScale * 1000, 0.258599, 1e-6, "scale");
  // The first local midnight of the Bauchi file is 2021-09-20 00:00 local = 2021-09-19 23:00 UTC,
  // 365 whole days (8,761 rows from that midnight to the next year's).
  assert.equal(new Date(s.startMs).toISOString(), "2021-09-19T23:00:00.000Z");
  assert.equal(s.hours, 365 * 24);
  // 13:00 local on 2021-09-20 takes Ouessant's 2016-09-19 13:00, 579 kW → 149.73 W, and the
  // Bauchi row "2021-09-20 13:00:00": GHI 752.9 W/m², 31.9 °C.
  assert.ok(Math.abs(s.loadW[13]! - 579 * 0.2585986) < 1e-3, `${s.loadW[13]}`);
  assert.deepEqual([s.ghiWm2[13], s.ambientC[13]], [752.9, 31.9]);
  // 2022-01-01 12:00 local (hour 103 · 24 + 12 of the timeline) takes 2016-01-02 12:00, 1273 kW;
  // Bauchi's row reads 870.0 W/m², 28.6 °C.
  const i = 103 * 24 + 12;
  assert.ok(Math.abs(s.loadW[i]! - 1273 * 0.2585986) < 1e-3, `${s.loadW[i]}`);
  assert.deepEqual([s.ghiWm2[i], s.ambientC[i]], [870, 28.6]);
});

Deno.test("alignSeries() names a window the solar series does not hold", () => {
  assert.throws(
    () =>
      alignSeries(load, solar, {
        meanLoadW: 200,
        utcOffsetMin: 60,
        startLocal: new Date("2022-09-10T00:00:00Z"),
        days: 14,
      }),
    (e: unknown) =>
      e instanceof KasiError &&
      e.message === "the solar series holds 10 whole days from 2022-09-10, not 14",
  );
  assert.throws(
    () => alignSeries(load, solar, { meanLoadW: 0, utcOffsetMin: 60 }),
    /meanLoadW must be a number of W > 0, got 0/,
  );
});

function flatSeries(hours: number, o: { loadW: number; ghiWm2: number }): BacktestSeries {
  return {
    startMs: Date.UTC(2026, 2, 20),
    hours,
    loadW: new Float64Array(hours).fill(o.loadW),
    ghiWm2: new Float64Array(hours).fill(o.ghiWm2),
    ambientC: new Float64Array(hours).fill(25),
    loadScale: 1,
    utcOffsetMin: 0,
  };
}

/** 12 V 2560 Wh LiFePO4 (213.33 Ah, I_5 = 42.667 A), no resistance, no PV. */
const LFP: SimSite = {
  profile: {
    siteId: "truth",
    chemistry: "lifepo4",
    nominalV: 12,
    capacityWh: 2560,
    reserveSocPct: 31,
    tankL: 0,
    generatorRatedKw: 0,
    pvKwp: 0,
    latitude: 0,
    longitude: 0,
    timeZone: "UTC",
  },
  load: { baseW: 0, daytimeW: 0, eveningW: 0, noiseFrac: 0 },
  internalResistanceOhm: 0,
  chargeCRate: 0.2,
  seed: 1,
};

Deno.test("hoursToReserve() replays the battery alone to its reserve", () => {
  // 256 W from 53 % to 31 %: between those table points the OCV is linear, 3.272 → 3.24 V/cell
  // (13.088 → 12.96 V). I = P / V and Peukert (k 1.05, 5 h) drain dx/dt = −I^1.05 / (I_5^0.05 C),
  // so t = C · I_5^0.05 / P^1.05 · ∫ V^1.05 dx = 213.33 · 42.667^0.05 / 256^1.05 ·
  // (13.088^2.05 − 12.96^2.05) / (2.05 · 0.128 / 0.22) = 213.33 · 1.20650 / 337.82 · 3.2614 =
  // 2.4850 h. (Lossless it would be 0.22 · 213.33 Ah / 19.66 A = 2.387 h.)
  const series = flatSeries(24, { loadW: 256, ghiWm2: 0 });
  const state = initialSimState(LFP, { socPct: 53, fuelPct: 0 });
  const h = hoursToReserve(LFP, series, state, { fromStep: 0, stepS: 300, reserveSocPct: 31 });
  near(h!, 2.485, 0.005, "hours");
  // At or below the reserve already: 0 h.
  assert.equal(
    hoursToReserve(LFP, series, { ...state, socPct: 31 }, {
      fromStep: 0,
      stepS: 300,
      reserveSocPct: 31,
    }),
    0,
  );
  // The series ends after 2 h: the truth is unknown (null), not 2 h.
  assert.equal(
    hoursToReserve(LFP, flatSeries(2, { loadW: 256, ghiWm2: 0 }), state, {
      fromStep: 0,
      stepS: 300,
      reserveSocPct: 31,
    }),
    null,
  );
  // No load for a week and more: capped at 168 h.
  assert.equal(
    hoursToReserve(LFP, flatSeries(200, { loadW: 0, ghiWm2: 0 }), state, {
      fromStep: 0,
      stepS: 300,
      reserveSocPct: 31,
    }),
    168,
  );
});

Deno.test("persistenceSolarForecast() applies the last 24 h's clear-sky index to the next 48 h", () => {
  const location = { latitude: 10.3158, longitude: 9.8442 };
  const base = flatSeries(96, { loadW: 0, ghiWm2: 0 });
  const clear = clearSkyHours(base, location);
  // Measured = 0.6 × clear sky over the first day: index 0.6.
  const series = { ...base, ghiWm2: clear.slice(0, 96).map((g) => 0.6 * g) };
  const { forecast, clearSkyIndex } = persistenceSolarForecast(series, clear, {
    hour: 24,
    location,
  });
  near(clearSkyIndex!, 0.6, 1e-12, "index");
  assert.equal(forecast.hours.length, 48);
  assert.equal(forecast.fallback, false);
  for (const [j, h] of forecast.hours.entries()) {
    near(h.ghiWm2, 0.6 * clear[24 + j]!, 1e-9, `hour ${j}`);
    assert.equal(h.tempC, 25);
  }
  // Before a day of history: the backend's fallback, clear sky × 0.75, flagged.
  const first = persistenceSolarForecast(series, clear, { hour: 3, location });
  assert.equal(first.clearSkyIndex, null);
  assert.equal(first.forecast.fallback, true);
  near(first.forecast.hours[10]!.ghiWm2, 0.75 * clear[13]!, 1e-9, "fallback");
});

Deno.test("predictionStats() scores P50 and band against the truth, censored plans aside", () => {
  const at = new Date(0);
  const r = (
    socPct: number,
    p50H: number,
    truthH: number | null,
    band = true,
  ): PredictionRecord => ({
    time: at,
    socPct,
    p50H,
    p10H: band ? p50H - 2 : null,
    p90H: band ? p50H + 2 : null,
    truthH,
  });
  // Errors +1, −3, +5, 0 (the last at the reserve, SoC 50): MAE 9 / 4 = 2.25 h, bias 3 / 4 =
  // 0.75 h; |errors| sorted 0, 1, 3, 5: P90 at position 2.7 = 3 + 0.7 · 2 = 4.4 h. Inside
  // ±2 h: +1 and 0 → 2 of 4. One plan has no truth: censored.
  const stats = predictionStats([
    r(80, 10, 9),
    r(70, 5, 8),
    r(60, 20, 15),
    r(50, 0, 0),
    r(90, 1, null),
  ], {
    reserveSocPct: 50,
  });
  assert.deepEqual([stats.plans, stats.censored, stats.all.scored], [5, 1, 4]);
  near(stats.all.maeH, 2.25, 1e-12, "MAE");
  near(stats.all.biasH, 0.75, 1e-12, "bias");
  near(stats.all.p90AbsErrorH, 4.4, 1e-12, "P90");
  assert.equal(stats.all.coverage, 0.5);
  // Above the reserve only: the first three, MAE 3 h, coverage 1 of 3.
  near(stats.aboveReserve.maeH, 3, 1e-12, "MAE above reserve");
  near(stats.aboveReserve.coverage!, 1 / 3, 1e-12, "coverage above reserve");
  // Without a band: no coverage.
  assert.equal(predictionStats([r(80, 1, 2, false)], { reserveSocPct: 50 }).all.coverage, null);
});
