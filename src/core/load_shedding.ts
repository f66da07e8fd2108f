/**
 * Load shedding and emergency shutdown: the last defences of the battery when the generator
 * cannot help. Each has hysteresis so it never flaps:
 * - Shedding starts only when SoC is below the reserve AND the generator cannot help (no fuel,
 *   failed, quiet hours, resting, none). Tiers rise one at a time, each after `shedStepDelayS`;
 *   all loads return when the generator carries the load or SoC is back to reserve +
 *   `recoveryHysteresisPct`.
 * - Emergency shutdown at the critical SoC; it ends when the generator carries the load or SoC
 *   recovers to critical + `recoveryHysteresisPct` (loads stay shed until the reserve recovers).
 */
import type { PolicyParams } from "./policy_params.ts";
import { minutes, pct, secondsBetween, type SiteState, type Thresholds } from "./policy_state.ts";

export const MAX_SHED_TIER = 3;

export interface SheddingOutcome {
  shedTier: number;
  shutdown: boolean;
  lowSince: Date | null;
  shedChangedAt: Date | null;
  reasons: string[];
}

export function shedLoads(
  s: SiteState,
  o: {
    t: Thresholds;
    p: PolicyParams;
    now: Date;
    /** The generator carries the load now. */
    genCarrying: boolean;
    genCanHelp: boolean;
    /** Why the generator cannot help, e.g. "fuel 3.0 %". */
    whyNoGen: string;
  },
): SheddingOutcome {
  const { t, p, now } = o;
  const soc = s.socPct;
  const reasons: string[] = [];
  const since = (d: Date | null) => secondsBetween(d, now);
  const hyst = p.recoveryHysteresisPct;
  const lowSince = soc < t.reserveSocPct
    ? s.lowSince ?? now
    : soc >= t.reserveSocPct + hyst
    ? null
    : s.lowSince;
  let shedTier = s.shedTier;
  if (o.genCarrying) {
    if (shedTier > 0) {
      shedTier = 0;
      reasons.push("generator carries the load: restore all loads (shed tier 0)");
    }
  } else if (lowSince !== null && soc < t.reserveSocPct && !o.genCanHelp) {
    const stepFrom = s.shedChangedAt !== null && s.shedChangedAt > lowSince
      ? s.shedChangedAt
      : lowSince;
    if (shedTier < MAX_SHED_TIER && since(stepFrom) >= p.shedStepDelayS) {
      shedTier += 1;
      reasons.push(
        `SoC ${pct(soc)} < reserve ${t.reserveSocPct} % for ${minutes(since(lowSince))} ` +
          `and the generator cannot help (${o.whyNoGen}): shed tier ${shedTier}`,
      );
    }
  } else if (shedTier > 0 && soc >= t.reserveSocPct + hyst) {
    shedTier = 0;
    reasons.push(
      `SoC ${pct(soc)} ≥ reserve ${t.reserveSocPct} % + ${hyst} %: restore all loads (shed tier 0)`,
    );
  }

  let shutdown = s.shutdown;
  if (!shutdown && !o.genCarrying && soc <= t.criticalSocPct) {
    shutdown = true;
    shedTier = MAX_SHED_TIER;
    reasons.push(`SoC ${pct(soc)} ≤ critical ${t.criticalSocPct} %: emergency shutdown`);
  } else if (shutdown && o.genCarrying) {
    shutdown = false;
    reasons.push("generator running: end shutdown, load on generator");
  } else if (shutdown && soc >= t.criticalSocPct + hyst) {
    shutdown = false;
    reasons.push(
      `SoC ${pct(soc)} ≥ critical ${t.criticalSocPct} % + ${hyst} %: end shutdown ` +
        `(loads stay shed at tier ${shedTier})`,
    );
  }
  return {
    shedTier,
    shutdown,
    lowSince,
    shedChangedAt: shedTier !== s.shedTier ? now : s.shedChangedAt,
    reasons,
  };
}
