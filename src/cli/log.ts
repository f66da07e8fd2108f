/** Structured logs: one JSON object per line (time, level, msg, fields) on stderr or a file. */
import type { LogFields, Logger } from "../core/log.ts";

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LEVELS;

export function jsonLogger(
  options: { level?: LogLevel; component?: string; write?: (line: string) => void } = {},
): Logger {
  const min = LEVELS[options.level ?? "info"];
  const encoder = new TextEncoder();
  const write = options.write ?? ((line: string) => Deno.stderr.writeSync(encoder.encode(line)));
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (LEVELS[level] < min) return;
    const entry = {
      time: new Date().toISOString(),
      level,
      ...(options.component ? { component: options.component } : {}),
      msg,
      ...fields,
    };
    write(JSON.stringify(entry, (_k, v) => v instanceof Error ? v.message : v) + "\n");
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}
