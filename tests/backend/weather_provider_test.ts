import assert from "node:assert/strict";
import {
  OpenWeatherProvider,
  SiteWeatherProvider,
  weatherSourceFor,
} from "../../src/backend/weather_provider.ts";
import { MemoryLogger } from "../../src/core/log.ts";
import { withServer } from "../_helpers/http.ts";

const DOC_EXAMPLE = new URL(
  "../../../shared/data/payloads/owm-2.5-forecast-doc-example.json",
  import.meta.url,
);
/** The example's first step starts here; its next-24-h mean cloud is (100 + 96 + 68) / 3 = 88 %. */
const NOW = new Date("2022-08-30T15:00:00Z");

function warnings(log: MemoryLogger) {
  return log.entries.filter((e) => e.level === "warn");
}

Deno.test("OpenWeatherProvider classifies the served forecast and caches it per 0.1° cell", async () => {
  const body = await Deno.readTextFile(DOC_EXAMPLE);
  await withServer(
    () => new Response(body, { headers: { "content-type": "application/json" } }),
    async (baseUrl, seen) => {
      const log = new MemoryLogger();
      const provider = new OpenWeatherProvider({ apiKey: "test-key", baseUrl, log });
      const first = await provider.forecastFor({ latitude: 44.34, longitude: 10.99 }, NOW);
      assert.equal(first.classification.forecast, "cloudy");
      assert.equal(first.classification.meanCloudPct, 88);
      // The hourly forecast, from the same reply: 48 hours from 15:00, from OpenWeatherMap.
      assert.equal(first.solar.source, "openweathermap");
      assert.equal(first.solar.fallback, false);
      assert.equal(first.solar.hours.length, 48);
      assert.equal(first.solar.hours[0]!.start.toISOString(), "2022-08-30T15:00:00.000Z");
      assert.match(first.solar.reason, /fetched 2022-08-30T15:00Z$/);
      // 44.34 → 44.3 and 10.99 → 11.0 on the 0.1° grid.
      assert.equal(seen[0]!.pathname, "/data/2.5/forecast");
      assert.equal(seen[0]!.searchParams.get("lat"), "44.3");
      assert.equal(seen[0]!.searchParams.get("lon"), "11");
      assert.equal(seen[0]!.searchParams.get("appid"), "test-key");
      // Same cell, 29 min later: served from the cache.
      await provider.forecastFor(
        { latitude: 44.31, longitude: 11.04 },
        new Date(NOW.getTime() + 29 * 60_000),
      );
      assert.equal(provider.requests, 1);
      assert.equal(seen.length, 1);
      // Another cell: a second request.
      await provider.forecastFor({ latitude: 45, longitude: 11 }, NOW);
      assert.equal(seen.length, 2);
      // The first cell after 30 min: the cache has expired.
      await provider.forecastFor(
        { latitude: 44.34, longitude: 10.99 },
        new Date(NOW.getTime() + 30 * 60_000),
      );
      assert.equal(seen.length, 3);
      assert.equal(warnings(log).length, 0);
    },
  );
});

Deno.test("OpenWeatherProvider makes one request for concurrent asks about one place", async () => {
  const body = await Deno.readTextFile(DOC_EXAMPLE);
  await withServer(() => new Response(body), async (baseUrl, seen) => {
    const provider = new OpenWeatherProvider({ apiKey: "k", baseUrl, log: new MemoryLogger() });
    const results = await Promise.all(
      [1, 2, 3].map(() => provider.forecastFor({ latitude: 44.34, longitude: 10.99 }, NOW)),
    );
    assert.deepEqual(results.map((r) => r.classification.forecast), ["cloudy", "cloudy", "cloudy"]);
    assert.equal(seen.length, 1);
  });
});

Deno.test("OpenWeatherProvider returns unknown on a 401 and logs the cause once", async () => {
  const error = JSON.stringify({
    cod: 401,
    message: "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info.",
  });
  await withServer(() => new Response(error, { status: 401 }), async (baseUrl, seen) => {
    const log = new MemoryLogger();
    const provider = new OpenWeatherProvider({ apiKey: "wrong", baseUrl, log, retryMs: 0 });
    const a = await provider.forecastFor({ latitude: 1, longitude: 1 }, NOW);
    const b = await provider.forecastFor({ latitude: 2, longitude: 2 }, NOW);
    assert.equal(a.classification.forecast, "unknown");
    assert.equal(b.classification.forecast, "unknown");
    assert.match(a.classification.reason, /HTTP 401.*Invalid API key/);
    // No forecast: clear sky × climatology, flagged, with the same cause.
    assert.equal(a.solar.source, "clear-sky-climatology");
    assert.equal(a.solar.fallback, true);
    assert.match(a.solar.reason, /HTTP 401.*; assuming clear sky × 0.75$/);
    assert.equal(seen.length, 2);
    assert.equal(warnings(log).length, 1);
    assert.match(String(warnings(log)[0]!.fields.reason), /HTTP 401/);
  });
});

