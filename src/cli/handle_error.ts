/** Maps every error kind to one readable line on stderr and an exit code. */
import { KasiError } from "../core/errors.ts";

const EXIT_CODES: Record<KasiError["code"], number> = {
  CONFIG_INVALID: 2,
  INPUT_INVALID: 2,
  INPUT_REJECTED: 1,
  PORT_IN_USE: 3,
  DATA_DIR_IN_USE: 3,
  DATABASE_UNAVAILABLE: 4,
  BROKER_UNAVAILABLE: 4,
  MIGRATION_FAILED: 5,
  HARDWARE_FAULT: 6,
};

export function handleError(error: unknown): number {
  if (error instanceof KasiError) {
    console.error(`kasi: ${error.message}`);
    return EXIT_CODES[error.code];
  }
  if (error instanceof Error && error.name === "CommanderError") {
    // Commander printed its message already; help and --version exit 0, usage errors 2.
    return (error as Error & { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  console.error("kasi: unexpected error:", error);
  return 1;
}
