/**
 * The JSON API under /api/v1: sites with their latest state, prediction and last command; a
 * site's telemetry over a time range; alarms, and their acknowledgement. Query parameters are
 * parsed once here; a bad one gets 400 with {error} naming the parameter and the value.
 */
import { z } from "zod";
import { ALARM_KINDS, type AlarmKind } from "../../core/alarm.ts";
import { MAX_CLOCK_AHEAD_MS, type TelemetryRecord } from "../../core/telemetry.ts";
import type { TelemetryBucket } from "../../db/telemetry_buckets.ts";
import type { AlarmBook, AlarmFilter } from "../alarm_book.ts";
import type { SiteView } from "../site_state.ts";

/** A site silent this long shows as offline whatever its status says (as the dashboards do). */
export const SILENT_OFFLINE_S = 15 * 60;
export const DEFAULT_TELEMETRY_RANGE_MS = 24 * 3600_000;
export const MAX_TELEMETRY_POINTS = 50_000;
const DEFAULT_TELEMETRY_POINTS = 10_000;
/** `step` bounds: the devices' fastest interval, and a day. */
const MIN_STEP_S = 10;
const MAX_STEP_S = 86_400;
const MAX_ALARMS = 1000;
/** An acknowledgement's body is {"by": "..."}: a few dozen bytes. */
const MAX_ACK_BODY_BYTES = 4096;

export interface ApiDeps {
  /** Every site's view, or only those in `ids`. */
  sites: (ids?: Set<string>) => SiteView[];
  /** The backend's clock (the demo's simulated one): "now" for ranges and silence. */
  now: () => Date;
  telemetry: (
    siteId: string,
    range: { from: Date; to: Date; limit: number },
  ) => Promise<{ records: TelemetryRecord[]; truncated: boolean }>;
  telemetryBuckets: (
    siteId: string,
    range: { from: Date; to: Date; stepS: number; limit: number },
  ) => Promise<{ buckets: TelemetryBucket[]; truncated: boolean }>;
  alarms?: AlarmBook;
}

export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    // Live fleet data: no proxy or browser cache may keep it.
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    },
  });
}

export function jsonError(status: number, error: string, headers: HeadersInit = {}): Response {
  return json({ error }, status, headers);
}

/** A site as the API and the live stream show it. */
export function siteJson(view: SiteView, openAlarms: number, now: Date) {
  const lastSeen = view.latest?.time ?? null;
  const silentS = lastSeen === null
    ? null
    : Math.max(0, Math.round((now.getTime() - lastSeen.getTime()) / 1000));
  return {
    siteId: view.siteId,
    protocol: view.protocol,
    status: view.status,
    /** Offline by its last will, or silent for SILENT_OFFLINE_S. */
    offline: view.status === "offline" || silentS === null || silentS > SILENT_OFFLINE_S,
    lastSeen,
    silentS,
    openAlarms,
    latest: view.latest,
    prediction: view.prediction,
    lastCommand: view.lastCommand,
    fuel: view.fuel === null
      ? null
      : { method: view.fuel.method, scale: view.fuel.scale, learnedAt: view.fuel.learnedAt },
  };
}

export type SiteJson = ReturnType<typeof siteJson>;

function openCounts(alarms: AlarmBook | undefined): Map<string, number> {
  return alarms?.openCounts() ?? new Map();
}

/** The JSON of the sites in `ids` (every site when undefined), in site id order. */
export function sitesJson(deps: ApiDeps, ids?: Set<string>): SiteJson[] {
  const counts = openCounts(deps.alarms);
  const now = deps.now();
  return deps.sites(ids).map((v) => siteJson(v, counts.get(v.siteId) ?? 0, now));
}

