/**
 * Strategic advice: from what a site has (profile), what it reports (latest telemetry, recent
 * mean load) and what the sky will do (forecast), the mode and generator thresholds the backend
 * sends it. Pure: the planner passes time, seq and validity in.
 */
import type { Forecast, Mode, StrategicCommand, Strategy } from "./command.ts";
import { type FuelCurve, fuelRateLph, generatorOutputKw } from "./generator.ts";
import type { LoadPoint } from "./load_forecast.ts";
import { adviceReason, type ReasonFacts } from "./advice_reason.ts";
import { type Outlook, siteOutlook } from "./outlook.ts";
import type { Prediction } from "./prediction.ts";
import type { Band, PvForecast } from "./runtime_forecast.ts";
import type { SiteProfile } from "./site_profile.ts";
import type { TelemetryRecord } from "./telemetry.ts";
import type { WeatherClassification } from "./weather.ts";

/**
 * Below this much battery time, be conservative: 6 h is about the longest a generator start
 * can be delayed at an unattended site (a failed auto-start found by the next visit or call-out).
 */
export const CONSERVATIVE_BELOW_BATTERY_H = 6;
/** Eco only when the battery alone lasts half a day… */
export const ECO_MIN_BATTERY_H = 12;
/** …and the tank a full day, so a deeper cycle can never strand the site. */
export const ECO_MIN_DIESEL_H = 24;

/**
 * Generator start/stop SoC per mode. Eco cycles the battery deeper (fewer generator hours, the
 * sun refills it); conservative keeps it fuller (more hours in reserve when the sun will not
 * help). The stop points stay at or below 95 %: a lead-acid bank's last few percent take hours of
 * absorption charge, which a diesel does at its least efficient low load.
 */
export const MODE_THRESHOLDS: Readonly<
  Record<Mode, { genStartSocPct: number; genStopSocPct: number }>
> = {
  eco: { genStartSocPct: 30, genStopSocPct: 85 },
  normal: { genStartSocPct: 40, genStopSocPct: 90 },
  conservative: { genStartSocPct: 50, genStopSocPct: 95 },
};

/** Stop is kept at least this far above start, so the generator never short-cycles. */
export const MIN_START_STOP_GAP_PCT = 5;

/** Publish early when the time PV is expected to carry the load moves by more than this. */
export const PV_COVER_CHANGE_MS = 30 * 60 * 1000;
/** Publish early when a prediction moves by more than this fraction… */
export const PREDICTION_CHANGE_RATIO = 0.1;
/** …and by more than this many hours (10 % of 1 h is noise). */
export const PREDICTION_CHANGE_MIN_H = 0.5;

/** Everything in a strategic command except the envelope (site, seq, validity). */
export interface Advice {
  mode: Mode;
  forecast: Forecast;
  genStartSocPct: number;
  genStopSocPct: number;
  reserveSocPct: number;
  /** Median hours to the reserve without the generator. */
  predictedBatteryH: number;
  /** Median hours until the fuel can no longer run the generator, under the dispatch. */
  predictedDieselH: number;
  /** P10–P90 of `predictedDieselH`; null when the fuel level is not reported. */
  dieselBandH: { p10: number; p90: number } | null;
  strategy: Strategy;
  pvCoversLoadAt: Date | null;
  reason: string;
  prediction: Prediction;
  /** P10–P90 around `predictedBatteryH`. */
  batteryBandH: { p10: number; p90: number };
  /** Earliest expected outage (the forecast's P10); null: none within a week. */
  nextOutageAt: Date | null;
}

/**
 * Advice with the forward forecast it was computed from. The backend keeps only the `Advice`
 * of each site (the forecast's bands and dates are some 900 bytes a site, and 100 000 sites are
 * held); the backtest and the tests read the forecast.
 */
export interface PlannedAdvice extends Advice {
  /** The forward forecast under the advised thresholds, with its P10–P90 bands. */
  outlook: Outlook;
  /** What `reason` was built from. */
  reasonFacts: ReasonFacts;
}

export interface AdviceInput {
  profile: SiteProfile;
  latest: TelemetryRecord;
  now: Date;
  /** The site's SoC and the half-width of its band; `fromVoltage` when no BMS gave it. */
  soc: { socPct: number; uncertaintyPct: number; fromVoltage: boolean };
  load: (time: Date) => LoadPoint;
  /** Null: no solar counted (no PV, or no location to forecast it for). */
  pv: PvForecast | null;
  /** The PV forecast is only the offline fallback (no PV-cover time is sent then). */
  pvIsFallback?: boolean;
  weather: WeatherClassification;
  fuelCurve?: FuelCurve;
  scenarios?: number;
  rngState?: number;
}

