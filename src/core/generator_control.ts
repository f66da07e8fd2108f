/**
 * The generator's part of the dispatch policy: when to start it, when to put the load on it,
 * when to take the load off and stop it. Pure; every timer lives in the memory it returns.
 *
 * A run has reasons ("requests"); it starts when one appears and stops when every one is
 * released and the minimum run is over:
 * - `soc`: SoC ≤ the start threshold. Released at the strategy's target: cycle charging at the
 *   setpoint `stopSocPct`; load following at start + `loadFollowingBandPct` (at most the
 *   setpoint), or once measured PV covers the load. Either strategy also releases it when the
 *   battery above reserve bridges to the PV time the backend forecasts (`pvCoversLoadAt`); the
 *   start threshold then waits at the reserve until that time, so the generator does not restart
 *   on the way. The same bridge defers a start.
 * - `low-voltage`: the battery voltage at or below the chemistry's start voltage for
 *   `lowVoltageStartDelayS` without a break (a crank dip or motor inrush lasts seconds). Released
 *   when the voltage stays at the charged voltage, or SoC reaches the target.
 * - `high-load`: load ≥ `highLoadStartRatio` of the inverter (or generator) rating for its delay;
 *   released at ≤ `highLoadStopRatio` for its delay.
 * - `exercise`: no run of `exerciseDurationS` for `exerciseIntervalS`, in the daily exercise
 *   hour, outside quiet hours; released after the exercise duration.
 * Forced stops: fuel at its reserve (any time), the maximum continuous run (then a rest).
 * Blocked starts: quiet hours and rests allow only safety starts (SoC near critical, or the
 * persistent low voltage) — safety beats quiet.
 * Stages: starting → warm-up (running, the battery keeps the load) → running (the generator
 * carries the load) → cool-down (load back on the battery, engine unloaded) → off. A run signal
 * not answered within `genStartTimeoutS` is a failure, reported once.
 */
import { readConditions } from "./generator_conditions.ts";
import { observeEngine } from "./generator_engine.ts";
import type { PolicyParams } from "./policy_params.ts";
import {
  type FullPolicyMemory,
  type GenPhase,
  minutes,
  pct,
  type PolicyEvent,
  type RunRequest,
  secondsBetween,
  type SiteState,
  type Thresholds,
} from "./policy_state.ts";
import { proposeStarts } from "./generator_starts.ts";
import { describeBridge, pvBridge } from "./pv_bridge.ts";
import type { SiteProfile } from "./site_profile.ts";

export type GeneratorMemory = Omit<
  FullPolicyMemory,
  "source" | "shedTier" | "shutdown" | "lowSince" | "shedChangedAt"
>;

export interface GeneratorOutcome {
  genOn: boolean;
  phase: GenPhase;
  /** Running and warmed up: the generator may carry the load now. */
  ready: boolean;
  /** Whether the generator can be counted on soon (load shedding waits for it). */
  canHelp: boolean;
  /** Why it cannot, for the shedding reason. */
  whyNot: string;
  /** Charger limit while the generator carries the load: null = the charger's maximum. */
  chargeLimitW: number | null;
  quiet: boolean;
  requests: RunRequest[];
  events: PolicyEvent[];
  reasons: string[];
  memory: GeneratorMemory;
}

export interface GeneratorOptions {
  t: Thresholds;
  p: PolicyParams;
  profile: SiteProfile;
  now: Date;
  /** "command seq 12" or "local default", for reasons. */
  tag: string;
}

const hoursText = (s: number) => `${(s / 3600).toFixed(1)} h`;

/** The phase a v1 memory (without `genPhase`) implies. */
function inferPhase(s: SiteState): GenPhase {
  if (!s.genOn) return "off";
  if (!s.genRunning) return "starting";
  return s.source === "generator" ? "running" : "warmup";
}

