/**
 * A recording: MQTT messages as JSON lines, what `kasi simulate-fleet --record` writes and
 * `kasi replay` reads. One line is one message:
 *
 *   {"at":"2026-11-20T10:00:00.125Z","topic":"kasi/v1/sites/s-1/telemetry","payload":"{...}"}
 *
 * - `topic` (required): the topic it was published on; no wildcards.
 * - `payload` (required unless `payload_base64`): the payload bytes as UTF-8 text, exactly.
 * - `payload_base64`: the payload as base64, for bytes that are not UTF-8 text.
 * - `at`: when it was published (RFC 3339); gives the spacing `--speed` keeps, and the receive
 *   time a backfill (`--to db`) stamps a message with whose device clock was wrong.
 * - `qos` (0 or 1, default 1) and `retain` (default false): how it was published.
 * Other fields are ignored, so the shared test cases (`name`, `expect`, `why`) read as they are.
 */
import { z } from "zod";
import { describeIssues } from "./issues.ts";

const LineSchema = z.object({
  // MQTT 3.1.1 §4.7.3: a topic name has no wildcards and no U+0000.
  topic: z.string().min(1).max(65_535).refine((t) => !/[+#]/.test(t) && !t.includes("\0"), {
    message: "must be a topic name without the wildcards + and #",
  }),
  payload: z.string().optional(),
  payload_base64: z.base64().optional(),
  at: z.iso.datetime({ offset: true }).optional(),
  qos: z.union([z.literal(0), z.literal(1)]).optional(),
  retain: z.boolean().optional(),
});

export interface RecordedMessage {
  topic: string;
  payload: Uint8Array;
  /** When it was published (epoch ms), or null when the line does not say. */
  atMs: number | null;
  qos: 0 | 1;
  retain: boolean;
}

export type RecordingLineResult =
  | { ok: true; message: RecordedMessage }
  | { ok: false; reason: string };

const utf8 = new TextEncoder();

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Reads one line of a recording; a bad line gets a reason naming the field and the value. */
export function decodeRecordingLine(line: string): RecordingLineResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { ok: false, reason: `line: not JSON (${(error as Error).message})` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, reason: "line: expected a JSON object with topic and payload" };
  }
  const parsed = LineSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error.issues, value) };
  const m = parsed.data;
  if ((m.payload === undefined) === (m.payload_base64 === undefined)) {
    return { ok: false, reason: "payload: give exactly one of payload and payload_base64" };
  }
  return {
    ok: true,
    message: {
      topic: m.topic,
      payload: m.payload !== undefined ? utf8.encode(m.payload) : fromBase64(m.payload_base64!),
      atMs: m.at === undefined ? null : new Date(m.at).getTime(),
      qos: m.qos ?? 1,
      retain: m.retain ?? false,
    },
  };
}

/** One recording line (without the newline) for a message published at `at`. */
export function encodeRecordingLine(
  message: { topic: string; payload: string; at: Date; qos?: 0 | 1; retain?: boolean },
): string {
  const line: Record<string, unknown> = {
    at: message.at.toISOString(),
    topic: message.topic,
    payload: message.payload,
  };
  if (message.qos === 0) line.qos = 0;
  if (message.retain) line.retain = true;
  return JSON.stringify(line);
}
