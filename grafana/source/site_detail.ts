/**
 * Site detail: one site ($site) over the selected range. Time series read raw telemetry for
 * ranges up to three days and telemetry_hourly beyond (RAW_RANGE in kit.ts); predictions come
 * from the site's commands. Every query selects one site through an index: telemetry's primary
 * key (site_id, time), commands (site_id, issued_at), site_events (site_id, time).
 */
import {
  dashboard,
  DATASOURCE,
  FLEET_DASHBOARD_UID,
  HOURS_THRESHOLDS,
  LONG_RANGE,
  type PanelSpec,
  SHORT_RANGE,
  SITE_DASHBOARD_UID,
  SOURCE_MAPPINGS,
  sql,
  statOptions,
  STATUS_MAPPINGS,
  tableOptions,
  target,
  timeseriesDefaults,
  timeseriesOptions,
} from "./kit.ts";

const SITE_VARIABLE = {
  name: "site",
  label: "Site",
  type: "query",
  datasource: DATASOURCE,
  query: sql`
    SELECT site_id AS __value,
      CASE WHEN profile ? 'name' THEN site_id || ' · ' || (profile->>'name') ELSE site_id END
        AS __text
    FROM sites
    ORDER BY site_id`,
  refresh: 1,
  sort: 0,
  multi: false,
  includeAll: false,
  hide: 0,
  regex: "",
  current: {},
  options: [],
};

/** The newest row of this site's telemetry, or of its commands. */
const NEWEST_TELEMETRY = sql`
  FROM telemetry WHERE site_id = '$site' ORDER BY time DESC LIMIT 1`;
const NEWEST_COMMAND = sql`
  FROM commands WHERE site_id = '$site' ORDER BY issued_at DESC LIMIT 1`;

/**
 * A time series over raw telemetry (grouped by Grafana's interval) for short ranges and over
 * telemetry_hourly for long ones. `raw` and `hourly` are the value columns of each branch,
 * alike in number, order and names.
 */
function series(raw: string, hourly: string): string {
  return sql`
    SELECT $__timeGroupAlias(time, $__interval), ${raw}
    FROM telemetry
    WHERE site_id = '$site' AND $__timeFilter(time) AND ${SHORT_RANGE}
    GROUP BY 1
    UNION ALL
    SELECT extract(epoch FROM bucket) AS "time", ${hourly}
    FROM telemetry_hourly
    WHERE site_id = '$site' AND $__timeFilter(bucket) AND ${LONG_RANGE}
    ORDER BY 1`;
}

const status: PanelSpec = {
  title: "Status",
  description: "The site's last status message and when it was last heard from.",
  gridPos: { x: 0, y: 0, w: 5, h: 4 },
  targets: [target(
    sql`
      SELECT status AS "Status", last_seen AS "Last seen"
      FROM sites WHERE site_id = '$site'`,
    "table",
  )],
  defaults: { mappings: STATUS_MAPPINGS, color: { mode: "fixed", fixedColor: "text" } },
  overrides: [{
    matcher: { id: "byName", options: "Last seen" },
    properties: [{ id: "unit", value: "dateTimeFromNow" }],
  }],
  options: { ...statOptions, reduceOptions: { ...statOptions.reduceOptions, fields: "/.*/" } },
};

const charge: PanelSpec = {
  title: "Now",
  description: "The newest telemetry: state of charge, fuel and source.",
  gridPos: { x: 5, y: 0, w: 7, h: 4 },
  targets: [target(
    sql`
      SELECT soc_pct AS "SoC", fuel_pct AS "Fuel", source AS "Source"
      ${NEWEST_TELEMETRY}`,
    "table",
  )],
  defaults: { unit: "percent", decimals: 1, mappings: SOURCE_MAPPINGS },
  options: { ...statOptions, reduceOptions: { ...statOptions.reduceOptions, fields: "/.*/" } },
};

