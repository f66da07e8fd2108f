/**
 * Fleet overview: every site's state now (status, source, charge, fuel, hours left), on a map,
 * and the fleet's hours over the selected range. Latest values come from each site's newest
 * telemetry row and newest command, found through the primary key and the (site_id, issued_at)
 * index (a lateral join per site, fast on any table size); trends come from telemetry_hourly.
 * Alarms come from the backend's alarms table (src/backend/alarms.ts): a count of the open ones
 * at the top, and the list at the bottom.
 */
import {
  dashboard,
  FLEET_DASHBOARD_UID,
  HOURS_THRESHOLDS,
  type PanelSpec,
  SITE_DASHBOARD_UID,
  siteLink,
  SOURCE_MAPPINGS,
  sql,
  statOptions,
  STATUS_MAPPINGS,
  tableOptions,
  target,
  timeseriesDefaults,
  timeseriesOptions,
} from "./kit.ts";

/** Each site with its newest telemetry row (t) and newest command (c); either may be absent. */
const LATEST = sql`
  FROM sites s
  LEFT JOIN LATERAL (
    SELECT time, source, soc_pct, battery_v, fuel_pct, load_w, pv_w, gen_running
    FROM telemetry
    WHERE telemetry.site_id = s.site_id
    ORDER BY time DESC
    LIMIT 1
  ) t ON true
  LEFT JOIN LATERAL (
    SELECT issued_at, payload
    FROM commands
    WHERE commands.site_id = s.site_id
    ORDER BY issued_at DESC
    LIMIT 1
  ) c ON true`;

const sitesByStatus: PanelSpec = {
  title: "Sites",
  description: "Sites by their last status message (a device's last will says offline), and " +
    "sites silent for 15 minutes whatever their status says (first-generation sites send no " +
    "status).",
  gridPos: { x: 0, y: 0, w: 6, h: 4 },
  targets: [target(
    sql`
      SELECT count(*) FILTER (WHERE status = 'online') AS "Online",
        count(*) FILTER (WHERE status = 'offline') AS "Offline",
        count(*) FILTER (WHERE last_seen < now() - interval '15 minutes') AS "Silent 15 min",
        count(*) AS "All sites"
      FROM sites`,
    "table",
  )],
  defaults: { unit: "none", color: { mode: "fixed", fixedColor: "text" } },
  overrides: [
    {
      matcher: { id: "byName", options: "Offline" },
      properties: [{ id: "color", value: { mode: "fixed", fixedColor: "red" } }],
    },
    {
      matcher: { id: "byName", options: "Silent 15 min" },
      properties: [{ id: "color", value: { mode: "fixed", fixedColor: "orange" } }],
    },
    {
      matcher: { id: "byName", options: "Online" },
      properties: [{ id: "color", value: { mode: "fixed", fixedColor: "green" } }],
    },
  ],
  options: statOptions,
};

const sourcesNow: PanelSpec = {
  title: "Running on",
  description: "Sites by the power source of their newest telemetry.",
  gridPos: { x: 6, y: 0, w: 6, h: 4 },
  targets: [target(
    sql`
      SELECT count(*) FILTER (WHERE t.source = 'battery') AS "Battery",
        count(*) FILTER (WHERE t.source = 'generator') AS "Generator",
        count(*) FILTER (WHERE t.source = 'off') AS "Load shut down"
      ${LATEST}`,
    "table",
  )],
  defaults: { unit: "none" },
  overrides: [
    ["Battery", "green"],
    ["Generator", "orange"],
    ["Load shut down", "red"],
  ].map(([name, color]) => ({
    matcher: { id: "byName", options: name },
    properties: [{ id: "color", value: { mode: "fixed", fixedColor: color } }],
  })),
  options: statOptions,
};

