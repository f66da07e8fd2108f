/**
 * The backtest engine over a shortened window of the real data: 14 days of Bauchi's rainy
 * season from 2022-08-01 (little sun, the generator is needed) on the default site. Every
 * assertion is a property computed by hand or required by a rule, never a figure the run printed.
 */
import assert from "node:assert/strict";
import { type PolicyRun, runBacktest, type StepTrace } from "../../src/core/backtest.ts";
import { alignSeries } from "../../src/core/backtest_series.ts";
import { backtestSite, DEFAULT_SITE_SIZE } from "../../src/core/backtest_site.ts";
import { LEGACY_TO_BATTERY_V, LEGACY_TO_DIESEL_V } from "../../src/core/legacy_policy.ts";
import { parseBauchiSolar, parseOuessantLoad } from "../../src/cli/backtest_data.ts";

const DATA = new URL("../../../shared/data/", import.meta.url);
const load = parseOuessantLoad(
  await Deno.readTextFile(new URL("ouessant-island-load-pv-hourly-2016.csv", DATA)),
);
const solar = parseBauchiSolar(
  await Deno.readTextFile(new URL("nigeria-bauchi-esmap-ghi-hourly.csv", DATA)),
);
const series = alignSeries(load, solar, {
  meanLoadW: 200,
  utcOffsetMin: 60,
  startLocal: new Date("2022-08-01T00:00:00Z"),
  days: 14,
});
const site = backtestSite(DEFAULT_SITE_SIZE);
const result = runBacktest(site, series, { trace: true });
const kasi = result.runs.find((r) => r.policy === "kasi")!;
const legacy = result.runs.find((r) => r.policy === "legacy")!;
const STEPS = 14 * 24 * 12;

