import assert from "node:assert/strict";
import { type DemoRow, renderDemoTable } from "../../src/cli/demo_table.ts";

const row: DemoRow = {
  siteId: "demo-1",
  status: "online",
  source: "battery",
  socPct: 81.25,
  fuelPct: 85,
  loadW: 150,
  pvW: null,
  batteryH: 10.4167,
  dieselH: 200,
  mode: "normal",
  commandSeq: 3,
};

Deno.test("renderDemoTable() prints one aligned line per site under a header", () => {
  const lines = renderDemoTable([row, { ...row, siteId: "demo-2" }]).split("\n");
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^SITE\s+LINK\s+SOURCE\s+SOC\s+FUEL/);
  // Every line has the same width, so columns line up, and it fits a 100-column terminal.
  assert.equal(new Set(lines.map((l) => l.length)).size, 1);
  assert.ok(lines[0]!.length <= 100, `${lines[0]!.length} columns`);
});

Deno.test("renderDemoTable() shows units, rounding and missing values", () => {
  const line = renderDemoTable([row]).split("\n")[1]!;
  assert.match(line, /81\.3 %/); // 81.25 rounded to one decimal
  assert.match(line, /85 %/);
  assert.match(line, /150 W/);
  assert.match(line, /10\.4 h/);
  assert.match(line, /> 1 week/); // 200 h is beyond the one-week cap
  assert.match(line, /normal \(#3\)/);
  assert.match(line, /\s-\s/); // no PV reading
});
