import assert from "node:assert/strict";
import { fuelLossAllowanceL, runHoursLeft } from "../../src/core/alarm_fuel.ts";
import { newAlarmRuleState, seedAlarmRuleState } from "../../src/core/alarm_rules.ts";
import { changes, ctx, profile, rec, run } from "./alarm_fixtures.ts";

const fuel = (levels: number[], extra: (i: number) => object = () => ({})) =>
  levels.map((fuelPct, i) => rec(i, { fuelPct, ...extra(i) }));

Deno.test("runHoursLeft() counts at 75 % of the rating on the default curve", () => {
  // 5 kW at 3.75 kW: 0.0332 · 5 + 0.2728 · 3.75 = 1.189 L/h; 10 L of a 100 L tank last 8.41 h.
  assert.ok(Math.abs(runHoursLeft(10, ctx()) - 10 / 1.189) < 0.001);
});

Deno.test("fuelLossAllowanceL() is 2 % of the tank plus 0.00083/°C over 15 °C of the fuel held", () => {
  // 100 L tank at 60 %: 2 L + 0.00083 · 15 · 60 L = 2.747 L.
  assert.ok(Math.abs(fuelLossAllowanceL(60, 100) - 2.747) < 1e-9);
});

Deno.test("low-fuel raises after three readings below 10 %, not on one noisy reading", () => {
  const cases: { name: string; levels: number[]; expect: string[] }[] = [
    { name: "three below", levels: [12, 9, 9, 9, 9], expect: ["3 low-fuel raised"] },
    { name: "one noisy reading", levels: [12, 3, 12, 12, 12], expect: [] },
    { name: "two below, then back", levels: [12, 9, 9, 11, 9, 9], expect: [] },
  ];
  for (const c of cases) {
    assert.deepEqual(changes(run(fuel(c.levels)).steps), c.expect, c.name);
  }
});

Deno.test("low-fuel clears only at 15 % held for three readings (hysteresis), or a refuel", () => {
  const hysteresis = [9, 9, 9, 11, 12, 14, 14, 16, 16, 16];
  assert.deepEqual(changes(run(fuel(hysteresis)).steps), [
    "2 low-fuel raised",
    "9 low-fuel cleared",
  ]);
  const refuel = [9, 9, 9, 80, 80, 80];
  assert.deepEqual(changes(run(fuel(refuel)).steps), ["2 low-fuel raised", "5 low-fuel cleared"]);
});

Deno.test("low-fuel raises on hours of running left even above 10 %", () => {
  // 20 kW at 15 kW: 0.0332 · 20 + 0.2728 · 15 = 4.756 L/h; 30 L last 6.3 h < 8 h.
  const big = ctx({ profile: profile({ generatorRatedKw: 20 }) });
  const { steps } = run(fuel([30, 30, 30]), big);
  assert.deepEqual(changes(steps), ["2 low-fuel raised"]);
  assert.equal(steps[0]!.conditions[0]!.values.runHoursLeft, 6.3);
  // Clears at 12 h: 57.1 L; 58 % is enough, 55 % (11.6 h) is not.
  assert.deepEqual(changes(run(fuel([30, 30, 30, 55, 55, 55]), big).steps), ["2 low-fuel raised"]);
  assert.deepEqual(changes(run(fuel([30, 30, 30, 58, 58, 58]), big).steps), [
    "2 low-fuel raised",
    "5 low-fuel cleared",
  ]);
});

Deno.test("fuel-loss raises when the level falls with the generator off beyond the allowance", () => {
  // 5 L stolen at a 60 % level: the median of five follows at the third 55, then three samples.
  const { steps } = run(fuel([60, 60, 60, 60, 60, 55, 55, 55, 55, 55, 55]));
  assert.deepEqual(changes(steps), ["9 fuel-loss raised"]);
  assert.deepEqual(steps[0]!.conditions[0]!.values, {
    lostL: 5,
    fromPct: 60,
    fuelPct: 55,
    allowanceL: 2.7,
    genRunning: false,
  });
});

