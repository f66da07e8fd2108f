/** Site-clock rules: quiet hours (safety beats quiet) and the periodic exercise run. */
import assert from "node:assert/strict";
import { decide } from "../../src/core/policy.ts";
import {
  checkTimeZone,
  formatClockTime,
  inDailyWindow,
  localMinuteOfDay,
  parseClockTime,
  parseDailyWindow,
  utcOffsetMin,
} from "../../src/core/site_time.ts";
import { CLINIC, drive, idle, running, toggles } from "./policy_fixtures.ts";

/** 21:00–06:00 site time. */
const QUIET = { quietHours: { startMin: 21 * 60, endMin: 6 * 60 } };
const utc = (iso: string) => new Date(iso);

Deno.test("localMinuteOfDay() reads the site's wall clock, daylight saving included", () => {
  // Lagos is UTC+1 all year: 23:30Z is 00:30 the next day.
  assert.equal(localMinuteOfDay(utc("2026-03-20T23:30:00Z"), "Africa/Lagos"), 30);
  // Kolkata UTC+5:30: 12:00Z is 17:30 = 1050 min.
  assert.equal(localMinuteOfDay(utc("2026-03-20T12:00:00Z"), "Asia/Kolkata"), 1050);
  // Paris: 19:30Z is 21:30 in summer (CEST, UTC+2) and 20:30 in winter (CET, UTC+1).
  assert.equal(localMinuteOfDay(utc("2026-07-01T19:30:00Z"), "Europe/Paris"), 21 * 60 + 30);
  assert.equal(localMinuteOfDay(utc("2026-01-15T19:30:00Z"), "Europe/Paris"), 20 * 60 + 30);
  // Paris springs forward at 01:00Z on 29 March 2026: 00:59Z is 01:59 CET, 01:00Z is 03:00 CEST.
  assert.equal(localMinuteOfDay(utc("2026-03-29T00:59:30Z"), "Europe/Paris"), 1 * 60 + 59);
  assert.equal(localMinuteOfDay(utc("2026-03-29T01:00:00Z"), "Europe/Paris"), 3 * 60);
  // Kathmandu UTC+5:45 and Chatham UTC+13:45 (summer): 12:00Z is 17:45 and 01:45.
  assert.equal(localMinuteOfDay(utc("2026-03-20T12:00:00Z"), "Asia/Kathmandu"), 17 * 60 + 45);
  assert.equal(localMinuteOfDay(utc("2026-01-20T12:00:00Z"), "Pacific/Chatham"), 1 * 60 + 45);
  assert.throws(
    () => checkTimeZone("Mars/Olympus_Mons"),
    /timeZone "Mars\/Olympus_Mons" is not an IANA time zone/,
  );
});

Deno.test("utcOffsetMin() gives the zone's offset, west of Greenwich negative", () => {
  assert.equal(utcOffsetMin(utc("2026-03-20T23:30:00Z"), "Africa/Lagos"), 60);
  assert.equal(utcOffsetMin(utc("2026-03-20T12:00:00Z"), "Asia/Kolkata"), 330);
  assert.equal(utcOffsetMin(utc("2026-01-20T12:00:00Z"), "Pacific/Chatham"), 13 * 60 + 45);
  // New York: EST (UTC−5) in January, EDT (UTC−4) in July; Honolulu UTC−10.
  assert.equal(utcOffsetMin(utc("2026-01-15T03:00:00Z"), "America/New_York"), -300);
  assert.equal(utcOffsetMin(utc("2026-07-15T03:00:00Z"), "America/New_York"), -240);
  assert.equal(utcOffsetMin(utc("2026-07-15T03:00:00Z"), "Pacific/Honolulu"), -600);
  assert.equal(utcOffsetMin(utc("2026-07-15T03:00:00Z"), "UTC"), 0);
});

