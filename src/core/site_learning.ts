/**
 * What the backend learns from each telemetry record, shared by the backend's site state
 * (src/backend/site_state.ts) and the backtest's model of it (backtest_kasi.ts): the sample the
 * SoC estimator reads, and whether the record's load is the site's demand.
 */
import type { SocSample } from "./soc_estimator.ts";
import type { TelemetryRecord } from "./telemetry.ts";

/**
 * First-generation sites report no battery current, but their spec fixes what feeds the load:
 * they have no PV, so with the load on the battery and the generator off, the battery carries
 * exactly the load: I = −P / V. That lets the estimator correct the sagging voltage
 * (V − I·R) and count charge instead of reading a loaded voltage as if at rest, which leaves
 * ±26 points at 12.5 V where this leaves ±9. On the generator, the charge current is unknown.
 */
export function inferredBatteryA(record: TelemetryRecord): number | null {
  if (record.protocol !== "legacy" || record.source !== "battery" || record.genRunning) return null;
  return record.batteryV > 0 ? -record.loadW / record.batteryV : null;
}

/** The estimator's sample of a record: its reported SoC read as a BMS's. */
export function socSampleOf(record: TelemetryRecord): SocSample {
  return {
    time: record.time,
    batteryV: record.batteryV,
    batteryA: record.batteryA ?? inferredBatteryA(record),
    bmsSocPct: record.socPct,
    tempC: record.batteryTempC,
  };
}

/** A shed or dark site's load is what it got, not what it needs: only the rest is learned. */
export function learnsLoad(record: TelemetryRecord): boolean {
  return record.source !== "off" && (record.shedTier ?? 0) === 0;
}
