/**
 * PV array output from horizontal irradiance and air temperature: kWp · G/1000 · PR · (1 + γ ·
 * (T_cell − 25 °C)). Pure. The modules are taken as horizontal (GHI): at the low latitudes of
 * most Kasi sites, with modules tilted near the latitude, the transposition gain over a year is a
 * few percent and it is absent on overcast days, when the forecast matters most.
 */

/**
 * DC-to-battery performance ratio, temperature excluded (it is modelled apart):
 * NREL PVWatts v5 default losses 14.08 % (soiling 2, shading 3, mismatch 2, wiring 2,
 * connections 0.5, light-induced degradation 1.5, nameplate 1, availability 3; Dobos 2014,
 * NREL/TP-6A20-62641) and its 96 % nominal inverter efficiency, standing in for the charge
 * controller or inverter of a hybrid site: (1 − 0.1408) · 0.96 = 0.825.
 */
export const DEFAULT_PERFORMANCE_RATIO = 0.825;
/**
 * Nominal operating cell temperature, °C: cell temperature at 800 W/m², 20 °C air, 1 m/s wind,
 * open rack. Crystalline-silicon datasheets give 42–48 °C; 45 °C is the usual middle.
 */
export const DEFAULT_NOCT_C = 45;
/**
 * Power temperature coefficient, per °C: −0.4 %/°C, the typical crystalline-silicon value
 * (Skoplaki & Palyvos 2009, "On the temperature dependence of photovoltaic module electrical
 * performance", Solar Energy 83:614–624: β_ref ≈ 0.004 K⁻¹ for c-Si).
 */
export const DEFAULT_TEMP_COEFF_PER_C = -0.004;
/** Standard test conditions: 1000 W/m² at 25 °C cell temperature (IEC 61215). */
export const STC_IRRADIANCE_WM2 = 1000;
export const STC_CELL_TEMP_C = 25;
/** The NOCT rating's irradiance and air temperature. */
const NOCT_IRRADIANCE_WM2 = 800;
const NOCT_AIR_C = 20;

export interface PvOptions {
  /** Array peak power at STC, kWp. */
  kwp: number;
  /** Default DEFAULT_PERFORMANCE_RATIO (0.825). */
  performanceRatio?: number;
  /** Default DEFAULT_NOCT_C (45 °C). */
  noctC?: number;
  /** Default DEFAULT_TEMP_COEFF_PER_C (−0.004 /°C). */
  tempCoeffPerC?: number;
}

/**
 * Cell temperature, °C, from the NOCT model: T_cell = T_air + (NOCT − 20 °C) · G / 800 W/m²
 * (Duffie & Beckman, "Solar Engineering of Thermal Processes", 4th ed., eq. 23.3.3 with the
 * efficiency term dropped). At Bauchi's ESMAP station, over the 1,715 hours above 600 W/m², NOCT
 * 45 °C matches module sensor B within 0.2 °C on average; sensor A runs 9 °C hotter.
 */
export function cellTempC(
  ghiWm2: number,
  options: { ambientC: number; noctC?: number },
): number {
  const noctC = options.noctC ?? DEFAULT_NOCT_C;
  return options.ambientC +
    (noctC - NOCT_AIR_C) * Math.max(0, ghiWm2) / NOCT_IRRADIANCE_WM2;
}

/** Throws a RangeError naming the first option out of range. */
export function checkPvOptions(options: PvOptions): void {
  if (!(options.kwp >= 0 && Number.isFinite(options.kwp))) {
    throw new RangeError(`kwp: ${options.kwp} must be a number ≥ 0`);
  }
  const pr = options.performanceRatio;
  if (pr !== undefined && !(pr > 0 && pr <= 1)) {
    throw new RangeError(`performanceRatio: ${pr} is not within (0, 1]`);
  }
  const noct = options.noctC;
  if (noct !== undefined && !(noct >= 20 && noct <= 80)) {
    throw new RangeError(`noctC: ${noct} °C is not within 20..80 °C`);
  }
  const gamma = options.tempCoeffPerC;
  if (gamma !== undefined && !(gamma <= 0 && gamma > -0.02)) {
    throw new RangeError(`tempCoeffPerC: ${gamma} is not within (−0.02, 0] per °C`);
  }
}

/**
 * AC (or battery-side) power, W, of an array under `ghiWm2` at air temperature `ambientC`:
 * kWp · 1000 · G/1000 · PR · (1 + γ · (T_cell − 25 °C)), never negative. A mean irradiance over
 * an hour gives the hour's mean power (the model is linear in G but for the small temperature
 * term).
 */
export function pvOutputW(
  ghiWm2: number,
  options: PvOptions & { ambientC: number },
): number {
  checkPvOptions(options);
  if (!(ghiWm2 > 0)) return 0;
  const pr = options.performanceRatio ?? DEFAULT_PERFORMANCE_RATIO;
  const gamma = options.tempCoeffPerC ?? DEFAULT_TEMP_COEFF_PER_C;
  const tCell = cellTempC(ghiWm2, { ambientC: options.ambientC, noctC: options.noctC });
  const derate = Math.max(0, 1 + gamma * (tCell - STC_CELL_TEMP_C));
  return options.kwp * 1000 * (ghiWm2 / STC_IRRADIANCE_WM2) * pr * derate;
}
