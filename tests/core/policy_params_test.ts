import assert from "node:assert/strict";
import { DEFAULT_POLICY_PARAMS, resolvePolicyParams } from "../../src/core/policy_params.ts";

Deno.test("resolvePolicyParams() merges the defaults", () => {
  const p = resolvePolicyParams({ warmupS: 30 });
  assert.equal(p.warmupS, 30);
  assert.equal(p.cooldownS, DEFAULT_POLICY_PARAMS.cooldownS);
  // 3 min cool-down (Cummins 3–5 min), 1 min warm-up, weekly 30 min exercise at 10:00.
  assert.deepEqual(
    [p.cooldownS, DEFAULT_POLICY_PARAMS.warmupS, p.exerciseIntervalS, p.exerciseDurationS],
    [180, 60, 604_800, 1800],
  );
  assert.equal(p.exerciseAtMin, 600);
});

Deno.test("resolvePolicyParams() names a bad setting and its value", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ warmupS: -1 }, /policy setting warmupS must be a number ≥ 0, got -1/],
    [{ maxRunS: 0 }, /policy setting maxRunS must be a number > 0 or null, got 0/],
    [{ highLoadStartRatio: 1.5 }, /highLoadStartRatio must be a ratio 0..1, got 1.5/],
    [{ highLoadStopRatio: 0.9 }, /highLoadStopRatio must be below highLoadStartRatio 0.8/],
    [{ pvBridgeMargin: 0.5 }, /pvBridgeMargin must be a number ≥ 1, got 0.5/],
    [{ exerciseAtMin: 1440 }, /exerciseAtMin must be a minute of the day 0..1439, got 1440/],
    [{ quietHours: { startMin: 1500, endMin: 60 } }, /quietHours.startMin must be 0..1439/],
    [{ localStrategy: "peak" }, /localStrategy must be "cycle-charging" or "load-following"/],
    [{ minRunS: Number.NaN }, /minRunS must be a number ≥ 0, got NaN/],
  ];
  for (const [patch, message] of cases) {
    assert.throws(() => resolvePolicyParams(patch as never), message, JSON.stringify(patch));
  }
});
