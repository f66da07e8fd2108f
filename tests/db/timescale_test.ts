/**
 * TimescaleDB cannot be installed on the test machines, so its SQL (src/db/timescale.ts) is
 * checked on plain PostgreSQL as far as PostgreSQL can check it: the grammar (TimescaleDB is an
 * extension: its statements go through PostgreSQL's own parser), the aggregate's query against
 * the real schema, and the policy calls bound to stand-ins declared with the signatures of
 * timescale/timescaledb sql/policy_api.sql. What runs only inside TimescaleDB (the aggregate
 * itself, the background jobs) is not exercised here.
 */
import assert from "node:assert/strict";
import type postgres from "postgres";
import { MemoryLogger } from "../../src/core/log.ts";
import { runMigrations } from "../../src/db/migrate.ts";
import {
  applyTimescaleExtras,
  COMPRESSION_POLICY_SQL,
  COMPRESSION_SQL,
  CONTINUOUS_AGGREGATE_SQL,
  INITIAL_REFRESH_SQL,
  REFRESH_POLICY_SQL,
  RETENTION_POLICY_SQL,
} from "../../src/db/timescale.ts";
import { withTempDatabase } from "../_helpers/pg.ts";

/** time_bucket for timestamptz as documented (timescale/docs api/time_bucket.md). */
const TIME_BUCKET = `
create function time_bucket(bucket_width interval, ts timestamptz) returns timestamptz
language sql immutable as $$ select date_bin(bucket_width, ts, timestamptz '2000-01-03Z') $$`;

/** The SQLSTATE of what `statement` raises, or null when it succeeds. */
async function sqlState(sql: postgres.Sql, statement: string): Promise<string | null> {
  try {
    await sql.unsafe(statement);
    return null;
  } catch (error) {
    return (error as { code?: string }).code ?? "no code";
  }
}

Deno.test("TimescaleDB statements parse on PostgreSQL's grammar and fail only for want of the extension", async () => {
  await withTempDatabase(async (_url, sql) => {
    await runMigrations(sql);
    await sql.unsafe(TIME_BUCKET);
    // 22023 "unrecognized parameter namespace timescaledb": parsed, and the aggregate's query
    // analysed against the real telemetry table (an unknown column would be 42703 first).
    assert.equal(
      await sqlState(sql, CONTINUOUS_AGGREGATE_SQL.replace("telemetry_hourly", "hourly_probe")),
      "22023",
    );
    assert.equal(await sqlState(sql, COMPRESSION_SQL), "22023");
    // 42883 "function/procedure does not exist": parsed; only the extension's functions lack.
    for (const statement of [INITIAL_REFRESH_SQL, REFRESH_POLICY_SQL, COMPRESSION_POLICY_SQL]) {
      assert.equal(await sqlState(sql, statement), "42883", statement);
    }
    assert.equal(await sqlState(sql, RETENTION_POLICY_SQL), "42883");
    // And a real syntax error looks different (42601), so the checks above can fail.
    assert.equal(
      await sqlState(sql, CONTINUOUS_AGGREGATE_SQL.replace("NO DATA", "NO DAT")),
      "42601",
    );
  });
});

/**
 * Stand-ins that record their arguments, one schema per signature generation of
 * timescale/timescaledb sql/policy_api.sql:
 * - ts_2_0 (2.0): add_retention_policy(relation, drop_after, if_not_exists),
 *   add_compression_policy(hypertable, compress_after, if_not_exists),
 *   add_continuous_aggregate_policy(continuous_aggregate, start_offset, end_offset,
 *   schedule_interval, if_not_exists);
 * - ts_2_x (later 2.x): schedule_interval, initial_start and timezone added to the first two,
 *   initial_start and timezone to the third.
 * Their "any" arguments are declared INTERVAL, the type the docs prescribe for a TIMESTAMPTZ
 * time column (add_compression_policy, add_retention_policy, add_continuous_aggregate_policy).
 */
