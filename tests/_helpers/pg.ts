/**
 * Each database test gets its own fresh database on the real PostgreSQL and drops it after.
 * Server: KASI_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres.
 */
import postgres from "postgres";

export const TEST_PG_URL = Deno.env.get("KASI_TEST_PG_URL") ??
  "postgres://postgres@127.0.0.1:5432/postgres";

export function databaseUrl(name: string): string {
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withTempDatabase(
  fn: (url: string, sql: postgres.Sql) => Promise<void>,
): Promise<void> {
  const name = `kasi_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(TEST_PG_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = databaseUrl(name);
  const sql = postgres(url, { max: 4, onnotice: () => {} });
  try {
    await fn(url, sql);
  } finally {
    await sql.end({ timeout: 5 });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end({ timeout: 5 });
  }
}
