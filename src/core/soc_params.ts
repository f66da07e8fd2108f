/**
 * Parameters of the SoC estimator (src/core/soc_estimator.ts), their defaults per chemistry and
 * where each default comes from. Every one can be overridden per site.
 */
import { type BatteryKind, cellsInSeries } from "./battery.ts";
import type { CoulombParams } from "./coulomb_count.ts";
import type { SiteProfile } from "./site_profile.ts";

/** What the estimator needs to know of a battery bank. */
export type BatteryPack = BatteryKind & Pick<SiteProfile, "capacityWh">;

export interface SocEstimatorParams extends CoulombParams {
  /** |current| at or below this is rest. Default C/100 A (1 A for 100 Ah), as the issue asks. */
  restCurrentA: number;
  /** Rest needed before the OCV table may re-anchor the count (s). 6 h lead-acid, 1 h LiFePO4. */
  restTimeS: number;
  /** Pack internal resistance for V_ocv ≈ V − I·R (Ω). Default `packInternalResistanceOhm`. */
  internalResistanceOhm: number;
  /** Relative error of that resistance (1 = the true value may be 0 to 2 R). Default 1. */
  resistanceErrorFrac: number;
  /** Voltmeter error per cell (V). Default 0.010. */
  voltmeterErrorVPerCell: number;
  /** Half-width of the OCV hysteresis per cell (V). LiFePO4 0.0125, lead-acid 0. */
  hysteresisVPerCell: number;
  /** Current assumed possible when the site has no current sensor (A). Default C/5. */
  unknownCurrentA: number;
  /** Seconds a low voltage must persist before the estimate falls on it. Default 60. */
  lowVoltagePersistS: number;
  /** Error of the count as a fraction of the SoC it moved. Default 0.05. */
  countErrorFrac: number;
  /** Uncertainty (half-width, %) given to a SoC reported by a BMS. Default 5. */
  bmsUncertaintyPct: number;
  /** Longest gap between samples counted without widening the uncertainty (s). Default 900. */
  maxGapS: number;
  /**
   * A persistent low voltage may pull the count down only while the discharge current is at
   * most this (A). LiFePO4: C/5, its rated rate, where V − I·R on the OCV table still reads the
   * state of charge. Lead-acid: 0, never under load: its polarisation sags a loaded bank by
   * several times I·R with the datasheet resistance (at C/20 and half charge, about 0.1–0.25 V
   * on 12 V against 0.03 V), so an evening load would read as an empty bank; a truly low bank
   * is the dispatch's persistent low-voltage generator start to catch, not the count's.
   */
  lowVoltageMaxCurrentA: number;
  /** Full-charge detection: terminal voltage per cell at or above this… */
  chargedVPerCell: number;
  /** …with the charging current at most this (A)… */
  tailCurrentA: number;
  /** …for this long (s) synchronises the count to 100 %. */
  chargedDetectS: number;
  /** Half-width given to the SoC right after that synchronisation. */
  fullChargeUncertaintyPct: number;
}

/**
 * Internal resistance per cell times the cell's Ah, assuming resistance falls as plates (or
 * parallel cells) are added: R_cell = RAh / capacityAh.
 * - Lead-acid: Chloride Lighthouse CLH12-200 (12 V 200 Ah VRLA solar battery) datasheet, 2.7 mΩ
 *   per battery (as recorded in UdK-VPT/BuildingSystems, Data/LeadAcid/Chloride200Ah.mo):
 *   2.7 / 6 cells = 0.45 mΩ per 200 Ah cell → 90 mΩ·Ah. A 12 V 100 Ah battery gets 5.4 mΩ.
 * - LiFePO4: EVE LF280K product specification (PBRI-LF280K-D06-01, Version B, 2023), initial
 *   IR ≤ 0.25 mΩ (AC 1 kHz, 40 % SoC) for 280 Ah → 70 mΩ·Ah.
 * Both are 1 kHz/datasheet values: the DC resistance over seconds to minutes is larger (charge
 * transfer and diffusion add to it), which `resistanceErrorFrac` = 1 leaves room for. Cabling and
 * fuses are not included; a site that knows its pack resistance should set it.
 */
