/**
 * The hardware boundary of the site agent. The simulator and the Raspberry Pi driver both
 * implement it; the agent never knows which one it talks to.
 */
import type { Source } from "../core/telemetry.ts";

/** What the sensors read now; null for a sensor the site lacks. */
export interface SensorReadings {
  batteryV: number;
  /** Positive while charging, negative while discharging. */
  batteryA: number | null;
  /** From a BMS or shunt monitor; null when the site has neither (SoC then comes from voltage). */
  socPct: number | null;
  loadW: number;
  pvW: number | null;
  genRunning: boolean;
  genW: number | null;
  fuelPct: number | null;
  batteryTempC: number | null;
}

/** The three things the agent controls. */
export interface Outputs {
  /** Which source feeds the load bus (transfer switch / inverter); "off" = shutdown. */
  source: Source;
  /** Generator run signal (remote start contact). */
  genRun: boolean;
  /** 0 = all loads on; 1..3 open more load contactors. */
  shedTier: number;
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
  readOutputs(): Promise<Outputs>;
  /**
   * Simulated drivers only: move the physics `dtS` seconds forward to simulated time `now`.
   * Real hardware has no such method; its time passes on its own.
   */
  advance?(dtS: number, now: Date): Promise<void>;
  close(): Promise<void>;
}
