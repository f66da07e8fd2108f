import assert from "node:assert/strict";
import { parseOpenMeteoForecast } from "../../src/core/open_meteo.ts";
import { clearSkyMeanGhiWm2, solarNoonUtc } from "../../src/core/solar.ts";
import {
  classifySolarForecast,
  climatologySolarForecast,
  CLOUDY_IRRADIANCE_RATIO,
  forecastStart,
  pvForecastW,
  SOLAR_FORECAST_HOURS,
  type SolarForecast,
  solarForecastFromOpenMeteo,
  solarForecastFromOpenWeather,
  TYPICAL_CLEAR_SKY_INDEX,
} from "../../src/core/solar_forecast.ts";
import { parseOpenWeatherForecast } from "../../src/core/weather.ts";
import { BAUCHI, loadBauchi } from "../_helpers/bauchi.ts";

const PAYLOADS = "../../../shared/data/payloads/";
const BERLIN_FILE = new URL(
  `${PAYLOADS}open-meteo-forecast-berlin-2023-01-01-real.json`,
  import.meta.url,
);
const OWM_FILE = new URL(`${PAYLOADS}owm-2.5-forecast-doc-example.json`, import.meta.url);
const BERLIN = { latitude: 52.52, longitude: 13.42 };
const ZOCCA = { latitude: 44.34, longitude: 10.99 };
const HOUR_MS = 3_600_000;

