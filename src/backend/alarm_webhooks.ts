/**
 * Alarm webhooks: every raise, acknowledgement and clear is POSTed as JSON to each configured
 * URL, in the background. A failed delivery (network error, timeout, 5xx, 408, 429) is retried
 * with exponential backoff and full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter": a random delay up to min(cap, base · 2^attempt) spreads a fleet's retries), up to
 * `maxAttempts`; another 4xx will not get better and is given up at once. The queue is bounded:
 * when it is full the oldest delivery is dropped and logged. Nothing here is ever awaited by
 * ingestion: `notify()` only queues.
 */
import type { Alarm } from "../core/alarm.ts";
import type { Logger } from "../core/log.ts";

export type AlarmChange = "raised" | "acknowledged" | "cleared";

/** The JSON body of one webhook call. */
export interface AlarmWebhookBody {
  kind: "alarm";
  change: AlarmChange;
  alarm: Alarm;
}

export interface WebhookOptions {
  urls: readonly string[];
  log: Logger;
  /** Attempts per delivery, the first included (default 6: about 1 + 2 + 4 + 8 + 16 s apart). */
  maxAttempts?: number;
  /** Backoff base and cap, ms (defaults 1 s and 60 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Each attempt is aborted after this long (default 10 s). */
  timeoutMs?: number;
  /** Deliveries waiting or in flight, all URLs together (default 1000). */
  maxQueue?: number;
  /** Injected for tests: fetch, timers and the jitter's random source. */
  fetch?: typeof fetch;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (id: unknown) => void;
  random?: () => number;
}

interface Delivery {
  url: string;
  body: string;
  alarmId: number;
  change: AlarmChange;
  attempt: number;
  timer: unknown;
}

export class AlarmWebhooks {
  readonly #o: WebhookOptions;
  readonly #queue = new Set<Delivery>();
  readonly #inFlight = new Set<Promise<void>>();
  #stopped = false;
  stats = { delivered: 0, failedAttempts: 0, givenUp: 0, dropped: 0 };

  constructor(options: WebhookOptions) {
    this.#o = options;
  }

  get pending(): number {
    return this.#queue.size;
  }

  /** Queues one delivery per URL; returns at once. */
  notify(alarm: Alarm, change: AlarmChange): void {
    if (this.#stopped) return;
    const body: AlarmWebhookBody = { kind: "alarm", change, alarm };
    const text = JSON.stringify(body);
    for (const url of this.#o.urls) {
      const maxQueue = this.#o.maxQueue ?? 1000;
      if (this.#queue.size >= maxQueue) this.#dropOldest();
      const d: Delivery = { url, body: text, alarmId: alarm.id, change, attempt: 0, timer: null };
      this.#queue.add(d);
      this.#attempt(d);
    }
  }

  /** Stops retrying; what has not been delivered is logged and dropped. */
  stop(): void {
    this.#stopped = true;
    const clear = this.#o.clearTimeout ?? ((id: unknown) => clearTimeout(id as number));
    for (const d of this.#queue) if (d.timer !== null) clear(d.timer);
    if (this.#queue.size > 0) {
      this.#o.log.warn("alarm webhooks not delivered at stop", { deliveries: this.#queue.size });
    }
    this.#queue.clear();
  }

  /** Resolves when no attempt is under way (tests). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  #dropOldest() {
    const oldest = this.#queue.values().next().value;
    if (!oldest) return;
    this.#queue.delete(oldest);
    const clear = this.#o.clearTimeout ?? ((id: unknown) => clearTimeout(id as number));
    if (oldest.timer !== null) clear(oldest.timer);
    this.stats.dropped++;
    this.#o.log.warn("alarm webhook queue full: oldest delivery dropped", {
      url: redact(oldest.url),
      alarmId: oldest.alarmId,
      change: oldest.change,
    });
  }

  #attempt(d: Delivery) {
    d.timer = null;
    d.attempt++;
    const run = this.#post(d).finally(() => this.#inFlight.delete(run));
    this.#inFlight.add(run);
  }

  async #post(d: Delivery): Promise<void> {
    const doFetch = this.#o.fetch ?? fetch;
    const controller = new AbortController();
    const set = this.#o.setTimeout ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
    const clear = this.#o.clearTimeout ?? ((id: unknown) => clearTimeout(id as number));
    const timeout = set(() => controller.abort(), this.#o.timeoutMs ?? 10_000);
    let retry: boolean;
    let why: string;
    try {
      const response = await doFetch(d.url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "kasi-backend" },
        body: d.body,
        signal: controller.signal,
      });
      await response.body?.cancel();
      if (response.ok) {
        this.#queue.delete(d);
        this.stats.delivered++;
        return;
      }
      why = `HTTP ${response.status}`;
      retry = response.status >= 500 || response.status === 408 || response.status === 429;
    } catch (error) {
      why = error instanceof Error ? error.message : String(error);
      retry = true;
    } finally {
      clear(timeout);
    }
    this.stats.failedAttempts++;
    if (!this.#queue.has(d) || this.#stopped) return;
    const maxAttempts = this.#o.maxAttempts ?? 6;
    const fields = { url: redact(d.url), alarmId: d.alarmId, change: d.change, why };
    if (!retry || d.attempt >= maxAttempts) {
      this.#queue.delete(d);
      this.stats.givenUp++;
      this.#o.log.warn("alarm webhook given up", { ...fields, attempts: d.attempt });
      return;
    }
    const delayMs = this.delayMs(d.attempt);
    this.#o.log.debug("alarm webhook failed; retrying", { ...fields, attempt: d.attempt, delayMs });
    d.timer = set(() => this.#attempt(d), delayMs);
  }

  /** The wait after failed attempt `n` (1-based): up to min(cap, base · 2^(n−1)), jittered. */
  delayMs(attempt: number): number {
    const base = this.#o.baseDelayMs ?? 1000;
    const cap = this.#o.maxDelayMs ?? 60_000;
    const ceiling = Math.min(cap, base * 2 ** (attempt - 1));
    const random = this.#o.random ?? Math.random;
    // "Full jitter", but never under a tenth of the ceiling: a retry at 0 ms is no backoff.
    return Math.round(ceiling * (0.1 + 0.9 * random()));
  }
}

/** A URL for the log without its credentials or query (a token often rides in either). */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}
