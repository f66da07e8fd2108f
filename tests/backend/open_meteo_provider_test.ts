import assert from "node:assert/strict";
import { OpenMeteoProvider } from "../../src/backend/open_meteo_provider.ts";
import { MemoryLogger } from "../../src/core/log.ts";
import { withServer } from "../_helpers/http.ts";

const PAYLOADS = "../../../shared/data/payloads/";
const BERLIN_BODY = await Deno.readTextFile(
  new URL(`${PAYLOADS}open-meteo-forecast-berlin-2023-01-01-real.json`, import.meta.url),
);
const ERROR_BODY = await Deno.readTextFile(
  new URL(`${PAYLOADS}open-meteo-docs-example-error.json`, import.meta.url),
);
const BERLIN = { latitude: 52.52, longitude: 13.42 };
const NOW = new Date("2023-01-01T00:20:00Z");
const MIN_MS = 60_000;

function later(minutes: number): Date {
  return new Date(NOW.getTime() + minutes * MIN_MS);
}

function warnings(log: MemoryLogger) {
  return log.entries.filter((e) => e.level === "warn");
}

Deno.test("OpenMeteoProvider asks for GHI, cloud and temperature in UTC and caches an hour per cell", async () => {
  await withServer(() => new Response(BERLIN_BODY), async (baseUrl, seen) => {
    const provider = new OpenMeteoProvider({ baseUrl, log: new MemoryLogger() });
    const weather = await provider.forecastFor(BERLIN, NOW);
    const asked = seen[0]!;
    assert.equal(asked.pathname, "/v1/forecast");
    // 52.52 → 52.5 and 13.42 → 13.4 on the 0.1° grid.
    assert.deepEqual(Object.fromEntries(asked.searchParams), {
      latitude: "52.5",
      longitude: "13.4",
      hourly: "shortwave_radiation,cloud_cover,temperature_2m",
      timezone: "GMT",
      timeformat: "unixtime",
      forecast_days: "4",
    });
    assert.equal(weather.solar.source, "open-meteo");
    assert.equal(weather.solar.fallback, false);
    // The hour 11:00–12:00 holds the 111 W/m² stamped 12:00.
    assert.equal(weather.solar.hours[11]!.ghiWm2, 111);
    assert.equal(weather.classification.forecast, "cloudy");
    assert.match(weather.solar.reason, /^Open-Meteo hourly irradiance, fetched 2023-01-01T00:20Z$/);
    // Same cell 59 min later: cached. After 60 min: asked again.
    await provider.forecastFor({ latitude: 52.48, longitude: 13.37 }, later(59));
    assert.equal(seen.length, 1);
    await provider.forecastFor(BERLIN, later(60));
    assert.equal(seen.length, 2);
  });
});

Deno.test("OpenMeteoProvider falls back to clear sky × climatology on the documented HTTP 400", async () => {
  await withServer(() => new Response(ERROR_BODY, { status: 400 }), async (baseUrl) => {
    const log = new MemoryLogger();
    const provider = new OpenMeteoProvider({ baseUrl, log });
    const weather = await provider.forecastFor(BERLIN, NOW);
    assert.equal(weather.classification.forecast, "unknown");
    assert.match(weather.classification.reason, /^Open-Meteo HTTP 400: .*tempeture_2m/);
    assert.equal(weather.solar.source, "clear-sky-climatology");
    assert.equal(weather.solar.fallback, true);
    assert.equal(weather.solar.hours.length, 48);
    assert.equal(warnings(log).length, 1);
  });
});

Deno.test("OpenMeteoProvider gives up after its timeout and plans on the climatology", async () => {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  await withServer(async () => {
    await released;
    return new Response(BERLIN_BODY);
  }, async (baseUrl) => {
    const provider = new OpenMeteoProvider({ baseUrl, log: new MemoryLogger(), timeoutMs: 100 });
    const weather = await provider.forecastFor(BERLIN, NOW);
    release();
    assert.equal(weather.solar.fallback, true);
    assert.match(weather.solar.reason, /Open-Meteo request timed out after 100 ms/);
  });
});

