import assert from "node:assert/strict";
import type { Alarm } from "../../src/core/alarm.ts";
import {
  alarmChangeLine,
  type DemoRow,
  renderAlarms,
  renderDemoTable,
} from "../../src/cli/demo_table.ts";

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

Deno.test("renderAlarms() lists open alarms and the latest changes, cut to the width", () => {
  const alarm: Alarm = {
    id: 1,
    siteId: "demo-1",
    kind: "fuel-loss",
    severity: "critical",
    state: "acknowledged",
    message: "Fuel fell 2.9 L with the generator off",
    raisedAt: "2026-12-04T06:26:00.000Z",
    acknowledgedAt: "2026-12-04T06:30:00.000Z",
    acknowledgedBy: "op",
    clearedAt: null,
    values: {},
  };
  assert.equal(
    renderAlarms([alarm], [alarmChangeLine(alarm)]),
    [
      "OPEN ALARMS (1)",
      // 71 characters of columns and a 38-character message: cut to 99 and an ellipsis.
      "  demo-1     fuel-loss                 critical since 12-04 06:26 ack  Fuel fell 2.9 L with the gen…",
      "",
      "ALARM CHANGES",
      "  06:30 demo-1 fuel-loss acknowledged — Fuel fell 2.9 L with the generator off",
    ].join("\n"),
  );
  assert.equal(renderAlarms([], []), "OPEN ALARMS (0)\n  none");
  const cleared = { ...alarm, state: "cleared" as const, clearedAt: "2026-12-04T09:00:00.000Z" };
  assert.equal(
    alarmChangeLine({ ...cleared, clearedValues: { fuelPct: 90, refilled: true } }),
    "09:00 demo-1 fuel-loss cleared — fuelPct 90, refilled true",
  );
  assert.ok(
    renderAlarms([{ ...alarm, message: "x".repeat(200) }], []).split("\n")[1]!.length === 100,
  );
});