const shortestRunway: PanelSpec = {
  title: "Shortest runway",
  description: "The fewest hours left in the fleet, from each site's newest command: battery " +
    "to its reserve without the generator (P10, the pessimistic tenth percentile), and diesel " +
    "under the command's plan (median).",
  gridPos: { x: 12, y: 0, w: 6, h: 4 },
  targets: [target(
    sql`
      SELECT min((c.payload->>'predicted_battery_h_p10')::float8) AS "Battery h (P10)",
        min((c.payload->>'predicted_diesel_h')::float8)
          FILTER (WHERE coalesce((s.profile->>'generatorRatedKw')::float8, 1) > 0) AS "Diesel h"
      ${LATEST}`,
    "table",
  )],
  defaults: { unit: "h", decimals: 1, thresholds: HOURS_THRESHOLDS, color: { mode: "thresholds" } },
  options: statOptions,
};

const openAlarms: PanelSpec = {
  title: "Open alarms",
  description: "Alarms raised and not yet cleared (acknowledged ones included), by severity. " +
    "The list is under Alarms, at the bottom.",
  gridPos: { x: 18, y: 0, w: 6, h: 4 },
  targets: [target(
    sql`
      SELECT count(*) FILTER (WHERE severity = 'critical') AS "Critical",
        count(*) FILTER (WHERE severity = 'warning') AS "Warning",
        count(*) FILTER (WHERE state = 'raised') AS "Not acknowledged"
      FROM alarms
      WHERE state <> 'cleared'`,
    "table",
  )],
  defaults: { unit: "none" },
  overrides: [
    ["Critical", "red"],
    ["Warning", "orange"],
    ["Not acknowledged", "text"],
  ].map(([name, color]) => ({
    matcher: { id: "byName", options: name },
    properties: [{ id: "color", value: { mode: "fixed", fixedColor: color } }],
  })),
  options: statOptions,
};

const alarmList: PanelSpec = {
  title: "Alarms",
  description: "Open alarms first (critical before warning, newest first), then those raised or " +
    "cleared in the range. One open alarm per site and kind; an operator acknowledges it, the " +
    "backend clears it when the rule no longer holds (README, Alarms).",
  gridPos: { x: 0, y: 53, w: 24, h: 10 },
  targets: [target(
    sql`
      SELECT raised_at AS "Raised", site_id AS "Site", kind AS "Alarm", severity AS "Severity",
        state AS "State", message AS "Message", acknowledged_by AS "Acknowledged by",
        cleared_at AS "Cleared"
      FROM alarms
      WHERE state <> 'cleared' OR $__timeFilter(raised_at) OR $__timeFilter(cleared_at)
      ORDER BY state = 'cleared', severity = 'warning', raised_at DESC
      LIMIT 500`,
    "table",
  )],
  overrides: [
    siteLink("Site"),
    {
      matcher: { id: "byName", options: "Severity" },
      properties: [{
        id: "mappings",
        value: [{
          type: "value",
          options: {
            critical: { color: "red", index: 0 },
            warning: { color: "orange", index: 1 },
          },
        }],
      }, { id: "custom.cellOptions", value: { type: "color-text" } }],
    },
  ],
  options: tableOptions,
};