Deno.test("OpenMeteoProvider keeps an older forecast while refreshes fail, for up to 6 h", async () => {
  let failing = false;
  await withServer(
    () => failing ? new Response("oops", { status: 500 }) : new Response(BERLIN_BODY),
    async (baseUrl, seen) => {
      const log = new MemoryLogger();
      const provider = new OpenMeteoProvider({ baseUrl, log });
      await provider.forecastFor(BERLIN, NOW);
      failing = true;
      // Due for a refresh at 61 min; it fails, and the 61-minute-old reply is still used.
      const old = await provider.forecastFor(BERLIN, later(61));
      assert.equal(seen.length, 2);
      assert.equal(old.solar.source, "open-meteo");
      assert.equal(old.solar.fallback, false);
      assert.match(
        old.solar.reason,
        /fetched 2023-01-01T00:20Z, not refreshed: Open-Meteo response \(HTTP 500\) is not JSON/,
      );
      assert.equal(old.classification.forecast, "cloudy");
      // Within the 5 min retry delay: no new request.
      await provider.forecastFor(BERLIN, later(65));
      assert.equal(seen.length, 2);
      // 6 h after the fetch the old reply is dropped: the climatology, flagged.
      const dropped = await provider.forecastFor(BERLIN, later(6 * 60 + 1));
      assert.equal(seen.length, 3);
      assert.equal(dropped.solar.source, "clear-sky-climatology");
      assert.equal(warnings(log).length, 1);
    },
  );
});

Deno.test("OpenMeteoProvider pauses every cell for the Retry-After of a 429", async () => {
  const limited = JSON.stringify({
    error: true,
    reason: "Minutely API request limit exceeded. Please try again in one minute.",
  });
  await withServer(
    () => new Response(limited, { status: 429, headers: { "retry-after": "600" } }),
    async (baseUrl, seen) => {
      const provider = new OpenMeteoProvider({ baseUrl, log: new MemoryLogger() });
      const a = await provider.forecastFor(BERLIN, NOW);
      assert.match(a.solar.reason, /Open-Meteo HTTP 429: Open-Meteo error: Minutely API/);
      // Another cell, 9 min later: still inside the 600 s pause, so no request.
      const b = await provider.forecastFor({ latitude: 10.3, longitude: 9.8 }, later(9));
      assert.equal(seen.length, 1);
      assert.equal(b.solar.fallback, true);
      assert.match(b.solar.reason, /paused after a rate-limit reply/);
      await provider.forecastFor({ latitude: 10.3, longitude: 9.8 }, later(11));
      assert.equal(seen.length, 2);
    },
  );
});

Deno.test("OpenMeteoProvider sends a commercial key as apikey", async () => {
  await withServer(() => new Response(BERLIN_BODY), async (baseUrl, seen) => {
    const provider = new OpenMeteoProvider({ baseUrl, apiKey: "abc123", log: new MemoryLogger() });
    await provider.forecastFor(BERLIN, NOW);
    assert.equal(seen[0]!.searchParams.get("apikey"), "abc123");
  });
});

Deno.test("OpenMeteoProvider stays inside its budget: a cell over it gets the climatology", async () => {
  await withServer(() => new Response(BERLIN_BODY), async (baseUrl, seen) => {
    const log = new MemoryLogger();
    const provider = new OpenMeteoProvider({
      baseUrl,
      log,
      limits: [{ count: 2, windowMs: MIN_MS }],
    });
    await provider.forecastFor({ latitude: 1, longitude: 1 }, NOW);
    await provider.forecastFor({ latitude: 2, longitude: 2 }, NOW);
    const third = await provider.forecastFor({ latitude: 3, longitude: 3 }, NOW);
    assert.equal(seen.length, 2);
    assert.equal(third.solar.fallback, true);
    assert.match(third.solar.reason, /Open-Meteo request budget reached \(2\/2 per 1 min\)/);
    assert.equal(warnings(log).length, 1);
    assert.equal(warnings(log)[0]!.fields.activeCells, 3);
    // Two minutes on, the window has room again.
    const retried = await provider.forecastFor({ latitude: 3, longitude: 3 }, later(2));
    assert.equal(seen.length, 3);
    assert.equal(retried.solar.source, "open-meteo");
  });
});

Deno.test("OpenMeteoProvider widens the refresh interval when many cells share the budget", async () => {
  await withServer(() => new Response(BERLIN_BODY), async (baseUrl) => {
    const provider = new OpenMeteoProvider({
      baseUrl,
      log: new MemoryLogger(),
      limits: [{ count: 48, windowMs: 86_400_000 }],
    });
    // 1 cell: 86 400 s / 48 = 30 min, under the 60 min cache: 60 min.
    await provider.forecastFor({ latitude: 1, longitude: 1 }, NOW);
    assert.equal(provider.refreshIntervalMs(), 60 * MIN_MS);
    // 4 cells: 4 · 86 400 s / 48 = 7200 s = 2 h.
    for (const lat of [2, 3, 4]) await provider.forecastFor({ latitude: lat, longitude: 1 }, NOW);
    assert.equal(provider.refreshIntervalMs(), 120 * MIN_MS);
  });
});
