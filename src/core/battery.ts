/**
 * Battery state of charge from open-circuit voltage, per chemistry and nominal voltage, with the
 * SoC uncertainty a voltage error implies. The tables are per cell; a pack is its cells in series.
 */
import type { Chemistry, SiteProfile } from "./site_profile.ts";

/** What the OCV tables need to know of a battery. */
export type BatteryKind = Pick<SiteProfile, "chemistry" | "nominalV">;

/** [cell volts, SoC %] points, ascending in volts. */
type OcvTable = readonly (readonly [number, number])[];

/**
 * Lead-acid (flooded and AGM) resting voltage of a 12 V (6-cell) battery at 27 °C (80 °F), per
 * BCI: 11.89 V = 0 %, 12.06 = 25 %, 12.24 = 50 %, 12.45 = 75 %, 12.65 = 100 %. Stored per cell.
 * Discover Battery publishes the same table at 80 °F ("How can I measure my battery's State of
 * Charge?", Table 6).
 */
const LEAD_ACID_CELL: OcvTable = [
  [11.89 / 6, 0],
  [12.06 / 6, 25],
  [12.24 / 6, 50],
  [12.45 / 6, 75],
  [12.65 / 6, 100],
];

/**
 * LiFePO4 resting voltage per cell (published rest-voltage curves): 2.90 V ≈ 1 %, 3.12 ≈ 5 %,
 * 3.17 ≈ 10 %, 3.20 ≈ 18 %, 3.24 ≈ 31 %, 3.272 ≈ 53 %, 3.304 ≈ 79 %, 3.32 ≈ 96 %. The plateau is
 * flat, so voltage alone says little between about 20 and 90 % (see `socBandFromOcv`).
 * 3.40 V is taken as full after rest: the real 12 V bank of the shared data
 * (lifepo4-12v-bank-voltage-hourly-minmax.csv) read 13.60–13.68 V, 3.40–3.42 V per cell, in the
 * night after a charge to 14.56 V (30/10/2025 00:00–04:00).
 */
const LIFEPO4_CELL: OcvTable = [
  [2.90, 1],
  [3.12, 5],
  [3.17, 10],
  [3.20, 18],
  [3.24, 31],
  [3.272, 53],
  [3.304, 79],
  [3.32, 96],
  [3.40, 100],
];

/**
 * Temperature coefficient of lead-acid OCV: +0.024 V per 10 °F for a 12 V battery, i.e.
 * 0.024 / 6 cells / (10 / 1.8) °C = +0.72 mV per cell per °C, positive (a cold battery reads
 * lower at the same SoC). Source: Discover Battery, Table 7 "Add or Subtract to Voltmeter
 * Reading" (−0.120 V at 30 °F … +0.048 V at 100 °F around 80 °F), and its worked example: a
 * full battery reads 12.53 V at 30 °F (−1.1 °C) and 12.698 V at 100 °F (37.8 °C).
 */
export const LEAD_ACID_OCV_V_PER_CELL_PER_C = 0.024 / 6 / (10 / 1.8);
/** The BCI table's temperature, 80 °F. */
export const LEAD_ACID_TABLE_TEMP_C = (80 - 32) / 1.8;
/** Discover's Table 7 spans 0–160 °F; the correction is not extrapolated beyond it. */
const LEAD_ACID_TEMP_RANGE_C = [(0 - 32) / 1.8, (160 - 32) / 1.8] as const;

/**
 * Cells in series for a nominal pack voltage. Lead-acid: 2 V cells (6 per 12 V). LiFePO4: a
 * "12 V" battery is 4 cells (12.8 V), so 24 V is 8 and 48 V is 16 (51.2 V), the usual rack
 * battery; dividing 48 V by 3.2 V would give 15, which breaks the 12/24/48 scaling. (15-cell
 * "48 V" packs exist; the profile cannot describe them yet.)
 */
export function cellsInSeries(chemistry: Chemistry, nominalV: number): number {
  return chemistry === "lifepo4" ? Math.round(nominalV / 12 * 4) : Math.round(nominalV / 2);
}

function tableFor(chemistry: Chemistry): OcvTable {
  return chemistry === "lifepo4" ? LIFEPO4_CELL : LEAD_ACID_CELL;
}