const runway: PanelSpec = {
  title: "Hours left",
  description: "From the newest command: battery hours to the reserve without the generator " +
    "(P10, median, P90) and diesel hours under the command's plan (median).",
  gridPos: { x: 12, y: 0, w: 7, h: 4 },
  targets: [target(
    sql`
      SELECT (payload->>'predicted_battery_h_p10')::float8 AS "Battery P10",
        (payload->>'predicted_battery_h')::float8 AS "Battery",
        (payload->>'predicted_battery_h_p90')::float8 AS "Battery P90",
        (payload->>'predicted_diesel_h')::float8 AS "Diesel"
      ${NEWEST_COMMAND}`,
    "table",
  )],
  defaults: { unit: "h", decimals: 1, thresholds: HOURS_THRESHOLDS, color: { mode: "thresholds" } },
  options: statOptions,
};

const plan: PanelSpec = {
  title: "Plan",
  description: "The newest command's mode, strategy and forecast, and its generator start and " +
    "stop points.",
  gridPos: { x: 19, y: 0, w: 5, h: 4 },
  targets: [target(
    sql`
      SELECT payload->>'mode' AS "Mode",
        coalesce(payload->>'strategy', 'cycle-charging') AS "Strategy",
        payload->>'forecast' AS "Forecast"
      ${NEWEST_COMMAND}`,
    "table",
  )],
  defaults: { color: { mode: "fixed", fixedColor: "text" } },
  options: { ...statOptions, reduceOptions: { ...statOptions.reduceOptions, fields: "/.*/" } },
};

const soc: PanelSpec = {
  title: "State of charge",
  description: "Mean and lowest SoC per interval (per hour beyond three days), with the " +
    "generator start and stop points and the reserve the commands set.",
  gridPos: { x: 0, y: 4, w: 12, h: 9 },
  targets: [
    target(
      series(
        `avg(soc_pct) AS "SoC", min(soc_pct) AS "SoC lowest"`,
        `soc_avg_pct AS "SoC", soc_min_pct AS "SoC lowest"`,
      ),
      "time_series",
    ),
    target(
      sql`
        SELECT DISTINCT ON (1) $__timeGroupAlias(issued_at, $__interval),
          (payload->>'gen_start_soc_pct')::float8 AS "Generator start",
          (payload->>'gen_stop_soc_pct')::float8 AS "Generator stop",
          (payload->>'reserve_soc_pct')::float8 AS "Reserve"
        FROM commands
        WHERE site_id = '$site' AND $__timeFilter(issued_at)
        ORDER BY 1, issued_at DESC`,
      "time_series",
      "B",
    ),
  ],
  defaults: { ...timeseriesDefaults, unit: "percent", min: 0, max: 100 },
  overrides: ["Generator start", "Generator stop", "Reserve"].map((name) => ({
    matcher: { id: "byName", options: name },
    properties: [
      { id: "custom.lineStyle", value: { fill: "dash", dash: [10, 10] } },
      { id: "custom.lineInterpolation", value: "stepAfter" },
    ],
  })),
  options: timeseriesOptions,
};

const voltage: PanelSpec = {
  title: "Battery voltage",
  description: "Mean, lowest and highest battery voltage per interval (per hour beyond three " +
    "days).",
  gridPos: { x: 12, y: 4, w: 12, h: 9 },
  targets: [target(
    series(
      `avg(battery_v) AS "Voltage", min(battery_v) AS "Lowest", max(battery_v) AS "Highest"`,
      `battery_avg_v AS "Voltage", battery_min_v AS "Lowest", battery_max_v AS "Highest"`,
    ),
    "time_series",
  )],
  defaults: { ...timeseriesDefaults, unit: "volt", decimals: 2 },
  options: timeseriesOptions,
};

const power: PanelSpec = {
  title: "Load, PV and generator",
  description: "Mean power per interval (per hour beyond three days).",
  gridPos: { x: 0, y: 13, w: 12, h: 9 },
  targets: [target(
    series(
      `avg(load_w) AS "Load", avg(pv_w) AS "PV", avg(gen_w) AS "Generator"`,
      `load_avg_w AS "Load", pv_avg_w AS "PV", gen_avg_w AS "Generator"`,
    ),
    "time_series",
  )],
  defaults: { ...timeseriesDefaults, unit: "watt" },
  options: timeseriesOptions,
};

