/**
 * The telemetry sample the agent publishes, from readings it has checked (every required sensor
 * present: src/device/sensor_health.ts) and the outputs as they read back. Rounded to what the
 * sensors resolve; an optional sensor without a measurement is left out, never sent as 0.
 */
import type { TelemetryRecord } from "../core/telemetry.ts";
import type { Outputs, SensorReadings } from "./driver.ts";

/** Readings with every required sensor present. */
export type PresentReadings = SensorReadings & {
  batteryV: number;
  loadW: number;
  genRunning: boolean;
};

export function telemetryRecord(
  readings: PresentReadings,
  actual: Outputs,
  options: { siteId: string; time: Date; socPct: number; seq: number },
): TelemetryRecord {
  return {
    siteId: options.siteId,
    time: options.time,
    protocol: "v1",
    source: actual.source,
    batteryV: round(readings.batteryV, 2),
    batteryA: readings.batteryA === null ? null : round(readings.batteryA, 1),
    socPct: round(Math.min(100, Math.max(0, options.socPct)), 1),
    batteryTempC: readings.batteryTempC === null ? null : round(readings.batteryTempC, 1),
    loadW: round(Math.max(0, readings.loadW), 0),
    pvW: readings.pvW === null ? null : round(Math.max(0, readings.pvW), 0),
    genRunning: readings.genRunning,
    genW: readings.genW === null ? null : round(Math.max(0, readings.genW), 0),
    fuelPct: readings.fuelPct === null ? null : round(readings.fuelPct, 1),
    shedTier: actual.shedTier,
    seq: options.seq,
    clockRestamped: false,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
