/**
 * The first generation's dispatch, exactly as the foundation issue states it, so the backtest
 * can run it side by side with Kasi's policy: a 12 V / 5000 Wh site switches to diesel when the
 * battery voltage falls below 11.5 / 11.8 / 12.1 V in Eco / Normal / Conservative mode, goes back
 * to the battery above 13.8 V, and shuts down when both predictions are under 1 h and the
 * forecast is Cloudy. Between the two voltages it keeps its source (that gap is its only
 * hysteresis); it has no delays, no minimum run and no fuel reserve — faithfully.
 *
 * The first generation ran only 12 V banks; `nominalV` scales the voltages by the cell count
 * (24 V = 2 × 12 V) so the backtest can try it on other sizes. Pure.
 */
import type { Forecast, Mode } from "./command.ts";
import type { Source } from "./telemetry.ts";

/** Switch to diesel below these (12 V bank). */
export const LEGACY_TO_DIESEL_V: Readonly<Record<Mode, number>> = {
  eco: 11.5,
  normal: 11.8,
  conservative: 12.1,
};
/** Back to the battery above this (12 V bank): lead-acid float voltage. */
export const LEGACY_TO_BATTERY_V = 13.8;
/** Shut down when both predictions are under this and the forecast is cloudy. */
export const LEGACY_SHUTDOWN_BELOW_H = 1;

export interface LegacyInput {
  batteryV: number;
  /** The source before this decision. */
  source: Source;
  mode: Mode;
  forecast: Forecast;
  predictedBatteryH: number;
  predictedDieselH: number;
}

export interface LegacyDecision {
  source: Source;
  /** The first generation runs the generator exactly when it is the source. */
  genOn: boolean;
  reason: string;
}

export function legacyDecide(
  input: LegacyInput,
  options: { nominalV?: 12 | 24 | 48 } = {},
): LegacyDecision {
  const scale = (options.nominalV ?? 12) / 12;
  const toDieselV = LEGACY_TO_DIESEL_V[input.mode] * scale;
  const toBatteryV = LEGACY_TO_BATTERY_V * scale;
  const v = input.batteryV;
  const h = LEGACY_SHUTDOWN_BELOW_H;
  if (input.predictedBatteryH < h && input.predictedDieselH < h && input.forecast === "cloudy") {
    return {
      source: "off",
      genOn: false,
      reason: `battery ${input.predictedBatteryH} h and diesel ${input.predictedDieselH} h both ` +
        `< ${h} h with a cloudy forecast: shut down`,
    };
  }
  if (input.source === "generator") {
    return v > toBatteryV
      ? { source: "battery", genOn: false, reason: `${v} V > ${toBatteryV} V: back to battery` }
      : { source: "generator", genOn: true, reason: `${v} V ≤ ${toBatteryV} V: stay on diesel` };
  }
  return v < toDieselV
    ? {
      source: "generator",
      genOn: true,
      reason: `${v} V < ${toDieselV} V (${input.mode}): switch to diesel`,
    }
    : { source: "battery", genOn: false, reason: `${v} V ≥ ${toDieselV} V: stay on battery` };
}
