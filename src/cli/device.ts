/**
 * `kasi device`: the site agent, over simulated hardware (`--hw sim`) or a Raspberry Pi's
 * (`--hw pi`, src/cli/device_pi.ts, with the `probe` and `safe-state` subcommands).
 */
import { Command } from "@commander-js/extra-typings";
import { STRATEGIES } from "../core/command.ts";
import { KasiError } from "../core/errors.ts";
import { type PolicyParams, resolvePolicyParams } from "../core/policy_params.ts";
import { parseClockTime, parseDailyWindow } from "../core/site_time.ts";
import { SITE_ID_PATTERN } from "../core/topics.ts";
import { MQTT_URL_HELP, resolveMqttUrl } from "./mqtt_url.ts";
import { stopSignal } from "./signals.ts";
import { SIM_PRESET_NAMES, SIM_PRESETS, type SimPresetName } from "../device/sim_presets.ts";
import { probeCommand, runPiDevice, safeStateCommand } from "./device_pi.ts";

const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

interface CommonSettings {
  intervalS: number;
  mqttUrl: string;
  logLevel: typeof LOG_LEVELS[number];
  /** Site-local dispatch settings given as flags (over the preset's or the config's). */
  dispatch: Partial<PolicyParams>;
}

export interface SimDeviceSettings extends CommonSettings {
  hw: "sim";
  siteId: string;
  seed: number;
  speed: number;
  preset: SimPresetName;
}

export interface PiDeviceSettings extends CommonSettings {
  hw: "pi";
  /** --site, checked against the config's site_id once it is read; null: the config's. */
  siteId: string | null;
  configPath: string;
  /** The directory standing for "/" (tests: a fake sysfs tree). */
  sysfsRoot: string;
}

export type DeviceSettings = SimDeviceSettings | PiDeviceSettings;

/** The raw flags of `kasi device`, as commander hands them over. */
export type DeviceFlags = {
  hw: string;
  site?: string;
  seed?: string;
  speed?: string;
  interval: string;
  mqttUrl?: string;
  profile?: string;
  logLevel: string;
  config?: string;
  sysfsRoot?: string;
} & DispatchFlags;

/** The dispatch flags, as commander hands them over (all optional). */
export interface DispatchFlags {
  quietHours?: string;
  exerciseEvery?: string;
  exerciseAt?: string;
  exerciseMinutes?: string;
  warmup?: string;
  cooldown?: string;
  maxRun?: string;
  rest?: string;
  inverterW?: string;
  strategy?: string;
  transferDeadTime?: string;
}

function invalid(message: string): KasiError {
  return new KasiError("INPUT_INVALID", message);
}

/** Site-local dispatch settings from the flags; each bad value is named with its flag. */
export function resolveDispatchFlags(flags: DispatchFlags): Partial<PolicyParams> {
  const d: Partial<PolicyParams> = {};
  const number = (name: string, text: string, min: number, unit: string) => {
    const v = Number(text);
    if (text.trim() === "" || !Number.isFinite(v) || v < min) {
      throw invalid(`${name} "${text}" must be a number of ${unit} ≥ ${min}`);
    }
    return v;
  };
  const off = (text: string) => text.trim().toLowerCase() === "off";
  const clock = <T>(name: string, parse: (t: string) => T, text: string): T => {
    try {
      return parse(text);
    } catch (error) {
      throw invalid(`${name} ${(error as Error).message}`);
    }
  };
  if (flags.quietHours !== undefined) {
    d.quietHours = off(flags.quietHours)
      ? null
      : clock("--quiet-hours", parseDailyWindow, flags.quietHours);
  }
  if (flags.exerciseEvery !== undefined) {
    d.exerciseIntervalS = off(flags.exerciseEvery)
      ? null
      : number("--exercise-every", flags.exerciseEvery, 1, "days") * 86_400;
  }
  if (flags.exerciseAt !== undefined) {
    d.exerciseAtMin = clock("--exercise-at", parseClockTime, flags.exerciseAt);
  }
  if (flags.exerciseMinutes !== undefined) {
    d.exerciseDurationS = number("--exercise-minutes", flags.exerciseMinutes, 1, "minutes") * 60;
  }
  if (flags.warmup !== undefined) d.warmupS = number("--warmup", flags.warmup, 0, "seconds");
  if (flags.cooldown !== undefined) {
    d.cooldownS = number("--cooldown", flags.cooldown, 0, "seconds");
  }
  if (flags.maxRun !== undefined) {
    d.maxRunS = off(flags.maxRun) ? null : number("--max-run", flags.maxRun, 0.25, "hours") * 3600;
  }
  if (flags.rest !== undefined) d.restS = number("--rest", flags.rest, 0, "minutes") * 60;
  if (flags.inverterW !== undefined) {
    d.inverterRatedW = number("--inverter-w", flags.inverterW, 1, "W");
  }
  if (flags.strategy !== undefined) {
    const strategy = STRATEGIES.find((x) => x === flags.strategy);
    if (strategy === undefined) {
      throw invalid(`--strategy "${flags.strategy}" is not one of: ${STRATEGIES.join(", ")}`);
    }
    d.localStrategy = strategy;
  }
  if (flags.transferDeadTime !== undefined) {
    d.transferDeadTimeMs = number("--transfer-dead-time", flags.transferDeadTime, 0, "ms");
  }
  return d;
}