export function controlGenerator(s: SiteState, o: GeneratorOptions): GeneratorOutcome {
  const { t, p, profile, now, tag } = o;
  const reasons: string[] = [];
  const events: PolicyEvent[] = [];
  const since = (d: Date | null | undefined) => secondsBetween(d, now);
  const soc = s.socPct;
  const c = readConditions(s, o);
  const ratedW = profile.generatorRatedKw * 1000;
  const fuel = s.fuelPct;
  const fuelOut = fuel !== null && fuel <= p.fuelReservePct;
  const fuelCanStart = fuel === null || fuel > p.fuelReservePct + p.fuelRestartMarginPct;
  const lf = t.strategy === "load-following";
  const v1 = s.genPhase === undefined;

  let phase: GenPhase = ratedW > 0 ? s.genPhase ?? inferPhase(s) : "off";
  let genStartedAt = s.genOn ? s.genStartedAt ?? now : null;
  let runningSince = v1
    ? (s.genOn && s.genRunning ? genStartedAt : null)
    : s.genRunningSince ?? null;
  let notRunningSince = v1
    ? (s.genOn && !s.genRunning ? genStartedAt : null)
    : s.notRunningSince ?? null;
  let cooldownSince = s.cooldownSince ?? null;
  let failureReportedAt = s.failureReportedAt ?? null;
  let restUntil = s.restUntil && now < s.restUntil ? s.restUntil : null;
  let pvWaitUntil = s.pvWaitUntil && t.pvCoversLoadAt !== null && now < s.pvWaitUntil
    ? s.pvWaitUntil
    : null;
  let lastLongRunAt = s.lastLongRunAt ?? now;
  let requests = new Set<RunRequest>(s.requests ?? (s.genOn ? ["soc"] : []));
  if (c.pvFlipped) {
    reasons.push(
      `PV ${Math.round(s.pvW ?? 0)} W ${c.pvCovering ? "≥" : "<"} load ${Math.round(s.loadW)} W ` +
        `for ${minutes(p.pvCoverDelayS)}: PV ${
          c.pvCovering ? "covers" : "no longer covers"
        } the load`,
    );
  }

  // 1. What the engine does: it answered the run signal, warmed up, stopped or never started.
  const engine = observeEngine(s, {
    phase,
    genStartedAt,
    runningSince,
    notRunningSince,
    failureReportedAt,
    requests: [...requests],
    p,
    now,
  });
  ({ phase, runningSince, notRunningSince, failureReportedAt } = engine);
  events.push(...engine.events);
  reasons.push(...engine.reasons);
  const runS = phase === "running" || phase === "warmup" ? since(runningSince) : 0;

  // 2. Release satisfied requests; stop when none is left (after the minimum run) or forced.
  const bridge = pvBridge({
    now,
    pvCoversLoadAt: t.pvCoversLoadAt,
    socPct: soc,
    reserveSocPct: t.reserveSocPct,
    capacityWh: profile.capacityWh,
    loadW: s.loadW,
    margin: p.pvBridgeMargin,
  });
  // The threshold's origin is named when the generator stops on it, not while it keeps running.
  const socTargetText = (withTag: boolean) =>
    lf && c.stopTargetPct < t.stopSocPct
      ? `SoC ${
        pct(soc)
      } ≥ ${c.stopTargetPct} % (start + ${p.loadFollowingBandPct} %, load following)`
      : `SoC ${pct(soc)} ≥ stop ${t.stopSocPct} %` + (withTag ? ` (${tag})` : "");
  let bridged = false;
  const releasedBy = (r: RunRequest, withTag: boolean): string | null => {
    switch (r) {
      case "soc":
        if (c.socReached) return socTargetText(withTag);
        if (lf && c.pvCovering && soc > t.reserveSocPct) {
          return "PV covers the load (load following)";
        }
        if (bridge?.holds && (phase === "running" || phase === "warmup")) {
          bridged = true;
          return describeBridge(bridge, t.pvCoversLoadAt!, p.pvBridgeMargin);
        }
        return null;
      case "low-voltage":
        if (c.charged) {
          return `battery ${s.batteryV.toFixed(2)} V ≥ ${c.chargedV.toFixed(2)} V for ` +
            `${minutes(p.chargedStopDelayS)}: charged`;
        }
        return c.socReached ? socTargetText(withTag) : null;
      case "high-load":
        return c.loadLow
          ? `load ${Math.round(s.loadW)} W ≤ ${p.highLoadStopRatio * 100} % of ` +
            `${Math.round(c.loadRatedW)} W for ${minutes(p.highLoadStopDelayS)}`
          : null;
      case "exercise":
        if (c.quiet) return "quiet hours began: exercise ends";
        return phase === "running" && runS >= p.warmupS + p.exerciseDurationS
          ? `exercise run of ${minutes(p.exerciseDurationS)} done`
          : null;
    }
  };
  let stopWhy: string | null = null;
  if (phase !== "off" && phase !== "cooldown") {
    if (fuelOut) {
      stopWhy = `fuel ${pct(fuel ?? 0)} ≤ reserve ${p.fuelReservePct} %`;
    } else {
      const held = [...requests].map((r) => ({ r, why: releasedBy(r, false) }));
      const done = held.filter((h) => h.why !== null);
      if (done.length === held.length) {
        // The minimum run counts from the first sensed running, warm-up included.
        if ((phase === "running" || phase === "warmup") && runS < p.minRunS) {
          reasons.push(
            `${done.map((h) => h.why).join("; ")} but the generator has run ${minutes(runS)} ` +
              `< minimum ${minutes(p.minRunS)}: keep running`,
          );
        } else {
          stopWhy = done.map((h) => releasedBy(h.r, true)).join("; ") || "no request left";
          if (bridged) pvWaitUntil = t.pvCoversLoadAt;
        }
      } else {
        for (const h of done) {
          requests.delete(h.r);
          reasons.push(`${h.why}: ${h.r} request released`);
        }
      }
      if (stopWhy === null && phase === "running" && p.maxRunS !== null && runS >= p.maxRunS) {
        if (c.nearCritical) {
          reasons.push(
            `generator has run ${hoursText(runS)} ≥ maximum ${hoursText(p.maxRunS)} but the ` +
              "battery is near critical: keep running",
          );
        } else {
          stopWhy = `generator has run ${hoursText(runS)} ≥ maximum ${hoursText(p.maxRunS)}`;
          restUntil = new Date(now.getTime() + (p.cooldownS + p.restS) * 1000);
          reasons.push(`generator rests until ${restUntil.toISOString()}`);
        }
      }
    }
  }
  if (stopWhy !== null) {
    reasons.push(`${stopWhy}: stop generator`);
    if (phase === "running" && s.genRunning && p.cooldownS > 0) {
      phase = "cooldown";
      cooldownSince = now;
      reasons.push(
        `cool-down: load back on the battery, the engine runs unloaded ${minutes(p.cooldownS)} ` +
          "before it stops",
      );
    } else {
      phase = "off";
    }
    requests.clear();
  } else if (phase === "cooldown" && since(cooldownSince) >= p.cooldownS) {
    phase = "off";
    reasons.push(`cool-down of ${minutes(p.cooldownS)} done: generator off`);
  }

  // 3. New requests: start (or resume from cool-down), unless blocked; a running set adds them.
  if (stopWhy === null && ratedW > 0) {
    const idle = phase === "off" || phase === "cooldown";
    const proposal = proposeStarts(s, {
      c,
      t,
      p,
      tag,
      now,
      idle,
      exerciseAllowed: phase === "off",
      socRequested: requests.has("soc"),
      pvWaitUntil,
      restUntil,
      lastLongRunAt,
      bridge,
      fuelCanStart,
    });
    pvWaitUntil = proposal.pvWaitUntil;
    reasons.push(...proposal.reasons);
    const triggers = proposal.triggers;
    if (idle) {
      const allowed = triggers;
      if (allowed.length > 0) {
        requests = new Set(allowed.map((x) => x.r));
        if (phase === "off") {
          phase = "starting";
          genStartedAt = now;
          notRunningSince = now;
          runningSince = null;
          for (const x of allowed) reasons.push(`${x.why}: start generator`);
        } else {
          phase = "running";
          cooldownSince = null;
          for (const x of allowed) reasons.push(`${x.why}: generator back on the load`);
        }
        if (c.quiet) reasons.push(`safety beats ${proposal.quietText}`);
      }
    } else {
      for (const x of triggers) {
        if (x.r !== "exercise" && !requests.has(x.r)) {
          requests.add(x.r);
          reasons.push(`${x.why}: generator keeps running for it`);
        }
      }
    }
  }

  if (phase === "off") {
    genStartedAt = null;
    runningSince = null;
    notRunningSince = null;
    cooldownSince = null;
    failureReportedAt = null;
    requests.clear();
  }
  if (phase === "running" && s.genRunning && since(runningSince) >= p.exerciseDurationS) {
    lastLongRunAt = now;
  }
  const genOn = phase !== "off";
  const ready = phase === "running" && s.genRunning;
  const blocked = c.quiet && !c.nearCritical
    ? "quiet hours"
    : restUntil !== null
    ? `generator resting until ${restUntil.toISOString()}`
    : null;
  let canHelp: boolean;
  let whyNot: string;
  if (ratedW <= 0) {
    [canHelp, whyNot] = [false, "no generator"];
  } else if (genOn && phase !== "cooldown") {
    canHelp = phase !== "failed" && !fuelOut;
    whyNot = phase === "failed" ? "generator failed" : `fuel ${pct(fuel ?? 0)}`;
  } else {
    canHelp = fuelCanStart && blocked === null;
    whyNot = !fuelCanStart ? `fuel ${pct(fuel ?? 0)}` : blocked ?? "";
  }
  return {
    genOn,
    phase,
    ready,
    canHelp,
    whyNot,
    chargeLimitW: ready && lf ? Math.max(0, p.minLoadRatio * ratedW - s.loadW) : null,
    quiet: c.quiet,
    requests: [...requests],
    events,
    reasons,
    memory: {
      genOn,
      genStartedAt,
      genPhase: phase,
      requests: [...requests],
      genRunningSince: runningSince,
      notRunningSince,
      cooldownSince,
      restUntil,
      failureReportedAt,
      lowVoltageSince: c.lowVoltageSince,
      chargedSince: c.chargedSince,
      highLoadSince: c.highLoadSince,
      lowLoadSince: c.lowLoadSince,
      socStopSince: c.socStopSince,
      pvCovering: c.pvCovering,
      pvFlipSince: c.pvFlipSince,
      pvWaitUntil,
      lastLongRunAt,
    },
  };
}
