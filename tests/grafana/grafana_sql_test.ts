/**
 * The emulation of Grafana's SQL expansion (grafana_sql.ts) against Grafana's own expectations:
 * the cases of pkg/tsdb/grafana-postgresql-datasource/macros_test.go (time range 2018-04-12
 * 18:00–18:05 UTC), and the frontend's variable formatting of SqlDatasource.interpolateVariable.
 */
import assert from "node:assert/strict";
import {
  expandGrafanaSql,
  formatInterval,
  goFloat,
  type GrafanaQueryContext,
  rfc3339Nano,
} from "./grafana_sql.ts";

const from = new Date("2018-04-12T18:00:00Z");
const ctx: GrafanaQueryContext = {
  from,
  to: new Date(from.getTime() + 5 * 60_000),
  intervalMs: 600_000,
};
const ts: GrafanaQueryContext = { ...ctx, timescaledb: true };

Deno.test("expandGrafanaSql() gives macros_test.go's expansions", () => {
  const cases: [string, string][] = [
    ["select $__time(time_column)", 'select time_column AS "time"'],
    ["select min($__time(time_column))", 'select min(time_column AS "time")'],
    [
      "WHERE $__timeFilter(time_column)",
      "WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'",
    ],
    ["select $__timeFrom()", "select '2018-04-12T18:00:00Z'"],
    ["select $__timeTo()", "select '2018-04-12T18:05:00Z'"],
    // Pre-5.3 compatibility: a comma right after $__timeGroup(...) adds the alias.
    [
      "SELECT $__timeGroup(time_column,'5m'), value",
      'SELECT floor(extract(epoch from time_column)/300)*300 AS "time", value',
    ],
    [
      "SELECT $__timeGroup(time_column,'5m') as time, value",
      "SELECT floor(extract(epoch from time_column)/300)*300 as time, value",
    ],
    [
      "SELECT $__timeGroup(time_column,'5m')",
      "SELECT floor(extract(epoch from time_column)/300)*300",
    ],
    [
      "SELECT $__timeGroupAlias(time_column,'5m')",
      'SELECT floor(extract(epoch from time_column)/300)*300 AS "time"',
    ],
    ["$__timeGroup(time_column , '5m')", "floor(extract(epoch from time_column)/300)*300"],
    // 2018-04-12T18:00Z is 1514764800 (2018-01-01) + 101 days × 86400 + 18 h × 3600 = 1523556000.
    ["select $__unixEpochFilter(time)", "select time >= 1523556000 AND time <= 1523556300"],
    // TestInterpolateSQLCommenter: query.Interval of 10 min.
    ["SELECT $__interval", "SELECT 10m"],
  ];
  for (const [raw, expected] of cases) assert.equal(expandGrafanaSql(raw, ctx), expected, raw);
});

Deno.test("expandGrafanaSql() gives macros_test.go's TimescaleDB expansions", () => {
  const cases: [string, string][] = [
    ["GROUP BY $__timeGroup(time_column,'5m')", "GROUP BY time_bucket('300.000s',time_column)"],
    ["GROUP BY $__timeGroup(time_column , '5m')", "GROUP BY time_bucket('300.000s',time_column)"],
    [
      "GROUP BY $__timeGroup(time_column , '12d')",
      "GROUP BY time_bucket('1036800.000s',time_column)",
    ],
    ["GROUP BY $__timeGroup(time_column , '20ms')", "GROUP BY time_bucket('0.020s',time_column)"],
  ];
  for (const [raw, expected] of cases) assert.equal(expandGrafanaSql(raw, ts), expected, raw);
});

Deno.test("rfc3339Nano() writes Go's RFC3339Nano: no trailing zeros, no empty fraction", () => {
  // macros_test.go: 1960-02-01 07:00:00.5 formats as "1960-02-01T07:00:00.5Z".
  assert.equal(rfc3339Nano(new Date("1960-02-01T07:00:00.500Z")), "1960-02-01T07:00:00.5Z");
  assert.equal(rfc3339Nano(new Date("1980-02-03T08:00:00.000Z")), "1980-02-03T08:00:00Z");
  assert.equal(rfc3339Nano(new Date("2024-03-01T12:00:00.125Z")), "2024-03-01T12:00:00.125Z");
});

Deno.test("formatInterval() and goFloat() write what Grafana's Go code writes", () => {
  // gtime.FormatInterval keeps the largest whole unit: 90 s is "1m", 2 h 30 min is "2h".
  assert.equal(formatInterval(90_000), "1m");
  assert.equal(formatInterval(9_000_000), "2h");
  assert.equal(formatInterval(20_000), "20s");
  assert.equal(formatInterval(500), "500ms");
  assert.equal(formatInterval(0), "1ms");
  // strconv shortest 'g': e-notation from an exponent of 6 (1e6 → "1e+06").
  assert.equal(goFloat(300), "300");
  assert.equal(goFloat(999_999), "999999");
  assert.equal(goFloat(1_000_000), "1e+06");
  assert.equal(goFloat(1_036_800), "1.0368e+06");
  assert.equal(goFloat(0.02), "0.02");
  assert.equal(
    expandGrafanaSql("SELECT $__timeGroup(t, 12d)", ctx),
    "SELECT floor(extract(epoch from t)/1.0368e+06)*1.0368e+06",
  );
});

Deno.test("expandGrafanaSql() inserts dashboard variables as Grafana's SQL data source does", () => {
  const vars: GrafanaQueryContext = {
    ...ctx,
    intervalMs: 20_000,
    variables: { site: "o'hare-1", sites: ["a", "b'c"] },
  };
  // A single value: quotes doubled, no quotes added (the panel writes them).
  assert.equal(
    expandGrafanaSql("WHERE site_id = '$site' AND x = '${site}'", vars),
    "WHERE site_id = 'o''hare-1' AND x = 'o''hare-1'",
  );
  // A multi-value selection: a list of quoted literals.
  assert.equal(expandGrafanaSql("site_id IN ($sites)", vars), "site_id IN ('a','b''c')");
  // The frontend's scoped interval variables; an unknown $name is left alone.
  assert.equal(
    expandGrafanaSql("$__interval_ms, $__interval, $unknown", vars),
    "20000, 20s, $unknown",
  );
  assert.throws(() => expandGrafanaSql("${site:csv}", vars), /formats/);
});
