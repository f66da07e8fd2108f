/**
 * PostgreSQL array literals ("8.15.6 Array Input and Output Syntax" of the PostgreSQL manual),
 * built as one string per column: a whole batch travels as a few array parameters that
 * `unnest` turns back into rows (see insertTelemetry).
 */

/** A PostgreSQL array literal of numbers (JavaScript's shortest round-trip form), NULL for null. */
export function numberArray(values: (number | null)[]): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ",";
    out += v === null || v === undefined ? "NULL" : String(v);
  }
  return out + "}";
}

/** A PostgreSQL array literal of strings, each double-quoted with `"` and `\` escaped. */
export function textArray(values: string[]): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (i > 0) out += ",";
    out += `"${/["\\]/.test(v) ? v.replace(/["\\]/g, "\\$&") : v}"`;
  }
  return out + "}";
}

export function boolArray(values: boolean[]): string {
  return `{${values.map((v) => (v ? "t" : "f")).join(",")}}`;
}