/** Checks the raw flags (and KASI_MQTT_URL) once; bad input gets an error naming the value. */
export function resolveDeviceSettings(
  flags: DeviceFlags,
  env: Record<string, string | undefined>,
): DeviceSettings {
  if (flags.hw !== "sim" && flags.hw !== "pi") {
    throw invalid(`--hw "${flags.hw}" is not one of: sim, pi`);
  }
  const site = flags.site;
  if (site !== undefined && !SITE_ID_PATTERN.test(site)) {
    throw invalid(
      `--site "${site}" is not a valid site id: use 1-64 letters, digits, '.', '_' or '-', ` +
        "starting with a letter or digit",
    );
  }
  const positive = (name: string, text: string) => {
    const value = Number(text);
    if (!(Number.isFinite(value) && value > 0)) {
      throw invalid(`${name} "${text}" must be a number > 0`);
    }
    return value;
  };
  const intervalS = positive("--interval", flags.interval);
  const logLevel = LOG_LEVELS.find((level) => level === flags.logLevel);
  if (logLevel === undefined) {
    throw invalid(`--log-level "${flags.logLevel}" is not one of: ${LOG_LEVELS.join(", ")}`);
  }
  const mqttUrl = resolveMqttUrl(flags.mqttUrl, env).value;
  const dispatch = resolveDispatchFlags(flags);
  const common = { intervalS, mqttUrl, logLevel, dispatch };
  if (flags.hw === "pi") {
    for (const [flag, value] of [["--profile", flags.profile], ["--seed", flags.seed]] as const) {
      if (value !== undefined) {
        throw invalid(`${flag} is for --hw=sim: a Pi reads its equipment from its config's "site"`);
      }
    }
    if (flags.speed !== undefined && Number(flags.speed) !== 1) {
      throw invalid(
        `--speed "${flags.speed}": real hardware runs in real time (--speed is for --hw=sim)`,
      );
    }
    if (flags.config === undefined) {
      throw invalid(
        "--hw=pi needs --config FILE, the site hardware config (README: Install on a Raspberry Pi)",
      );
    }
    try {
      resolvePolicyParams(dispatch);
    } catch (error) {
      throw invalid((error as Error).message);
    }
    return {
      hw: "pi",
      siteId: site ?? null,
      configPath: flags.config,
      sysfsRoot: flags.sysfsRoot ?? "/",
      ...common,
    };
  }
  if (site === undefined) throw invalid("--site is required with --hw=sim");
  for (const [flag, value] of [["--config", flags.config], ["--sysfs-root", flags.sysfsRoot]]) {
    if (value !== undefined) throw invalid(`${flag} is for --hw=pi`);
  }
  const seedText = flags.seed ?? "1";
  const seed = Number(seedText);
  if (!Number.isSafeInteger(seed)) throw invalid(`--seed "${seedText}" is not an integer`);
  const speed = positive("--speed", flags.speed ?? "1");
  const profile = flags.profile ?? "small";
  const preset = SIM_PRESET_NAMES.find((name) => name === profile);
  if (preset === undefined) {
    throw invalid(`--profile "${profile}" is not one of: ${SIM_PRESET_NAMES.join(", ")}`);
  }
  try {
    resolvePolicyParams({ ...SIM_PRESETS[preset].dispatch, ...dispatch });
  } catch (error) {
    throw invalid((error as Error).message);
  }
  return { hw: "sim", siteId: site, seed, speed, preset, ...common };
}

