/**
 * `kasi replay FILE`: sends a recording (`.jsonl`, `.jsonl.gz`, or `-` for stdin) to the broker,
 * or straight into the database (`--to db`, a backfill without a broker), or only checks it
 * (`--dry-run`). Bad lines are reported with their line numbers and the run goes on; the exit
 * code is 1 when any line was rejected. The line format is in src/core/recording.ts.
 */
import { Command } from "@commander-js/extra-typings";
import { KasiError } from "../core/errors.ts";
import { MQTT_URL_HELP, resolveMqttUrl } from "./mqtt_url.ts";

const TARGETS = ["mqtt", "db"] as const;

export interface ReplaySettings {
  file: string;
  target: "mqtt" | "db" | "dry-run";
  mqttUrl: string;
  databaseFlag: string | undefined;
  speed: number | undefined;
  maxRate: number | undefined;
  sendInvalid: boolean;
  json: boolean;
}

function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(Number.isFinite(value) && value > 0)) {
    throw new KasiError("INPUT_INVALID", `${name} "${text}" must be a number > 0`);
  }
  return value;
}

/** Checks the flags once; bad input gets an error naming the flag and the value. */
export function resolveReplaySettings(
  file: string,
  flags: {
    to: string;
    dryRun?: boolean;
    mqttUrl?: string;
    databaseUrl?: string;
    speed?: string;
    maxRate?: string;
    sendInvalid?: boolean;
    json?: boolean;
  },
  env: Record<string, string | undefined>,
): ReplaySettings {
  const to = TARGETS.find((t) => t === flags.to);
  if (to === undefined) {
    throw new KasiError("INPUT_INVALID", `--to "${flags.to}" is not one of: ${TARGETS.join(", ")}`);
  }
  const speed = positive("--speed", flags.speed);
  const maxRate = positive("--max-rate", flags.maxRate);
  if (to === "db" && (speed !== undefined || maxRate !== undefined)) {
    throw new KasiError(
      "INPUT_INVALID",
      "--speed and --max-rate pace publishing; --to db writes as fast as the database takes it",
    );
  }
  if (to === "db" && flags.sendInvalid) {
    throw new KasiError("INPUT_INVALID", "--send-invalid applies to --to mqtt only");
  }
  const mqtt = resolveMqttUrl(flags.mqttUrl, env);
  return {
    file,
    target: flags.dryRun ? "dry-run" : to,
    mqttUrl: mqtt.value,
    databaseFlag: flags.databaseUrl,
    speed,
    maxRate,
    sendInvalid: flags.sendInvalid ?? false,
    json: flags.json ?? false,
  };
}

export function replayCommand() {
  return new Command("replay")
    .description(
      "Replay a recording (.jsonl, .jsonl.gz, or - for stdin) to the broker or into the database.",
    )
    .argument("<file>", "recording: one JSON object per line with topic and payload; - for stdin")
    .option(
      "--to <target>",
      "mqtt (publish) | db (write through the backend's batch writer)",
      "mqtt",
    )
    .option("--dry-run", "check every line as --to db would; send nothing")
    .option("--speed <n>", "keep the recorded spacing (the lines' `at`), N times faster")
    .option("--max-rate <n>", "publish at most N messages per second")
    .option("--send-invalid", "publish lines the backend would reject too (tests a backend)")
    .option("--json", "print the summary as one JSON object")
    .option("--mqtt-url <url>", MQTT_URL_HELP)
    .option(
      "--database-url <url>",
      "PostgreSQL URL for --to db (default: $KASI_DATABASE_URL, then $DATABASE_URL, " +
        "then postgres://postgres@127.0.0.1:5432/postgres)",
    )
    .addHelpText(
      "after",
      "\nWithout --speed or --max-rate, messages go as fast as the broker acknowledges them.\n" +
        "Replaying a file twice stores nothing twice: telemetry is keyed by (site, time).",
    )
    .action(async (file, flags) => {
      const settings = resolveReplaySettings(file, flags, Deno.env.toObject());
      // Loaded here, so other subcommands never load the replay, backend or database code.
      const { executeReplay } = await import("./replay_execute.ts");
      await executeReplay(settings);
    });
}
