/**
 * What Grafana does to a PostgreSQL panel's rawSql before PostgreSQL sees it, in the same three
 * steps and with the same text, so the panel tests run the very statements Grafana would run:
 *
 * 1. Frontend, template variables (packages/grafana-sql/src/datasource/SqlDatasource.ts,
 *    applyTemplateVariables → templateSrv.replace with interpolateVariable): each `$name` or
 *    `${name}` that names a dashboard variable, or the scoped `__interval` / `__interval_ms`, is
 *    replaced (variableRegex of public/app/features/variables/utils.ts). A single-value string is
 *    inserted with its quotes doubled, unquoted (the panel writes the quotes: `'$site'`); a
 *    multi-value or include-all one becomes a list of quoted literals; a number stays a number.
 * 2. Backend, global substitutions (pkg/tsdb/grafana-postgresql-datasource/sqleng/
 *    sql_engine.go, Interpolate): `$__interval_ms`, `$__interval` (gtime.FormatInterval),
 *    `$__unixEpochFrom()`, `$__unixEpochTo()`.
 * 3. Backend, the PostgreSQL macro engine (pkg/tsdb/grafana-postgresql-datasource/macros.go):
 *    every `$__name(args)` matching `\$([_a-zA-Z0-9]+)\(([^\)]*)\)`, arguments split on commas
 *    and trimmed. `$__timeFilter(c)` → `c BETWEEN 'from' AND 'to'` (RFC 3339 with nanoseconds, UTC);
 *    `$__timeFrom()`, `$__timeTo()` → the quoted instants; `$__timeGroup(c, i)` →
 *    `floor(extract(epoch from c)/s)*s` with s the interval in seconds (or `time_bucket(...)`
 *    with the data source's TimescaleDB option), and `... AS "time"` for `$__timeGroupAlias`
 *    or when a comma directly follows `$__timeGroup(...)` (the pre-5.3 compatibility rule).
 *
 * The interval itself is chosen by the frontend (rangeUtil.calculateInterval, rounded to 10s,
 * 20s, 30s, 1m, 5m, 10m, 30m, 1h, ...): tests pass such an interval, which the frontend's and the
 * backend's formatting write alike ("20s", "1h").
 */

export interface GrafanaQueryContext {
  from: Date;
  to: Date;
  intervalMs: number;
  /** Dashboard variables: a string is a single value, an array a multi-value selection. */
  variables?: Record<string, string | string[]>;
  /** The data source's "TimescaleDB" toggle (jsonData.timescaledb). */
  timescaledb?: boolean;
}

/** Go's time.RFC3339Nano for a UTC instant: fraction without trailing zeros, none when zero. */
export function rfc3339Nano(time: Date): string {
  const iso = time.toISOString(); // 2018-04-12T18:00:00.500Z
  const [whole, fraction] = iso.slice(0, -1).split(".");
  const digits = (fraction ?? "").replace(/0+$/, "");
  return `${whole}${digits ? `.${digits}` : ""}Z`;
}

/** gtime.FormatInterval: the largest whole unit (y, d, h, m, s, ms), truncated. */
export function formatInterval(ms: number): string {
  const units: [string, number][] = [
    ["y", 365 * 86_400_000],
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
    ["ms", 1],
  ];
  for (const [unit, size] of units) {
    if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  }
  return "1ms";
}

/**
 * gtime.ParseInterval for the forms FormatInterval writes and panels use: a whole number and one
 * unit of ms, s, m, h (Go's time.ParseDuration), d (24 h), w (7 d). Returns seconds.
 */
export function parseIntervalS(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d|w)$/.exec(text);
  if (!match) throw new Error(`interval "${text}": not a whole number of ms, s, m, h, d or w`);
  const factor: Record<string, number> = {
    ms: 0.001,
    s: 1,
    m: 60,
    h: 3600,
    d: 86_400,
    w: 604_800,
  };
  return Number(match[1]) * factor[match[2]!]!;
}

/**
 * Go's %v of a float64 (strconv 'g' with the shortest digits): "%e is used if the exponent ...
 * is less than -4 or greater than or equal to the precision; if precision was the shortest
 * possible, use precision 6" (src/strconv/ftoa.go), with at least two exponent digits:
 * 300 → "300", 0.02 → "0.02", 1036800 → "1.0368e+06".
 */