function near(actual: number, expected: number, tolerance: number, what: string) {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

async function berlinForecast(now: Date): Promise<SolarForecast> {
  const parsed = parseOpenMeteoForecast(JSON.parse(await Deno.readTextFile(BERLIN_FILE)));
  assert.ok(parsed.ok);
  return solarForecastFromOpenMeteo(parsed.steps, BERLIN, { now, issuedAt: now });
}

Deno.test("forecastStart() is the start of the UTC hour that holds now", () => {
  assert.equal(
    forecastStart(new Date("2023-01-01T11:59:59.999Z")).toISOString(),
    "2023-01-01T11:00:00.000Z",
  );
});

Deno.test("solarForecastFromOpenMeteo() moves each preceding-hour mean to the hour it describes", async () => {
  const f = await berlinForecast(new Date("2023-01-01T00:20:00Z"));
  assert.equal(f.source, "open-meteo");
  assert.equal(f.fallback, false);
  assert.equal(f.hours.length, SOLAR_FORECAST_HOURS);
  assert.equal(f.hours[0]!.start.toISOString(), "2023-01-01T00:00:00.000Z");
  // The hour 11:00–12:00 takes shortwave_radiation stamped 12:00 (111 W/m²); its cloud and
  // temperature are the means of the instants at 11:00 and 12:00: (100 + 100) / 2 = 100 %,
  // (15.2 + 15.8) / 2 = 15.5 °C.
  const h11 = f.hours[11]!;
  assert.deepEqual([h11.ghiWm2, h11.cloudPct, h11.tempC], [111, 100, 15.5]);
  assert.equal(f.hours[12]!.ghiWm2, 95);
  // Berlin's sun sets at 16:02 CET (15:02 UTC) on 1 January: the model's light in the hour
  // 15:00–16:00 is nil and so is the irradiance stamped 16:00; read without the shift, the
  // 16 W/m² stamped 15:00 would fall in an hour with no sun.
  assert.equal(f.hours[15]!.ghiWm2, 0);
  assert.ok(f.hours[15]!.clearGhiWm2 < 1, `${f.hours[15]!.clearGhiWm2}`);
  assert.equal(f.hours[14]!.ghiWm2, 16);
  assert.ok(f.hours[14]!.clearGhiWm2 > 16, `${f.hours[14]!.clearGhiWm2}`);
  // And at dawn: the 6 W/m² stamped 08:00 is the hour 07:00–08:00, which Haurwitz also sees
  // nearly dark (under 10 W/m²), while 08:00–09:00 is well lit.
  assert.equal(f.hours[7]!.ghiWm2, 6);
  assert.ok(f.hours[7]!.clearGhiWm2 < 10 && f.hours[8]!.clearGhiWm2 > 50);
});

Deno.test("solarForecastFromOpenMeteo() fills hours past the reply from cloud cover, then climatology", async () => {
  const f = await berlinForecast(new Date("2023-01-01T12:00:00Z"));
  // The reply ends at the stamp 2023-01-02T23:00. The hour that starts there has its cloud
  // cover (86 %) but no irradiance: Kasten–Czeplak on a clear sky of 0 at night gives 0.
  const lastWithData = f.hours.find((h) => h.start.toISOString() === "2023-01-02T23:00:00.000Z")!;
  assert.deepEqual([lastWithData.cloudPct, lastWithData.ghiWm2, lastWithData.climatology], [
    86,
    0,
    false,
  ]);
  // The following 12 hours (to 2023-01-03T12:00) have nothing: clear sky × 0.75.
  const filled = f.hours.filter((h) => h.climatology);
  assert.equal(filled.length, 12);
  for (const h of filled) near(h.ghiWm2, h.clearGhiWm2 * 0.75, 1e-9, h.start.toISOString());
});

Deno.test("classifySolarForecast() calls Berlin's overcast New Year's Day cloudy", async () => {
  const now = new Date("2023-01-01T00:00:00Z");
  const c = classifySolarForecast(await berlinForecast(now), { now, horizonH: 24 });
  // Irradiance of the 24 hours: stamps 08:00..15:00 = 6 + 30 + 50 + 76 + 111 + 95 + 44 + 16 =
  // 428 Wh/m², against about 984 Wh/m² of clear sky: 44 % ≤ 71.8 % → cloudy.
  assert.equal(c.forecast, "cloudy");
  assert.match(c.reason, /^cloudy: sunshine 44 % of clear sky over the next 24 h$/);
  // Mean hourly cloud: (100/2 + the 23 stamps 01..23 + 100/2) / 24; the stamps 00..23 sum to
  // 2400 − (1 + 91 + 2 + 1) = 2305, so (2305 − 100 + 50 + 50) / 24 = 96.04 %.
  near(c.meanCloudPct!, 96.042, 0.001, "mean cloud");
});

Deno.test("classifySolarForecast() draws the line at Kasten–Czeplak's 75 % cloud, 0.718 of clear", () => {
  const now = new Date("2022-03-20T00:00:00Z");
  const scaled = (factor: number): SolarForecast => {
    const base = climatologySolarForecast(BAUCHI, { now, reason: "test" });
    return {
      ...base,
      source: "open-meteo",
      fallback: false,
      hours: base.hours.map((h) => ({ ...h, ghiWm2: h.clearGhiWm2 * factor, climatology: false })),
    };
  };
  // 1 − 0.75 · 0.75^3.4 = 0.71799.
  near(CLOUDY_IRRADIANCE_RATIO, 0.71799, 1e-5, "threshold");
  assert.equal(classifySolarForecast(scaled(0.7), { now, horizonH: 24 }).forecast, "cloudy");
  assert.equal(classifySolarForecast(scaled(0.75), { now, horizonH: 24 }).forecast, "clear");
  // A fallback is never a forecast.
  const fallback = climatologySolarForecast(BAUCHI, { now, reason: "Open-Meteo timed out" });
  const c = classifySolarForecast(fallback, { now, horizonH: 24 });
  assert.equal(c.forecast, "unknown");
  assert.match(c.reason, /Open-Meteo timed out; assuming clear sky × 0.75/);
  // More than half the window's clear sky from the climatology: unknown.
  const mostlyFilled = scaled(0.5);
  mostlyFilled.hours = mostlyFilled.hours.map((h, i) => ({ ...h, climatology: i >= 6 }));
  assert.equal(classifySolarForecast(mostlyFilled, { now, horizonH: 24 }).forecast, "unknown");
});

Deno.test("solarForecastFromOpenWeather() interpolates the 3-hour clouds and applies Kasten–Czeplak", async () => {
  const parsed = parseOpenWeatherForecast(JSON.parse(await Deno.readTextFile(OWM_FILE)));
  assert.ok(parsed.ok);
  const now = new Date("2022-08-30T15:00:00Z");
  const f = solarForecastFromOpenWeather(parsed.items, ZOCCA, { now, issuedAt: now });
  assert.equal(f.source, "openweathermap");
  // 15:00–16:00: at its middle, a sixth of the way from 100 % (15:00) to 96 % (18:00):
  // 100 − 4 · 0.5 / 3 = 99.333 %; factor 1 − 0.75 · 0.99333^3.4 = 1 − 0.75 · 0.97751 = 0.26687.
  const h = f.hours[0]!;
  near(h.cloudPct!, 99.333, 0.001, "cloud");
  near(h.ghiWm2, h.clearGhiWm2 * 0.26687, 0.01, "GHI");
  // Temperature likewise: 296.76 K → 295.45 K is 23.61 → 22.30 °C; a sixth: 23.392 °C.
  near(h.tempC!, 23.392, 0.001, "temperature");
  // OpenWeatherMap's own sunset for Zocca is 17:57 UTC (city.sunset 1661882248): the hour
  // 17:00–18:00 still has some clear sky, 18:00–19:00 none.
  assert.ok(f.hours[2]!.clearGhiWm2 > 0 && f.hours[3]!.clearGhiWm2 === 0);
  // 21:00 (68 %) is followed by 4 Sep 12:00: no interpolation across a 4-day gap. 21:30 and
  // 22:30 hold 68 %; from 23:00 on the hours are climatology.
  assert.deepEqual(f.hours.slice(6, 9).map((x) => [x.cloudPct, x.climatology]), [
    [68, false],
    [68, false],
    [null, true],
  ]);
});

Deno.test("climatologySolarForecast() is clear sky × 0.75, flagged, and 0.75 fits Bauchi's year", async () => {
  const now = new Date("2022-03-20T10:30:00Z");
  const f = climatologySolarForecast(BAUCHI, { now, reason: "offline" });
  assert.equal(f.source, "clear-sky-climatology");
  assert.equal(f.fallback, true);
  assert.equal(f.issuedAt, null);
  assert.equal(f.hours[0]!.start.toISOString(), "2022-03-20T10:00:00.000Z");
  for (const h of f.hours) assert.equal(h.ghiWm2, h.clearGhiWm2 * TYPICAL_CLEAR_SKY_INDEX);
  // Bauchi, the whole measured year: Σ max(0, measured) / Σ Haurwitz = 2024 / 2648 kWh/m² =
  // 0.764, within 0.02 of 0.75 (185 / 247 W/m², Wild et al.). Its months range 0.55 (August)
  // to 0.94 (November): right on the year, not on a given day.
  let measuredWh = 0, clearWh = 0;
  for (const hour of await loadBauchi()) {
    measuredWh += Math.max(0, hour.ghiMeanWm2);
    clearWh += clearSkyMeanGhiWm2(BAUCHI, { start: hour.start, durationS: 3600 });
  }
  near(measuredWh / 1000, 2024, 1, "measured kWh/m²");
  near(measuredWh / clearWh, TYPICAL_CLEAR_SKY_INDEX, 0.02, "clear-sky index");
});

Deno.test("pvForecastW() shapes an hour's irradiance by the clear-sky curve and derates for heat", () => {
  // One hand-made hour around Bauchi's solar noon on 20 March 2022 (11:28:04 UTC), where
  // Haurwitz gives 1019.22 W/m² (solar_test.ts). The hour says: mean 500 W/m² under a clear
  // mean of 1000 W/m², 30 °C.
  const noon = solarNoonUtc(BAUCHI.longitude, new Date("2022-03-20T00:00:00Z"));
  const start = forecastStart(noon);
  const forecast: SolarForecast = {
    source: "open-meteo",
    fallback: false,
    reason: "test",
    issuedAt: start,
    ...BAUCHI,
    hours: [{
      start,
      ghiWm2: 500,
      clearGhiWm2: 1000,
      cloudPct: 50,
      tempC: 30,
      climatology: false,
    }],
  };
  const pv = pvForecastW(forecast, { kwp: 2 });
  // G = 500 · 1019.22 / 1000 = 509.61 W/m²; cell 30 + 25 · 509.61 / 800 = 45.925 °C;
  // derate 1 − 0.004 · 20.925 = 0.91630; 2 · 1000 · 0.50961 · 0.825 · 0.91630 = 770.49 W.
  near(pv(noon), 770.49, 0.05, "noon");
  // Past the forecast: clear sky × 0.75 at 25 °C; at midnight nothing.
  assert.equal(pv(new Date(start.getTime() + 13 * HOUR_MS)), 0);
  assert.throws(() => pvForecastW(forecast, { kwp: -2 }), /kwp: -2/);
});

Deno.test("pvForecastW() keeps an hour's energy when it shapes it", async () => {
  const f = await berlinForecast(new Date("2023-01-01T00:00:00Z"));
  const pv = pvForecastW(f, { kwp: 1, performanceRatio: 1, tempCoeffPerC: 0 });
  // With PR 1 and no temperature loss, P = GHI · 1 kWp / 1000 W/m²: the 60 one-minute
  // samples of the hour 10:00–11:00 must average its 76 W/m², i.e. 76 W.
  const startMs = Date.parse("2023-01-01T10:00:00Z");
  let sum = 0;
  for (let i = 0; i < 60; i++) sum += pv(new Date(startMs + (i + 0.5) * 60_000));
  near(sum / 60, 76, 0.5, "hour mean");
});
