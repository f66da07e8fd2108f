/**
 * A site's telemetry in buckets of `stepS` seconds (date_bin, PostgreSQL 14+): means of the
 * measurements, the source the site ran on most, whether the generator ran at all. For charts
 * of long ranges, where raw rows would be hundreds of thousands.
 */
import type { Source } from "../core/telemetry.ts";
import type { Db } from "./client.ts";

export interface TelemetryBucket {
  /** Start of the bucket; buckets are aligned on `from`. */
  time: Date;
  samples: number;
  batteryV: number;
  batteryA: number | null;
  socPct: number | null;
  loadW: number;
  pvW: number | null;
  genW: number | null;
  fuelPct: number | null;
  /** The most frequent source in the bucket. */
  source: Source;
  /** Whether the generator ran at any sample in the bucket. */
  genRunning: boolean;
}

type BucketRow = {
  bucket: Date;
  samples: number;
  battery_v: number;
  battery_a: number | null;
  soc_pct: number | null;
  load_w: number;
  pv_w: number | null;
  gen_w: number | null;
  fuel_pct: number | null;
  source: Source;
  gen_running: boolean;
};

/** Buckets with `from` ≤ time < `to`, oldest first: at most the newest `limit`. */
export async function telemetryBuckets(
  db: Db,
  siteId: string,
  options: { from: Date; to: Date; stepS: number; limit: number },
): Promise<{ buckets: TelemetryBucket[]; truncated: boolean }> {
  const mean = (column: string) =>
    db.unsafe(`round(avg(${column})::numeric, 3)::float8 as ${column}`);
  const rows = await db<BucketRow[]>`
    select date_bin(${options.stepS}::int * interval '1 second', time, ${options.from}::timestamptz)
        as bucket,
      count(*)::int as samples,
      ${mean("battery_v")}, ${mean("battery_a")}, ${mean("soc_pct")}, ${mean("load_w")},
      ${mean("pv_w")}, ${mean("gen_w")}, ${mean("fuel_pct")},
      mode() within group (order by source) as source,
      bool_or(gen_running) as gen_running
    from telemetry
    where site_id = ${siteId} and time >= ${options.from} and time < ${options.to}
    group by bucket
    order by bucket desc
    limit ${options.limit + 1}`;
  const truncated = rows.length > options.limit;
  const buckets = rows.slice(0, options.limit).reverse().map((r) => ({
    time: r.bucket,
    samples: r.samples,
    batteryV: r.battery_v,
    batteryA: r.battery_a,
    socPct: r.soc_pct,
    loadW: r.load_w,
    pvW: r.pv_w,
    genW: r.gen_w,
    fuelPct: r.fuel_pct,
    source: r.source,
    genRunning: r.gen_running,
  }));
  return { buckets, truncated };
}