export function goFloat(value: number): string {
  const [mantissa, exponent] = value.toExponential().split("e") as [string, string];
  const exp = Number(exponent);
  if (exp < -4 || exp >= 6) {
    return `${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return String(value); // JavaScript writes these plainly too (it switches below 1e-6)
}

const VARIABLE = /\$(\w+)|\[\[([\s\S]+?)(?::(\w+))?\]\]|\${(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?}/g;

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Step 1: the frontend's template variables. */
export function interpolateVariables(sql: string, ctx: GrafanaQueryContext): string {
  const scoped: Record<string, string | number | string[]> = {
    ...ctx.variables,
    __interval: formatInterval(ctx.intervalMs),
    __interval_ms: ctx.intervalMs,
  };
  return sql.replace(VARIABLE, (match, plain, bracket, bracketFmt, braced, path, fmt) => {
    const name = (plain ?? bracket ?? braced) as string;
    if (!(name in scoped)) return match;
    if (bracketFmt !== undefined || path !== undefined || fmt !== undefined) {
      throw new Error(`${match}: formats and field paths are not emulated; write $${name}`);
    }
    const value = scoped[name]!;
    if (typeof value === "number") return String(value);
    if (Array.isArray(value)) return value.map(quoteLiteral).join(",");
    return value.replace(/'/g, "''");
  });
}

/** Step 2: sqleng.Interpolate. */
export function interpolateGlobals(sql: string, ctx: GrafanaQueryContext): string {
  return sql
    .replaceAll("$__interval_ms", String(Math.trunc(ctx.intervalMs)))
    .replaceAll("$__interval", formatInterval(ctx.intervalMs))
    .replaceAll("$__unixEpochFrom()", String(Math.floor(ctx.from.getTime() / 1000)))
    .replaceAll("$__unixEpochTo()", String(Math.floor(ctx.to.getTime() / 1000)));
}

const MACRO = /\$([_a-zA-Z0-9]+)\(([^\)]*)\)/g;

function evaluateMacro(name: string, args: string[], ctx: GrafanaQueryContext): string {
  const from = rfc3339Nano(ctx.from);
  const to = rfc3339Nano(ctx.to);
  const needColumn = () => {
    if (args.length === 0 || args[0] === "") {
      throw new Error(`missing time column argument for macro ${name}`);
    }
    return args[0]!;
  };
  switch (name) {
    case "__time":
      return `${needColumn()} AS "time"`;
    case "__timeEpoch":
      return `extract(epoch from ${needColumn()}) as "time"`;
    case "__timeFilter":
      return `${needColumn()} BETWEEN '${from}' AND '${to}'`;
    case "__timeFrom":
      return `'${from}'`;
    case "__timeTo":
      return `'${to}'`;
    case "__timeGroup": {
      if (args.length < 2) {
        throw new Error(`macro ${name} needs time column and interval and optional fill value`);
      }
      if (args.length === 3) throw new Error("fill values are not emulated");
      const s = parseIntervalS(args[1]!.replace(/^'+|'+$/g, ""));
      if (ctx.timescaledb) return `time_bucket('${s.toFixed(3)}s',${args[0]})`;
      return `floor(extract(epoch from ${args[0]})/${goFloat(s)})*${goFloat(s)}`;
    }
    case "__timeGroupAlias":
      return `${evaluateMacro("__timeGroup", args, ctx)} AS "time"`;
    case "__unixEpochFilter": {
      const c = needColumn();
      const f = Math.floor(ctx.from.getTime() / 1000);
      const t = Math.floor(ctx.to.getTime() / 1000);
      return `${c} >= ${f} AND ${c} <= ${t}`;
    }
    default:
      throw new Error(`unknown macro "${name}"`);
  }
}

/** Step 3: the PostgreSQL data source's macro engine. */
export function interpolateMacros(sql: string, ctx: GrafanaQueryContext): string {
  return sql.replace(MACRO, (whole: string, name: string, rawArgs: string) => {
    let macro = name;
    // macros.go: "$__timeGroup" directly followed by ',' (after the first occurrence of the
    // same text in the query) is the old alias form.
    if (macro === "__timeGroup") {
      const index = sql.indexOf(whole);
      if (index >= 0 && sql[index + whole.length] === ",") macro = "__timeGroupAlias";
    }
    const args = rawArgs.split(",").map((a) => a.trim());
    return evaluateMacro(macro, args, ctx);
  });
}

/** All three steps: the SQL text Grafana sends to PostgreSQL for this panel query. */
export function expandGrafanaSql(rawSql: string, ctx: GrafanaQueryContext): string {
  return interpolateMacros(interpolateGlobals(interpolateVariables(rawSql, ctx), ctx), ctx);
}
