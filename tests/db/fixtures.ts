/** Shared builders for the database tests. */
import type { TelemetryRecord } from "../../src/core/telemetry.ts";

/** A v1 record with every optional field set; override what a test is about. */
export function telemetryRecord(overrides: Partial<TelemetryRecord> = {}): TelemetryRecord {
  return {
    siteId: "tower-07",
    time: new Date("2025-03-01T12:00:00.123Z"),
    protocol: "v1",
    source: "battery",
    batteryV: 51.37,
    batteryA: -12.5,
    socPct: 76.25,
    batteryTempC: 31.4,
    loadW: 1234.5,
    pvW: 0.1,
    genRunning: false,
    genW: null,
    fuelPct: 62.5,
    shedTier: 1,
    seq: 9_007_199_254_740_991, // Number.MAX_SAFE_INTEGER: must come back as that exact number
    clockRestamped: false,
    ...overrides,
  };
}

/** A first-generation record: the fields its messages lack are null. */
export function legacyRecord(overrides: Partial<TelemetryRecord> = {}): TelemetryRecord {
  return {
    siteId: "0b7c5e1a-3f2d-4c8e-9a6b-1d2e3f4a5b6c",
    time: new Date("2025-03-01T12:00:00Z"),
    protocol: "legacy",
    source: "generator",
    batteryV: 12.1,
    batteryA: null,
    socPct: null,
    batteryTempC: null,
    loadW: 850,
    pvW: null,
    genRunning: true,
    genW: null,
    fuelPct: 40,
    shedTier: null,
    seq: null,
    clockRestamped: true,
    ...overrides,
  };
}
