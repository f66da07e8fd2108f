/**
 * `kasi backtest`: Kasi's policy and the first generation's, side by side over a real year of
 * load and sunshine (src/core/backtest.ts). Flags are checked here; the work is loaded lazily.
 */
import { Command } from "@commander-js/extra-typings";
import { BACKTEST_POLICIES, type BacktestPolicy } from "../core/backtest.ts";
import {
  type BacktestSiteSize,
  DEFAULT_SITE_SIZE,
  LIFEPO4_SITE_SIZE,
} from "../core/backtest_site.ts";
import { type Mode, MODES } from "../core/command.ts";
import { KasiError } from "../core/errors.ts";
import { OUTLOOK_SCENARIOS } from "../core/outlook.ts";

export interface BacktestSettings {
  dataDir: string;
  /** Local midnight at the site, as-if-UTC; null: the first day of the solar series. */
  startLocal: Date | null;
  /** Null: every whole day of the solar series. */
  days: number | null;
  meanLoadW: number;
  size: BacktestSiteSize;
  legacyMode: Mode;
  policies: BacktestPolicy[];
  scenarios: number;
  stepS: number;
  json: boolean;
}

/** The shared data sets, next to the clone (../shared/data), as the tests find them. */
export const DEFAULT_DATA_DIR = new URL("../../../shared/data/", import.meta.url);

function bad(flag: string, text: string, rule: string): never {
  throw new KasiError("INPUT_INVALID", `${flag} "${text}" must be ${rule}`);
}

function number(flag: string, text: string, rule: (x: number) => boolean, ruleText: string) {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || !rule(value)) bad(flag, text, ruleText);
  return value;
}

export interface BacktestFlags {
  dataDir?: string;
  start?: string;
  days?: string;
  loadMeanW: string;
  chemistry: string;
  capacityWh?: string;
  pvKwp?: string;
  generatorKw?: string;
  tankL?: string;
  reserve?: string;
  batteryMonitor?: boolean;
  legacyMode: string;
  policies?: string;
  scenarios: string;
  step: string;
  json?: boolean;
}

/** Checks the raw flags once; bad input gets an error naming the flag and the value. */
export function resolveBacktestSettings(flags: BacktestFlags): BacktestSettings {
  let startLocal: Date | null = null;
  if (flags.start !== undefined) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(flags.start)) bad("--start", flags.start, "a date YYYY-MM-DD");
    startLocal = new Date(`${flags.start}T00:00:00Z`);
    if (Number.isNaN(startLocal.getTime())) bad("--start", flags.start, "a date YYYY-MM-DD");
  }
  const chemistry = flags.chemistry;
  if (chemistry !== "flooded-lead-acid" && chemistry !== "lifepo4") {
    bad("--chemistry", chemistry, "flooded-lead-acid or lifepo4");
  }
  const base = chemistry === "lifepo4" ? LIFEPO4_SITE_SIZE : DEFAULT_SITE_SIZE;
  const positive = (x: number) => x > 0;
  const size: BacktestSiteSize = {
    ...base,
    capacityWh: flags.capacityWh === undefined
      ? base.capacityWh
      : number("--capacity-wh", flags.capacityWh, positive, "a number of Wh > 0"),
    pvKwp: flags.pvKwp === undefined
      ? base.pvKwp
      : number("--pv-kwp", flags.pvKwp, (x) => x >= 0, "a number of kWp ≥ 0"),
    generatorKw: flags.generatorKw === undefined
      ? base.generatorKw
      : number("--generator-kw", flags.generatorKw, positive, "a number of kW > 0"),
    tankL: flags.tankL === undefined
      ? base.tankL
      : number("--tank-l", flags.tankL, positive, "a number of litres > 0"),
    reserveSocPct: flags.reserve === undefined
      ? base.reserveSocPct
      : number("--reserve", flags.reserve, (x) => x >= 0 && x < 100, "a SoC % within 0..99"),
    batteryMonitor: flags.batteryMonitor ?? base.batteryMonitor,
  };
  if (!(MODES as readonly string[]).includes(flags.legacyMode)) {
    bad("--legacy-mode", flags.legacyMode, MODES.join(", "));
  }
  const policies =
    (flags.policies ?? (chemistry === "lifepo4" ? "kasi" : BACKTEST_POLICIES.join(",")))
      .split(",").map((p) => p.trim());
  for (const p of policies) {
    if (!(BACKTEST_POLICIES as readonly string[]).includes(p)) {
      bad("--policies", flags.policies ?? "", `a list of ${BACKTEST_POLICIES.join(", ")}`);
    }
  }
  if (chemistry === "lifepo4" && policies.includes("legacy")) {
    bad(
      "--policies",
      flags.policies ?? "",
      "kasi alone on LiFePO4: the first generation's thresholds are lead-acid voltages",
    );
  }
  return {
    dataDir: flags.dataDir ?? DEFAULT_DATA_DIR.pathname,
    startLocal,
    days: flags.days === undefined
      ? null
      : number("--days", flags.days, (x) => Number.isInteger(x) && x >= 1, "a whole number ≥ 1"),
    meanLoadW: number("--load-mean-w", flags.loadMeanW, positive, "a number of W > 0"),
    size,
    legacyMode: flags.legacyMode as Mode,
    policies: [...new Set(policies)] as BacktestPolicy[],
    scenarios: number(
      "--scenarios",
      flags.scenarios,
      (x) => Number.isInteger(x) && x >= 1 && x <= 100_000,
      "a whole number 1..100000",
    ),
    stepS: number(
      "--step",
      flags.step,
      (x) => Number.isInteger(x) && x > 0 && 3600 % x === 0,
      "a whole number of seconds dividing an hour",
    ),
    json: flags.json ?? false,
  };
}

