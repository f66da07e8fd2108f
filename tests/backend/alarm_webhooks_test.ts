import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import type { Alarm } from "../../src/core/alarm.ts";
import { MemoryLogger } from "../../src/core/log.ts";
import { AlarmWebhooks } from "../../src/backend/alarm_webhooks.ts";
import { waitFor } from "./harness.ts";

const ALARM: Alarm = {
  id: 7,
  siteId: "hook-site",
  kind: "low-fuel",
  severity: "warning",
  state: "raised",
  message: "Fuel 8 % (16 L), below 10 %",
  raisedAt: "2026-03-20T12:00:00.000Z",
  acknowledgedAt: null,
  acknowledgedBy: null,
  clearedAt: null,
  values: { fuelPct: 8 },
};

/** A local server that answers with the next status of `statuses` (then 200) and keeps bodies. */
function server(statuses: number[]) {
  const bodies: unknown[] = [];
  const s = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    bodies.push(await req.json());
    return new Response(null, { status: statuses.shift() ?? 200 });
  });
  return {
    url: `http://127.0.0.1:${s.addr.port}/hook?token=secret`,
    bodies,
    close: () => s.shutdown(),
  };
}

function hooks(
  url: string,
  clock: ReturnType<typeof FakeTimers.createClock>,
  log: MemoryLogger,
) {
  return new AlarmWebhooks({
    urls: [url],
    log,
    baseDelayMs: 1000,
    maxAttempts: 4,
    random: () => 1,
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (id) => clock.clearTimeout(id as number),
  });
}

Deno.test("AlarmWebhooks retries a failing URL with exponential backoff until it answers 2xx", async () => {
  const srv = server([503, 500]);
  const clock = FakeTimers.createClock(0);
  const log = new MemoryLogger();
  const h = hooks(srv.url, clock, log);
  try {
    h.notify(ALARM, "raised");
    await waitFor("first attempt", () => srv.bodies.length === 1 && h.idle().then(() => true));
    await h.idle();
    // random() = 1: the full ceiling, 1 s after the first failure, 2 s after the second.
    await clock.tickAsync(999);
    assert.equal(srv.bodies.length, 1, "no retry before 1 s");
    await clock.tickAsync(1);
    await waitFor("second attempt", () => srv.bodies.length === 2);
    await h.idle();
    await clock.tickAsync(1999);
    assert.equal(srv.bodies.length, 2, "no retry before 2 s more");
    await clock.tickAsync(1);
    await waitFor("third attempt", () => srv.bodies.length === 3);
    await h.idle();
    assert.deepEqual(h.stats, { delivered: 1, failedAttempts: 2, givenUp: 0, dropped: 0 });
    assert.equal(h.pending, 0);
    assert.deepEqual(srv.bodies[2], { kind: "alarm", change: "raised", alarm: ALARM });
  } finally {
    h.stop();
    await srv.close();
  }
});

Deno.test("AlarmWebhooks gives up after maxAttempts and on a 4xx, and logs it without the token", async () => {
  const srv = server([500, 500, 500, 500, 404]);
  const clock = FakeTimers.createClock(0);
  const log = new MemoryLogger();
  const h = hooks(srv.url, clock, log);
  try {
    h.notify(ALARM, "raised");
    for (let n = 1; n <= 4; n++) {
      await waitFor(`attempt ${n}`, () => srv.bodies.length === n);
      await h.idle();
      await clock.tickAsync(1000 * 2 ** (n - 1));
    }
    assert.equal(srv.bodies.length, 4, "four attempts in all");
    assert.deepEqual(h.stats, { delivered: 0, failedAttempts: 4, givenUp: 1, dropped: 0 });
    const gaveUp = log.entries.find((e) => e.msg === "alarm webhook given up")!;
    assert.equal(gaveUp.fields.url, new URL(srv.url).origin + "/hook");
    assert.equal(gaveUp.fields.why, "HTTP 500");
    // A 404 is not retried.
    h.notify(ALARM, "cleared");
    await waitFor("the 404 attempt", () => srv.bodies.length === 5);
    await h.idle();
    assert.equal(h.stats.givenUp, 2);
    await clock.tickAsync(60_000);
    assert.equal(srv.bodies.length, 5);
  } finally {
    h.stop();
    await srv.close();
  }
});

Deno.test("AlarmWebhooks.delayMs() doubles up to the cap, jittered between 10 % and 100 %", () => {
  const log = new MemoryLogger();
  const low = new AlarmWebhooks({ urls: [], log, random: () => 0, maxDelayMs: 5000 });
  const high = new AlarmWebhooks({ urls: [], log, random: () => 1, maxDelayMs: 5000 });
  assert.deepEqual([1, 2, 3, 4].map((n) => high.delayMs(n)), [1000, 2000, 4000, 5000]);
  assert.deepEqual([1, 2, 3, 4].map((n) => low.delayMs(n)), [100, 200, 400, 500]);
});

Deno.test("AlarmWebhooks drops the oldest delivery when its queue is full", () => {
  const log = new MemoryLogger();
  const clock = FakeTimers.createClock(0);
  // A fetch that never answers keeps every delivery in the queue.
  const h = new AlarmWebhooks({
    urls: ["http://127.0.0.1:9/hook"],
    log,
    maxQueue: 2,
    fetch: () => new Promise<Response>(() => {}),
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (id) => clock.clearTimeout(id as number),
  });
  h.notify({ ...ALARM, id: 1 }, "raised");
  h.notify({ ...ALARM, id: 2 }, "raised");
  h.notify({ ...ALARM, id: 3 }, "raised");
  assert.equal(h.pending, 2);
  assert.equal(h.stats.dropped, 1);
  assert.equal(
    log.entries.find((e) => e.msg.startsWith("alarm webhook queue full"))?.fields.alarmId,
    1,
  );
  h.stop();
});
