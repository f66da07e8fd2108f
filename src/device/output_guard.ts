/**
 * What the agent does when the outputs do not read back what it commanded: a contactor that did
 * not close, a welded one that did not open, a relay line that reads the wrong level. It raises
 * one alarm, puts the outputs in the site's safe state and holds them there for `retryS`, then
 * lets the policy try again from the outputs as they read back (as after a restart). A lasting
 * fault thus costs one alarm and one attempt per retry period instead of one per tick, and a
 * transient one (an auxiliary contact that bounced) clears by itself.
 */
import type { Outputs, OutputsReadBack } from "./driver.ts";

/** 5 min: a transient clears within one retry; a lasting fault alarms a dozen times an hour. */
export const DEFAULT_OUTPUT_FAULT_RETRY_S = 300;

/** How the read-back differs from what was commanded; null when it matches. */
export function outputMismatch(wanted: Outputs, actual: OutputsReadBack): string | null {
  const diffs: string[] = [];
  if (actual.source !== wanted.source) {
    diffs.push(`source reads ${actual.source}, commanded ${wanted.source}`);
  }
  if (actual.genRun !== wanted.genRun) {
    diffs.push(`generator run reads ${onOff(actual.genRun)}, commanded ${onOff(wanted.genRun)}`);
  }
  if (actual.shedTier !== wanted.shedTier) {
    diffs.push(`shed tier reads ${actual.shedTier}, commanded ${wanted.shedTier}`);
  }
  if (actual.fault) diffs.push(actual.fault);
  return diffs.length > 0 ? diffs.join("; ") : null;
}

export class OutputGuard {
  readonly retryS: number;
  #until: Date | null = null;
  #attempts = 0;
  #released = false;

  constructor(retryS: number = DEFAULT_OUTPUT_FAULT_RETRY_S) {
    if (!(retryS >= 0) || !Number.isFinite(retryS)) {
      throw new RangeError(`outputFaultRetryS must be a number of seconds ≥ 0, got ${retryS}`);
    }
    this.retryS = retryS;
  }

  /** Until when the safe state is held; null when not locked out. */
  get until(): Date | null {
    return this.#until;
  }

  /** Enters (or renews) the lockout; the attempt counts trips since the last clean apply. */
  trip(now: Date): { attempt: number; until: Date } {
    this.#attempts++;
    this.#until = new Date(now.getTime() + this.retryS * 1000);
    return { attempt: this.#attempts, until: this.#until };
  }

  /**
   * True while the safe state must be held. The call on which the lockout ends returns false and
   * sets `released`, so the caller restarts its policy from the read-back outputs once.
   */
  holding(now: Date): boolean {
    if (this.#until === null) return false;
    if (now.getTime() < this.#until.getTime()) return true;
    this.#until = null;
    this.#released = true;
    return false;
  }

  /** True once after a lockout ended (then false until the next one ends). */
  takeReleased(): boolean {
    const released = this.#released;
    this.#released = false;
    return released;
  }

  /** The outputs applied cleanly: the next fault counts from attempt 1 again. */
  ok(): void {
    this.#attempts = 0;
  }
}

function onOff(on: boolean): string {
  return on ? "on" : "off";
}

/** The `output-mismatch` event: what was commanded, what read back, until when safe is held. */
export function mismatchReport(
  wanted: Outputs,
  actual: OutputsReadBack,
  options: { mismatch: string; safe: Outputs; attempt: number; until: Date },
): { detail: string; values: Record<string, string | number | boolean | null> } {
  const { safe, until } = options;
  return {
    detail: `outputs read back wrong: ${options.mismatch}; going to the safe state (source ` +
      `${safe.source}, generator off, shed tier ${safe.shedTier}) until ${until.toISOString()}`,
    values: {
      commanded_source: wanted.source,
      read_source: actual.source,
      commanded_gen_run: wanted.genRun,
      read_gen_run: actual.genRun,
      commanded_shed_tier: wanted.shedTier,
      read_shed_tier: actual.shedTier,
      fault: actual.fault ?? null,
      attempt: options.attempt,
      safe_until: until.toISOString(),
    },
  };
}
