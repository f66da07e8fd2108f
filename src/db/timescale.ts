/**
 * TimescaleDB's extras, applied by `kasi migrate` only where telemetry is already a hypertable
 * (see ensureTimescale in migrate.ts): `telemetry_hourly` becomes a continuous aggregate, old
 * telemetry chunks are compressed, and telemetry older than a year is dropped (its hourly
 * summary stays). Every step is idempotent and none is needed for correctness: when one fails,
 * the database keeps working as plain PostgreSQL does (the backend maintains the rollup table).
 *
 * Signatures used (TimescaleDB 2.x, timescale/timescaledb sql/policy_api.sql; docs api/):
 *   add_continuous_aggregate_policy(continuous_aggregate REGCLASS, start_offset "any",
 *     end_offset "any", schedule_interval INTERVAL, if_not_exists BOOL = false, ...)
 *   add_compression_policy(hypertable REGCLASS, compress_after "any", if_not_exists BOOL = false, ...)
 *   add_retention_policy(relation REGCLASS, drop_after "any", if_not_exists BOOL = false, ...)
 *   CALL refresh_continuous_aggregate(continuous_aggregate REGCLASS, window_start, window_end)
 *   ALTER TABLE t SET (timescaledb.compress, timescaledb.compress_segmentby = '...',
 *     timescaledb.compress_orderby = '...')
 *   CREATE MATERIALIZED VIEW v WITH (timescaledb.continuous [, timescaledb.<option> = <value>])
 *     AS <select> [WITH [NO] DATA]
 * Only the arguments every 2.x release has are named, so the calls work from 2.0 on.
 */
import type postgres from "postgres";
import type { Logger } from "../core/log.ts";
import { type HourlyRollupKind, hourlyRollupKind, hourlySelectList } from "./telemetry_hourly.ts";

/**
 * The continuous aggregate: the same columns as the plain table, bucketed by time_bucket (which
 * a continuous aggregate requires). Real-time (materialized_only = false): a query adds the rows
 * not yet materialised, so dashboards see the current hour (TimescaleDB 2.13+ defaults to
 * materialised only). WITH NO DATA: creating WITH DATA refreshes at once and may not run in a
 * transaction block (timescale/timescaledb#2389); the refresh is run separately, after COMMIT.
 */
export const CONTINUOUS_AGGREGATE_SQL = `
CREATE MATERIALIZED VIEW telemetry_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
${continuousAggregateSelect()}
WITH NO DATA`;

/** The aggregate's query: the plain table's columns, bucketed by time_bucket. */
export function continuousAggregateSelect(): string {
  return `SELECT time_bucket(INTERVAL '1 hour', time) AS bucket,
  ${hourlySelectList()}
FROM telemetry
GROUP BY bucket, site_id`;
}

/**
 * Materialises the whole history once, right after creation. A NULL window covers every bucket
 * (docs: refresh_continuous_aggregate). It cannot run inside a transaction block
 * (timescale/timescaledb#2876), so it runs on its own.
 */
export const INITIAL_REFRESH_SQL =
  `CALL refresh_continuous_aggregate('telemetry_hourly', NULL, NULL)`;

/**
 * Compressed chunks are segmented by site (dashboards read one site's range) and ordered by
 * time, the TimescaleDB docs' layout for per-device time series; the primary key (site_id, time)
 * includes the segment-by column, as a unique index on a compressed hypertable must.
 */
export const COMPRESSION_SQL = `ALTER TABLE telemetry SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'site_id', timescaledb.compress_orderby = 'time DESC')`;

/**
 * - Refresh: every 30 min, the hours from 7 days to 1 hour ago. A device sends its offline queue
 *   late (10,000 messages: 28 h at 10 s), and 7 days covers that with room; the real-time part
 *   serves the last hour. The window stays far inside the raw retention below, so a refresh
 *   never meets dropped data (which would delete the hours it summarised; docs: "Data retention
 *   with continuous aggregates").
 * - Compression: chunks older than 14 days, twice the refresh window, so refreshes and late
 *   rows meet uncompressed chunks.
 * - Retention: raw telemetry for a year (every season of a site at full resolution); the hourly
 *   aggregate is kept.
 * `if_not_exists => true` leaves a policy an operator changed (alter_job) as it is.
 */
export const REFRESH_POLICY_SQL = `SELECT add_continuous_aggregate_policy('telemetry_hourly',
  start_offset => INTERVAL '7 days', end_offset => INTERVAL '1 hour',
  schedule_interval => INTERVAL '30 minutes', if_not_exists => true)`;
export const COMPRESSION_POLICY_SQL = `SELECT add_compression_policy('telemetry',
  compress_after => INTERVAL '14 days', if_not_exists => true)`;
export const RETENTION_POLICY_SQL = `SELECT add_retention_policy('telemetry',
  drop_after => INTERVAL '1 year', if_not_exists => true)`;

type Conn = postgres.ReservedSql;

async function inTransaction(conn: Conn, fn: () => Promise<void>): Promise<void> {
  await conn`begin`;
  try {
    await fn();
    await conn`commit`;
  } catch (error) {
    await conn`rollback`.catch(() => {});
    throw error;
  }
}

/**
 * Applies the extras on a database whose telemetry is a hypertable, on the migration's reserved
 * connection (under its lock). Returns what telemetry_hourly is afterwards.
 */
export async function applyTimescaleExtras(
  conn: Conn,
  log: Logger | undefined,
): Promise<HourlyRollupKind> {
  if (await hourlyRollupKind(conn) === "table" && await createAggregate(conn, log)) {
    try {
      log?.info("materialising telemetry_hourly from all stored telemetry");
      await conn.unsafe(INITIAL_REFRESH_SQL);
    } catch (error) {
      log?.warn(`telemetry_hourly was not materialised; run ${INITIAL_REFRESH_SQL}`, { error });
    }
  }
  const kind = await hourlyRollupKind(conn);
  if (kind === "continuous-aggregate") {
    await step(conn, log, "refresh policy of telemetry_hourly", REFRESH_POLICY_SQL);
  }
  const [row] = await conn<{ enabled: boolean | null }[]>`
    select compression_enabled as enabled from timescaledb_information.hypertables
    where hypertable_schema = current_schema() and hypertable_name = 'telemetry'`
    .catch(() => [{ enabled: null }]);
  if (row?.enabled === true || await step(conn, log, "compression", COMPRESSION_SQL)) {
    await step(conn, log, "compression policy", COMPRESSION_POLICY_SQL);
  }
  await step(conn, log, "retention policy", RETENTION_POLICY_SQL);
  return kind;
}

/**
 * Replaces the plain table by the continuous aggregate, in one transaction: the table's rows are
 * derived from telemetry, and the aggregate recomputes all of them. On failure (say, a build
 * without the community features) the table stays, and the backend keeps maintaining it.
 */
async function createAggregate(conn: Conn, log: Logger | undefined): Promise<boolean> {
  try {
    await inTransaction(conn, async () => {
      await conn`drop table telemetry_hourly`;
      await conn.unsafe(CONTINUOUS_AGGREGATE_SQL);
    });
    return true;
  } catch (error) {
    log?.warn("cannot create the continuous aggregate; the backend keeps telemetry_hourly", {
      error,
    });
    return false;
  }
}

/** Runs one statement; a failure is logged (naming the step), not thrown. */
async function step(
  conn: Conn,
  log: Logger | undefined,
  what: string,
  statement: string,
): Promise<boolean> {
  try {
    await conn.unsafe(statement);
    return true;
  } catch (error) {
    log?.warn(`TimescaleDB ${what} not applied`, { error });
    return false;
  }
}
