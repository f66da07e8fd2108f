/**
 * Open-Meteo's forecast (`/v1/forecast`, open-meteo.com/en/docs), parsed at the edge. Pure: the
 * caller fetches. The variables Kasi asks for, with the documented meaning of each value:
 * - `shortwave_radiation`: global horizontal irradiance, W/m², the MEAN OVER THE PRECEDING HOUR
 *   (the value stamped 13:00 describes 12:00–13:00);
 * - `cloud_cover`: total cloud cover, %, at the instant of the stamp;
 * - `temperature_2m`: air temperature 2 m above ground, °C, at the instant of the stamp.
 */
import { z } from "zod";
import { describeIssues } from "./issues.ts";

/** The hourly variables Kasi requests, in the order it requests them. */
export const OPEN_METEO_HOURLY = ["shortwave_radiation", "cloud_cover", "temperature_2m"] as const;

/** Open-Meteo sends null where a model has no value (past its horizon, say). */
const Series = z.array(z.number().nullable());

/**
 * The success shape. Both stored samples pass: the documentation's example (only
 * temperature_2m; `timezone` "Europe/Berlin" yet `utc_offset_seconds` 0; no `time` unit) and
 * the recorded Berlin reply (timezone GMT, `hourly_units.time` "iso8601", every variable).
 */
export const OpenMeteoForecastSchema = z.object({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  elevation: z.number().optional(),
  generationtime_ms: z.number().optional(),
  /** Offset of the returned local times from UTC; 0 for timezone GMT (the default). */
  utc_offset_seconds: z.number().int(),
  timezone: z.string().optional(),
  timezone_abbreviation: z.string().optional(),
  hourly_units: z.record(z.string(), z.string()).optional(),
  hourly: z.object({
    /** "YYYY-MM-DDTHH:MM" local times by default; unix seconds (UTC) with timeformat=unixtime. */
    time: z.union([z.array(z.string()), z.array(z.number().int())]),
    shortwave_radiation: Series.optional(),
    cloud_cover: Series.optional(),
    temperature_2m: Series.optional(),
  }),
});

/** The documented error body, sent with HTTP 400: `{"error": true, "reason": "..."}`. */
export const OpenMeteoErrorSchema = z.object({
  error: z.literal(true),
  reason: z.string(),
});

/** Units the values must come in; another unit (a `temperature_unit=fahrenheit`) is refused. */
const EXPECTED_UNITS: Record<string, string> = {
  shortwave_radiation: "W/m²",
  cloud_cover: "%",
  temperature_2m: "°C",
};

/** Plausible bounds, so that a broken reply cannot pass as weather. */
const BOUNDS: Record<(typeof OPEN_METEO_HOURLY)[number], [number, number]> = {
  // The solar constant, 1361 W/m², caps any irradiance at the surface.
  shortwave_radiation: [0, 1400],
  cloud_cover: [0, 100],
  temperature_2m: [-90, 60],
};

/** One hourly stamp of the reply, in UTC and Kasi's units. */
export interface OpenMeteoStep {
  /** The stamp, UTC. */
  time: Date;
  /** Mean GHI over [time − 1 h, time), W/m²; null when not given. */
  ghiWm2: number | null;
  /** Cloud cover at `time`, %; null when not given. */
  cloudPct: number | null;
  /** Air temperature at `time`, °C; null when not given. */
  tempC: number | null;
}

export type OpenMeteoParseResult =
  | { ok: true; steps: OpenMeteoStep[]; latitude: number; longitude: number }
  | { ok: false; reason: string };

const ISO_MINUTE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

function parseStamp(value: string | number, offsetS: number): number | null {
  if (typeof value === "number") return value * 1000;
  const m = ISO_MINUTE.exec(value);
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi);
  const back = new Date(ms);
  // Rejects 2023-02-30T00:00 and 25:00, which Date.UTC would quietly roll over.
  if (back.getUTCDate() !== d || back.getUTCHours() !== h || back.getUTCMonth() !== mo - 1) {
    return null;
  }
  // A local time minus its offset is UTC.
  return ms - offsetS * 1000;
}

/**
 * Parses a `/v1/forecast` reply (already JSON-decoded) into UTC hourly steps. Times: Kasi asks
 * for `timeformat=unixtime` (seconds, always UTC) and `timezone=GMT`; an ISO-string reply is
 * read as local time at `utc_offset_seconds`, the field Open-Meteo documents for that. (The
 * documentation's example names Europe/Berlin with offset 0 — an illustration, not a reply
 * Open-Meteo would send; taken at its word, its times read as UTC.)
 */
export function parseOpenMeteoForecast(body: unknown): OpenMeteoParseResult {
  const error = OpenMeteoErrorSchema.safeParse(body);
  if (error.success) return { ok: false, reason: `Open-Meteo error: ${error.data.reason}` };
  const parsed = OpenMeteoForecastSchema.safeParse(body);
  if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error.issues, body) };
  const data = parsed.data;
  for (const [name, unit] of Object.entries(EXPECTED_UNITS)) {
    const given = data.hourly_units?.[name];
    if (given !== undefined && given !== unit) {
      return { ok: false, reason: `hourly_units.${name}: expected "${unit}", got "${given}"` };
    }
  }
  const times = data.hourly.time;
  const n = times.length;
  for (const name of OPEN_METEO_HOURLY) {
    const series = data.hourly[name];
    if (series === undefined) continue;
    if (series.length !== n) {
      return {
        ok: false,
        reason: `hourly.${name}: ${series.length} values for ${n} times`,
      };
    }
    const [lo, hi] = BOUNDS[name];
    const bad = series.findIndex((v) => v !== null && !(v >= lo && v <= hi));
    if (bad >= 0) {
      return {
        ok: false,
        reason: `hourly.${name}.${bad}: ${series[bad]} is not within ${lo}..${hi}`,
      };
    }
  }
  const steps: OpenMeteoStep[] = [];
  for (let i = 0; i < n; i++) {
    const raw = times[i]!;
    const ms = parseStamp(raw, data.utc_offset_seconds);
    if (ms === null) {
      return {
        ok: false,
        reason: `hourly.time.${i}: "${raw}" is not YYYY-MM-DDTHH:MM or unix seconds`,
      };
    }
    const prev = steps[i - 1];
    if (prev && ms - prev.time.getTime() !== 3_600_000) {
      // shortwave_radiation means "the hour before the stamp": it needs hourly stamps.
      return {
        ok: false,
        reason: `hourly.time.${i}: "${raw}" is not one hour after the time before it`,
      };
    }
    steps.push({
      time: new Date(ms),
      ghiWm2: data.hourly.shortwave_radiation?.[i] ?? null,
      cloudPct: data.hourly.cloud_cover?.[i] ?? null,
      tempC: data.hourly.temperature_2m?.[i] ?? null,
    });
  }
  return { ok: true, steps, latitude: data.latitude, longitude: data.longitude };
}
