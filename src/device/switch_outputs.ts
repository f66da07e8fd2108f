/**
 * Applies the policy's outputs to the hardware with a break-before-make source transfer: a
 * change between battery and generator first opens both (source "off"), confirms by read-back
 * that they opened, waits the dead time, then closes the new one (src/core/transfer.ts). The
 * steps start from the outputs the hardware last reported, not from what the policy remembers,
 * so a contactor that did not open (welded, stuck) is never followed by closing the other one.
 */
import { transferSteps } from "../core/transfer.ts";
import type { Source } from "../core/telemetry.ts";
import type { Driver, Outputs, OutputsReadBack } from "./driver.ts";

export interface SwitchResult {
  /** The outputs as read back at the end. */
  actual: OutputsReadBack;
  /** Set when the break did not open: the new source was not closed. */
  blocked: { from: Source; to: Source; readBack: Source } | null;
}

export async function switchOutputs(
  driver: Driver,
  wanted: Outputs,
  options: {
    /** The source the hardware last reported. */
    from: Source;
    deadTimeMs: number;
    /** Waits `ms` (real time; the agent's tests may fake it). */
    sleep?: (ms: number) => Promise<void>;
  },
): Promise<SwitchResult> {
  const sleep = options.sleep ??
    ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const steps = transferSteps(options.from, wanted.source, options.deadTimeMs);
  if (steps.length === 0) await driver.setOutputs(wanted);
  for (const [i, step] of steps.entries()) {
    if (i === steps.length - 1) {
      await driver.setOutputs(wanted);
      break;
    }
    await driver.setOutputs({ ...wanted, source: step.source });
    const opened = await driver.readOutputs();
    if (opened.source !== step.source) {
      return {
        actual: opened,
        blocked: { from: options.from, to: wanted.source, readBack: opened.source },
      };
    }
    await sleep(step.waitMsAfter);
  }
  return { actual: await driver.readOutputs(), blocked: null };
}