/**
 * Exponentially weighted moving average: `prev + alpha · (sample − prev)`, or the sample itself
 * when there is no previous value.
 */
export function ewma(prev: number | null, sample: number, alpha: number): number {
  if (prev === null || !Number.isFinite(prev)) return sample;
  return prev + alpha * (sample - prev);
}

/**
 * The weight of a sample `dtS` seconds after the previous one, for a time constant `tauS`:
 * 1 − e^(−dt/τ). Irregular sampling then weighs each sample by the time it stands for.
 */
export function ewmaAlpha(dtS: number, tauS: number): number {
  if (dtS <= 0) return 0;
  return 1 - Math.exp(-dtS / tauS);
}

/** One string for every site's advice (a template literal would make one per call). */
const LOW_BATTERY_WHY = `the battery may have under ${CONSERVATIVE_BELOW_BATTERY_H} h left`;

/**
 * Conservative on a cloudy forecast or when even the pessimistic case (P10) of the battery is
 * under 6 h; eco only when the sun is expected and the median battery lasts half a day and the
 * median tank a day.
 */
function chooseMode(
  forecast: Forecast,
  batteryH: Band,
  dieselH: Band | null,
): { mode: Mode; why: string } {
  if (forecast === "cloudy") return { mode: "conservative", why: "the next day looks cloudy" };
  if (batteryH.p10 < CONSERVATIVE_BELOW_BATTERY_H) {
    return {
      mode: "conservative",
      why: LOW_BATTERY_WHY,
    };
  }
  if (
    forecast === "clear" && batteryH.p50 >= ECO_MIN_BATTERY_H && dieselH !== null &&
    dieselH.p50 >= ECO_MIN_DIESEL_H
  ) {
    return { mode: "eco", why: "sun is expected and battery and fuel are ample" };
  }
  return { mode: "normal", why: forecast === "unknown" ? "no forecast" : "no reason to change" };
}

/** The mode's thresholds, with start never below the site's reserve and stop above start. */
export function thresholdsFor(
  mode: Mode,
  reserveSocPct: number,
): { genStartSocPct: number; genStopSocPct: number } {
  const base = MODE_THRESHOLDS[mode];
  const genStartSocPct = Math.min(
    Math.max(base.genStartSocPct, reserveSocPct),
    100 - MIN_START_STOP_GAP_PCT,
  );
  const genStopSocPct = Math.min(
    100,
    Math.max(base.genStopSocPct, genStartSocPct + MIN_START_STOP_GAP_PCT),
  );
  return { genStartSocPct, genStopSocPct };
}

/**
 * HOMER's rule of thumb (Barley & Winn, "Optimal dispatch strategy in remote hybrid power
 * systems", Solar Energy 58, 1996): load following wins where renewable energy will recharge the
 * battery, cycle charging where it will not. Load following when the PV expected over the next
 * day carries that day's expected load; otherwise cycle charging, the v1 default.
 */
function chooseStrategy(
  pv: PvForecast | null,
  load: (time: Date) => LoadPoint,
  now: Date,
): Strategy {
  if (!pv) return "cycle-charging";
  let pvWh = 0;
  let loadWh = 0;
  const stepH = 0.25;
  for (let i = 0; i < 24 / stepH; i++) {
    const t = new Date(now.getTime() + i * stepH * 3600_000);
    pvWh += pv.powerW(t) * stepH;
    loadWh += load(t).meanW * stepH;
  }
  return pvWh >= loadWh ? "load-following" : "cycle-charging";
}

