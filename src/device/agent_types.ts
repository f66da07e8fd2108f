/** The agent's options, the events it publishes and the snapshot it gives (src/device/agent.ts). */
import type { SocMethod } from "../core/soc_estimator.ts";
import type { IClientOptions } from "mqtt";
import type { Mode } from "../core/command.ts";
import type { Logger } from "../core/log.ts";
import type { Decision, PolicyParams } from "../core/policy.ts";
import type { PolicyEventKind } from "../core/policy_state.ts";
import type { SiteProfile } from "../core/site_profile.ts";
import type { Driver, Outputs, SensorFault, SensorReadings } from "./driver.ts";
import type { SensorReportKind } from "./sensor_health.ts";

export interface AgentOptions {
  siteId: string;
  mqttUrl: string;
  driver: Driver;
  profile: SiteProfile;
  /** Simulated seconds between ticks (and telemetry messages). Default 10. */
  telemetryIntervalS?: number;
  /** Simulated seconds per real second. Default 1. */
  speed?: number;
  log: Logger;
  /** Start of the simulated clock. Default: the wall clock at `start()`. */
  startTime?: Date;
  mqttOptions?: IClientOptions;
  policyParams?: Partial<PolicyParams>;
  /** Messages kept while offline; beyond it the oldest are dropped and counted. Default 10,000. */
  offlineQueueLimit?: number;
  /** The wall clock. Default `() => new Date()`. */
  clock?: () => Date;
  /**
   * Waits real time: the transfer's dead time, which is simulated time like every delay of the
   * site, so the agent asks for it divided by `speed`. Default setTimeout.
   */
  sleep?: (realMs: number) => Promise<void>;
  /**
   * After outputs read back wrong, the safe state is held this long (simulated seconds) before
   * the policy tries again. Default DEFAULT_OUTPUT_FAULT_RETRY_S (src/device/output_guard.ts).
   */
  outputFaultRetryS?: number;
}

export type AgentEventKind =
  | "decision"
  | "command-accepted"
  | "command-rejected"
  | "fallback-local-defaults"
  | "output-mismatch"
  | "driver-error"
  | PolicyEventKind
  | "transfer-blocked"
  | SensorReportKind
  | "decision-withheld";

/** The JSON published on `v1Topic(site, "event")`. */
export interface AgentEvent {
  ts: string;
  kind: AgentEventKind;
  detail: string;
  reasons: string[];
  command_seq?: number;
  /** The readings and times behind the event (generator failures, blocked transfers). */
  values?: Record<string, number | string | boolean | null>;
}

export interface AgentSnapshot {
  siteId: string;
  running: boolean;
  simTime: Date;
  ticks: number;
  readings: SensorReadings | null;
  /** SoC the policy used: the sensor's, or estimated (src/core/soc_estimator.ts). */
  socPct: number | null;
  /** True when the sensors gave no SoC and it was estimated (current counting or voltage). */
  socFromVoltage: boolean;
  /** Half-width of the SoC band, percentage points. */
  socUncertaintyPct: number | null;
  socMethod: SocMethod | null;
  decision: Decision | null;
  outputs: Outputs | null;
  /** The last accepted command, valid or since expired. */
  commandSeq: number | null;
  mode: Mode | null;
  commandValidUntil: Date | null;
  usingLocalDefaults: boolean;
  connected: boolean;
  queued: number;
  dropped: number;
  /** Sequence number of the last telemetry message (-1 before the first). */
  telemetrySeq: number;
  /** Fitted sensors that gave no measurement at the last tick. */
  invalidSensors: SensorFault[];
  /** True while a required sensor is invalid and no decision is made. */
  decisionWithheld: boolean;
  /** Set while the safe state is held after a read-back mismatch. */
  safeStateUntil: Date | null;
}
