/**
 * The device's tactical dispatch policy: from the site's present state (sensor readings plus the
 * memory of the previous decision) and the latest valid strategic command, decide which source
 * feeds the load bus, whether the generator runs and how hard it charges, how many loads are
 * shed, and whether to shut down. Pure: time is passed in and the memory travels in the state,
 * so tables of cases test it and a backtest can drive it step by step without the agent.
 *
 * The parts, each in its own file and each with hysteresis so no output flaps:
 * - the generator (src/core/generator_control.ts): start on SoC, on a persistent low voltage, on
 *   a high load, for a periodic exercise; stop at the strategy's target (load following or cycle
 *   charging, src/core/command.ts), when the battery can bridge to the forecast PV, at the fuel
 *   reserve, after the maximum run; minimum run, warm-up, cool-down, rest, quiet hours; start
 *   failures detected and reported once;
 * - load shedding and emergency shutdown (src/core/load_shedding.ts);
 * - the source: the generator once it is warmed up and carries the load, else the battery; "off"
 *   during shutdown. One value, so never both; a change between the two passes through "off"
 *   for a dead time (src/core/transfer.ts).
 * Settings and their sources: src/core/policy_params.ts. Wire semantics: docs/protocol.md.
 */
import type { StrategicCommand } from "./command.ts";
import { controlGenerator } from "./generator_control.ts";
import { MAX_SHED_TIER, shedLoads } from "./load_shedding.ts";
import { DEFAULT_POLICY_PARAMS, type PolicyParams } from "./policy_params.ts";
import type {
  FullPolicyMemory,
  GenPhase,
  PolicyEvent,
  PolicyMemory,
  RunRequest,
  SiteState,
  Thresholds,
} from "./policy_state.ts";
import type { Chemistry, SiteProfile } from "./site_profile.ts";
import type { Source } from "./telemetry.ts";
import { type TransferStep, transferSteps } from "./transfer.ts";

export { MAX_SHED_TIER };
export { DEFAULT_POLICY_PARAMS, type PolicyParams };
export type {
  FullPolicyMemory,
  GenPhase,
  PolicyEvent,
  PolicyMemory,
  RunRequest,
  SiteState,
  Thresholds,
  TransferStep,
};

/**
 * Safe local defaults used when no valid command is held (absent or expired): start the
 * generator at 40 % and stop it at 90 %, the reserve comes from the site profile. The start is
 * raised to the reserve when the profile's reserve is higher (lead-acid sites use 50 %), so the
 * generator always starts before the battery goes below its reserve. Strategy: the site's
 * `localStrategy` (cycle charging unless set); no PV forecast (it came with the command).
 */
export const LOCAL_DEFAULTS = { genStartSocPct: 40, genStopSocPct: 90 } as const;

export type DecisionOutput = "source" | "genOn" | "shedTier" | "shutdown";

export interface Decision {
  source: Source;
  genOn: boolean;
  shedTier: number;
  shutdown: boolean;
  /** Human-readable, first the thresholds in force, then one line per rule that acted. */
  reasons: string[];
  /** Outputs that differ from the previous decision (the state's memory). */
  changed: DecisionOutput[];
  thresholds: Thresholds;
  genPhase: GenPhase;
  /** Why the generator runs (empty when it does not). */
  requests: RunRequest[];
  /**
   * Charger power limit while the generator carries the load: load following allows only the
   * surplus the generator's minimum load forces; null = the charger's own maximum (cycle
   * charging, or the generator not carrying the load).
   */
  chargeLimitW: number | null;
  quietHours: boolean;
  /** Raised in this decision, once per occurrence: the agent reports them. */
  events: PolicyEvent[];
  /** How to get from the previous source to `source`: break before make. */
  transfer: TransferStep[];
  /** The memory to carry into the next state. */
  memory: FullPolicyMemory;
}

export interface DecideOptions {
  /** The latest VALID command, or null when absent or expired: local defaults apply. */
  command: StrategicCommand | null;
  now: Date;
  params?: Partial<PolicyParams>;
  profile: SiteProfile;
}

/**
 * Emergency-shutdown SoC. Lead-acid: half the reserve (25 % for the usual 50 % reserve; below
 * about 20 % a lead-acid battery sulphates and loses capacity fast, so stop well before).
 * LiFePO4: 5 %, because its voltage falls off a cliff below about 5 % (see the OCV table in
 * battery.ts) and the BMS would cut out uncontrolled; never above half the reserve.
 */
export function criticalSocPct(chemistry: Chemistry, reserveSocPct: number): number {
  return chemistry === "lifepo4" ? Math.min(5, reserveSocPct / 2) : reserveSocPct / 2;
}

