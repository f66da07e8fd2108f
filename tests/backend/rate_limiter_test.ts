import assert from "node:assert/strict";
import { OPEN_METEO_FREE_LIMITS } from "../../src/backend/open_meteo_provider.ts";
import { OPENWEATHER_FREE_LIMITS } from "../../src/backend/openweather_provider.ts";
import { RateLimiter } from "../../src/backend/rate_limiter.ts";

const MINUTE_MS = 60_000;

Deno.test("RateLimiter.tryAcquire() allows the limit, refuses one more, and allows again after the window", () => {
  const limiter = new RateLimiter([{ count: 3, windowMs: MINUTE_MS }]);
  assert.deepEqual([0, 1000, 2000, 3000].map((t) => limiter.tryAcquire(t)), [
    true,
    true,
    true,
    false,
  ]);
  // Buckets are 1 s wide; a request counts until its bucket has left the window, so the first
  // (at 0 s) frees a place at 61 s, never before 60 s.
  assert.equal(limiter.tryAcquire(59_999), false);
  assert.equal(limiter.tryAcquire(61_000), true);
  assert.deepEqual(limiter.usage(61_000), [{ count: 3, windowMs: MINUTE_MS, used: 3 }]);
});

Deno.test("RateLimiter never lets any window of its length hold more than its count", () => {
  const limiter = new RateLimiter([{ count: 10, windowMs: MINUTE_MS }, {
    count: 25,
    windowMs: 10 * MINUTE_MS,
  }]);
  const granted: number[] = [];
  // Asks every 700 ms for 30 min: far more than either limit.
  for (let t = 0; t < 30 * MINUTE_MS; t += 700) if (limiter.tryAcquire(t)) granted.push(t);
  const most = (windowMs: number) => {
    let max = 0;
    for (let i = 0, j = 0; j < granted.length; j++) {
      while (granted[j]! - granted[i]! >= windowMs) i++;
      max = Math.max(max, j - i + 1);
    }
    return max;
  };
  assert.ok(most(MINUTE_MS) <= 10, `${most(MINUTE_MS)} in a minute`);
  assert.ok(most(10 * MINUTE_MS) <= 25, `${most(10 * MINUTE_MS)} in 10 minutes`);
  // It is not stingier than it must be: 25 per 10 min over 30 min is at least 60 granted.
  assert.ok(granted.length >= 60, `${granted.length} granted`);
});

Deno.test("RateLimiter.tryAcquire() with a reserve leaves that share of the limit unused", () => {
  const limiter = new RateLimiter([{ count: 10, windowMs: MINUTE_MS }]);
  let granted = 0;
  // 10 · (1 − 0.1) = 9 for refreshes; the tenth is kept for a first fetch.
  for (let i = 0; i < 12; i++) if (limiter.tryAcquire(i, { reserveFraction: 0.1 })) granted++;
  assert.equal(granted, 9);
  assert.equal(limiter.tryAcquire(20), true);
  assert.equal(limiter.tryAcquire(21), false);
});

Deno.test("RateLimiter.minIntervalMs() spreads the tightest window over the keys", () => {
  // Open-Meteo's free tier at 90 %, 1,000 cells: per minute 1000 · 60 s / 540 = 111 s; per hour
  // 1000 · 3600 s / 4500 = 800 s; per day 1000 · 86 400 s / 9000 = 9600 s; per 31 days
  // 1000 · 2 678 400 s / 270 000 = 9920 s. The month binds: each cell every 2.76 h.
  assert.equal(new RateLimiter(OPEN_METEO_FREE_LIMITS).minIntervalMs(1000), 9_920_000);
  // OpenWeatherMap's free plan at 90 %: per minute 1000 · 60 s / 54 = 1111 s; per 31 days
  // 1000 · 2 678 400 s / 900 000 = 2976 s → every 49.6 min.
  assert.equal(new RateLimiter(OPENWEATHER_FREE_LIMITS).minIntervalMs(1000), 2_976_000);
});

Deno.test("RateLimiter names a limit it cannot keep", () => {
  assert.throws(() => new RateLimiter([{ count: 0, windowMs: MINUTE_MS }]), /count: 0 must be/);
  assert.throws(() => new RateLimiter([{ count: 1.5, windowMs: MINUTE_MS }]), /count: 1.5/);
  assert.throws(() => new RateLimiter([{ count: 1, windowMs: 10 }]), /windowMs: 10 must be/);
});
