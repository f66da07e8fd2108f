/**
 * Which run requests appear now, and which of them may start an idle generator. A start is
 * blocked by an empty tank (fuel at reserve + restart margin), by a rest after the maximum run,
 * and by quiet hours — except a safety start: SoC near critical, or a persistent low voltage.
 * A SoC start the battery can bridge until the forecast PV takes over is deferred; the start then
 * waits for the reserve until the PV time (see src/core/generator_control.ts).
 */
import type { Conditions } from "./generator_conditions.ts";
import type { PolicyParams } from "./policy_params.ts";
import {
  minutes,
  pct,
  type RunRequest,
  secondsBetween,
  type SiteState,
  type Thresholds,
} from "./policy_state.ts";
import { describeBridge, type PvBridge } from "./pv_bridge.ts";
import { formatClockTime } from "./site_time.ts";

export interface StartTrigger {
  r: RunRequest;
  why: string;
  /** Overrides quiet hours and rests: the battery is near empty. */
  safety: boolean;
}

export interface StartProposal {
  /** For an idle generator: the triggers allowed to start it; else every trigger. */
  triggers: StartTrigger[];
  pvWaitUntil: Date | null;
  reasons: string[];
  quietText: string;
}

export function proposeStarts(s: SiteState, o: {
  c: Conditions;
  t: Thresholds;
  p: PolicyParams;
  tag: string;
  now: Date;
  /** Off or cooling down: a trigger would (re)start it. */
  idle: boolean;
  exerciseAllowed: boolean;
  socRequested: boolean;
  pvWaitUntil: Date | null;
  restUntil: Date | null;
  lastLongRunAt: Date;
  bridge: PvBridge | null;
  fuelCanStart: boolean;
}): StartProposal {
  const { c, t, p, now } = o;
  const soc = s.socPct;
  const since = (d: Date | null) => secondsBetween(d, now);
  const reasons: string[] = [];
  let pvWaitUntil = o.pvWaitUntil;
  const waitingForPv = pvWaitUntil !== null || (c.pvCovering && soc > t.reserveSocPct);
  const startSoc = waitingForPv ? Math.min(t.startSocPct, t.reserveSocPct) : t.startSocPct;
  const triggers: StartTrigger[] = [];
  if (soc <= startSoc) {
    triggers.push({
      r: "soc",
      why: startSoc < t.startSocPct
        ? `SoC ${pct(soc)} ≤ reserve ${t.reserveSocPct} % (the start waited for PV)`
        : `SoC ${pct(soc)} ≤ start ${t.startSocPct} % (${o.tag})`,
      safety: c.nearCritical,
    });
  } else if (soc <= t.startSocPct && o.idle && !o.socRequested) {
    reasons.push(
      `SoC ${pct(soc)} ≤ start ${t.startSocPct} % but ` +
        (pvWaitUntil !== null
          ? `the battery bridges to the PV expected at ${pvWaitUntil.toISOString()}`
          : "PV covers the load") +
        `: no start above the reserve ${t.reserveSocPct} %`,
    );
  }
  if (c.lowVoltage) {
    triggers.push({
      r: "low-voltage",
      why: `battery ${s.batteryV.toFixed(2)} V ≤ ${c.startV.toFixed(2)} V for ` +
        `${minutes(since(c.lowVoltageSince))}`,
      safety: true,
    });
  }
  if (c.highLoad) {
    triggers.push({
      r: "high-load",
      why: `load ${Math.round(s.loadW)} W ≥ ${p.highLoadStartRatio * 100} % of ` +
        `${Math.round(c.loadRatedW)} W for ${minutes(since(c.highLoadSince))}`,
      safety: false,
    });
  }
  if (
    o.exerciseAllowed && p.exerciseIntervalS !== null && c.exerciseHour && !c.quiet &&
    since(o.lastLongRunAt) >= p.exerciseIntervalS
  ) {
    triggers.push({
      r: "exercise",
      why: `no run of ${minutes(p.exerciseDurationS)} for ` +
        `${(since(o.lastLongRunAt) / 86_400).toFixed(1)} d: exercise run`,
      safety: false,
    });
  }
  const quietText = p.quietHours
    ? `quiet hours ${formatClockTime(p.quietHours.startMin)}–` +
      `${formatClockTime(p.quietHours.endMin)} (site time)`
    : "";
  if (!o.idle) return { triggers, pvWaitUntil, reasons, quietText };

  const socTrigger = triggers.find((x) => x.r === "soc");
  if (socTrigger && !socTrigger.safety && pvWaitUntil === null && o.bridge?.holds) {
    pvWaitUntil = t.pvCoversLoadAt;
    triggers.splice(triggers.indexOf(socTrigger), 1);
    reasons.push(
      `${socTrigger.why} but ${describeBridge(o.bridge, t.pvCoversLoadAt!, p.pvBridgeMargin)}: ` +
        "start deferred, it waits for the reserve",
    );
  }
  const allowed = triggers.filter((x) => {
    const no = (why: string) => {
      reasons.push(`${x.why} but ${why}: cannot start generator`);
      return false;
    };
    if (!o.fuelCanStart) {
      return no(`fuel ${pct(s.fuelPct ?? 0)} ≤ ${p.fuelReservePct + p.fuelRestartMarginPct} %`);
    }
    if (o.restUntil !== null && !x.safety) {
      return no(`the generator rests until ${o.restUntil.toISOString()}`);
    }
    if (c.quiet && !x.safety) {
      return no(
        `${quietText}: no start unless the battery is near critical (SoC ≤ ` +
          `${t.criticalSocPct + p.nearCriticalMarginPct} % or a persistent low voltage)`,
      );
    }
    return true;
  });
  return { triggers: allowed, pvWaitUntil, reasons, quietText };
}
