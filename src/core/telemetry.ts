/**
 * Telemetry: the v1 wire format, the first-generation wire format, and the one record
 * both decode into. Decoding is the edge: everything inside trusts `TelemetryRecord`.
 */
import { z } from "zod";
import { describeIssues } from "./issues.ts";
import { fastDecodeLegacy, fastDecodeV1 } from "./telemetry_fast.ts";
import { SITE_ID_PATTERN } from "./topics.ts";

/** Larger payloads are rejected unread; a telemetry message is a few hundred bytes. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/** A timestamp before this comes from a clock that was never set (RTC epochs 1970, 2000). */
export const EARLIEST_PLAUSIBLE_TIME = new Date("2020-01-01T00:00:00Z");
/** A timestamp further than this ahead of the receive time comes from a wrong clock. */
export const MAX_CLOCK_AHEAD_MS = 5 * 60 * 1000;

export const SOURCES = ["battery", "generator", "off"] as const;
export type Source = typeof SOURCES[number];

/** One telemetry sample, whichever protocol it came in. Units are in the names. */
export interface TelemetryRecord {
  siteId: string;
  time: Date;
  protocol: "v1" | "legacy";
  /** What supplies the load bus: battery (inverter), generator, or nothing (shutdown). */
  source: Source;
  batteryV: number;
  /** Positive while charging, negative while discharging. */
  batteryA: number | null;
  /** State of charge as reported by a BMS or the device's own estimate. */
  socPct: number | null;
  batteryTempC: number | null;
  loadW: number;
  pvW: number | null;
  genRunning: boolean;
  genW: number | null;
  fuelPct: number | null;
  /** 0 = all loads on; higher tiers shed more. */
  shedTier: number | null;
  seq: number | null;
  /** True when the device clock was implausible and the receive time was used instead. */
  clockRestamped: boolean;
}

const rfc3339 = z.iso.datetime({ offset: true });
const legacySiteId = z.string().regex(
  /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
  "must be a UUID-shaped id (8-4-4-4-12 hex digits)",
);

/** v1 telemetry on `kasi/v1/sites/{siteId}/telemetry`; see docs/protocol.md. */
export const TelemetryV1Schema = z.object({
  v: z.literal(1),
  site_id: z.string().regex(
    SITE_ID_PATTERN,
    "must be 1-64 letters, digits, '.', '_' or '-'",
  ),
  ts: rfc3339,
  seq: z.number().int().min(0).optional(),
  source: z.enum(SOURCES),
  battery_v: z.number().min(0).max(100),
  battery_a: z.number().min(-5000).max(5000).nullable().optional(),
  soc_pct: z.number().min(0).max(100).nullable().optional(),
  battery_temp_c: z.number().min(-40).max(100).nullable().optional(),
  load_w: z.number().min(0).max(1_000_000),
  pv_w: z.number().min(0).max(1_000_000).nullable().optional(),
  gen_running: z.boolean(),
  gen_w: z.number().min(0).max(1_000_000).nullable().optional(),
  fuel_pct: z.number().min(0).max(100).nullable().optional(),
  shed_tier: z.number().int().min(0).max(3).nullable().optional(),
});
export type TelemetryV1 = z.infer<typeof TelemetryV1Schema>;

/** First-generation telemetry on `kasi_power/sites/{site_id}/telemetry`, exactly as deployed. */
export const LegacyTelemetrySchema = z.object({
  site_id: legacySiteId,
  timestamp_utc: rfc3339,
  active_source: z.enum(["Battery", "Diesel", "Shutdown"]),
  battery_voltage: z.number().min(0).max(20),
  is_generator_on: z.boolean(),
  fuel_level_percent: z.number().min(0).max(100),
  current_load_watts: z.number().min(0).max(100_000),
});
export type LegacyTelemetry = z.infer<typeof LegacyTelemetrySchema>;

/**
 * Why a message was rejected, as a stable code of a handful of values: what metrics count by
 * (a label must not carry the free-text reason, which names values and fields).
 */
export type RejectCode =
  | "topic"
  | "empty"
  | "too-large"
  | "not-utf8"
  | "not-json"
  | "not-object"
  | "invalid"
  | "site-mismatch";

