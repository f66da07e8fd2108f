/**
 * The persistent conditions the generator rules act on, each with its timer carried in the
 * policy's memory: a condition counts only after it has held without interruption for its delay,
 * so one sample — a crank dip, a motor's inrush, a passing cloud — never moves an output.
 */
import type { PolicyParams } from "./policy_params.ts";
import { voltageThresholds } from "./policy_params.ts";
import { holdSince, secondsBetween, type SiteState, type Thresholds } from "./policy_state.ts";
import { inDailyWindow, localMinuteOfDay } from "./site_time.ts";
import type { SiteProfile } from "./site_profile.ts";

export interface Conditions {
  startV: number;
  chargedV: number;
  lowVoltageSince: Date | null;
  /** Voltage at or below the start voltage for the whole delay. */
  lowVoltage: boolean;
  chargedSince: Date | null;
  charged: boolean;
  loadRatedW: number;
  highLoadSince: Date | null;
  highLoad: boolean;
  lowLoadSince: Date | null;
  loadLow: boolean;
  /** SoC at which the SoC request is released: the setpoint, or start + band when following. */
  stopTargetPct: number;
  socStopSince: Date | null;
  socReached: boolean;
  pvCovering: boolean;
  pvFlipSince: Date | null;
  /** Set when `pvCovering` flipped in this decision. */
  pvFlipped: boolean;
  nearCritical: boolean;
  quiet: boolean;
  /** Within the daily exercise hour. */
  exerciseHour: boolean;
}

export function readConditions(
  s: SiteState,
  options: { t: Thresholds; p: PolicyParams; profile: SiteProfile; now: Date },
): Conditions {
  const { t, p, profile, now } = options;
  const held = (since: Date | null, delayS: number) =>
    since !== null && secondsBetween(since, now) >= delayS;
  const { startV, chargedV } = voltageThresholds(profile, p);
  const lowVoltageSince = holdSince(s.batteryV <= startV, s.lowVoltageSince, now);
  const chargedSince = holdSince(s.batteryV >= chargedV, s.chargedSince, now);
  const loadRatedW = p.inverterRatedW ?? profile.generatorRatedKw * 1000;
  const highLoadSince = holdSince(
    loadRatedW > 0 && s.loadW >= p.highLoadStartRatio * loadRatedW,
    s.highLoadSince,
    now,
  );
  const lowLoadSince = holdSince(s.loadW <= p.highLoadStopRatio * loadRatedW, s.lowLoadSince, now);
  const stopTargetPct = t.strategy === "load-following"
    ? Math.min(t.stopSocPct, t.startSocPct + p.loadFollowingBandPct)
    : t.stopSocPct;
  const socStopSince = holdSince(s.socPct >= stopTargetPct, s.socStopSince, now);

  // PV covers the load when it produces at least what the site draws; the state flips only
  // after the measurement has disagreed with it for `pvCoverDelayS`.
  const pvNow = s.pvW !== null && s.pvW > 0 && s.pvW >= s.loadW;
  let pvCovering = s.pvCovering ?? false;
  let pvFlipSince = pvNow === pvCovering ? null : s.pvFlipSince ?? now;
  let pvFlipped = false;
  if (held(pvFlipSince, p.pvCoverDelayS)) {
    pvCovering = pvNow;
    pvFlipSince = null;
    pvFlipped = true;
  }

  const needClock = p.quietHours !== null || p.exerciseIntervalS !== null;
  const minute = needClock ? localMinuteOfDay(now, profile.timeZone) : 0;
  return {
    startV,
    chargedV,
    lowVoltageSince,
    lowVoltage: held(lowVoltageSince, p.lowVoltageStartDelayS),
    chargedSince,
    charged: held(chargedSince, p.chargedStopDelayS),
    loadRatedW,
    highLoadSince,
    highLoad: held(highLoadSince, p.highLoadStartDelayS),
    lowLoadSince,
    loadLow: held(lowLoadSince, p.highLoadStopDelayS),
    stopTargetPct,
    socStopSince,
    socReached: held(socStopSince, p.socStopDelayS),
    pvCovering,
    pvFlipSince,
    pvFlipped,
    nearCritical: s.socPct <= t.criticalSocPct + p.nearCriticalMarginPct,
    quiet: p.quietHours !== null && inDailyWindow(minute, p.quietHours),
    exerciseHour: p.exerciseIntervalS !== null &&
      inDailyWindow(minute, { startMin: p.exerciseAtMin, endMin: (p.exerciseAtMin + 60) % 1440 }),
  };
}
