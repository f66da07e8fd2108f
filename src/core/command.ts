/**
 * The strategic command the backend sends each site, in v1 and in the first-generation shape.
 * A device acts on a command only while it is valid (`issued_at` ≤ now < `valid_until`) and
 * newer than the last one it accepted (`seq`), so a stale retained or reordered command is ignored.
 */
import { z } from "zod";
import { describeIssues } from "./issues.ts";
import { SITE_ID_PATTERN } from "./topics.ts";

export const MODES = ["eco", "normal", "conservative"] as const;
export type Mode = typeof MODES[number];
export const FORECASTS = ["clear", "cloudy", "unknown"] as const;
export type Forecast = typeof FORECASTS[number];
/**
 * Generator dispatch strategies, as HOMER defines them (HOMER Pro 3.10 help, "Cycle Charging";
 * HOMER knowledge base, "Generator control - cycle charging"):
 * - `load-following`: a running generator produces only what the load needs; the battery is
 *   charged by PV and by the surplus the generator's minimum load forces, never on purpose.
 * - `cycle-charging`: a running generator also charges the battery with what it can spare, and
 *   with a setpoint SoC (here `gen_stop_soc_pct`) it does not stop until the battery reaches it.
 * A command without `strategy` means cycle charging: what v1 devices did before the field existed.
 */
export const STRATEGIES = ["load-following", "cycle-charging"] as const;
export type Strategy = typeof STRATEGIES[number];

export const CommandV1Schema = z.object({
  v: z.literal(1),
  site_id: z.string().regex(SITE_ID_PATTERN),
  seq: z.number().int().min(0),
  issued_at: z.iso.datetime({ offset: true }),
  valid_until: z.iso.datetime({ offset: true }),
  mode: z.enum(MODES),
  /** Start the generator when SoC falls to this. */
  gen_start_soc_pct: z.number().min(0).max(100),
  /** Stop the generator when SoC rises to this. */
  gen_stop_soc_pct: z.number().min(0).max(100),
  /** Never plan to discharge below this. */
  reserve_soc_pct: z.number().min(0).max(100),
  forecast: z.enum(FORECASTS),
  predicted_battery_h: z.number().min(0),
  predicted_diesel_h: z.number().min(0),
  reason: z.string().max(500),
  /**
   * Optional, added after v1 shipped: devices that predate them drop them (unknown fields are
   * stripped), and a command without them means what it meant before.
   */
  strategy: z.enum(STRATEGIES).nullable().optional(),
  /** When the backend's forecast expects PV to exceed the site's load next; null: not expected. */
  pv_covers_load_at: z.iso.datetime({ offset: true }).nullable().optional(),
  /**
   * The forecast's P10 and P90 around the two predictions (which are its medians), and the
   * earliest (P10) time of the next expected outage: for people and dashboards; devices act on
   * none of them.
   */
  predicted_battery_h_p10: z.number().min(0).nullable().optional(),
  predicted_battery_h_p90: z.number().min(0).nullable().optional(),
  predicted_diesel_h_p10: z.number().min(0).nullable().optional(),
  predicted_diesel_h_p90: z.number().min(0).nullable().optional(),
  next_outage_at: z.iso.datetime({ offset: true }).nullable().optional(),
}).refine((c) => c.gen_stop_soc_pct > c.gen_start_soc_pct, {
  message: "gen_stop_soc_pct must be above gen_start_soc_pct",
  path: ["gen_stop_soc_pct"],
});
export type CommandV1 = z.infer<typeof CommandV1Schema>;

/** The command in the shape the code uses. */
export interface StrategicCommand {
  siteId: string;
  seq: number;
  issuedAt: Date;
  validUntil: Date;
  mode: Mode;
  genStartSocPct: number;
  genStopSocPct: number;
  reserveSocPct: number;
  forecast: Forecast;
  predictedBatteryH: number;
  predictedDieselH: number;
  reason: string;
  /** Absent: cycle charging, the behaviour before the field existed. */
  strategy?: Strategy;
  /** Absent or null: no forecast that PV will cover the load (the PV stop rule is off). */
  pvCoversLoadAt?: Date | null;
  /** P10–P90 around `predictedBatteryH` and `predictedDieselH`; absent from older backends. */
  batteryBandH?: { p10: number; p90: number };
  dieselBandH?: { p10: number; p90: number };
  /** Earliest expected outage (P10); null: none expected within a week. */
  nextOutageAt?: Date | null;
}

