/**
 * Reads and writes of the backend. Each function is one SQL statement (telemetry as arrays
 * through `unnest`, other multi-row inserts via postgres.js's `sql(rows)` helper, split only
 * beyond the protocol's parameter limit) and takes a `Db`, so a caller can group several of
 * them in one transaction. Rows are mapped to the core types here, at the edge: int8 and
 * numeric text become numbers, NULL stays null.
 */
import type postgres from "postgres";
import type { StrategicCommand } from "../core/command.ts";
import type { Logger } from "../core/log.ts";
import { type SiteProfile, SiteProfileSchema } from "../core/site_profile.ts";
import { MAX_PAYLOAD_BYTES, type Source, type TelemetryRecord } from "../core/telemetry.ts";
import type { Db } from "./client.ts";
import { boolArray, numberArray, textArray } from "./pg_arrays.ts";

/**
 * PostgreSQL's extended protocol carries at most 65 535 bind parameters per statement (Int16
 * count in the Bind message). Bigger batches are split at this many parameters.
 */
const MAX_PARAMETERS = 65_535;

export interface RejectedMessage {
  topic: string;
  payload: Uint8Array;
  reason: string;
  receivedAt: Date;
}

export type SiteStatus = "online" | "offline" | "unknown";
export type Protocol = TelemetryRecord["protocol"];

/** What the backend restores at start for each known site. */
export interface SiteSnapshot {
  siteId: string;
  protocol: Protocol;
  status: SiteStatus;
  /** Null when none was saved, or when the saved one no longer parses. */
  profile: SiteProfile | null;
  /** The newest telemetry row of the site. */
  latest: TelemetryRecord | null;
  lastCommandSeq: number | null;
}

const TELEMETRY_COLUMNS = [
  "time",
  "site_id",
  "protocol",
  "source",
  "battery_v",
  "battery_a",
  "soc_pct",
  "battery_temp_c",
  "load_w",
  "pv_w",
  "gen_running",
  "gen_w",
  "fuel_pct",
  "shed_tier",
  "seq",
  "clock_restamped",
] as const;

type TelemetryRow = {
  time: Date;
  site_id: string;
  protocol: string;
  source: string;
  battery_v: number;
  battery_a: number | null;
  soc_pct: number | null;
  battery_temp_c: number | null;
  load_w: number;
  pv_w: number | null;
  gen_running: boolean;
  gen_w: number | null;
  fuel_pct: number | null;
  shed_tier: number | null;
  seq: number | string | null;
  clock_restamped: boolean;
};

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function fromTelemetryRow(row: TelemetryRow): TelemetryRecord {
  return {
    siteId: row.site_id,
    time: row.time,
    protocol: row.protocol as Protocol,
    source: row.source as Source,
    batteryV: Number(row.battery_v),
    batteryA: numberOrNull(row.battery_a),
    socPct: numberOrNull(row.soc_pct),
    batteryTempC: numberOrNull(row.battery_temp_c),
    loadW: Number(row.load_w),
    pvW: numberOrNull(row.pv_w),
    genRunning: row.gen_running,
    genW: numberOrNull(row.gen_w),
    fuelPct: numberOrNull(row.fuel_pct),
    shedTier: numberOrNull(row.shed_tier),
    seq: numberOrNull(row.seq),
    clockRestamped: row.clock_restamped,
  };
}

