/**
 * Applies pending migrations, safely when several processes start at once (two backends, or a
 * backend and `kasi migrate`): all work happens under one session-level advisory lock, on one
 * reserved connection, so a second runner waits, then finds nothing left to do.
 */
import type postgres from "postgres";
import { KasiError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { type Migration, MIGRATIONS } from "./migrations.ts";
import { type HourlyRollupKind, hourlyRollupKind } from "./telemetry_hourly.ts";
import { applyTimescaleExtras } from "./timescale.ts";

/**
 * The advisory lock key: the eight ASCII bytes "kasi-mig" read as a big-endian int8
 * (0x6b6173692d6d6967), so it is unlikely to collide with another application's key.
 * Kept as a string because it exceeds 2^53.
 */
export const MIGRATION_LOCK_KEY = "7737592530370128231";

export interface MigrationResult {
  /** "version: name" of each migration this run applied, in order. */
  applied: string[];
  /** How many migrations the database now has. */
  total: number;
  /** Whether telemetry is a TimescaleDB hypertable. */
  timescale: boolean;
  /**
   * What telemetry_hourly is: a table the backend maintains, or (with TimescaleDB) a continuous
   * aggregate with compression and retention policies on telemetry.
   */
  rollup: HourlyRollupKind;
}

const CREATE_SCHEMA_MIGRATIONS = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version int PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/**
 * A database where the first generation ran has a `power_events` table; the new schema makes
 * that name a view over `telemetry`. The old table is renamed, not dropped, so no data is lost.
 */
const MOVE_FIRST_GENERATION_TABLE = `
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relname = 'power_events' AND c.relkind = 'r'
               AND n.nspname = current_schema()) THEN
    ALTER TABLE power_events RENAME TO power_events_gen1;
  END IF;
END $$`;

type Conn = postgres.ReservedSql;

async function inTransaction(conn: Conn, fn: () => Promise<void>): Promise<void> {
  // A reserved connection has no `begin()`; it is one session, so plain BEGIN/COMMIT are safe.
  await conn`begin`;
  try {
    await fn();
    await conn`commit`;
  } catch (error) {
    await conn`rollback`.catch(() => {});
    throw error;
  }
}

async function applyMigration(conn: Conn, migration: Migration): Promise<void> {
  try {
    await inTransaction(conn, async () => {
      if (migration.version === 1) await conn.unsafe(MOVE_FIRST_GENERATION_TABLE);
      await conn.unsafe(migration.sql);
      await conn`
        insert into schema_migrations (version, name)
        values (${migration.version}, ${migration.name})`;
    });
  } catch (error) {
    throw new KasiError(
      "MIGRATION_FAILED",
      `Migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * Makes telemetry a hypertable where TimescaleDB is installed on the server. Runs on every
 * migration (it is idempotent), so a server that gains TimescaleDB later is picked up. Plain
 * PostgreSQL and PGlite have no such extension: every step is guarded and falls back.
 */
async function ensureTimescale(conn: Conn, log: Logger | undefined): Promise<boolean> {
  let available = false;
  try {
    const [row] = await conn<{ available: boolean }[]>`
      select exists(
        select 1 from pg_available_extensions where name = 'timescaledb'
      ) as available`;
    available = row?.available === true;
  } catch (error) {
    log?.debug("cannot list available extensions; assuming no TimescaleDB", { error });
    return false;
  }
  if (!available) return false;
  try {
    await inTransaction(conn, async () => {
      await conn`create extension if not exists timescaledb`;
      // by_range() arrived in TimescaleDB 2.13; older servers only know the classic call.
      const [row] = await conn<{ modern: boolean }[]>`
        select exists(select 1 from pg_proc where proname = 'by_range') as modern`;
      if (row?.modern) {
        await conn`select create_hypertable('telemetry', by_range('time'),
          if_not_exists => true, migrate_data => true)`;
      } else {
        await conn`select create_hypertable('telemetry', 'time',
          if_not_exists => true, migrate_data => true)`;
      }
    });
    return true;
  } catch (error) {
    // Typically "extension must be preloaded" (not in shared_preload_libraries).
    log?.warn("TimescaleDB is available but could not be enabled; telemetry stays a plain table", {
      error,
    });
    return false;
  }
}

/** Applies every pending migration, each in its own transaction, under the migration lock. */
export async function runMigrations(
  sql: postgres.Sql,
  options: { log?: Logger; migrations?: readonly Migration[] } = {},
): Promise<MigrationResult> {
  const { log } = options;
  const migrations = [...(options.migrations ?? MIGRATIONS)].sort((a, b) => a.version - b.version);
  const conn = await sql.reserve();
  try {
    const [got] = await conn<{ locked: boolean }[]>`
      select pg_try_advisory_lock(${MIGRATION_LOCK_KEY}::bigint) as locked`;
    if (!got?.locked) {
      log?.info("another process is migrating this database; waiting for it to finish");
      await conn`select pg_advisory_lock(${MIGRATION_LOCK_KEY}::bigint)`;
    }
    try {
      await conn.unsafe(CREATE_SCHEMA_MIGRATIONS);
      const rows = await conn<{ version: number }[]>`select version from schema_migrations`;
      const done = new Set(rows.map((r) => Number(r.version)));
      const known = new Set(migrations.map((m) => m.version));
      const unknown = [...done].filter((v) => !known.has(v));
      if (unknown.length > 0) {
        log?.warn("the database has migrations this version of Kasi does not know", {
          versions: unknown,
        });
      }
      const applied: string[] = [];
      for (const migration of migrations) {
        if (done.has(migration.version)) continue;
        await applyMigration(conn, migration);
        done.add(migration.version);
        applied.push(`${migration.version}: ${migration.name}`);
        log?.info("applied migration", { version: migration.version, name: migration.name });
      }
      const timescale = await ensureTimescale(conn, log);
      const rollup = timescale
        ? await applyTimescaleExtras(conn, log)
        : await hourlyRollupKind(conn);
      return { applied, total: done.size, timescale, rollup };
    } finally {
      await conn`select pg_advisory_unlock(${MIGRATION_LOCK_KEY}::bigint)`.catch(() => {});
    }
  } finally {
    conn.release();
  }
}
