/**
 * Strategic advice: from what a site has (profile), what it reports (latest telemetry, recent
 * mean load) and what the sky will do (forecast), the mode and generator thresholds the backend
 * sends it. Pure: the planner passes time, seq and validity in.
 */
import type { Forecast, Mode, StrategicCommand } from "./command.ts";
import { MAX_PREDICTION_H, type Prediction, predictRuntime } from "./prediction.ts";
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
  predictedBatteryH: number;
  predictedDieselH: number;
  reason: string;
  prediction: Prediction;
}

export interface AdviceInput {
  profile: SiteProfile;
  latest: TelemetryRecord;
  /** Recent mean load (EWMA); the latest sample's load when null. */
  meanLoadW: number | null;
  weather: WeatherClassification;
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

function chooseMode(
  forecast: Forecast,
  batteryH: number,
  dieselH: number,
): { mode: Mode; why: string } {
  if (forecast === "cloudy") return { mode: "conservative", why: "the next day looks cloudy" };
  if (batteryH < CONSERVATIVE_BELOW_BATTERY_H) {
    return {
      mode: "conservative",
      why: `the battery has under ${CONSERVATIVE_BELOW_BATTERY_H} h left`,
    };
  }
  if (forecast === "clear" && batteryH >= ECO_MIN_BATTERY_H && dieselH >= ECO_MIN_DIESEL_H) {
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

/** The StrategicCommand's limit on `reason` (command.ts). */
export const MAX_REASON_CHARS = 500;

/** Hours for a person: a prediction at the cap means "longer than we can say". */
function hours(h: number): string {
  return h >= MAX_PREDICTION_H ? "more than a week" : `${h.toFixed(1)} h`;
}

/**
 * The battery sentence, net of solar: what the battery holds above its reserve, and either how
 * long that lasts at the net draw or that the sun carries the load for now.
 */
function batteryText(
  profile: SiteProfile,
  prediction: Prediction,
  loadW: number,
  pvW: number | null,
): string {
  const socText = `${Math.round(prediction.socPct)} %`;
  const reserve = `${profile.reserveSocPct} % reserve`;
  const usableWh = Math.max(0, prediction.socPct - profile.reserveSocPct) / 100 *
    profile.capacityWh;
  const fromVoltage = prediction.socFromVoltage ? "from voltage, " : "";
  if (usableWh === 0) {
    return `Battery at ${socText}${
      prediction.socFromVoltage ? " (from voltage)" : ""
    } is at or below the ${reserve}`;
  }
  const battery = `Battery at ${socText} (${fromVoltage}${
    Math.round(usableWh)
  } Wh above the ${reserve})`;
  const load = Math.round(loadW);
  const solar = Math.round(pvW ?? 0);
  if (solar <= 0) return `${battery} lasts ${hours(prediction.batteryH)} at ${load} W`;
  if (loadW - (pvW ?? 0) <= 0) return `${battery}: solar ${solar} W covers the ${load} W load`;
  return `${battery} lasts ${hours(prediction.batteryH)} at a net ${
    Math.round(loadW - (pvW ?? 0))
  } W (load ${load} W − solar ${solar} W)`;
}

export function computeAdvice(input: AdviceInput): Advice {
  const { profile, latest, weather } = input;
  const loadW = input.meanLoadW ?? latest.loadW;
  const prediction = predictRuntime(profile, {
    socPct: latest.socPct,
    batteryV: latest.batteryV,
    loadW,
    pvW: latest.pvW,
    fuelPct: latest.fuelPct,
  });
  const { mode, why } = chooseMode(weather.forecast, prediction.batteryH, prediction.dieselH);
  const thresholds = thresholdsFor(mode, profile.reserveSocPct);
  const fuel = latest.fuelPct === null
    ? "fuel level not reported"
    : `fuel lasts ${hours(prediction.dieselH)}`;
  const head = `${mode[0]!.toUpperCase()}${mode.slice(1)}: ${why}. ` +
    `${batteryText(profile, prediction, loadW, latest.pvW)}; ${fuel}. Weather: `;
  const tail = `. Start the generator at ${thresholds.genStartSocPct} %, ` +
    `stop at ${thresholds.genStopSocPct} %.`;
  // The weather reason (which may quote an API error) gives way, so the thresholds always fit.
  const room = MAX_REASON_CHARS - head.length - tail.length;
  const weatherText = weather.reason.length <= room
    ? weather.reason
    : `${weather.reason.slice(0, Math.max(0, room - 1))}…`;
  const reason = head + weatherText + tail;
  return {
    mode,
    forecast: weather.forecast,
    ...thresholds,
    reserveSocPct: profile.reserveSocPct,
    predictedBatteryH: prediction.batteryH,
    predictedDieselH: prediction.dieselH,
    // NFC, as the weather part is an API's text. normalize() also returns one flat string
    // where the concatenations above make a V8 rope of a dozen pieces: the backend holds an
    // advice per site, and the rope cost 760 bytes more per site (bench:fleet, memory).
    reason: reason.slice(0, MAX_REASON_CHARS).normalize("NFC"),
    prediction,
  };
}

function movedMuch(prev: number, next: number): boolean {
  const delta = Math.abs(next - prev);
  return delta > PREDICTION_CHANGE_MIN_H && delta > PREDICTION_CHANGE_RATIO * Math.abs(prev);
}

/**
 * Whether `next` differs enough from the last advice sent to publish before the interval is up:
 * a new mode, forecast or threshold, or a prediction that moved by more than 10 % and 0.5 h.
 */
export function adviceChanged(prev: Advice | null, next: Advice): boolean {
  if (prev === null) return true;
  return prev.mode !== next.mode ||
    prev.forecast !== next.forecast ||
    prev.genStartSocPct !== next.genStartSocPct ||
    prev.genStopSocPct !== next.genStopSocPct ||
    prev.reserveSocPct !== next.reserveSocPct ||
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
  };
}
