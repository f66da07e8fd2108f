/**
 * The device's tactical control policy: from the site's present state (sensor readings plus the
 * memory of the previous decision) and the latest valid strategic command, decide which source
 * feeds the load bus, whether the generator runs, how many loads are shed, and whether to shut
 * down. Pure: time is passed in and the memory travels in the state, so one table of cases tests it.
 *
 * The rules, each with hysteresis so no output flaps:
 * - Generator: start at SoC ≤ start threshold when fuel is above its reserve (plus a restart
 *   margin); stop at SoC ≥ stop threshold once it has run the minimum time, or at once when the
 *   fuel reaches its reserve. Start and stop thresholds are apart (the command schema requires
 *   stop > start), so between them the previous state holds.
 * - Source: the generator while it runs and is wanted, else the battery; "off" during shutdown.
 *   A decision has one source, so both never feed the bus at once.
 * - Load shedding: only when SoC is below the reserve AND the generator cannot help (fuel at its
 *   reserve, or commanded on but not running after a start timeout). Tiers rise one at a time,
 *   each after `shedStepDelayS`; all loads return when the generator carries the load or SoC is
 *   back to reserve + `recoveryHysteresisPct`.
 * - Emergency shutdown at the critical SoC (see `criticalSocPct`); it ends when the generator
 *   carries the load or SoC recovers to critical + `recoveryHysteresisPct`.
 */
import type { StrategicCommand } from "./command.ts";
import type { Chemistry, SiteProfile } from "./site_profile.ts";
import type { Source } from "./telemetry.ts";

export const MAX_SHED_TIER = 3;

/** What the policy remembers between decisions; carried in the state so `decide` stays pure. */
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
}

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

export interface PolicyParams {
  /** Below this the generator is stopped so it never runs dry (air in the injection system). */
  fuelReservePct: number;
  /** A stopped generator restarts only above reserve + this, so fuel-gauge noise cannot flap it. */
  fuelRestartMarginPct: number;
  /** Minimum generator run time: short runs wet-stack a diesel and wear its starter. */
  minRunS: number;
  /** A generator commanded on but not running after this long is treated as failed. */
  genStartTimeoutS: number;
  /** Delay before each step up of the shed tier. */
  shedStepDelayS: number;
  /** SoC margin above a threshold before shedding or shutdown is undone. */
  recoveryHysteresisPct: number;
  /** Overrides the chemistry-based critical SoC (`criticalSocPct`) when set. */
  criticalSocPct: number | null;
}

export const DEFAULT_POLICY_PARAMS: Readonly<PolicyParams> = {
  fuelReservePct: 5,
  fuelRestartMarginPct: 2,
  minRunS: 15 * 60,
  genStartTimeoutS: 120,
  shedStepDelayS: 5 * 60,
  recoveryHysteresisPct: 5,
  criticalSocPct: null,
};

/**
 * Safe local defaults used when no valid command is held (absent or expired): start the
 * generator at 40 % and stop it at 90 %, the reserve comes from the site profile. The start is
 * raised to the reserve when the profile's reserve is higher (lead-acid sites use 50 %), so the
 * generator always starts before the battery goes below its reserve.
 */
export const LOCAL_DEFAULTS = { genStartSocPct: 40, genStopSocPct: 90 } as const;

/** Thresholds in force for one decision, and where they came from. */
export interface Thresholds {
  startSocPct: number;
  stopSocPct: number;
  reserveSocPct: number;
  criticalSocPct: number;
  origin: "command" | "local-defaults";
  commandSeq: number | null;
}

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
  /** The memory to carry into the next state. */
  memory: PolicyMemory;
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
    origin: "local-defaults",
    commandSeq: null,
  };
}

/** The memory to start from when the agent starts: the outputs as the hardware reports them. */
export function initialPolicyMemory(
  outputs: { source: Source; genOn: boolean; shedTier: number },
  now: Date,
): PolicyMemory {
  return {
    source: outputs.source,
    genOn: outputs.genOn,
    shedTier: outputs.shedTier,
    shutdown: outputs.source === "off",
    genStartedAt: outputs.genOn ? now : null,
    lowSince: null,
    shedChangedAt: null,
  };
}

function pct(x: number): string {
  return `${x.toFixed(1)} %`;
}

function minutes(s: number): string {
  return `${(s / 60).toFixed(1)} min`;
}