function parseTime(name: string, text: string | null): Date | null | string {
  if (text === null || text === "") return null;
  // RFC 3339, or milliseconds since the epoch (what charts hold).
  const date = /^\d+$/.test(text) ? new Date(Number(text)) : new Date(text);
  if (Number.isNaN(date.getTime()) || (!/^\d+$/.test(text) && !/^\d{4}-\d\d-\d\d/.test(text))) {
    return `${name}: "${text}" is not an RFC 3339 time or milliseconds since 1970`;
  }
  return date;
}

function parseLimit(text: string | null, fallback: number, max: number): number | string {
  if (text === null || text === "") return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > max) {
    return `limit: "${text}" must be a whole number from 1 to ${max}`;
  }
  return n;
}

/** GET /api/v1/sites/{id}/telemetry?from=&to=&limit=&step=&format=rows|columns */
export async function telemetryResponse(
  deps: ApiDeps,
  siteId: string,
  params: URLSearchParams,
): Promise<Response> {
  if (deps.sites(new Set([siteId])).length === 0) {
    return jsonError(404, `site "${siteId}" is not known`);
  }
  const to = parseTime("to", params.get("to"));
  if (typeof to === "string") return jsonError(400, to);
  const from = parseTime("from", params.get("from"));
  if (typeof from === "string") return jsonError(400, from);
  // By default everything stored, including rows from device clocks a little ahead of ours.
  const toDate = to ?? new Date(deps.now().getTime() + MAX_CLOCK_AHEAD_MS + 1);
  const fromDate = from ?? new Date((to ?? deps.now()).getTime() - DEFAULT_TELEMETRY_RANGE_MS);
  if (fromDate.getTime() >= toDate.getTime()) {
    return jsonError(
      400,
      `from: "${params.get("from") ?? fromDate.toISOString()}" must be before to ` +
        `("${toDate.toISOString()}")`,
    );
  }
  const limit = parseLimit(params.get("limit"), DEFAULT_TELEMETRY_POINTS, MAX_TELEMETRY_POINTS);
  if (typeof limit === "string") return jsonError(400, limit);
  const format = params.get("format") ?? "rows";
  if (format !== "rows" && format !== "columns") {
    return jsonError(400, `format: "${format}" must be "rows" or "columns"`);
  }
  const stepText = params.get("step");
  if (stepText !== null && stepText !== "") {
    const stepS = Number(stepText);
    if (!/^\d+$/.test(stepText) || stepS < MIN_STEP_S || stepS > MAX_STEP_S) {
      return jsonError(
        400,
        `step: "${stepText}" must be a whole number of seconds from ${MIN_STEP_S} to ${MAX_STEP_S}`,
      );
    }
    const { buckets, truncated } = await deps.telemetryBuckets(siteId, {
      from: fromDate,
      to: toDate,
      stepS,
      limit,
    });
    const head = { siteId, from: fromDate, to: toDate, stepS, count: buckets.length, truncated };
    if (format === "rows") return json({ ...head, buckets });
    return json({
      ...head,
      columns: { ...columnsOf(buckets), samples: buckets.map((b) => b.samples) },
    });
  }
  const { records, truncated } = await deps.telemetry(siteId, {
    from: fromDate,
    to: toDate,
    limit,
  });
  const head = { siteId, from: fromDate, to: toDate, count: records.length, truncated };
  if (format === "rows") return json({ ...head, telemetry: records.map(rowOf) });
  return json({ ...head, columns: columnsOf(records) });
}

function rowOf(r: TelemetryRecord) {
  const { siteId: _siteId, protocol: _protocol, ...rest } = r;
  return rest;
}

type Columnable = Pick<
  TelemetryRecord,
  | "time"
  | "socPct"
  | "batteryV"
  | "batteryA"
  | "loadW"
  | "pvW"
  | "genW"
  | "fuelPct"
  | "source"
  | "genRunning"
>;

