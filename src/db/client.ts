/**
 * The PostgreSQL client: where the URL comes from, how the connection is opened and checked,
 * and the `Db` type every store function takes (a pool, a reserved connection or a transaction).
 */
import postgres from "postgres";
import { KasiError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";

/** What store functions run on: the pool, a reserved connection, or a transaction. */
export type Db = postgres.Sql | postgres.TransactionSql;

/** The local server of the development setup (trust auth, user postgres). */
export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";

/** A server that has not answered by now is not coming; postgres.js would wait 30 s. */
const CONNECT_TIMEOUT_S = 10;

/** PostgreSQL's int8 type oid (pg_type.oid for `bigint`). */
const INT8_OID = 20;

/**
 * Counts, bigserial ids and sequence numbers arrive as numbers. postgres.js returns int8 as a
 * string because it can exceed 2^53; such a value stays a string here rather than losing digits.
 */
const int8AsNumber: postgres.PostgresType<number | string> = {
  to: INT8_OID,
  from: [INT8_OID],
  serialize: (value: number | string) => String(value),
  parse: (raw: string) => {
    const n = Number(raw);
    return Number.isSafeInteger(n) ? n : raw;
  },
};

/** The URL with any password replaced, for messages and logs. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    // Not a URL: show it, but never what could be a password (in "//user:password@").
    return url.replace(/(\/\/[^:@/]*:)[^@/]*@/, "$1***@");
  }
}

function checkUrl(url: string, field: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KasiError(
      "CONFIG_INVALID",
      `${field}: expected a URL like ${DEFAULT_DATABASE_URL}, got "${redactDatabaseUrl(url)}"`,
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new KasiError(
      "CONFIG_INVALID",
      `${field}: expected a postgres:// or postgresql:// URL, got "${redactDatabaseUrl(url)}"`,
    );
  }
  return url;
}

/**
 * One precedence order: `--database-url` flag > KASI_DATABASE_URL > DATABASE_URL (the name the
 * first generation used) > the local default. Empty variables count as unset.
 */
export function resolveDatabaseUrl(
  options: { flag?: string; env: Record<string, string | undefined> },
): string {
  if (options.flag !== undefined) return checkUrl(options.flag, "--database-url");
  for (const name of ["KASI_DATABASE_URL", "DATABASE_URL"]) {
    const value = options.env[name]?.trim();
    if (value) return checkUrl(value, name);
  }
  return DEFAULT_DATABASE_URL;
}

function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return reasonOf(error.errors[0]);
  }
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return error.message || (typeof code === "string" ? code : error.name);
  }
  return String(error);
}

/**
 * Opens a client and proves the server answers (`select 1`), so a wrong URL fails here with
 * DATABASE_UNAVAILABLE rather than on the first write. Notices (e.g. "relation already exists,
 * skipping" from idempotent DDL) are dropped.
 */
export async function connectDatabase(
  url: string,
  options: { max?: number; log?: Logger } = {},
): Promise<postgres.Sql> {
  const where = redactDatabaseUrl(checkUrl(url, "database URL"));
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connect_timeout: CONNECT_TIMEOUT_S,
    connection: { application_name: "kasi" },
    types: { int8: int8AsNumber },
  }) as unknown as postgres.Sql;
  try {
    await sql`select 1`;
  } catch (error) {
    await sql.end({ timeout: 0 }).catch(() => {});
    throw new KasiError(
      "DATABASE_UNAVAILABLE",
      `Cannot connect to PostgreSQL at ${where}: ${reasonOf(error)}`,
      { cause: error },
    );
  }
  options.log?.debug("connected to PostgreSQL", { url: where });
  return sql;
}
