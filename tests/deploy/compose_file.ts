/**
 * compose.yaml read as Docker Compose reads it: YAML (anchors resolved), then every string value
 * interpolated from the host environment by the Compose specification's rules (docs.docker.com
 * reference/compose-file/interpolation): `$VAR` and `${VAR}`; `${VAR:-default}` (unset or
 * empty), `${VAR-default}` (unset); `${VAR:?err}`, `${VAR?err}`; `${VAR:+alt}`, `${VAR+alt}`;
 * nesting inside the operand; `$$` for a literal `$`; an unset variable without a default
 * becomes "" (Compose warns).
 */
import { parse } from "yaml";

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;

/** Interpolates one string; `env` is the host environment (unset keys are absent). */
export function interpolate(text: string, env: Record<string, string>): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== "$") {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === "$") {
      out += "$";
      i += 2;
      continue;
    }
    if (next === "{") {
      const end = closingBrace(text, i + 2);
      out += braced(text.slice(i + 2, end), env);
      i = end + 1;
      continue;
    }
    const name = NAME.exec(text.slice(i + 1))?.[0];
    if (name === undefined) {
      out += c; // not a variable: kept as written
      i++;
      continue;
    }
    out += env[name] ?? "";
    i += 1 + name.length;
  }
  return out;
}

function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === "$" && text[i + 1] === "{") {
      depth++;
      i++;
    } else if (text[i] === "}" && --depth === 0) return i;
  }
  throw new Error(`unclosed \${ in "${text}"`);
}

function braced(body: string, env: Record<string, string>): string {
  const name = NAME.exec(body)?.[0];
  if (name === undefined) throw new Error(`invalid interpolation "\${${body}}"`);
  const rest = body.slice(name.length);
  const value = env[name];
  const set = value !== undefined;
  const nonEmpty = set && value !== "";
  if (rest === "") return value ?? "";
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (op === undefined) throw new Error(`unsupported interpolation "\${${body}}"`);
  const operand = () => interpolate(rest.slice(op.length), env);
  switch (op) {
    case ":-":
      return nonEmpty ? value! : operand();
    case "-":
      return set ? value! : operand();
    case ":?":
    case "?":
      if (op === ":?" ? nonEmpty : set) return value!;
      throw new Error(`${name}: ${operand()}`);
    case ":+":
      return nonEmpty ? operand() : "";
    default: // "+"
      return set ? operand() : "";
  }
}

function interpolateDeep(value: unknown, env: Record<string, string>): unknown {
  if (typeof value === "string") return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, env));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, env)]),
    );
  }
  return value;
}

export interface ComposeService {
  image?: string;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  volumes?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  working_dir?: string;
  ports?: string[];
  healthcheck?: { test: string[] };
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** The repository root (this file is tests/deploy/compose_file.ts). */
export const ROOT = new URL("../../", import.meta.url);

/** compose.yaml, parsed and interpolated with `env` (default: nothing set, so defaults apply). */
export async function loadCompose(env: Record<string, string> = {}): Promise<ComposeFile> {
  const text = await Deno.readTextFile(new URL("compose.yaml", ROOT));
  return interpolateDeep(parse(text), env) as ComposeFile;
}

/** A short-syntax volume "source:target[:mode]": a bind mount when the source is a path. */
export function parseVolume(spec: string): {
  source: string;
  target: string;
  readOnly: boolean;
  bind: boolean;
} {
  const [source, target, mode] = spec.split(":") as [string, string, string | undefined];
  const bind = source.startsWith(".") || source.startsWith("/");
  return { source, target, readOnly: mode === "ro", bind };
}