/** The thresholds from a valid command, or the safe local defaults. */
export function thresholdsFor(
  command: StrategicCommand | null,
  options: { profile: SiteProfile; params?: Partial<PolicyParams> },
): Thresholds {
  const override = options.params?.criticalSocPct ?? null;
  if (command) {
    return {
      startSocPct: command.genStartSocPct,
      stopSocPct: command.genStopSocPct,
      reserveSocPct: command.reserveSocPct,
      criticalSocPct: override ??
        criticalSocPct(options.profile.chemistry, command.reserveSocPct),
      strategy: command.strategy ?? "cycle-charging",
      pvCoversLoadAt: command.pvCoversLoadAt ?? null,
      origin: "command",
      commandSeq: command.seq,
    };
  }
  const reserve = options.profile.reserveSocPct;
  const start = Math.max(LOCAL_DEFAULTS.genStartSocPct, reserve);
  return {
    startSocPct: start,
    stopSocPct: Math.max(LOCAL_DEFAULTS.genStopSocPct, Math.min(100, start + 10)),
    reserveSocPct: reserve,
    criticalSocPct: override ?? criticalSocPct(options.profile.chemistry, reserve),
    strategy: options.params?.localStrategy ?? DEFAULT_POLICY_PARAMS.localStrategy,
    pvCoversLoadAt: null,
    origin: "local-defaults",
    commandSeq: null,
  };
}

/** The memory to start from when the agent starts: the outputs as the hardware reports them. */
export function initialPolicyMemory(
  outputs: { source: Source; genOn: boolean; shedTier: number },
  now: Date,
): FullPolicyMemory {
  const carrying = outputs.genOn && outputs.source === "generator";
  return {
    source: outputs.source,
    genOn: outputs.genOn,
    shedTier: outputs.shedTier,
    shutdown: outputs.source === "off",
    genStartedAt: outputs.genOn ? now : null,
    lowSince: null,
    shedChangedAt: null,
    genPhase: !outputs.genOn ? "off" : carrying ? "running" : "starting",
    requests: outputs.genOn ? ["soc"] : [],
    genRunningSince: carrying ? now : null,
    notRunningSince: outputs.genOn && !carrying ? now : null,
    cooldownSince: null,
    restUntil: null,
    failureReportedAt: null,
    lowVoltageSince: null,
    chargedSince: null,
    highLoadSince: null,
    lowLoadSince: null,
    socStopSince: null,
    pvCovering: false,
    pvFlipSince: null,
    pvWaitUntil: null,
    // Unknown history: the exercise clock starts now rather than exercising at every boot.
    lastLongRunAt: now,
  };
}

function headline(t: Thresholds, command: StrategicCommand | null): string {
  const base = t.origin === "command"
    ? `command seq ${t.commandSeq} (mode ${command!.mode}): start ≤ ${t.startSocPct} %, ` +
      `stop ≥ ${t.stopSocPct} %, reserve ${t.reserveSocPct} %`
    : `no valid command: safe local defaults start ≤ ${t.startSocPct} %, ` +
      `stop ≥ ${t.stopSocPct} %, reserve ${t.reserveSocPct} % (site profile)`;
  // A v1 command (cycle charging, no forecast) reads exactly as before these fields existed.
  const extra = [
    t.strategy === "load-following" ? "load following" : "",
    t.pvCoversLoadAt ? `PV expected to cover the load at ${t.pvCoversLoadAt.toISOString()}` : "",
  ].filter((x) => x !== "");
  return extra.length > 0 ? `${base}; ${extra.join("; ")}` : base;
}

export function decide(state: SiteState, options: DecideOptions): Decision {
  const p: PolicyParams = { ...DEFAULT_POLICY_PARAMS, ...options.params };
  const { now, profile, command } = options;
  const t = thresholdsFor(command, { profile, params: p });
  const tag = t.origin === "command" ? `command seq ${t.commandSeq}` : "local default";
  const gen = controlGenerator(state, { t, p, profile, now, tag });
  const shed = shedLoads(state, {
    t,
    p,
    now,
    genCarrying: gen.ready,
    genCanHelp: gen.canHelp,
    whyNoGen: gen.whyNot,
  });
  const source: Source = shed.shutdown ? "off" : gen.ready ? "generator" : "battery";
  const reasons = [headline(t, command), ...gen.reasons, ...shed.reasons];
  const changed: DecisionOutput[] = [];
  if (source !== state.source) changed.push("source");
  if (gen.genOn !== state.genOn) changed.push("genOn");
  if (shed.shedTier !== state.shedTier) changed.push("shedTier");
  if (shed.shutdown !== state.shutdown) changed.push("shutdown");
  if (changed.includes("source")) reasons.push(`source ${state.source} → ${source}`);
  return {
    source,
    genOn: gen.genOn,
    shedTier: shed.shedTier,
    shutdown: shed.shutdown,
    reasons,
    changed,
    thresholds: t,
    genPhase: gen.phase,
    requests: gen.requests,
    chargeLimitW: source === "generator" ? gen.chargeLimitW : null,
    quietHours: gen.quiet,
    events: gen.events,
    transfer: transferSteps(state.source, source, p.transferDeadTimeMs),
    memory: {
      ...gen.memory,
      source,
      shedTier: shed.shedTier,
      shutdown: shed.shutdown,
      lowSince: shed.lowSince,
      shedChangedAt: shed.shedChangedAt,
    },
  };
}
