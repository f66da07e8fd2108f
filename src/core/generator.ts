/**
 * Diesel generator fuel use: the linear fuel curve F = F0·P_rated + F1·P_out (L/h), as used by
 * HOMER. The defaults reproduce the published worked example of a 50 kW generator that burns
 * 8.48 L/h at 25 kW and 15.3 L/h at 50 kW: F1 = (15.3 − 8.48) / 25 = 0.2728 L/h per kW out,
 * F0 = (8.48 − 0.2728·25) / 50 = 0.0332 L/h per kW rated.
 */
import { KasiError } from "./errors.ts";

export const FUEL_CURVE_F0_L_PER_KWH_RATED = 0.0332;
export const FUEL_CURVE_F1_L_PER_KWH_OUT = 0.2728;
/** Below about 30 % load a diesel wet-stacks; controllers hold at least this much load. */
export const MIN_LOAD_RATIO = 0.3;

/**
 * One site's fuel curve: F0 in L/h per kW of rating (the no-load burn), F1 in L/h per kW of
 * output (the marginal burn). Both are L/kWh.
 */
export interface FuelCurve {
  f0LPerKwhRated: number;
  f1LPerKwhOut: number;
}

/** The curve of the 50 kW worked example; a site's learned curve replaces it (fuel_learning.ts). */
export const DEFAULT_FUEL_CURVE: Readonly<FuelCurve> = {
  f0LPerKwhRated: FUEL_CURVE_F0_L_PER_KWH_RATED,
  f1LPerKwhOut: FUEL_CURVE_F1_L_PER_KWH_OUT,
};

function finite(field: string, value: number): void {
  if (!Number.isFinite(value)) {
    throw new KasiError("INPUT_INVALID", `${field} must be a finite number, got ${value}`);
  }
}

/** Throws unless the curve's coefficients are finite and non-negative. */
export function checkFuelCurve(curve: FuelCurve): void {
  for (const [field, value] of Object.entries(curve)) {
    finite(`fuel curve ${field}`, value);
    if (value < 0) {
      throw new KasiError("INPUT_INVALID", `fuel curve ${field} must be ≥ 0, got ${value}`);
    }
  }
}

/** Fuel burn in L/h for an output power (kW) on a generator of `ratedKw`. */
export function fuelRateLph(
  ratedKw: number,
  outputKw: number,
  options: { curve?: FuelCurve } = {},
): number {
  if (ratedKw <= 0) return 0;
  const curve = options.curve ?? DEFAULT_FUEL_CURVE;
  const out = Math.min(Math.max(outputKw, 0), ratedKw);
  return curve.f0LPerKwhRated * ratedKw + curve.f1LPerKwhOut * out;
}

/**
 * Specific fuel consumption (L/kWh) at an output: F / P_out = F0 / (P_out / P_rated) + F1, so
 * it depends only on the load fraction and climbs steeply at low load, where the no-load burn
 * is shared by few kWh. Infinite at zero output.
 */
export function specificFuelLPerKwh(
  ratedKw: number,
  outputKw: number,
  options: { curve?: FuelCurve } = {},
): number {
  finite("ratedKw", ratedKw);
  finite("outputKw", outputKw);
  if (ratedKw <= 0) throw new KasiError("INPUT_INVALID", `ratedKw must be > 0, got ${ratedKw}`);
  const out = Math.min(Math.max(outputKw, 0), ratedKw);
  return out === 0 ? Infinity : fuelRateLph(ratedKw, out, options) / out;
}

/**
 * The output a generator actually delivers for a demand: at least its minimum load (default
 * 30 % of the rating), at most rated.
 */
export function generatorOutputKw(
  ratedKw: number,
  demandKw: number,
  options: { minLoadRatio?: number } = {},
): number {
  const ratio = options.minLoadRatio ?? MIN_LOAD_RATIO;
  if (!(ratio >= 0 && ratio <= 1)) {
    throw new KasiError("INPUT_INVALID", `minLoadRatio must be within 0..1, got ${ratio}`);
  }
  return Math.min(ratedKw, Math.max(demandKw, ratio * ratedKw));
}

function checkTank(tankL: number): void {
  finite("tankL", tankL);
  if (tankL <= 0) throw new KasiError("INPUT_INVALID", `tankL must be > 0, got ${tankL}`);
}

/** Litres in a tank of `tankL` at a gauge reading of `fuelPct` (0..100). */
export function fuelLitresFromPct(fuelPct: number, tankL: number): number {
  finite("fuelPct", fuelPct);
  checkTank(tankL);
  if (fuelPct < 0 || fuelPct > 100) {
    throw new KasiError("INPUT_INVALID", `fuelPct must be within 0..100, got ${fuelPct}`);
  }
  return fuelPct / 100 * tankL;
}

/** Gauge reading (0..100 %) of `fuelL` litres in a tank of `tankL`. */
export function fuelPctFromLitres(fuelL: number, tankL: number): number {
  finite("fuelL", fuelL);
  checkTank(tankL);
  if (fuelL < 0 || fuelL > tankL) {
    throw new KasiError("INPUT_INVALID", `fuelL must be within 0..${tankL} L, got ${fuelL}`);
  }
  return fuelL / tankL * 100;
}
