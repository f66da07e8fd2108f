/**
 * The report of `kasi backtest`: the site and every assumption first, then the policies side by
 * side, one figure per line, then the prediction scores. Also the same as JSON.
 */
import type { BacktestPolicy, BacktestSite, PolicyRun } from "../core/backtest.ts";
import type { ErrorStats } from "../core/backtest_metrics.ts";
import { PERSISTENCE_WINDOW_H } from "../core/backtest_forecast.ts";
import type { BacktestSeries } from "../core/backtest_series.ts";
import { LEGACY_TO_BATTERY_V, LEGACY_TO_DIESEL_V } from "../core/legacy_policy.ts";
import { PV_REL_UNCERTAINTY } from "../core/outlook.ts";
import { criticalSocPct } from "../core/policy.ts";
import { DEFAULT_PERFORMANCE_RATIO } from "../core/pv.ts";
import { MAX_PREDICTION_H } from "../core/prediction.ts";
import type { BacktestSettings } from "./backtest.ts";

export interface BacktestReport {
  settings: BacktestSettings;
  site: BacktestSite;
  series: BacktestSeries;
  runs: PolicyRun[];
  /** Wall-clock and CPU seconds per policy. */
  seconds: Partial<Record<BacktestPolicy, { wallS: number; cpuS: number }>>;
}

const NAMES: Record<BacktestPolicy, string> = { kasi: "Kasi", legacy: "First generation" };
const HOUR_MS = 3_600_000;

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function f(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "-";
}

/** A figure with its unit, or "-" when there is none. */
function u(x: number, digits: number, unit: string): string {
  return Number.isFinite(x) ? `${x.toFixed(digits)} ${unit}` : "-";
}

/** The assumptions, in words, with the numbers they use. */
export function describeBacktest(r: Omit<BacktestReport, "runs" | "seconds">): string[] {
  const { settings, site, series } = r;
  const p = site.sim.profile;
  const localStart = series.startMs + series.utcOffsetMin * 60_000;
  const lastLocal = localStart + (series.hours - 24) * HOUR_MS;
  const chem = p.chemistry === "lifepo4"
    ? "LiFePO4 (its BMS reports SoC)"
    : settings.size.batteryMonitor
    ? "flooded lead-acid (a battery monitor reports SoC)"
    : "flooded lead-acid (no BMS: Kasi estimates SoC)";
  const critical = site.dispatch.criticalSocPct ?? criticalSocPct(p.chemistry, p.reserveSocPct);
  const chargerW = site.sim.chargeCRate * p.capacityWh;
  const mode = settings.legacyMode;
  return [
    `Backtest: ${series.hours / 24} day${series.hours === 24 ? "" : "s"} from ${
      day(localStart)
    } to ${day(lastLocal)} (site time, ` +
    `UTC+${series.utcOffsetMin / 60}), ${settings.stepS / 60}-min steps, hourly inputs held ` +
    `within the hour, one plan an hour.`,
    `Site: Bauchi, Nigeria (${p.latitude}° N, ${p.longitude}° E). ${p.nominalV} V ${p.capacityWh} Wh ` +
    `${chem}, reserve ${p.reserveSocPct} % (critical ${critical} %), ` +
    `${site.sim.internalResistanceOhm * 1000} mΩ; starts at ${site.initialSocPct} % SoC. ` +
    `PV ${p.pvKwp} kWp (horizontal, performance ratio ${DEFAULT_PERFORMANCE_RATIO}, NOCT 45 °C). ` +
    `${p.generatorRatedKw} kW diesel (fuel F = 0.0332 · ${p.generatorRatedKw} + 0.2728 · P_out ` +
    `L/h, at least at 30 % load), ${p.tankL} L tank; charger ${chargerW} W (C/5).`,
    `Load: Ouessant island grid 2016, hourly, scaled by ${settings.meanLoadW} W / ` +
    `${f(settings.meanLoadW / series.loadScale / 1000, 1)} kW (its year's mean); each site day ` +
    `takes the load day of the same weekday nearest the same calendar date, hour by local hour.`,
    `Solar: Bauchi ESMAP station, measured hourly GHI and air temperature (the battery's too).`,
    `Refuelling, both policies: the tank is filled to the brim whenever it falls below ` +
    `${site.refuelBelowPct} %.`,
    `Kasi: the device's decide() every step (${
      site.sim.sensors?.soc ? "SoC as reported" : "SoC estimated from voltage and current"
    }, site ` +
    `settings: exercise weekly, warm-up 60 s, cool-down 180 s, minimum run 15 min); the backend's ` +
    `computeAdvice() every hour from the reported SoC, the load profile learned from the ` +
    `telemetry and a persistence solar forecast — clear sky × the last ${PERSISTENCE_WINDOW_H} h's ` +
    `clear-sky index, ±${PV_REL_UNCERTAINTY["clear-sky-climatology"] * 100} % (1 σ) a day — ` +
    `${settings.scenarios} scenarios; each command valid 3 h.`,
    `First generation: ${mode} mode — to diesel below ${LEGACY_TO_DIESEL_V[mode]} V, back to the ` +
    `battery above ${LEGACY_TO_BATTERY_V} V (loaded and charging voltages), shutdown when both ` +
    `predictRuntime hours are under 1 h on a cloudy forecast; no shedding.`,
    `"Hours until reserve", actually: from the true SoC at each plan, the actual load and PV, no ` +
    `generator, the time to the reserve (the same physics; capped at ${MAX_PREDICTION_H} h; ` +
    `plans whose week runs past the data are not scored).`,
  ];
}