const sitesTable: PanelSpec = {
  title: "Sites by urgency",
  description: "Offline first, then sites whose load is shut down, then by the battery's " +
    "hours left (P10). Values are each site's newest telemetry and command. Click a site for " +
    "its detail.",
  gridPos: { x: 0, y: 4, w: 24, h: 10 },
  targets: [target(
    sql`
      SELECT s.site_id AS "Site",
        coalesce(s.profile->>'name', '') AS "Name",
        s.status AS "Status",
        s.last_seen AS "Last seen",
        t.source AS "Source",
        t.soc_pct AS "SoC",
        t.battery_v AS "Battery",
        t.fuel_pct AS "Fuel",
        t.load_w AS "Load",
        t.pv_w AS "PV",
        (c.payload->>'predicted_battery_h_p10')::float8 AS "Battery h P10",
        (c.payload->>'predicted_battery_h')::float8 AS "Battery h",
        (c.payload->>'predicted_diesel_h')::float8 AS "Diesel h",
        c.payload->>'mode' AS "Mode",
        coalesce(c.payload->>'strategy', 'cycle-charging') AS "Strategy",
        (c.payload->>'next_outage_at')::timestamptz AS "Next outage",
        s.protocol AS "Protocol"
      ${LATEST}
      ORDER BY s.status = 'offline' DESC,
        t.source = 'off' DESC NULLS LAST,
        coalesce((c.payload->>'predicted_battery_h_p10')::float8,
          (c.payload->>'predicted_battery_h')::float8) ASC NULLS LAST,
        s.site_id`,
    "table",
  )],
  defaults: { custom: { align: "auto", cellOptions: { type: "auto" } } },
  overrides: [
    siteLink("Site"),
    ...[["SoC", "percent"], ["Fuel", "percent"], ["Battery", "volt"], ["Load", "watt"], [
      "PV",
      "watt",
    ]].map(([name, unit]) => ({
      matcher: { id: "byName", options: name },
      properties: [{ id: "unit", value: unit }, { id: "decimals", value: 1 }],
    })),
    ...["Battery h P10", "Battery h", "Diesel h"].map((name) => ({
      matcher: { id: "byName", options: name },
      properties: [
        { id: "unit", value: "h" },
        { id: "decimals", value: 1 },
        { id: "thresholds", value: HOURS_THRESHOLDS },
        { id: "custom.cellOptions", value: { type: "color-text" } },
      ],
    })),
    {
      matcher: { id: "byName", options: "Source" },
      properties: [{ id: "mappings", value: SOURCE_MAPPINGS }, {
        id: "custom.cellOptions",
        value: { type: "color-text" },
      }],
    },
    {
      matcher: { id: "byName", options: "Status" },
      properties: [{ id: "mappings", value: STATUS_MAPPINGS }, {
        id: "custom.cellOptions",
        value: { type: "color-text" },
      }],
    },
  ],
  options: tableOptions,
};

const sitesMap: PanelSpec = {
  title: "Sites map",
  description: "Sites at the location of their profile (latitude and longitude 0 mean not " +
    "set), coloured by the battery's hours left (P10).",
  gridPos: { x: 0, y: 14, w: 12, h: 12 },
  targets: [target(
    sql`
      SELECT s.site_id AS "site",
        (s.profile->>'latitude')::float8 AS "latitude",
        (s.profile->>'longitude')::float8 AS "longitude",
        s.status AS "status",
        t.soc_pct AS "soc_pct",
        coalesce((c.payload->>'predicted_battery_h_p10')::float8,
          (c.payload->>'predicted_battery_h')::float8) AS "battery_h"
      ${LATEST}
      WHERE s.profile ? 'latitude'
        AND NOT ((s.profile->>'latitude')::float8 = 0 AND (s.profile->>'longitude')::float8 = 0)`,
    "table",
  )],
  defaults: { unit: "h", thresholds: HOURS_THRESHOLDS, color: { mode: "thresholds" } },
  options: {
    view: { id: "fit", lat: 0, lon: 20, zoom: 3, allLayers: true },
    controls: { showZoom: true, mouseWheelZoom: true, showAttribution: true },
    basemap: { type: "default", name: "Basemap" },
    layers: [{
      type: "markers",
      name: "Sites",
      location: { mode: "coords", latitude: "latitude", longitude: "longitude" },
      tooltip: true,
      config: {
        showLegend: true,
        style: {
          size: { fixed: 8 },
          color: { field: "battery_h", fixed: "dark-green" },
          symbol: { mode: "fixed", fixed: "img/icons/marker/circle.svg" },
          text: { mode: "field", field: "site", fixed: "" },
          textConfig: { fontSize: 11, offsetX: 10, textAlign: "left", textBaseline: "middle" },
        },
      },
    }],
    tooltip: { mode: "details" },
  },
};