export function backtestCommand() {
  return new Command("backtest")
    .description(
      "Replay a year of measured load (Ouessant, 2016) and sunshine (Bauchi, 2021–22) on one " +
        "site under Kasi's policy and the first generation's voltage thresholds, side by side: " +
        "diesel, generator hours and starts, unserved energy, battery cycles and depth, and the " +
        "error of the 'hours until reserve' prediction.",
    )
    .option("--data-dir <dir>", "where the two data files are (default: ../shared/data)")
    .option("--start <date>", "first local day at the site, YYYY-MM-DD (default: 2021-09-20)")
    .option("--days <n>", "days to replay (default: the whole year, 365)")
    .option("--load-mean-w <w>", "the load's mean over its year, W", "200")
    .option("--chemistry <kind>", "flooded-lead-acid | lifepo4 (Kasi alone)", "flooded-lead-acid")
    .option("--capacity-wh <wh>", "battery capacity, Wh (default 5000)")
    .option("--pv-kwp <kwp>", "PV array, kWp (default 1.5)")
    .option("--generator-kw <kw>", "generator rating, kW (default 5)")
    .option("--tank-l <l>", "fuel tank, litres (default 100)")
    .option("--reserve <pct>", "battery reserve SoC, % (default 50 lead-acid, 20 LiFePO4)")
    .option(
      "--battery-monitor",
      "the lead-acid bank has a battery monitor reporting SoC (default: Kasi estimates it)",
    )
    .option("--legacy-mode <mode>", `first generation's mode: ${MODES.join(" | ")}`, "normal")
    .option("--policies <list>", `which to run: ${BACKTEST_POLICIES.join(",")} (default both)`)
    .option("--scenarios <n>", "scenarios per forward forecast", String(OUTLOOK_SCENARIOS))
    .option("--step <s>", "simulation step, seconds", "300")
    .option("--json", "print the results as JSON instead of the table")
    .action(async (flags) => {
      const settings = resolveBacktestSettings(flags);
      const { runBacktestCommand } = await import("./backtest_run.ts");
      await runBacktestCommand(settings);
    });
}
