/** Sequence tests: no output of the dispatch policy flaps around any of its thresholds. */
import assert from "node:assert/strict";
import { decide } from "../../src/core/policy.ts";
import { CLINIC, drive, idle, running, T0, toggles } from "./policy_fixtures.ts";

const wobble = (n: number, a: number, b: number) =>
  Array.from({ length: n }, (_, i) => (i % 2 ? b : a));

Deno.test("decide() sheds and restores loads once while SoC wobbles around reserve and reserve + 5 %", () => {
  // Clinic reserve 20 %, fuel 3 % (≤ 5 + 2 %: no start): SoC 19.9 / 20.1 each minute for
  // 20 min. "Low since" (minute 0) holds across the wobble; a tier rises only on a minute below
  // the reserve (even minutes) once 5 min have passed since the last change: 6, 12, 18.
  // Then 24.9 / 25.1: all loads back at the first 25.1 % (= reserve + 5 %, minute 21), to stay.
  const socs = [...wobble(20, 19.9, 20.1), ...wobble(20, 24.9, 25.1)];
  const d = drive(idle({ fuelPct: 3 }), socs.map((socPct) => ({ set: { socPct } })), {
    stepS: 60,
  });
  assert.deepEqual(toggles(d, ["shedTier"]), [
    "6:shedTier=1",
    "12:shedTier=2",
    "18:shedTier=3",
    "21:shedTier=0",
  ]);
});

Deno.test("decide() shuts down once around critical and ends once at critical + 5 %", () => {
  // LiFePO4 critical 5 %, no fuel: 4.9 / 5.1 → shutdown at the first 4.9 %, held; then
  // 9.9 / 10.1 → ends at the first 10.1 % and 9.9 % (above 5 %) does not shut down again.
  const socs = [5.1, ...wobble(10, 4.9, 5.1), ...wobble(10, 9.9, 10.1)];
  const d = drive(idle({ fuelPct: 0 }), socs.map((socPct) => ({ set: { socPct } })), {
    stepS: 60,
  });
  assert.deepEqual(toggles(d, ["shutdown"]), ["1:shutdown=true", "12:shutdown=false"]);
});

Deno.test("decide() stops at the fuel reserve and restarts only above reserve + margin", () => {
  // Running on SoC 35 % (start 40 %): fuel 5.1 / 4.9 → stop at the first 4.9 % (step 1), off
  // after the 3 min cool-down (step 4); fuel back at 5.1–6.9 % never restarts it; 7.1 % does.
  const fuels = [5.1, ...wobble(9, 4.9, 5.1), 5.5, 6.9, 7.1];
  const d = drive(
    running(T0, 30, { socPct: 35 }),
    fuels.map((fuelPct) => ({ set: { fuelPct } })),
    { stepS: 60 },
  );
  assert.deepEqual(toggles(d, ["genOn"]), ["4:genOn=false", "12:genOn=true"]);
});

Deno.test("decide() never flips 'PV covers the load' on passing clouds", () => {
  // PV 1500 / 500 W against a 1000 W load, changing every 5 min for 2 h: each spell is shorter
  // than the 10 min delay, so the state never flips. Then 1500 W for 10 min: one flip.
  const pvs = [...Array.from({ length: 24 }, (_, i) => (i % 2 ? 500 : 1500)), 1500, 1500, 1500];
  const d = drive(idle({ socPct: 60 }), pvs.map((pvW) => ({ set: { pvW } })), { stepS: 300 });
  const flips = d.map((x, i) => [i, x.memory.pvCovering] as const)
    .filter(([i, c]) => c !== (i === 0 ? false : d[i - 1]!.memory.pvCovering));
  // The steady spell starts at step 24 (1500 W since step 24, step 23 was 500 W): 10 min → 26.
  assert.deepEqual(flips, [[26, true]]);
});

Deno.test("decide() never flaps the charged-voltage release on a wobbling voltage", () => {
  // A low-voltage run (SoC 70 %, above the tower start) with 13.7 / 13.9 V: the 5 min at
  // ≥ 13.8 V never completes, so it runs on; 13.9 V steady releases it 5 min later.
  const tower = { ...CLINIC, chemistry: "flooded-lead-acid" as const, nominalV: 12 as const };
  const start = running(T0, 20, { socPct: 70, batteryV: 13.7, requests: ["low-voltage"] });
  const vs = [...wobble(30, 13.7, 13.9), ...Array.from({ length: 12 }, () => 13.9)];
  const d = drive(start, vs.map((batteryV) => ({ set: { batteryV } })), {
    stepS: 60,
    profile: { ...tower, reserveSocPct: 50 },
  });
  // Steady from step 29 (13.9) → held 5 min at step 34 → cool-down → off at 37.
  assert.deepEqual(toggles(d, ["genOn"]), ["37:genOn=false"]);
  assert.equal(d[33]!.genPhase, "running");
  assert.equal(
    decide({ ...start, ...d[33]!.memory, batteryV: 13.9 }, {
      command: null,
      now: new Date(T0.getTime() + 34 * 60_000),
      profile: { ...tower, reserveSocPct: 50 },
    }).genPhase,
    "cooldown",
  );
});
