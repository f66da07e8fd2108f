/**
 * Reads and checks the site hardware config (schema: src/device/pi/config.ts). Every error names
 * the key as written in the file and the value it had, so an installer can fix it at the site:
 * `sensors.battery_v.divder: unknown key (did you mean "divider"?)`. Besides the schema, the
 * checks that span keys: one GPIO line per use, a running sense for a site with a generator,
 * units that match the key (a current is not a power), ranges with min below max.
 */
import type { z } from "zod";
import { KasiError } from "../../core/errors.ts";
import { type AnalogSensor, type PiConfig, PiConfigSchema, type SensorKey } from "./config.ts";

/** Loads `path`; any problem is a KasiError("CONFIG_INVALID") naming the file and the key. */
export async function loadPiConfig(path: string): Promise<PiConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new KasiError("CONFIG_INVALID", `${path}: cannot read the config: ${message(error)}`);
  }
  return parsePiConfig(text, path);
}

/** Parses the config text; `source` names it in errors. */
export function parsePiConfig(text: string, source: string): PiConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw invalid(source, [`not JSON (${message(error)})`]);
  }
  const parsed = PiConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw invalid(
      source,
      parsed.error.issues.slice(0, 8).map((i) => issue(i, raw)),
    );
  }
  const problems = crossChecks(parsed.data, raw);
  if (problems.length > 0) throw invalid(source, problems);
  return parsed.data;
}

function invalid(source: string, problems: string[]): KasiError {
  return new KasiError("CONFIG_INVALID", `${source}: ${problems.join("; ")}`);
}

function issue(i: z.core.$ZodIssue, raw: unknown): string {
  const path = i.path.map(String).join(".");
  if (i.code === "unrecognized_keys") {
    return i.keys.map((key) => {
      const near = nearest(key);
      const hint = near ? ` (did you mean "${near}"?)` : "";
      return `${path ? `${path}.` : ""}${key}: unknown key${hint}`;
    }).join("; ");
  }
  const value = valueAt(raw, i.path);
  const shown = value === undefined ? "" : ` (got ${show(value)})`;
  return `${path || "(top level)"}: ${i.message}${shown}`;
}

const UNITS: Record<SensorKey, { unit: string; hwmon: string; name: string } | null> = {
  battery_v: { unit: "V", hwmon: "in", name: "volts" },
  battery_a: { unit: "A", hwmon: "curr", name: "amps" },
  load_w: { unit: "W", hwmon: "power", name: "watts" },
  pv_w: { unit: "W", hwmon: "power", name: "watts" },
  gen_w: { unit: "W", hwmon: "power", name: "watts" },
  fuel_pct: { unit: "%", hwmon: "", name: "percent" },
  battery_temp_c: { unit: "°C", hwmon: "temp", name: "degrees C" },
  gen_running: null,
};

const HWMON_UNITS: Record<string, string> = { in: "V", curr: "A", power: "W", temp: "°C" };

