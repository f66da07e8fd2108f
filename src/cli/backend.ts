/**
 * `kasi backend`: the cloud service. Settings follow one order: flag > environment > `.env` in
 * the working directory > default. The backend code is loaded only when this command runs.
 */
import { Command } from "@commander-js/extra-typings";
import { KasiError } from "../core/errors.ts";
import { loadDotEnv, resolveSetting } from "./env.ts";

export const DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883";
const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
type LogLevel = typeof LOG_LEVELS[number];

export interface BackendSettings {
  mqttUrl: string;
  mqttUrlSource: string;
  commandIntervalS: number;
  logLevel: LogLevel;
  weatherApiKey: string | undefined;
  weatherUrl: string | undefined;
}

/** Checks the flags and environment once; bad input gets an error naming the value. */
export function resolveBackendSettings(
  flags: { mqttUrl?: string; commandInterval: string; logLevel: string },
  env: Record<string, string | undefined>,
): BackendSettings {
  const mqtt = resolveSetting({
    flag: flags.mqttUrl,
    flagName: "--mqtt-url",
    env,
    names: ["KASI_MQTT_URL"],
    fallback: DEFAULT_MQTT_URL,
  });
  let protocol = "";
  try {
    protocol = new URL(mqtt.value).protocol;
  } catch {
    throw new KasiError("INPUT_INVALID", `${mqtt.source}: "${mqtt.value}" is not a URL`);
  }
  if (!["mqtt:", "mqtts:", "tcp:", "ssl:", "ws:", "wss:"].includes(protocol)) {
    throw new KasiError(
      "INPUT_INVALID",
      `${mqtt.source}: "${mqtt.value}" must be an mqtt://, mqtts://, ws:// or wss:// URL`,
    );
  }
  const commandIntervalS = Number(flags.commandInterval);
  if (!(Number.isFinite(commandIntervalS) && commandIntervalS >= 1)) {
    throw new KasiError(
      "INPUT_INVALID",
      `--command-interval "${flags.commandInterval}" must be a number of seconds ≥ 1`,
    );
  }
  const logLevel = LOG_LEVELS.find((level) => level === flags.logLevel);
  if (logLevel === undefined) {
    throw new KasiError(
      "INPUT_INVALID",
      `--log-level "${flags.logLevel}" is not one of: ${LOG_LEVELS.join(", ")}`,
    );
  }
  const weatherUrl = resolveSetting({
    flagName: "",
    env,
    names: ["KASI_WEATHER_URL"],
  }).value;
  if (weatherUrl !== undefined && !URL.canParse(weatherUrl)) {
    throw new KasiError("INPUT_INVALID", `KASI_WEATHER_URL: "${weatherUrl}" is not a URL`);
  }
  return {
    mqttUrl: mqtt.value,
    mqttUrlSource: mqtt.source,
    commandIntervalS,
    logLevel,
    weatherApiKey: resolveSetting({ flagName: "", env, names: ["OPENWEATHER_API_KEY"] }).value,
    weatherUrl,
  };
}

/** Resolves on the first SIGINT or SIGTERM, removing its listeners. */
function untilSignal(): Promise<string> {
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  return new Promise((resolve) => {
    const handlers = signals.map((signal) => {
      const handler = () => {
        for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
        resolve(signal);
      };
      return [signal, handler] as const;
    });
    for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  });
}

export function backendCommand() {
  return new Command("backend")
    .description(
      "Run the cloud service: telemetry in over MQTT, PostgreSQL, predictions, commands out.",
    )
    .option("--mqtt-url <url>", `broker URL (default: $KASI_MQTT_URL, then ${DEFAULT_MQTT_URL})`)
    .option(
      "--database-url <url>",
      "PostgreSQL URL (default: $KASI_DATABASE_URL, then $DATABASE_URL, " +
        "then postgres://postgres@127.0.0.1:5432/postgres)",
    )
    .option(
      "--command-interval <s>",
      "seconds between commands to a site when nothing changes",
      "60",
    )
    .option("--log-level <level>", LOG_LEVELS.join(" | "), "info")
    .action(async (flags) => {
      const fromDotEnv = await loadDotEnv();
      const env = Deno.env.toObject();
      const settings = resolveBackendSettings(flags, env);
      // Loaded here, so other subcommands never load the backend or database code.
      const { resolveDatabaseUrl, redactDatabaseUrl } = await import("../db/client.ts");
      const { BackendService } = await import("../backend/service.ts");
      const { jsonLogger } = await import("./log.ts");
      const databaseUrl = resolveDatabaseUrl({ flag: flags.databaseUrl, env });
      const log = jsonLogger({ level: settings.logLevel, component: "backend" });
      if (fromDotEnv.length > 0) log.info("loaded .env", { variables: fromDotEnv });
      log.info("starting", {
        mqttUrl: settings.mqttUrl,
        mqttUrlFrom: settings.mqttUrlSource,
        databaseUrl: redactDatabaseUrl(databaseUrl),
        commandIntervalS: settings.commandIntervalS,
        weather: settings.weatherApiKey ? "OpenWeatherMap" : "none (no OPENWEATHER_API_KEY)",
      });
      const service = new BackendService({
        mqttUrl: settings.mqttUrl,
        databaseUrl,
        commandIntervalS: settings.commandIntervalS,
        weather: { apiKey: settings.weatherApiKey, baseUrl: settings.weatherUrl },
        log,
        migrate: true,
      });
      // Listening before start: a signal during start-up still stops gracefully after it.
      const signalled = untilSignal();
      await service.start();
      const signal = await signalled;
      log.info("signal received: flushing and stopping", { signal });
      await service.stop();
    });
}