export function encodeCommandV1(c: StrategicCommand): string {
  const m: CommandV1 = {
    v: 1,
    site_id: c.siteId,
    seq: c.seq,
    issued_at: c.issuedAt.toISOString(),
    valid_until: c.validUntil.toISOString(),
    mode: c.mode,
    gen_start_soc_pct: c.genStartSocPct,
    gen_stop_soc_pct: c.genStopSocPct,
    reserve_soc_pct: c.reserveSocPct,
    forecast: c.forecast,
    predicted_battery_h: round2(c.predictedBatteryH),
    predicted_diesel_h: round2(c.predictedDieselH),
    reason: c.reason,
  };
  // Only when set, so a command without them is byte-for-byte what v1 backends sent.
  if (c.strategy !== undefined) m.strategy = c.strategy;
  if (c.pvCoversLoadAt) m.pv_covers_load_at = c.pvCoversLoadAt.toISOString();
  if (c.batteryBandH) {
    m.predicted_battery_h_p10 = round2(c.batteryBandH.p10);
    m.predicted_battery_h_p90 = round2(c.batteryBandH.p90);
  }
  if (c.dieselBandH) {
    m.predicted_diesel_h_p10 = round2(c.dieselBandH.p10);
    m.predicted_diesel_h_p90 = round2(c.dieselBandH.p90);
  }
  if (c.nextOutageAt) m.next_outage_at = c.nextOutageAt.toISOString();
  return JSON.stringify(m);
}

export type CommandDecodeResult =
  | { ok: true; command: StrategicCommand }
  | { ok: false; reason: string };

export function decodeCommandV1(
  payload: Uint8Array | string,
): CommandDecodeResult {
  let value: unknown;
  try {
    value = JSON.parse(
      typeof payload === "string" ? payload : new TextDecoder().decode(payload),
    );
  } catch (error) {
    return {
      ok: false,
      reason: `payload: not JSON (${(error as Error).message})`,
    };
  }
  const parsed = CommandV1Schema.safeParse(value);
  if (!parsed.success) {
    return { ok: false, reason: describeIssues(parsed.error.issues, value) };
  }
  const m = parsed.data;
  return {
    ok: true,
    command: {
      siteId: m.site_id,
      seq: m.seq,
      issuedAt: new Date(m.issued_at),
      validUntil: new Date(m.valid_until),
      mode: m.mode,
      genStartSocPct: m.gen_start_soc_pct,
      genStopSocPct: m.gen_stop_soc_pct,
      reserveSocPct: m.reserve_soc_pct,
      forecast: m.forecast,
      predictedBatteryH: m.predicted_battery_h,
      predictedDieselH: m.predicted_diesel_h,
      reason: m.reason,
      ...(m.strategy ? { strategy: m.strategy } : {}),
      ...(m.pv_covers_load_at ? { pvCoversLoadAt: new Date(m.pv_covers_load_at) } : {}),
      ...band("batteryBandH", m.predicted_battery_h_p10, m.predicted_battery_h_p90),
      ...band("dieselBandH", m.predicted_diesel_h_p10, m.predicted_diesel_h_p90),
      ...(m.next_outage_at ? { nextOutageAt: new Date(m.next_outage_at) } : {}),
    },
  };
}

function band<K extends string>(
  key: K,
  p10: number | null | undefined,
  p90: number | null | undefined,
): { [k in K]?: { p10: number; p90: number } } {
  if (p10 === null || p10 === undefined || p90 === null || p90 === undefined) return {};
  return { [key]: { p10, p90 } } as { [k in K]: { p10: number; p90: number } };
}

/**
 * A command stays valid for three intervals, and at least 5 min: a device keeps following it
 * through two missed updates (a broker restart, a slow planner), yet falls back to its own
 * defaults soon after the backend goes quiet.
 */
export const MIN_COMMAND_VALIDITY_MS = 5 * 60 * 1000;
export const COMMAND_VALIDITY_INTERVALS = 3;

/** How long a command sent every `commandIntervalS` stays valid, ms. */
export function commandValidityMs(commandIntervalS: number): number {
  return Math.max(COMMAND_VALIDITY_INTERVALS * commandIntervalS * 1000, MIN_COMMAND_VALIDITY_MS);
}

/** Whether a device may act on `c` now, given the last sequence number it accepted. */
export function commandStatus(
  c: StrategicCommand,
  now: Date,
  lastAcceptedSeq: number | null,
): "valid" | "expired" | "not-yet-valid" | "stale-seq" {
  if (lastAcceptedSeq !== null && c.seq <= lastAcceptedSeq) return "stale-seq";
  if (now.getTime() >= c.validUntil.getTime()) return "expired";
  // Allow a little clock skew between backend and device.
  if (c.issuedAt.getTime() > now.getTime() + 60_000) return "not-yet-valid";
  return "valid";
}

/** First-generation command on `kasi_power/sites/{site_id}/commands`, exactly as deployed. */
export interface LegacyCommand {
  mode: "Eco" | "Normal" | "Conservative";
  weather_forecast: "Clear" | "Cloudy" | "Unknown";
  predicted_battery_hours: number;
  predicted_diesel_hours: number;
}

const LEGACY_MODE = {
  eco: "Eco",
  normal: "Normal",
  conservative: "Conservative",
} as const;
const LEGACY_FORECAST = {
  clear: "Clear",
  cloudy: "Cloudy",
  unknown: "Unknown",
} as const;

export function encodeLegacyCommand(c: StrategicCommand): string {
  const m: LegacyCommand = {
    mode: LEGACY_MODE[c.mode],
    weather_forecast: LEGACY_FORECAST[c.forecast],
    predicted_battery_hours: round2(c.predictedBatteryH),
    predicted_diesel_hours: round2(c.predictedDieselH),
  };
  return JSON.stringify(m);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