export const REJECT_CODES: readonly RejectCode[] = [
  "topic",
  "empty",
  "too-large",
  "not-utf8",
  "not-json",
  "not-object",
  "invalid",
  "site-mismatch",
];

export type DecodeResult =
  | { ok: true; record: TelemetryRecord }
  | { ok: false; reason: string; code: RejectCode };

const LEGACY_SOURCE: Record<LegacyTelemetry["active_source"], Source> = {
  Battery: "battery",
  Diesel: "generator",
  Shutdown: "off",
};

const decoder = new TextDecoder("utf-8", { fatal: true });
const utf8 = new TextEncoder();

function parseJsonObject(
  payload: Uint8Array | string,
): { ok: true; value: object } | {
  ok: false;
  reason: string;
  code: RejectCode;
} {
  // The limit is in bytes, as on the wire; a string (tests, files) is measured as UTF-8.
  const size = typeof payload === "string" ? utf8.encode(payload).byteLength : payload.byteLength;
  if (size === 0) return { ok: false, reason: "payload: empty (0 bytes)", code: "empty" };
  if (size > MAX_PAYLOAD_BYTES) {
    return {
      ok: false,
      reason: `payload: ${size} bytes exceeds the limit of ${MAX_PAYLOAD_BYTES}`,
      code: "too-large",
    };
  }
  let text: string;
  try {
    text = typeof payload === "string" ? payload : decoder.decode(payload);
  } catch {
    return { ok: false, reason: "payload: not valid UTF-8", code: "not-utf8" };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      reason: `payload: not JSON (${(error as Error).message})`,
      code: "not-json",
    };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    return {
      ok: false,
      reason: `payload: expected a JSON object, got ${kind}`,
      code: "not-object",
    };
  }
  return { ok: true, value };
}

/** Whether a device time is implausible: before 2020, or too far ahead of the receive time. */
function clockImplausible(timeMs: number, receivedAt: Date): boolean {
  return timeMs < EARLIEST_PLAUSIBLE_TIME.getTime() ||
    timeMs > receivedAt.getTime() + MAX_CLOCK_AHEAD_MS;
}

/** Uses the device time unless the clock is clearly wrong; then the receive time, flagged. */
function stamp(
  ts: string,
  receivedAt: Date,
): { time: Date; clockRestamped: boolean } {
  const time = new Date(ts);
  if (clockImplausible(time.getTime(), receivedAt)) {
    return { time: new Date(receivedAt), clockRestamped: true };
  }
  return { time, clockRestamped: false };
}

/** The clock rule of `stamp`, applied to a record the fast path decoded with the device time. */
function stamped(record: TelemetryRecord, receivedAt: Date): DecodeResult {
  if (clockImplausible(record.time.getTime(), receivedAt)) {
    record.time = new Date(receivedAt);
    record.clockRestamped = true;
  }
  return { ok: true, record };
}

/** Whether the fast path may look at these bytes at all (it never decides a reject). */
function fastCandidate(payload: Uint8Array | string): payload is Uint8Array {
  return typeof payload !== "string" && payload.byteLength > 0 &&
    payload.byteLength <= MAX_PAYLOAD_BYTES;
}

function checkTopicSite(
  topicSiteId: string,
  payloadSiteId: string,
  field: string,
) {
  if (topicSiteId === payloadSiteId) return undefined;
  return `${field}: "${payloadSiteId}" does not match the topic's site "${topicSiteId}"`;
}

/**
 * Decodes a v1 telemetry payload received on the topic of `topicSiteId`. The common case takes
 * the byte-level fast path (telemetry_fast.ts); everything else, including every reject, the
 * zod path `decodeTelemetryV1Reference`, whose result the fast path always agrees with.
 */
export function decodeTelemetryV1(
  payload: Uint8Array | string,
  topicSiteId: string,
  receivedAt: Date,
): DecodeResult {
  if (fastCandidate(payload)) {
    const record = fastDecodeV1(payload, topicSiteId);
    if (record) return stamped(record, receivedAt);
  }
  return decodeTelemetryV1Reference(payload, topicSiteId, receivedAt);
}

