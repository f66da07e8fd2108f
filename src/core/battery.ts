/** Battery state of charge from open-circuit voltage, per chemistry. */
import type { Chemistry } from "./site_profile.ts";

/** [cell volts, SoC %] points, ascending in volts. */
type OcvTable = readonly (readonly [number, number])[];

/**
 * Lead-acid (flooded and AGM) resting voltage of a 12 V (6-cell) battery at 27 °C, per BCI:
 * 11.89 V = 0 %, 12.06 = 25 %, 12.24 = 50 %, 12.45 = 75 %, 12.65 = 100 %. Stored per cell.
 */
const LEAD_ACID_CELL: OcvTable = [
  [11.89 / 6, 0],
  [12.06 / 6, 25],
  [12.24 / 6, 50],
  [12.45 / 6, 75],
  [12.65 / 6, 100],
];

/**
 * LiFePO4 resting voltage per cell (published rest-voltage curves; the plateau is flat, so
 * voltage alone says little between about 20 and 90 %). 3.40 V taken as full after rest.
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

/** Cells in series for a nominal pack voltage. */
export function cellsInSeries(chemistry: Chemistry, nominalV: number): number {
  const cellNominalV = chemistry === "lifepo4" ? 3.2 : 2;
  return Math.round(nominalV / cellNominalV);
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

/** SoC (%) from a resting (open-circuit) pack voltage, clamped to 0–100. */
export function socFromOcv(
  chemistry: Chemistry,
  nominalV: number,
  packV: number,
): number {
  const cellV = packV / cellsInSeries(chemistry, nominalV);
  return interpolate(
    chemistry === "lifepo4" ? LIFEPO4_CELL : LEAD_ACID_CELL,
    cellV,
  );
}

/** Resting pack voltage at a SoC (%): the inverse of `socFromOcv`, used by the simulator. */
export function ocvFromSoc(
  chemistry: Chemistry,
  nominalV: number,
  socPct: number,
): number {
  const table = chemistry === "lifepo4" ? LIFEPO4_CELL : LEAD_ACID_CELL;
  const inverted = table.map(([v, s]) => [s, v] as const);
  return interpolate(inverted, socPct) * cellsInSeries(chemistry, nominalV);
}
