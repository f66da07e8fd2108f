/**
 * `kasi simulate-fleet --sites N`: N simulated sites against a broker (and whatever backend
 * listens to it), reporting every few seconds and at the end what was sent, acknowledged and
 * answered, and the telemetry→command round trip (defined in src/device/fleet_metrics.ts).
 */
import { Command } from "@commander-js/extra-typings";
import { KasiError } from "../core/errors.ts";
import { SITE_ID_PATTERN } from "../core/topics.ts";
import { MQTT_URL_HELP, resolveMqttUrl } from "./mqtt_url.ts";

export interface FleetSettings {
  sites: number;
  seed: number;
  prefix: string;
  speed: number;
  intervalS: number;
  rampS: number;
  durationS: number | null;
  reportEveryS: number;
  sharedConnection: boolean;
  record: string | undefined;
  mqttUrl: string;
  json: boolean;
}

function number(
  name: string,
  text: string,
  check: { min: number; integer?: boolean; exclusive?: boolean },
): number {
  const value = Number(text);
  const ok = Number.isFinite(value) && (check.exclusive ? value > check.min : value >= check.min) &&
    (!check.integer || Number.isSafeInteger(value));
  if (!ok) {
    const what = check.integer ? "a whole number" : "a number";
    throw new KasiError(
      "INPUT_INVALID",
      `${name} "${text}" must be ${what} ${check.exclusive ? ">" : "≥"} ${check.min}`,
    );
  }
  return value;
}

/** Checks the flags once; bad input gets an error naming the flag and the value. */
export function resolveFleetSettings(
  flags: {
    sites: string;
    seed: string;
    prefix: string;
    speed: string;
    interval: string;
    ramp: string;
    duration?: string;
    reportEvery: string;
    sharedConnection?: boolean;
    record?: string;
    mqttUrl?: string;
    json?: boolean;
  },
  env: Record<string, string | undefined>,
): FleetSettings {
  const sites = number("--sites", flags.sites, { min: 1, integer: true });
  // The longest id, `${prefix}-${index}`, must still be a valid site id.
  const longest = `${flags.prefix}-${String(sites - 1).padStart(5, "0")}`;
  if (!SITE_ID_PATTERN.test(longest)) {
    throw new KasiError(
      "INPUT_INVALID",
      `--prefix "${flags.prefix}": site ids like "${longest}" must be 1-64 letters, digits, ` +
        "'.', '_' or '-', starting with a letter or digit",
    );
  }
  const mqtt = resolveMqttUrl(flags.mqttUrl, env);
  return {
    sites,
    seed: number("--seed", flags.seed, { min: -(2 ** 31), integer: true }),
    prefix: flags.prefix,
    speed: number("--speed", flags.speed, { min: 0, exclusive: true }),
    intervalS: number("--interval", flags.interval, { min: 0, exclusive: true }),
    rampS: number("--ramp", flags.ramp, { min: 0 }),
    durationS: flags.duration === undefined
      ? null
      : number("--duration", flags.duration, { min: 0, exclusive: true }),
    reportEveryS: number("--report-every", flags.reportEvery, { min: 0, exclusive: true }),
    sharedConnection: flags.sharedConnection ?? false,
    record: flags.record,
    mqttUrl: mqtt.value,
    json: flags.json ?? false,
  };
}

export function simulateFleetCommand() {
  return new Command("simulate-fleet")
    .description(
      "Simulate a fleet of sites: telemetry out, commands in, round-trip times reported.",
    )
    .requiredOption("--sites <n>", "number of simulated sites")
    .option("--seed <n>", "fleet seed: same seed, same sites", "1")
    .option("--prefix <id>", "site ids are <prefix>-00000, <prefix>-00001, …", "fleet")
    .option("--speed <n>", "simulated seconds per real second", "1")
    .option("--interval <s>", "telemetry interval of each site, in simulated seconds", "10")
    .option("--ramp <s>", "open the connections evenly over this many seconds", "0")
    .option("--duration <s>", "stop after this many seconds (default: at Ctrl-C)")
    .option("--shared-connection", "all sites on one MQTT connection instead of one each")
    .option("--record <file>", "write every message sent as a recording (.jsonl or .jsonl.gz)")
    .option("--report-every <s>", "seconds between progress lines", "5")
    .option("--json", "print the final report as one JSON object")
    .option("--mqtt-url <url>", MQTT_URL_HELP)
    .addHelpText(
      "after",
      "\nRound trip: a command's arrival at the site minus the ts of the newest telemetry the " +
        "site sent\nbefore the command's issued_at (same clock on one host). Retained commands " +
        "are not counted.\nOne connection per site needs an open-files limit above --sites " +
        "(ulimit -n), for Mosquitto too.",
    )
    .action(async (flags) => {
      const settings = resolveFleetSettings(flags, Deno.env.toObject());
      // Loaded here, so other subcommands never load the fleet code.
      const { runFleet } = await import("./simulate_fleet_run.ts");
      await runFleet(settings);
    });
}
