/**
 * `kasi backend`: the cloud service. Settings follow one order: flag > environment > `.env` in
 * the working directory > default. The backend code is loaded only when this command runs.
 */
import { Command } from "@commander-js/extra-typings";
import { KasiError } from "../core/errors.ts";
import { loadDotEnv, resolveSetting } from "./env.ts";
import { MQTT_URL_HELP, resolveMqttUrl } from "./mqtt_url.ts";
import { stopSignal } from "./signals.ts";

/**
 * The service's DEFAULT_CLIENT_ID (a test keeps the two equal), not imported from it so that
 * parsing flags never loads the backend code.
 */
export const DEFAULT_MQTT_CLIENT_ID = "kasi-backend";
/** A day, as the service's DEFAULT_SESSION_EXPIRY_S. */
export const DEFAULT_MQTT_SESSION_EXPIRY_S = 86_400;
/**
 * MQTT 5 §3.1.2.11.2: Session Expiry Interval is a Four Byte Integer; 0xFFFFFFFF means the
 * session never expires.
 */
const MAX_SESSION_EXPIRY_S = 0xffff_ffff;
/**
 * 1–64 printable ASCII characters without spaces. MQTT 5 §3.1.3.1 only promises that brokers
 * accept 1–23 of [0-9a-zA-Z]; Mosquitto, EMQX and HiveMQ take any UTF-8 string, and this bound
 * keeps ids readable in broker logs and free of characters a shell or a log parser would mangle.
 */
const CLIENT_ID_PATTERN = /^[\x21-\x7e]{1,64}$/;
const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** The HTTP server's host unless told otherwise: this machine only. */
export const DEFAULT_HTTP_HOST = "127.0.0.1";
type LogLevel = typeof LOG_LEVELS[number];

export interface BackendSettings {
  mqttUrl: string;
  mqttUrlSource: string;
  /** The broker keeps a session (and queues messages) under this id while the backend is away. */
  mqttClientId: string;
  mqttClientIdSource: string;
  /** How long the broker keeps that session; 0 ends it at disconnect (tests). */
  mqttSessionExpiryS: number;
  commandIntervalS: number;
  logLevel: LogLevel;
  weatherApiKey: string | undefined;
  weatherUrl: string | undefined;
  openMeteoUrl: string | undefined;
  openMeteoApiKey: string | undefined;
  /** null: no HTTP server (neither --http-port nor KASI_HTTP_PORT). 0: a free port. */
  httpPort: number | null;
  httpHost: string;
  /** The JSON API's bearer token; undefined leaves the API closed (401). */
  apiToken: string | undefined;
  /** Where alarm changes are POSTed (KASI_ALARM_WEBHOOK_URL, comma-separated). */
  alarmWebhookUrls: string[];
}

