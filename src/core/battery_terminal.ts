/**
 * What a battery does at its terminals: the current it gives for a load's power, the current it
 * accepts from a charger, and the voltage a meter reads meanwhile. Pure; the simulator
 * (src/core/simulator.ts) turns the currents into SoC through coulomb_count.ts.
 *
 * Discharge: V = OCV(SoC, T) − I·R, the equivalent circuit the SoC estimator inverts
 * (soc_estimator.ts reads OCV ≈ V − I·R), so the estimator reads the simulated voltage through
 * the same model that made it.
 *
 * Charge: V = OCV(SoC, T) + I·R + n_cells · (I / C) · (k / (1 − SoC)^1.2 + k₀), the charge
 * equation of Copetti, Lorenzo & Chenlo ("A general battery model for PV system simulation",
 * Progress in Photovoltaics 1:283–292, 1993; lead-acid: k = 0.48 V·h, k₀ = 0.036 V·h per cell,
 * I/C in 1/h), with its ohmic term replaced by the pack resistance and its linear EMF
 * (2 + 0.16·SoC V per cell) by the BCI rest-voltage table the estimator uses, so charge and rest
 * voltages meet at zero current. The polarisation term grows without bound as the battery
 * fills: at a fixed charger voltage the current tapers towards zero, as a real absorption does.
 * At C/10 it reaches 2.40 V/cell at 79 % SoC and 2.30 V/cell (13.8 V on 12 V) at 72 %; Battery
 * University (BU-403, "Charging Lead Acid") puts the end of the constant-current stage at about
 * 70 %. C is the rated Ah (C20 here; the model was normalised to C10, about 8 % less for a
 * Trojan T-105: 207 vs 225 Ah).
 *
 * The charger is CC-CV: it pushes what power it has (bulk) until the terminal voltage reaches
 * its absorption voltage, then holds that voltage (absorption) while the current tapers; once
 * the current the battery accepts at absorption is below the tail current, it holds the lower
 * float voltage. The stage follows from SoC alone: the current accepted at absorption falls as
 * SoC rises, so "below the tail current" is "above one SoC".
 */
import { cellsInSeries, ocvAtTableTemperatureV, ocvFromSoc } from "./battery.ts";
import type { Chemistry } from "./site_profile.ts";
import type { BatteryPack } from "./soc_params.ts";

/** A pack as its terminals see it: the OCV tables' kind and size, and its resistance. */
export interface TerminalPack extends BatteryPack {
  /** Pack resistance incl. cabling, Ω. */
  internalResistanceOhm: number;
}

/** A charger's setpoints and the polarisation it works against, per cell. */
export interface ChargeProfile {
  absorptionCellV: number;
  floatCellV: number;
  /** Copetti's k: polarisation V·h per cell at I/C = 1 /h, divided by (1 − SoC)^1.2. */
  polarizationVh: number;
  /** Copetti's k₀: the part that does not grow with SoC, V·h per cell. */
  polarizationOffsetVh: number;
  /** Absorption ends when the battery accepts less than this, in C (A per rated Ah). */
  tailCurrentC: number;
}

const LEAD_ACID: ChargeProfile = {
  // BU-403: charge voltage limit 2.40 V/cell, float 2.25–2.27 V/cell. Trojan's user guide gives
  // 2.35–2.45 V/cell absorption for its flooded batteries, and 2.40 / 2.25 for gel.
  absorptionCellV: 2.40,
  floatCellV: 2.25,
  polarizationVh: 0.48,
  polarizationOffsetVh: 0.036,
  // BU-403: the battery is full when the absorption current has dropped to 3–5 % of the Ah
  // rating; the lower figure, so absorption is not cut short.
  tailCurrentC: 0.03,
};

/**
 * LiFePO4: Victron's Lithium Battery Smart manual sets absorption 14.2 V and float 13.5 V for a
 * 4-cell 12.8 V battery: 3.55 and 3.375 V/cell. The EVE LF280K specification charges CC-CV and
 * ends at 0.05 C. Copetti's model is for lead-acid; for LiFePO4 only its shape is kept, with
 * k₀ = 0 and k set so that a 0.2 C charge (the IEC 61960 rate) reaches absorption at 95 % SoC —
 * Kasi's assumption for a chemistry whose plateau ends in a steep rise just short of full.
 */
const LIFEPO4_ANCHOR = { socPct: 95, rateC: 0.2 } as const;
const LIFEPO4_ABSORPTION_CELL_V = 3.55;

function lifepo4Polarization(): number {
  const ocvCellV = ocvFromSoc("lifepo4", 12, LIFEPO4_ANCHOR.socPct) / 4;
  const headroom = (1 - LIFEPO4_ANCHOR.socPct / 100) ** 1.2;
  return (LIFEPO4_ABSORPTION_CELL_V - ocvCellV) * headroom / LIFEPO4_ANCHOR.rateC;
}

export const CHARGE_PROFILES: Readonly<Record<Chemistry, Readonly<ChargeProfile>>> = {
  "flooded-lead-acid": LEAD_ACID,
  agm: LEAD_ACID,
  lifepo4: {
    absorptionCellV: LIFEPO4_ABSORPTION_CELL_V,
    floatCellV: 3.375,
    polarizationVh: lifepo4Polarization(),
    polarizationOffsetVh: 0,
    tailCurrentC: 0.05,
  },
};

/** SoC above which the polarisation is taken as infinite: nothing more goes in. */
const FULL_FRACTION = 0.99999;

export type ChargeStage = "bulk" | "absorption" | "float";

