/** `kasi demo`: the whole system in one process, on an embedded broker and database. */
import { Command } from "@commander-js/extra-typings";
import { KasiError } from "../core/errors.ts";

export interface DemoSettings {
  mqttPort: number;
  dbPort: number;
  /** The web view and API, tokenless on 127.0.0.1. */
  httpPort: number;
  dataDir: string;
  speed: number;
  commandIntervalS: number;
  durationS: number | null;
}

function port(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new KasiError("INPUT_INVALID", `${flag} "${text}" is not a TCP port (1-65535)`);
  }
  return value;
}

function positive(flag: string, text: string): number {
  const value = Number(text);
  if (!(Number.isFinite(value) && value > 0)) {
    throw new KasiError("INPUT_INVALID", `${flag} "${text}" must be a number > 0`);
  }
  return value;
}

/** Checks the raw flags once; bad input gets an error naming the flag and the value. */
export function resolveDemoSettings(flags: {
  mqttPort: string;
  dbPort: string;
  httpPort: string;
  dataDir: string;
  speed: string;
  commandInterval: string;
  duration?: string;
}): DemoSettings {
  return {
    mqttPort: port("--mqtt-port", flags.mqttPort),
    dbPort: port("--db-port", flags.dbPort),
    httpPort: port("--http-port", flags.httpPort),
    dataDir: flags.dataDir,
    speed: positive("--speed", flags.speed),
    commandIntervalS: positive("--command-interval", flags.commandInterval),
    durationS: flags.duration === undefined ? null : positive("--duration", flags.duration),
  };
}

export function demoCommand() {
  return new Command("demo")
    .description(
      "Run the whole system on this machine: embedded MQTT broker and PostgreSQL, the backend, " +
        "and three simulated sites, with a live table. Ctrl-C stops it.",
    )
    .option("--mqtt-port <port>", "embedded MQTT broker port", "1884")
    .option("--db-port <port>", "embedded PostgreSQL port", "5488")
    .option("--http-port <port>", "web view and API on 127.0.0.1 (no token)", "8080")
    .option("--data-dir <dir>", "where the embedded database and the log live", ".kasi")
    .option("--speed <n>", "simulated seconds per real second", "300")
    .option("--command-interval <s>", "seconds between commands to each site", "10")
    .option("--duration <s>", "stop by itself after this many seconds")
    .action(async (flags) => {
      const settings = resolveDemoSettings(flags);
      const { runDemo } = await import("./demo_run.ts");
      await runDemo(settings);
    });
}