Deno.test("inDailyWindow() includes the start, excludes the end, and wraps midnight", () => {
  const w = { startMin: 1260, endMin: 360 };
  const cases: [number, boolean][] = [[1259, false], [1260, true], [0, true], [359, true], [
    360,
    false,
  ], [720, false]];
  for (const [m, want] of cases) assert.equal(inDailyWindow(m, w), want, formatClockTime(m));
  assert.equal(inDailyWindow(600, { startMin: 540, endMin: 660 }), true);
  assert.equal(inDailyWindow(660, { startMin: 540, endMin: 660 }), false);
});

Deno.test("parseDailyWindow() and parseClockTime() read HH:MM and name bad text", () => {
  assert.deepEqual(parseDailyWindow("21:00-06:00"), { startMin: 1260, endMin: 360 });
  assert.equal(parseClockTime("6:30"), 390);
  assert.throws(() => parseDailyWindow("25:00-06:00"), /"25:00" is not a time of day HH:MM/);
  assert.throws(() => parseDailyWindow("21:00"), /"21:00" is not a daily window HH:MM-HH:MM/);
  assert.throws(() => parseDailyWindow("08:00-08:00"), /empty window/);
});

Deno.test("decide() starts no generator in quiet hours unless the battery is near critical", () => {
  // 20:30Z is 21:30 in Lagos: quiet. Local start 40 %; near critical = critical 5 + 5 = 10 %.
  const now = utc("2026-03-20T20:30:00Z");
  const quiet = decide(idle({ socPct: 40 }), {
    command: null,
    now,
    profile: CLINIC,
    params: QUIET,
  });
  assert.equal(quiet.genOn, false);
  assert.equal(quiet.quietHours, true);
  assert.ok(
    quiet.reasons.includes(
      "SoC 40.0 % ≤ start 40 % (local default) but quiet hours 21:00–06:00 (site time): no start " +
        "unless the battery is near critical (SoC ≤ 10 % or a persistent low voltage): cannot " +
        "start generator",
    ),
    quiet.reasons.join("\n"),
  );
  const critical = decide(idle({ socPct: 10 }), {
    command: null,
    now,
    profile: CLINIC,
    params: QUIET,
  });
  assert.equal(critical.genOn, true);
  assert.ok(critical.reasons.includes("safety beats quiet hours 21:00–06:00 (site time)"));
  assert.equal(
    decide(idle({ socPct: 10.1 }), { command: null, now, profile: CLINIC, params: QUIET }).genOn,
    false,
  );
  // A persistent low voltage (24 V pack: ≤ 24.0 V for 60 s) is a safety start too.
  const lowV = idle({ socPct: 60, batteryV: 23.9, lowVoltageSince: utc("2026-03-20T20:29:00Z") });
  assert.equal(decide(lowV, { command: null, now, profile: CLINIC, params: QUIET }).genOn, true);
  // A generator already running when quiet hours begin finishes its run.
  const run = decide(running(now, 20, { socPct: 50 }), {
    command: null,
    now,
    profile: CLINIC,
    params: QUIET,
  });
  assert.equal(run.genPhase, "running");
});

Deno.test("decide() quiet hours end at 06:00 site time, and follow daylight saving", () => {
  const at = (iso: string, profile = CLINIC) =>
    decide(idle({ socPct: 39 }), { command: null, now: utc(iso), profile, params: QUIET }).genOn;
  assert.equal(at("2026-03-20T19:59:00Z"), true, "20:59 Lagos: before quiet hours");
  assert.equal(at("2026-03-21T04:59:00Z"), false, "05:59 Lagos: still quiet");
  assert.equal(at("2026-03-21T05:00:00Z"), true, "06:00 Lagos: quiet hours over");
  const paris = { ...CLINIC, timeZone: "Europe/Paris" };
  assert.equal(at("2026-07-01T19:30:00Z", paris), false, "21:30 CEST: quiet");
  assert.equal(at("2026-01-15T19:30:00Z", paris), true, "20:30 CET: not yet");
});

