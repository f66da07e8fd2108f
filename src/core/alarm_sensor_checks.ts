/**
 * What makes one sensor reading bad (alarm_sensor.ts): the fields, the sentinel values, the
 * physical limits, the largest plausible jumps and the stuck-value window, each with its source.
 * Pure.
 */
import type { SiteProfile } from "./site_profile.ts";
import type { TelemetryRecord } from "./telemetry.ts";

/** The telemetry fields a sensor fills, by their wire names. */
export const SENSOR_FIELDS = {
  battery_v: "batteryV",
  battery_a: "batteryA",
  soc_pct: "socPct",
  battery_temp_c: "batteryTempC",
  load_w: "loadW",
  pv_w: "pvW",
  gen_w: "genW",
  fuel_pct: "fuelPct",
} as const satisfies Record<string, keyof TelemetryRecord>;
export type SensorField = keyof typeof SENSOR_FIELDS;

/**
 * The fields in a fixed order, each with a reader: the rules run on every record at ingest rates
 * (tens of thousands a second), where a property looked up by a computed name costs V8 a
 * megamorphic lookup each time.
 */
export const FIELDS: readonly { name: SensorField; read: (r: TelemetryRecord) => number | null }[] =
  [
    { name: "battery_v", read: (r) => r.batteryV },
    { name: "battery_a", read: (r) => r.batteryA },
    { name: "soc_pct", read: (r) => r.socPct },
    { name: "battery_temp_c", read: (r) => r.batteryTempC },
    { name: "load_w", read: (r) => r.loadW },
    { name: "pv_w", read: (r) => r.pvW },
    { name: "gen_w", read: (r) => r.genW },
    { name: "fuel_pct", read: (r) => r.fuelPct },
  ];

/**
 * Values a 16-bit register or ADC returns on a bus error or an unwired input: 0xFFFF (65535),
 * 0xFFFE, 0x7FFF (32767), 0x8000 (-32768), and the same divided by 10 and 100, as registers
 * holding tenths or hundredths (Modbus meters, BMS frames) report them.
 */
export const SENTINELS: ReadonlySet<number> = new Set(
  [65535, 65534, 32767, -32768].flatMap((v) => [v, v / 10, v / 100]),
);
/** A DS18B20 reads 85 °C from its power-on reset until its first conversion (Maxim datasheet). */
export const DS18B20_RESET_C = 85;

/**
 * Consecutive bad samples before a sensor is at fault, and good ones before it recovers: one
 * bad reading (a bus glitch) never raises, one good reading among bad ones never clears.
 */
export const SENSOR_BAD_SAMPLES = 3;
export const SENSOR_GOOD_SAMPLES = 3;

/**
 * Largest plausible change from the last good reading: a fixed part plus a rate per hour since
 * it, so a real step (a sensor replaced) is accepted once enough time has passed.
 * - battery voltage: 35 % of nominal (a 12 V bank reads 10.5–14.7 V from empty under load to
 *   absorption; a crank dip stays inside it), plus as much per hour;
 * - SoC: 20 points (a monitor's full-charge synchronisation) plus 100 per hour (1 C);
 * - battery temperature: 5 °C plus 10 °C per hour (a bank's thermal mass takes hours to warm).
 */
export function jumpLimit(field: SensorField, p: SiteProfile, hours: number): number | null {
  switch (field) {
    case "battery_v":
      return 0.35 * p.nominalV * (1 + hours);
    case "soc_pct":
      return 20 + 100 * hours;
    case "battery_temp_c":
      return 5 + 10 * hours;
    default:
      return null;
  }
}
export const JUMP_UNITS: Partial<Record<SensorField, string>> = {
  battery_v: "V",
  soc_pct: "%",
  battery_temp_c: "°C",
};

/**
 * Stuck: exactly one value for at least this many samples and this long, while other readings
 * moved in at least half of them. Real meters and ADCs jitter in their last digit; zero is
 * exempt (a dark bus, night PV) and so are voltages with 0.1 V resolution or coarser, which can
 * sit still for an hour on a steady load.
 */
export const STUCK = { samples: 60, minMs: 60 * 60_000, movedShare: 0.5 } as const;
export const STUCK_FIELDS: readonly SensorField[] = ["battery_v", "load_w", "pv_w", "gen_w"];
/** A fuel gauge that does not move while the generator burns this much of the tank is stuck. */
export const STUCK_FUEL_BURN_PCT = 3;

/** Why a reading is bad on its own, or null. */
export function badValue(field: SensorField, v: number, r: TelemetryRecord, p: SiteProfile) {
  if (SENTINELS.has(v)) return `reads ${v}, a sentinel of a 16-bit register`;
  if (field === "battery_temp_c" && v === DS18B20_RESET_C) {
    return `reads ${v} °C, a DS18B20's power-on reset value`;
  }
  // 1.4× nominal is above any charger (lead-acid equalisation 2.65 V/cell = 1.33×); a bank
  // carrying the load at half its nominal voltage would have tripped the inverter long before.
  if (field === "battery_v" && v > 1.4 * p.nominalV) {
    return `reads ${v} V on a ${p.nominalV} V bank`;
  }
  if (field === "battery_v" && v < 0.5 * p.nominalV && r.source === "battery" && r.loadW > 0) {
    return `reads ${v} V while a ${p.nominalV} V bank carries ${r.loadW} W`;
  }
  // PV above 1.5× its peak rating (cold, bright, edge-of-cloud reaches about 1.3×).
  if (field === "pv_w" && p.pvKwp > 0 && v > 1500 * p.pvKwp) {
    return `reads ${v} W from ${p.pvKwp} kWp`;
  }
  if (field === "gen_w" && p.generatorRatedKw > 0 && v > 1500 * p.generatorRatedKw) {
    return `reads ${v} W from a ${p.generatorRatedKw} kW generator`;
  }
  return null;
}

export function stuckCandidate(field: SensorField, v: number): boolean {
  if (v === 0 || !STUCK_FIELDS.includes(field)) return false;
  // 0.1 V resolution or coarser (a first-generation 12.4): can legitimately sit still.
  return !(field === "battery_v" && Math.abs(v * 10 - Math.round(v * 10)) < 1e-9);
}
