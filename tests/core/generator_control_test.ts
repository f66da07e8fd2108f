/** Generator rules of the dispatch policy: strategy, voltage, load, warm-up, cool-down, max run. */
import assert from "node:assert/strict";
import { decide } from "../../src/core/policy.ts";
import { voltageThresholds } from "../../src/core/policy_params.ts";
import {
  at,
  CLINIC,
  COMMAND,
  drive,
  idle,
  running,
  T0,
  toggles,
  TOWER,
} from "./policy_fixtures.ts";

const LF = { ...COMMAND, strategy: "load-following" as const };
const secondsAgo = (s: number) => new Date(T0.getTime() - s * 1000);

Deno.test("voltageThresholds() scales the per-cell voltages by the cells in series", () => {
  // Lead-acid 12 V = 6 cells: 6 × 11.5 / 6 = 11.5 V, 6 × 13.8 / 6 = 13.8 V.
  assert.deepEqual(voltageThresholds(TOWER, { lowVoltageStartCellV: null, chargedCellV: null }), {
    startV: 11.5,
    chargedV: 13.8,
  });
  // LiFePO4 48 V banks are 16 cells in series (16 × 3.2 V nominal = 51.2 V; battery.ts), so
  // 16 × 3.0 = 48.0 V and 16 × 3.45 = 55.2 V; 24 V = 8 cells: 24.0 V, 27.6 V.
  const lfp48 = { ...CLINIC, nominalV: 48 as const };
  assert.deepEqual(voltageThresholds(lfp48, { lowVoltageStartCellV: null, chargedCellV: null }), {
    startV: 48,
    chargedV: 55.2,
  });
  assert.deepEqual(voltageThresholds(CLINIC, { lowVoltageStartCellV: 3.1, chargedCellV: null }), {
    startV: 24.8,
    chargedV: 27.6,
  });
});

Deno.test("decide() in cycle charging charges at the charger's maximum up to the setpoint", () => {
  // Command start 30 %, setpoint 80 %: at 79.9 % the generator keeps carrying and charging.
  const below = decide(running(T0, 20, { socPct: 79.9 }), {
    command: COMMAND,
    now: T0,
    profile: CLINIC,
  });
  assert.deepEqual([below.source, below.genOn, below.chargeLimitW], ["generator", true, null]);
  assert.equal(below.thresholds.strategy, "cycle-charging");
  const reached = decide(running(T0, 20, { socPct: 80 }), {
    command: COMMAND,
    now: T0,
    profile: CLINIC,
  });
  assert.deepEqual([reached.source, reached.genPhase], ["battery", "cooldown"]);
  assert.ok(reached.reasons.includes("SoC 80.0 % ≥ stop 80 % (command seq 12): stop generator"));
});

Deno.test("decide() in load following lets the battery take only the minimum-load surplus", () => {
  // 8 kW set, minimum load 30 % = 2400 W: at 1000 W load the charger may take 2400 − 1000 W.
  const light = decide(running(T0, 20, { socPct: 33 }), { command: LF, now: T0, profile: CLINIC });
  assert.equal(light.chargeLimitW, 1400);
  // At 3000 W the generator is above its minimum load: nothing for the battery.
  const heavy = decide(running(T0, 20, { socPct: 33, loadW: 3000 }), {
    command: LF,
    now: T0,
    profile: CLINIC,
  });
  assert.equal(heavy.chargeLimitW, 0);
  assert.match(heavy.reasons[0]!, /; load following$/);
});

Deno.test("decide() in load following stops at start + band, not at the setpoint", () => {
  // Start 30 % + band 10 % = 40 % (below the 80 % setpoint).
  const keep = decide(running(T0, 20, { socPct: 39.9 }), { command: LF, now: T0, profile: CLINIC });
  assert.equal(keep.genPhase, "running");
  const stop = decide(running(T0, 20, { socPct: 40 }), { command: LF, now: T0, profile: CLINIC });
  assert.equal(stop.genPhase, "cooldown");
  assert.ok(
    stop.reasons.includes(
      "SoC 40.0 % ≥ 40 % (start + 10 %, load following): stop generator",
    ),
    stop.reasons.join("\n"),
  );
  // Setpoint 35 % is below 30 + 10: the target is the setpoint.
  const low = decide(running(T0, 20, { socPct: 35 }), {
    command: { ...LF, genStopSocPct: 35 },
    now: T0,
    profile: CLINIC,
  });
  assert.equal(low.genPhase, "cooldown");
});

