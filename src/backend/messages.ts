/**
 * What one MQTT message the backend receives becomes: a telemetry record, a status change, an
 * event, or a reject with a reason. Pure: the receive time is passed in. Every payload is parsed
 * here, once, at the edge.
 */
import { z } from "zod";
import { ALARM_EVENT_ORIGIN } from "../core/alarm.ts";
import { describeIssues } from "../core/issues.ts";
import {
  decodeLegacyTelemetry,
  decodeTelemetryV1,
  EARLIEST_PLAUSIBLE_TIME,
  MAX_CLOCK_AHEAD_MS,
  MAX_PAYLOAD_BYTES,
  type RejectCode,
  type TelemetryRecord,
} from "../core/telemetry.ts";
import { profileFromWire, type SiteProfile, SiteProfileWireSchema } from "../core/site_profile.ts";
import { parseTopic, SITE_ID_PATTERN } from "../core/topics.ts";
import type { RejectedMessage } from "../db/store.ts";

export type SiteEvent = { siteId: string; time: Date; kind: string; detail: unknown };

export type Inbound =
  | {
    kind: "telemetry";
    record: TelemetryRecord;
    /** The site id as the topic spelled it; a first-generation device listens on that. */
    topicSiteId: string;
    receivedAt: Date;
  }
  | { kind: "status"; siteId: string; status: "online" | "offline"; at: Date }
  | { kind: "event"; event: SiteEvent; receivedAt: Date }
  /** A `profile` event: stored as an event, and the site's profile is replaced. */
  | { kind: "profile"; event: SiteEvent; profile: SiteProfile; receivedAt: Date }
  /** `code`: the reason as one of a few stable values, for metrics. */
  | { kind: "reject"; reject: RejectedMessage; code: RejectCode }
  /** Nothing to store: an empty retained message that clears a topic. */
  | { kind: "ignore"; why: string };

const rfc3339 = z.iso.datetime({ offset: true });

/** `kasi/v1/sites/{id}/status`: a bare word (as a last will usually is) or a JSON object. */
const StatusObjectSchema = z.object({
  status: z.enum(["online", "offline"]),
  ts: rfc3339.optional(),
});
const STATUS_WORDS = new Set(["online", "offline"]);

/** `kasi/v1/sites/{id}/event`: a JSON object with at least a `kind`; the rest is detail. */
const EventSchema = z.looseObject({
  kind: z.string().min(1).max(64),
  ts: rfc3339.optional(),
  site_id: z.string().optional(),
});

const decoder = new TextDecoder("utf-8", { fatal: true });

function reject(
  topic: string,
  payload: Uint8Array,
  why: { reason: string; code: RejectCode },
  receivedAt: Date,
): Inbound {
  return {
    kind: "reject",
    reject: { topic, payload, reason: why.reason, receivedAt },
    code: why.code,
  };
}

/** Device time when plausible, else the receive time (as telemetry does). */
function eventTime(ts: string | undefined, receivedAt: Date): Date {
  if (ts === undefined) return receivedAt;
  const t = new Date(ts).getTime();
  if (t < EARLIEST_PLAUSIBLE_TIME.getTime() || t > receivedAt.getTime() + MAX_CLOCK_AHEAD_MS) {
    return receivedAt;
  }
  return new Date(t);
}

function parseJson(
  payload: Uint8Array,
): { ok: true; value: unknown; text: string } | { ok: false; reason: string; code: RejectCode } {
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    return {
      ok: false,
      reason: `payload: ${payload.byteLength} bytes exceeds the limit of ${MAX_PAYLOAD_BYTES}`,
      code: "too-large",
    };
  }
  let text: string;
  try {
    text = decoder.decode(payload);
  } catch {
    return { ok: false, reason: "payload: not valid UTF-8", code: "not-utf8" };
  }
  try {
    return { ok: true, value: JSON.parse(text), text };
  } catch {
    return { ok: true, value: undefined, text };
  }
}

function classifyStatus(
  topic: string,
  siteId: string,
  payload: Uint8Array,
  receivedAt: Date,
): Inbound {
  if (payload.byteLength === 0) return { kind: "ignore", why: "retained status cleared" };
  const json = parseJson(payload);
  if (!json.ok) return reject(topic, payload, json, receivedAt);
  const word = json.text.trim();
  if (STATUS_WORDS.has(word)) {
    return { kind: "status", siteId, status: word as "online" | "offline", at: receivedAt };
  }
  const parsed = StatusObjectSchema.safeParse(json.value);
  if (!parsed.success) {
    const reason = json.value === undefined
      ? `payload: expected "online", "offline" or {"status": ...}, got ${
        JSON.stringify(word.slice(0, 40))
      }`
      : describeIssues(parsed.error.issues, json.value);
    return reject(topic, payload, { reason, code: "invalid" }, receivedAt);
  }
  return {
    kind: "status",
    siteId,
    status: parsed.data.status,
    at: eventTime(parsed.data.ts, receivedAt),
  };
}

