/**
 * The types the dispatch policy's parts share: what it remembers between decisions, what it
 * reads, the thresholds in force and the events it raises. `decide` (src/core/policy.ts) is pure:
 * its whole memory travels in these values.
 */
import type { Strategy } from "./command.ts";
import type { Source } from "./telemetry.ts";

/**
 * Where the generator is in its run:
 * off → starting (run signal on, not yet sensed running) → warmup (running, battery still
 * carries the load) → running (carrying the load) → cooldown (load back on the battery, engine
 * unloaded) → off. `failed`: commanded on but not running after the start timeout.
 */
export type GenPhase = "off" | "starting" | "warmup" | "running" | "cooldown" | "failed";

/** Why the generator runs; it stops once every request is released (and the minimum run is over). */
export type RunRequest = "soc" | "low-voltage" | "high-load" | "exercise";

/**
 * What the policy remembers between decisions. The first seven fields are the original v1
 * memory; the rest are optional so a caller holding only those (or an old snapshot) still works:
 * absent means "not started" (null) or is inferred from the outputs.
 */
export interface PolicyMemory {
  /** Outputs of the previous decision. */
  source: Source;
  genOn: boolean;
  shedTier: number;
  shutdown: boolean;
  /** When the generator was last commanded on; null while it is commanded off. */
  genStartedAt: Date | null;
  /** Since when SoC has been below the reserve; cleared at reserve + hysteresis. */
  lowSince: Date | null;
  /** When the shed tier last changed. */
  shedChangedAt: Date | null;
  genPhase?: GenPhase;
  /** Active run requests; absent with `genOn` means the v1 SoC request. */
  requests?: RunRequest[];
  /** First sensed running in this run (warm-up, minimum and maximum run count from here). */
  genRunningSince?: Date | null;
  /** Since when the generator has been commanded on but not sensed running. */
  notRunningSince?: Date | null;
  cooldownSince?: Date | null;
  /** The generator rests (no start unless the battery is near critical) until then. */
  restUntil?: Date | null;
  /** When the present failure was reported; null while none is. */
  failureReportedAt?: Date | null;
  lowVoltageSince?: Date | null;
  chargedSince?: Date | null;
  highLoadSince?: Date | null;
  lowLoadSince?: Date | null;
  socStopSince?: Date | null;
  /** Measured PV covers the load (with `pvCoverDelayS` of hysteresis in time). */
  pvCovering?: boolean;
  /** Since when the measured PV has disagreed with `pvCovering`. */
  pvFlipSince?: Date | null;
  /** The SoC start waits for the reserve until then: the battery bridges to the forecast PV. */
  pvWaitUntil?: Date | null;
  /** End of the last run of at least the exercise duration (the exercise clock). */
  lastLongRunAt?: Date | null;
}

/** The memory with every field present, as `decide` returns it. */
export type FullPolicyMemory = Required<PolicyMemory>;

/** The site as the policy sees it: readings (SoC already resolved) plus the policy's memory. */
export interface SiteState extends PolicyMemory {
  socPct: number;
  batteryV: number;
  loadW: number;
  pvW: number | null;
  /** Null when the site has no fuel sensor: the generator is then assumed to have fuel. */
  fuelPct: number | null;
  /** Sensed: the generator is actually running. */
  genRunning: boolean;
}

/** Thresholds in force for one decision, and where they came from. */
export interface Thresholds {
  startSocPct: number;
  stopSocPct: number;
  reserveSocPct: number;
  criticalSocPct: number;
  strategy: Strategy;
  /** From the command; null without one (or without the field): the PV stop rule is off. */
  pvCoversLoadAt: Date | null;
  origin: "command" | "local-defaults";
  commandSeq: number | null;
}

export type PolicyEventKind =
  | "generator-start-failed"
  | "generator-stopped-unexpectedly"
  | "generator-recovered";

/** Something the operator must hear about, raised once per occurrence, with the values. */
export interface PolicyEvent {
  kind: PolicyEventKind;
  detail: string;
  values: Record<string, number | string | boolean | null>;
}

export function secondsBetween(from: Date | null | undefined, now: Date): number {
  return from ? (now.getTime() - from.getTime()) / 1000 : 0;
}

/** `since` while `condition` holds (kept from before, or now), else null. */
export function holdSince(condition: boolean, since: Date | null | undefined, now: Date) {
  return condition ? since ?? now : null;
}

export function pct(x: number): string {
  return `${x.toFixed(1)} %`;
}

export function minutes(s: number): string {
  return `${(s / 60).toFixed(1)} min`;
}