interface Row {
  label: string;
  cell: (run: PolicyRun) => string;
}

function rows(site: BacktestSite): { title: string; rows: Row[] }[] {
  const p = site.sim.profile;
  const critical = site.dispatch.criticalSocPct ?? criticalSocPct(p.chemistry, p.reserveSocPct);
  return [
    {
      title: "Energy",
      rows: [
        { label: "demand", cell: (r) => `${f(r.metrics.demandKwh, 1)} kWh` },
        {
          label: "unserved (shed load included)",
          cell: (r) => `${f(r.metrics.unservedKwh, 2)} kWh`,
        },
        { label: "hours of outage (bus dead)", cell: (r) => `${f(r.metrics.outageH, 1)} h` },
        { label: "hours with loads shed", cell: (r) => `${f(r.metrics.shedH, 1)} h` },
      ],
    },
    {
      title: "Diesel",
      rows: [
        { label: "fuel burned", cell: (r) => `${f(r.metrics.fuelL, 1)} L` },
        {
          label: "deliveries (litres)",
          cell: (r) => `${r.metrics.refuels} (${f(r.metrics.refuelL, 0)} L)`,
        },
        { label: "generator hours", cell: (r) => `${f(r.metrics.generatorH, 1)} h` },
        { label: "generator starts", cell: (r) => `${r.metrics.generatorStarts}` },
        {
          label: "generator energy (to battery)",
          cell: (r) =>
            `${f(r.metrics.generatorKwh, 1)} (${f(r.metrics.generatorToBatteryKwh, 1)}) kWh`,
        },
        {
          label: "mean generator load",
          cell: (r) =>
            r.metrics.generatorH > 0
              ? `${
                f(r.metrics.generatorKwh / (r.metrics.generatorH * p.generatorRatedKw) * 100, 0)
              } %`
              : "-",
        },
        {
          label: "litres per kWh generated",
          cell: (r) =>
            r.metrics.generatorKwh > 0 ? f(r.metrics.fuelL / r.metrics.generatorKwh, 2) : "-",
        },
      ],
    },
    {
      title: "Battery",
      rows: [
        { label: "equivalent full cycles", cell: (r) => f(r.metrics.equivalentFullCycles, 1) },
        {
          label: `hours below reserve (${p.reserveSocPct} %)`,
          cell: (r) => `${f(r.metrics.hoursBelowReserve, 1)} h`,
        },
        { label: "hours below 30 %", cell: (r) => `${f(r.metrics.hoursBelow30, 1)} h` },
        {
          label: `hours below critical (${critical} %)`,
          cell: (r) => `${f(r.metrics.hoursBelowCritical, 1)} h`,
        },
        { label: "deepest SoC", cell: (r) => `${f(r.metrics.minSocPct, 1)} %` },
        { label: "mean SoC", cell: (r) => `${f(r.metrics.meanSocPct, 1)} %` },
      ],
    },
    {
      title: "Solar",
      rows: [
        { label: "PV available", cell: (r) => `${f(r.metrics.pvAvailableKwh, 0)} kWh` },
        {
          label: "PV used (curtailed)",
          cell: (r) => `${f(r.metrics.pvUsedKwh, 0)} (${f(r.metrics.pvCurtailedKwh, 0)}) kWh`,
        },
      ],
    },
  ];
}