Deno.test("decide() stops a load-following generator once PV covers the load; cycle charging goes on", () => {
  // PV 1500 W ≥ load 1000 W, already established (pvCovering); SoC 33 % > reserve 25 %.
  const s = running(T0, 20, { socPct: 33, pvW: 1500, pvCovering: true });
  const lf = decide(s, { command: LF, now: T0, profile: CLINIC });
  assert.ok(lf.reasons.includes("PV covers the load (load following): stop generator"));
  const cc = decide(s, { command: COMMAND, now: T0, profile: CLINIC });
  assert.equal(cc.genPhase, "running");
});

Deno.test("decide() starts no generator above the reserve while PV covers the load", () => {
  // HOMER starts a generator only for a net load the battery cannot serve; PV ≥ load is none.
  const covered = decide(idle({ socPct: 30, pvW: 1500, pvCovering: true }), {
    command: COMMAND,
    now: T0,
    profile: CLINIC,
  });
  assert.equal(covered.genOn, false);
  assert.ok(covered.reasons.some((r) => r.includes("but PV covers the load: no start")));
  const atReserve = decide(idle({ socPct: 25, pvW: 1500, pvCovering: true }), {
    command: COMMAND,
    now: T0,
    profile: CLINIC,
  });
  assert.equal(atReserve.genOn, true);
});

Deno.test("decide() starts on a low voltage only after it persisted the whole delay", () => {
  // Tower 12 V: start at ≤ 11.5 V held 60 s. SoC 70 % is above the 50 % start: voltage only.
  const s = { socPct: 70, batteryV: 11.4 };
  const early = decide(idle({ ...s, lowVoltageSince: secondsAgo(59) }), {
    command: null,
    now: T0,
    profile: TOWER,
  });
  assert.equal(early.genOn, false);
  const held = decide(idle({ ...s, lowVoltageSince: secondsAgo(60) }), {
    command: null,
    now: T0,
    profile: TOWER,
  });
  assert.equal(held.genOn, true);
  assert.deepEqual(held.requests, ["low-voltage"]);
  assert.ok(held.reasons.includes("battery 11.40 V ≤ 11.50 V for 1.0 min: start generator"));
});

Deno.test("decide() never starts on crank dips: 10 s cranks with 10 s rests (DSE704)", () => {
  // Three 10 s crank attempts at 11.0 V, each followed by a 10 s rest at 12.3 V, sampled every
  // 10 s: no run of six low samples, so no start. Six steady low samples (60 s) do start it.
  const dips = drive(
    idle({ socPct: 70, batteryV: 12.3 }),
    [11.0, 12.3, 11.0, 12.3, 11.0, 12.3, 12.3].map((v) => ({ set: { batteryV: v } })),
    { stepS: 10, profile: TOWER },
  );
  assert.deepEqual(toggles(dips, ["genOn"]), []);
  const steady = drive(
    idle({ socPct: 70, batteryV: 12.3 }),
    Array.from({ length: 8 }, () => ({ set: { batteryV: 11.4 } })),
    { stepS: 10, profile: TOWER },
  );
  // Low from step 0 (t = 0 s); held 60 s at step 6.
  assert.deepEqual(toggles(steady, ["genOn"]), ["6:genOn=true"]);
});

Deno.test("decide() releases a low-voltage run once the voltage stayed at the charged level", () => {
  // 13.8 V for 5 min after a 20 min run: charged; SoC 70 % needs no SoC request.
  const s = running(T0, 20, {
    socPct: 70,
    batteryV: 13.8,
    requests: ["low-voltage"],
    chargedSince: at(-5),
  });
  const d = decide(s, { command: null, now: T0, profile: TOWER });
  assert.equal(d.genPhase, "cooldown");
  assert.ok(d.reasons.includes("battery 13.80 V ≥ 13.80 V for 5.0 min: charged: stop generator"));
  // 4 min at 13.8 V is not yet 5.
  const early = decide({ ...s, chargedSince: at(-4) }, { command: null, now: T0, profile: TOWER });
  assert.equal(early.genPhase, "running");
});

