import assert from "node:assert/strict";
import { OpenWeatherProvider } from "../../src/backend/weather_provider.ts";
import { MemoryLogger } from "../../src/core/log.ts";

const DOC_EXAMPLE = new URL(
  "../../../shared/data/payloads/owm-2.5-forecast-doc-example.json",
  import.meta.url,
);
/** The example's first step starts here; its next-24-h mean cloud is (100 + 96 + 68) / 3 = 88 %. */
const NOW = new Date("2022-08-30T15:00:00Z");

type Handler = (request: Request) => Response | Promise<Response>;

/** A local stand-in for api.openweathermap.org on 127.0.0.1, an OS-chosen port. */
async function withServer(
  handler: Handler,
  fn: (baseUrl: string, seen: URL[]) => Promise<void>,
): Promise<void> {
  const seen: URL[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => {
      seen.push(new URL(request.url));
      return handler(request);
    },
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}

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
      assert.equal(first.forecast, "cloudy");
      assert.equal(first.meanCloudPct, 88);
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
    assert.deepEqual(results.map((r) => r.forecast), ["cloudy", "cloudy", "cloudy"]);
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
    assert.equal(a.forecast, "unknown");
    assert.equal(b.forecast, "unknown");
    assert.match(a.reason, /HTTP 401.*Invalid API key/);
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
    assert.equal(c.forecast, "unknown");
    assert.match(c.reason, /timed out after 100 ms/);
    assert.ok(elapsedMs < 2000, `took ${elapsedMs} ms`);
    // A failure is remembered for the retry period: no second request right away.
    const again = await provider.forecastFor({ latitude: 1, longitude: 1 }, NOW);
    assert.equal(again.forecast, "unknown");
    assert.equal(provider.requests, 1);
  });
});

Deno.test("OpenWeatherProvider without a key makes no request and logs once", async () => {
  const log = new MemoryLogger();
  const provider = new OpenWeatherProvider({ log, baseUrl: "http://127.0.0.1:9" });
  for (let i = 0; i < 3; i++) {
    const c = await provider.forecastFor({ latitude: 1, longitude: 1 }, NOW);
    assert.equal(c.forecast, "unknown");
    assert.match(c.reason, /OPENWEATHER_API_KEY/);
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
      assert.equal(c.forecast, "unknown");
      assert.match(c.reason, /not understood: .*list/);
    },
  );
});