/** Column arrays, times in ms since 1970: what a chart takes without reshaping. */
export function columnsOf(records: Columnable[]) {
  return {
    time: records.map((r) => r.time.getTime()),
    socPct: records.map((r) => r.socPct),
    batteryV: records.map((r) => r.batteryV),
    batteryA: records.map((r) => r.batteryA),
    loadW: records.map((r) => r.loadW),
    pvW: records.map((r) => r.pvW),
    genW: records.map((r) => r.genW),
    fuelPct: records.map((r) => r.fuelPct),
    source: records.map((r) => r.source),
    genRunning: records.map((r) => r.genRunning),
  };
}

const AlarmQuerySchema = z.object({
  site: z.string().min(1).max(64).optional(),
  kind: z.enum(ALARM_KINDS).optional(),
  state: z.enum(["raised", "acknowledged", "cleared", "open"]).optional(),
});

/** GET /api/v1/alarms?site=&kind=&state=&limit= */
export async function alarmsResponse(deps: ApiDeps, params: URLSearchParams): Promise<Response> {
  if (!deps.alarms) {
    return jsonError(503, "alarms are not available: this backend has no alarm engine");
  }
  const raw = Object.fromEntries(
    ["site", "kind", "state"].flatMap((k) => params.has(k) ? [[k, params.get(k)!]] : []),
  );
  const parsed = AlarmQuerySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0]);
    return jsonError(400, `${key}: "${raw[key]}" ${describeAlarmParam(key)}`);
  }
  const limit = parseLimit(params.get("limit"), 100, MAX_ALARMS);
  if (typeof limit === "string") return jsonError(400, limit);
  const filter: AlarmFilter = { limit };
  if (parsed.data.site !== undefined) filter.siteId = parsed.data.site;
  if (parsed.data.kind !== undefined) filter.kind = parsed.data.kind as AlarmKind;
  if (parsed.data.state !== undefined) filter.state = parsed.data.state;
  return json({ alarms: await deps.alarms.list(filter) });
}

function describeAlarmParam(key: string): string {
  if (key === "kind") return `is not one of: ${ALARM_KINDS.join(", ")}`;
  if (key === "state") return "is not one of: raised, acknowledged, cleared, open";
  return "must be a site id of 1-64 characters";
}

const AckBodySchema = z.object({ by: z.string().trim().min(1).max(100).optional() });

/** POST /api/v1/alarms/{id}/ack with an optional body {"by": "..."}. */
export async function ackResponse(
  deps: ApiDeps,
  idText: string,
  request: Request,
): Promise<Response> {
  if (!deps.alarms) {
    return jsonError(503, "alarms are not available: this backend has no alarm engine");
  }
  const id = Number(idText);
  if (!/^\d{1,15}$/.test(idText) || !Number.isSafeInteger(id) || id < 1) {
    return jsonError(
      400,
      `alarm id: "${decodeURIComponent(idText)}" must be a whole number from 1 to 999999999999999`,
    );
  }
  const length = Number(request.headers.get("content-length") ?? 0);
  if (length > MAX_ACK_BODY_BYTES) {
    return jsonError(413, `body: ${length} bytes exceeds the limit of ${MAX_ACK_BODY_BYTES}`);
  }
  const text = (await request.text()).slice(0, MAX_ACK_BODY_BYTES);
  let body: unknown = {};
  if (text.trim() !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      return jsonError(400, `body: not JSON (${JSON.stringify(text.slice(0, 40))})`);
    }
  }
  const parsed = AckBodySchema.safeParse(body);
  if (!parsed.success) {
    return jsonError(
      400,
      `body: expected {"by": "<who, 1-100 characters>"}, got ${JSON.stringify(body).slice(0, 80)}`,
    );
  }
  const result = await deps.alarms.acknowledge(id, {
    by: parsed.data.by ?? "api",
    at: deps.now(),
  });
  if (result.ok) return json({ alarm: result.alarm });
  if (result.reason === "not-found") return jsonError(404, `alarm ${id} does not exist`);
  return jsonError(409, `alarm ${id} is already cleared`);
}
