/**
 * Shared fixtures of the dispatch-policy tests: two sites, a command, state builders and a
 * step-by-step driver (an ideal generator that runs one step after its run signal), the way a
 * backtest drives `decide` without the agent.
 */
import type { StrategicCommand } from "../../src/core/command.ts";
import {
  decide,
  type DecideOptions,
  type Decision,
  initialPolicyMemory,
  type SiteState,
} from "../../src/core/policy.ts";
import type { PolicyParams } from "../../src/core/policy_params.ts";
import type { SiteProfile } from "../../src/core/site_profile.ts";

/** 13:00 in Lagos (UTC+1, no daylight saving): outside quiet hours and the exercise hour. */
export const T0 = new Date("2026-03-20T12:00:00Z");
export const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

/**
 * Clinic: 24 V LiFePO4 (8 cells), 10 kWh, reserve 20 %, 8 kW generator, in Lagos.
 * Local defaults: start max(40, 20) = 40 %, stop 90 %, critical min(5, 20 / 2) = 5 %;
 * near critical ≤ 5 + 5 = 10 %. Voltages: start 8 × 3.0 = 24.0 V, charged 8 × 3.45 = 27.6 V.
 */
export const CLINIC: SiteProfile = {
  siteId: "clinic-1",
  chemistry: "lifepo4",
  nominalV: 24,
  capacityWh: 10_000,
  reserveSocPct: 20,
  tankL: 200,
  generatorRatedKw: 8,
  pvKwp: 3,
  latitude: 6.45,
  longitude: 3.4,
  timeZone: "Africa/Lagos",
};

/**
 * Tower: 12 V flooded lead-acid (6 cells), 5 kWh, reserve 50 %, 5 kW generator.
 * Local defaults: start max(40, 50) = 50 %, stop 90 %, critical 50 / 2 = 25 %.
 * Voltages: start 6 × 11.5 / 6 = 11.5 V, charged 6 × 13.8 / 6 = 13.8 V.
 */
export const TOWER: SiteProfile = {
  ...CLINIC,
  siteId: "tower-1",
  chemistry: "flooded-lead-acid",
  nominalV: 12,
  capacityWh: 5_000,
  reserveSocPct: 50,
  generatorRatedKw: 5,
};

/** Start 30 %, stop 80 %, reserve 25 %: critical min(5, 12.5) = 5 %. */
export const COMMAND: StrategicCommand = {
  siteId: "clinic-1",
  seq: 12,
  issuedAt: at(-10),
  validUntil: at(24 * 60),
  mode: "eco",
  genStartSocPct: 30,
  genStopSocPct: 80,
  reserveSocPct: 25,
  forecast: "clear",
  predictedBatteryH: 5,
  predictedDieselH: 40,
  reason: "sunny tomorrow",
};

/** Readings on top of a fresh memory at T0: battery source, generator off. */
export function idle(patch: Partial<SiteState> = {}): SiteState {
  return {
    ...initialPolicyMemory({ source: "battery", genOn: false, shedTier: 0 }, T0),
    socPct: 60,
    batteryV: 26.4,
    loadW: 1000,
    pvW: 0,
    fuelPct: 50,
    genRunning: false,
    ...patch,
  };
}

/** A generator carrying the load since `sinceMin` minutes before `now` (for the SoC request). */
export function running(now: Date, sinceMin: number, patch: Partial<SiteState> = {}): SiteState {
  const since = new Date(now.getTime() - sinceMin * 60_000);
  return idle({
    source: "generator",
    genOn: true,
    genPhase: "running",
    requests: ["soc"],
    genStartedAt: since,
    genRunningSince: since,
    notRunningSince: null,
    genRunning: true,
    ...patch,
  });
}

export interface Step {
  /** Readings to change from this step on (they persist). */
  set?: Partial<SiteState>;
  /** Override the ideal generator's "running" for this step only. */
  genRunning?: boolean;
}

/**
 * Drives `decide` every `stepS` from `start`: readings persist from step to step, the
 * generator is sensed running one step after its run signal (and stops with it).
 */
export function drive(
  start: SiteState,
  steps: Step[],
  options: {
    stepS: number;
    command?: StrategicCommand | null;
    profile?: SiteProfile;
    params?: Partial<PolicyParams>;
    from?: Date;
  },
): Decision[] {
  let state = start;
  let readings: Partial<SiteState> = {};
  const decisions: Decision[] = [];
  const from = options.from ?? T0;
  steps.forEach((step, i) => {
    readings = { ...readings, ...step.set };
    const now = new Date(from.getTime() + i * options.stepS * 1000);
    const genRunning = step.genRunning ?? state.genOn;
    const opts: DecideOptions = {
      command: options.command ?? null,
      now,
      profile: options.profile ?? CLINIC,
      params: options.params,
    };
    const d = decide({ ...state, ...readings, genRunning }, opts);
    decisions.push(d);
    state = { ...state, ...readings, ...d.memory };
  });
  return decisions;
}

/** "i:output=value" for every step where one of `outputs` changed. */
export function toggles(
  decisions: Decision[],
  outputs: ("source" | "genOn" | "shedTier" | "shutdown")[],
): string[] {
  const out: string[] = [];
  decisions.forEach((d, i) => {
    for (const o of outputs) if (d.changed.includes(o)) out.push(`${i}:${o}=${d[o]}`);
  });
  return out;
}