const fuel: PanelSpec = {
  title: "Fuel level",
  description: "Mean and lowest tank level per interval (per hour beyond three days). A fall " +
    "while the source timeline shows no generator is fuel leaving the tank some other way.",
  gridPos: { x: 12, y: 13, w: 12, h: 9 },
  targets: [target(
    series(
      `avg(fuel_pct) AS "Fuel", min(fuel_pct) AS "Fuel lowest"`,
      `fuel_avg_pct AS "Fuel", fuel_min_pct AS "Fuel lowest"`,
    ),
    "time_series",
  )],
  defaults: { ...timeseriesDefaults, unit: "percent", min: 0, max: 100 },
  options: timeseriesOptions,
};

const sourceTimeline: PanelSpec = {
  title: "Source and load shedding",
  description: "What powered the load, and whether loads were shed: each change of the raw " +
    "telemetry, or each hour's prevailing state beyond three days.",
  gridPos: { x: 0, y: 22, w: 24, h: 5 },
  targets: [target(
    sql`
      SELECT time, source AS "Source",
        CASE WHEN shed_tier > 0 THEN 'tier ' || shed_tier ELSE 'all loads on' END AS "Shedding"
      FROM (
        SELECT time, source, shed_tier,
          lag(source) OVER (ORDER BY time) AS previous_source,
          lag(shed_tier) OVER (ORDER BY time) AS previous_shed
        FROM telemetry
        WHERE site_id = '$site' AND $__timeFilter(time) AND ${SHORT_RANGE}
      ) changes
      WHERE previous_source IS DISTINCT FROM source OR previous_shed IS DISTINCT FROM shed_tier
      UNION ALL
      SELECT bucket AS "time",
        CASE
          WHEN source_off_samples >= greatest(source_battery_samples, source_generator_samples)
            THEN 'off'
          WHEN source_generator_samples >= source_battery_samples THEN 'generator'
          ELSE 'battery'
        END,
        CASE WHEN 2 * shed_samples > samples THEN 'shedding' ELSE 'all loads on' END
      FROM telemetry_hourly
      WHERE site_id = '$site' AND $__timeFilter(bucket) AND ${LONG_RANGE}
      ORDER BY 1`,
    "time_series",
  )],
  defaults: { mappings: SOURCE_MAPPINGS, color: { mode: "fixed", fixedColor: "green" } },
  overrides: [{
    matcher: { id: "byName", options: "Shedding" },
    properties: [{ id: "color", value: { mode: "fixed", fixedColor: "purple" } }],
  }],
  options: {
    mergeValues: true,
    showValue: "never",
    alignValue: "left",
    rowHeight: 0.8,
    legend: { showLegend: false },
    tooltip: { mode: "single" },
  },
};

/**
 * Predicted against realised battery hours. For about 200 commands across the range (one per
 * bucket of a 200th of it), the realised hours are the time from the command to the first
 * telemetry at or below the command's reserve; when the generator ran first, the battery-only
 * prediction cannot be checked and nothing is drawn. Only predictions under 48 h are checked,
 * each within 1.5 × its P90 plus an hour, which bounds the look-ahead to an index range scan.
 */
