/**
 * The debounce every alarm rule shares: a condition raises only after it held for some
 * consecutive samples and some time, and clears only after its (looser) clear condition held for
 * some consecutive samples. The raise and clear conditions are separate so each rule sets its
 * own hysteresis (raise below 10 %, clear at 15 %): a value sitting on a threshold never flaps.
 */
import type { AlarmKind, AlarmSeverity, AlarmValues } from "./alarm.ts";

export interface Debounce {
  active: boolean;
  /** Consecutive samples towards the other state (raise while inactive, clear while active). */
  count: number;
  /** Time of the first of those samples, ms since the epoch. */
  sinceMs: number | null;
}

export interface DebounceRule {
  /** Consecutive samples the raise condition must hold (1: at once). */
  raiseSamples: number;
  /** …and for at least this long from the first of them. */
  raiseHoldMs: number;
  /** Consecutive samples the clear condition must hold. */
  clearSamples: number;
}

export const IDLE: Readonly<Debounce> = { active: false, count: 0, sinceMs: null };
export const ACTIVE: Readonly<Debounce> = { active: true, count: 0, sinceMs: null };

/** One sample: whether the raise and the clear condition hold at `atMs`. */
export function debounce(
  d: Debounce,
  sample: { raise: boolean; clear: boolean; atMs: number },
  rule: DebounceRule,
): Debounce {
  if (!d.active) {
    if (!sample.raise) return d.count === 0 ? d : IDLE;
    const count = d.count + 1;
    const sinceMs = d.sinceMs ?? sample.atMs;
    if (count >= rule.raiseSamples && sample.atMs - sinceMs >= rule.raiseHoldMs) return ACTIVE;
    return { active: false, count, sinceMs };
  }
  if (!sample.clear) return d.count === 0 ? d : ACTIVE;
  const count = d.count + 1;
  if (count >= rule.clearSamples) return IDLE;
  return { active: true, count, sinceMs: d.sinceMs ?? sample.atMs };
}

/** A change of one alarm condition: raised (active) or cleared, with what the rule saw. */
export interface AlarmCondition {
  kind: AlarmKind;
  active: boolean;
  severity: AlarmSeverity;
  /** One line for a person. */
  message: string;
  values: AlarmValues;
  /** When the evidence was seen (the record's or event's time, or the tick). */
  at: Date;
}

/** Rounds for the values an operator reads: 0.1 resolution. */
export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
