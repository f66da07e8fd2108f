/**
 * The backtest's cost per simulated day, per policy: 288 physics steps, 24 hourly plans and 24
 * counterfactual replays. Kasi's plans run the backend's forward forecast (100 scenarios, twice
 * when the mode is not normal), the cost of a year's run; the physics alone is the first
 * generation's line. A year is 365 times these.
 */
import { runBacktest } from "../src/core/backtest.ts";
import { alignSeries } from "../src/core/backtest_series.ts";
import {
  backtestSite,
  BAUCHI_UTC_OFFSET_MIN,
  DEFAULT_SITE_SIZE,
} from "../src/core/backtest_site.ts";
import { parseBauchiSolar, parseOuessantLoad } from "../src/cli/backtest_data.ts";

const DATA = new URL("../../shared/data/", import.meta.url);
const load = parseOuessantLoad(
  await Deno.readTextFile(new URL("ouessant-island-load-pv-hourly-2016.csv", DATA)),
);
const solar = parseBauchiSolar(
  await Deno.readTextFile(new URL("nigeria-bauchi-esmap-ghi-hourly.csv", DATA)),
);
// Early August: rainy season, the generator runs and the forecasts matter.
const series = alignSeries(load, solar, {
  meanLoadW: 200,
  utcOffsetMin: BAUCHI_UTC_OFFSET_MIN,
  startLocal: new Date("2022-08-01T00:00:00Z"),
  days: 1,
});
const site = backtestSite(DEFAULT_SITE_SIZE);

Deno.bench(
  "runBacktest() one day, Kasi (100-scenario forecast every hour)",
  { group: "backtest" },
  () => {
    runBacktest(site, series, { policies: ["kasi"] });
  },
);

Deno.bench("runBacktest() one day, first generation", { group: "backtest" }, () => {
  runBacktest(site, series, { policies: ["legacy"] });
});
