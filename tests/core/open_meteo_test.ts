import assert from "node:assert/strict";
import { parseOpenMeteoForecast } from "../../src/core/open_meteo.ts";

const PAYLOADS = "../../../shared/data/payloads/";
const BERLIN = new URL(
  `${PAYLOADS}open-meteo-forecast-berlin-2023-01-01-real.json`,
  import.meta.url,
);
const DOCS = new URL(`${PAYLOADS}open-meteo-docs-example-response.json`, import.meta.url);
const DOCS_ERROR = new URL(`${PAYLOADS}open-meteo-docs-example-error.json`, import.meta.url);

async function load(url: URL): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(url));
}

Deno.test("parseOpenMeteoForecast() reads the recorded Berlin reply: GMT stamps, GHI, cloud, °C", async () => {
  const result = parseOpenMeteoForecast(await load(BERLIN));
  assert.ok(result.ok, result.ok ? "" : result.reason);
  // 48 hourly stamps from 2023-01-01T00:00, timezone GMT (utc_offset_seconds 0).
  assert.equal(result.steps.length, 48);
  assert.equal(result.steps[0]!.time.toISOString(), "2023-01-01T00:00:00.000Z");
  assert.equal(result.steps[47]!.time.toISOString(), "2023-01-02T23:00:00.000Z");
  // Stamp 12:00: shortwave_radiation 111.0 (the mean of 11:00–12:00), cloud_cover 100,
  // temperature_2m 15.8.
  assert.deepEqual(
    { ...result.steps[12]!, time: result.steps[12]!.time.toISOString() },
    { time: "2023-01-01T12:00:00.000Z", ghiWm2: 111, cloudPct: 100, tempC: 15.8 },
  );
  // Stamp 04:00 is the one gap in the overcast: cloud_cover 9.
  assert.equal(result.steps[4]!.cloudPct, 9);
  assert.equal(result.latitude, 52.52);
});

Deno.test("parseOpenMeteoForecast() reads the documentation's example, which has temperature only", async () => {
  const result = parseOpenMeteoForecast(await load(DOCS));
  assert.ok(result.ok, result.ok ? "" : result.reason);
  // "Europe/Berlin" with utc_offset_seconds 0: the offset is what is applied, so the stamps
  // read as UTC.
  assert.deepEqual(result.steps.map((s) => s.time.toISOString()), [
    "2022-07-01T00:00:00.000Z",
    "2022-07-01T01:00:00.000Z",
    "2022-07-01T02:00:00.000Z",
  ]);
  assert.deepEqual(result.steps.map((s) => s.tempC), [13, 12.7, 12.7]);
  assert.deepEqual(result.steps.map((s) => [s.ghiWm2, s.cloudPct]), [
    [null, null],
    [null, null],
    [null, null],
  ]);
});

Deno.test("parseOpenMeteoForecast() turns local stamps into UTC with utc_offset_seconds", async () => {
  const body = await load(DOCS);
  // The same stamps at UTC+2 (what CEST really is): 00:00 local = 22:00 UTC the day before.
  body.utc_offset_seconds = 7200;
  const result = parseOpenMeteoForecast(body);
  assert.ok(result.ok);
  assert.equal(result.steps[0]!.time.toISOString(), "2022-06-30T22:00:00.000Z");
});

Deno.test("parseOpenMeteoForecast() reads timeformat=unixtime stamps as UTC seconds", () => {
  const result = parseOpenMeteoForecast({
    latitude: 10.3,
    longitude: 9.8,
    utc_offset_seconds: 0,
    timezone: "GMT",
    hourly: {
      // 1672531200 s = 2023-01-01T00:00:00Z; then one hour later.
      time: [1672531200, 1672534800],
      shortwave_radiation: [0, 12.5],
      cloud_cover: [20, null],
      temperature_2m: [21.5, 21.1],
    },
  });
  assert.ok(result.ok, result.ok ? "" : result.reason);
  assert.equal(result.steps[1]!.time.toISOString(), "2023-01-01T01:00:00.000Z");
  assert.equal(result.steps[1]!.ghiWm2, 12.5);
  assert.equal(result.steps[1]!.cloudPct, null);
});

Deno.test("parseOpenMeteoForecast() reports the documented HTTP 400 error body", async () => {
  const result = parseOpenMeteoForecast(await load(DOCS_ERROR));
  assert.equal(result.ok, false);
  assert.match(
    result.ok ? "" : result.reason,
    /^Open-Meteo error: Cannot initialize WeatherVariable .*tempeture_2m/,
  );
});

Deno.test("parseOpenMeteoForecast() names the field and value of a reply it cannot use", async () => {
  interface Editable {
    latitude: unknown;
    hourly_units: Record<string, string>;
    hourly?: { time: unknown[]; cloud_cover: unknown[]; shortwave_radiation: unknown[] };
  }
  const reason = (edit: (body: Editable) => void) => {
    return load(BERLIN).then((body) => {
      edit(body as unknown as Editable);
      const r = parseOpenMeteoForecast(body);
      assert.equal(r.ok, false);
      return r.ok ? "" : r.reason;
    });
  };
  assert.match(
    await reason((b) => b.hourly_units.temperature_2m = "°F"),
    /hourly_units.temperature_2m: expected "°C", got "°F"/,
  );
  assert.match(
    await reason((b) => b.hourly!.cloud_cover.pop()),
    /hourly.cloud_cover: 47 values for 48 times/,
  );
  assert.match(
    await reason((b) => b.hourly!.shortwave_radiation[10] = -50),
    /hourly.shortwave_radiation.10: -50 is not within 0..1400/,
  );
  assert.match(
    await reason((b) => b.hourly!.time[3] = "2023-01-01 03:00"),
    /hourly.time.3: "2023-01-01 03:00" is not YYYY-MM-DDTHH:MM/,
  );
  assert.match(
    await reason((b) => b.hourly!.time[3] = "2023-01-01T02:30"),
    /hourly.time.3: "2023-01-01T02:30" is not one hour after/,
  );
  assert.match(await reason((b) => delete b.hourly), /hourly: /);
  assert.match(await reason((b) => b.latitude = "52.5"), /latitude: .*\(got "52.5"\)/);
});
