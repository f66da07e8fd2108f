/**
 * The alarms table (migration 4): raise, acknowledge, clear, list, and the open ones for a start.
 * One open alarm per (site, kind) is the partial unique index's to keep: a raise that finds one
 * open returns null, and the caller adopts the open one.
 */
import { type Alarm, type AlarmKind, type AlarmValues, isAlarmKind } from "../core/alarm.ts";
import type { Db } from "./client.ts";

interface AlarmRow {
  id: number | string;
  site_id: string;
  kind: string;
  severity: string;
  state: string;
  message: string;
  raised_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  cleared_at: Date | null;
  values: unknown;
  cleared_values: unknown;
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

function values(v: unknown): AlarmValues {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v as AlarmValues : {};
}

/** A row as an Alarm; a row of a kind this version does not know is skipped (null). */
function fromRow(r: AlarmRow): Alarm | null {
  if (!isAlarmKind(r.kind)) return null;
  return {
    id: Number(r.id),
    siteId: r.site_id,
    kind: r.kind,
    severity: r.severity === "critical" ? "critical" : "warning",
    state: r.state as Alarm["state"],
    message: r.message,
    raisedAt: r.raised_at.toISOString(),
    acknowledgedAt: iso(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    clearedAt: iso(r.cleared_at),
    values: values(r.values),
    clearedValues: r.cleared_values === null ? null : values(r.cleared_values),
  };
}

function rows(result: readonly AlarmRow[]): Alarm[] {
  return result.map(fromRow).filter((a): a is Alarm => a !== null);
}

export interface NewAlarm {
  siteId: string;
  kind: AlarmKind;
  severity: Alarm["severity"];
  message: string;
  raisedAt: Date;
  values: AlarmValues;
}

/** Raises an alarm; null when one of that site and kind is already open. */
export async function insertAlarm(db: Db, a: NewAlarm): Promise<Alarm | null> {
  const result = await db<AlarmRow[]>`
    insert into alarms (site_id, kind, severity, state, message, raised_at, "values")
    values (${a.siteId}, ${a.kind}, ${a.severity}, 'raised', ${a.message}, ${a.raisedAt},
            ${db.json(a.values)})
    on conflict (site_id, kind) where state <> 'cleared' do nothing
    returning *`;
  return rows(result)[0] ?? null;
}

/** The open alarm of a site and kind, if any. */
export async function openAlarm(db: Db, siteId: string, kind: AlarmKind): Promise<Alarm | null> {
  const result = await db<AlarmRow[]>`
    select * from alarms where site_id = ${siteId} and kind = ${kind} and state <> 'cleared'`;
  return rows(result)[0] ?? null;
}

/** Every open alarm (raised or acknowledged), oldest first: the engine's state at start. */
export async function loadOpenAlarms(db: Db): Promise<Alarm[]> {
  return rows(
    await db<AlarmRow[]>`
    select * from alarms where state <> 'cleared' order by raised_at, id`,
  );
}

/** Clears the open alarm of a site and kind; null when none was open. */
export async function clearAlarm(
  db: Db,
  key: { siteId: string; kind: AlarmKind },
  clear: { at: Date; values: AlarmValues },
): Promise<Alarm | null> {
  const result = await db<AlarmRow[]>`
    update alarms set state = 'cleared', cleared_at = greatest(${clear.at}, raised_at),
      cleared_values = ${db.json(clear.values)}
    where site_id = ${key.siteId} and kind = ${key.kind} and state <> 'cleared'
    returning *`;
  return rows(result)[0] ?? null;
}

/**
 * Acknowledges a raised alarm. Returns the alarm and whether this call changed it; null when
 * there is no alarm of that id.
 */
export async function acknowledgeAlarm(
  db: Db,
  id: number,
  ack: { by: string; at: Date },
): Promise<{ alarm: Alarm; changed: boolean } | null> {
  const updated = rows(
    await db<AlarmRow[]>`
      update alarms set state = 'acknowledged', acknowledged_at = ${ack.at},
        acknowledged_by = ${ack.by}
      where id = ${id} and state = 'raised'
      returning *`,
  )[0];
  if (updated) return { alarm: updated, changed: true };
  const found = rows(await db<AlarmRow[]>`select * from alarms where id = ${id}`)[0];
  return found ? { alarm: found, changed: false } : null;
}

export interface AlarmQuery {
  siteId?: string;
  kind?: AlarmKind;
  state?: Alarm["state"] | "open";
  limit?: number;
}

/** Alarms newest first, filtered. */
export async function listAlarms(db: Db, q: AlarmQuery = {}): Promise<Alarm[]> {
  const limit = Math.max(1, Math.min(q.limit ?? 100, 10_000));
  const site = q.siteId ?? null;
  const kind = q.kind ?? null;
  const state = q.state ?? null;
  return rows(
    await db<AlarmRow[]>`
    select * from alarms
    where (${site}::text is null or site_id = ${site}::text)
      and (${kind}::text is null or kind = ${kind}::text)
      and (${state}::text is null
           or (${state}::text = 'open' and state <> 'cleared')
           or state = ${state}::text)
    order by raised_at desc, id desc
    limit ${limit}`,
  );
}
