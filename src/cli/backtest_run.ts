/** The work of `kasi backtest`: read the two series, run each policy, print the report. */
import process from "node:process";
import { type BacktestPolicy, type PolicyRun, runBacktest } from "../core/backtest.ts";
import { alignSeries } from "../core/backtest_series.ts";
import { backtestSite, BAUCHI_UTC_OFFSET_MIN } from "../core/backtest_site.ts";
import { KasiError } from "../core/errors.ts";
import type { BacktestSettings } from "./backtest.ts";
import { parseBauchiSolar, parseOuessantLoad } from "./backtest_data.ts";
import { backtestJson, renderBacktestReport } from "./backtest_report.ts";

export const LOAD_FILE = "ouessant-island-load-pv-hourly-2016.csv";
export const SOLAR_FILE = "nigeria-bauchi-esmap-ghi-hourly.csv";

async function readData(dir: string, name: string): Promise<string> {
  const path = `${dir.replace(/\/$/, "")}/${name}`;
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new KasiError(
      "INPUT_INVALID",
      `cannot read ${path} (${(error as Error).message}); pass --data-dir to where ${name} is`,
    );
  }
}

/** Progress on stderr, one line rewritten in place, only when stderr is a terminal. */
function progressLine(): {
  show: (policy: BacktestPolicy, hoursDone: number, hours: number) => void;
  done: () => void;
} {
  const tty = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const t0 = performance.now();
  let shown = false;
  return {
    show: (policy, hoursDone, hours) => {
      if (!tty) return;
      const pct = Math.round(hoursDone / hours * 100);
      const s = ((performance.now() - t0) / 1000).toFixed(0);
      const name = policy === "kasi" ? "Kasi" : "first generation";
      Deno.stderr.writeSync(
        encoder.encode(
          `\r\x1b[K${name}: day ${hoursDone / 24} of ${hours / 24} (${pct} %), ${s} s`,
        ),
      );
      shown = true;
    },
    done: () => {
      if (shown) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
    },
  };
}

export async function runBacktestCommand(settings: BacktestSettings): Promise<void> {
  const load = parseOuessantLoad(await readData(settings.dataDir, LOAD_FILE), LOAD_FILE);
  const solar = parseBauchiSolar(await readData(settings.dataDir, SOLAR_FILE), SOLAR_FILE);
  const series = alignSeries(load, solar, {
    meanLoadW: settings.meanLoadW,
    utcOffsetMin: BAUCHI_UTC_OFFSET_MIN,
    ...(settings.startLocal ? { startLocal: settings.startLocal } : {}),
    ...(settings.days === null ? {} : { days: settings.days }),
  });
  const site = backtestSite(settings.size);
  const progress = progressLine();
  const runs: PolicyRun[] = [];
  const seconds: Partial<Record<BacktestPolicy, { wallS: number; cpuS: number }>> = {};
  try {
    for (const policy of settings.policies) {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const result = runBacktest(site, series, {
        policies: [policy],
        stepS: settings.stepS,
        scenarios: settings.scenarios,
        legacyMode: settings.legacyMode,
        onProgress: (p) => progress.show(p.policy, p.hoursDone, p.hours),
      });
      // CPU time too: on a shared machine the wall clock measures the neighbours as well.
      const cpu = process.cpuUsage(cpu0);
      seconds[policy] = {
        wallS: (performance.now() - t0) / 1000,
        cpuS: (cpu.user + cpu.system) / 1e6,
      };
      runs.push(...result.runs);
    }
  } finally {
    progress.done();
  }
  const report = { settings, site, series, runs, seconds };
  console.log(
    settings.json ? JSON.stringify(backtestJson(report), null, 2) : renderBacktestReport(report),
  );
}