Deno.test("decide() sheds loads below the reserve while quiet hours keep the generator off", () => {
  // SoC 15 % < reserve 20 % for 5 min, above near critical 10 %: the generator may not start.
  const now = utc("2026-03-20T22:00:00Z");
  const s = idle({ socPct: 15, lowSince: new Date(now.getTime() - 5 * 60_000) });
  const d = decide(s, { command: null, now, profile: CLINIC, params: QUIET });
  assert.deepEqual([d.genOn, d.shedTier], [false, 1]);
  assert.ok(
    d.reasons.some((r) => r.endsWith("the generator cannot help (quiet hours): shed tier 1")),
  );
});

Deno.test("decide() holds SoC 39 % through the night and starts at 06:00, once", () => {
  // 10 min steps from 19:40Z (20:40 Lagos, SoC 45 %) with SoC 39 % from 20:00Z: quiet from
  // 21:00 local; the first step out of quiet hours is 05:00Z, (05:00 − 19:40) / 10 min = 56.
  const steps = Array.from({ length: 60 }, (_, i) => ({ set: { socPct: i < 2 ? 45 : 39 } }));
  const d = drive(idle(), steps, {
    stepS: 600,
    params: QUIET,
    from: utc("2026-03-20T19:40:00Z"),
  });
  assert.deepEqual(toggles(d, ["genOn"]), ["56:genOn=true"]);
});

Deno.test("decide() runs a weekly exercise at 10:00 site time, 30 min, unless it ran recently", () => {
  // Exercise hour 10:00–11:00 Lagos = 09:00–10:00Z; last 30 min run exactly 7 days before.
  const weekAgo = utc("2026-03-13T09:00:00Z");
  const at = (iso: string, last = weekAgo, params = {}) =>
    decide(idle({ lastLongRunAt: last }), {
      command: null,
      now: utc(iso),
      profile: CLINIC,
      params,
    });
  const due = at("2026-03-20T09:00:00Z");
  assert.deepEqual([due.genOn, due.requests], [true, ["exercise"]]);
  assert.ok(due.reasons.includes("no run of 30.0 min for 7.0 d: exercise run: start generator"));
  assert.equal(at("2026-03-20T08:59:00Z").genOn, false, "09:59 local: before the hour");
  assert.equal(at("2026-03-20T10:00:00Z").genOn, false, "11:00 local: after the hour");
  assert.equal(at("2026-03-20T09:00:00Z", utc("2026-03-18T09:00:00Z")).genOn, false, "ran 2 d ago");
  const quiet = { quietHours: { startMin: 9 * 60, endMin: 12 * 60 } };
  assert.equal(at("2026-03-20T09:00:00Z", weekAgo, quiet).genOn, false, "never in quiet hours");
  assert.equal(at("2026-03-20T09:00:00Z", weekAgo, { exerciseIntervalS: null }).genOn, false);
});

Deno.test("decide() carries the exercise run under load for 30 min, then cools down", () => {
  // 1 min steps from 09:00Z: on at 0, sensed running at 1 (09:01), warmed up at 2; released at
  // 1 + (60 + 1800) / 60 = 32; cool-down 3 min → off at 35. The 30 min mark (09:31) restarts
  // the exercise clock, so the next day's exercise hour passes without a run.
  const d = drive(
    idle({ lastLongRunAt: utc("2026-03-13T09:00:00Z") }),
    Array.from({ length: 40 }, () => ({})),
    { stepS: 60, from: utc("2026-03-20T09:00:00Z") },
  );
  assert.deepEqual(toggles(d, ["genOn", "source"]), [
    "0:genOn=true",
    "2:source=generator",
    "32:source=battery",
    "35:genOn=false",
  ]);
  assert.ok(d[32]!.reasons.includes("exercise run of 30.0 min done: stop generator"));
  const last = d.at(-1)!.memory;
  assert.deepEqual(last.lastLongRunAt, utc("2026-03-20T09:31:00Z"));
  const nextDay = decide({ ...idle(), ...last }, {
    command: null,
    now: utc("2026-03-21T09:00:00Z"),
    profile: CLINIC,
  });
  assert.equal(nextDay.genOn, false);
});