/** The definition of v1 decoding: JSON.parse and the zod schema. */
export function decodeTelemetryV1Reference(
  payload: Uint8Array | string,
  topicSiteId: string,
  receivedAt: Date,
): DecodeResult {
  const json = parseJsonObject(payload);
  if (!json.ok) return json;
  const parsed = TelemetryV1Schema.safeParse(json.value);
  if (!parsed.success) {
    return {
      ok: false,
      reason: describeIssues(parsed.error.issues, json.value),
      code: "invalid",
    };
  }
  const m = parsed.data;
  const mismatch = checkTopicSite(topicSiteId, m.site_id, "site_id");
  if (mismatch) return { ok: false, reason: mismatch, code: "site-mismatch" };
  return {
    ok: true,
    record: {
      siteId: m.site_id,
      ...stamp(m.ts, receivedAt),
      protocol: "v1",
      source: m.source,
      batteryV: m.battery_v,
      batteryA: m.battery_a ?? null,
      socPct: m.soc_pct ?? null,
      batteryTempC: m.battery_temp_c ?? null,
      loadW: m.load_w,
      pvW: m.pv_w ?? null,
      genRunning: m.gen_running,
      genW: m.gen_w ?? null,
      fuelPct: m.fuel_pct ?? null,
      shedTier: m.shed_tier ?? null,
      seq: m.seq ?? null,
    },
  };
}

/** Decodes a first-generation payload received on the topic of `topicSiteId` (fast path first). */
export function decodeLegacyTelemetry(
  payload: Uint8Array | string,
  topicSiteId: string,
  receivedAt: Date,
): DecodeResult {
  if (fastCandidate(payload)) {
    const record = fastDecodeLegacy(payload, topicSiteId);
    if (record) return stamped(record, receivedAt);
  }
  return decodeLegacyTelemetryReference(payload, topicSiteId, receivedAt);
}

/** The definition of first-generation decoding: JSON.parse and the zod schema. */
export function decodeLegacyTelemetryReference(
  payload: Uint8Array | string,
  topicSiteId: string,
  receivedAt: Date,
): DecodeResult {
  const json = parseJsonObject(payload);
  if (!json.ok) return json;
  const parsed = LegacyTelemetrySchema.safeParse(json.value);
  if (!parsed.success) {
    return {
      ok: false,
      reason: describeIssues(parsed.error.issues, json.value),
      code: "invalid",
    };
  }
  const m = parsed.data;
  const mismatch = checkTopicSite(
    topicSiteId.toLowerCase(),
    m.site_id.toLowerCase(),
    "site_id",
  );
  if (mismatch) return { ok: false, reason: mismatch, code: "site-mismatch" };
  return {
    ok: true,
    record: {
      siteId: m.site_id.toLowerCase(),
      ...stamp(m.timestamp_utc, receivedAt),
      protocol: "legacy",
      source: LEGACY_SOURCE[m.active_source],
      batteryV: m.battery_voltage,
      batteryA: null,
      socPct: null,
      batteryTempC: null,
      loadW: m.current_load_watts,
      pvW: null,
      genRunning: m.is_generator_on,
      genW: null,
      fuelPct: m.fuel_level_percent,
      shedTier: null,
      seq: null,
    },
  };
}

/** Encodes a record as a v1 payload (the device side of `decodeTelemetryV1`). */
export function encodeTelemetryV1(r: TelemetryRecord): string {
  const m: TelemetryV1 = {
    v: 1,
    site_id: r.siteId,
    ts: r.time.toISOString(),
    source: r.source,
    battery_v: r.batteryV,
    load_w: r.loadW,
    gen_running: r.genRunning,
  };
  if (r.seq !== null) m.seq = r.seq;
  if (r.batteryA !== null) m.battery_a = r.batteryA;
  if (r.socPct !== null) m.soc_pct = r.socPct;
  if (r.batteryTempC !== null) m.battery_temp_c = r.batteryTempC;
  if (r.pvW !== null) m.pv_w = r.pvW;
  if (r.genW !== null) m.gen_w = r.genW;
  if (r.fuelPct !== null) m.fuel_pct = r.fuelPct;
  if (r.shedTier !== null) m.shed_tier = r.shedTier;
  return JSON.stringify(m);
}
