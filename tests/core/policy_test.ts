import assert from "node:assert/strict";
import type { StrategicCommand } from "../../src/core/command.ts";
import {
  criticalSocPct,
  decide,
  DEFAULT_POLICY_PARAMS,
  initialPolicyMemory,
  type SiteState,
  thresholdsFor,
} from "../../src/core/policy.ts";
import type { SiteProfile } from "../../src/core/site_profile.ts";

const T0 = new Date("2026-03-20T12:00:00Z");
const minAgo = (m: number) => new Date(T0.getTime() - m * 60_000);

/** LiFePO4, reserve 20 %: local defaults start max(40, 20) = 40 %, stop 90 %, critical 5 %. */
const LFP: SiteProfile = {
  siteId: "clinic-1",
  chemistry: "lifepo4",
  nominalV: 48,
  capacityWh: 30_000,
  reserveSocPct: 20,
  tankL: 500,
  generatorRatedKw: 20,
  pvKwp: 15,
  latitude: -2.52,
  longitude: 32.9,
  timeZone: "Africa/Dar_es_Salaam",
};
/** Lead-acid, reserve 50 %: local start max(40, 50) = 50 %, critical 50 / 2 = 25 %. */
const LEAD: SiteProfile = {
  ...LFP,
  chemistry: "flooded-lead-acid",
  nominalV: 12,
  reserveSocPct: 50,
};

const COMMAND: StrategicCommand = {
  siteId: "clinic-1",
  seq: 12,
  issuedAt: minAgo(10),
  validUntil: new Date(T0.getTime() + 3_600_000),
  mode: "eco",
  genStartSocPct: 30,
  genStopSocPct: 80,
  reserveSocPct: 25,
  forecast: "clear",
  predictedBatteryH: 5,
  predictedDieselH: 40,
  reason: "sunny tomorrow",
};

/** Readings only (SoC and defaults), to put on top of a decision's memory. */
function readings(socPct: number) {
  return { socPct, batteryV: 52, loadW: 1000, pvW: 0, fuelPct: 50, genRunning: true };
}

function state(patch: Partial<SiteState>): SiteState {
  return {
    socPct: 60,
    batteryV: 52,
    loadW: 1000,
    pvW: 0,
    fuelPct: 50,
    genRunning: false,
    source: "battery",
    genOn: false,
    shedTier: 0,
    shutdown: false,
    genStartedAt: null,
    lowSince: null,
    shedChangedAt: null,
    ...patch,
  };
}

interface Case {
  name: string;
  state: Partial<SiteState>;
  command?: StrategicCommand;
  profile?: SiteProfile;
  want: { source: string; genOn: boolean; shedTier: number; shutdown: boolean; changed: string[] };
  phase?: string;
  reason?: string;
}

const RUNNING = { genOn: true, genRunning: true, source: "generator" as const };

