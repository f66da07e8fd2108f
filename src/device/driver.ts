/**
 * The hardware boundary of the site agent. The simulator (src/device/sim_driver.ts) and the
 * Raspberry Pi driver (src/device/pi/pi_driver.ts) both implement it; the agent never knows
 * which one it talks to.
 */
import type { Source } from "../core/telemetry.ts";

/** The sensor fields of `SensorReadings`, each one quantity in the unit of its name. */
export const SENSOR_NAMES = [
  "batteryV",
  "batteryA",
  "socPct",
  "loadW",
  "pvW",
  "genRunning",
  "genW",
  "fuelPct",
  "batteryTempC",
] as const;
export type SensorName = typeof SENSOR_NAMES[number];

/**
 * Without these the agent cannot decide: the voltage feeds the SoC estimate and the low-voltage
 * start, the load every load rule, and the generator's running sense its start and failure
 * logic. While one is invalid the decision is withheld (the outputs stay as they are).
 */
export const REQUIRED_SENSORS: readonly SensorName[] = ["batteryV", "loadW", "genRunning"];

/** A fitted sensor that gave no measurement this time (missing file, EIO, stale, out of range). */
export interface SensorFault {
  sensor: SensorName;
  /** Why, naming the file or line and the value: "…/in1_input: EIO (os error 5)". */
  reason: string;
}

/**
 * What the sensors read now. null means no measurement: the site lacks the sensor, or (when the
 * sensor is listed in `invalid`) it is fitted but could not be read. A reading is never replaced
 * by 0 or by an old value.
 */
export interface SensorReadings {
  /** null only while invalid (every site measures its battery voltage). */
  batteryV: number | null;
  /** Positive while charging, negative while discharging. */
  batteryA: number | null;
  /** From a BMS or shunt monitor; null when the site has neither (SoC then comes from voltage). */
  socPct: number | null;
  /** null only while invalid. */
  loadW: number | null;
  pvW: number | null;
  /** null only while invalid; a site without a generator reads false. */
  genRunning: boolean | null;
  genW: number | null;
  fuelPct: number | null;
  batteryTempC: number | null;
  /** Fitted sensors without a measurement now; absent or empty when every sensor read well. */
  invalid?: readonly SensorFault[];
  /** Named digital inputs (door, mains present, …): true = active; null when unreadable. */
  inputs?: Readonly<Record<string, boolean | null>>;
}

/**
 * What the agent controls. `source` is one value, so both sources can never be commanded at
 * once; the agent changes between battery and generator through "off" for a dead time
 * (src/core/transfer.ts) and only after the read-back confirms the break.
 */
export interface Outputs {
  /** Which source feeds the load bus (transfer switch / inverter); "off" = shutdown. */
  source: Source;
  /** Generator run signal (remote start contact). */
  genRun: boolean;
  /** 0 = all loads on; 1..3 open more load contactors. */
  shedTier: number;
  /**
   * Charger power limit (W) while the generator carries the load (an inverter-charger's AC input
   * or charge current limit): load following lets the battery take only the surplus the
   * generator's minimum load forces. Absent or null: the charger's own maximum. Optional, so a
   * driver without a controllable charger simply ignores it.
   */
  genChargeLimitW?: number | null;
}

/** The outputs as the hardware reports them. */
export interface OutputsReadBack extends Outputs {
  /**
   * Set when a line does not read what was written, or a feedback contact disagrees (both
   * contactors closed, a relay that did not pull in): the agent raises an alarm and goes to the
   * safe state even when the fields above happen to match what it commanded.
   */
  fault?: string | null;
}

/**
 * Outputs when no controller runs: load on the battery through the inverter, generator off so it
 * never runs unattended, nothing shed. The inverter's own low-voltage disconnect is the
 * protection left once the agent has stopped.
 */
export const SAFE_OUTPUTS: Readonly<Outputs> = { source: "battery", genRun: false, shedTier: 0 };

export interface Driver {
  readSensors(): Promise<SensorReadings>;
  setOutputs(outputs: Outputs): Promise<void>;
  /** The outputs as the hardware reports them (relay feedback), to catch a failed actuator. */
  readOutputs(): Promise<OutputsReadBack>;
  /**
   * The site's configured safe state (where the agent goes on a read-back mismatch and on
   * stop); absent: SAFE_OUTPUTS.
   */
  readonly safeOutputs?: Readonly<Outputs>;
  /**
   * Simulated drivers only: move the physics `dtS` seconds forward to simulated time `now`.
   * Real hardware has no such method; its time passes on its own.
   */
  advance?(dtS: number, now: Date): Promise<void>;
  close(): Promise<void>;
}