function stubs(schema: string, later: boolean): string {
  const tail = later ? ", initial_start timestamptz = null, timezone text = null" : "";
  const policyTail = later ? `, schedule_interval interval = null${tail}` : "";
  const record = (fn: string, args: string) =>
    `language plpgsql as $$ begin insert into public.calls values ('${fn}', ${args});
     return 1; end $$`;
  return `
  create schema ${schema};
  create function ${schema}.add_continuous_aggregate_policy(continuous_aggregate regclass,
    start_offset interval, end_offset interval, schedule_interval interval,
    if_not_exists boolean = false${tail}) returns integer
    ${
    record(
      "refresh",
      "continuous_aggregate::text, start_offset, end_offset, schedule_interval, if_not_exists",
    )
  };
  create function ${schema}.add_compression_policy(hypertable regclass, compress_after interval,
    if_not_exists boolean = false${policyTail}) returns integer
    ${record("compression", "hypertable::text, compress_after, null, null, if_not_exists")};
  create function ${schema}.add_retention_policy(relation regclass, drop_after interval,
    if_not_exists boolean = false${policyTail}) returns integer
    ${record("retention", "relation::text, drop_after, null, null, if_not_exists")};
  create procedure ${schema}.refresh_continuous_aggregate(continuous_aggregate regclass,
    window_start timestamptz, window_end timestamptz) language plpgsql as $$
    begin insert into public.calls values ('materialise', continuous_aggregate::text,
      null, null, null, window_start is null and window_end is null); end $$;`;
}

Deno.test("TimescaleDB policy calls bind to the documented signatures, 2.0 and later", async () => {
  await withTempDatabase(async (_url, sql) => {
    await runMigrations(sql);
    await sql.unsafe(`create table calls (fn text, relation text, a interval, b interval,
      c interval, flag boolean)`);
    for (const [schema, later] of [["ts_2_0", false], ["ts_2_x", true]] as const) {
      await sql.unsafe(stubs(schema, later));
      await sql.begin(async (tx) => {
        await tx.unsafe(`set local search_path = ${schema}, public`);
        for (const statement of [REFRESH_POLICY_SQL, COMPRESSION_POLICY_SQL]) {
          await tx.unsafe(statement);
        }
        await tx.unsafe(RETENTION_POLICY_SQL);
        await tx.unsafe(INITIAL_REFRESH_SQL);
      });
      const rows = await sql<{ fn: string; relation: string; a: string; b: string }[]>`
        select fn, relation, a::text, b::text, c::text, flag from calls`;
      // The values the comments in src/db/timescale.ts give, each on its own named argument.
      assert.deepEqual(rows.map((r) => ({ ...r })), [
        {
          fn: "refresh",
          relation: "telemetry_hourly",
          a: "7 days",
          b: "01:00:00",
          c: "00:30:00",
          flag: true,
        },
        { fn: "compression", relation: "telemetry", a: "14 days", b: null, c: null, flag: true },
        { fn: "retention", relation: "telemetry", a: "1 year", b: null, c: null, flag: true },
        // The whole history: a NULL window on both ends.
        { fn: "materialise", relation: "telemetry_hourly", a: null, b: null, c: null, flag: true },
      ], schema);
      await sql`delete from calls`;
    }
  });
});

Deno.test("applyTimescaleExtras() keeps the plain table and warns when the aggregate cannot be made", async () => {
  await withTempDatabase(async (_url, sql) => {
    await runMigrations(sql);
    // A server whose TimescaleDB lacks the community features (an Apache-only build): the
    // catalogue view and the policy functions exist, continuous aggregates and compression don't.
    await sql.unsafe(`create table calls (fn text, relation text, a interval, b interval,
      c interval, flag boolean)`);
    await sql.unsafe(stubs("ts_2_x", true));
    await sql.unsafe(`
      create schema timescaledb_information;
      create view timescaledb_information.hypertables as
        select current_schema()::name as hypertable_schema, 'telemetry'::name as hypertable_name,
          false as compression_enabled`);
    const log = new MemoryLogger();
    const conn = await sql.reserve();
    try {
      await conn.unsafe("set search_path = public, ts_2_x");
      assert.equal(await applyTimescaleExtras(conn, log), "table");
    } finally {
      conn.release();
    }
    const warnings = log.entries.filter((e) => e.level === "warn").map((e) => e.msg);
    assert.deepEqual(warnings, [
      "cannot create the continuous aggregate; the backend keeps telemetry_hourly",
      "TimescaleDB compression not applied",
    ]);
    const [kind] = await sql`select relkind::text from pg_class where relname = 'telemetry_hourly'`;
    assert.equal(kind!.relkind, "r", "the rolled-back DROP left the table in place");
    // No refresh policy for a table, no compression policy without compression; retention yes.
    const calls = await sql`select fn from calls`;
    assert.deepEqual(calls.map((c) => c.fn), ["retention"]);
  });
});
