/**
 * What a battery does at its terminals: the current it gives for a load's power, the current it
 * accepts from a charger, and the voltage a meter reads meanwhile. Pure; the simulator
 * (src/core/simulator.ts) turns the currents into SoC through coulomb_count.ts.
 *
 * Lead-acid follows the charge and discharge equations of Copetti, Lorenzo & Chenlo ("A general
 * battery model for PV system simulation", Progress in Photovoltaics 1:283–292, 1993), with two
 * changes so that the simulated battery agrees with the SoC estimator at rest: their linear EMF
 * is replaced by the BCI rest-voltage table the estimator reads (battery.ts), and their
 * size-dependent ohmic terms by the pack resistance R. Per cell, with I/C in 1/h:
 * - charge: V = OCV + I·R + (I/C) · (0.48 / (1 − SoC)^1.2 + 0.036). The polarisation grows
 *   without bound as the battery fills: at a fixed charger voltage the current tapers towards
 *   zero, as a real absorption does. At C/10 it reaches 2.30 V/cell (13.8 V on 12 V) at 72 %
 *   SoC and 2.40 V/cell at 79 %; Battery University (BU-403, "Charging Lead Acid") puts the end
 *   of the constant-current stage at about 70 %.
 * - discharge: V = OCV − I·R − (I/C) · (0.27 / (SoC + s₀)^1.5 + 0.02): the sag grows as the
 *   battery empties, the knee of every discharge curve. Copetti's SoC is the charge left at
 *   the present rate, ours the rated (C20) one, which a 20-hour discharge empties exactly at
 *   the 1.75 V/cell end voltage the rating is measured to (Trojan's user guide; the BCI table's
 *   0 % is that battery at rest, 1.982 V/cell). The shift s₀ = 0.1507 makes both hold:
 *   0.05 · (0.27 / s₀^1.5 + 0.02) = 1.982 − 1.75 V. At C/20 the sag is then 0.027 V/cell at
 *   50 % and 0.016 at 80 %; at a 200 W load on 12 V 5 kWh (C/24) the battery shows 11.8 V near
 *   28 % SoC, where the first generation starts its generator in normal mode.
 * C is the rated Ah (C20 here; the model was normalised to C10, about 8 % less for a Trojan
 * T-105: 207 vs 225 Ah). Its temperature factors are not applied (nor charger temperature
 * compensation): the battery of a backtest sits near 25–30 °C.
 *
 * LiFePO4 keeps OCV − I·R on discharge (its OCV table already falls steeply below 10 %) down to
 * the BMS cut-off, and the shape of the lead-acid charge polarisation (see CHARGE_PROFILES).
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

/** A charger's setpoints and the polarisation of charge and discharge, per cell. */
export interface ChargeProfile {
  absorptionCellV: number;
  floatCellV: number;
  /** Copetti's k: polarisation V·h per cell at I/C = 1 /h, divided by (1 − SoC)^1.2. */
  polarizationVh: number;
  /** Copetti's k₀: the part that does not grow with SoC, V·h per cell. */
  polarizationOffsetVh: number;
  /** Absorption ends when the battery accepts less than this, in C (A per rated Ah). */
  tailCurrentC: number;
  /** Copetti's discharge k_d: V·h per cell at I/C = 1 /h, divided by (SoC + shift)^1.5. */
  dischargePolarizationVh: number;
  dischargePolarizationOffsetVh: number;
  /** s₀, a SoC fraction: where the rated capacity's end meets Copetti's (see the file's note). */
  dischargeShiftFrac: number;
  /** Under load below this per cell the inverter (or BMS) disconnects the load. */
  cutoffCellV: number;
}

/** The lead-acid end of discharge: 1.75 V/cell at the 20-hour rate, at 0 % of the rated Ah. */
const LEAD_ACID_END = { cellV: 1.75, rateC: 1 / 20 } as const;

function leadAcidDischargeShift(): number {
  const restCellV = ocvFromSoc("flooded-lead-acid", 12, 0) / 6;
  const perRateVh = (restCellV - LEAD_ACID_END.cellV) / LEAD_ACID_END.rateC - 0.02;
  return (0.27 / perRateVh) ** (2 / 3);
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
  dischargePolarizationVh: 0.27,
  dischargePolarizationOffsetVh: 0.02,
  dischargeShiftFrac: leadAcidDischargeShift(),
  // The end-of-discharge voltage of lead-acid capacity ratings: an inverter cuts the load there.
  cutoffCellV: LEAD_ACID_END.cellV,
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
    dischargePolarizationVh: 0,
    dischargePolarizationOffsetVh: 0,
    dischargeShiftFrac: 0,
    // Victron's Lithium Battery Smart manual: its BMS disconnects the loads at 2.8 V/cell.
    cutoffCellV: 2.8,
  },
};