function chunks<T>(items: readonly T[], columns: number): T[][] {
  const size = Math.floor(MAX_PARAMETERS / columns);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Inserts telemetry; a row whose (site_id, time) is already stored is skipped, so a redelivered
 * message is harmless. Returns the number of rows actually inserted.
 *
 * One statement for any number of rows: each column travels as one array parameter and
 * `unnest` turns the arrays back into rows. Compared with a multi-row VALUES list (16 bind
 * parameters per row, each serialized on its own, and a new statement text for every batch
 * size), the statement text is constant (prepared once) and the client builds 16 strings per
 * batch. The bench:ingest profile showed parameter serialization as a fifth of the backend's
 * CPU with VALUES.
 */
export async function insertTelemetry(db: Db, records: TelemetryRecord[]): Promise<number> {
  if (records.length === 0) return 0;
  // In key order: two transactions inserting the same keys (a redelivery racing its original)
  // then take the index locks in one order and wait for each other instead of deadlocking.
  const sorted = [...records].sort((a, b) =>
    a.siteId < b.siteId ? -1 : a.siteId > b.siteId ? 1 : a.time.getTime() - b.time.getTime()
  );
  const col = <T>(f: (r: TelemetryRecord) => T) => sorted.map(f);
  const result = await db`
    insert into telemetry (${db(TELEMETRY_COLUMNS)})
    select * from unnest(
      ${textArray(col((r) => r.time.toISOString()))}::timestamptz[],
      ${textArray(col((r) => r.siteId))}::text[],
      ${textArray(col((r) => r.protocol))}::text[],
      ${textArray(col((r) => r.source))}::text[],
      ${numberArray(col((r) => r.batteryV))}::float8[],
      ${numberArray(col((r) => r.batteryA))}::float8[],
      ${numberArray(col((r) => r.socPct))}::float8[],
      ${numberArray(col((r) => r.batteryTempC))}::float8[],
      ${numberArray(col((r) => r.loadW))}::float8[],
      ${numberArray(col((r) => r.pvW))}::float8[],
      ${boolArray(col((r) => r.genRunning))}::bool[],
      ${numberArray(col((r) => r.genW))}::float8[],
      ${numberArray(col((r) => r.fuelPct))}::float8[],
      ${numberArray(col((r) => r.shedTier))}::int2[],
      ${numberArray(col((r) => r.seq))}::int8[],
      ${boolArray(col((r) => r.clockRestamped))}::bool[]
    )
    on conflict (site_id, time) do nothing`;
  return result.count;
}

/** Stores rejected payloads, cut to MAX_PAYLOAD_BYTES; `payload_bytes` keeps the full size. */
export async function insertRejects(db: Db, rejects: RejectedMessage[]): Promise<number> {
  if (rejects.length === 0) return 0;
  const rows = rejects.map((r) => ({
    received_at: r.receivedAt,
    topic: r.topic,
    payload: r.payload.byteLength > MAX_PAYLOAD_BYTES
      ? r.payload.subarray(0, MAX_PAYLOAD_BYTES)
      : r.payload,
    payload_bytes: r.payload.byteLength,
    truncated: r.payload.byteLength > MAX_PAYLOAD_BYTES,
    reason: r.reason,
  }));
  let inserted = 0;
  for (const part of chunks(rows, 6)) {
    inserted += (await db`insert into rejected_messages ${db(part)}`).count;
  }
  return inserted;
}

/**
 * Records that sites were seen: new sites are inserted, known ones get `last_seen` raised (never
 * lowered, so a late batch cannot move it back) and `first_seen` kept. The protocol follows the
 * newest sighting, so a site that moves from the first generation to v1 is shown as v1.
 */
export async function upsertSites(
  db: Db,
  sites: { siteId: string; protocol: Protocol; seenAt: Date }[],
): Promise<void> {
  // One statement may not update the same row twice (ON CONFLICT DO UPDATE), so merge first.
  const merged = new Map<string, { protocol: Protocol; first: Date; last: Date }>();
  for (const s of sites) {
    const seen = merged.get(s.siteId);
    if (!seen) {
      merged.set(s.siteId, { protocol: s.protocol, first: s.seenAt, last: s.seenAt });
      continue;
    }
    if (s.seenAt.getTime() < seen.first.getTime()) seen.first = s.seenAt;
    if (s.seenAt.getTime() >= seen.last.getTime()) {
      seen.last = s.seenAt;
      seen.protocol = s.protocol;
    }
  }
  if (merged.size === 0) return;
  // In site order, so that concurrent batches lock the rows they share in one order.
  const rows = [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  await db`
    insert into sites (site_id, protocol, first_seen, last_seen)
    select * from unnest(
      ${textArray(rows.map(([siteId]) => siteId))}::text[],
      ${textArray(rows.map(([, s]) => s.protocol))}::text[],
      ${textArray(rows.map(([, s]) => s.first.toISOString()))}::timestamptz[],
      ${textArray(rows.map(([, s]) => s.last.toISOString()))}::timestamptz[]
    )
    on conflict (site_id) do update set
      protocol = case when excluded.last_seen >= sites.last_seen
        then excluded.protocol else sites.protocol end,
      last_seen = greatest(sites.last_seen, excluded.last_seen)`;
}

/**
 * Sets a site's availability. An older status (a late retained message) never overwrites a
 * newer one. A site not yet known is created, seen at `at`.
 */
export async function setSiteStatus(
  db: Db,
  siteId: string,
  options: { status: "online" | "offline"; at: Date; protocol?: Protocol },
): Promise<void> {
  await db`
    insert into sites (site_id, protocol, status, status_at, first_seen, last_seen)
    values (${siteId}, ${options.protocol ?? "v1"}, ${options.status}, ${options.at},
      ${options.at}, ${options.at})
    on conflict (site_id) do update set
      status = excluded.status,
      status_at = excluded.status_at,
      protocol = coalesce(${options.protocol ?? null}::text, sites.protocol)
    where sites.status_at is null or sites.status_at <= excluded.status_at`;
}

/** Saves an operator's profile for a site; a site not yet seen is created as a v1 site. */
export async function saveSiteProfile(db: Db, profile: SiteProfile): Promise<void> {
  await db`
    insert into sites (site_id, protocol, profile, first_seen, last_seen)
    values (${profile.siteId}, 'v1', ${db.json(profile as postgres.JSONValue)}, now(), now())
    on conflict (site_id) do update set profile = excluded.profile`;
}

/**
 * Records a command as published. Returns false when the site already has a command with this
 * `seq` (the same command re-saved, e.g. after a retry), which is left as it was.
 */
export async function insertCommand(
  db: Db,
  options: { command: StrategicCommand; topic: string; payload: string },
): Promise<boolean> {
  const { command } = options;
  const result = await db`
    insert into commands (site_id, seq, issued_at, valid_until, topic, payload)
    values (${command.siteId}, ${command.seq}, ${command.issuedAt}, ${command.validUntil},
      ${options.topic}, ${options.payload}::text::jsonb)
    on conflict (site_id, seq) do nothing`;
  return result.count === 1;
}

/**
 * Stores events devices published; `detail` is kept as JSON. A missing (undefined or null)
 * detail is stored as `{}`: postgres.js sends a null parameter as SQL NULL, and the column
 * requires a value. An event identical to one already stored (same site, time, kind and
 * detail) — a QoS 1 redelivery, or a recording replayed again — is skipped, so it is one row;
 * the (site_id, time) index makes the check a lookup. Returns the number of rows inserted.
 */
export async function insertSiteEvents(
  db: Db,
  events: { siteId: string; time: Date; kind: string; detail: unknown }[],
): Promise<number> {
  if (events.length === 0) return 0;
  // Repeats within the batch are dropped here, in order (the statement cannot see its own rows).
  const seen = new Set<string>();
  const kept: { siteId: string; time: Date; kind: string; detail: string }[] = [];
  for (const e of events) {
    const detail = JSON.stringify(e.detail ?? {});
    const key = JSON.stringify([e.siteId, e.time.getTime(), e.kind]) + detail;
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push({ siteId: e.siteId, time: e.time, kind: e.kind, detail });
  }
  // Arrays through unnest, like telemetry: one statement text whatever the batch size, where a
  // VALUES list made (and postgres.js prepared and kept) one per size. `with ordinality` keeps
  // the arrival order for the ids.
  const result = await db`
    insert into site_events (site_id, time, kind, detail)
    select v.site_id, v.time, v.kind, v.detail
    from unnest(
      ${textArray(kept.map((e) => e.siteId))}::text[],
      ${textArray(kept.map((e) => e.time.toISOString()))}::timestamptz[],
      ${textArray(kept.map((e) => e.kind))}::text[],
      ${textArray(kept.map((e) => e.detail))}::jsonb[]
    ) with ordinality as v (site_id, time, kind, detail, n)
    where not exists (
      select 1 from site_events e
      where e.site_id = v.site_id and e.time = v.time and e.kind = v.kind
        and e.detail = v.detail
    )
    order by v.n`;
  return result.count;
}

type SnapshotRow = {
  site_id: string;
  protocol: string;
  status: string;
  profile: unknown;
  last_command_seq: number | string | null;
  /** The newest telemetry row's columns, prefixed `t_`; all null when the site has none. */
  t_time: Date | null;
  [column: string]: unknown;
};

function latestOf(row: SnapshotRow): TelemetryRecord | null {
  if (row.t_time === null) return null;
  const columns = TELEMETRY_COLUMNS.map((c) => [c, row[`t_${c}`]]);
  return fromTelemetryRow(Object.fromEntries(columns) as TelemetryRow);
}

/**
 * Every known site with its profile, newest telemetry row and highest command seq: what the
 * backend needs to rebuild its in-memory state at start. A stored profile that no longer parses
 * (say, saved by an older version) is logged and returned as null rather than failing the start.
 */
export async function loadSiteSnapshots(
  db: Db,
  options: { log?: Logger } = {},
): Promise<SiteSnapshot[]> {
  const rows = await db<SnapshotRow[]>`
    select s.site_id, s.protocol, s.status, s.profile,
      c.last_command_seq,
      ${db.unsafe(TELEMETRY_COLUMNS.map((c) => `t.${c} as t_${c}`).join(", "))}
    from sites s
    left join lateral (
      select * from telemetry
      where telemetry.site_id = s.site_id
      order by telemetry.time desc
      limit 1
    ) t on true
    left join lateral (
      select max(commands.seq) as last_command_seq from commands
      where commands.site_id = s.site_id
    ) c on true
    order by s.site_id`;
  return rows.map((row) => {
    let profile: SiteProfile | null = null;
    if (row.profile !== null) {
      const parsed = SiteProfileSchema.safeParse(row.profile);
      if (parsed.success) profile = parsed.data;
      else {
        options.log?.warn("ignoring a stored site profile that does not parse", {
          siteId: row.site_id,
          error: parsed.error.message,
        });
      }
    }
    return {
      siteId: row.site_id,
      protocol: row.protocol as Protocol,
      status: row.status as SiteStatus,
      profile,
      latest: latestOf(row),
      lastCommandSeq: numberOrNull(row.last_command_seq),
    };
  });
}

/**
 * A site's telemetry from `since` on, oldest first. With `limit`, the newest `limit` rows of
 * that range (still oldest first), so a long outage cannot flood the caller.
 */
export async function recentTelemetry(
  db: Db,
  siteId: string,
  options: { since: Date; limit?: number },
): Promise<TelemetryRecord[]> {
  const rows = await db<TelemetryRow[]>`
    select * from (
      select ${db(TELEMETRY_COLUMNS)} from telemetry
      where site_id = ${siteId} and time >= ${options.since}
      order by time desc
      limit ${options.limit ?? null}
    ) newest
    order by time`;
  return rows.map(fromTelemetryRow);
}

/**
 * A site's telemetry with `from` ≤ time < `to`, oldest first: at most the newest `limit` rows,
 * and whether more were left out (the HTTP API and the web view's charts).
 */
export async function telemetryBetween(
  db: Db,
  siteId: string,
  options: { from: Date; to: Date; limit: number },
): Promise<{ records: TelemetryRecord[]; truncated: boolean }> {
  const rows = await db<TelemetryRow[]>`
    select ${db(TELEMETRY_COLUMNS)} from telemetry
    where site_id = ${siteId} and time >= ${options.from} and time < ${options.to}
    order by time desc
    limit ${options.limit + 1}`;
  const truncated = rows.length > options.limit;
  return { records: rows.slice(0, options.limit).reverse().map(fromTelemetryRow), truncated };
}
