/** Errors with a stable `code`, so the CLI maps each kind to one message and exit code. */
export type KasiErrorCode =
  | "CONFIG_INVALID"
  | "PORT_IN_USE"
  | "DATA_DIR_IN_USE"
  | "DATABASE_UNAVAILABLE"
  | "BROKER_UNAVAILABLE"
  | "MIGRATION_FAILED"
  | "INPUT_INVALID"
  /** Hardware that does not do what it was told (outputs that read back wrong). */
  | "HARDWARE_FAULT"
  /** A run finished but some of its input was rejected (replay: bad lines). */
  | "INPUT_REJECTED";

export class KasiError extends Error {
  readonly code: KasiErrorCode;
  constructor(code: KasiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KasiError";
    this.code = code;
  }
}
