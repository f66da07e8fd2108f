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
