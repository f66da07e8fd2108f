/**
 * The backend's Prometheus metrics, every name prefixed `kasi_`. Counters are counted where the
 * work happens (a message taken, a batch committed, a command sent); gauges are read from the
 * service's state when scraped.
 */
import type { SiteStatus } from "../db/store.ts";
import { REJECT_CODES, type RejectCode } from "../core/telemetry.ts";
import type { CommittedBatch } from "./batch_writer.ts";
import { type Counter, type Histogram, MetricsRegistry } from "./http/metrics.ts";

/** Batch latency buckets in seconds: the writer waits 5 ms, a commit takes a few more. */
export const BATCH_LATENCY_BUCKETS_S = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

export interface BackendGauges {
  /** Sites known, by status. */
  sites: () => { status: SiteStatus; count: number }[];
  /** Alarms open (raised or acknowledged); null when the backend has no alarm engine. */
  alarmsOpen: () => number | null;
  pending: () => number;
  streamClients: () => number;
}

export class BackendMetrics {
  readonly registry = new MetricsRegistry();
  readonly received: Counter;
  readonly stored: Counter;
  readonly duplicates: Counter;
  readonly rejected: Counter;
  readonly events: Counter;
  readonly statusUpdates: Counter;
  readonly commandsSent: Counter;
  readonly batchLatency: Histogram;

  constructor(gauges: BackendGauges) {
    const r = this.registry;
    this.received = r.counter(
      "kasi_messages_received_total",
      "MQTT messages taken from the broker.",
    );
    this.stored = r.counter("kasi_telemetry_stored_total", "Telemetry rows inserted.");
    this.duplicates = r.counter(
      "kasi_telemetry_duplicates_total",
      "Telemetry already stored (redeliveries, repeats), not inserted again.",
    );
    this.rejected = r.counter(
      "kasi_messages_rejected_total",
      "Messages rejected and stored in rejected_messages, by reason code.",
      { labelNames: ["reason"], initial: REJECT_CODES.map((reason) => ({ reason })) },
    );
    this.events = r.counter("kasi_events_stored_total", "Site events stored.");
    this.statusUpdates = r.counter(
      "kasi_status_updates_total",
      "Site status messages (online, offline, last will) stored.",
    );
    this.commandsSent = r.counter("kasi_commands_sent_total", "Strategic commands published.");
    this.batchLatency = r.histogram(
      "kasi_batch_latency_seconds",
      "From a batch's first message reaching the writer to its COMMIT.",
      BATCH_LATENCY_BUCKETS_S,
    );
    r.gauge("kasi_sites", "Sites known to the backend, by status.", () => {
      const byStatus = new Map<SiteStatus, number>([["online", 0], ["offline", 0], ["unknown", 0]]);
      for (const s of gauges.sites()) {
        byStatus.set(s.status, (byStatus.get(s.status) ?? 0) + s.count);
      }
      return [...byStatus].map(([status, value]) => ({ labels: { status }, value }));
    });
    r.gauge("kasi_sites_online", "Sites whose status is online.", () => {
      return gauges.sites().filter((s) => s.status === "online").reduce((n, s) => n + s.count, 0);
    });
    r.gauge("kasi_alarms_open", "Alarms raised or acknowledged, not cleared.", () => {
      const n = gauges.alarmsOpen();
      // NaN says "not measured": no alarm engine in this backend.
      return n ?? NaN;
    });
    r.gauge(
      "kasi_messages_pending",
      "Messages received and not yet committed and acknowledged.",
      gauges.pending,
    );
    r.gauge("kasi_stream_clients", "Live web view streams open.", gauges.streamClients);
  }

  /** Counts one committed batch. */
  committed(batch: CommittedBatch): void {
    this.stored.inc({}, batch.inserted);
    this.duplicates.inc({}, batch.records.length - batch.inserted);
    for (const r of batch.rejects) this.rejected.inc({ reason: r.code satisfies RejectCode });
    this.events.inc({}, batch.events);
    this.statusUpdates.inc({}, batch.statuses.length);
    this.batchLatency.observe(batch.latencyMs / 1000);
  }
}
