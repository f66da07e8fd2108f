/**
 * A warning that can come in floods — a misconfigured fleet, or a stray publisher on the
 * backend's topics, can send thousands of bad messages a second. The first `limit` in a window
 * are logged in full, so an operator sees what is wrong; the rest are counted and summed up in
 * one line when the window ends, so the log stays readable and its size bounded.
 */
import type { LogFields, Logger } from "../core/log.ts";

/** Ten in full per ten seconds: enough to see a pattern, at most ~1 line a second. */
export const DEFAULT_LOG_LIMIT = 10;
export const DEFAULT_LOG_WINDOW_MS = 10_000;

export interface RateLimitedWarnOptions {
  log: Logger;
  /** What the summary counts: "rejected messages" → "7 more rejected messages in the last 10 s". */
  what: string;
  /** Warnings logged in full per window (default 10). */
  limit?: number;
  /** Window length (default 10 s); a window starts at the first warning after the last one. */
  windowMs?: number;
}

export class RateLimitedWarn {
  readonly #o: RateLimitedWarnOptions;
  readonly #limit: number;
  readonly #windowMs: number;
  #windowStart: number | undefined;
  #logged = 0;
  #suppressed = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: RateLimitedWarnOptions) {
    this.#o = options;
    this.#limit = options.limit ?? DEFAULT_LOG_LIMIT;
    this.#windowMs = options.windowMs ?? DEFAULT_LOG_WINDOW_MS;
    if (!(Number.isInteger(this.#limit) && this.#limit >= 0)) {
      throw new RangeError(`limit must be an integer ≥ 0, got ${this.#limit}`);
    }
    if (!(this.#windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${this.#windowMs}`);
  }

  /** Logs `msg` at warn level, or counts it when this window's limit is used up. */
  warn(msg: string, fields?: LogFields): void {
    const now = Date.now();
    if (this.#windowStart === undefined || now - this.#windowStart >= this.#windowMs) {
      // The window is over even if its timer has not run yet (a busy event loop).
      this.flush();
      this.#windowStart = now;
    }
    if (this.#logged < this.#limit) {
      this.#logged++;
      this.#o.log.warn(msg, fields);
      return;
    }
    this.#suppressed++;
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, this.#windowStart + this.#windowMs - now);
    }
  }

  /** Ends the window: logs the count of what was held back, if any, and clears the timer. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#suppressed > 0) {
      this.#o.log.warn(
        `${this.#suppressed} more ${this.#o.what} in the last ${this.#windowMs / 1000} s`,
        { suppressed: this.#suppressed },
      );
    }
    this.#suppressed = 0;
    this.#logged = 0;
    this.#windowStart = undefined;
  }
}
