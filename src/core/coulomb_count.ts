/**
 * Coulomb counting: the charge that battery current moves in or out, corrected for the rate of
 * discharge (Peukert) and for the charge lost while charging (charge efficiency). Current is
 * signed as in telemetry: positive while charging, negative while discharging.
 */

export interface CoulombParams {
  /** Capacity at the rated discharge time, in Ah. */
  capacityAh: number;
  /** Peukert exponent k (1 disables the correction). */
  peukertExponent: number;
  /** Hours of the discharge at which `capacityAh` is rated (20 for a C20 rating). */
  peukertRatedH: number;
  /** Fraction of the charging Ah that is stored, 0–1. */
  chargeEfficiency: number;
  /** A current smaller than this in magnitude is counted as zero (shunt offset and noise). */
  currentThresholdA: number;
}

/**
 * Peukert's law: a discharge current I drains the capacity rated at H hours as fast as a current
 * I_eff = I · (I / I_H)^(k − 1) would under the rated conditions, with I_H = C / H the rated
 * current. Example: 100 Ah rated at 20 h (I_H = 5 A), 20 A, k = 1.25:
 * 20 · (20 / 5)^0.25 = 20 · √2 = 28.28 A. Below I_H the effective current is smaller than the
 * real one (a slow discharge gets more than the rated Ah out).
 */
export function peukertEffectiveCurrentA(
  dischargeA: number,
  options: Pick<CoulombParams, "capacityAh" | "peukertExponent" | "peukertRatedH">,
): number {
  if (!(dischargeA >= 0) || !Number.isFinite(dischargeA)) {
    throw new RangeError(`dischargeA must be a finite number ≥ 0, got ${dischargeA}`);
  }
  const ratedA = options.capacityAh / options.peukertRatedH;
  return dischargeA * (dischargeA / ratedA) ** (options.peukertExponent - 1);
}

/**
 * The current as the battery's charge sees it, signed: charging current times the charge
 * efficiency, discharging current through Peukert's law, zero below the threshold.
 */
export function effectiveCurrentA(currentA: number, params: CoulombParams): number {
  if (!Number.isFinite(currentA)) {
    throw new RangeError(`currentA must be a finite number, got ${currentA}`);
  }
  if (Math.abs(currentA) < params.currentThresholdA) return 0;
  if (currentA > 0) return currentA * params.chargeEfficiency;
  return -peukertEffectiveCurrentA(-currentA, params);
}

/**
 * SoC change (percentage points) over `dtS` seconds between two current readings, by the
 * trapezoidal rule on the effective currents (exact for a constant current). `fromA` null (no
 * earlier reading) holds `toA` over the step.
 */
export function countedSocDeltaPct(
  step: { fromA: number | null; toA: number; dtS: number },
  params: CoulombParams,
): number {
  if (!(step.dtS >= 0) || !Number.isFinite(step.dtS)) {
    throw new RangeError(`dtS must be a finite number ≥ 0, got ${step.dtS}`);
  }
  const to = effectiveCurrentA(step.toA, params);
  const from = step.fromA === null ? to : effectiveCurrentA(step.fromA, params);
  return (from + to) / 2 * (step.dtS / 3600) / params.capacityAh * 100;
}
