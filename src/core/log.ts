/** The logger every long-running part receives; the CLI decides where lines go. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** A logger that keeps entries in memory: for tests, and for the demo's log pane. */
export class MemoryLogger implements Logger {
  readonly entries: { level: string; msg: string; fields: LogFields }[] = [];
  debug(msg: string, fields: LogFields = {}) {
    this.entries.push({ level: "debug", msg, fields });
  }
  info(msg: string, fields: LogFields = {}) {
    this.entries.push({ level: "info", msg, fields });
  }
  warn(msg: string, fields: LogFields = {}) {
    this.entries.push({ level: "warn", msg, fields });
  }
  error(msg: string, fields: LogFields = {}) {
    this.entries.push({ level: "error", msg, fields });
  }
}

/** A logger that adds `fields` (e.g. the site id) to every line of `log`. */
export function withFields(log: Logger, fields: LogFields): Logger {
  return {
    debug: (msg, f) => log.debug(msg, { ...fields, ...f }),
    info: (msg, f) => log.info(msg, { ...fields, ...f }),
    warn: (msg, f) => log.warn(msg, { ...fields, ...f }),
    error: (msg, f) => log.error(msg, { ...fields, ...f }),
  };
}