Deno.test("decide() starts on a high load and stops when it stayed low, without flapping", () => {
  // Inverter 3000 W: start at ≥ 80 % = 2400 W held 60 s; stop at ≤ 40 % = 1200 W held 5 min.
  const params = { inverterRatedW: 3000 };
  const wobble = drive(
    idle(),
    Array.from({ length: 30 }, (_, i) => ({ set: { loadW: i % 2 ? 2300 : 2500 } })),
    { stepS: 10, params },
  );
  assert.deepEqual(toggles(wobble, ["genOn"]), [], "2300 W every other sample resets the timer");
  // 2500 W from step 0 → start at step 6 (60 s). 1300 W (above 1200) from step 10 to 189 keeps it;
  // 1100 W from step 190 (31.7 min): held 300 s at step 220 → stop, cool-down 180 s → off at 238.
  const steps = Array.from({ length: 250 }, (_, i) => ({
    set: { loadW: i < 10 ? 2500 : i < 190 ? 1300 : 1100 },
  }));
  const run = drive(idle(), steps, { stepS: 10, params });
  assert.deepEqual(toggles(run, ["genOn"]), ["6:genOn=true", "238:genOn=false"]);
  assert.deepEqual(run[6]!.requests, ["high-load"]);
});

Deno.test("decide() keeps the load on the battery while the generator warms up", () => {
  // SoC 40 % = local start: run signal at step 0, sensed running at step 1 (10 s); warm-up
  // 60 s → the generator takes the load at step 7 (70 s = 10 + 60).
  const d = drive(idle({ socPct: 40 }), Array.from({ length: 9 }, () => ({})), { stepS: 10 });
  assert.deepEqual(toggles(d, ["genOn", "source"]), ["0:genOn=true", "7:source=generator"]);
  assert.equal(d[1]!.genPhase, "warmup");
  assert.equal(d[1]!.source, "battery");
  // Step 4 (40 s): running for 40 − 10 = 30 s.
  assert.ok(
    d[4]!.reasons.includes(
      "generator running 0.5 min: warming up 1.0 min before it takes the load",
    ),
  );
  // The change battery → generator breaks before it makes: both open 1000 ms.
  assert.deepEqual(d[7]!.transfer, [
    { source: "off", waitMsAfter: 1000 },
    { source: "generator", waitMsAfter: 0 },
  ]);
});

Deno.test("decide() cools the generator down unloaded before it stops", () => {
  // Stop at SoC 90 % after 20 min: load to the battery at once, run signal off 180 s later.
  const d = drive(running(T0, 20, { socPct: 90 }), Array.from({ length: 5 }, () => ({})), {
    stepS: 60,
  });
  assert.deepEqual(toggles(d, ["genOn", "source"]), ["0:source=battery", "3:genOn=false"]);
  assert.deepEqual(d[0]!.transfer, [
    { source: "off", waitMsAfter: 1000 },
    { source: "battery", waitMsAfter: 0 },
  ]);
  assert.ok(d[3]!.reasons.includes("cool-down of 3.0 min done: generator off"));
  // An engine that stops by itself during the cool-down is simply off.
  const stalled = drive(running(T0, 20, { socPct: 90 }), [{}, { genRunning: false }], {
    stepS: 60,
  });
  assert.deepEqual([stalled[1]!.genOn, stalled[1]!.genPhase], [false, "off"]);
});

Deno.test("decide() holds the minimum run from the first sensed running, warm-up included", () => {
  // Warming up for 30 s with SoC already above the 90 % stop: 0.5 min < 15 min keeps it on.
  const warming = running(T0, 0.5, { socPct: 95, genPhase: "warmup", source: "battery" });
  const d = decide(warming, { command: null, now: T0, profile: CLINIC });
  assert.ok(
    d.reasons.includes(
      "SoC 95.0 % ≥ stop 90 % but the generator has run 0.5 min < minimum 15.0 min: keep running",
    ),
    d.reasons.join("\n"),
  );
  assert.deepEqual([d.genOn, d.genPhase], [true, "warmup"]);
});

