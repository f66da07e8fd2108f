/** The demo's live table: one row per site, fixed-width columns a person can read at a glance. */
import type { Alarm } from "../core/alarm.ts";

export interface DemoRow {
  siteId: string;
  status: string;
  source: string | null;
  socPct: number | null;
  fuelPct: number | null;
  loadW: number | null;
  pvW: number | null;
  batteryH: number | null;
  dieselH: number | null;
  mode: string | null;
  commandSeq: number | null;
}

// Fits a 100-column terminal: one space between columns, widths just wide enough.
const COLUMNS: { title: string; width: number; cell: (r: DemoRow) => string }[] = [
  { title: "SITE", width: 10, cell: (r) => r.siteId },
  { title: "LINK", width: 7, cell: (r) => r.status },
  { title: "SOURCE", width: 9, cell: (r) => r.source ?? "-" },
  { title: "SOC", width: 7, cell: (r) => fixed(r.socPct, 1, " %") },
  { title: "FUEL", width: 5, cell: (r) => fixed(r.fuelPct, 0, " %") },
  { title: "LOAD", width: 7, cell: (r) => fixed(r.loadW, 0, " W") },
  { title: "PV", width: 7, cell: (r) => fixed(r.pvW, 0, " W") },
  { title: "BATTERY", width: 8, cell: (r) => hours(r.batteryH) },
  { title: "DIESEL", width: 8, cell: (r) => hours(r.dieselH) },
  {
    title: "LAST COMMAND",
    width: 18,
    cell: (r) => r.mode === null ? "-" : `${r.mode} (#${r.commandSeq ?? "?"})`,
  },
];

function fixed(value: number | null, digits: number, unit: string): string {
  return value === null ? "-" : `${value.toFixed(digits)}${unit}`;
}

function hours(value: number | null): string {
  if (value === null) return "-";
  if (value >= 168) return "> 1 week";
  return `${value.toFixed(1)} h`;
}

function pad(text: string, width: number, right: boolean): string {
  const cut = text.length > width ? `${text.slice(0, width - 1)}…` : text;
  return right ? cut.padStart(width) : cut.padEnd(width);
}

/** Renders the rows under a header line; numeric columns are right-aligned. */
export function renderDemoTable(rows: readonly DemoRow[]): string {
  const right = (i: number) => i >= 3 && i <= 8;
  const header = COLUMNS.map((c, i) => pad(c.title, c.width, right(i))).join(" ");
  const lines = rows.map((r) => COLUMNS.map((c, i) => pad(c.cell(r), c.width, right(i))).join(" "));
  return [header, ...lines].join("\n");
}

/** One line for an alarm change: "07:12 demo-1 fuel-loss raised — Fuel fell 3.1 L …". */
export function alarmChangeLine(alarm: Alarm): string {
  const at = alarm.state === "cleared"
    ? alarm.clearedAt
    : alarm.state === "acknowledged"
    ? alarm.acknowledgedAt
    : alarm.raisedAt;
  const text = alarm.state === "cleared"
    ? messageOf(alarm.clearedValues) ?? "cleared"
    : alarm.message;
  return `${(at ?? alarm.raisedAt).slice(11, 16)} ${alarm.siteId} ${alarm.kind} ${alarm.state}` +
    ` — ${text}`;
}

function messageOf(values: Alarm["clearedValues"]): string | null {
  if (!values) return null;
  const parts = Object.entries(values).map(([k, v]) => `${k} ${v}`);
  return parts.length > 0 ? parts.join(", ") : null;
}

/**
 * The alarm pane under the table: the open alarms (site, kind, severity, since when — month-day
 * and time, as an alarm left open by an earlier run is from another day —, what) and
 * the latest changes, newest last; lines cut to `width` characters.
 */
export function renderAlarms(
  open: readonly Alarm[],
  recent: readonly string[],
  width = 100,
): string {
  const cut = (line: string) => line.length > width ? `${line.slice(0, width - 1)}…` : line;
  const lines = [`OPEN ALARMS (${open.length})`];
  if (open.length === 0) lines.push("  none");
  for (const a of open) {
    const ack = a.state === "acknowledged" ? " ack" : "";
    lines.push(cut(
      `  ${pad(a.siteId, 10, false)} ${pad(a.kind, 25, false)} ${pad(a.severity, 8, false)} ` +
        `since ${a.raisedAt.slice(5, 10)} ${a.raisedAt.slice(11, 16)}${ack}  ${a.message}`,
    ));
  }
  if (recent.length > 0) {
    lines.push("", "ALARM CHANGES");
    for (const line of recent) lines.push(cut(`  ${line}`));
  }
  return lines.join("\n");
}