const predictedVsRealised: PanelSpec = {
  title: "Battery hours: predicted and realised",
  description: "The commands' predicted hours to the reserve without the generator (P10, " +
    "median, P90), and the hours it really took, where the battery reached the reserve before " +
    "any generator run (predictions under 48 h).",
  gridPos: { x: 0, y: 27, w: 12, h: 9 },
  targets: [target(
    sql`
      WITH c AS (
        SELECT DISTINCT ON (1)
          date_bin(greatest(interval '1 minute',
            ($__timeTo()::timestamptz - $__timeFrom()::timestamptz) / 200),
            issued_at, timestamptz '2000-01-01 00:00:00+00') AS bucket,
          issued_at,
          (payload->>'predicted_battery_h_p10')::float8 AS p10,
          (payload->>'predicted_battery_h')::float8 AS p50,
          (payload->>'predicted_battery_h_p90')::float8 AS p90,
          (payload->>'reserve_soc_pct')::float8 AS reserve_pct
        FROM commands
        WHERE site_id = '$site' AND $__timeFilter(issued_at) AND payload ? 'predicted_battery_h'
        ORDER BY 1, issued_at DESC
      )
      SELECT c.issued_at AS "time", c.p10 AS "Predicted P10", c.p50 AS "Predicted",
        c.p90 AS "Predicted P90",
        CASE WHEN NOT e.gen_running THEN extract(epoch FROM e.time - c.issued_at) / 3600 END
          AS "Realised"
      FROM c
      LEFT JOIN LATERAL (
        SELECT time, gen_running
        FROM telemetry
        WHERE site_id = '$site' AND c.p50 < 48
          AND time > c.issued_at
          AND time <= c.issued_at + (1.5 * coalesce(c.p90, c.p50) + 1) * interval '1 hour'
          AND (gen_running OR soc_pct <= c.reserve_pct)
        ORDER BY time
        LIMIT 1
      ) e ON true
      ORDER BY 1`,
    "time_series",
  )],
  defaults: { ...timeseriesDefaults, unit: "h", min: 0 },
  overrides: [
    ...["Predicted P10", "Predicted P90"].map((name) => ({
      matcher: { id: "byName", options: name },
      properties: [{ id: "custom.lineStyle", value: { fill: "dot", dash: [2, 6] } }],
    })),
    {
      matcher: { id: "byName", options: "Realised" },
      properties: [
        { id: "custom.drawStyle", value: "points" },
        { id: "custom.pointSize", value: 6 },
        { id: "color", value: { mode: "fixed", fixedColor: "red" } },
      ],
    },
  ],
  options: timeseriesOptions,
};

const dieselPredicted: PanelSpec = {
  title: "Diesel hours predicted",
  description: "The commands' hours until the fuel can no longer run the generator under " +
    "their plan: median, with P10 and P90 where the forecast gave them.",
  gridPos: { x: 12, y: 27, w: 12, h: 9 },
  targets: [target(
    sql`
      SELECT DISTINCT ON (1) $__timeGroupAlias(issued_at, $__interval),
        (payload->>'predicted_diesel_h_p10')::float8 AS "P10",
        (payload->>'predicted_diesel_h')::float8 AS "Median",
        (payload->>'predicted_diesel_h_p90')::float8 AS "P90"
      FROM commands
      WHERE site_id = '$site' AND $__timeFilter(issued_at) AND payload ? 'predicted_diesel_h'
      ORDER BY 1, issued_at DESC`,
    "time_series",
  )],
  defaults: { ...timeseriesDefaults, unit: "h", min: 0 },
  options: timeseriesOptions,
};

const daily: PanelSpec = {
  title: "Energy and generator hours per day",
  description: "Per day of the site's own time zone, from telemetry_hourly: load and PV " +
    "energy (each hour's mean power over an hour) and generator hours (each hour's share of " +
    "samples with it running).",
  gridPos: { x: 0, y: 36, w: 12, h: 8 },
  targets: [target(
    sql`
      SELECT date_trunc('day', h.bucket, z.time_zone) AS "time",
        sum(h.load_avg_w) / 1000 AS "Load kWh",
        sum(coalesce(h.pv_avg_w, 0)) / 1000 AS "PV kWh",
        sum(h.gen_running_samples::float8 / h.samples) AS "Generator h"
      FROM telemetry_hourly h
      CROSS JOIN (
        SELECT coalesce(
          (SELECT profile->>'timeZone' FROM sites WHERE site_id = '$site'), 'UTC') AS time_zone
      ) z
      WHERE h.site_id = '$site' AND $__timeFilter(h.bucket)
      GROUP BY 1
      ORDER BY 1`,
    "time_series",
  )],
  defaults: {
    ...timeseriesDefaults,
    decimals: 1,
    custom: { ...timeseriesDefaults.custom, drawStyle: "bars", fillOpacity: 70 },
  },
  options: timeseriesOptions,
};