Deno.test("decide() stops after the maximum run and rests, unless the battery is near critical", () => {
  // 8 h run at SoC 60 % (stop 90 %): stop, cool-down 180 s + rest 900 s → rest until T0 + 18 min.
  const d = decide(running(T0, 8 * 60), { command: null, now: T0, profile: CLINIC });
  assert.ok(d.reasons.includes("generator has run 8.0 h ≥ maximum 8.0 h: stop generator"));
  assert.deepEqual(d.memory.restUntil, at(18));
  // During the rest SoC 39 % (≤ start 40 %, above near critical 10 %) does not start it…
  const resting = decide(idle({ socPct: 39, restUntil: at(18) }), {
    command: null,
    now: at(10),
    profile: CLINIC,
  });
  assert.equal(resting.genOn, false);
  assert.ok(resting.reasons.some((r) => r.includes(`rests until ${at(18).toISOString()}`)));
  // …SoC 10 % (near critical) does, and after the rest SoC 39 % does.
  for (const [socPct, now] of [[10, at(10)], [39, at(18)]] as const) {
    const s = idle({ socPct, restUntil: at(18) });
    assert.equal(decide(s, { command: null, now, profile: CLINIC }).genOn, true, `${socPct} %`);
  }
  // Near critical at the 8 h mark: safety first, keep running.
  const critical = decide(running(T0, 8 * 60, { socPct: 9 }), {
    command: null,
    now: T0,
    profile: CLINIC,
  });
  assert.equal(critical.genPhase, "running");
});

Deno.test("decide() reports a generator that fails to start once, and its recovery", () => {
  const starting = idle({
    socPct: 35,
    genOn: true,
    genPhase: "starting",
    requests: ["soc"],
    genStartedAt: secondsAgo(119),
    notRunningSince: secondsAgo(119),
  });
  assert.deepEqual(decide(starting, { command: null, now: T0, profile: CLINIC }).events, []);
  const failedState = {
    ...starting,
    genStartedAt: secondsAgo(120),
    notRunningSince: secondsAgo(120),
  };
  const failed = decide(failedState, { command: null, now: T0, profile: CLINIC });
  assert.equal(failed.genPhase, "failed");
  assert.deepEqual(failed.events, [{
    kind: "generator-start-failed",
    detail: "generator did not run within 120 s of its start signal",
    values: {
      soc_pct: 35,
      battery_v: 26.4,
      load_w: 1000,
      fuel_pct: 50,
      commanded_at: secondsAgo(120).toISOString(),
      not_running_since: secondsAgo(120).toISOString(),
      waited_s: 120,
      requests: "soc",
    },
  }]);
  // Ten more minutes of silence: no second report; the run signal stays on.
  const later = drive(
    { ...failedState, ...failed.memory },
    Array.from({ length: 60 }, () => ({
      genRunning: false,
    })),
    { stepS: 10, from: at(0.1) },
  );
  assert.equal(later.flatMap((d) => d.events).length, 0);
  assert.ok(later.every((d) => d.genOn && d.genPhase === "failed"));
  const back = decide({ ...failedState, ...failed.memory, genRunning: true }, {
    command: null,
    now: at(11),
    profile: CLINIC,
  });
  assert.deepEqual(back.events.map((e) => e.kind), ["generator-recovered"]);
  assert.equal(back.genPhase, "warmup");
});

Deno.test("decide() reports a generator that stops by itself while commanded on", () => {
  const d = drive(running(T0, 30), [
    { genRunning: false },
    ...Array.from({ length: 12 }, () => ({
      genRunning: false,
    })),
  ], { stepS: 10 });
  // Not running from step 0; 120 s later (step 12) it is a failure, reported once.
  assert.equal(d[0]!.genPhase, "starting");
  assert.equal(d[0]!.source, "battery");
  assert.deepEqual(d.map((x) => x.events.map((e) => e.kind)).flat(), [
    "generator-stopped-unexpectedly",
  ]);
  assert.equal(d[12]!.events.length, 1);
});

Deno.test("decide() sees no generator on a site without one", () => {
  const none = { ...CLINIC, generatorRatedKw: 0 };
  const d = decide(idle({ socPct: 15, lowSince: at(-5) }), {
    command: null,
    now: T0,
    profile: none,
  });
  assert.deepEqual([d.genOn, d.shedTier], [false, 1]);
  assert.ok(d.reasons.some((r) => r.includes("the generator cannot help (no generator)")));
});