function near(actual: number, expected: number, tolerance: number, what: string) {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

function eachStep(run: PolicyRun, check: (t: StepTrace, k: number) => void) {
  const t = run.trace!;
  assert.equal(t.socPct.length, STEPS);
  for (let k = 0; k < STEPS; k++) check(t, k);
}

Deno.test("runBacktest() replays the window's demand exactly, for both policies", () => {
  // 2022-08-01 is a Monday, as 2016-08-01: the window takes Ouessant's 2016-08-01..14, rows
  // 5115–5450 of the file, which sum to 202,166 kW·h; scaled by 200 W / 773.3994 kW:
  // 202166 · 0.2585986 = 52,279.8 Wh.
  for (const run of result.runs) near(run.metrics.demandKwh, 52.2798, 1e-3, run.policy);
});

Deno.test("runBacktest() closes the energy balance of every step", () => {
  for (const run of result.runs) {
    eachStep(run, (t, k) => {
      const what = `${run.policy} step ${k}`;
      // Demand is served or not; what is served comes from PV, the battery or the generator.
      near(t.servedW[k]! + t.unservedW[k]!, t.demandW[k]!, 1e-9, `${what} demand`);
      near(t.pvToLoadW[k]! + t.batteryToLoadW[k]! + t.genToLoadW[k]!, t.servedW[k]!, 1e-9, what);
      // PV goes to the load, the battery, or is curtailed; the generator to the load or battery.
      near(
        t.pvToLoadW[k]! + t.pvToBatteryW[k]! + t.pvCurtailedW[k]!,
        t.pvAvailableW[k]!,
        1e-9,
        `${what} PV`,
      );
      near(t.genToLoadW[k]! + t.genToBatteryW[k]!, t.genOutW[k]!, 1e-9, `${what} generator`);
      assert.ok(t.pvCurtailedW[k]! >= -1e-9, `${what} curtailment ${t.pvCurtailedW[k]}`);
    });
    let served = 0, unserved = 0;
    eachStep(run, (t, k) => {
      served += t.servedW[k]! / 12 / 1000;
      unserved += t.unservedW[k]! / 12 / 1000;
    });
    near(served, run.metrics.servedKwh, 1e-9, `${run.policy} served`);
    near(unserved, run.metrics.unservedKwh, 1e-9, `${run.policy} unserved`);
  }
});

Deno.test("runBacktest() burns exactly the fuel curve's litres", () => {
  // F = 0.0332 L/h per kW rated · 5 kW + 0.2728 L/h per kW out · P_out, P_out at least 30 % of
  // 5 kW while it carries the load; unloaded (warm-up, cool-down) P_out = 0: 0.166 L/h. The tank
  // never runs dry (it is refilled below 25 %), so the engine runs whenever it is signalled.
  for (const run of result.runs) {
    let litres = 0;
    eachStep(run, (t, k) => {
      if (t.genRun[k] !== 1) {
        assert.equal(t.fuelUsedL[k], 0, `${run.policy} step ${k} burns with the engine off`);
        return;
      }
      const outKw = t.source[k] === 1 ? Math.max(t.genOutW[k]! / 1000, 1.5) : 0;
      const step = (0.0332 * 5 + 0.2728 * outKw) / 12;
      near(t.fuelUsedL[k]!, step, 1e-12, `${run.policy} step ${k}`);
      litres += step;
    });
    near(run.metrics.fuelL, litres, 1e-9, `${run.policy} litres`);
  }
});

Deno.test("runBacktest() never feeds the load from both sources in one step", () => {
  for (const run of result.runs) {
    eachStep(run, (t, k) => {
      const what = `${run.policy} step ${k}`;
      if (t.source[k] === 1) {
        assert.equal(t.batteryToLoadW[k], 0, `${what}: battery on a generator bus`);
      } else assert.equal(t.genToLoadW[k], 0, `${what}: generator on a battery bus`);
    });
  }
});

Deno.test("Kasi keeps the lead-acid battery above its critical 25 % while fuel remains", () => {
  // The reserve is 50 %; Kasi starts the generator at its start threshold (≥ the reserve) and
  // sheds or shuts down only when the generator cannot help. With fuel in the tank all along,
  // the true SoC never reaches the critical level (half the reserve), and nothing is unserved.
  eachStep(kasi, (t, k) => {
    assert.ok(t.socPct[k]! > 25, `step ${k}: SoC ${t.socPct[k]}`);
    assert.ok(t.fuelL[k]! > 0, `step ${k}: tank empty`);
  });
  assert.equal(kasi.metrics.hoursBelowCritical, 0);
  near(kasi.metrics.unservedKwh, 0, 1e-9, "unserved");
});

Deno.test("the first generation starts below 11.8 V and stops above 13.8 V, nowhere else", () => {
  // Normal mode: legacyDecide reads the voltage of the step before, and the generator is on
  // exactly when it is the source; it has no delay, no minimum run, no exercise.
  assert.deepEqual([LEGACY_TO_DIESEL_V.normal, LEGACY_TO_BATTERY_V], [11.8, 13.8]);
  let starts = 0;
  eachStep(legacy, (t, k) => {
    if (k === 0) return;
    const was = t.genRun[k - 1], now = t.genRun[k];
    assert.equal(now === 1, t.source[k] === 1, `step ${k}: generator on iff it is the source`);
    if (was === 0 && now === 1) {
      starts++;
      assert.ok(t.batteryV[k - 1]! < 11.8, `start at step ${k} after ${t.batteryV[k - 1]} V`);
    }
    if (was === 1 && now === 0) {
      assert.ok(t.batteryV[k - 1]! > 13.8, `stop at step ${k} after ${t.batteryV[k - 1]} V`);
    }
  });
  assert.equal(starts, legacy.metrics.generatorStarts);
});

Deno.test("both policies refuel by the same rule: below 25 % of the 100 L tank", () => {
  // One step burns at most 0.0332 · 5 + 0.2728 · 5 = 1.53 L/h / 12 = 0.128 L.
  for (const run of result.runs) {
    eachStep(run, (t, k) => {
      assert.ok(t.fuelL[k]! >= 25 - 0.128, `${run.policy} step ${k}: ${t.fuelL[k]} L`);
    });
  }
});

Deno.test("runBacktest() scores one prediction per hourly plan, censored at the window's end", () => {
  for (const run of result.runs) {
    assert.equal(run.predictions.plans, 14 * 24);
    // A plan is scored only when the series shows the reserve reached, or a week without it:
    // every plan in the last 168 h that has not seen the reserve is censored, none before.
    for (const r of run.records) {
      const hoursLeft = (result.startMs + 14 * 86_400_000 - r.time.getTime()) / 3_600_000;
      if (r.truthH === null) assert.ok(hoursLeft < 168, `censored with ${hoursLeft} h left`);
      else assert.ok(r.truthH <= Math.min(168, hoursLeft) + 1e-9, `${r.truthH} > ${hoursLeft}`);
    }
  }
  // Kasi's predictions come with a P10–P90 band, the first generation's do not.
  assert.ok(kasi.records.every((r) => r.p10H !== null && r.p10H <= r.p50H && r.p50H <= r.p90H!));
  assert.ok(legacy.records.every((r) => r.p10H === null));
});
