/**
 * `telemetry_hourly`: one row per site and UTC hour, summarising that hour's telemetry. Its
 * aggregates are defined once, here, and used both by the backend's rollup of the plain table
 * (below) and by the TimescaleDB continuous aggregate that replaces the table where TimescaleDB
 * is enabled (src/db/timescale.ts), so the two relations hold the same numbers under one name.
 */
import type { Db } from "./client.ts";

/**
 * Each column after (bucket, site_id), with the aggregate over that hour's telemetry rows. Only
 * plain aggregates over the row's own columns: what a continuous aggregate accepts (immutable
 * functions, no window functions) and what PostgreSQL computes identically everywhere.
 */
export const HOURLY_AGGREGATES: readonly (readonly [column: string, aggregate: string])[] = [
  ["samples", "count(*)"],
  ["first_time", "min(time)"],
  ["last_time", "max(time)"],
  ["soc_avg_pct", "avg(soc_pct)"],
  ["soc_min_pct", "min(soc_pct)"],
  ["soc_max_pct", "max(soc_pct)"],
  ["battery_avg_v", "avg(battery_v)"],
  ["battery_min_v", "min(battery_v)"],
  ["battery_max_v", "max(battery_v)"],
  ["battery_temp_max_c", "max(battery_temp_c)"],
  ["load_avg_w", "avg(load_w)"],
  ["load_max_w", "max(load_w)"],
  ["pv_avg_w", "avg(pv_w)"],
  ["pv_max_w", "max(pv_w)"],
  ["gen_avg_w", "avg(gen_w)"],
  ["fuel_avg_pct", "avg(fuel_pct)"],
  ["fuel_min_pct", "min(fuel_pct)"],
  ["fuel_max_pct", "max(fuel_pct)"],
  ["gen_running_samples", "sum(CASE WHEN gen_running THEN 1 ELSE 0 END)"],
  ["source_battery_samples", "sum(CASE WHEN source = 'battery' THEN 1 ELSE 0 END)"],
  ["source_generator_samples", "sum(CASE WHEN source = 'generator' THEN 1 ELSE 0 END)"],
  ["source_off_samples", "sum(CASE WHEN source = 'off' THEN 1 ELSE 0 END)"],
  ["shed_samples", "sum(CASE WHEN shed_tier > 0 THEN 1 ELSE 0 END)"],
];

/**
 * date_bin's origin: any whole UTC hour gives the same hourly buckets as TimescaleDB's
 * time_bucket('1 hour', time), which buckets a timestamptz by its UTC time from a default origin
 * of 2000-01-03 00:00 UTC, a Monday (timescale/docs api/time_bucket.md).
 */
const ORIGIN = "timestamptz '2000-01-01 00:00:00+00'";

/** The bucket of `time`: the start of its UTC hour. */
export function hourOf(time: Date): Date {
  return new Date(Math.floor(time.getTime() / 3_600_000) * 3_600_000);
}

/** The SELECT list after the bucket: `site_id, count(*) AS samples, ...`. */
export function hourlySelectList(): string {
  return ["site_id", ...HOURLY_AGGREGATES.map(([column, agg]) => `${agg} AS ${column}`)].join(
    ",\n  ",
  );
}

const COLUMNS = HOURLY_AGGREGATES.map(([column]) => column);
const INSERT_COLUMNS = ["bucket", "site_id", ...COLUMNS].join(", ");
const AGGREGATES = HOURLY_AGGREGATES.map(([, agg]) => agg).join(", ");
const UPDATE = COLUMNS.map((c) => `${c} = excluded.${c}`).join(", ");

/** What telemetry_hourly is in this database. */
export type HourlyRollupKind = "table" | "continuous-aggregate" | "missing";

/**
 * A plain table (maintained by the backend), a view (TimescaleDB's continuous aggregate: its
 * user-facing relation is a view over the materialisation), or absent (not yet migrated).
 */
export async function hourlyRollupKind(db: Db): Promise<HourlyRollupKind> {
  const [row] = await db<{ relkind: string | null }[]>`
    select (select relkind from pg_class where oid = to_regclass('telemetry_hourly'))::text
      as relkind`;
  if (row?.relkind === "r") return "table";
  if (row?.relkind === "v") return "continuous-aggregate";
  return "missing";
}

/** A site's hour, as the rollup keys it. */
export interface SiteHour {
  siteId: string;
  /** Start of the UTC hour. */
  bucket: Date;
}

/**
 * Recomputes the given site-hours of the plain table from telemetry, in one idempotent
 * statement (INSERT ... ON CONFLICT DO UPDATE): rerunning it, or running it on an hour that
 * gained late rows, leaves exactly the aggregates of the rows stored. Each hour is found through
 * the telemetry primary key (site_id, time). Returns the number of rows written.
 */
export async function recomputeHours(db: Db, hours: readonly SiteHour[]): Promise<number> {
  if (hours.length === 0) return 0;
  const keys = hours.map((h) => ({ site_id: h.siteId, bucket: h.bucket.toISOString() }));
  const result = await db`
    insert into telemetry_hourly (${db.unsafe(INSERT_COLUMNS)})
    select date_bin('1 hour', t.time, ${db.unsafe(ORIGIN)}) as bucket, t.site_id,
      ${db.unsafe(AGGREGATES)}
    from (
      select distinct site_id, bucket
      from jsonb_to_recordset(${db.json(keys)}) as k(site_id text, bucket timestamptz)
    ) k
    join telemetry t
      on t.site_id = k.site_id and t.time >= k.bucket and t.time < k.bucket + interval '1 hour'
    group by 1, 2
    on conflict (site_id, bucket) do update set ${db.unsafe(UPDATE)}`;
  return result.count;
}

/**
 * Brings the plain table up to date for every site from its newest stored hour on (that hour
 * included, it may have been partial): what was written while no backend ran, or before this
 * table existed (a first-generation history copied by migration 2). Returns rows written.
 */
export async function catchUpHours(db: Db): Promise<number> {
  const result = await db`
    insert into telemetry_hourly (${db.unsafe(INSERT_COLUMNS)})
    select date_bin('1 hour', t.time, ${db.unsafe(ORIGIN)}) as bucket, t.site_id,
      ${db.unsafe(AGGREGATES)}
    from sites s
    cross join lateral (
      select max(h.bucket) as last_bucket from telemetry_hourly h where h.site_id = s.site_id
    ) h
    join telemetry t on t.site_id = s.site_id
      and t.time >= coalesce(h.last_bucket, '-infinity'::timestamptz)
    group by 1, 2
    on conflict (site_id, bucket) do update set ${db.unsafe(UPDATE)}`;
  return result.count;
}