export function deviceCommand() {
  return new Command("device")
    .description("Run the site agent: local control, telemetry out, strategic commands in.")
    // `kasi device probe --hw=pi`: options after a subcommand's name are the subcommand's.
    .enablePositionalOptions()
    .option("--hw <kind>", "hardware driver: sim | pi", "sim")
    .option("--site <id>", "site id (1-64 letters, digits, '.', '_' or '-'); pi: from --config")
    .option("--config <file>", "pi: the site hardware config (JSON)")
    .option(
      "--sysfs-root <dir>",
      "pi: the directory standing for / (default /; tests: a fake tree)",
    )
    .option("--seed <n>", "sim: simulator seed (same seed, same run; default 1)")
    .option("--speed <n>", "sim: simulated seconds per real second (default 1)")
    .option("--interval <s>", "telemetry interval in (simulated) seconds", "10")
    .option(
      "--mqtt-url <url>",
      MQTT_URL_HELP,
    )
    .option("--profile <size>", `sim: simulated site: ${SIM_PRESET_NAMES.join(" | ")} (small)`)
    .option("--log-level <level>", LOG_LEVELS.join(" | "), "info")
    .option(
      "--strategy <name>",
      "dispatch without a valid command: cycle-charging | load-following",
    )
    .option("--quiet-hours <HH:MM-HH:MM>", "no generator start then, site time (or off)")
    .option("--exercise-every <days>", "exercise the generator after this many idle days (or off)")
    .option("--exercise-at <HH:MM>", "site time the exercise may start (default 10:00)")
    .option("--exercise-minutes <n>", "exercise run length (default 30)")
    .option("--warmup <s>", "generator runs unloaded this long before taking the load (60)")
    .option("--cooldown <s>", "generator runs unloaded this long before stopping (180)")
    .option("--max-run <h>", "longest continuous generator run before a rest (8, or off)")
    .option("--rest <min>", "rest after the longest run (15)")
    .option("--inverter-w <W>", "inverter rating for the high-load start (default: preset)")
    .option("--transfer-dead-time <ms>", "both contactors open this long on a transfer (1000)")
    .addCommand(probeCommand().exitOverride())
    .addCommand(safeStateCommand().exitOverride())
    .action(async (flags) => {
      const settings = resolveDeviceSettings(flags, Deno.env.toObject());
      if (settings.hw === "pi") return await runPiDevice(settings);
      // Loaded here, so other subcommands never load the device code.
      const { startSimDevice } = await import("../device/run.ts");
      const { jsonLogger } = await import("./log.ts");
      const log = jsonLogger({ level: settings.logLevel, component: "device" });
      // Listen before starting, so a signal during start-up still stops cleanly.
      const signal = stopSignal({
        onRepeat: () => log.info("already stopping; press Ctrl-C once more to exit at once"),
      });
      try {
        const device = await startSimDevice({
          siteId: settings.siteId,
          preset: settings.preset,
          seed: settings.seed,
          speed: settings.speed,
          intervalS: settings.intervalS,
          mqttUrl: settings.mqttUrl,
          log,
          policyParams: settings.dispatch,
        });
        const name = await signal.received;
        log.info(`${name} received: stopping`);
        await device.stop();
      } finally {
        signal.dispose();
      }
    });
}