const hoursLeft = (
  title: string,
  key: string,
  x: number,
  description: string,
  condition = "true",
): PanelSpec => ({
  title,
  description,
  gridPos: { x, y: 14, w: 6, h: 12 },
  targets: [target(
    sql`
      SELECT s.site_id AS "site", (c.payload->>'${key}')::float8 AS "hours"
      ${LATEST}
      WHERE c.payload ? '${key}'
        AND ${condition}
      ORDER BY 2 ASC, 1
      LIMIT 25`,
    "table",
  )],
  defaults: {
    unit: "h",
    decimals: 1,
    min: 0,
    max: 48,
    thresholds: HOURS_THRESHOLDS,
    color: { mode: "thresholds" },
  },
  options: {
    reduceOptions: { values: true, calcs: [], fields: "/^hours$/" },
    orientation: "horizontal",
    displayMode: "gradient",
    showUnfilled: true,
    valueMode: "color",
    namePlacement: "left",
  },
});

const batteryHours = hoursLeft(
  "Battery hours left",
  "predicted_battery_h",
  12,
  "Median hours until each battery reaches its reserve with no generator, fewest first " +
    "(168 means a week or more).",
);

const dieselHours = hoursLeft(
  "Diesel hours left",
  "predicted_diesel_h",
  18,
  "Median hours until the fuel can no longer run the generator under the command's plan, " +
    "fewest first; sites without a generator are left out.",
  "coalesce((s.profile->>'generatorRatedKw')::float8, 1) > 0",
);

const fleetPower: PanelSpec = {
  title: "Fleet power (hourly means)",
  description: "Sum over the sites of each hour's mean load, PV and generator output " +
    "(telemetry_hourly).",
  gridPos: { x: 0, y: 26, w: 12, h: 9 },
  targets: [target(
    sql`
      SELECT bucket AS "time",
        sum(load_avg_w) / 1000 AS "Load",
        sum(coalesce(pv_avg_w, 0)) / 1000 AS "PV",
        sum(coalesce(gen_avg_w, 0)) / 1000 AS "Generator"
      FROM telemetry_hourly
      WHERE $__timeFilter(bucket)
      GROUP BY bucket
      ORDER BY 1`,
    "time_series",
  )],
  defaults: { ...timeseriesDefaults, unit: "kwatt" },
  options: timeseriesOptions,
};

const fleetRunning: PanelSpec = {
  title: "Generators running and loads shut down",
  description: "Each hour, the number of sites with the generator running and with the load " +
    "shut down, averaged over the hour (a site running half the hour counts 0.5).",
  gridPos: { x: 12, y: 26, w: 12, h: 9 },
  targets: [target(
    sql`
      SELECT bucket AS "time",
        sum(gen_running_samples::float8 / samples) AS "Generators running",
        sum(source_off_samples::float8 / samples) AS "Loads shut down"
      FROM telemetry_hourly
      WHERE $__timeFilter(bucket)
      GROUP BY bucket
      ORDER BY 1`,
    "time_series",
  )],
  defaults: { ...timeseriesDefaults, unit: "none", decimals: 1 },
  options: timeseriesOptions,
};

const runtimeBySite: PanelSpec = {
  title: "Runtime and energy by site",
  description: "Over the selected range, from telemetry_hourly: generator hours and hours " +
    "with the load shut down (each hour's share of samples), load and PV energy (each hour's " +
    "mean power over an hour), the lowest charge and fuel seen.",
  gridPos: { x: 0, y: 35, w: 12, h: 10 },
  targets: [target(
    sql`
      SELECT site_id AS "Site",
        sum(gen_running_samples::float8 / samples) AS "Generator h",
        sum(source_off_samples::float8 / samples) AS "Shut down h",
        sum(load_avg_w) / 1000 AS "Load kWh",
        sum(coalesce(pv_avg_w, 0)) / 1000 AS "PV kWh",
        min(soc_min_pct) AS "Lowest SoC",
        min(fuel_min_pct) AS "Lowest fuel"
      FROM telemetry_hourly
      WHERE $__timeFilter(bucket)
      GROUP BY site_id
      ORDER BY 2 DESC, 1`,
    "table",
  )],
  defaults: { decimals: 1 },
  overrides: [
    siteLink("Site"),
    ...["Lowest SoC", "Lowest fuel"].map((name) => ({
      matcher: { id: "byName", options: name },
      properties: [{ id: "unit", value: "percent" }],
    })),
  ],
  options: tableOptions,
};

