import assert from "node:assert/strict";
import { newAlarmRuleState, onEvent, onRecord } from "../../src/core/alarm_rules.ts";
import { changes, ctx, profile, rec, run, T0 } from "./alarm_fixtures.ts";

Deno.test("battery-below-reserve raises after 15 min under the reserve, clears 5 points above", () => {
  // Reserve 50 %; one sample a minute: under it from minute 1 to minute 16.
  const socs = [55, ...Array.from({ length: 16 }, (_, i) => 49 - i * 0.1), 52, 54, 55, 56, 57];
  const records = socs.map((s, i) => rec(i, { socPct: s }));
  const { steps } = run(records, (_, i) => ctx({ socPct: socs[i]! }));
  // Raised at minute 16, 15 min after the first sample under 50 %; cleared at the third sample
  // at or above 55 % (reserve + 5), index 21.
  assert.deepEqual(changes(steps), [
    "16 battery-below-reserve raised",
    "21 battery-below-reserve cleared",
  ]);
  assert.deepEqual(steps[0]!.conditions[0]!.values, {
    socPct: 47.5,
    reserveSocPct: 50,
    batteryV: 12.6,
  });
});

Deno.test("battery-below-reserve ignores one noisy reading and a dip through a generator start", () => {
  for (
    const socs of [
      [60, 49, 60, 60, 60],
      [60, ...Array.from({ length: 14 }, () => 49.5), 51, 53, 55],
    ]
  ) {
    const records = socs.map((s, i) => rec(i, { socPct: s }));
    assert.deepEqual(changes(run(records, (_, i) => ctx({ socPct: socs[i]! })).steps), []);
  }
});

Deno.test("battery-reserve-predicted raises only with neither generator nor sun to help", () => {
  const soon = { socPct: 60, batteryH: 5 };
  const records = [0, 1, 2, 3].map((i) => rec(i, { socPct: 60 }));
  const noGen = ctx({ ...soon, profile: profile({ generatorRatedKw: 0 }) });
  assert.deepEqual(changes(run(records, noGen).steps), ["2 battery-reserve-predicted raised"]);
  // A generator with fuel will start: no alarm.
  assert.deepEqual(changes(run(records, ctx(soon)).steps), []);
  // Fuel at the device's 5 % reserve: the generator cannot help.
  const dry = records.map((r) => ({ ...r, fuelPct: 4 }));
  assert.ok(
    changes(run(dry, ctx(soon)).steps).includes("2 battery-reserve-predicted raised"),
  );
  // PV expected to carry the load in 2 h, before the 5 h are up: no alarm.
  const sunny = ctx({
    ...soon,
    profile: profile({ generatorRatedKw: 0, pvKwp: 1 }),
    pvCoversLoadAt: new Date(T0.getTime() + 2 * 3600_000),
  });
  assert.deepEqual(changes(run(records, sunny).steps), []);
});

Deno.test("battery-reserve-predicted clears at 9 h (hysteresis), not at 8 h", () => {
  const hours = [5, 5, 5, 8, 8, 10, 10];
  const records = hours.map((_, i) => rec(i));
  const { steps } = run(
    records,
    (_, i) => ctx({ socPct: 60, batteryH: hours[i]!, profile: profile({ generatorRatedKw: 0 }) }),
  );
  assert.deepEqual(changes(steps), [
    "2 battery-reserve-predicted raised",
    "6 battery-reserve-predicted cleared",
  ]);
});

Deno.test("generator-start-failed raises on the device's event once, clears when it runs", () => {
  const failed = {
    kind: "generator-start-failed",
    time: new Date(T0.getTime() + 60_000),
    values: { waited_s: 120, fuel_pct: 70, soc_pct: 44.6 },
  };
  let s = onRecord(newAlarmRuleState(), rec(0), ctx()).state;
  const raised = onEvent(s, failed);
  assert.deepEqual(raised.conditions.map((c) => [c.kind, c.active, c.message]), [
    ["generator-start-failed", true, "Generator did not start within 120 s"],
  ]);
  s = raised.state;
  assert.deepEqual(onEvent(s, failed).conditions, [], "a repeat is no second alarm");
  assert.deepEqual(onRecord(s, rec(2), ctx()).conditions, [], "still not running");
  const runs = onRecord(s, rec(3, { genRunning: true, source: "generator" }), ctx());
  assert.deepEqual(runs.conditions.map((c) => [c.kind, c.active]), [
    ["generator-start-failed", false],
  ]);
  const recovered = onEvent(s, { kind: "generator-recovered", time: failed.time, values: {} });
  assert.deepEqual(recovered.conditions.map((c) => c.active), [false]);
});

Deno.test("generator-over-run raises 15 min past the 8 h maximum run, clears when it stops", () => {
  // One sample every 5 min, running from minute 0 to 510, stopped at 515.
  const records = Array.from({ length: 104 }, (_, i) => rec(i * 5, { genRunning: i < 103 }));
  const { steps } = run(records);
  // 8 h 15 min = 495 min is not past the limit; 500 min (index 100) is.
  assert.deepEqual(changes(steps), [
    "100 generator-over-run raised",
    "103 generator-over-run cleared",
  ]);
  assert.equal(steps[0]!.conditions[0]!.values.runH, 8.3);
});