/** SoC above which the charge polarisation is taken as infinite: nothing more goes in. */
const FULL_FRACTION = 0.99999;
/** Guards the discharge polarisation's power of a SoC fraction against 0. */
const EMPTY_FRACTION = 1e-4;

export type ChargeStage = "bulk" | "absorption" | "float";

export interface TerminalPoint {
  /** Signed as in telemetry: positive while charging. */
  currentA: number;
  voltageV: number;
}

export interface DischargePoint extends TerminalPoint {
  /** The load would pull the voltage under the cut-off: the inverter disconnects it. */
  cutOff: boolean;
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
  return setpointAt(pack, options.socPct, restVoltageV(pack, options));
}

function setpointAt(
  pack: TerminalPack,
  socPct: number,
  restV: number,
): { voltageV: number; stage: "absorption" | "float" } {
  const p = CHARGE_PROFILES[pack.chemistry];
  const cells = cellsInSeries(pack.chemistry, pack.nominalV);
  // To the millivolt, as a charger is set: 2.40 · 6 is 14.4, not a float a hair below it.
  const mv = (v: number) => Math.round(v * 1000) / 1000;
  const absorptionV = mv(p.absorptionCellV * cells);
  const acceptedA = currentAtVoltageA(pack, socPct, restV, absorptionV);
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
  const setpoint = setpointAt(pack, options.socPct, restV);
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

/** The sag per ampere while discharging, Ω: the pack resistance plus Copetti's polarisation. */
function dischargeSlopeOhm(pack: TerminalPack, socPct: number): number {
  const p = CHARGE_PROFILES[pack.chemistry];
  if (p.dischargePolarizationVh === 0 && p.dischargePolarizationOffsetVh === 0) {
    return pack.internalResistanceOhm;
  }
  const x = Math.max(0, socPct / 100) + p.dischargeShiftFrac;
  const cells = cellsInSeries(pack.chemistry, pack.nominalV);
  const perCellVh = p.dischargePolarizationVh / Math.max(EMPTY_FRACTION, x) ** 1.5 +
    p.dischargePolarizationOffsetVh;
  return pack.internalResistanceOhm + cells * perCellVh / capacityAh(pack);
}

/** Terminal voltage while discharging at `currentA` (its magnitude), before any cut-off. */
export function dischargeVoltageV(
  pack: TerminalPack,
  options: { socPct: number; currentA: number; tempC: number | null },
): number {
  return restVoltageV(pack, options) - Math.abs(options.currentA) *
      dischargeSlopeOhm(pack, options.socPct);
}

/**
 * The discharge current that delivers `powerW`: V·I = P with V = V_rest − b·I, the smaller root
 * of b·I² − V_rest·I + P = 0. When that voltage would be under the cut-off (or no current can
 * deliver P) the load is disconnected: no current, the rest voltage. Returns a negative current
 * (telemetry's sign).
 */
export function dischargeAt(
  pack: TerminalPack,
  options: { socPct: number; tempC: number | null; powerW: number },
): DischargePoint {
  const restV = restVoltageV(pack, options);
  const b = dischargeSlopeOhm(pack, options.socPct);
  const p = Math.max(0, options.powerW);
  const cutoffV = CHARGE_PROFILES[pack.chemistry].cutoffCellV *
    cellsInSeries(pack.chemistry, pack.nominalV);
  let a: number;
  if (b <= 0) a = p / restV;
  else {
    const disc = restV * restV - 4 * b * p;
    if (disc < 0) return { currentA: 0, voltageV: restV, cutOff: true };
    a = (restV - Math.sqrt(disc)) / (2 * b);
  }
  const voltageV = restV - b * a;
  if (p > 0 && voltageV < cutoffV) return { currentA: 0, voltageV: restV, cutOff: true };
  return { currentA: -a, voltageV, cutOff: false };
}

/**
 * What a voltmeter reads with `currentA` flowing (signed as in telemetry) at a SoC: the sagged
 * voltage discharging, the rest voltage idle, and while a charger offers power (`stage` not null) its
 * setpoint once the battery takes less than it offers, or the charge voltage below it in bulk.
 */
export function terminalVoltageV(
  pack: TerminalPack,
  options: { socPct: number; tempC: number | null; currentA: number; stage: ChargeStage | null },
): number {
  const restV = restVoltageV(pack, options);
  const i = options.currentA;
  if (i < 0) return restV + i * dischargeSlopeOhm(pack, options.socPct);
  if (options.stage === null) return restV;
  const setpointV = setpointAt(pack, options.socPct, restV).voltageV;
  if (options.stage !== "bulk") return setpointV;
  return Math.min(setpointV, restV + i * chargeSlopeOhm(pack, options.socPct));
}
