/**
 * README's Commands table against the program's own options (what `--help` prints): a row names
 * no option its command lacks, the replay and simulate-fleet rows name every option in `--help`
 * order, and every option of every command is documented somewhere in the README.
 */
import assert from "node:assert/strict";
import { buildProgram } from "../../cli.ts";

const README = new URL("../../README.md", import.meta.url);
/** Rows that list every option of their command, as `--help` does. */
const COMPLETE_ROWS = ["replay", "simulate-fleet"];

function flagsIn(text: string): string[] {
  return [...text.matchAll(/--[a-z][a-z0-9-]*/g)].map((m) => m[0]);
}

async function commandRows(): Promise<{ command: string; usage: string }[]> {
  const text = await Deno.readTextFile(README);
  const section = text.slice(text.indexOf("## Commands"), text.indexOf("### Replaying recordings"));
  return [...section.matchAll(/^\| `kasi ([a-z-]+)((?: [a-z][a-z-]*)?)([^`]*)` +\|/gm)].map((
    m,
  ) => ({
    command: m[1]! + (m[2] ?? ""),
    usage: m[3]!,
  }));
}

function optionsOf(path: string): string[] {
  const [name, sub] = path.trim().split(" ");
  const command = buildProgram().commands.find((c) => c.name() === name);
  assert.ok(command, `README names a command "kasi ${name}" the program lacks`);
  const target = sub && !sub.startsWith("-")
    ? command.commands.find((c) => c.name() === sub) ?? command
    : command;
  return target.options.map((o) => o.long!).filter((f) => f !== "--help");
}

Deno.test("README's Commands table names only options the commands take", async () => {
  const rows = await commandRows();
  assert.ok(rows.length >= 10, `found ${rows.length} rows`);
  for (const row of rows) {
    const options = optionsOf(row.command);
    for (const flag of flagsIn(row.usage)) {
      assert.ok(
        options.includes(flag),
        `kasi ${row.command}: README names ${flag}; --help has none`,
      );
    }
  }
});

Deno.test("README's replay and simulate-fleet rows list exactly what --help lists, in its order", async () => {
  const rows = await commandRows();
  for (const command of COMPLETE_ROWS) {
    const row = rows.find((r) => r.command === command);
    assert.ok(row, `no README row for kasi ${command}`);
    assert.deepEqual(flagsIn(row.usage), optionsOf(command), `kasi ${command}`);
  }
});

Deno.test("README documents every option of every command", async () => {
  const documented = new Set(flagsIn(await Deno.readTextFile(README)));
  for (const command of buildProgram().commands) {
    for (const c of [command, ...command.commands]) {
      for (const option of c.options) {
        if (option.long === "--help") continue;
        assert.ok(documented.has(option.long!), `kasi ${c.name()} ${option.long} is not in README`);
      }
    }
  }
});