const deviceEvents: PanelSpec = {
  title: "Device events",
  description: "What the sites reported on their event topic in the range: generator start " +
    "failures and stops, blocked transfers, driver errors, rejected commands, fallbacks to " +
    "local defaults (routine decisions and profile announcements are left out).",
  gridPos: { x: 12, y: 35, w: 12, h: 10 },
  targets: [target(
    sql`
      SELECT time AS "Time", site_id AS "Site", kind AS "Event", detail->>'detail' AS "Detail"
      FROM site_events
      WHERE $__timeFilter(time) AND kind NOT IN ('decision', 'profile', 'command-accepted')
      ORDER BY time DESC
      LIMIT 500`,
    "table",
  )],
  overrides: [siteLink("Site")],
  options: tableOptions,
};

const rejected: PanelSpec = {
  title: "Rejected messages",
  description: "Payloads the backend could not decode, per hour, by the field the reason " +
    "names (payload, battery_v, site_id, ...); the payloads are kept in rejected_messages.",
  gridPos: { x: 0, y: 45, w: 12, h: 8 },
  targets: [target(
    sql`
      SELECT $__timeGroupAlias(received_at, 1h), split_part(reason, ':', 1) AS "metric",
        count(*) AS "rejected"
      FROM rejected_messages
      WHERE $__timeFilter(received_at)
      GROUP BY 1, 2
      ORDER BY 1`,
    "time_series",
  )],
  defaults: { ...timeseriesDefaults, unit: "none", custom: { drawStyle: "bars", fillOpacity: 80 } },
  options: timeseriesOptions,
};

const firstGeneration: PanelSpec = {
  title: "First-generation sites",
  description: "Sites on the first-generation protocol, newest reading from the power_events " +
    "view their own dashboards query.",
  gridPos: { x: 12, y: 45, w: 12, h: 8 },
  targets: [target(
    sql`
      SELECT s.site_id AS "Site", p.time AS "Last reading", p.active_source AS "Source",
        p.voltage AS "Voltage", p.fuel_level AS "Fuel", p.load_watts AS "Load"
      FROM sites s
      CROSS JOIN LATERAL (
        SELECT time, active_source, voltage, fuel_level, load_watts
        FROM power_events
        WHERE power_events.site_id = s.site_id
        ORDER BY time DESC
        LIMIT 1
      ) p
      WHERE s.protocol = 'legacy'
      ORDER BY s.site_id`,
    "table",
  )],
  overrides: [
    siteLink("Site"),
    ...[["Voltage", "volt"], ["Fuel", "percent"], ["Load", "watt"]].map(([name, unit]) => ({
      matcher: { id: "byName", options: name },
      properties: [{ id: "unit", value: unit }],
    })),
  ],
  options: tableOptions,
};

export const FLEET_OVERVIEW = dashboard({
  uid: FLEET_DASHBOARD_UID,
  title: "Kasi · Fleet overview",
  description: "Every site's state, hours left and location; the fleet's hours over the range.",
  refresh: "30s",
  time: { from: "now-24h", to: "now" },
  links: [{
    title: "Site detail",
    type: "link",
    url: `/d/${SITE_DASHBOARD_UID}/kasi-site-detail`,
    icon: "dashboard",
    keepTime: true,
  }],
}, [
  ["stat", sitesByStatus],
  ["stat", sourcesNow],
  ["stat", shortestRunway],
  ["stat", openAlarms],
  ["table", sitesTable],
  ["geomap", sitesMap],
  ["bargauge", batteryHours],
  ["bargauge", dieselHours],
  ["timeseries", fleetPower],
  ["timeseries", fleetRunning],
  ["table", runtimeBySite],
  ["table", deviceEvents],
  ["timeseries", rejected],
  ["table", firstGeneration],
  ["table", alarmList],
]);
