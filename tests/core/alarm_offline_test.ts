import assert from "node:assert/strict";
import {
  newAlarmRuleState,
  offlineAfterS,
  onRecord,
  onStatus,
  onTick,
} from "../../src/core/alarm_rules.ts";
import { ctx, rec, run, T0 } from "./alarm_fixtures.ts";

const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

Deno.test("offlineAfterS() is 5 learned intervals, at least 10 min", () => {
  const every10s = Array.from({ length: 20 }, (_, i) => rec(i / 6));
  assert.equal(offlineAfterS(run(every10s).state), 600);
  const every5min = Array.from({ length: 20 }, (_, i) => rec(i * 5));
  const s = run(every5min).state;
  assert.ok(Math.abs(s.intervalS! - 300) < 1e-6);
  assert.equal(offlineAfterS(s), 1500);
  // An outage of 2 h between samples does not teach the interval.
  const gap = run([...every5min, rec(220), rec(225)]).state;
  assert.ok(Math.abs(gap.intervalS! - 300) < 1e-6);
});

Deno.test("site-offline raises on the tick after the silence limit, clears on telemetry", () => {
  const s = run(Array.from({ length: 7 }, (_, i) => rec(i / 6))).state; // last at 1 min
  assert.deepEqual(onTick(s, at(1 + 10), 0).conditions, [], "exactly 10 min is not past it");
  const raised = onTick(s, at(1 + 10.1), 0);
  assert.deepEqual(raised.conditions.map((c) => [c.kind, c.active, c.values.reason]), [
    ["site-offline", true, "silent"],
  ]);
  assert.deepEqual(onTick(raised.state, at(30), 0).conditions, [], "raised once");
  const back = onRecord(raised.state, rec(31), ctx());
  assert.deepEqual(back.conditions.map((c) => [c.kind, c.active]), [["site-offline", false]]);
});

Deno.test("site-offline counts silence from the engine's start, not before", () => {
  const s = run([rec(0), rec(1)]).state;
  // The backend started at minute 55: at minute 60 the site has been silent 5 min for it.
  assert.deepEqual(onTick(s, at(60), at(55).getTime()).conditions, []);
  assert.equal(onTick(s, at(66), at(55).getTime()).conditions.length, 1);
});

Deno.test("site-offline raises at once on a last will, not on a stale one", () => {
  const s = run([rec(0), rec(1)]).state;
  const will = onStatus(s, { status: "offline", at: at(2) });
  assert.deepEqual(will.conditions.map((c) => [c.active, c.values.reason]), [[true, "last-will"]]);
  assert.deepEqual(onStatus(s, { status: "offline", at: at(0.5) }).conditions, []);
  assert.deepEqual(onStatus(will.state, { status: "online", at: at(3) }).conditions, []);
  assert.deepEqual(onStatus(newAlarmRuleState(), { status: "online", at: at(3) }).conditions, []);
});