const CELL_RESISTANCE_OHM_AH = { leadAcid: 0.45e-3 * 200, lifepo4: 0.25e-3 * 280 } as const;

/** Pack internal resistance (Ω) from chemistry, cell count and capacity, per the datasheets above. */
export function packInternalResistanceOhm(pack: BatteryPack): number {
  const cells = cellsInSeries(pack.chemistry, pack.nominalV);
  const capacityAh = pack.capacityWh / pack.nominalV;
  const ohmAh = pack.chemistry === "lifepo4"
    ? CELL_RESISTANCE_OHM_AH.lifepo4
    : CELL_RESISTANCE_OHM_AH.leadAcid;
  return cells * ohmAh / capacityAh;
}

/**
 * Defaults for a pack:
 * - Peukert exponent 1.25 lead-acid/AGM, 1.05 LiFePO4; charge efficiency 95 %; current
 *   threshold 0.1 A: the Victron BMV-700/712 manual's defaults ("keep 1.25 for lead acid,
 *   change to 1.05 for Li-ion"; "Charge Efficiency Factor 95 %"; "Current threshold 0.1 A").
 * - Peukert rated time: 20 h for lead-acid (Victron, "Gel and AGM batteries": "the rated
 *   capacity of Victron AGM and Gel Deep Cycle batteries refers to 20 hour discharge"); 5 h
 *   for LiFePO4, because lithium cells are rated at 0.2 C (the 5-hour rate) under
 *   IEC 61960. Some cells are rated at 0.5 C (EVE LF280K: 2 h); with k = 1.05 the choice moves
 *   a C/10 discharge's effective current by 4 % (0.5^0.05 = 0.966 vs 0.2^0.05 = 0.923).
 * - Rest time 6 h lead-acid: Trojan's user guide, "for accurate voltage readings, batteries
 *   must remain idle at least 6 hours (but preferably up to 24 hours)". LiFePO4 1 h: no acid
 *   to diffuse, and LFP datasheets rest 0.5–1 h between their test charge and discharge
 *   (e.g. thbattery 12.8 V LiFePO4: "charge at 0.2C, rest 0.5-1h, discharge at 0.2C"); its
 *   relaxation is not over then (Voicila et al., Batteries 2025, 11(5), 186: the voltage can
 *   still move after 24 h), which is why the hysteresis term stays in every LiFePO4 reading.
 * - Voltmeter error ±10 mV per cell: the real 12 V LiFePO4 bank of the shared data, resting
 *   on its plateau, moved by up to 0.04 V (4 cells: 10 mV per cell) within single hours of
 *   19–26/11/2025 while its daily band stayed 13.24–13.29 V; one reading cannot be trusted
 *   closer than that. It is an error budget, not a datasheet figure: set it for a calibrated
 *   monitor.
 * - LiFePO4 hysteresis ±12.5 mV per cell: "even after long rest periods, a voltage gap
 *   (typically 5–25 mV) remains between the charge and discharge OCV curves, especially in the
 *   flat plateau" (ACCURE, "Battery hysteresis effect"); we do not track which branch a cell is
 *   on, so half the 25 mV upper figure. Lead-acid: none modelled.
 * - Unknown current C/5: the charge rate the simulator already assumes (DEFAULT_CHARGE_C_RATE,
 *   "C/5, a common charger rating"); a site without a current sensor may be carrying that much.
 * - Low voltage 60 s, count error 5 %, BMS uncertainty 5 %, gap 900 s: Kasi's assumptions,
 *   stated as such (60 s outlasts a motor start or generator crank, which last seconds; 5 %
 *   of the Ah counted is the spread of charge efficiency around its 95 % default; a BMS is a
 *   coulomb counter itself; 900 s is the forward prediction's step).
 */
