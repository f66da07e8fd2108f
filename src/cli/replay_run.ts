/**
 * The replay loop: every line is read, checked as a recording line, then classified exactly as
 * the backend classifies a received message (`classifyMessage`), and sent on: to the broker
 * (paced), to the database through the backend's batch writer, or nowhere (`--dry-run`). A bad
 * line is reported with its number and reason and the run goes on.
 *
 * Receive time: a line's `at` when it has one (a recording says when it was published), else
 * the time it is read. It matters only for a message whose own clock is unusable (telemetry
 * re-stamped, an event or status without a plausible `ts`). In a backfill (`--to db`) such a
 * message without `at` has no honest time at all; it is rejected with that reason, which also
 * keeps a second run from storing it again at another time. `--dry-run` checks as `--to db`
 * does (replay_check.ts), so a file it passes backfills without a reject.
 *
 * `--to db` stores each rejected message in rejected_messages, as the backend does with what it
 * receives: same columns, the reason naming the field and value first, then where it came
 * from (`battery_v: … (got "12.4") (replay of day.jsonl, line 5)`).
 */
import type { DirectIngest } from "../backend/direct_ingest.ts";
import { decodeRecordingLine, type RecordedMessage } from "../core/recording.ts";
import type { Line } from "./line_source.ts";
import { checkRecordedMessage } from "./replay_check.ts";

export type ReplayTarget =
  | { kind: "dry-run" }
  | {
    kind: "mqtt";
    publish: (m: RecordedMessage) => Promise<void>;
    /** Publish messages the backend would reject too (to test a backend's handling of them). */
    sendInvalid: boolean;
  }
  | { kind: "db"; ingest: DirectIngest };

export interface ReplayOptions {
  lines: AsyncIterable<Line>;
  target: ReplayTarget;
  /** The input as the user named it (`-`: stdin), for the reasons stored with rejects. */
  sourceName?: string;
  /** Keep the recorded spacing (`at`) divided by this; mqtt only. */
  speed?: number;
  /** At most this many messages per second; mqtt only. */
  maxRate?: number;
  /** Called with each bad line's report, e.g. `line 7: battery_voltage: ... (got "12.4")`. */
  reportBad: (text: string) => void;
  /** Called after each line, for progress. */
  onLine?: (counts: ReplayCounts) => void;
  /** Wall clock in ms (tests). */
  nowMs?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ReplayCounts {
  /** Non-empty lines read. */
  lines: number;
  /** Lines that are valid messages (whether or not sent). */
  valid: number;
  rejected: number;
  /** Telemetry repeated within the file (same site and time): not sent again. */
  duplicatesInFile: number;
  /** Valid messages with nothing to store (an empty retained status clearing a topic). */
  ignored: number;
  /** Telemetry with an implausible device clock; stamped with the receive time. */
  clockRestamped: number;
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runReplay(options: ReplayOptions): Promise<ReplayCounts> {
  const nowMs = options.nowMs ?? (() => Date.now());
  const sleep = options.sleep ?? sleepMs;
  const { target } = options;
  const counts: ReplayCounts = {
    lines: 0,
    valid: 0,
    rejected: 0,
    duplicatesInFile: 0,
    ignored: 0,
    clockRestamped: 0,
  };
  const seen = new Set<string>();
  const startMs = nowMs();
  let firstAtMs: number | null = null;
  let lastOffsetMs = 0;
  let sent = 0;
  const bad = (lineNo: number, reason: string) => {
    counts.rejected++;
    options.reportBad(`line ${lineNo}: ${reason}`);
  };

  for await (const line of options.lines) {
    counts.lines++;
    try {
      if (line.text === null) {
        bad(line.lineNo, line.reason);
        continue;
      }
      const decoded = decodeRecordingLine(line.text);
      if (!decoded.ok) {
        bad(line.lineNo, decoded.reason);
        continue;
      }
      const m = decoded.message;
      const receivedAtMs = m.atMs ?? nowMs();
      const check = checkRecordedMessage(m, { receivedAtMs, backfill: target.kind !== "mqtt" });
      let send = true;
      if (!check.ok) {
        bad(line.lineNo, check.reject.reason);
        if (target.kind === "db") {
          const name = options.sourceName === "-" ? "stdin" : options.sourceName;
          const from = name === undefined ? "replay" : `replay of ${name}`;
          const reason = `${check.reject.reason} (${from}, line ${line.lineNo})`;
          await target.ingest.push({
            kind: "reject",
            reject: { ...check.reject, reason },
            code: check.code,
          });
          continue;
        }
        send = target.kind === "mqtt" && target.sendInvalid && check.backendRejects;
        if (!send) continue;
      } else if (check.inbound.kind === "ignore") {
        counts.valid++;
        counts.ignored++;
        if (target.kind !== "mqtt") continue;
      } else {
        const inbound = check.inbound;
        counts.valid++;
        if (inbound.kind === "telemetry") {
          if (inbound.record.clockRestamped) counts.clockRestamped++;
          // To the broker, a re-stamped record's time is the backend's receive time, unknown
          // here; a dry run checks as a backfill, where it is the line's `at`. The database
          // skips what it already holds, duplicates in the file included.
          const timeKnown = target.kind === "dry-run" || !inbound.record.clockRestamped;
          if (target.kind !== "db" && timeKnown) {
            // The backend stores the first of a site's messages for one instant; so does this.
            const key = `${inbound.record.siteId}\u0000${inbound.record.time.getTime()}`;
            if (seen.has(key)) {
              counts.duplicatesInFile++;
              continue;
            }
            seen.add(key);
          }
        }
        if (target.kind === "db") {
          await target.ingest.push(inbound);
          continue;
        }
      }
      if (!send || target.kind !== "mqtt") continue;
      // Pacing: the later of the recorded spacing over --speed and the --max-rate slot.
      let offsetMs = 0;
      if (options.speed !== undefined && m.atMs !== null) {
        firstAtMs ??= m.atMs;
        offsetMs = Math.max(lastOffsetMs, (m.atMs - firstAtMs) / options.speed);
        lastOffsetMs = offsetMs;
      }
      if (options.maxRate !== undefined) {
        offsetMs = Math.max(offsetMs, (sent * 1000) / options.maxRate);
      }
      const waitMs = startMs + offsetMs - nowMs();
      // Sleeping below a couple of ms costs more than it keeps in step.
      if (waitMs >= 2) await sleep(waitMs);
      sent++;
      await target.publish(m);
    } finally {
      options.onLine?.(counts);
    }
  }
  return counts;
}
