/**
 * Builds a site agent over its driver: a simulated site (`kasi device --hw=sim`, the demo) or a
 * Raspberry Pi's hardware (`kasi device --hw=pi`).
 */
import { type Logger, withFields } from "../core/log.ts";
import { type PolicyParams, resolvePolicyParams } from "../core/policy_params.ts";
import { profileFromWire } from "../core/site_profile.ts";
import { DeviceAgent } from "./agent.ts";
import type { OutputsReadBack } from "./driver.ts";
import type { PiConfig } from "./pi/config.ts";
import { PiDriver } from "./pi/pi_driver.ts";
import { switchOutputs } from "./switch_outputs.ts";
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
  /** A fuel leak to simulate, L/h (the demo's site that raises a fuel-loss alarm). */
  fuelLeakLph?: number;
}

/** A simulated driver and an agent over it, not yet started. */
export function createSimAgent(
  options: SimAgentOptions,
): { agent: DeviceAgent; driver: SimDriver } {
  const preset = SIM_PRESETS[options.preset];
  const site = {
    ...simSiteFromPreset(preset, { siteId: options.siteId, seed: options.seed }),
    ...(options.fuelLeakLph ? { fuelLeakLph: options.fuelLeakLph } : {}),
  };
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

export interface PiAgentOptions {
  config: PiConfig;
  /** The directory standing for "/" (`--sysfs-root`; tests: a fake tree). */
  root: string;
  /** Seconds between ticks (and telemetry messages), real time. */
  intervalS: number;
  mqttUrl: string;
  log: Logger;
  /** Site-local dispatch settings (flags) over the config's. */
  policyParams?: Partial<PolicyParams>;
  /** The environment of the libgpiod tools (tests put fakes on PATH). */
  gpioEnv?: Record<string, string>;
}

/** The config's dispatch settings (the transfer dead time) under the flags'. */
function piPolicyParams(
  options: { config: PiConfig; policyParams?: Partial<PolicyParams> },
): Partial<PolicyParams> {
  const deadTimeMs = options.config.safety.transfer_dead_time_ms;
  return {
    ...(deadTimeMs === undefined ? {} : { transferDeadTimeMs: deadTimeMs }),
    ...options.policyParams,
  };
}

/** Opens the Pi's hardware and starts an agent over it, in real time. */
export async function startPiDevice(
  options: PiAgentOptions,
): Promise<{ agent: DeviceAgent; driver: PiDriver; stop: () => Promise<void> }> {
  const { config } = options;
  const siteId = config.site.site_id;
  const log = withFields(options.log, { site: siteId });
  const policyParams = piPolicyParams(options);
  const { transferDeadTimeMs } = resolvePolicyParams(policyParams);
  const driver = await PiDriver.open({
    config,
    root: options.root,
    deadTimeMs: transferDeadTimeMs,
    gpioEnv: options.gpioEnv,
    log,
  });
  const chip = driver.gpio.chip;
  log.info(
    `Pi hardware: GPIO through ${driver.gpio.kind} on ${chip.name ?? "chip"} [${chip.label}]` +
      (chip.base === null ? "" : `, numbers from ${chip.base}`) +
      `; safe state: source ${driver.safeOutputs.source}, generator off, shed tier ` +
      driver.safeOutputs.shedTier,
  );
  const agent = new DeviceAgent({
    siteId,
    mqttUrl: options.mqttUrl,
    driver,
    profile: profileFromWire(config.site),
    telemetryIntervalS: options.intervalS,
    speed: 1,
    log,
    policyParams,
    outputFaultRetryS: config.safety.output_fault_retry_s,
  });
  try {
    await agent.start();
  } catch (error) {
    await driver.close();
    throw error;
  }
  return {
    agent,
    driver,
    stop: async () => {
      await agent.stop();
      await driver.close();
    },
  };
}

/**
 * Puts the Pi's outputs in the config's safe state, breaking before making, and returns them as
 * they read back: `kasi device safe-state`, which the systemd unit runs after the agent exits
 * for any reason (ExecStopPost), a crash and a SIGKILL included.
 */
export async function applyPiSafeState(
  options: Omit<PiAgentOptions, "intervalS" | "mqttUrl">,
): Promise<OutputsReadBack> {
  const { transferDeadTimeMs } = resolvePolicyParams(piPolicyParams(options));
  const driver = await PiDriver.open({
    config: options.config,
    root: options.root,
    deadTimeMs: transferDeadTimeMs,
    gpioEnv: options.gpioEnv,
    log: options.log,
  });
  try {
    const before = await driver.readOutputs();
    const { actual, blocked } = await switchOutputs(driver, { ...driver.safeOutputs }, {
      from: before.source,
      deadTimeMs: transferDeadTimeMs,
    });
    if (blocked) {
      options.log.error(
        `safe state: transfer ${blocked.from} → ${blocked.to} blocked, source reads ${blocked.readBack}`,
      );
    }
    return actual;
  } finally {
    await driver.close();
  }
}