function interpolate(table: OcvTable, x: number): number {
  const first = table[0]!;
  const last = table[table.length - 1]!;
  if (x <= first[0]) return first[1];
  if (x >= last[0]) return last[1];
  for (let i = 1; i < table.length; i++) {
    const [x1, y1] = table[i]!;
    if (x <= x1) {
      const [x0, y0] = table[i - 1]!;
      return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
    }
  }
  return last[1];
}

/** SoC (%) from a resting (open-circuit) pack voltage at the table's temperature, 0–100. */
export function socFromOcv(
  chemistry: Chemistry,
  nominalV: number,
  packV: number,
): number {
  const cellV = packV / cellsInSeries(chemistry, nominalV);
  return interpolate(tableFor(chemistry), cellV);
}

/** Resting pack voltage at a SoC (%): the inverse of `socFromOcv`, used by the simulator. */
export function ocvFromSoc(
  chemistry: Chemistry,
  nominalV: number,
  socPct: number,
): number {
  const inverted = tableFor(chemistry).map(([v, s]) => [s, v] as const);
  return interpolate(inverted, socPct) * cellsInSeries(chemistry, nominalV);
}

/**
 * The pack voltage a battery at `tempC` would show at the table's temperature, so it can be read
 * through the table. Lead-acid: corrected by `LEAD_ACID_OCV_V_PER_CELL_PER_C` around 80 °F
 * (temperature clamped to the published 0–160 °F range). LiFePO4: returned unchanged — its OCV
 * also moves with temperature, but we found no published coefficient to cite, so none is applied.
 * A null temperature (no sensor) means no correction.
 */
export function ocvAtTableTemperatureV(
  battery: BatteryKind,
  options: { packV: number; tempC: number | null },
): number {
  const { packV, tempC } = options;
  if (battery.chemistry === "lifepo4" || tempC === null) return packV;
  if (!Number.isFinite(tempC)) throw new RangeError(`tempC must be a finite number, got ${tempC}`);
  const [lowC, highC] = LEAD_ACID_TEMP_RANGE_C;
  const t = Math.min(highC, Math.max(lowC, tempC));
  const cells = cellsInSeries(battery.chemistry, battery.nominalV);
  return packV - LEAD_ACID_OCV_V_PER_CELL_PER_C * cells * (t - LEAD_ACID_TABLE_TEMP_C);
}

/** A SoC read from a voltage, with the range a voltage error spans. */
export interface SocBand {
  /** SoC at the voltage itself. */
  socPct: number;
  /** SoC at the voltage minus the error, and plus it (both clamped to 0–100). */
  lowPct: number;
  highPct: number;
  /** Half-width of [lowPct, highPct]. */
  uncertaintyPct: number;
}

/**
 * SoC from an open-circuit pack voltage and the SoC range a ± `errorVPerCell` voltage error
 * maps to: [soc(V − e), soc(V + e)] per cell, half-width = (soc(V + e) − soc(V − e)) / 2. That is
 * the table's local slope dSoC/dV times the error, averaged over the error window so it stays
 * right where the window crosses a table point. On the LiFePO4 plateau (3.304–3.32 V: 17 % in
 * 16 mV) ±10 mV is ±10.6 %; on its steep low end (2.90–3.12 V: 4 % in 220 mV) it is ±0.2 %.
 */
export function socBandFromOcv(
  battery: BatteryKind,
  options: { packV: number; errorVPerCell: number; tempC?: number | null },
): SocBand {
  const { packV, errorVPerCell } = options;
  if (!Number.isFinite(packV)) throw new RangeError(`packV must be a finite number, got ${packV}`);
  if (!(errorVPerCell >= 0) || !Number.isFinite(errorVPerCell)) {
    throw new RangeError(`errorVPerCell must be a finite number ≥ 0, got ${errorVPerCell}`);
  }
  const v = ocvAtTableTemperatureV(battery, { packV, tempC: options.tempC ?? null });
  const cells = cellsInSeries(battery.chemistry, battery.nominalV);
  const table = tableFor(battery.chemistry);
  const cellV = v / cells;
  const lowPct = interpolate(table, cellV - errorVPerCell);
  const highPct = interpolate(table, cellV + errorVPerCell);
  return {
    socPct: interpolate(table, cellV),
    lowPct,
    highPct,
    uncertaintyPct: (highPct - lowPct) / 2,
  };
}
