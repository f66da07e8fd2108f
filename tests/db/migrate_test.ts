import assert from "node:assert/strict";
import postgres from "postgres";
import { KasiError } from "../../src/core/errors.ts";
import { MemoryLogger } from "../../src/core/log.ts";
import { MIGRATION_LOCK_KEY, runMigrations } from "../../src/db/migrate.ts";
import { MIGRATIONS } from "../../src/db/migrations.ts";
import { withTempDatabase } from "../_helpers/pg.ts";

async function tableNames(sql: postgres.Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' order by table_name`;
  return rows.map((r) => r.name);
}

/** Advisory locks held (or, with `waiting`, waited for) in this test's own database. */
async function advisoryLocks(sql: postgres.Sql, options: { waiting?: boolean } = {}) {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from pg_locks
    where locktype = 'advisory' and granted = ${!options.waiting}
      and database = (select oid from pg_database where datname = current_database())`;
  return row!.n;
}

Deno.test("runMigrations() creates the schema on an empty database, then has nothing to do", async () => {
  await withTempDatabase(async (_url, sql) => {
    const log = new MemoryLogger();
    const first = await runMigrations(sql, { log });
    assert.deepEqual(first.applied, [
      "1: initial schema",
      "2: power_events shows first-generation sites",
      "3: hourly telemetry rollup",
      "4: alarms",
    ]);
    assert.equal(first.total, MIGRATIONS.length);
    // True exactly when the server had TimescaleDB to offer (the test server does not).
    const [ext] = await sql`
      select exists(select 1 from pg_available_extensions where name = 'timescaledb') as offered`;
    assert.equal(first.timescale, ext!.offered);
    assert.deepEqual(await tableNames(sql), [
      "alarms",
      "commands",
      "power_events", // information_schema.tables lists views too
      "rejected_messages",
      "schema_migrations",
      "site_events",
      "sites",
      "telemetry",
      "telemetry_hourly",
    ]);
    // Without TimescaleDB the rollup is a table the backend maintains.
    assert.equal(first.rollup, first.timescale ? "continuous-aggregate" : "table");
    assert.ok(log.entries.some((e) => e.msg === "applied migration" && e.fields.version === 1));

    const second = await runMigrations(sql, { log });
    assert.deepEqual(second.applied, []);
    assert.equal(second.total, MIGRATIONS.length);
    const [count] = await sql`select count(*)::int as n from schema_migrations`;
    assert.equal(count!.n, MIGRATIONS.length);
  });
});

Deno.test("runMigrations() on two clients at once waits for the lock and applies each migration once", async () => {
  await withTempDatabase(async (url) => {
    const holder = postgres(url, { max: 1, onnotice: () => {} });
    const a = postgres(url, { max: 1, onnotice: () => {} });
    const b = postgres(url, { max: 1, onnotice: () => {} });
    try {
      // Hold the migration lock, so both runs are certainly waiting at the same time.
      await holder`select pg_advisory_lock(${MIGRATION_LOCK_KEY}::bigint)`;
      const log = new MemoryLogger();
      const runs = Promise.all([runMigrations(a, { log }), runMigrations(b, { log })]);
      for (let i = 0; i < 100; i++) {
        if (await advisoryLocks(holder, { waiting: true }) === 2) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const [before] = await holder`select to_regclass('schema_migrations') is null as absent`;
      assert.equal(before!.absent, true, "nothing is created while another process holds the lock");
      assert.equal(log.entries.filter((e) => e.msg.startsWith("another process")).length, 2);
      await holder`select pg_advisory_unlock(${MIGRATION_LOCK_KEY}::bigint)`;

      const [ra, rb] = await runs;
      // Exactly one of the two did the work; the other then found it done.
      assert.deepEqual([...ra.applied, ...rb.applied], [
        "1: initial schema",
        "2: power_events shows first-generation sites",
        "3: hourly telemetry rollup",
        "4: alarms",
      ]);
      assert.equal(ra.total, 4);
      assert.equal(rb.total, 4);
      const rows =
        await a`select version, count(*)::int as n from schema_migrations group by 1 order by 1`;
      assert.deepEqual(rows.map((r) => [r.version, r.n]), [[1, 1], [2, 1], [3, 1], [4, 1]]);
      assert.equal(await advisoryLocks(a), 0, "the lock is released after both runs");
    } finally {
      await holder.end({ timeout: 5 });
      await a.end({ timeout: 5 });
      await b.end({ timeout: 5 });
    }
  });
});

Deno.test("runMigrations() rolls a failing migration back and throws MIGRATION_FAILED", async () => {
  await withTempDatabase(async (_url, sql) => {
    const broken = [
      ...MIGRATIONS,
      { version: 5, name: "broken", sql: "create table half_done (x int); select 1/0;" },
    ];
    await assert.rejects(runMigrations(sql, { migrations: broken }), (error: unknown) => {
      assert.ok(error instanceof KasiError);
      assert.equal(error.code, "MIGRATION_FAILED");
      assert.equal(error.message, "Migration 5 (broken) failed: division by zero");
      return true;
    });
    // Migrations 1 to 4 committed in their own transactions; migration 5 left nothing behind.
    const rows = await sql`select version from schema_migrations order by version`;
    assert.deepEqual(rows.map((r) => r.version), [1, 2, 3, 4]);
    assert.ok(!(await tableNames(sql)).includes("half_done"));
    assert.equal(await advisoryLocks(sql), 0, "the lock is released after a failure");
  });
});

Deno.test("runMigrations() keeps a first-generation power_events table as power_events_gen1", async () => {
  await withTempDatabase(async (_url, sql) => {
    await sql`create table power_events (time timestamptz, voltage real)`;
    await sql`insert into power_events values ('2024-05-01T00:00:00Z', 12.4)`;
    await runMigrations(sql);
    const [kind] = await sql`select relkind from pg_class where relname = 'power_events'`;
    assert.equal(kind!.relkind, "v");
    const old = await sql`select voltage from power_events_gen1`;
    assert.equal(old.length, 1);
    // Without the first generation's columns nothing can be copied: telemetry stays empty.
    assert.equal((await sql`select count(*)::int as n from telemetry`)[0]!.n, 0);
  });
});

Deno.test("runMigrations() copies a first-generation history into telemetry, once", async () => {
  await withTempDatabase(async (_url, sql) => {
    // The first generation's table, with its column names and an upper-case uuid site id.
    await sql`create table power_events (time timestamptz, site_id uuid, active_source text,
      voltage real, fuel_level real, load_watts real)`;
    await sql`insert into power_events values
      ('2024-05-01T00:00:00Z', '00000000-0000-0000-0000-0000000000A1', 'Battery', 12.5, 80, 150),
      ('2024-05-01T00:00:10Z', '00000000-0000-0000-0000-0000000000A1', 'Diesel', 13.9, 79.5, 150),
      ('2024-05-01T00:00:20Z', '00000000-0000-0000-0000-0000000000a1', 'Shutdown', 11.2, 0, 0)`;
    await runMigrations(sql);
    await runMigrations(sql);
    const rows = await sql`select time, voltage, fuel_level, load_watts, active_source, site_id
      from power_events order by time`;
    assert.deepEqual(rows.map((r) => [r.active_source, r.voltage, r.fuel_level, r.load_watts]), [
      ["Battery", 12.5, 80, 150],
      ["Diesel", 13.899999618530273, 79.5, 150], // real (float4) 13.9 widened to float8
      ["Shutdown", 11.199999809265137, 0, 0],
    ]);
    assert.ok(rows.every((r) => r.site_id === "00000000-0000-0000-0000-0000000000a1"));
    const gen = await sql`select gen_running from telemetry order by time`;
    assert.deepEqual(gen.map((r) => r.gen_running), [false, true, false]);
    const [site] = await sql`select protocol, first_seen, last_seen from sites`;
    assert.equal(site!.protocol, "legacy");
    assert.deepEqual(site!.last_seen, new Date("2024-05-01T00:00:20Z"));
  });
});
