/**
 * Advice as the backend holds it for each of its sites (src/backend/site_state.ts), a hundred
 * thousand at once: what `computeAdvice` returns without the forward forecast, and without the
 * reason text, which is built again from a few numbers when it is read (a command going out).
 */
import type { Forecast, Mode, Strategy } from "./command.ts";
import type { Advice, PlannedAdvice } from "./advice.ts";
import { adviceReason } from "./advice_reason.ts";
import type { Prediction } from "./prediction.ts";

/**
 * The advice as the backend holds it, for each of its sites: without the forward forecast, and
 * without the reason text, which is built again from a few numbers when read (a command going
 * out): the forecast's bands and dates were some 900 bytes a site and the text 350. Fields
 * are spelled out (not a rest spread, which leaves V8 a separate property array).
 */
class HeldAdvice implements Advice {
  readonly mode: Mode;
  readonly forecast: Forecast;
  readonly genStartSocPct: number;
  readonly genStopSocPct: number;
  readonly reserveSocPct: number;
  readonly predictedBatteryH: number;
  readonly predictedDieselH: number;
  readonly dieselBandH: { p10: number; p90: number } | null;
  readonly strategy: Strategy;
  readonly pvCoversLoadAt: Date | null;
  readonly prediction: Prediction;
  readonly batteryBandH: { p10: number; p90: number };
  readonly nextOutageAt: Date | null;
  /** The facts of the reason not among the fields above. */
  readonly #why: string;
  readonly #socUncertaintyPct: number;
  readonly #capacityWh: number;
  readonly #meanLoadW: number;
  readonly #meanPvW: number;
  readonly #solarCounted: boolean;
  readonly #generatorRatedKw: number;
  readonly #tankP50H: number | null;
  readonly #weatherReason: string;

  constructor(a: PlannedAdvice) {
    const f = a.reasonFacts;
    this.mode = a.mode;
    this.forecast = a.forecast;
    this.genStartSocPct = a.genStartSocPct;
    this.genStopSocPct = a.genStopSocPct;
    this.reserveSocPct = a.reserveSocPct;
    this.predictedBatteryH = a.predictedBatteryH;
    this.predictedDieselH = a.predictedDieselH;
    this.dieselBandH = a.dieselBandH;
    this.strategy = a.strategy;
    this.pvCoversLoadAt = a.pvCoversLoadAt;
    this.prediction = a.prediction;
    this.batteryBandH = a.batteryBandH;
    this.nextOutageAt = a.nextOutageAt;
    this.#why = f.why;
    this.#socUncertaintyPct = f.socUncertaintyPct;
    this.#capacityWh = f.capacityWh;
    this.#meanLoadW = f.meanLoadW;
    this.#meanPvW = f.meanPvW;
    this.#solarCounted = f.solarCounted;
    this.#generatorRatedKw = f.generatorRatedKw;
    this.#tankP50H = f.tank?.p50H ?? null;
    this.#weatherReason = f.weatherReason;
  }

  get reason(): string {
    const tankP10H = this.dieselBandH?.p10;
    return adviceReason({
      mode: this.mode,
      why: this.#why,
      socPct: this.prediction.socPct,
      socUncertaintyPct: this.#socUncertaintyPct,
      socFromVoltage: this.prediction.socFromVoltage,
      reserveSocPct: this.reserveSocPct,
      capacityWh: this.#capacityWh,
      batteryP10H: this.batteryBandH.p10,
      batteryP50H: this.predictedBatteryH,
      meanLoadW: this.#meanLoadW,
      meanPvW: this.#meanPvW,
      solarCounted: this.#solarCounted,
      generatorRatedKw: this.#generatorRatedKw,
      tank: this.#tankP50H === null || tankP10H === undefined
        ? null
        : { p10H: tankP10H, p50H: this.#tankP50H },
      outageAt: this.nextOutageAt,
      weatherReason: this.#weatherReason,
      genStartSocPct: this.genStartSocPct,
      genStopSocPct: this.genStopSocPct,
      strategy: this.strategy,
    });
  }
}

/** The advice without its forward forecast and reason text, as the backend holds it. */
export function heldAdvice(planned: PlannedAdvice): Advice {
  return new HeldAdvice(planned);
}
