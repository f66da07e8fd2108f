import assert from "node:assert/strict";
import { type HttpDeps, startHttpServer } from "../../../src/backend/http/server.ts";
import { MetricsRegistry } from "../../../src/backend/http/metrics.ts";
import { isLoopback } from "../../../src/backend/http/auth.ts";
import { MemoryLogger } from "../../../src/core/log.ts";

function deps(): HttpDeps {
  return {
    log: new MemoryLogger(),
    metrics: new MetricsRegistry(),
    sites: () => [],
    now: () => new Date("2026-03-01T00:00:00Z"),
    telemetry: () => Promise.resolve({ records: [], truncated: false }),
    telemetryBuckets: () => Promise.resolve({ buckets: [], truncated: false }),
    readiness: () => Promise.resolve({ mqtt: true, database: false }),
  };
}

Deno.test("startHttpServer() refuses to serve the API tokenless on a non-loopback host", async () => {
  await assert.rejects(
    startHttpServer({ port: 0, hostname: "0.0.0.0", allowTokenless: true }, deps()),
    /HTTP host "0\.0\.0\.0" is not a loopback address: serving the API without a token/,
  );
});

Deno.test("startHttpServer() serves the API tokenless on loopback only when allowed", async () => {
  const open = await startHttpServer({ port: 0, allowTokenless: true }, deps());
  const closed = await startHttpServer({ port: 0 }, deps());
  try {
    const a = await fetch(`${open.url}api/v1/sites`);
    assert.equal(a.status, 200);
    assert.deepEqual(await a.json(), { sites: [] });
    const b = await fetch(`${closed.url}api/v1/sites`);
    assert.equal(b.status, 401);
    assert.deepEqual(await b.json(), {
      error: "the JSON API is disabled: start the backend with KASI_API_TOKEN set",
    });
    // A token offered to a backend without one is refused too.
    const c = await fetch(`${closed.url}api/v1/sites`, { headers: { authorization: "Bearer x" } });
    assert.equal(c.status, 401);
    await c.body?.cancel();
    const ready = await fetch(`${closed.url}readyz`);
    assert.equal(ready.status, 503);
    assert.equal((await ready.json()).error, "database not connected");
    const page = await fetch(closed.url);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(await page.text(), /<title>Kasi Power · fleet<\/title>/);
    const uplot = await fetch(`${closed.url}vendor/uPlot.iife.min.js`);
    assert.match(
      await uplot.text(),
      /^\/\*! https:\/\/github.com\/leeoniya\/uPlot \(v1\.6\.\d+\) \*\/\nvar uPlot=/,
    );
    const missing = await fetch(`${closed.url}nope`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: "no such path: /nope" });
  } finally {
    await open.close();
    await closed.close();
  }
});

Deno.test("isLoopback() accepts 127.0.0.0/8, ::1 and localhost only", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]) {
    assert.ok(isLoopback(h), h);
  }
  for (const h of ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "kasi.example"]) {
    assert.ok(!isLoopback(h), h);
  }
});