export function socEstimatorParams(
  pack: BatteryPack,
  overrides: Partial<SocEstimatorParams> = {},
): SocEstimatorParams {
  const lithium = pack.chemistry === "lifepo4";
  const capacityAh = overrides.capacityAh ?? pack.capacityWh / pack.nominalV;
  const params: SocEstimatorParams = {
    capacityAh,
    peukertExponent: lithium ? 1.05 : 1.25,
    peukertRatedH: lithium ? 5 : 20,
    chargeEfficiency: 0.95,
    currentThresholdA: 0.1,
    restCurrentA: capacityAh / 100,
    restTimeS: lithium ? 3600 : 6 * 3600,
    internalResistanceOhm: packInternalResistanceOhm(pack),
    resistanceErrorFrac: 1,
    voltmeterErrorVPerCell: 0.010,
    hysteresisVPerCell: lithium ? 0.0125 : 0,
    unknownCurrentA: capacityAh / 5,
    lowVoltagePersistS: 60,
    countErrorFrac: 0.05,
    bmsUncertaintyPct: 5,
    maxGapS: 900,
    // Victron's battery monitors (BMV-700 series, SmartShunt manuals, "Synchronisation"):
    // charged voltage 13.2 V on a 12 V lead-acid battery (2.2 V per cell) and, as they advise,
    // 0.2 V under the charger's float; tail current 4 % of capacity; detection time 3 min.
    // LiFePO4: 0.2 V under the 13.5 V float of a 12 V pack (3.375 V per cell, as the simulator's
    // charger) = 3.325 V per cell. After it the SoC is 100 − 0 / +3: at a 4 % tail the charge
    // still to go is a few percent at most (the absorption taper), hence ± 3 points.
    lowVoltageMaxCurrentA: lithium ? capacityAh / 5 : 0,
    chargedVPerCell: lithium ? 3.325 : 2.2,
    tailCurrentA: 0.04 * capacityAh,
    chargedDetectS: 180,
    fullChargeUncertaintyPct: 3,
    ...overrides,
  };
  validate(params);
  return params;
}

function validate(p: SocEstimatorParams) {
  const positive = ["capacityAh", "peukertRatedH", "maxGapS"] as const;
  for (const key of positive) {
    if (!(p[key] > 0) || !Number.isFinite(p[key])) {
      throw new RangeError(`SoC estimator: ${key} must be a finite number > 0, got ${p[key]}`);
    }
  }
  const nonNegative = [
    "currentThresholdA",
    "restCurrentA",
    "restTimeS",
    "internalResistanceOhm",
    "resistanceErrorFrac",
    "voltmeterErrorVPerCell",
    "hysteresisVPerCell",
    "unknownCurrentA",
    "lowVoltagePersistS",
    "countErrorFrac",
    "bmsUncertaintyPct",
    "lowVoltageMaxCurrentA",
    "chargedVPerCell",
    "tailCurrentA",
    "chargedDetectS",
    "fullChargeUncertaintyPct",
  ] as const;
  for (const key of nonNegative) {
    if (!(p[key] >= 0) || !Number.isFinite(p[key])) {
      throw new RangeError(`SoC estimator: ${key} must be a finite number ≥ 0, got ${p[key]}`);
    }
  }
  if (!(p.peukertExponent >= 1 && p.peukertExponent <= 2)) {
    throw new RangeError(
      `SoC estimator: peukertExponent must be between 1 and 2, got ${p.peukertExponent}`,
    );
  }
  if (!(p.chargeEfficiency > 0 && p.chargeEfficiency <= 1)) {
    throw new RangeError(
      `SoC estimator: chargeEfficiency must be in (0, 1], got ${p.chargeEfficiency}`,
    );
  }
}
