import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { RateLimitedWarn } from "../../src/backend/log_limiter.ts";
import { MemoryLogger } from "../../src/core/log.ts";

type Clock = ReturnType<typeof FakeTimers.install>;

function withClock(fn: (clock: Clock) => void) {
  const clock = FakeTimers.install({ now: 0, toFake: ["setTimeout", "clearTimeout", "Date"] });
  try {
    fn(clock);
  } finally {
    clock.uninstall();
  }
}

function lines(log: MemoryLogger) {
  return log.entries.map((e) => `${e.level} ${e.msg}`);
}

Deno.test("RateLimitedWarn logs 10 in full per 10 s and sums up the rest when the window ends", () => {
  withClock((clock) => {
    const log = new MemoryLogger();
    const limiter = new RateLimitedWarn({ log, what: "rejected messages" });
    // 15 warnings 10 ms apart (0 – 140 ms): 10 in full, 15 − 10 = 5 held back.
    for (let i = 0; i < 15; i++) {
      limiter.warn("message rejected", { n: i });
      clock.tick(10);
    }
    clock.tick(9_999 - 150); // 9999 ms: the window (0 – 10 000 ms) is still open.
    assert.equal(log.entries.length, 10);
    assert.deepEqual(log.entries.map((e) => e.fields.n), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.ok(log.entries.every((e) => e.level === "warn"));
    clock.tick(1); // 10 000 ms: the window ends.
    assert.equal(log.entries.length, 11);
    assert.deepEqual(log.entries[10], {
      level: "warn",
      msg: "5 more rejected messages in the last 10 s",
      fields: { suppressed: 5 },
    });
    // A new window: the next warning is logged in full again.
    limiter.warn("message rejected", { n: 15 });
    assert.equal(log.entries.length, 12);
    assert.equal(log.entries[11]!.fields.n, 15);
    limiter.flush();
  });
});

Deno.test("RateLimitedWarn writes no summary line when nothing was held back", () => {
  withClock((clock) => {
    const log = new MemoryLogger();
    const limiter = new RateLimitedWarn({ log, what: "rejected messages" });
    for (let i = 0; i < 10; i++) limiter.warn("message rejected");
    assert.equal(clock.countTimers(), 0);
    clock.tick(60_000);
    assert.deepEqual(lines(log), Array(10).fill("warn message rejected"));
  });
});

Deno.test("RateLimitedWarn starts a window at the first warning after the last one ended", () => {
  withClock((clock) => {
    const log = new MemoryLogger();
    const limiter = new RateLimitedWarn({ log, what: "x", limit: 2, windowMs: 1000 });
    clock.tick(500);
    limiter.warn("a"); // window 500 – 1500 ms
    limiter.warn("b");
    limiter.warn("c"); // held back
    clock.tick(999); // 1499 ms: still in the window
    limiter.warn("d"); // held back
    assert.deepEqual(lines(log), ["warn a", "warn b"]);
    clock.tick(1); // 1500 ms: 2 held back; "in the last 1000 / 1000 = 1 s"
    assert.deepEqual(lines(log), ["warn a", "warn b", "warn 2 more x in the last 1 s"]);
    limiter.warn("e");
    limiter.warn("f");
    assert.deepEqual(lines(log).slice(3), ["warn e", "warn f"]);
    limiter.flush();
  });
});

Deno.test("RateLimitedWarn rolls the window on the next warning when its timer has not run yet", () => {
  withClock((clock) => {
    const log = new MemoryLogger();
    const limiter = new RateLimitedWarn({ log, what: "x", limit: 1, windowMs: 1000 });
    limiter.warn("a");
    limiter.warn("b"); // held back; the timer is due at 1000 ms
    // The clock moves on without timers running, as on a busy event loop.
    clock.setSystemTime(5000);
    limiter.warn("c");
    assert.deepEqual(lines(log), ["warn a", "warn 1 more x in the last 1 s", "warn c"]);
    assert.equal(clock.countTimers(), 0);
    clock.runAll();
    assert.equal(log.entries.length, 3);
  });
});

Deno.test("RateLimitedWarn.flush() logs what is held back and clears its timer", () => {
  withClock((clock) => {
    const log = new MemoryLogger();
    const limiter = new RateLimitedWarn({ log, what: "rejected messages", limit: 0 });
    limiter.warn("a");
    limiter.warn("b");
    limiter.warn("c");
    assert.equal(log.entries.length, 0);
    assert.equal(clock.countTimers(), 1);
    limiter.flush();
    assert.deepEqual(lines(log), ["warn 3 more rejected messages in the last 10 s"]);
    assert.equal(clock.countTimers(), 0);
    limiter.flush();
    assert.equal(log.entries.length, 1);
  });
});

Deno.test("RateLimitedWarn names a bad limit or window", () => {
  const log = new MemoryLogger();
  assert.throws(() => new RateLimitedWarn({ log, what: "x", limit: 1.5 }), /limit .* got 1\.5/);
  assert.throws(() => new RateLimitedWarn({ log, what: "x", windowMs: 0 }), /windowMs .* got 0/);
});
