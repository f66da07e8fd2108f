/**
 * Kasi's policy in a backtest: the device and the backend, each with only what it has in the
 * field. Pure.
 *
 * Device (src/device/agent.ts, one tick per step): reads the sensors, estimates SoC with
 * updateSocEstimate from the battery voltage and current (lead-acid has no BMS), decides with
 * decide() under the latest command still valid, drives the outputs, reports telemetry with its
 * estimate as `soc_pct`.
 * Backend (src/backend/site_state.ts and planner.ts): learns each record as site_learning.ts
 * says, and at each whole hour plans with computeAdvice() on the persistence solar forecast
 * (backtest_forecast.ts), sending a command valid as command.ts `commandValidityMs` says (here
 * with a one-hour interval: 3 h).
 */
import { type Advice, commandFromAdvice, computeAdvice } from "./advice.ts";
import { commandValidityMs, type StrategicCommand } from "./command.ts";
import { loadForecaster, newLoadProfile, updateLoadProfile } from "./load_forecast.ts";
import type { LoadProfileState } from "./load_forecast.ts";
import { pvForecastFor } from "./outlook.ts";
import { decide, type FullPolicyMemory, initialPolicyMemory, type PolicyParams } from "./policy.ts";
import type { SimOutputs, SimReadings } from "./simulator.ts";
import type { SiteProfile } from "./site_profile.ts";
import { learnsLoad, socSampleOf } from "./site_learning.ts";
import { readsVoltage, type SocEstimate, updateSocEstimate } from "./soc_estimator.ts";
import type { SolarForecast } from "./solar_forecast.ts";
import type { TelemetryRecord } from "./telemetry.ts";
import type { WeatherClassification } from "./weather.ts";

/** The backtest's command interval: one plan an hour. */
export const BACKTEST_COMMAND_INTERVAL_S = 3600;

export interface KasiState {
  memory: FullPolicyMemory;
  deviceSoc: SocEstimate | null;
  backendSoc: SocEstimate | null;
  loadProfile: LoadProfileState;
  command: StrategicCommand | null;
  seq: number;
  latest: TelemetryRecord | null;
  /** The SoC the device decided on last (its estimate). */
  estimatePct: number;
}

export function newKasiState(o: { start: Date; utcOffsetMin: number }): KasiState {
  return {
    memory: initialPolicyMemory({ source: "battery", genOn: false, shedTier: 0 }, o.start),
    deviceSoc: null,
    backendSoc: null,
    loadProfile: newLoadProfile({ utcOffsetMin: o.utcOffsetMin }),
    command: null,
    seq: 0,
    latest: null,
    estimatePct: NaN,
  };
}

/** One device tick and the backend's learning of its telemetry; returns the next outputs. */
export function kasiObserve(
  s: KasiState,
  readings: SimReadings,
  o: { time: Date; profile: SiteProfile; params: PolicyParams },
): SimOutputs {
  const { time, profile } = o;
  const estimate = updateSocEstimate(s.deviceSoc, {
    time,
    batteryV: readings.batteryV,
    batteryA: readings.batteryA,
    bmsSocPct: readings.socPct,
    tempC: readings.batteryTempC,
  }, { profile });
  s.deviceSoc = estimate;
  s.estimatePct = estimate.socPct;
  const c = s.command;
  const valid = c !== null && c.issuedAt <= time && time < c.validUntil ? c : null;
  const d = decide({
    ...s.memory,
    socPct: estimate.socPct,
    batteryV: readings.batteryV,
    loadW: readings.loadW,
    pvW: readings.pvW,
    fuelPct: readings.fuelPct,
    genRunning: readings.genRunning,
  }, { command: valid, now: time, params: o.params, profile });
  s.memory = d.memory;

  const record: TelemetryRecord = {
    siteId: profile.siteId,
    time,
    protocol: "v1",
    source: d.source,
    batteryV: readings.batteryV,
    batteryA: readings.batteryA,
    socPct: Math.round(Math.min(100, Math.max(0, estimate.socPct)) * 10) / 10,
    batteryTempC: readings.batteryTempC,
    loadW: readings.loadW,
    pvW: readings.pvW,
    genRunning: readings.genRunning,
    genW: readings.genW,
    fuelPct: readings.fuelPct,
    shedTier: d.shedTier,
    seq: null,
    clockRestamped: false,
  };
  s.latest = record;
  s.backendSoc = updateSocEstimate(s.backendSoc, socSampleOf(record), { profile });
  if (learnsLoad(record)) {
    s.loadProfile = updateLoadProfile(s.loadProfile, { time, loadW: record.loadW });
  }
  return {
    source: d.source,
    genRun: d.genOn,
    shedTier: d.shedTier,
    genChargeLimitW: d.chargeLimitW,
  };
}

/** The backend's plan at `time` on `solar` (and its coarse classification): the new command. */
export function kasiPlan(
  s: KasiState,
  o: {
    time: Date;
    profile: SiteProfile;
    solar: SolarForecast;
    weather: WeatherClassification;
    scenarios: number;
  },
): Advice {
  const { time, profile, solar } = o;
  const latest = s.latest!;
  const soc = s.backendSoc!;
  const advice = computeAdvice({
    profile,
    latest,
    now: time,
    soc: {
      socPct: soc.socPct,
      uncertaintyPct: soc.uncertaintyPct,
      fromVoltage: readsVoltage(soc.method),
    },
    load: loadForecaster(s.loadProfile, { fallbackLoadW: latest.loadW }),
    pv: pvForecastFor(solar, profile),
    pvIsFallback: solar.fallback,
    weather: o.weather,
    scenarios: o.scenarios,
  });
  s.seq += 1;
  s.command = commandFromAdvice(advice, {
    siteId: profile.siteId,
    seq: s.seq,
    issuedAt: time,
    validUntil: new Date(time.getTime() + commandValidityMs(BACKTEST_COMMAND_INTERVAL_S)),
  });
  return advice;
}
