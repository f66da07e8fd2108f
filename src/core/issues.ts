/** Turns zod issues into one readable reason that names each field and the value it had. */
import type { z } from "zod";

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function show(value: unknown): string {
  if (value === undefined) return "missing";
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
): string {
  return issues.slice(0, 5).map((issue) => {
    const field = issue.path.length ? issue.path.map(String).join(".") : "(message)";
    const value = valueAt(input, issue.path);
    return value === undefined
      ? `${field}: ${issue.message}`
      : `${field}: ${issue.message} (got ${show(value)})`;
  }).join("; ");
}