export interface TerminalPoint {
  /** Signed as in telemetry: positive while charging. */
  currentA: number;
  voltageV: number;
}

export interface ChargePoint extends TerminalPoint {
  stage: ChargeStage;
  /** Power into the battery, V·I (W). */
  powerW: number;
}

function capacityAh(pack: BatteryPack): number {
  return pack.capacityWh / pack.nominalV;
}

/**
 * Rest voltage at a SoC and battery temperature: the OCV table, moved by the temperature
 * coefficient the estimator removes (battery.ts `ocvAtTableTemperatureV`), so the estimator
 * reads the table's SoC back. Null temperature: the table's own.
 */
export function restVoltageV(
  pack: BatteryPack,
  options: { socPct: number; tempC: number | null },
): number {
  const ocvV = ocvFromSoc(pack.chemistry, pack.nominalV, options.socPct);
  if (options.tempC === null) return ocvV;
  // ocvAtTableTemperatureV subtracts c · cells · (T − T_table): adding it back is its inverse.
  return 2 * ocvV - ocvAtTableTemperatureV(pack, { packV: ocvV, tempC: options.tempC });
}

/** dV/dI while charging, Ω: the pack resistance plus the polarisation's slope at this SoC. */
function chargeSlopeOhm(pack: TerminalPack, socPct: number): number {
  const p = CHARGE_PROFILES[pack.chemistry];
  const x = Math.min(FULL_FRACTION, Math.max(0, socPct / 100));
  const cells = cellsInSeries(pack.chemistry, pack.nominalV);
  const perCellVh = p.polarizationVh / (1 - x) ** 1.2 + p.polarizationOffsetVh;
  return pack.internalResistanceOhm + cells * perCellVh / capacityAh(pack);
}

/** Terminal voltage while charging at `currentA` ≥ 0 (Copetti's form, see the file's note). */
export function chargeVoltageV(
  pack: TerminalPack,
  options: { socPct: number; currentA: number; tempC: number | null },
): number {
  const restV = restVoltageV(pack, options);
  return restV + Math.max(0, options.currentA) * chargeSlopeOhm(pack, options.socPct);
}

/** The current that holds the terminals at `voltageV`: 0 when the rest voltage is above it. */
function currentAtVoltageA(pack: TerminalPack, socPct: number, restV: number, voltageV: number) {
  if (socPct >= FULL_FRACTION * 100) return 0;
  return Math.max(0, (voltageV - restV) / chargeSlopeOhm(pack, socPct));
}

/** The charger's voltage at a SoC: absorption while the battery takes the tail current, else float. */
export function chargeSetpointV(
  pack: TerminalPack,
  options: { socPct: number; tempC: number | null },
): { voltageV: number; stage: "absorption" | "float" } {
  const p = CHARGE_PROFILES[pack.chemistry];
  const cells = cellsInSeries(pack.chemistry, pack.nominalV);
  const restV = restVoltageV(pack, options);
  // To the millivolt, as a charger is set: 2.40 · 6 is 14.4, not a float a hair below it.
  const mv = (v: number) => Math.round(v * 1000) / 1000;
  const absorptionV = mv(p.absorptionCellV * cells);
  const acceptedA = currentAtVoltageA(pack, options.socPct, restV, absorptionV);
  return acceptedA >= p.tailCurrentC * capacityAh(pack)
    ? { voltageV: absorptionV, stage: "absorption" }
    : { voltageV: mv(p.floatCellV * cells), stage: "float" };
}

/**
 * The battery's share of `offeredW` of charging power: all of it while the voltage it takes
 * stays below the setpoint (bulk), else the current that holds the setpoint. V·I = P with
 * V = V_rest + b·I gives b·I² + V_rest·I − P = 0.
 */
export function chargeAt(
  pack: TerminalPack,
  options: { socPct: number; tempC: number | null; offeredW: number },
): ChargePoint {
  const restV = restVoltageV(pack, options);
  const setpoint = chargeSetpointV(pack, options);
  const offeredW = Math.max(0, options.offeredW);
  const limitA = currentAtVoltageA(pack, options.socPct, restV, setpoint.voltageV);
  const b = chargeSlopeOhm(pack, options.socPct);
  const bulkA = offeredW === 0
    ? 0
    : (-restV + Math.sqrt(restV * restV + 4 * b * offeredW)) / (2 * b);
  if (bulkA <= limitA) {
    const voltageV = restV + bulkA * b;
    return { currentA: bulkA, voltageV, stage: "bulk", powerW: bulkA * voltageV };
  }
  return {
    currentA: limitA,
    voltageV: setpoint.voltageV,
    stage: setpoint.stage,
    powerW: limitA * setpoint.voltageV,
  };
}

/**
 * The discharge current that delivers `powerW`: V·I = P with V = V_rest − R·I, the smaller root
 * of R·I² − V_rest·I + P = 0. Beyond the pack's maximum power (V_rest² / 4R, tens of kW for any
 * real bank) it is capped there. Returns a negative current (telemetry's sign).
 */
export function dischargeAt(
  pack: TerminalPack,
  options: { socPct: number; tempC: number | null; powerW: number },
): TerminalPoint {
  const restV = restVoltageV(pack, options);
  const r = pack.internalResistanceOhm;
  const p = Math.max(0, options.powerW);
  let a: number;
  if (r <= 0) a = p / restV;
  else {
    const disc = restV * restV - 4 * r * p;
    a = disc <= 0 ? restV / (2 * r) : (restV - Math.sqrt(disc)) / (2 * r);
  }
  return { currentA: -a, voltageV: restV - r * a };
}
