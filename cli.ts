/**
 * `kasi`: one program, one subcommand per file under src/cli/. Subcommands load their work
 * lazily, so `kasi device` never loads the database code. This is the one place that exits.
 */
import { Command } from "@commander-js/extra-typings";
import { handleError } from "./src/cli/handle_error.ts";
import { backendCommand } from "./src/cli/backend.ts";
import { demoCommand } from "./src/cli/demo.ts";
import { deviceCommand } from "./src/cli/device.ts";
import { migrateCommand } from "./src/cli/migrate.ts";

export function buildProgram() {
  return new Command("kasi")
    .description("Monitor and control hybrid energy sites: battery, diesel generator and solar.")
    .version("0.1.0")
    .showHelpAfterError()
    .addCommand(migrateCommand())
    .addCommand(backendCommand())
    .addCommand(deviceCommand())
    .addCommand(demoCommand());
}

if (import.meta.main) {
  try {
    await buildProgram().parseAsync(Deno.args, { from: "user" });
  } catch (error) {
    Deno.exit(handleError(error));
  }
}