const CASES: Case[] = [
  // Generator start / stop.
  {
    name: "no command: SoC 40 % ≤ local start 40 % starts the generator, load stays on battery",
    state: { socPct: 40 },
    want: { source: "battery", genOn: true, shedTier: 0, shutdown: false, changed: ["genOn"] },
    reason: "SoC 40.0 % ≤ start 40 % (local default): start generator",
  },
  {
    name: "no command: SoC 40.1 % is above the local start, nothing changes",
    state: { socPct: 40.1 },
    want: { source: "battery", genOn: false, shedTier: 0, shutdown: false, changed: [] },
  },
  {
    name: "command start 30 %: SoC 35 % does not start (the local 40 % would)",
    state: { socPct: 35 },
    command: COMMAND,
    want: { source: "battery", genOn: false, shedTier: 0, shutdown: false, changed: [] },
    reason: "command seq 12 (mode eco): start ≤ 30 %, stop ≥ 80 %, reserve 25 %",
  },
  {
    name: "command start 30 %: SoC 30 % starts, citing the command",
    state: { socPct: 30 },
    command: COMMAND,
    want: { source: "battery", genOn: true, shedTier: 0, shutdown: false, changed: ["genOn"] },
    reason: "SoC 30.0 % ≤ start 30 % (command seq 12): start generator",
  },
  {
    name: "generator sensed running: the load moves to it",
    state: { socPct: 45, genOn: true, genRunning: true, genStartedAt: minAgo(1) },
    want: { source: "generator", genOn: true, shedTier: 0, shutdown: false, changed: ["source"] },
  },
  {
    name: "SoC 90 % ≥ stop after 10 min < 15 min minimum: keeps running",
    state: { socPct: 90, ...RUNNING, genStartedAt: minAgo(10) },
    want: { source: "generator", genOn: true, shedTier: 0, shutdown: false, changed: [] },
    reason: "SoC 90.0 % ≥ stop 90 % but the generator has run 10.0 min < minimum 15.0 min: " +
      "keep running",
  },
  // A stop moves the load back to the battery at once; the run signal stays on for the 3 min
  // cool-down (DEFAULT_POLICY_PARAMS.cooldownS), so genOn is still true (see the cool-down tests).
  {
    name: "SoC 90 % ≥ stop after exactly 15 min: stops, load back on battery, cool-down begins",
    state: { socPct: 90, ...RUNNING, genStartedAt: minAgo(15) },
    want: { source: "battery", genOn: true, shedTier: 0, shutdown: false, changed: ["source"] },
    phase: "cooldown",
    reason: "SoC 90.0 % ≥ stop 90 % (local default): stop generator",
  },
  {
    name: "fuel 5 % ≤ reserve 5 % stops a generator at once, despite 1 min run (then cool-down)",
    state: { socPct: 50, fuelPct: 5, ...RUNNING, genStartedAt: minAgo(1) },
    want: { source: "battery", genOn: true, shedTier: 0, shutdown: false, changed: ["source"] },
    phase: "cooldown",
    reason: "fuel 5.0 % ≤ reserve 5 %: stop generator",
  },
  {
    name: "fuel 7 % ≤ 5 % reserve + 2 % margin: cannot start",
    state: { socPct: 30, fuelPct: 7 },
    want: { source: "battery", genOn: false, shedTier: 0, shutdown: false, changed: [] },
  },
  {
    name: "fuel 7.5 % > 7 %: starts",
    state: { socPct: 30, fuelPct: 7.5 },
    want: { source: "battery", genOn: true, shedTier: 0, shutdown: false, changed: ["genOn"] },
  },
  {
    name: "no fuel sensor (null): the generator is assumed to have fuel",
    state: { socPct: 30, fuelPct: null },
    want: { source: "battery", genOn: true, shedTier: 0, shutdown: false, changed: ["genOn"] },
  },
  // Load shedding (LiFePO4 reserve 20 %, fuel 3 % so the generator cannot help).
  {
    name: "SoC 15 % < reserve, no fuel, just went low: wait (tier 0)",
    state: { socPct: 15, fuelPct: 3 },
    want: { source: "battery", genOn: false, shedTier: 0, shutdown: false, changed: [] },
  },
  {
    name: "below reserve 5 min with no fuel: tier 1",
    state: { socPct: 15, fuelPct: 3, lowSince: minAgo(5) },
    want: { source: "battery", genOn: false, shedTier: 1, shutdown: false, changed: ["shedTier"] },
    reason: "SoC 15.0 % < reserve 20 % for 5.0 min and the generator cannot help (fuel 3.0 %): " +
      "shed tier 1",
  },
  {
    name: "tier 1 for 4 min < 5 min delay: holds",
    state: { socPct: 15, fuelPct: 3, lowSince: minAgo(9), shedTier: 1, shedChangedAt: minAgo(4) },
    want: { source: "battery", genOn: false, shedTier: 1, shutdown: false, changed: [] },
  },
  {
    name: "tier 1 for 5 min: tier 2",
    state: { socPct: 15, fuelPct: 3, lowSince: minAgo(10), shedTier: 1, shedChangedAt: minAgo(5) },
    want: { source: "battery", genOn: false, shedTier: 2, shutdown: false, changed: ["shedTier"] },
  },
  {
    name: "tier 3 is the top",
    state: { socPct: 15, fuelPct: 3, lowSince: minAgo(60), shedTier: 3, shedChangedAt: minAgo(30) },
    want: { source: "battery", genOn: false, shedTier: 3, shutdown: false, changed: [] },
  },
  {
    name: "generator available (fuel 50 %): no shedding below reserve",
    state: { socPct: 15, lowSince: minAgo(30), genOn: true, genStartedAt: minAgo(1) },
    want: { source: "battery", genOn: true, shedTier: 0, shutdown: false, changed: [] },
  },
  {
    name: "generator commanded 2 min ago, not running: failed, so shed",
    state: { socPct: 15, lowSince: minAgo(5), genOn: true, genStartedAt: minAgo(2) },
    want: { source: "battery", genOn: true, shedTier: 1, shutdown: false, changed: ["shedTier"] },
    reason: "generator commanded on 2.0 min ago but not running: treated as failed",
  },
  {
    name: "recovery: SoC 24.9 % < reserve 20 % + 5 %: stays shed",
    state: {
      socPct: 24.9,
      fuelPct: 3,
      lowSince: minAgo(60),
      shedTier: 2,
      shedChangedAt: minAgo(9),
    },
    want: { source: "battery", genOn: false, shedTier: 2, shutdown: false, changed: [] },
  },
  {
    name: "recovery: SoC 25 % = reserve + 5 %: all loads back",
    state: { socPct: 25, fuelPct: 3, lowSince: minAgo(60), shedTier: 2, shedChangedAt: minAgo(9) },
    want: { source: "battery", genOn: false, shedTier: 0, shutdown: false, changed: ["shedTier"] },
    reason: "SoC 25.0 % ≥ reserve 20 % + 5 %: restore all loads (shed tier 0)",
  },
  {
    name: "generator carries the load: shedding ends at once",
    state: { socPct: 15, ...RUNNING, genStartedAt: minAgo(3), shedTier: 2, lowSince: minAgo(60) },
    want: { source: "generator", genOn: true, shedTier: 0, shutdown: false, changed: ["shedTier"] },
  },
  // Emergency shutdown.
  {
    name: "LiFePO4: SoC 5 % ≤ critical 5 % with no fuel: shutdown, source off, tier 3",
    state: { socPct: 5, fuelPct: 0, shedTier: 2, lowSince: minAgo(60), shedChangedAt: minAgo(1) },
    want: {
      source: "off",
      genOn: false,
      shedTier: 3,
      shutdown: true,
      changed: ["source", "shedTier", "shutdown"],
    },
    reason: "SoC 5.0 % ≤ critical 5 %: emergency shutdown",
  },
  {
    name: "lead-acid: SoC 25 % ≤ critical 50 / 2 = 25 %: shutdown",
    profile: LEAD,
    state: { socPct: 25, fuelPct: 0, shedTier: 3, lowSince: minAgo(60), shedChangedAt: minAgo(9) },
    want: {
      source: "off",
      genOn: false,
      shedTier: 3,
      shutdown: true,
      changed: ["source", "shutdown"],
    },
  },
  {
    name: "shutdown: SoC 9.9 % < critical 5 % + 5 %: stays off",
    state: {
      socPct: 9.9,
      fuelPct: 0,
      source: "off",
      shutdown: true,
      shedTier: 3,
      lowSince: minAgo(60),
    },
    want: { source: "off", genOn: false, shedTier: 3, shutdown: true, changed: [] },
  },
  {
    name: "shutdown: SoC 10 % = critical + 5 %: back on battery, loads stay shed at tier 3",
    state: {
      socPct: 10,
      fuelPct: 0,
      source: "off",
      shutdown: true,
      shedTier: 3,
      lowSince: minAgo(60),
    },
    want: {
      source: "battery",
      genOn: false,
      shedTier: 3,
      shutdown: false,
      changed: ["source", "shutdown"],
    },
  },
  {
    name: "shutdown, tank refilled: generator starts, bus stays off until it runs",
    state: { socPct: 4, source: "off", shutdown: true, shedTier: 3, lowSince: minAgo(60) },
    want: { source: "off", genOn: true, shedTier: 3, shutdown: true, changed: ["genOn"] },
  },
  {
    name: "shutdown, generator now running: load on the generator, all loads back",
    state: {
      socPct: 4,
      genOn: true,
      genRunning: true,
      genStartedAt: minAgo(1),
      source: "off",
      shutdown: true,
      shedTier: 3,
      lowSince: minAgo(60),
    },
    want: {
      source: "generator",
      genOn: true,
      shedTier: 0,
      shutdown: false,
      changed: ["source", "shedTier", "shutdown"],
    },
    reason: "generator running: end shutdown, load on generator",
  },
];

