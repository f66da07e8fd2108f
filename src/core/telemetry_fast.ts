/**
 * The fast path of telemetry decoding: the schemas of telemetry.ts checked by hand on the fields
 * flat_json.ts reads from the bytes. It returns a record only when the zod path would return
 * the same record; anything else (a bad value, a field of the wrong type, an odd encoding)
 * returns undefined and telemetry.ts runs the zod path, which rejects it with its reason.
 * tests/core/telemetry_fast_test.ts checks the two agree, case by case and on random inputs.
 *
 * The time is the device's; telemetry.ts applies the clock rule (restamping) afterwards.
 */
import {
  FlatFields,
  KIND_ABSENT,
  KIND_FALSE,
  KIND_NULL,
  KIND_NUMBER,
  KIND_STRING,
  KIND_TRUE,
  scanFlatObject,
} from "./flat_json.ts";
import { rfc3339Ms } from "./rfc3339.ts";
import type { Source, TelemetryRecord } from "./telemetry.ts";

const LEGACY = new FlatFields([
  "site_id",
  "timestamp_utc",
  "active_source",
  "battery_voltage",
  "is_generator_on",
  "fuel_level_percent",
  "current_load_watts",
]);

const V1 = new FlatFields([
  "v",
  "site_id",
  "ts",
  "seq",
  "source",
  "battery_v",
  "battery_a",
  "soc_pct",
  "battery_temp_c",
  "load_w",
  "pv_w",
  "gen_running",
  "gen_w",
  "fuel_pct",
  "shed_tier",
]);