Deno.test("fuel-loss never raises on refuelling, a noisy reading, thermal drift or burning", () => {
  const cases: { name: string; records: ReturnType<typeof fuel> }[] = [
    { name: "refuelling", records: fuel([30, 30, 30, 30, 80, 80, 80, 80, 80, 80]) },
    { name: "one noisy reading", records: fuel([60, 60, 60, 60, 40, 60, 60, 60, 60, 60]) },
    {
      // 2.5 L of contraction overnight: under the 2.747 L allowance at 60 %.
      name: "thermal contraction",
      records: fuel([60, 60, 60, 59.5, 59, 58.5, 58, 57.5, 57.5, 57.5, 57.5]),
    },
    {
      // 5 kW at full load burns 1.53 L/h: 0.25 % of 100 L every 10 min is that burn.
      name: "generator running",
      records: Array.from(
        { length: 24 },
        (_, i) => rec(i * 10, { fuelPct: 60 - 0.25 * i, genRunning: true }),
      ),
    },
  ];
  for (const c of cases) assert.deepEqual(changes(run(c.records).steps), [], c.name);
});

Deno.test("fuel-loss clears on a refuel or after 6 h steady, not when the generator runs", () => {
  const theft = [60, 60, 60, 60, 60, 55, 55, 55, 55, 55];
  const refill = fuel([...theft, 90, 90, 90]);
  // The median of five moves to 90 at the third 90 (index 12).
  assert.deepEqual(changes(run(refill).steps), ["9 fuel-loss raised", "12 fuel-loss cleared"]);
  // The generator runs for two samples and stops: still open (a leak goes on through runs);
  // then steady at 54 % with the generator off, one sample a minute: the reference starts at
  // the third sample after the stop (index 14), 6 h later (index 374) it clears.
  const steady = fuel(
    [...theft, 55, 54, ...Array.from({ length: 400 }, () => 54)],
    (i) => ({ genRunning: i === 10 || i === 11 }),
  );
  assert.deepEqual(changes(run(steady).steps), ["9 fuel-loss raised", "374 fuel-loss cleared"]);
  // Still falling after the run: stays open.
  const leak = fuel(
    [...theft, 55, 54, ...Array.from({ length: 400 }, (_, i) => 54 - i * 0.05)],
    (i) => ({ genRunning: i === 10 || i === 11 }),
  );
  assert.deepEqual(changes(run(leak).steps), ["9 fuel-loss raised"]);
});

Deno.test("fuel-loss raises when the level falls faster than the running generator can burn", () => {
  // 20 L gone in 5 min while a 5 kW set runs: twice its full-load burn (2 · 1.53 L/h) allows
  // 0.26 L in that time.
  const levels = [60, 60, 60, 60, 50, 40, 40, 40, 40, 40];
  const { steps } = run(fuel(levels, () => ({ genRunning: true })));
  assert.deepEqual(changes(steps), ["8 fuel-loss raised"]);
  assert.match(steps[0]!.conditions[0]!.message, /faster than the running generator can burn/);
  assert.equal(steps[0]!.conditions[0]!.values.genRunning, true);
});

Deno.test("a fuel loss reloaded open at start clears on a refuel during the restart", () => {
  // Raised at 57 % with the generator off; the backend restarts; the tank reads 70 % after.
  const raised = { values: { fuelPct: 57, genRunning: false }, raisedAt: "2026-03-19T23:00:00Z" };
  const seeded = seedAlarmRuleState(newAlarmRuleState(), new Map([["fuel-loss", raised]]));
  // The median needs three readings: at the third, 70 − 57 = 13 points ≥ the 5 of a refuel.
  const after = run(fuel([70, 70, 70, 70]), ctx(), seeded);
  assert.deepEqual(changes(after.steps), ["2 fuel-loss cleared"]);
  assert.equal(after.steps[0]!.conditions[0]!.message, "Tank refilled (70 %)");
  // Without a refuel it stays open: the level it was raised at is the reference.
  assert.deepEqual(changes(run(fuel([57, 57, 57, 57]), ctx(), seeded).steps), []);
  // An alarm stored without those values still only comes back active.
  const bare = seedAlarmRuleState(
    newAlarmRuleState(),
    new Map([["fuel-loss", { values: {}, raisedAt: raised.raisedAt }]]),
  );
  assert.deepEqual(changes(run(fuel([70, 70, 70, 70]), ctx(), bare).steps), []);
});
