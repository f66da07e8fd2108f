/** The PV stop rule: stop (or defer) a generator when the battery bridges to the forecast PV. */
import assert from "node:assert/strict";
import { decide } from "../../src/core/policy.ts";
import { pvBridge } from "../../src/core/pv_bridge.ts";
import { at, CLINIC, COMMAND, idle, running, T0 } from "./policy_fixtures.ts";

/** PV expected to cover the load 2 h after T0. */
const PV_AT = at(120);
const FORECAST = { ...COMMAND, pvCoversLoadAt: PV_AT };

Deno.test("pvBridge() compares the energy above reserve with load × hours × margin", () => {
  // 10 kWh, SoC 50 %, reserve 25 %: 25 % × 10 kWh = 2500 Wh; 1000 W × 2 h × 1.25 = 2500 Wh.
  const base = {
    now: T0,
    pvCoversLoadAt: PV_AT,
    socPct: 50,
    reserveSocPct: 25,
    capacityWh: 10_000,
    loadW: 1000,
    margin: 1.25,
  };
  assert.deepEqual(pvBridge(base), { hours: 2, availableWh: 2500, neededWh: 2500, holds: true });
  // 1001 W × 2 h × 1.25 = 2502.5 Wh > 2500 Wh.
  assert.equal(pvBridge({ ...base, loadW: 1001 })!.holds, false);
  // At the reserve there is nothing to bridge with; a PV time now or past says nothing.
  assert.equal(pvBridge({ ...base, socPct: 25, loadW: 0 })!.holds, false);
  assert.equal(pvBridge({ ...base, pvCoversLoadAt: T0 }), null);
  assert.equal(pvBridge({ ...base, pvCoversLoadAt: null }), null);
});

Deno.test("decide() stops a charging generator the battery can bridge to the forecast PV", () => {
  const d = decide(running(T0, 20, { socPct: 50 }), {
    command: FORECAST,
    now: T0,
    profile: CLINIC,
  });
  assert.equal(d.genPhase, "cooldown");
  assert.ok(
    d.reasons.includes(
      "PV expected to cover the load at 2026-03-20T14:00:00.000Z (in 2.0 h): the battery holds " +
        "2.50 kWh above reserve ≥ 2.50 kWh needed (load × 2.0 h × 1.25): stop generator",
    ),
    d.reasons.join("\n"),
  );
  assert.deepEqual(d.memory.pvWaitUntil, PV_AT);
  assert.match(d.reasons[0]!, /; PV expected to cover the load at 2026-03-20T14:00:00.000Z$/);
  // 1 W more load and it cannot; before the 15 min minimum run it keeps running; without the
  // forecast field the command is a v1 one and charges on to 80 %.
  const cases = [
    running(T0, 20, { socPct: 50, loadW: 1001 }),
    running(T0, 10, { socPct: 50 }),
  ];
  for (const s of cases) {
    assert.equal(decide(s, { command: FORECAST, now: T0, profile: CLINIC }).genPhase, "running");
  }
  const v1 = decide(running(T0, 20, { socPct: 50 }), {
    command: COMMAND,
    now: T0,
    profile: CLINIC,
  });
  assert.equal(v1.genPhase, "running");
});

Deno.test("decide() after a PV stop waits for the reserve, not the start threshold, until PV time", () => {
  const waiting = idle({ socPct: 30, pvWaitUntil: PV_AT });
  const held = decide(waiting, { command: FORECAST, now: at(60), profile: CLINIC });
  assert.equal(held.genOn, false);
  assert.ok(held.reasons.includes(
    "SoC 30.0 % ≤ start 30 % but the battery bridges to the PV expected at " +
      "2026-03-20T14:00:00.000Z: no start above the reserve 25 %",
  ));
  // The forecast was wrong: at the reserve it starts.
  const reserve = decide({ ...waiting, socPct: 25 }, {
    command: FORECAST,
    now: at(60),
    profile: CLINIC,
  });
  assert.ok(reserve.reasons.includes(
    "SoC 25.0 % ≤ reserve 25 % (the start waited for PV): start generator",
  ));
  // Once the PV time has come, or the command is gone, the normal start applies again.
  assert.equal(decide(waiting, { command: FORECAST, now: PV_AT, profile: CLINIC }).genOn, true);
  assert.equal(
    decide({ ...waiting, socPct: 39 }, { command: null, now: at(60), profile: CLINIC }).genOn,
    true,
    "no command: local start 40 %",
  );
});

Deno.test("decide() defers a SoC start the battery can bridge to the forecast PV", () => {
  // SoC 30 % = start; 5 % × 10 kWh = 500 Wh above reserve. PV in 1 h: at 1000 W that needs
  // 1000 × 1 × 1.25 = 1250 Wh (start); at 400 W, 400 × 1 × 1.25 = 500 Wh (defer).
  const command = { ...COMMAND, pvCoversLoadAt: at(60) };
  const start = decide(idle({ socPct: 30 }), { command, now: T0, profile: CLINIC });
  assert.equal(start.genOn, true);
  const defer = decide(idle({ socPct: 30, loadW: 400 }), { command, now: T0, profile: CLINIC });
  assert.equal(defer.genOn, false);
  assert.deepEqual(defer.memory.pvWaitUntil, at(60));
  assert.ok(defer.reasons.some((r) => r.endsWith("start deferred, it waits for the reserve")));
});
