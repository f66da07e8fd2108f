import assert from "node:assert/strict";
import { SiteStream } from "../../../src/backend/http/sse.ts";

/** A stream over `n` sites whose JSON is {siteId}; the clock is the test's. */
function stream(n: number, clock: { ms: number }, options: { maxBufferedBytes?: number } = {}) {
  const all = Array.from({ length: n }, (_, i) => ({ siteId: `s${String(i).padStart(4, "0")}` }));
  return new SiteStream({
    sites: (ids) => ids === undefined ? all : all.filter((s) => ids.has(s.siteId)),
    nowMs: () => clock.ms,
    keepAliveMs: 15_000,
    ...options,
  });
}

async function readText(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const { value } = await reader.read();
  return new TextDecoder().decode(value);
}

Deno.test("SiteStream sends a snapshot, then one `sites` frame per flush for 1000 touched sites", async () => {
  const clock = { ms: 0 };
  const s = stream(1000, clock);
  const reader = s.connect().getReader();
  const snapshot = await readText(reader);
  assert.match(snapshot, /^retry: 2000\nevent: snapshot\ndata: \[/);
  assert.equal(JSON.parse(/^data: (.*)$/m.exec(snapshot)![1]!).length, 1000);

  // Every site reports three times before the flush: one frame, each site once.
  for (let round = 0; round < 3; round++) {
    s.touch(Array.from({ length: 1000 }, (_, i) => `s${String(i).padStart(4, "0")}`));
  }
  s.touch(["not-a-site"]);
  s.flush();
  const frame = await readText(reader);
  assert.equal(frame.match(/^event: /gm)?.length, 1);
  assert.match(frame, /^event: sites\n/);
  assert.equal(JSON.parse(/^data: (.*)$/m.exec(frame)![1]!).length, 1000);
  assert.equal(s.clients, 1);
  await reader.cancel();
  assert.equal(s.clients, 0);
});

Deno.test("SiteStream sends a keep-alive comment only after 15 s without a frame", async () => {
  const clock = { ms: 0 };
  const s = stream(1, clock);
  const reader = s.connect().getReader();
  await readText(reader); // the snapshot
  clock.ms = 14_999;
  s.flush(); // nothing to send, not yet due
  s.alarm({
    id: 7,
    siteId: "s0000",
    kind: "low-fuel",
    severity: "warning",
    state: "raised",
    message: "Fuel 8 %",
    raisedAt: "2026-03-01T10:00:00.000Z",
    acknowledgedAt: null,
    acknowledgedBy: null,
    clearedAt: null,
    values: {},
  });
  clock.ms = 20_000;
  s.flush();
  assert.match(await readText(reader), /^event: alarm\ndata: \{"id":7,/);
  clock.ms = 34_999;
  s.flush();
  clock.ms = 35_000;
  s.flush();
  assert.equal(await readText(reader), ": keep-alive\n\n");
  s.close();
  assert.equal((await reader.read()).done, true);
});

Deno.test("SiteStream drops a viewer that stops reading instead of buffering without bound", () => {
  const clock = { ms: 0 };
  const s = stream(200, clock, { maxBufferedBytes: 50_000 });
  s.connect(); // never read
  const all = Array.from({ length: 200 }, (_, i) => `s${String(i).padStart(4, "0")}`);
  for (let i = 0; i < 100 && s.clients > 0; i++) {
    s.touch(all);
    s.flush();
  }
  assert.equal(s.clients, 0);
});
