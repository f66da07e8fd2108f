/**
 * `kasi`: one program, one subcommand per file under src/cli/. Subcommands load their work
 * lazily, so `kasi device` never loads the database code. This is the one place that exits.
 */
import { Command } from "@commander-js/extra-typings";
import { loadDotEnv } from "./src/cli/env.ts";
import { handleError } from "./src/cli/handle_error.ts";
import { backendCommand } from "./src/cli/backend.ts";
import { backtestCommand } from "./src/cli/backtest.ts";
import { demoCommand } from "./src/cli/demo.ts";
import { deviceCommand } from "./src/cli/device.ts";
import { migrateCommand } from "./src/cli/migrate.ts";
import { replayCommand } from "./src/cli/replay.ts";
import { simulateFleetCommand } from "./src/cli/simulate_fleet.ts";

export function buildProgram(): Command {
  const program = new Command("kasi")
    .description("Monitor and control hybrid energy sites: battery, diesel generator and solar.")
    .version("0.1.0")
    .showHelpAfterError()
    // Options after a subcommand's name belong to it (`kasi device probe --hw=pi`).
    .enablePositionalOptions()
    .addCommand(migrateCommand())
    .addCommand(backendCommand())
    .addCommand(deviceCommand())
    .addCommand(demoCommand())
    .addCommand(replayCommand())
    .addCommand(simulateFleetCommand())
    .addCommand(backtestCommand());
  // Commander's usage errors come back as exceptions, so the one catch below sets every exit code.
  for (const command of [program, ...program.commands]) command.exitOverride();
  return program;
}

if (import.meta.main) {
  try {
    // A .env in the working directory fills in variables not already set, for every command.
    await loadDotEnv();
    await buildProgram().parseAsync(Deno.args, { from: "user" });
  } catch (error) {
    Deno.exit(handleError(error));
  }
}