for (const c of CASES) {
  Deno.test(`decide(): ${c.name}`, () => {
    const d = decide(state(c.state), {
      command: c.command ?? null,
      now: T0,
      profile: c.profile ?? LFP,
    });
    assert.deepEqual(
      {
        source: d.source,
        genOn: d.genOn,
        shedTier: d.shedTier,
        shutdown: d.shutdown,
        changed: d.changed,
      },
      c.want,
      d.reasons.join("\n"),
    );
    if (c.reason) assert.ok(d.reasons.includes(c.reason), d.reasons.join("\n"));
    if (c.phase) assert.equal(d.genPhase, c.phase);
    // The memory carries the outputs forward.
    assert.equal(d.memory.source, d.source);
    assert.equal(d.memory.genOn, d.genOn);
    assert.equal(d.memory.shedTier, d.shedTier);
  });
}

Deno.test("decide() says it uses safe local defaults when there is no command", () => {
  const d = decide(state({}), { command: null, now: T0, profile: LFP });
  assert.equal(
    d.reasons[0],
    "no valid command: safe local defaults start ≤ 40 %, stop ≥ 90 %, reserve 20 % (site profile)",
  );
  assert.equal(d.thresholds.origin, "local-defaults");
  assert.equal(d.thresholds.commandSeq, null);
});

