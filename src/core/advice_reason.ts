/**
 * The reason text of a strategic command: why this mode, what the battery holds and how long it
 * lasts, the fuel, the next outage, the weather and the thresholds. Built from a few numbers
 * (`ReasonFacts`), so the backend can hold those instead of the text for each of its sites
 * (about 350 bytes a site) and build the text when a command goes out.
 */
import type { Mode, Strategy } from "./command.ts";
import { MAX_PREDICTION_H } from "./prediction.ts";

/** The StrategicCommand's limit on `reason` (command.ts). */
export const MAX_REASON_CHARS = 500;

export interface ReasonFacts {
  mode: Mode;
  /** Why the mode, e.g. "the next day looks cloudy". */
  why: string;
  socPct: number;
  socUncertaintyPct: number;
  socFromVoltage: boolean;
  reserveSocPct: number;
  capacityWh: number;
  batteryP10H: number;
  batteryP50H: number;
  meanLoadW: number;
  meanPvW: number;
  solarCounted: boolean;
  generatorRatedKw: number;
  /** Null when the fuel level is not reported. */
  tank: { p10H: number; p50H: number } | null;
  /** The earliest expected outage (P10); null: none within a week. */
  outageAt: Date | null;
  weatherReason: string;
  genStartSocPct: number;
  genStopSocPct: number;
  strategy: Strategy;
}

/** Hours for a person: a prediction at the cap means "longer than we can say". */
function hours(h: number): string {
  if (h >= MAX_PREDICTION_H) return "more than a week";
  return h >= 48 ? `${(h / 24).toFixed(1)} days` : `${h.toFixed(1)} h`;
}

/** "5.2 h (P10 4.0 h)" when the pessimistic case differs by a tenth of an hour or more. */
function hoursBand(p10H: number, p50H: number): string {
  const p50 = hours(p50H);
  return p50H - p10H >= 0.1 && p50H < MAX_PREDICTION_H ? `${p50} (P10 ${hours(p10H)})` : p50;
}

/** The battery sentence: what it holds above its reserve, and how long that lasts. */
function batteryText(f: ReasonFacts): string {
  const spread = f.socUncertaintyPct >= 1 ? ` ± ${Math.round(f.socUncertaintyPct)}` : "";
  const socText = `${Math.round(f.socPct)}${spread} %${f.socFromVoltage ? " from voltage" : ""}`;
  const reserve = `${f.reserveSocPct} % reserve`;
  const usableWh = Math.max(0, f.socPct - f.reserveSocPct) / 100 * f.capacityWh;
  if (usableWh === 0) return `Battery at ${socText} is at or below the ${reserve}`;
  const battery = `Battery at ${socText} (${Math.round(usableWh)} Wh above the ${reserve})`;
  const solar = f.solarCounted
    ? `mean load ${Math.round(f.meanLoadW)} W, solar ${Math.round(f.meanPvW)} W`
    : `mean load ${Math.round(f.meanLoadW)} W, no solar counted`;
  return `${battery} lasts ${hoursBand(f.batteryP10H, f.batteryP50H)} (${solar})`;
}

function fuelText(f: ReasonFacts): string {
  if (f.generatorRatedKw <= 0) return "no generator";
  if (f.tank === null) return "fuel level not reported";
  return `fuel lasts ${hoursBand(f.tank.p10H, f.tank.p50H)} on this plan`;
}

function outageText(at: Date | null): string {
  return at === null
    ? "no outage expected within a week"
    : `outage possible from ${at.toISOString().slice(0, 16)}Z`;
}

/** The reason text, at most MAX_REASON_CHARS, NFC. */
export function adviceReason(f: ReasonFacts): string {
  const head = `${f.mode[0]!.toUpperCase()}${f.mode.slice(1)}: ${f.why}. ${batteryText(f)}; ` +
    `${fuelText(f)}; ${outageText(f.outageAt)}. Weather: `;
  const tail = `. Start the generator at ${f.genStartSocPct} %, ` +
    `stop at ${f.genStopSocPct} %, ${f.strategy}.`;
  // The weather reason (which may quote an API error) gives way, so the thresholds always fit.
  const room = MAX_REASON_CHARS - head.length - tail.length;
  const weather = f.weatherReason.length <= room
    ? f.weatherReason
    : `${f.weatherReason.slice(0, Math.max(0, room - 1))}…`;
  // NFC, as the weather part is an API's text. normalize() also returns one flat string where
  // the concatenations make a V8 rope of a dozen pieces (760 bytes more, held per site).
  return (head + weather + tail).slice(0, MAX_REASON_CHARS).normalize("NFC");
}
