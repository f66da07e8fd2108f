import assert from "node:assert/strict";
import { encodeCommandV1, type StrategicCommand } from "../../src/core/command.ts";
import { CommandGate } from "../../src/device/command_gate.ts";

const NOW = new Date("2026-03-20T12:00:00Z");
const HOUR_MS = 3_600_000;

function payload(patch: Partial<StrategicCommand> = {}): string {
  return encodeCommandV1({
    siteId: "tower-1",
    seq: 7,
    issuedAt: new Date(NOW.getTime() - 60_000),
    validUntil: new Date(NOW.getTime() + HOUR_MS),
    mode: "eco",
    genStartSocPct: 30,
    genStopSocPct: 85,
    reserveSocPct: 40,
    forecast: "clear",
    predictedBatteryH: 6,
    predictedDieselH: 50,
    reason: "sunny",
    ...patch,
  });
}

Deno.test("CommandGate accepts a valid command and describes what it will do", () => {
  const gate = new CommandGate("tower-1");
  assert.equal(gate.usingLocalDefaults, true);
  const o = gate.receive(payload(), NOW);
  assert.equal(o.kind, "accepted");
  assert.equal(
    o.detail,
    "acting on command seq 7: mode eco, start gen at 30 %, stop at 85 %, reserve 40 %, " +
      "valid until 2026-03-20T13:00:00.000Z",
  );
  assert.equal(gate.usingLocalDefaults, false);
  assert.equal(gate.active(NOW).command?.seq, 7);
});

Deno.test("CommandGate rejects with a reason naming the field, the seq or the time", () => {
  const gate = new CommandGate("tower-1");
  gate.receive(payload(), NOW);
  const cases: [string, RegExp][] = [
    [payload({ seq: 6 }), /^stale seq: 6 ≤ last accepted 7$/],
    [
      payload({ seq: 8, issuedAt: new Date(NOW.getTime() - 2 * HOUR_MS), validUntil: NOW }),
      /^expired: valid_until 2026-03-20T12:00:00.000Z is not after now 2026-03-20T12:00:00.000Z$/,
    ],
    // Issued 61 s ahead is beyond the 60 s skew allowance.
    [
      payload({ seq: 9, issuedAt: new Date(NOW.getTime() + 61_000) }),
      /^not yet valid: issued_at 2026-03-20T12:01:01.000Z/,
    ],
    [payload({ seq: 10, siteId: "tower-2" }), /^site_id: "tower-2" does not match this site/],
    ["{not json", /^invalid payload: payload: not JSON/],
    [
      JSON.stringify({ ...JSON.parse(payload({ seq: 11 })), reserve_soc_pct: -1 }),
      /^invalid payload: reserve_soc_pct: .*\(got -1\)/,
    ],
  ];
  for (const [text, reason] of cases) {
    const o = gate.receive(text, NOW);
    assert.equal(o.kind, "rejected", text);
    assert.match(o.detail, reason);
  }
  // None of them displaced the accepted command.
  assert.equal(gate.lastAccepted?.seq, 7);
});

Deno.test("CommandGate ignores an empty payload and a repeat of the accepted seq", () => {
  const gate = new CommandGate("tower-1");
  assert.equal(gate.receive("", NOW).kind, "ignored");
  gate.receive(payload(), NOW);
  assert.equal(gate.receive(payload(), new Date(NOW.getTime() + 2 * HOUR_MS)).kind, "ignored");
});

Deno.test("CommandGate.active() reports the expiry once, then gives null", () => {
  const gate = new CommandGate("tower-1");
  gate.receive(payload(), NOW);
  const later = new Date(NOW.getTime() + HOUR_MS);
  const first = gate.active(later);
  assert.deepEqual([first.command, first.expired?.seq], [null, 7]);
  assert.deepEqual(gate.active(later), { command: null, expired: null });
  assert.equal(gate.usingLocalDefaults, true);
  // A newer command ends the fallback.
  assert.equal(
    gate.receive(payload({ seq: 8, validUntil: new Date(later.getTime() + HOUR_MS) }), later).kind,
    "accepted",
  );
  assert.equal(gate.active(later).command?.seq, 8);
});