function stringIs(bytes: Uint8Array, fields: FlatFields, slot: number, word: string): boolean {
  const start = fields.starts[slot]!;
  if (fields.ends[slot]! - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (bytes[start + i] !== word.charCodeAt(i)) return false;
  return true;
}

function sourceOf(bytes: Uint8Array, fields: FlatFields, slot: number, legacy: boolean) {
  if (fields.kinds[slot] !== KIND_STRING) return undefined;
  if (legacy) {
    if (stringIs(bytes, fields, slot, "Battery")) return "battery";
    if (stringIs(bytes, fields, slot, "Diesel")) return "generator";
    if (stringIs(bytes, fields, slot, "Shutdown")) return "off";
    return undefined;
  }
  if (stringIs(bytes, fields, slot, "battery")) return "battery";
  if (stringIs(bytes, fields, slot, "generator")) return "generator";
  if (stringIs(bytes, fields, slot, "off")) return "off";
  return undefined;
}

/** A required number in [min, max]; NaN when absent, of another type or out of range. */
function required(fields: FlatFields, slot: number, min: number, max: number): number {
  if (fields.kinds[slot] !== KIND_NUMBER) return NaN;
  const x = fields.numbers[slot]!;
  return x >= min && x <= max ? x : NaN;
}

/**
 * An optional nullable number: null when absent or null, the number when in [min, max],
 * undefined when anything else.
 */
function optional(
  fields: FlatFields,
  slot: number,
  min: number,
  max: number,
): number | null | undefined {
  const kind = fields.kinds[slot];
  if (kind === KIND_ABSENT || kind === KIND_NULL) return null;
  if (kind !== KIND_NUMBER) return undefined;
  const x = fields.numbers[slot]!;
  return x >= min && x <= max ? x : undefined;
}

function bool(fields: FlatFields, slot: number): boolean | undefined {
  const kind = fields.kinds[slot];
  return kind === KIND_TRUE ? true : kind === KIND_FALSE ? false : undefined;
}

/** 1 for the bytes of 0-9, a-f, A-F. */
const HEX = new Uint8Array(256);
for (const c of "0123456789abcdefABCDEF") HEX[c.charCodeAt(0)] = 1;

function hexDigit(c: number): boolean {
  return HEX[c & 0xff] === 1 && c < 0x80;
}

/** Bit i set: position i of a UUID is a dash (8-4-4-4-12). */
const UUID_DASHES = (1 << 8) | (1 << 13) | (1 << 18) | (1 << 23);

/** UUID-shaped (8-4-4-4-12 hex) and equal to the topic's id ignoring ASCII case. */
function legacySiteMatches(bytes: Uint8Array, start: number, end: number, topicSite: string) {
  if (end - start !== 36 || topicSite.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = bytes[start + i]!;
    const t = topicSite.charCodeAt(i);
    if (i < 31 && (UUID_DASHES >>> i) & 1) {
      if (c !== 0x2d || t !== 0x2d) return false;
    } else if (c === t) {
      if (!hexDigit(c)) return false;
      // Hex letters differ from their upper case by 0x20 only.
    } else if ((c | 0x20) !== (t | 0x20) || !hexDigit(c) || !hexDigit(t)) {
      return false;
    }
  }
  return true;
}

function siteIdChar(c: number, first: boolean): boolean {
  const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  return alnum || (!first && (c === 0x2e || c === 0x5f || c === 0x2d));
}

/** SITE_ID_PATTERN (1–64 of [A-Za-z0-9._-], first alphanumeric) and equal to the topic's id. */
function v1SiteMatches(bytes: Uint8Array, start: number, end: number, topicSite: string) {
  const length = end - start;
  if (length < 1 || length > 64 || topicSite.length !== length) return false;
  for (let i = 0; i < length; i++) {
    const c = bytes[start + i]!;
    if (!siteIdChar(c, i === 0) || topicSite.charCodeAt(i) !== c) return false;
  }
  return true;
}

/** A first-generation payload the zod path would accept, decoded; otherwise undefined. */
export function fastDecodeLegacy(
  payload: Uint8Array,
  topicSiteId: string,
): TelemetryRecord | undefined {
  const f = LEGACY;
  if (!scanFlatObject(payload, f)) return undefined;
  if (f.kinds[0] !== KIND_STRING || f.kinds[1] !== KIND_STRING) return undefined;
  if (!legacySiteMatches(payload, f.starts[0]!, f.ends[0]!, topicSiteId)) return undefined;
  const timeMs = rfc3339Ms(payload, f.starts[1]!, f.ends[1]!);
  const source: Source | undefined = sourceOf(payload, f, 2, true);
  const batteryV = required(f, 3, 0, 20);
  const genRunning = bool(f, 4);
  const fuelPct = required(f, 5, 0, 100);
  const loadW = required(f, 6, 0, 100_000);
  if (
    Number.isNaN(timeMs) || source === undefined || Number.isNaN(batteryV) ||
    genRunning === undefined || Number.isNaN(fuelPct) || Number.isNaN(loadW)
  ) return undefined;
  return {
    siteId: topicSiteId.toLowerCase(),
    time: new Date(timeMs),
    protocol: "legacy",
    source,
    batteryV,
    batteryA: null,
    socPct: null,
    batteryTempC: null,
    loadW,
    pvW: null,
    genRunning,
    genW: null,
    fuelPct,
    shedTier: null,
    seq: null,
    clockRestamped: false,
  };
}

/** A v1 payload the zod path would accept, decoded; otherwise undefined. */
export function fastDecodeV1(
  payload: Uint8Array,
  topicSiteId: string,
): TelemetryRecord | undefined {
  const f = V1;
  if (!scanFlatObject(payload, f)) return undefined;
  if (f.kinds[0] !== KIND_NUMBER || f.numbers[0] !== 1) return undefined;
  if (f.kinds[1] !== KIND_STRING || f.kinds[2] !== KIND_STRING) return undefined;
  if (!v1SiteMatches(payload, f.starts[1]!, f.ends[1]!, topicSiteId)) return undefined;
  const timeMs = rfc3339Ms(payload, f.starts[2]!, f.ends[2]!);
  // seq is optional but not nullable.
  let seq: number | null = null;
  if (f.kinds[3] !== KIND_ABSENT) {
    const x = f.numbers[3]!;
    if (f.kinds[3] !== KIND_NUMBER || !Number.isSafeInteger(x) || x < 0) return undefined;
    seq = x;
  }
  const source = sourceOf(payload, f, 4, false);
  const batteryV = required(f, 5, 0, 100);
  const batteryA = optional(f, 6, -5000, 5000);
  const socPct = optional(f, 7, 0, 100);
  const batteryTempC = optional(f, 8, -40, 100);
  const loadW = required(f, 9, 0, 1_000_000);
  const pvW = optional(f, 10, 0, 1_000_000);
  const genRunning = bool(f, 11);
  const genW = optional(f, 12, 0, 1_000_000);
  const fuelPct = optional(f, 13, 0, 100);
  const shedTier = optional(f, 14, 0, 3);
  if (
    Number.isNaN(timeMs) || source === undefined || Number.isNaN(batteryV) ||
    batteryA === undefined || socPct === undefined || batteryTempC === undefined ||
    Number.isNaN(loadW) || pvW === undefined || genRunning === undefined ||
    genW === undefined || fuelPct === undefined || shedTier === undefined ||
    (shedTier !== null && !Number.isInteger(shedTier))
  ) return undefined;
  return {
    siteId: topicSiteId,
    time: new Date(timeMs),
    protocol: "v1",
    source,
    batteryV,
    batteryA,
    socPct,
    batteryTempC,
    loadW,
    pvW,
    genRunning,
    genW,
    fuelPct,
    shedTier,
    seq,
    clockRestamped: false,
  };
}