function crossChecks(c: PiConfig, raw: unknown): string[] {
  const problems: string[] = [];
  // One GPIO line, one use: an input read as an output's feedback would confirm nothing.
  const used = new Map<number, string>();
  const claim = (line: number, key: string) => {
    const other = used.get(line);
    if (other) problems.push(`${key}: GPIO ${line} is already used by ${other}`);
    else used.set(line, key);
  };
  if (c.sensors.gen_running) claim(c.sensors.gen_running.line, "sensors.gen_running.line");
  for (const [name, input] of Object.entries(c.inputs)) claim(input.line, `inputs.${name}.line`);
  const outputs: [string, { line: number; feedback?: { line: number } }][] = [
    ["outputs.battery_contactor", c.outputs.battery_contactor],
    ["outputs.generator_contactor", c.outputs.generator_contactor],
    ...generatorLines(c).map(([k, o]) => [`outputs.generator.${k}`, o] as [string, typeof o]),
    ...c.outputs.shed.map((o, i) => [`outputs.shed.${i}`, o] as [string, typeof o]),
  ];
  for (const [key, o] of outputs) {
    claim(o.line, `${key}.line`);
    if (o.feedback) claim(o.feedback.line, `${key}.feedback.line`);
  }
  if (c.site.generator_rated_kw > 0 && !c.sensors.gen_running) {
    problems.push(
      `sensors.gen_running: required when site.generator_rated_kw is above 0 (got ` +
        `${c.site.generator_rated_kw}): the start-failure check and the warm-up need to sense ` +
        "the generator running (a GPIO input from the controller's running output or an AC " +
        "voltage relay)",
    );
  }
  for (const [key, sensor] of Object.entries(c.sensors) as [SensorKey, AnalogSensor][]) {
    if (key === "gen_running") continue;
    const path = `sensors.${key}`;
    const given = (k: string) => valueAt(raw, ["sensors", key, k]) !== undefined;
    const tabled = sensor.kind !== "w1" && sensor.table !== undefined;
    const scaled = tabled || given("gain");
    const want = UNITS[key]!;
    if (tabled && (given("gain") || given("offset"))) {
      problems.push(
        `${path}.table: gain and offset do not apply with a table; give one or the other`,
      );
    }
    if (sensor.kind === "w1" && key !== "battery_temp_c") {
      problems.push(`${path}.kind: "w1" (DS18B20) measures temperature, not ${want.name}`);
    }
    if (sensor.kind === "hwmon" && !scaled) {
      const kind = sensor.input.replace(/\d+$/, "");
      if (kind !== want.hwmon) {
        problems.push(
          `${path}.input: "${sensor.input}" is in ${HWMON_UNITS[kind]} but ${key} is in ` +
            `${want.unit}: use ${
              want.hwmon ? `${want.hwmon}N` : "a table"
            }, or give a gain or a table`,
        );
      }
    }
    if (sensor.kind === "iio" && !scaled && want.unit !== "V") {
      problems.push(
        `${path}: an ADC reads volts, ${key} is in ${want.unit}: give a table (volts → ` +
          `${want.unit}) or a gain (${want.unit} per volt)`,
      );
    }
    if (sensor.min !== undefined && sensor.max !== undefined && !(sensor.min < sensor.max)) {
      problems.push(`${path}.min: ${sensor.min} must be below max ${sensor.max}`);
    }
  }
  return problems;
}

function generatorLines(c: PiConfig): [string, { line: number; feedback?: { line: number } }][] {
  const g = c.outputs.generator;
  if (g.mode === "hold") return [["run", g.run]];
  const lines: [string, { line: number; feedback?: { line: number } }][] = [["crank", g.crank]];
  if (g.run) lines.push(["run", g.run]);
  if (g.stop) lines.push(["stop", g.stop]);
  return lines;
}

/** Every key the schema knows, for "did you mean". */
const KNOWN_KEYS: string[] = [...collectKeys(PiConfigSchema, new Set<string>())];

function collectKeys(schema: unknown, into: Set<string>): Set<string> {
  const def = (schema as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
  if (!def) return into;
  switch (def.type) {
    case "object":
      for (const [key, inner] of Object.entries(def.shape as Record<string, unknown>)) {
        into.add(key);
        collectKeys(inner, into);
      }
      break;
    case "optional":
    case "default":
    case "nullable":
      collectKeys(def.innerType, into);
      break;
    case "union":
      for (const option of def.options as unknown[]) collectKeys(option, into);
      break;
    case "array":
      collectKeys(def.element, into);
      break;
    case "record":
      collectKeys(def.valueType, into);
      break;
    case "pipe":
      collectKeys(def.in, into);
      break;
  }
  return into;
}

/** The known key closest to `key` within two edits (a typo), else null. */
function nearest(key: string): string | null {
  let best: string | null = null;
  let bestD = 3;
  for (const k of KNOWN_KEYS) {
    const d = editDistance(key, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
