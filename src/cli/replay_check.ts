/**
 * The one check every replayed message goes through, whatever the target: the backend's own
 * `classifyMessage`, then what a replay adds. `--dry-run` and `--to db` check alike (a backfill:
 * a message whose own clock is unusable needs the line's `at`); `--to mqtt` leaves that to the
 * backend, which stamps such a message with its receive time.
 */
import { classifyMessage, type Inbound } from "../backend/messages.ts";
import type { RecordedMessage } from "../core/recording.ts";
import { parseTopic } from "../core/topics.ts";
import type { RejectedMessage } from "../db/store.ts";
import type { RejectCode } from "../core/telemetry.ts";

export type Accepted = Exclude<Inbound, { kind: "reject" }>;

export type LineCheck =
  | { ok: true; inbound: Accepted }
  | {
    ok: false;
    /** As it is stored in rejected_messages: the field first (`battery_v: …`). */
    reject: RejectedMessage;
    /** Its stable reason code, as the live path counts it in `kasi_messages_rejected_total`. */
    code: RejectCode;
    /** The backend would reject it too (so `--send-invalid` may publish it). */
    backendRejects: boolean;
  };

/** Why a valid message cannot be backfilled without a receive time, or undefined. */
function needsReceiveTime(inbound: Accepted, receivedAtMs: number): string | undefined {
  if (inbound.kind === "telemetry" && inbound.record.clockRestamped) {
    return "the device clock is implausible (before 2020 or more than 5 min ahead)";
  }
  if (
    (inbound.kind === "event" || inbound.kind === "profile") &&
    inbound.event.time.getTime() === receivedAtMs
  ) {
    return "the event has no plausible ts";
  }
  if (inbound.kind === "status" && inbound.at.getTime() === receivedAtMs) {
    return "the status has no ts";
  }
  return undefined;
}

/**
 * Checks one recorded message. `receivedAtMs` is the line's `at`, or the time it is read;
 * `backfill` applies the rule of a target with no receive time of its own (db, dry run).
 */
export function checkRecordedMessage(
  m: RecordedMessage,
  options: { receivedAtMs: number; backfill: boolean },
): LineCheck {
  const receivedAt = new Date(options.receivedAtMs);
  const refuse = (reason: string, code: RejectCode, backendRejects: boolean): LineCheck => ({
    ok: false,
    reject: { topic: m.topic, payload: m.payload, reason, receivedAt },
    code,
    backendRejects,
  });
  const inbound = classifyMessage(m.topic, m.payload, receivedAt);
  if (inbound.kind === "reject") {
    return { ok: false, reject: inbound.reject, code: inbound.code, backendRejects: true };
  }
  if (inbound.kind === "ignore") {
    const topic = parseTopic(m.topic);
    if (topic?.kind === "v1" && topic.channel === "command") {
      return refuse(
        `topic: "${m.topic}" is a command topic; commands are what the backend sends, ` +
          "a replay does not publish them",
        "topic",
        false,
      );
    }
    return { ok: true, inbound };
  }
  if (options.backfill && m.atMs === null) {
    const why = needsReceiveTime(inbound, options.receivedAtMs);
    if (why) {
      return refuse(
        `at: missing, and ${why}: a backfill has no receive time to stamp it with`,
        "invalid",
        false,
      );
    }
  }
  return { ok: true, inbound };
}