function classifyEvent(
  topic: string,
  siteId: string,
  payload: Uint8Array,
  receivedAt: Date,
): Inbound {
  if (payload.byteLength === 0) {
    return reject(
      topic,
      payload,
      { reason: "payload: empty (0 bytes)", code: "empty" },
      receivedAt,
    );
  }
  const json = parseJson(payload);
  if (!json.ok) return reject(topic, payload, json, receivedAt);
  const value = json.value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const got = value === undefined
      ? "not JSON"
      : Array.isArray(value)
      ? "an array"
      : String(value);
    return reject(topic, payload, {
      reason: `payload: expected a JSON object with "kind", got ${got}`,
      code: value === undefined ? "not-json" : "not-object",
    }, receivedAt);
  }
  const parsed = EventSchema.safeParse(value);
  if (!parsed.success) {
    return reject(topic, payload, {
      reason: describeIssues(parsed.error.issues, value),
      code: "invalid",
    }, receivedAt);
  }
  if (parsed.data.site_id !== undefined && parsed.data.site_id !== siteId) {
    return reject(topic, payload, {
      reason: `site_id: "${parsed.data.site_id}" does not match the topic's site "${siteId}"`,
      code: "site-mismatch",
    }, receivedAt);
  }
  if (
    parsed.data.kind === "alarm" && (value as { origin?: unknown }).origin === ALARM_EVENT_ORIGIN
  ) {
    // What the backend itself published (alarms.ts): stored already, in the alarms table.
    return { kind: "ignore", why: "the backend's own alarm event" };
  }
  const event = {
    siteId,
    time: eventTime(parsed.data.ts, receivedAt),
    kind: parsed.data.kind,
    detail: value,
  };
  if (parsed.data.kind === "profile") {
    const raw = (value as { profile?: unknown }).profile;
    const profile = SiteProfileWireSchema.safeParse(raw);
    if (!profile.success) {
      const issues = profile.error.issues.map((i) => ({ ...i, path: ["profile", ...i.path] }));
      return reject(topic, payload, {
        reason: describeIssues(issues, value),
        code: "invalid",
      }, receivedAt);
    }
    if (profile.data.site_id !== siteId) {
      return reject(topic, payload, {
        reason:
          `profile.site_id: "${profile.data.site_id}" does not match the topic's site "${siteId}"`,
        code: "site-mismatch",
      }, receivedAt);
    }
    return { kind: "profile", event, profile: profileFromWire(profile.data), receivedAt };
  }
  return { kind: "event", event, receivedAt };
}

/** Classifies one received message. Never throws. */
export function classifyMessage(topic: string, payload: Uint8Array, receivedAt: Date): Inbound {
  const parsed = parseTopic(topic);
  if (!parsed) {
    return reject(
      topic,
      payload,
      { reason: `topic: "${topic}" is not a Kasi topic`, code: "topic" },
      receivedAt,
    );
  }
  if (parsed.kind === "legacy-telemetry") {
    const result = decodeLegacyTelemetry(payload, parsed.siteId, receivedAt);
    if (!result.ok) return reject(topic, payload, result, receivedAt);
    return { kind: "telemetry", record: result.record, topicSiteId: parsed.siteId, receivedAt };
  }
  if (!SITE_ID_PATTERN.test(parsed.siteId)) {
    return reject(topic, payload, {
      reason: `topic: site id "${parsed.siteId}" must be 1-64 letters, digits, '.', '_' or '-'`,
      code: "topic",
    }, receivedAt);
  }
  switch (parsed.channel) {
    case "telemetry": {
      const result = decodeTelemetryV1(payload, parsed.siteId, receivedAt);
      if (!result.ok) return reject(topic, payload, result, receivedAt);
      return { kind: "telemetry", record: result.record, topicSiteId: parsed.siteId, receivedAt };
    }
    case "status":
      return classifyStatus(topic, parsed.siteId, payload, receivedAt);
    case "event":
      return classifyEvent(topic, parsed.siteId, payload, receivedAt);
    case "command":
      return { kind: "ignore", why: "commands are what the backend sends" };
  }
}
