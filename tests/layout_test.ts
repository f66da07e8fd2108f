/** Imports flow one way (../shared/STYLE.md): cli -> device | backend | db | embedded -> core. */
import assert from "node:assert/strict";

const FORBIDDEN: Record<string, RegExp> = {
  core: /from\s+["'](\.\.\/(device|backend|db|embedded|cli)\/|node:|npm:(?!zod))/,
  device: /from\s+["']\.\.\/(backend|db|embedded|cli)\//,
  backend: /from\s+["']\.\.\/(device|embedded|cli)\//,
  db: /from\s+["']\.\.\/(device|backend|embedded|cli)\//,
  embedded: /from\s+["']\.\.\/(device|backend|db|cli)\//,
};

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

Deno.test("src/ layers import only in the allowed direction", async () => {
  const root = new URL("../src", import.meta.url).pathname;
  const violations: string[] = [];
  for (const [layer, pattern] of Object.entries(FORBIDDEN)) {
    for await (const file of sourceFiles(`${root}/${layer}`)) {
      const text = await Deno.readTextFile(file);
      text.split("\n").forEach((line, i) => {
        if (/^\s*(import|export)\b/.test(line) && pattern.test(line)) {
          violations.push(`${file.slice(root.length + 1)}:${i + 1}: ${line.trim()}`);
        }
      });
    }
  }
  assert.deepEqual(violations, []);
});

Deno.test("src/core uses no Deno APIs and reads no clock", async () => {
  const root = new URL("../src/core", import.meta.url).pathname;
  const violations: string[] = [];
  for await (const file of sourceFiles(root)) {
    const text = await Deno.readTextFile(file);
    text.split("\n").forEach((line, i) => {
      if (/\bDeno\.|Date\.now\(\)|new Date\(\)|Math\.random\(/.test(line)) {
        violations.push(`${file.slice(root.length + 1)}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(violations, []);
});
