/**
 * Advice as the backend holds it for each of its sites (src/backend/site_state.ts), a hundred
 * thousand at once: what `computeAdvice` returns without the forward forecast, and without the
 * reason text, which is built again from a few numbers when it is read (a command going out).
 */
import type { Forecast, Mode, Strategy } from "./command.ts";
import type { Advice, PlannedAdvice } from "./advice.ts";
import { adviceReason } from "./advice_reason.ts";
import type { Prediction } from "./prediction.ts";
import { dateOrNull, orNaN, orNull } from "./held_numbers.ts";

/** Where each number sits in HeldAdvice's array; NaN stands for null. */
const GEN_START = 0;
const GEN_STOP = 1;
const RESERVE = 2;
const BATTERY_H = 3;
const DIESEL_H = 4;
const DIESEL_P10 = 5;
const DIESEL_P90 = 6;
const PV_COVERS_MS = 7;
const BATTERY_P10 = 8;
const BATTERY_P90 = 9;
const OUTAGE_MS = 10;
/** The prediction's battery and diesel hours are `predictedBatteryH` and `predictedDieselH`. */
const PRED_SOC = 11;
const PRED_FROM_VOLTAGE = 12;
const PRED_FUEL_LPH = 13;
const SOC_UNCERTAINTY = 14;
const CAPACITY_WH = 15;
const MEAN_LOAD_W = 16;
const MEAN_PV_W = 17;
const SOLAR_COUNTED = 18;
const GENERATOR_KW = 19;
const TANK_P50_H = 20;

/**
 * The advice as the backend holds it, for each of its sites: without the forward forecast, and
 * without the reason text, which is built again from a few numbers when read (a command going
 * out): the forecast's bands and dates were some 900 bytes a site and the text 350. Its numbers
 * sit in one array of doubles, which V8 keeps unboxed; as fields, each number, date and band
 * was an object of its own (some 700 bytes a site, where this holds about 300). The bands,
 * dates and prediction are built when read.
 */
class HeldAdvice implements Advice {
  readonly mode: Mode;
  readonly forecast: Forecast;
  readonly strategy: Strategy;
  readonly #n: readonly number[];
  /** The facts of the reason not among the numbers. */
  readonly #why: string;
  readonly #weatherReason: string;

  constructor(a: PlannedAdvice) {
    const f = a.reasonFacts;
    const p = a.prediction;
    this.mode = a.mode;
    this.forecast = a.forecast;
    this.strategy = a.strategy;
    this.#why = f.why;
    this.#weatherReason = f.weatherReason;
    this.#n = [
      a.genStartSocPct,
      a.genStopSocPct,
      a.reserveSocPct,
      a.predictedBatteryH,
      a.predictedDieselH,
      orNaN(a.dieselBandH?.p10),
      orNaN(a.dieselBandH?.p90),
      orNaN(a.pvCoversLoadAt?.getTime()),
      a.batteryBandH.p10,
      a.batteryBandH.p90,
      orNaN(a.nextOutageAt?.getTime()),
      p.socPct,
      p.socFromVoltage ? 1 : 0,
      p.fuelRateLph,
      f.socUncertaintyPct,
      f.capacityWh,
      f.meanLoadW,
      f.meanPvW,
      f.solarCounted ? 1 : 0,
      f.generatorRatedKw,
      orNaN(f.tank?.p50H),
    ];
  }

  get genStartSocPct(): number {
    return this.#n[GEN_START]!;
  }
  get genStopSocPct(): number {
    return this.#n[GEN_STOP]!;
  }
  get reserveSocPct(): number {
    return this.#n[RESERVE]!;
  }
  get predictedBatteryH(): number {
    return this.#n[BATTERY_H]!;
  }
  get predictedDieselH(): number {
    return this.#n[DIESEL_H]!;
  }
  get dieselBandH(): { p10: number; p90: number } | null {
    const p10 = this.#n[DIESEL_P10]!;
    return Number.isNaN(p10) ? null : { p10, p90: this.#n[DIESEL_P90]! };
  }
  get pvCoversLoadAt(): Date | null {
    return dateOrNull(this.#n[PV_COVERS_MS]!);
  }
  get prediction(): Prediction {
    const n = this.#n;
    return {
      socPct: n[PRED_SOC]!,
      socFromVoltage: n[PRED_FROM_VOLTAGE] === 1,
      batteryH: n[BATTERY_H]!,
      dieselH: n[DIESEL_H]!,
      fuelRateLph: n[PRED_FUEL_LPH]!,
    };
  }
  get batteryBandH(): { p10: number; p90: number } {
    return { p10: this.#n[BATTERY_P10]!, p90: this.#n[BATTERY_P90]! };
  }
  get nextOutageAt(): Date | null {
    return dateOrNull(this.#n[OUTAGE_MS]!);
  }

  get reason(): string {
    const n = this.#n;
    const tankP50H = orNull(n[TANK_P50_H]!);
    const tankP10H = orNull(n[DIESEL_P10]!);
    return adviceReason({
      mode: this.mode,
      why: this.#why,
      socPct: n[PRED_SOC]!,
      socUncertaintyPct: n[SOC_UNCERTAINTY]!,
      socFromVoltage: n[PRED_FROM_VOLTAGE] === 1,
      reserveSocPct: n[RESERVE]!,
      capacityWh: n[CAPACITY_WH]!,
      batteryP10H: n[BATTERY_P10]!,
      batteryP50H: n[BATTERY_H]!,
      meanLoadW: n[MEAN_LOAD_W]!,
      meanPvW: n[MEAN_PV_W]!,
      solarCounted: n[SOLAR_COUNTED] === 1,
      generatorRatedKw: n[GENERATOR_KW]!,
      tank: tankP50H === null || tankP10H === null ? null : { p10H: tankP10H, p50H: tankP50H },
      outageAt: this.nextOutageAt,
      weatherReason: this.#weatherReason,
      genStartSocPct: n[GEN_START]!,
      genStopSocPct: n[GEN_STOP]!,
      strategy: this.strategy,
    });
  }
}

/** The advice without its forward forecast and reason text, as the backend holds it. */
export function heldAdvice(planned: PlannedAdvice): Advice {
  return new HeldAdvice(planned);
}
