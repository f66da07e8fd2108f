/**
 * What a simulated fleet measures: messages sent and acknowledged, commands received, errors,
 * connections, and the telemetry→command round trip.
 *
 * The round trip of a command is: its arrival at the site, minus the `ts` of the newest
 * telemetry message the site had sent before the command's `issued_at`. The backend plans a
 * site after a batch with its telemetry commits, and commands it from the newest record it has,
 * so that message is the one the command answers as long as the backend answers within one
 * telemetry interval (were it slower, a command would be credited to a newer message, and the
 * figure would come out too low; the p99 then sits near the interval, which shows it). `ts` is
 * read from the wall clock just before the message is published, and `issued_at` from the
 * backend's wall clock: on one host they are the same clock; across hosts, the figure is off by
 * their clock offset (NTP keeps that to a few ms). Retained commands delivered on subscribe
 * answer no message of this run and are not counted.
 */

/** The p-th percentile (0–100) by nearest rank: the smallest value ≥ p % of the samples. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export interface FleetCounts {
  sites: number;
  connectionsOpen: number;
  telemetrySent: number;
  /** Acknowledged by the broker (PUBACK). */
  telemetryAcked: number;
  /** Status and event messages sent. */
  otherSent: number;
  commandsReceived: number;
  commandsAccepted: number;
  /** Sites that accepted at least one command. */
  sitesCommanded: number;
  commandsRejected: number;
  /** Retained commands delivered on subscribe (from before this run). */
  commandsRetained: number;
  publishErrors: number;
  connectionErrors: number;
}

/** The newest error of each kind, for the report and for tests to say what went wrong. */
export interface FleetErrors {
  publish: string | null;
  connection: string | null;
  tick: string | null;
}

export interface RoundTrip {
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** Growable store of round trips, all kept for exact percentiles (8 bytes each). */
export class FleetMetrics {
  readonly counts: FleetCounts = {
    sites: 0,
    connectionsOpen: 0,
    telemetrySent: 0,
    telemetryAcked: 0,
    otherSent: 0,
    commandsReceived: 0,
    commandsAccepted: 0,
    sitesCommanded: 0,
    commandsRejected: 0,
    commandsRetained: 0,
    publishErrors: 0,
    connectionErrors: 0,
  };
  readonly lastErrors: FleetErrors = { publish: null, connection: null, tick: null };
  #samples = new Float64Array(1024);
  #n = 0;
  /** Where the current report window starts in the samples. */
  #windowStart = 0;

  addRoundTrip(ms: number): void {
    if (this.#n === this.#samples.length) {
      const bigger = new Float64Array(this.#samples.length * 2);
      bigger.set(this.#samples);
      this.#samples = bigger;
    }
    this.#samples[this.#n++] = ms;
  }

  /** Round trips of the whole run. */
  roundTrip(): RoundTrip {
    return summarize(this.#samples.subarray(0, this.#n));
  }

  /** Round trips after the first `count` (e.g. those of a warm-up). */
  roundTripSince(count: number): RoundTrip {
    return summarize(this.#samples.subarray(Math.min(count, this.#n), this.#n));
  }

  /** Round trips since the previous call: what a periodic report shows. */
  windowRoundTrip(): RoundTrip {
    const window = summarize(this.#samples.subarray(this.#windowStart, this.#n));
    this.#windowStart = this.#n;
    return window;
  }
}

function summarize(samples: Float64Array): RoundTrip {
  const sorted = samples.slice().sort();
  return {
    count: sorted.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1]! : null,
  };
}
