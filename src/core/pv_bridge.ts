/**
 * Whether the battery can carry the site until the sun does: the backend's forecast says PV will
 * exceed the load at `pvCoversLoadAt`; if the energy above the reserve holds the present load
 * until then, with margin, a charging generator may stop (and a start may wait) — the sun
 * recharges the battery for free. Pure arithmetic, shared by the policy and its tests.
 */

export interface PvBridge {
  /** Hours from now until PV is expected to cover the load. */
  hours: number;
  /** Energy above the reserve: (SoC − reserve) / 100 · capacity. */
  availableWh: number;
  /** Present load × hours × margin. */
  neededWh: number;
  holds: boolean;
}

/** Null when there is no forecast or its time has passed (then the forecast says nothing). */
export function pvBridge(options: {
  now: Date;
  pvCoversLoadAt: Date | null;
  socPct: number;
  reserveSocPct: number;
  capacityWh: number;
  loadW: number;
  margin: number;
}): PvBridge | null {
  const { now, pvCoversLoadAt } = options;
  if (pvCoversLoadAt === null || pvCoversLoadAt.getTime() <= now.getTime()) return null;
  const hours = (pvCoversLoadAt.getTime() - now.getTime()) / 3_600_000;
  const availableWh = Math.max(0, options.socPct - options.reserveSocPct) / 100 *
    options.capacityWh;
  const neededWh = Math.max(0, options.loadW) * hours * options.margin;
  return {
    hours,
    availableWh,
    neededWh,
    holds: options.socPct > options.reserveSocPct && availableWh >= neededWh,
  };
}

/** For reasons: "PV expected to cover the load at … : the battery holds … ≥ … needed". */
export function describeBridge(b: PvBridge, pvCoversLoadAt: Date, margin: number): string {
  const kwh = (wh: number) => `${(wh / 1000).toFixed(2)} kWh`;
  return `PV expected to cover the load at ${pvCoversLoadAt.toISOString()} ` +
    `(in ${b.hours.toFixed(1)} h): the battery holds ${kwh(b.availableWh)} above reserve ` +
    `≥ ${kwh(b.neededWh)} needed (load × ${b.hours.toFixed(1)} h × ${margin})`;
}
