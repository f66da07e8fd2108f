/**
 * Runs `kasi replay` with checked settings: opens the input and the target, shows progress,
 * prints the summary (stdout), and ends with an error — so a non-zero exit code — when lines
 * were rejected or messages could not be published or stored.
 */
import { DirectIngest } from "../backend/direct_ingest.ts";
import { KasiError } from "../core/errors.ts";
import { connectDatabase, redactDatabaseUrl, resolveDatabaseUrl } from "../db/client.ts";
import { runMigrations } from "../db/migrate.ts";
import { openLineSource } from "./line_source.ts";
import { jsonLogger } from "./log.ts";
import { Progress } from "./progress.ts";
import type { ReplaySettings } from "./replay.ts";
import { WindowedPublisher } from "./replay_publisher.ts";
import { type ReplayCounts, type ReplayTarget, runReplay } from "./replay_run.ts";

/** How long the end of a run waits for the last acknowledgements or commits. */
const FINISH_TIMEOUT_MS = 30_000;

export interface ReplaySummary extends ReplayCounts {
  target: ReplaySettings["target"];
  /** mqtt: acknowledged by the broker. */
  published?: number;
  /** db: telemetry rows inserted. */
  stored?: number;
  /** Duplicates skipped: repeated in the file, or (db) already stored. */
  duplicates: number;
  /** db: rejected messages written to rejected_messages. */
  rejectsStored?: number;
  /** db: events and statuses written. */
  eventsStored?: number;
  statusesStored?: number;
  /** Valid messages neither acknowledged nor committed at the end (broker or database down). */
  unsent: number;
  elapsedS: number;
}

const encoder = new TextEncoder();

export async function executeReplay(settings: ReplaySettings): Promise<ReplaySummary> {
  const log = jsonLogger({ level: "warn", component: "replay" });
  const source = await openLineSource(settings.file);
  const tty = Deno.stderr.isTerminal();
  const writeErr = (text: string) => Deno.stderr.writeSync(encoder.encode(text));
  const progress = new Progress({ tty, write: writeErr, unit: "lines" });
  const startMs = performance.now();
  let publisher: WindowedPublisher | undefined;
  let ingest: DirectIngest | undefined;
  let sql: Awaited<ReturnType<typeof connectDatabase>> | undefined;
  let counts: ReplayCounts;
  let unsent = 0;
  try {
    let target: ReplayTarget;
    if (settings.target === "mqtt") {
      publisher = await WindowedPublisher.connect(settings.mqttUrl, {
        clientId: `kasi-replay-${crypto.randomUUID().slice(0, 8)}`,
        log,
      });
      const p = publisher;
      target = {
        kind: "mqtt",
        publish: (m) => p.publish(m.topic, m.payload, { qos: m.qos, retain: m.retain }),
        sendInvalid: settings.sendInvalid,
      };
    } else if (settings.target === "db") {
      const url = resolveDatabaseUrl({ flag: settings.databaseFlag, env: Deno.env.toObject() });
      sql = await connectDatabase(url, { max: 2, log });
      await runMigrations(sql, { log });
      ingest = new DirectIngest({ sql, log });
      target = { kind: "db", ingest };
      if (!settings.json) console.log(`replay: writing to ${redactDatabaseUrl(url)}`);
    } else {
      target = { kind: "dry-run" };
    }
    counts = await runReplay({
      lines: source.lines,
      target,
      sourceName: settings.file,
      speed: settings.speed,
      maxRate: settings.maxRate,
      reportBad: (text) => progress.log(text),
      onLine: (c) =>
        progress.update({
          done: c.lines,
          fraction: source.totalBytes ? source.bytesRead() / source.totalBytes : null,
          extra: c.rejected > 0 ? `${c.rejected} rejected` : undefined,
        }),
    });
    if (publisher) unsent = await publisher.flush(FINISH_TIMEOUT_MS);
    if (ingest) unsent = await ingest.finish(FINISH_TIMEOUT_MS);
  } finally {
    progress.finish();
    source.close();
    await publisher?.close();
    await sql?.end({ timeout: 5 });
  }
  const summary: ReplaySummary = {
    target: settings.target,
    ...counts,
    duplicates: counts.duplicatesInFile + (ingest?.totals.duplicates ?? 0) +
      (ingest?.totals.duplicateEvents ?? 0),
    unsent: unsent + (publisher?.stats.failed ?? 0),
    elapsedS: Math.round((performance.now() - startMs) / 10) / 100,
  };
  if (publisher) summary.published = publisher.stats.published;
  if (ingest) {
    summary.stored = ingest.totals.stored;
    summary.rejectsStored = ingest.totals.rejects;
    summary.eventsStored = ingest.totals.events;
    summary.statusesStored = ingest.totals.statuses;
  }
  console.log(settings.json ? JSON.stringify(summary) : formatSummary(summary));
  if (summary.unsent > 0) {
    throw new KasiError(
      settings.target === "db" ? "DATABASE_UNAVAILABLE" : "BROKER_UNAVAILABLE",
      `${summary.unsent} valid messages were not ${
        settings.target === "db" ? "stored" : "acknowledged by the broker"
      }`,
    );
  }
  if (summary.rejected > 0) {
    throw new KasiError(
      "INPUT_REJECTED",
      `${summary.rejected} of ${summary.lines} lines rejected (reported above with their numbers)`,
    );
  }
  return summary;
}

/** The summary as aligned `name  value` rows. */
export function formatSummary(s: ReplaySummary): string {
  const rows: [string, number | string][] = [
    ["lines read", s.lines],
    ["valid", s.valid],
    ["rejected", s.rejected],
  ];
  if (s.published !== undefined) rows.push(["published", s.published]);
  if (s.stored !== undefined) {
    rows.push(["stored (telemetry rows)", s.stored]);
    rows.push(["events stored", s.eventsStored ?? 0]);
    rows.push(["statuses written", s.statusesStored ?? 0]);
    rows.push(["rejects stored", s.rejectsStored ?? 0]);
  }
  if (s.target === "dry-run") rows.push(["sent", "none (dry run)"]);
  rows.push(["duplicates skipped", s.duplicates]);
  if (s.ignored > 0) rows.push(["nothing to store", s.ignored]);
  if (s.clockRestamped > 0) rows.push(["clock re-stamped", s.clockRestamped]);
  if (s.unsent > 0) rows.push(["NOT sent or stored", s.unsent]);
  rows.push(["seconds", s.elapsedS]);
  const width = Math.max(...rows.map(([name]) => name.length));
  return "replay summary\n" +
    rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`).join("\n");
}
