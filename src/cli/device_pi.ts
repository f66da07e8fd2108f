/**
 * `kasi device --hw=pi` and its subcommands `probe` (what the Pi's kernel exposes, with live
 * readings) and `safe-state` (the config's safe outputs, for systemd's ExecStopPost). The device
 * code is loaded in the actions, so other subcommands never load it.
 */
import { Command } from "@commander-js/extra-typings";
import { KasiError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { PiConfig } from "../device/pi/config.ts";
import type { PiDeviceSettings } from "./device.ts";
import { jsonLogger } from "./log.ts";
import { stopSignal } from "./signals.ts";

/** How long a crashed agent may take to reach the safe state before the process exits anyway. */
const CRASH_STOP_TIMEOUT_MS = 10_000;

async function checkRoot(root: string): Promise<void> {
  const info = await Deno.stat(root).catch(() => null);
  if (!info?.isDirectory) {
    throw new KasiError("INPUT_INVALID", `--sysfs-root "${root}" is not a directory`);
  }
}

async function loadConfig(path: string): Promise<PiConfig> {
  const { loadPiConfig } = await import("../device/pi/config_load.ts");
  return await loadPiConfig(path);
}

function checkHw(hw: string): void {
  if (hw !== "pi") {
    throw new KasiError(
      "INPUT_INVALID",
      `--hw "${hw}": probe and safe-state are for a Raspberry Pi: use --hw=pi`,
    );
  }
}

/**
 * On an uncaught error or rejection (a bug anywhere in the process), `stop` — which puts the
 * outputs in the safe state — runs before the process exits with 1; if it hangs, the exit comes
 * after CRASH_STOP_TIMEOUT_MS. Returns the function that removes the handlers.
 */
function onCrash(stop: () => Promise<void>, log: Logger): () => void {
  let crashed = false;
  const handler = (event: ErrorEvent | PromiseRejectionEvent) => {
    event.preventDefault();
    if (crashed) return;
    crashed = true;
    const error = "reason" in event ? event.reason : event.error;
    log.error("crashed: setting the safe state, then exiting", { error });
    const timer = setTimeout(() => Deno.exit(1), CRASH_STOP_TIMEOUT_MS);
    stop().catch((e) => log.error("could not reach the safe state", { error: e })).finally(() => {
      clearTimeout(timer);
      Deno.exit(1);
    });
  };
  globalThis.addEventListener("error", handler);
  globalThis.addEventListener("unhandledrejection", handler);
  return () => {
    globalThis.removeEventListener("error", handler);
    globalThis.removeEventListener("unhandledrejection", handler);
  };
}

/** Runs the agent on the Pi until SIGINT/SIGTERM/SIGHUP; the outputs end in the safe state. */
export async function runPiDevice(settings: PiDeviceSettings): Promise<void> {
  await checkRoot(settings.sysfsRoot);
  const config = await loadConfig(settings.configPath);
  if (settings.siteId !== null && settings.siteId !== config.site.site_id) {
    throw new KasiError(
      "INPUT_INVALID",
      `--site "${settings.siteId}" differs from site.site_id "${config.site.site_id}" in ` +
        settings.configPath,
    );
  }
  const { startPiDevice } = await import("../device/run.ts");
  const log = jsonLogger({ level: settings.logLevel, component: "device" });
  const signal = stopSignal({
    onRepeat: () => log.info("already stopping; press Ctrl-C once more to exit at once"),
  });
  let removeCrashHandler = () => {};
  try {
    const device = await startPiDevice({
      config,
      root: settings.sysfsRoot,
      intervalS: settings.intervalS,
      mqttUrl: settings.mqttUrl,
      log,
      policyParams: settings.dispatch,
    });
    removeCrashHandler = onCrash(device.stop, log);
    const name = await signal.received;
    log.info(`${name} received: stopping`);
    await device.stop();
  } finally {
    removeCrashHandler();
    signal.dispose();
  }
}

export function probeCommand() {
  return new Command("probe")
    .description(
      "List the IIO ADCs, hwmon monitors, 1-Wire sensors and GPIO lines the Pi has, with live " +
        "readings (read-only)",
    )
    .option("--hw <kind>", "hardware: pi", "pi")
    .option("--sysfs-root <dir>", "the directory standing for /", "/")
    .option("--config <file>", "also show what each sensor of this config reads")
    .option("--json", "print the report as JSON")
    .action(async (flags) => {
      checkHw(flags.hw);
      await checkRoot(flags.sysfsRoot);
      const config = flags.config === undefined ? undefined : await loadConfig(flags.config);
      const { formatProbe, probeHardware } = await import("../device/pi/probe.ts");
      const report = await probeHardware(flags.sysfsRoot, { config });
      console.log(flags.json ? JSON.stringify(report, null, 2) : formatProbe(report));
    });
}

export function safeStateCommand() {
  return new Command("safe-state")
    .description(
      "Set the outputs to the config's safe state, breaking before making (systemd runs it " +
        "after the agent exits, however it exits)",
    )
    .option("--hw <kind>", "hardware: pi", "pi")
    .requiredOption("--config <file>", "the site hardware config (JSON)")
    .option("--sysfs-root <dir>", "the directory standing for /", "/")
    .action(async (flags) => {
      checkHw(flags.hw);
      await checkRoot(flags.sysfsRoot);
      const config = await loadConfig(flags.config);
      const { applyPiSafeState } = await import("../device/run.ts");
      const log = jsonLogger({ component: "safe-state" });
      const actual = await applyPiSafeState({ config, root: flags.sysfsRoot, log });
      const safe = config.safety;
      const reached = actual.source === safe.safe_source && !actual.genRun &&
        actual.shedTier === safe.safe_shed_tier && !actual.fault;
      log[reached ? "info" : "error"](
        reached ? "outputs in the safe state" : "safe state not reached",
        {
          source: actual.source,
          genRun: actual.genRun,
          shedTier: actual.shedTier,
          fault: actual.fault ?? null,
        },
      );
      if (!reached) {
        throw new KasiError(
          "HARDWARE_FAULT",
          `safe state not reached: source reads ${actual.source}, generator ` +
            `${actual.genRun ? "on" : "off"}, shed tier ${actual.shedTier}` +
            (actual.fault ? `; ${actual.fault}` : ""),
        );
      }
    });
}