export function decide(state: SiteState, options: DecideOptions): Decision {
  const p: PolicyParams = { ...DEFAULT_POLICY_PARAMS, ...options.params };
  const now = options.now;
  const t = thresholdsFor(options.command, options);
  const tag = t.origin === "command" ? `command seq ${t.commandSeq}` : "local default";
  const soc = state.socPct;
  const reasons: string[] = [
    t.origin === "command"
      ? `command seq ${t.commandSeq} (mode ${
        options.command!.mode
      }): start ≤ ${t.startSocPct} %, ` +
        `stop ≥ ${t.stopSocPct} %, reserve ${t.reserveSocPct} %`
      : `no valid command: safe local defaults start ≤ ${t.startSocPct} %, ` +
        `stop ≥ ${t.stopSocPct} %, reserve ${t.reserveSocPct} % (site profile)`,
  ];
  const sinceS = (from: Date | null) => from === null ? 0 : (now.getTime() - from.getTime()) / 1000;

  // Generator.
  const fuel = state.fuelPct;
  const fuelOut = fuel !== null && fuel <= p.fuelReservePct;
  const fuelCanStart = fuel === null || fuel > p.fuelReservePct + p.fuelRestartMarginPct;
  let genOn = state.genOn;
  let genStartedAt = state.genOn ? state.genStartedAt ?? now : null;
  const runS = sinceS(genStartedAt);
  const genFailed = state.genOn && !state.genRunning && runS >= p.genStartTimeoutS;
  if (state.genOn) {
    if (fuelOut) {
      genOn = false;
      reasons.push(`fuel ${pct(fuel)} ≤ reserve ${p.fuelReservePct} %: stop generator`);
    } else if (soc >= t.stopSocPct) {
      if (runS >= p.minRunS) {
        genOn = false;
        reasons.push(`SoC ${pct(soc)} ≥ stop ${t.stopSocPct} % (${tag}): stop generator`);
      } else {
        reasons.push(
          `SoC ${pct(soc)} ≥ stop ${t.stopSocPct} % but the generator has run ${minutes(runS)} ` +
            `< minimum ${minutes(p.minRunS)}: keep running`,
        );
      }
    } else if (genFailed) {
      reasons.push(
        `generator commanded on ${minutes(runS)} ago but not running: treated as failed`,
      );
    }
  } else if (soc <= t.startSocPct) {
    if (fuelCanStart) {
      genOn = true;
      genStartedAt = now;
      reasons.push(`SoC ${pct(soc)} ≤ start ${t.startSocPct} % (${tag}): start generator`);
    } else {
      reasons.push(
        `SoC ${pct(soc)} ≤ start ${t.startSocPct} % but fuel ${pct(fuel ?? 0)} ≤ ` +
          `${p.fuelReservePct + p.fuelRestartMarginPct} %: cannot start generator`,
      );
    }
  }
  if (!genOn) genStartedAt = null;
  // The generator carries the load only once it is sensed running; until then the battery does.
  const genHelping = genOn && state.genRunning;
  const genCanHelp = genOn ? !genFailed && !fuelOut : fuelCanStart;

  // Load shedding.
  const hyst = p.recoveryHysteresisPct;
  const lowSince = soc < t.reserveSocPct
    ? state.lowSince ?? now
    : soc >= t.reserveSocPct + hyst
    ? null
    : state.lowSince;
  let shedTier = state.shedTier;
  if (genHelping) {
    if (shedTier > 0) {
      shedTier = 0;
      reasons.push("generator carries the load: restore all loads (shed tier 0)");
    }
  } else if (lowSince !== null && soc < t.reserveSocPct && !genCanHelp) {
    const stepFrom = state.shedChangedAt !== null && state.shedChangedAt > lowSince
      ? state.shedChangedAt
      : lowSince;
    const waitedS = sinceS(stepFrom);
    if (shedTier < MAX_SHED_TIER && waitedS >= p.shedStepDelayS) {
      shedTier += 1;
      const why = fuelOut || !fuelCanStart ? `fuel ${pct(fuel ?? 0)}` : "generator failed";
      reasons.push(
        `SoC ${pct(soc)} < reserve ${t.reserveSocPct} % for ${minutes(sinceS(lowSince))} ` +
          `and the generator cannot help (${why}): shed tier ${shedTier}`,
      );
    }
  } else if (shedTier > 0 && soc >= t.reserveSocPct + hyst) {
    shedTier = 0;
    reasons.push(
      `SoC ${pct(soc)} ≥ reserve ${t.reserveSocPct} % + ${hyst} %: restore all loads (shed tier 0)`,
    );
  }

  // Emergency shutdown.
  let shutdown = state.shutdown;
  if (!shutdown && !genHelping && soc <= t.criticalSocPct) {
    shutdown = true;
    shedTier = MAX_SHED_TIER;
    reasons.push(`SoC ${pct(soc)} ≤ critical ${t.criticalSocPct} %: emergency shutdown`);
  } else if (shutdown && genHelping) {
    shutdown = false;
    reasons.push("generator running: end shutdown, load on generator");
  } else if (shutdown && soc >= t.criticalSocPct + hyst) {
    shutdown = false;
    reasons.push(
      `SoC ${pct(soc)} ≥ critical ${t.criticalSocPct} % + ${hyst} %: end shutdown ` +
        `(loads stay shed at tier ${shedTier})`,
    );
  }

  const source: Source = shutdown ? "off" : genHelping ? "generator" : "battery";
  const changed: DecisionOutput[] = [];
  if (source !== state.source) changed.push("source");
  if (genOn !== state.genOn) changed.push("genOn");
  if (shedTier !== state.shedTier) changed.push("shedTier");
  if (shutdown !== state.shutdown) changed.push("shutdown");
  if (changed.includes("source")) reasons.push(`source ${state.source} → ${source}`);
  return {
    source,
    genOn,
    shedTier,
    shutdown,
    reasons,
    changed,
    thresholds: t,
    memory: {
      source,
      genOn,
      shedTier,
      shutdown,
      genStartedAt,
      lowSince,
      shedChangedAt: shedTier !== state.shedTier ? now : state.shedChangedAt,
    },
  };
}