Deno.test("decide() remembers when it started the generator and when SoC went low", () => {
  const started = decide(state({ socPct: 15 }), { command: null, now: T0, profile: LFP });
  assert.deepEqual(started.memory.genStartedAt, T0);
  assert.deepEqual(started.memory.lowSince, T0);
  // The stop starts the 3 min cool-down at T0; the run (and its start time) ends with it.
  const stopped = decide(state({ socPct: 90, ...RUNNING, genStartedAt: minAgo(20) }), {
    command: null,
    now: T0,
    profile: LFP,
  });
  assert.deepEqual(stopped.memory.cooldownSince, T0);
  assert.deepEqual(stopped.memory.genStartedAt, minAgo(20));
  const off = decide({ ...stopped.memory, ...readings(90) }, {
    command: null,
    now: new Date(T0.getTime() + 3 * 60_000),
    profile: LFP,
  });
  assert.equal(off.genOn, false);
  assert.equal(off.memory.genStartedAt, null);
  // SoC 22 % sits between reserve 20 % and 20 + 5 %: "low since" is kept, not reset.
  const between = decide(state({ socPct: 22, lowSince: minAgo(7) }), {
    command: null,
    now: T0,
    profile: LFP,
  });
  assert.deepEqual(between.memory.lowSince, minAgo(7));
});

