/**
 * Runtime prediction, the simple model: hours until the battery reaches its reserve at the
 * present net load, and hours until the tank is empty with the generator carrying the load.
 */
import { socFromOcv } from "./battery.ts";
import { fuelRateLph, generatorOutputKw } from "./generator.ts";
import type { SiteProfile } from "./site_profile.ts";

/** Predictions are capped here: beyond a week the present load says nothing useful. */
export const MAX_PREDICTION_H = 168;

export interface PredictionInput {
  /** Reported SoC; when null it is read from `batteryV` through the chemistry's OCV table. */
  socPct: number | null;
  batteryV: number;
  /** Recent mean load. */
  loadW: number;
  /** Recent mean PV power; null or 0 without PV. */
  pvW: number | null;
  fuelPct: number | null;
}

export interface Prediction {
  socPct: number;
  socFromVoltage: boolean;
  batteryH: number;
  dieselH: number;
  /** Generator burn rate at this load (L/h). */
  fuelRateLph: number;
}

export function predictRuntime(
  profile: SiteProfile,
  input: PredictionInput,
): Prediction {
  const socFromVoltage = input.socPct === null;
  const socPct = input.socPct ??
    socFromOcv(profile.chemistry, profile.nominalV, input.batteryV);
  const usableWh = Math.max(0, socPct - profile.reserveSocPct) / 100 *
    profile.capacityWh;
  const netW = input.loadW - (input.pvW ?? 0);
  const batteryH = usableWh === 0
    ? 0
    : netW <= 0
    ? MAX_PREDICTION_H
    : Math.min(MAX_PREDICTION_H, usableWh / netW);

  const rate = fuelRateLph(
    profile.generatorRatedKw,
    generatorOutputKw(profile.generatorRatedKw, input.loadW / 1000),
  );
  const fuelL = (input.fuelPct ?? 0) / 100 * profile.tankL;
  const dieselH = rate <= 0 || fuelL <= 0 ? 0 : Math.min(MAX_PREDICTION_H, fuelL / rate);
  return { socPct, socFromVoltage, batteryH, dieselH, fuelRateLph: rate };
}
