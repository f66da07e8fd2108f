/**
 * Configuration from the environment: a tiny `.env` loader and the one precedence order every
 * setting follows — flag > environment variable(s) > `.env` file > default. The `.env` file
 * never overrides a variable that is already set, which is what puts it below the environment.
 */
import { KasiError } from "../core/errors.ts";

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };

/**
 * Parses `.env` text: `KEY=VALUE` lines, optional `export `, `#` comment lines, blank lines.
 * Values may be unquoted (trimmed; ` #` starts a comment), single-quoted (taken literally) or
 * double-quoted (`\n`, `\t`, `\"`, `\\` escapes). A malformed line is an error naming it.
 */
export function parseDotEnv(text: string, fileName = ".env"): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const where = `${fileName} line ${index + 1}`;
    const body = line.startsWith("export ") ? line.slice(7).trimStart() : line;
    const eq = body.indexOf("=");
    if (eq <= 0) {
      throw new KasiError(
        "CONFIG_INVALID",
        `${where}: expected KEY=VALUE, got "${line.slice(0, 60)}"`,
      );
    }
    const key = body.slice(0, eq).trim();
    if (!KEY.test(key)) {
      throw new KasiError("CONFIG_INVALID", `${where}: "${key}" is not a valid variable name`);
    }
    out[key] = parseValue(body.slice(eq + 1).trim(), where);
  });
  return out;
}

function parseValue(value: string, where: string): string {
  const quote = value[0];
  if (quote === '"' || quote === "'") {
    const end = findClosingQuote(value, quote);
    if (end < 0) {
      throw new KasiError("CONFIG_INVALID", `${where}: ${quote} opened but never closed`);
    }
    const rest = value.slice(end + 1).trim();
    if (rest !== "" && !rest.startsWith("#")) {
      throw new KasiError(
        "CONFIG_INVALID",
        `${where}: unexpected "${rest}" after the quoted value`,
      );
    }
    const inner = value.slice(1, end);
    return quote === "'" ? inner : inner.replace(/\\(.)/g, (m, c: string) => ESCAPES[c] ?? m);
  }
  const comment = value.search(/\s#/);
  return (comment >= 0 ? value.slice(0, comment) : value).trim();
}

function findClosingQuote(value: string, quote: string): number {
  for (let i = 1; i < value.length; i++) {
    if (value[i] === "\\" && quote === '"') i++;
    else if (value[i] === quote) return i;
  }
  return -1;
}

/**
 * Loads `path` (default `.env` in the working directory) into the environment, skipping every
 * variable already set. A missing file is not an error. Returns the names it set.
 */
export async function loadDotEnv(
  options: {
    path?: string;
    env?: { get(key: string): string | undefined; set(key: string, value: string): void };
  } = {},
): Promise<string[]> {
  const path = options.path ?? ".env";
  const env = options.env ?? Deno.env;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw new KasiError("CONFIG_INVALID", `Cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const set: string[] = [];
  for (const [key, value] of Object.entries(parseDotEnv(text, path))) {
    if (env.get(key) !== undefined) continue;
    env.set(key, value);
    set.push(key);
  }
  return set;
}

/**
 * The first of: the flag, then each named variable that is set and not blank, then the
 * default. Returns where the value came from too, for the start-up log.
 */
export function resolveSetting(
  options: {
    flag?: string;
    flagName: string;
    env: Record<string, string | undefined>;
    names: readonly string[];
    fallback: string;
  },
): { value: string; source: string };
export function resolveSetting(
  options: {
    flag?: string;
    flagName: string;
    env: Record<string, string | undefined>;
    names: readonly string[];
    fallback?: undefined;
  },
): { value: string | undefined; source: string };
export function resolveSetting(
  options: {
    flag?: string;
    flagName: string;
    env: Record<string, string | undefined>;
    names: readonly string[];
    fallback?: string;
  },
): { value: string | undefined; source: string } {
  if (options.flag !== undefined) return { value: options.flag, source: options.flagName };
  for (const name of options.names) {
    const value = options.env[name]?.trim();
    if (value) return { value, source: name };
  }
  return { value: options.fallback, source: "default" };
}
