/**
 * Builders for the provisioned dashboards: the JSON model of Grafana's dashboard schema
 * (schemaVersion 39; Grafana migrates it forward on load), written compactly so the SQL stays
 * readable. `deno task grafana` writes grafana/dashboards/*.json from these; a test keeps the
 * files equal to what the source gives.
 */

/** The provisioned data source (grafana/provisioning/datasources/kasi.yaml). */
export const DATASOURCE = { type: "grafana-postgresql-datasource", uid: "kasi-postgres" } as const;

export const SITE_DASHBOARD_UID = "kasi-site";
export const FLEET_DASHBOARD_UID = "kasi-fleet";

/**
 * Panels read raw telemetry up to this range and the hourly rollup beyond it: three days of
 * 10-second telemetry is 26,000 rows a site, about what a panel can draw; a year of hours is
 * 8,760. Both branches of a panel's UNION ALL carry the condition; PostgreSQL evaluates the
 * constant comparison once and skips the branch whose condition is false.
 */
export const RAW_RANGE = "interval '3 days'";
export const SHORT_RANGE = `$__timeTo()::timestamptz - $__timeFrom()::timestamptz <= ${RAW_RANGE}`;
export const LONG_RANGE = `$__timeTo()::timestamptz - $__timeFrom()::timestamptz > ${RAW_RANGE}`;

/** Removes the common indentation and the blank first and last lines of a SQL template. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = strings.reduce((out, s, i) => out + s + (i < values.length ? values[i] : ""), "");
  const lines = text.replace(/^\n/, "").replace(/\n\s*$/, "").split("\n");
  const indent = Math.min(
    ...lines.filter((l) => l.trim() !== "").map((l) => l.length - l.trimStart().length),
  );
  return lines.map((l) => l.slice(indent)).join("\n");
}

export type Format = "table" | "time_series";

export interface Target {
  refId: string;
  datasource: typeof DATASOURCE;
  editorMode: "code";
  format: Format;
  rawQuery: true;
  rawSql: string;
}

export function target(rawSql: string, format: Format, refId = "A"): Target {
  return { refId, datasource: DATASOURCE, editorMode: "code", format, rawQuery: true, rawSql };
}

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  description: string;
  gridPos: GridPos;
  datasource: typeof DATASOURCE;
  targets: Target[];
  fieldConfig: { defaults: Record<string, unknown>; overrides: unknown[] };
  options: Record<string, unknown>;
  [key: string]: unknown;
}

export interface PanelSpec {
  title: string;
  description: string;
  gridPos: GridPos;
  targets: Target[];
  defaults?: Record<string, unknown>;
  overrides?: unknown[];
  options?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** Colours for the site's power source, the words of the `source` column. */
export const SOURCE_MAPPINGS = [{
  type: "value",
  options: {
    battery: { text: "Battery", color: "green", index: 0 },
    generator: { text: "Generator", color: "orange", index: 1 },
    off: { text: "Load shut down", color: "red", index: 2 },
  },
}];

export const STATUS_MAPPINGS = [{
  type: "value",
  options: {
    online: { text: "Online", color: "green", index: 0 },
    offline: { text: "Offline", color: "red", index: 1 },
    unknown: { text: "Unknown", color: "text", index: 2 },
  },
}];

/** Hours left: red under 6 h (the backend turns conservative under 6 h at P10), amber to 12 h. */
export const HOURS_THRESHOLDS = {
  mode: "absolute",
  steps: [
    { color: "red", value: null },
    { color: "orange", value: 6 },
    { color: "green", value: 12 },
  ],
};

export function panel(type: string, spec: PanelSpec, id: number): Panel {
  return {
    id,
    type,
    title: spec.title,
    description: spec.description,
    gridPos: spec.gridPos,
    datasource: DATASOURCE,
    targets: spec.targets,
    fieldConfig: { defaults: spec.defaults ?? {}, overrides: spec.overrides ?? [] },
    options: spec.options ?? {},
    ...spec.extra,
  };
}

export const statOptions = {
  reduceOptions: { values: false, calcs: ["lastNotNull"], fields: "" },
  colorMode: "value",
  graphMode: "none",
  textMode: "value_and_name",
  justifyMode: "auto",
  orientation: "auto",
};

export const timeseriesDefaults = {
  custom: {
    drawStyle: "line",
    lineWidth: 1,
    fillOpacity: 0,
    spanNulls: false,
    showPoints: "never",
  },
};

export const timeseriesOptions = {
  legend: { showLegend: true, displayMode: "list", placement: "bottom" },
  tooltip: { mode: "multi", sort: "none" },
};

export const tableOptions = { showHeader: true, cellHeight: "sm", footer: { show: false } };

/** A link from a table cell to the site's detail dashboard, keeping the time range. */
export function siteLink(field: string): unknown {
  return {
    matcher: { id: "byName", options: field },
    properties: [{
      id: "links",
      value: [{
        title: "Site detail",
        url:
          `/d/${SITE_DASHBOARD_UID}/kasi-site-detail?var-site=\${__value.raw}&\${__url_time_range}`,
      }],
    }],
  };
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: string;
  editable: boolean;
  graphTooltip: number;
  schemaVersion: number;
  version: number;
  refresh: string;
  time: { from: string; to: string };
  templating: { list: unknown[] };
  annotations: { list: unknown[] };
  links: unknown[];
  panels: Panel[];
}

/** Numbers the panels in order; ids only need to be unique within a dashboard. */
export function dashboard(
  meta: Pick<Dashboard, "uid" | "title" | "description" | "refresh" | "time"> & {
    templating?: unknown[];
    links?: unknown[];
  },
  panels: (readonly [type: string, spec: PanelSpec])[],
): Dashboard {
  return {
    uid: meta.uid,
    title: meta.title,
    description: meta.description,
    tags: ["kasi"],
    timezone: "browser",
    editable: false,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: meta.refresh,
    time: meta.time,
    templating: { list: meta.templating ?? [] },
    annotations: { list: [] },
    links: meta.links ?? [],
    panels: panels.map(([type, spec], i) => panel(type, spec, i + 1)),
  };
}