export function computeAdvice(input: AdviceInput): PlannedAdvice {
  const { profile, latest, weather, now, soc } = input;
  const outlookFor = (thresholds: { genStartSocPct: number; genStopSocPct: number }) =>
    siteOutlook({
      profile,
      now,
      socPct: soc.socPct,
      socUncertaintyPct: soc.uncertaintyPct,
      fuelPct: latest.fuelPct,
      load: input.load,
      pv: input.pv,
      pvIsFallback: input.pvIsFallback,
      thresholds,
      fuelCurve: input.fuelCurve,
      scenarios: input.scenarios,
      rngState: input.rngState,
    });
  // Battery hours do not depend on the thresholds; the tank's do. The same PRNG state gives both
  // runs the same scenarios, so a second run under the chosen mode differs only by its dispatch.
  const normal = thresholdsFor("normal", profile.reserveSocPct);
  let outlook = outlookFor(normal);
  const { mode, why } = chooseMode(
    weather.forecast,
    outlook.forecast.batteryH,
    latest.fuelPct === null ? null : outlook.forecast.tankH,
  );
  const thresholds = thresholdsFor(mode, profile.reserveSocPct);
  if (mode !== "normal") outlook = outlookFor(thresholds);
  const f = outlook.forecast;
  const solarCounted = input.pv !== null && profile.pvKwp > 0;
  const strategy = chooseStrategy(solarCounted ? input.pv : null, input.load, now);
  const tank = latest.fuelPct === null ? null : f.tankH;
  const dieselH = tank === null ? 0 : tank.p50;
  const reasonFacts: ReasonFacts = {
    mode,
    why,
    socPct: soc.socPct,
    socUncertaintyPct: soc.uncertaintyPct,
    socFromVoltage: soc.fromVoltage,
    reserveSocPct: profile.reserveSocPct,
    capacityWh: profile.capacityWh,
    batteryP10H: f.batteryH.p10,
    batteryP50H: f.batteryH.p50,
    meanLoadW: f.meanLoadW,
    meanPvW: f.meanPvW,
    solarCounted,
    generatorRatedKw: profile.generatorRatedKw,
    tank: profile.generatorRatedKw > 0 && tank !== null ? { p10H: tank.p10, p50H: tank.p50 } : null,
    outageAt: f.outageAt.p10,
    weatherReason: weather.reason,
    ...thresholds,
    strategy,
  };
  return {
    mode,
    forecast: weather.forecast,
    ...thresholds,
    reserveSocPct: profile.reserveSocPct,
    predictedBatteryH: f.batteryH.p50,
    predictedDieselH: dieselH,
    dieselBandH: tank === null ? null : { p10: tank.p10, p90: tank.p90 },
    strategy,
    pvCoversLoadAt: outlook.pvCoversLoadAt,
    reason: adviceReason(reasonFacts),
    prediction: {
      socPct: soc.socPct,
      socFromVoltage: soc.fromVoltage,
      batteryH: f.batteryH.p50,
      dieselH,
      fuelRateLph: fuelRateLph(
        profile.generatorRatedKw,
        generatorOutputKw(profile.generatorRatedKw, f.meanLoadW / 1000),
        { curve: input.fuelCurve },
      ),
    },
    batteryBandH: { p10: f.batteryH.p10, p90: f.batteryH.p90 },
    nextOutageAt: f.outageAt.p10,
    outlook,
    reasonFacts,
  };
}

function movedMuch(prev: number, next: number): boolean {
  const delta = Math.abs(next - prev);
  return delta > PREDICTION_CHANGE_MIN_H && delta > PREDICTION_CHANGE_RATIO * Math.abs(prev);
}

/** The PV-cover time appeared, vanished, or moved by more than half an hour. */
function pvCoverMoved(prev: Date | null, next: Date | null): boolean {
  if (prev === null || next === null) return prev !== next;
  return Math.abs(prev.getTime() - next.getTime()) > PV_COVER_CHANGE_MS;
}

/**
 * Whether `next` differs enough from the last advice sent to publish before the interval is up:
 * a new mode, forecast, threshold or strategy, a PV-cover time that came, went or moved by more
 * than half an hour, or a prediction that moved by more than 10 % and 0.5 h.
 */
export function adviceChanged(prev: Advice | null, next: Advice): boolean {
  if (prev === null) return true;
  return prev.mode !== next.mode ||
    prev.forecast !== next.forecast ||
    prev.genStartSocPct !== next.genStartSocPct ||
    prev.genStopSocPct !== next.genStopSocPct ||
    prev.reserveSocPct !== next.reserveSocPct ||
    prev.strategy !== next.strategy ||
    pvCoverMoved(prev.pvCoversLoadAt, next.pvCoversLoadAt) ||
    movedMuch(prev.predictedBatteryH, next.predictedBatteryH) ||
    movedMuch(prev.predictedDieselH, next.predictedDieselH);
}

/** Wraps advice in the command envelope. */
export function commandFromAdvice(
  advice: Advice,
  envelope: { siteId: string; seq: number; issuedAt: Date; validUntil: Date },
): StrategicCommand {
  return {
    siteId: envelope.siteId,
    seq: envelope.seq,
    issuedAt: envelope.issuedAt,
    validUntil: envelope.validUntil,
    mode: advice.mode,
    genStartSocPct: advice.genStartSocPct,
    genStopSocPct: advice.genStopSocPct,
    reserveSocPct: advice.reserveSocPct,
    forecast: advice.forecast,
    predictedBatteryH: advice.predictedBatteryH,
    predictedDieselH: advice.predictedDieselH,
    reason: advice.reason,
    strategy: advice.strategy,
    pvCoversLoadAt: advice.pvCoversLoadAt,
    batteryBandH: advice.batteryBandH,
    ...(advice.dieselBandH ? { dieselBandH: advice.dieselBandH } : {}),
    nextOutageAt: advice.nextOutageAt,
  };
}