Deno.test("decide() never flaps when SoC wobbles around the start and stop thresholds", () => {
  // Start at 40 %, stop at 90 %; a ±0.5 % wobble each minute for 2 h must toggle the
  // generator exactly twice: on at the first 39.5 %, off at the first 90.5 % after ≥ 15 min.
  let memory = { ...state({}) } as SiteState;
  const toggles: string[] = [];
  const socs = [
    ...Array.from({ length: 60 }, (_, i) => (i % 2 ? 40.5 : 39.5)),
    ...Array.from({ length: 60 }, (_, i) => (i % 2 ? 89.5 : 90.5)),
  ];
  socs.forEach((socPct, i) => {
    const now = new Date(T0.getTime() + i * 60_000);
    const d = decide({ ...memory, socPct, genRunning: memory.genOn }, {
      command: null,
      now,
      profile: LFP,
    });
    if (d.changed.includes("genOn")) toggles.push(`${i}:${d.genOn ? "on" : "off"}`);
    memory = { ...memory, ...d.memory };
  });
  // Minute 0: 39.5 % → on. Minute 60: 90.5 % with 59 min run (sensed running from minute 1)
  // → stop: load to the battery, 3 min cool-down, run signal off at minute 63. No restart.
  assert.deepEqual(toggles, ["0:on", "63:off"]);
});

Deno.test("decide() with a command uses its reserve for shedding", () => {
  // Command reserve 25 %: SoC 24 % with no fuel, low for 5 min → tier 1 (profile reserve is 20 %).
  const d = decide(state({ socPct: 24, fuelPct: 2, lowSince: minAgo(5) }), {
    command: COMMAND,
    now: T0,
    profile: LFP,
  });
  assert.equal(d.shedTier, 1);
  assert.equal(d.thresholds.reserveSocPct, 25);
});

Deno.test("criticalSocPct() is reserve / 2 for lead-acid, 5 % (at most reserve / 2) for LiFePO4", () => {
  assert.equal(criticalSocPct("flooded-lead-acid", 50), 25);
  assert.equal(criticalSocPct("agm", 40), 20);
  assert.equal(criticalSocPct("lifepo4", 20), 5);
  assert.equal(criticalSocPct("lifepo4", 8), 4);
});

Deno.test("thresholdsFor() raises the local start to a higher profile reserve", () => {
  const lead = thresholdsFor(null, { profile: LEAD });
  assert.deepEqual([lead.startSocPct, lead.stopSocPct, lead.criticalSocPct], [50, 90, 25]);
  // Reserve 85 %: start 85 %, stop max(90, min(100, 85 + 10)) = 95 %.
  const high = thresholdsFor(null, { profile: { ...LFP, reserveSocPct: 85 } });
  assert.deepEqual([high.startSocPct, high.stopSocPct], [85, 95]);
  const overridden = thresholdsFor(COMMAND, { profile: LFP, params: { criticalSocPct: 12 } });
  assert.deepEqual([overridden.startSocPct, overridden.criticalSocPct], [30, 12]);
});

Deno.test("initialPolicyMemory() starts from the outputs the hardware reports", () => {
  const m = initialPolicyMemory({ source: "generator", genOn: true, shedTier: 1 }, T0);
  // The v1 fields as before; the memory of the new rules starts empty (the generator reported
  // on and carrying the load is taken as running since now, for its SoC request).
  assert.deepEqual(m, {
    source: "generator",
    genOn: true,
    shedTier: 1,
    shutdown: false,
    genStartedAt: T0,
    lowSince: null,
    shedChangedAt: null,
    genPhase: "running",
    requests: ["soc"],
    genRunningSince: T0,
    notRunningSince: null,
    cooldownSince: null,
    restUntil: null,
    failureReportedAt: null,
    lowVoltageSince: null,
    chargedSince: null,
    highLoadSince: null,
    lowLoadSince: null,
    socStopSince: null,
    pvCovering: false,
    pvFlipSince: null,
    pvWaitUntil: null,
    lastLongRunAt: T0,
  });
  assert.equal(DEFAULT_POLICY_PARAMS.minRunS, 900);
});