function errorRows(label: string, pick: (r: PolicyRun) => ErrorStats): Row[] {
  return [
    { label: `${label}: plans scored`, cell: (r) => `${pick(r).scored}` },
    { label: "  mean absolute error", cell: (r) => u(pick(r).maeH, 1, "h") },
    { label: "  P90 of the absolute error", cell: (r) => u(pick(r).p90AbsErrorH, 1, "h") },
    {
      label: "  bias (predicted − actual)",
      cell: (r) => `${pick(r).biasH >= 0 ? "+" : ""}${u(pick(r).biasH, 1, "h")}`,
    },
    {
      label: "  actual within P10–P90",
      cell: (r) => pick(r).coverage === null ? "no band" : `${f(pick(r).coverage! * 100, 0)} %`,
    },
  ];
}

function table(runs: PolicyRun[], sections: { title: string; rows: Row[] }[]): string[] {
  const labelW = 34;
  const colW = 20;
  const out = [
    "".padEnd(labelW) + runs.map((r) => NAMES[r.policy].padStart(colW)).join(""),
  ];
  for (const s of sections) {
    out.push(s.title);
    for (const row of s.rows) {
      out.push(
        `  ${row.label}`.padEnd(labelW) + runs.map((r) => row.cell(r).padStart(colW)).join(""),
      );
    }
  }
  return out;
}

function share(counts: Record<string, number>): string {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return Object.entries(counts).sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${Math.round(n / total * 100)} %`).join(", ");
}

/** Wraps a paragraph at `width` columns, continuation lines indented by two spaces. */
function wrap(text: string, width = 100): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      out.push(line);
      line = `  ${word}`;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") out.push(line);
  return out;
}

export function renderBacktestReport(r: BacktestReport): string {
  const lines = describeBacktest(r).flatMap((p) => wrap(p));
  const predictionSection = {
    title: `"Hours until reserve" at each hourly plan (Kasi: forecast P50; first generation: ` +
      `predictRuntime)`,
    rows: [
      ...errorRows("all plans", (x) => x.predictions.all),
      ...errorRows("above reserve", (x) => x.predictions.aboveReserve),
    ],
  };
  lines.push("", ...table(r.runs, [...rows(r.site), predictionSection]));
  const kasi = r.runs.find((x) => x.policy === "kasi");
  if (kasi) {
    lines.push(
      "",
      `Kasi's advice: modes ${share(kasi.modes)}; strategies ${share(kasi.strategies)}.`,
    );
  }
  const times = r.runs.map((x) => {
    const t = r.seconds[x.policy];
    return `${NAMES[x.policy]} ${f(t?.wallS ?? NaN, 1)} s (CPU ${f(t?.cpuS ?? NaN, 1)} s)`;
  });
  lines.push(`Run time: ${times.join(", ")}.`);
  return lines.join("\n");
}

/** The report as JSON: the assumptions, the settings and each policy's figures. */
export function backtestJson(r: BacktestReport) {
  return {
    assumptions: describeBacktest(r),
    settings: {
      ...r.settings,
      startLocal: r.settings.startLocal?.toISOString().slice(0, 10) ?? null,
    },
    site: r.site.sim.profile,
    start: new Date(r.series.startMs).toISOString(),
    hours: r.series.hours,
    runs: r.runs.map((x) => ({
      policy: x.policy,
      metrics: x.metrics,
      predictions: x.predictions,
      modes: x.modes,
      strategies: x.strategies,
      seconds: r.seconds[x.policy] ?? null,
    })),
  };
}
