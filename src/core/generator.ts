/**
 * Diesel generator fuel use: the linear fuel curve F = F0·P_rated + F1·P_out (L/h), as used by
 * HOMER. The defaults reproduce the published worked example of a 50 kW generator that burns
 * 8.48 L/h at 25 kW and 15.3 L/h at 50 kW: F1 = (15.3 − 8.48) / 25 = 0.2728 L/h per kW out,
 * F0 = (8.48 − 0.2728·25) / 50 = 0.0332 L/h per kW rated.
 */
export const FUEL_CURVE_F0_L_PER_KWH_RATED = 0.0332;
export const FUEL_CURVE_F1_L_PER_KWH_OUT = 0.2728;
/** Below about 30 % load a diesel wet-stacks; controllers hold at least this much load. */
export const MIN_LOAD_RATIO = 0.3;

/** Fuel burn in L/h for an output power (kW) on a generator of `ratedKw`. */
export function fuelRateLph(ratedKw: number, outputKw: number): number {
  if (ratedKw <= 0) return 0;
  const out = Math.min(Math.max(outputKw, 0), ratedKw);
  return FUEL_CURVE_F0_L_PER_KWH_RATED * ratedKw +
    FUEL_CURVE_F1_L_PER_KWH_OUT * out;
}

/** The output a generator actually delivers for a demand: at least its minimum load, at most rated. */
export function generatorOutputKw(ratedKw: number, demandKw: number): number {
  return Math.min(ratedKw, Math.max(demandKw, MIN_LOAD_RATIO * ratedKw));
}
