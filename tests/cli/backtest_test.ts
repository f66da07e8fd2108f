import assert from "node:assert/strict";
import { resolveBacktestSettings } from "../../src/cli/backtest.ts";
import { renderBacktestReport } from "../../src/cli/backtest_report.ts";
import { runBacktest } from "../../src/core/backtest.ts";
import { alignSeries } from "../../src/core/backtest_series.ts";
import { backtestSite } from "../../src/core/backtest_site.ts";
import { KasiError } from "../../src/core/errors.ts";
import { parseBauchiSolar, parseOuessantLoad } from "../../src/cli/backtest_data.ts";

const FLAGS = {
  loadMeanW: "200",
  chemistry: "flooded-lead-acid",
  legacyMode: "normal",
  scenarios: "100",
  step: "300",
};

Deno.test("resolveBacktestSettings() takes the stated site by default and names a bad flag", () => {
  const s = resolveBacktestSettings(FLAGS);
  assert.deepEqual(
    [s.size.capacityWh, s.size.reserveSocPct, s.size.pvKwp, s.size.generatorKw, s.policies],
    [5000, 50, 1.5, 5, ["kasi", "legacy"]],
  );
  assert.equal(s.days, null);
  const fails = (flags: Record<string, string>, message: string) =>
    assert.throws(
      () => resolveBacktestSettings({ ...FLAGS, ...flags }),
      (e: unknown) => e instanceof KasiError && e.message === message,
    );
  fails({ days: "0" }, '--days "0" must be a whole number ≥ 1');
  fails({ start: "20/09/2021" }, '--start "20/09/2021" must be a date YYYY-MM-DD');
  fails({ legacyMode: "turbo" }, '--legacy-mode "turbo" must be eco, normal, conservative');
  fails({ step: "7" }, '--step "7" must be a whole number of seconds dividing an hour');
  fails({ policies: "kasi,v2" }, '--policies "kasi,v2" must be a list of kasi, legacy');
  fails(
    { chemistry: "lifepo4", policies: "kasi,legacy" },
    '--policies "kasi,legacy" must be kasi alone on LiFePO4: the first generation\'s ' +
      "thresholds are lead-acid voltages",
  );
  // LiFePO4 runs Kasi alone, with its BMS and a 20 % reserve.
  const lfp = resolveBacktestSettings({ ...FLAGS, chemistry: "lifepo4" });
  assert.deepEqual([lfp.policies, lfp.size.reserveSocPct, lfp.size.batteryMonitor], [
    ["kasi"],
    20,
    true,
  ]);
});

Deno.test("renderBacktestReport() states the site and sets the policies side by side", async () => {
  const data = new URL("../../../shared/data/", import.meta.url);
  const load = parseOuessantLoad(
    await Deno.readTextFile(new URL("ouessant-island-load-pv-hourly-2016.csv", data)),
  );
  const solar = parseBauchiSolar(
    await Deno.readTextFile(new URL("nigeria-bauchi-esmap-ghi-hourly.csv", data)),
  );
  const settings = resolveBacktestSettings({ ...FLAGS, days: "1", scenarios: "10" });
  const series = alignSeries(load, solar, { meanLoadW: 200, utcOffsetMin: 60, days: 1 });
  const site = backtestSite(settings.size);
  const { runs } = runBacktest(site, series, { scenarios: 10 });
  const text = renderBacktestReport({
    settings,
    site,
    series,
    runs,
    seconds: { kasi: { wallS: 1, cpuS: 1 }, legacy: { wallS: 1, cpuS: 1 } },
  });
  // The assumptions are wrapped paragraphs: read them unwrapped.
  const prose = text.replaceAll("\n  ", " ");
  assert.match(prose, /^Backtest: 1 day from 2021-09-20 to 2021-09-20 \(site time, UTC\+1\)/);
  assert.match(
    prose,
    /12 V 5000 Wh flooded lead-acid \(no BMS: Kasi estimates SoC\), reserve 50 %/,
  );
  assert.match(prose, /scaled by 200 W \/ 773\.4 kW \(its year's mean\)/);
  assert.match(text, /\n {50}Kasi {4}First generation\n/);
  // 2021-09-20 (Monday) takes Ouessant's Monday 2016-09-19, rows 6291–6314 of the file: 11,155
  // kW·h × 200 W / 773.3994 kW = 2884.7 Wh, for both.
  assert.match(text, /\n {2}demand +2\.9 kWh +2\.9 kWh\n/);
});
