/** Builds a simulated site and its agent: what `kasi device --hw=sim` and the demo start. */
import { type Logger, withFields } from "../core/log.ts";
import type { PolicyParams } from "../core/policy_params.ts";
import { DeviceAgent } from "./agent.ts";
import { SimDriver } from "./sim_driver.ts";
import { SIM_PRESETS, type SimPresetName, simSiteFromPreset } from "./sim_presets.ts";

export interface SimAgentOptions {
  siteId: string;
  preset: SimPresetName;
  seed: number;
  speed: number;
  /** Simulated seconds between ticks. */
  intervalS: number;
  mqttUrl: string;
  log: Logger;
  /** Start of the simulated clock; default now. */
  startTime?: Date;
  /**
   * The clock telemetry and command validity use (the agent's wall clock); default real time.
   * The demo passes its simulated clock, which the backend shares.
   */
  clock?: () => Date;
  /** Site-local dispatch settings over the preset's. */
  policyParams?: Partial<PolicyParams>;
}

/** A simulated driver and an agent over it, not yet started. */
export function createSimAgent(
  options: SimAgentOptions,
): { agent: DeviceAgent; driver: SimDriver } {
  const preset = SIM_PRESETS[options.preset];
  const site = simSiteFromPreset(preset, { siteId: options.siteId, seed: options.seed });
  const startTime = options.startTime ?? new Date();
  const driver = new SimDriver({
    site,
    initialSocPct: preset.initialSocPct,
    initialFuelPct: preset.initialFuelPct,
    now: startTime,
  });
  const agent = new DeviceAgent({
    siteId: options.siteId,
    mqttUrl: options.mqttUrl,
    driver,
    profile: site.profile,
    telemetryIntervalS: options.intervalS,
    speed: options.speed,
    // Every line names its site: several agents may share one log (the demo does).
    log: withFields(options.log, { site: options.siteId }),
    startTime,
    ...(options.clock ? { clock: options.clock } : {}),
    policyParams: { ...preset.dispatch, ...options.policyParams },
  });
  return { agent, driver };
}

/** Starts a simulated site; the returned `stop` stops the agent and closes the driver. */
export async function startSimDevice(
  options: SimAgentOptions,
): Promise<{ agent: DeviceAgent; driver: SimDriver; stop: () => Promise<void> }> {
  const { agent, driver } = createSimAgent(options);
  await agent.start();
  return {
    agent,
    driver,
    stop: async () => {
      await agent.stop();
      await driver.close();
    },
  };
}
