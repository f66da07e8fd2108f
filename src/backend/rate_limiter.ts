/**
 * A request budget over several windows at once ("540 a minute, 4,500 an hour, 9,000 a day"),
 * so that a whole fleet of sites can never push a free weather tier over its limits. Time is
 * passed in, as everywhere in planning. Each window keeps 60 counting buckets: a request is
 * counted in its bucket, and a window's use is the sum of the buckets it touches, which counts
 * every request of the last window and perhaps one bucket more — the limit can be met early,
 * never exceeded.
 */

export interface RateLimit {
  /** At most this many requests... */
  count: number;
  /** ...in any window of this length. */
  windowMs: number;
}

const BUCKETS_PER_WINDOW = 60;

interface Window extends RateLimit {
  bucketMs: number;
  buckets: Map<number, number>;
}

export class RateLimiter {
  readonly #windows: Window[];

  constructor(limits: readonly RateLimit[]) {
    for (const limit of limits) {
      if (!(Number.isInteger(limit.count) && limit.count >= 1)) {
        throw new RangeError(`rate limit count: ${limit.count} must be a whole number ≥ 1`);
      }
      if (!(limit.windowMs >= BUCKETS_PER_WINDOW)) {
        throw new RangeError(`rate limit windowMs: ${limit.windowMs} must be ≥ 60`);
      }
    }
    this.#windows = limits.map((l) => ({
      ...l,
      bucketMs: l.windowMs / BUCKETS_PER_WINDOW,
      buckets: new Map(),
    }));
  }

  /** The limits, as given. */
  get limits(): RateLimit[] {
    return this.#windows.map(({ count, windowMs }) => ({ count, windowMs }));
  }

  #used(w: Window, nowMs: number): number {
    const current = Math.floor(nowMs / w.bucketMs);
    let used = 0;
    for (const [index, n] of w.buckets) {
      if (index < current - BUCKETS_PER_WINDOW) w.buckets.delete(index);
      else if (index <= current) used += n;
    }
    return used;
  }

  /**
   * Takes one request from every window if each still has room, leaving `reserveFraction` of
   * each limit unused (so first fetches can have what refreshes may not). Returns whether it
   * did.
   */
  tryAcquire(nowMs: number, options: { reserveFraction?: number } = {}): boolean {
    const keep = 1 - (options.reserveFraction ?? 0);
    for (const w of this.#windows) {
      if (this.#used(w, nowMs) + 1 > Math.floor(w.count * keep)) return false;
    }
    for (const w of this.#windows) {
      const index = Math.floor(nowMs / w.bucketMs);
      w.buckets.set(index, (w.buckets.get(index) ?? 0) + 1);
    }
    return true;
  }

  /** Requests counted in each window now, with its limit. */
  usage(nowMs: number): (RateLimit & { used: number })[] {
    return this.#windows.map((w) => ({
      count: w.count,
      windowMs: w.windowMs,
      used: this.#used(w, nowMs),
    }));
  }

  /**
   * The shortest interval at which each of `keys` keys can ask once without any window
   * running dry: max over the windows of keys · window / count.
   */
  minIntervalMs(keys: number): number {
    return Math.max(0, ...this.#windows.map((w) => keys * w.windowMs / w.count));
  }
}