Deno.test("OpenWeatherProvider gives up after its timeout and returns unknown", async () => {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  await withServer(async () => {
    await released;
    return new Response("{}");
  }, async (baseUrl) => {
    const log = new MemoryLogger();
    const provider = new OpenWeatherProvider({ apiKey: "k", baseUrl, log, timeoutMs: 100 });
    const started = performance.now();
    const c = await provider.forecastFor({ latitude: 1, longitude: 1 }, NOW);
    const elapsedMs = performance.now() - started;
    release();
    assert.equal(c.classification.forecast, "unknown");
    assert.match(c.classification.reason, /timed out after 100 ms/);
    assert.equal(c.solar.fallback, true);
    assert.ok(elapsedMs < 2000, `took ${elapsedMs} ms`);
    // A failure is remembered for the retry period: no second request right away.
    const again = await provider.forecastFor({ latitude: 1, longitude: 1 }, NOW);
    assert.equal(again.classification.forecast, "unknown");
    assert.equal(provider.requests, 1);
  });
});

Deno.test("OpenWeatherProvider without a key makes no request and logs once", async () => {
  const log = new MemoryLogger();
  const provider = new OpenWeatherProvider({ log, baseUrl: "http://127.0.0.1:9" });
  for (let i = 0; i < 3; i++) {
    const c = await provider.forecastFor({ latitude: 1, longitude: 1 }, NOW);
    assert.equal(c.classification.forecast, "unknown");
    assert.match(c.classification.reason, /OPENWEATHER_API_KEY/);
    assert.equal(c.solar.source, "clear-sky-climatology");
  }
  assert.equal(provider.requests, 0);
  assert.equal(warnings(log).length, 1);
});

Deno.test("OpenWeatherProvider returns unknown when the body is not the documented shape", async () => {
  await withServer(
    () => new Response(JSON.stringify({ cod: "200", list: "none" })),
    async (baseUrl) => {
      const provider = new OpenWeatherProvider({ apiKey: "k", baseUrl, log: new MemoryLogger() });
      const c = await provider.forecastFor({ latitude: 1, longitude: 1 }, NOW);
      assert.equal(c.classification.forecast, "unknown");
      assert.match(c.classification.reason, /not understood: .*list/);
    },
  );
});

Deno.test("weatherSourceFor() takes the site's choice, else OpenWeatherMap with a key, else Open-Meteo", () => {
  const at = { latitude: 12, longitude: 8.5 };
  assert.equal(weatherSourceFor(at, { openWeatherKey: false }), "open-meteo");
  assert.equal(weatherSourceFor(at, { openWeatherKey: true }), "openweathermap");
  assert.equal(
    weatherSourceFor({ ...at, weatherSource: "open-meteo" }, { openWeatherKey: true }),
    "open-meteo",
  );
  assert.equal(
    weatherSourceFor({ ...at, weatherSource: "openweathermap" }, { openWeatherKey: false }),
    "openweathermap",
  );
});

Deno.test("SiteWeatherProvider sends each site to the API it is served from", async () => {
  const owmBody = await Deno.readTextFile(DOC_EXAMPLE);
  const omBody = await Deno.readTextFile(
    new URL(
      "../../../shared/data/payloads/open-meteo-forecast-berlin-2023-01-01-real.json",
      import.meta.url,
    ),
  );
  await withServer(() => new Response(owmBody), async (owmUrl, owmSeen) => {
    await withServer(() => new Response(omBody), async (omUrl, omSeen) => {
      const log = new MemoryLogger();
      const keyless = new SiteWeatherProvider({ baseUrl: owmUrl, openMeteoUrl: omUrl, log });
      const berlin = { latitude: 52.52, longitude: 13.42 };
      const now = new Date("2023-01-01T00:00:00Z");
      const om = await keyless.forecastFor(berlin, now);
      assert.equal(om.solar.source, "open-meteo");
      assert.equal(om.classification.forecast, "cloudy");
      assert.equal(omSeen.length, 1);
      // Asked for OpenWeatherMap without a key: the climatology, and no request at all.
      const asked = await keyless.forecastFor({ ...berlin, weatherSource: "openweathermap" }, now);
      assert.equal(asked.solar.source, "clear-sky-climatology");
      assert.match(asked.solar.reason, /OPENWEATHER_API_KEY/);
      assert.equal(owmSeen.length, 0);

      const keyed = new SiteWeatherProvider({
        apiKey: "k",
        baseUrl: owmUrl,
        openMeteoUrl: omUrl,
        log,
      });
      const zocca = { latitude: 44.34, longitude: 10.99 };
      const owm = await keyed.forecastFor(zocca, NOW);
      assert.equal(owm.solar.source, "openweathermap");
      assert.equal(owmSeen.length, 1);
      const chose = await keyed.forecastFor({ ...berlin, weatherSource: "open-meteo" }, now);
      assert.equal(chose.solar.source, "open-meteo");
      assert.equal(omSeen.length, 2);
    });
  });
});
