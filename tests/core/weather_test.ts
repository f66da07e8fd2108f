import assert from "node:assert/strict";
import {
  classifyForecast,
  CLOUDY_MEAN_CLOUD_PCT,
  type ForecastItem,
  parseOpenWeatherForecast,
} from "../../src/core/weather.ts";

const DOC_EXAMPLE = new URL(
  "../../../shared/data/payloads/owm-2.5-forecast-doc-example.json",
  import.meta.url,
);

async function docExample(): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(DOC_EXAMPLE));
}

function item(isoTime: string, cloudPct: number): ForecastItem {
  return { time: new Date(isoTime), cloudPct, tempC: 20, pop: null, rainMm: null };
}

Deno.test("parseOpenWeatherForecast() reads the documented example: dt, clouds, kelvin, rain", async () => {
  const result = parseOpenWeatherForecast(await docExample());
  assert.ok(result.ok, result.ok ? "" : result.reason);
  // `cnt` says 40 but the example lists 4 items: the list is what counts.
  assert.equal(result.items.length, 4);
  const first = result.items[0]!;
  // dt 1661871600 s = 2022-08-30T15:00:00Z (its dt_txt "2022-08-30 15:00:00" read as UTC).
  assert.equal(first.time.toISOString(), "2022-08-30T15:00:00.000Z");
  assert.equal(first.cloudPct, 100);
  // 296.76 K − 273.15 = 23.61 °C.
  assert.ok(Math.abs(first.tempC - 23.61) < 1e-9);
  assert.equal(first.pop, 0.32);
  assert.equal(first.rainMm, 0.26);
  // The fourth item has no `rain` key.
  assert.equal(result.items[3]!.rainMm, null);
  assert.deepEqual(result.items.map((i) => i.cloudPct), [100, 96, 68, 88]);
});

Deno.test("parseOpenWeatherForecast() reports the API's error body (401 invalid key)", () => {
  const result = parseOpenWeatherForecast({
    cod: 401,
    message: "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info.",
  });
  assert.equal(result.ok, false);
  assert.match(result.ok ? "" : result.reason, /OpenWeatherMap error 401: Invalid API key/);
});

Deno.test("parseOpenWeatherForecast() names the field and value of a malformed item", async () => {
  const body = (await docExample()) as { list: { clouds: { all: unknown } }[] };
  body.list[1]!.clouds.all = "96";
  const result = parseOpenWeatherForecast(body);
  assert.equal(result.ok, false);
  assert.match(result.ok ? "" : result.reason, /list\.1\.clouds\.all: .*\(got "96"\)/);
});

Deno.test("classifyForecast() averages the steps of the next 24 h of the documented example", async () => {
  const parsed = parseOpenWeatherForecast(await docExample());
  assert.ok(parsed.ok);
  // now = the first step's start. Steps at 15:00, 18:00, 21:00 on 30 Aug fall in the next
  // 24 h; the 4 Sep step does not. Mean = (100 + 96 + 68) / 3 = 88 % ≥ 75 % → cloudy.
  const c = classifyForecast(parsed.items, {
    now: new Date("2022-08-30T15:00:00Z"),
    horizonH: 24,
  });
  assert.equal(c.forecast, "cloudy");
  assert.equal(c.meanCloudPct, 88);
  assert.match(c.reason, /88 %/);
});

Deno.test("classifyForecast() counts the step under way and stops at the horizon", () => {
  const items = [
    item("2026-01-01T09:00:00Z", 100), // 09:00–12:00 is under way at 10:00: counts
    item("2026-01-01T12:00:00Z", 20),
    item("2026-01-02T09:00:00Z", 20), // 09:00 next day < 10:00 + 24 h: counts
    item("2026-01-02T12:00:00Z", 100), // starts after the horizon: ignored
    item("2026-01-01T06:00:00Z", 100), // 06:00–09:00 ended before now: ignored
  ];
  const c = classifyForecast(items, { now: new Date("2026-01-01T10:00:00Z"), horizonH: 24 });
  // (100 + 20 + 20) / 3 = 46.67 % < 75 % → clear.
  assert.equal(c.forecast, "clear");
  assert.ok(Math.abs(c.meanCloudPct! - 140 / 3) < 1e-9);
});

Deno.test("classifyForecast() is cloudy exactly at the threshold and clear just below", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  const at = classifyForecast([item("2026-01-01T00:00:00Z", CLOUDY_MEAN_CLOUD_PCT)], {
    now,
    horizonH: 24,
  });
  assert.equal(at.forecast, "cloudy");
  // Mean of 74 and 75 = 74.5 % < 75 %.
  const below = classifyForecast([
    item("2026-01-01T00:00:00Z", 74),
    item("2026-01-01T03:00:00Z", 75),
  ], { now, horizonH: 24 });
  assert.equal(below.forecast, "clear");
});

Deno.test("classifyForecast() is unknown when no step falls in the window", async () => {
  const parsed = parseOpenWeatherForecast(await docExample());
  assert.ok(parsed.ok);
  // A year after the example: every step is in the past.
  const c = classifyForecast(parsed.items, { now: new Date("2023-09-01T00:00:00Z"), horizonH: 24 });
  assert.equal(c.forecast, "unknown");
  assert.equal(c.meanCloudPct, null);
});
