/**
 * Break-before-make source transfer. The load bus has one source at a time (`Source` is one
 * value, so a decision can never ask for both), but contactors take time to open: going straight
 * from one closed contactor to the other could, for a few milliseconds, connect the inverter's
 * output to the generator's. So a change between two live sources passes through "off" (both
 * contactors open) for a dead time before the new one closes — an open-transition transfer.
 * The driver applies the steps in order and waits `waitMsAfter` after each; the agent checks
 * that the break really happened (outputs read back "off") before it makes the new source.
 */
import type { Source } from "./telemetry.ts";

export interface TransferStep {
  source: Source;
  /** Wait this long after applying the step, before the next one. */
  waitMsAfter: number;
}

/** The steps from `from` to `to`; empty when nothing changes. */
export function transferSteps(from: Source, to: Source, deadTimeMs: number): TransferStep[] {
  if (!(deadTimeMs >= 0) || !Number.isFinite(deadTimeMs)) {
    throw new RangeError(`transfer dead time must be a number of ms ≥ 0, got ${deadTimeMs}`);
  }
  if (from === to) return [];
  // Into or out of "off" there is nothing to break: one side is already open.
  if (from === "off" || to === "off") return [{ source: to, waitMsAfter: 0 }];
  return [{ source: "off", waitMsAfter: deadTimeMs }, { source: to, waitMsAfter: 0 }];
}
