/**
 * A site's fuel-gauge history, as the fuel-curve learner (src/core/fuel_learning.ts) takes it:
 * five-minute means, so a fortnight is 4 032 rows however often the site reports. A bucket in
 * which the generator both ran and stood is left out: its fuel drop belongs to neither state,
 * and the learner sees the start or stop as the change between its neighbours.
 */
import type { FuelSample } from "../core/fuel_learning.ts";
import type { Db } from "./client.ts";

/** Five minutes: under a tenth of the learner's shortest running segment (30 min). */
export const FUEL_BUCKET_S = 300;

type Row = {
  time: Date;
  fuel_pct: number;
  gen_running: boolean;
  gen_w: number | null;
  load_w: number;
};

export async function loadFuelHistory(
  db: Db,
  siteId: string,
  options: { since: Date; until: Date },
): Promise<FuelSample[]> {
  // date_bin (PostgreSQL 14+, PGlite) buckets from the epoch, so buckets line up across queries.
  const rows = await db<Row[]>`
    select date_bin(${`${FUEL_BUCKET_S} seconds`}::interval, time, timestamptz 'epoch') as time,
      avg(fuel_pct) as fuel_pct,
      bool_and(gen_running) as gen_running,
      avg(gen_w) as gen_w,
      avg(load_w) as load_w
    from telemetry
    where site_id = ${siteId} and time >= ${options.since} and time < ${options.until}
      and fuel_pct is not null
    group by 1
    having bool_and(gen_running) = bool_or(gen_running)
    order by 1`;
  return rows.map((r) => ({
    time: r.time,
    fuelPct: Number(r.fuel_pct),
    genRunning: r.gen_running,
    genW: r.gen_w === null ? null : Number(r.gen_w),
    loadW: Number(r.load_w),
  }));
}