/** Checks the flags and environment once; bad input gets an error naming the value. */
export function resolveBackendSettings(
  flags: {
    mqttUrl?: string;
    clientId?: string;
    commandInterval: string;
    logLevel: string;
    httpPort?: string;
    httpHost?: string;
  },
  env: Record<string, string | undefined>,
): BackendSettings {
  const mqtt = resolveMqttUrl(flags.mqttUrl, env);
  const clientId = resolveSetting({
    flag: flags.clientId,
    flagName: "--client-id",
    env,
    names: ["KASI_MQTT_CLIENT_ID"],
    fallback: DEFAULT_MQTT_CLIENT_ID,
  });
  if (!CLIENT_ID_PATTERN.test(clientId.value)) {
    throw new KasiError(
      "INPUT_INVALID",
      `${clientId.source}: "${clientId.value}" must be 1-64 printable ASCII characters ` +
        "without spaces",
    );
  }
  const expiry = resolveSetting({
    flagName: "",
    env,
    names: ["KASI_MQTT_SESSION_EXPIRY_S"],
    fallback: String(DEFAULT_MQTT_SESSION_EXPIRY_S),
  });
  const mqttSessionExpiryS = Number(expiry.value);
  if (
    !/^\d+$/.test(expiry.value) || !Number.isSafeInteger(mqttSessionExpiryS) ||
    mqttSessionExpiryS > MAX_SESSION_EXPIRY_S
  ) {
    throw new KasiError(
      "INPUT_INVALID",
      `KASI_MQTT_SESSION_EXPIRY_S: "${expiry.value}" must be a whole number of seconds ` +
        `from 0 to ${MAX_SESSION_EXPIRY_S}`,
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
  const httpPort = resolveSetting({
    flag: flags.httpPort,
    flagName: "--http-port",
    env,
    names: ["KASI_HTTP_PORT"],
  });
  const port = httpPort.value === undefined ? null : Number(httpPort.value);
  if (port !== null && !(/^\d+$/.test(httpPort.value!) && port <= 65535)) {
    throw new KasiError(
      "INPUT_INVALID",
      `${httpPort.source}: "${httpPort.value}" is not a TCP port (0-65535)`,
    );
  }
  const httpHost = resolveSetting({
    flag: flags.httpHost,
    flagName: "--http-host",
    env,
    names: ["KASI_HTTP_HOST"],
    fallback: DEFAULT_HTTP_HOST,
  });
  const weatherUrl = urlSetting(env, "KASI_WEATHER_URL");
  const openMeteoUrl = urlSetting(env, "KASI_OPEN_METEO_URL");
  return {
    mqttUrl: mqtt.value,
    mqttUrlSource: mqtt.source,
    mqttClientId: clientId.value,
    mqttClientIdSource: clientId.source,
    mqttSessionExpiryS,
    commandIntervalS,
    logLevel,
    weatherApiKey: resolveSetting({ flagName: "", env, names: ["OPENWEATHER_API_KEY"] }).value,
    weatherUrl,
    openMeteoUrl,
    openMeteoApiKey: resolveSetting({ flagName: "", env, names: ["OPEN_METEO_API_KEY"] }).value,
    httpPort: port,
    httpHost: httpHost.value,
    // Never a flag: a command line shows in `ps` and in shell history.
    apiToken: resolveSetting({ flagName: "", env, names: ["KASI_API_TOKEN"] }).value,
    alarmWebhookUrls: webhookUrls(env),
  };
}

/** KASI_ALARM_WEBHOOK_URL: one or more http(s) URLs, comma-separated; each is checked. */
function webhookUrls(env: Record<string, string | undefined>): string[] {
  const name = "KASI_ALARM_WEBHOOK_URL";
  const value = resolveSetting({ flagName: "", env, names: [name] }).value;
  if (value === undefined || value.trim() === "") return [];
  return value.split(",").map((u) => u.trim()).filter((u) => u !== "").map((url, i) => {
    const where = `${name} (URL ${i + 1})`;
    if (!URL.canParse(url)) throw new KasiError("INPUT_INVALID", `${where}: "${url}" is not a URL`);
    const protocol = new URL(url).protocol;
    if (protocol !== "http:" && protocol !== "https:") {
      throw new KasiError("INPUT_INVALID", `${where}: "${url}" must be an http:// or https:// URL`);
    }
    return url;
  });
}

/** An optional http(s) base URL from the environment; anything else is an error naming it. */
function urlSetting(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = resolveSetting({ flagName: "", env, names: [name] }).value;
  if (value === undefined) return undefined;
  if (!URL.canParse(value)) {
    throw new KasiError("INPUT_INVALID", `${name}: "${value}" is not a URL`);
  }
  const protocol = new URL(value).protocol;
  if (protocol !== "http:" && protocol !== "https:") {
    throw new KasiError("INPUT_INVALID", `${name}: "${value}" must be an http:// or https:// URL`);
  }
  return value;
}

/** The start-up log's one-line account of where sites get their weather. */
export function weatherSummary(settings: BackendSettings): string {
  const openMeteo = settings.openMeteoApiKey ? "Open-Meteo (commercial key)" : "Open-Meteo (free)";
  return settings.weatherApiKey
    ? `OpenWeatherMap by default; ${openMeteo} for sites that ask for it`
    : `${openMeteo} by default; OpenWeatherMap needs OPENWEATHER_API_KEY`;
}

export function backendCommand() {
  return new Command("backend")
    .description(
      "Run the cloud service: telemetry in over MQTT, PostgreSQL, predictions, commands out.",
    )
    .option("--mqtt-url <url>", MQTT_URL_HELP)
    .option(
      "--client-id <id>",
      "MQTT client id; the broker queues for it while the backend is away, so run one backend " +
        `per id (default: $KASI_MQTT_CLIENT_ID, then ${DEFAULT_MQTT_CLIENT_ID})`,
    )
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
    .option(
      "--http-port <port>",
      "serve /healthz, /readyz, /metrics, the JSON API and the web view on this port " +
        "(default: $KASI_HTTP_PORT, else no HTTP server)",
    )
    .option(
      "--http-host <host>",
      `address the HTTP server listens on (default: $KASI_HTTP_HOST, then ${DEFAULT_HTTP_HOST})`,
    )
    .option("--log-level <level>", LOG_LEVELS.join(" | "), "info")
    .addHelpText(
      "after",
      "\nFor tests and operations:\n" +
        "  KASI_MQTT_SESSION_EXPIRY_S  seconds the broker keeps the backend's session and " +
        `queues for it while it is away (default ${DEFAULT_MQTT_SESSION_EXPIRY_S}; ` +
        "0 ends it at disconnect)\n" +
        "  KASI_WEATHER_URL, KASI_OPEN_METEO_URL  base URLs of OpenWeatherMap and Open-Meteo " +
        "(proxies, tests, a self-hosted Open-Meteo)\n" +
        "  KASI_API_TOKEN  bearer token of the JSON API under /api/ (without it the API " +
        "answers 401; health, metrics and the page stay open)\n" +
        "  KASI_ALARM_WEBHOOK_URL  URLs (comma-separated) every alarm raise, acknowledgement " +
        "and clear is POSTed to as JSON",
    )
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
        clientId: settings.mqttClientId,
        clientIdFrom: settings.mqttClientIdSource,
        sessionExpiryS: settings.mqttSessionExpiryS,
        databaseUrl: redactDatabaseUrl(databaseUrl),
        commandIntervalS: settings.commandIntervalS,
        weather: weatherSummary(settings),
        http: settings.httpPort === null
          ? "off"
          : `${settings.httpHost}:${settings.httpPort} (API ${
            settings.apiToken ? "token" : "closed"
          })`,
        alarmWebhooks: settings.alarmWebhookUrls.length,
      });
      const service = new BackendService({
        mqttUrl: settings.mqttUrl,
        databaseUrl,
        commandIntervalS: settings.commandIntervalS,
        clientId: settings.mqttClientId,
        sessionExpiryS: settings.mqttSessionExpiryS,
        weather: {
          apiKey: settings.weatherApiKey,
          baseUrl: settings.weatherUrl,
          openMeteoUrl: settings.openMeteoUrl,
          openMeteoApiKey: settings.openMeteoApiKey,
        },
        log,
        migrate: true,
        ...(settings.httpPort === null ? {} : {
          http: {
            port: settings.httpPort,
            hostname: settings.httpHost,
            apiToken: settings.apiToken,
          },
        }),
        alarmWebhookUrls: settings.alarmWebhookUrls,
      });
      // Listening before start: a signal during start-up still stops gracefully after it.
      const signal = stopSignal({
        onRepeat: () => log.info("already stopping; press Ctrl-C once more to exit at once"),
      });
      try {
        await service.start();
        const name = await signal.received;
        log.info("signal received: flushing and stopping", { signal: name });
        await service.stop();
      } finally {
        signal.dispose();
      }
    });
}