const temperature: PanelSpec = {
  title: "Battery temperature",
  description: "Highest battery temperature per interval (per hour beyond three days); heat " +
    "shortens a battery's life.",
  gridPos: { x: 12, y: 36, w: 12, h: 8 },
  targets: [target(
    series(`max(battery_temp_c) AS "Highest"`, `battery_temp_max_c AS "Highest"`),
    "time_series",
  )],
  defaults: { ...timeseriesDefaults, unit: "celsius" },
  options: timeseriesOptions,
};

const commands: PanelSpec = {
  title: "Commands",
  description: "The newest commands the backend sent in the range, with the reason it gave.",
  gridPos: { x: 0, y: 44, w: 12, h: 10 },
  targets: [target(
    sql`
      SELECT issued_at AS "Issued", seq AS "Seq", payload->>'mode' AS "Mode",
        (payload->>'gen_start_soc_pct')::float8 AS "Start at",
        (payload->>'gen_stop_soc_pct')::float8 AS "Stop at",
        payload->>'forecast' AS "Forecast",
        (payload->>'predicted_battery_h')::float8 AS "Battery h",
        payload->>'reason' AS "Reason"
      FROM commands
      WHERE site_id = '$site' AND $__timeFilter(issued_at)
      ORDER BY issued_at DESC
      LIMIT 100`,
    "table",
  )],
  options: tableOptions,
};

const events: PanelSpec = {
  title: "Events",
  description: "What the site reported on its event topic in the range (profile " +
    "announcements left out).",
  gridPos: { x: 12, y: 44, w: 12, h: 10 },
  targets: [target(
    sql`
      SELECT time AS "Time", kind AS "Event", detail->>'detail' AS "Detail"
      FROM site_events
      WHERE site_id = '$site' AND $__timeFilter(time) AND kind <> 'profile'
      ORDER BY time DESC
      LIMIT 200`,
    "table",
  )],
  options: tableOptions,
};

const alarms: PanelSpec = {
  title: "Alarms",
  description: "The site's open alarms, then those raised or cleared in the range, with the " +
    "values that raised them (README, Alarms).",
  gridPos: { x: 0, y: 54, w: 24, h: 8 },
  targets: [target(
    sql`
      SELECT raised_at AS "Raised", kind AS "Alarm", severity AS "Severity", state AS "State",
        message AS "Message", acknowledged_by AS "Acknowledged by", cleared_at AS "Cleared",
        "values"::text AS "Values"
      FROM alarms
      WHERE site_id = '$site'
        AND (state <> 'cleared' OR $__timeFilter(raised_at) OR $__timeFilter(cleared_at))
      ORDER BY state = 'cleared', raised_at DESC
      LIMIT 200`,
    "table",
  )],
  options: tableOptions,
};

export const SITE_DETAIL = dashboard({
  uid: SITE_DASHBOARD_UID,
  title: "Kasi · Site detail",
  description: "One site: charge, voltage, power, fuel, source, predictions and events.",
  refresh: "30s",
  time: { from: "now-24h", to: "now" },
  templating: [SITE_VARIABLE],
  links: [{
    title: "Fleet overview",
    type: "link",
    url: `/d/${FLEET_DASHBOARD_UID}/kasi-fleet-overview`,
    icon: "dashboard",
    keepTime: true,
  }],
}, [
  ["stat", status],
  ["stat", charge],
  ["stat", runway],
  ["stat", plan],
  ["timeseries", soc],
  ["timeseries", voltage],
  ["timeseries", power],
  ["timeseries", fuel],
  ["state-timeline", sourceTimeline],
  ["timeseries", predictedVsRealised],
  ["timeseries", dieselPredicted],
  ["timeseries", daily],
  ["timeseries", temperature],
  ["table", commands],
  ["table", events],
  ["table", alarms],
]);
