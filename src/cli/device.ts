/** `kasi device`: the site agent, over simulated hardware for now (`--hw sim`). */
import { Command } from "@commander-js/extra-typings";
import { KasiError } from "../core/errors.ts";
import { SITE_ID_PATTERN } from "../core/topics.ts";
import { checkMqttUrl } from "./mqtt_url.ts";
import { stopSignal } from "./signals.ts";
import { SIM_PRESET_NAMES, type SimPresetName } from "../device/sim_presets.ts";

const DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883";
const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

export interface DeviceSettings {
  hw: "sim";
  siteId: string;
  seed: number;
  speed: number;
  intervalS: number;
  mqttUrl: string;
  preset: SimPresetName;
  logLevel: typeof LOG_LEVELS[number];
}

/** Checks the raw flags (and KASI_MQTT_URL) once; bad input gets an error naming the value. */
export function resolveDeviceSettings(
  flags: {
    hw: string;
    site: string;
    seed: string;
    speed: string;
    interval: string;
    mqttUrl?: string;
    profile: string;
    logLevel: string;
  },
  env: Record<string, string | undefined>,
): DeviceSettings {
  if (flags.hw === "pi") {
    throw new KasiError(
      "INPUT_INVALID",
      "--hw pi: this version has no Raspberry Pi driver yet; use --hw sim",
    );
  }
  if (flags.hw !== "sim") {
    throw new KasiError("INPUT_INVALID", `--hw "${flags.hw}" is not one of: sim, pi`);
  }
  if (!SITE_ID_PATTERN.test(flags.site)) {
    throw new KasiError(
      "INPUT_INVALID",
      `--site "${flags.site}" is not a valid site id: use 1-64 letters, digits, '.', '_' or '-', ` +
        "starting with a letter or digit",
    );
  }
  const seed = Number(flags.seed);
  if (!Number.isSafeInteger(seed)) {
    throw new KasiError("INPUT_INVALID", `--seed "${flags.seed}" is not an integer`);
  }
  const positive = (name: string, text: string) => {
    const value = Number(text);
    if (!(Number.isFinite(value) && value > 0)) {
      throw new KasiError("INPUT_INVALID", `${name} "${text}" must be a number > 0`);
    }
    return value;
  };
  const speed = positive("--speed", flags.speed);
  const intervalS = positive("--interval", flags.interval);
  const preset = SIM_PRESET_NAMES.find((name) => name === flags.profile);
  if (preset === undefined) {
    throw new KasiError(
      "INPUT_INVALID",
      `--profile "${flags.profile}" is not one of: ${SIM_PRESET_NAMES.join(", ")}`,
    );
  }
  const logLevel = LOG_LEVELS.find((level) => level === flags.logLevel);
  if (logLevel === undefined) {
    throw new KasiError(
      "INPUT_INVALID",
      `--log-level "${flags.logLevel}" is not one of: ${LOG_LEVELS.join(", ")}`,
    );
  }
  const mqttUrl = checkMqttUrl(
    flags.mqttUrl ?? env.KASI_MQTT_URL ?? DEFAULT_MQTT_URL,
    flags.mqttUrl !== undefined ? "--mqtt-url" : env.KASI_MQTT_URL ? "KASI_MQTT_URL" : "default",
  );
  return { hw: "sim", siteId: flags.site, seed, speed, intervalS, mqttUrl, preset, logLevel };
}

export function deviceCommand() {
  return new Command("device")
    .description("Run the site agent: local control, telemetry out, strategic commands in.")
    .option("--hw <kind>", "hardware driver: sim | pi", "sim")
    .requiredOption("--site <id>", "site id (1-64 letters, digits, '.', '_' or '-')")
    .option("--seed <n>", "simulator seed (same seed, same run)", "1")
    .option("--speed <n>", "simulated seconds per real second", "1")
    .option("--interval <s>", "telemetry interval in simulated seconds", "10")
    .option(
      "--mqtt-url <url>",
      `broker URL (default: $KASI_MQTT_URL, then ${DEFAULT_MQTT_URL})`,
    )
    .option("--profile <size>", `simulated site: ${SIM_PRESET_NAMES.join(" | ")}`, "small")
    .option("--log-level <level>", LOG_LEVELS.join(" | "), "info")
    .action(async (flags) => {
      const settings = resolveDeviceSettings(flags, Deno.env.toObject());
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
        });
        const name = await signal.received;
        log.info(`${name} received: stopping`);
        await device.stop();
      } finally {
        signal.dispose();
      }
    });
}
