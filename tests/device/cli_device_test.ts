/** `kasi device` flag checks (src/cli/device.ts): bad input is a KasiError naming the value. */
import assert from "node:assert/strict";
import { resolveDeviceSettings } from "../../src/cli/device.ts";
import { KasiError } from "../../src/core/errors.ts";

const FLAGS = {
  hw: "sim",
  site: "tower-1",
  seed: "1",
  speed: "1",
  interval: "10",
  profile: "small",
  logLevel: "info",
};

Deno.test("resolveDeviceSettings() applies defaults and the flag > env > default order", () => {
  const s = resolveDeviceSettings(FLAGS, {});
  assert.equal(s.mqttUrl, "mqtt://127.0.0.1:1883");
  assert.equal(s.hw, "sim");
  if (s.hw !== "sim") return;
  assert.deepEqual([s.seed, s.speed, s.intervalS, s.preset], [1, 1, 10, "small"]);
  const bare = resolveDeviceSettings(
    { hw: "sim", site: "t", interval: "10", logLevel: "info" },
    {},
  );
  assert.deepEqual(
    bare.hw === "sim" && [bare.seed, bare.speed, bare.preset],
    [1, 1, "small"],
    "seed 1, speed 1, the small preset when not given",
  );
  const env = { KASI_MQTT_URL: "mqtt://env:1883" };
  assert.equal(resolveDeviceSettings(FLAGS, env).mqttUrl, "mqtt://env:1883");
  assert.equal(
    resolveDeviceSettings({ ...FLAGS, mqttUrl: "mqtt://flag:1883" }, env).mqttUrl,
    "mqtt://flag:1883",
  );
});

Deno.test("resolveDeviceSettings() rejects bad flags with a KasiError naming the value", () => {
  const cases: [Partial<typeof FLAGS>, RegExp][] = [
    [{ hw: "arduino" }, /--hw "arduino" is not one of: sim, pi/],
    [{ site: "bad id" }, /--site "bad id" is not a valid site id/],
    [{ seed: "x" }, /--seed "x" is not an integer/],
    [{ speed: "0" }, /--speed "0" must be a number > 0/],
    [{ interval: "-5" }, /--interval "-5" must be a number > 0/],
    [{ profile: "huge" }, /--profile "huge" is not one of: small, medium, large/],
  ];
  for (const [patch, message] of cases) {
    assert.throws(
      () => resolveDeviceSettings({ ...FLAGS, ...patch }, {}),
      (e) => e instanceof KasiError && e.code === "INPUT_INVALID" && message.test(e.message),
      JSON.stringify(patch),
    );
  }
});

Deno.test("resolveDeviceSettings() turns the dispatch flags into site-local policy settings", () => {
  assert.deepEqual(resolveDeviceSettings(FLAGS, {}).dispatch, {}, "no flag: the preset decides");
  const s = resolveDeviceSettings({
    ...FLAGS,
    quietHours: "21:00-06:00",
    exerciseEvery: "14",
    exerciseAt: "09:30",
    exerciseMinutes: "20",
    warmup: "30",
    cooldown: "240",
    maxRun: "off",
    rest: "20",
    inverterW: "2000",
    strategy: "load-following",
    transferDeadTime: "500",
  }, {});
  // 21:00 = 1260 min, 06:00 = 360; 14 d = 1,209,600 s; 09:30 = 570 min; 20 min = 1200 s.
  assert.deepEqual(s.dispatch, {
    quietHours: { startMin: 1260, endMin: 360 },
    exerciseIntervalS: 1_209_600,
    exerciseAtMin: 570,
    exerciseDurationS: 1200,
    warmupS: 30,
    cooldownS: 240,
    maxRunS: null,
    restS: 1200,
    inverterRatedW: 2000,
    localStrategy: "load-following",
    transferDeadTimeMs: 500,
  });
  assert.deepEqual(resolveDeviceSettings({ ...FLAGS, quietHours: "off" }, {}).dispatch, {
    quietHours: null,
  });
});

Deno.test("resolveDeviceSettings() names a bad dispatch flag and its value", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ quietHours: "9-17" }, /--quiet-hours "9" is not a time of day HH:MM/],
    [{ quietHours: "21:00" }, /--quiet-hours "21:00" is not a daily window/],
    [{ exerciseAt: "25:00" }, /--exercise-at "25:00" is not a time of day/],
    [{ exerciseEvery: "0.5" }, /--exercise-every "0.5" must be a number of days ≥ 1/],
    [{ warmup: "-1" }, /--warmup "-1" must be a number of seconds ≥ 0/],
    [{ inverterW: "0" }, /--inverter-w "0" must be a number of W ≥ 1/],
    [{ maxRun: "x" }, /--max-run "x" must be a number of hours ≥ 0.25/],
    [{ strategy: "peak" }, /--strategy "peak" is not one of: load-following, cycle-charging/],
  ];
  for (const [patch, message] of cases) {
    assert.throws(
      () => resolveDeviceSettings({ ...FLAGS, ...patch }, {}),
      (e) => e instanceof KasiError && e.code === "INPUT_INVALID" && message.test(e.message),
      JSON.stringify(patch),
    );
  }
});

const PI_FLAGS = { hw: "pi", interval: "10", logLevel: "info", config: "/etc/kasi/site.json" };

Deno.test("resolveDeviceSettings() takes --hw=pi with its config and sysfs root", () => {
  assert.deepEqual(resolveDeviceSettings(PI_FLAGS, {}), {
    hw: "pi",
    siteId: null,
    configPath: "/etc/kasi/site.json",
    sysfsRoot: "/",
    intervalS: 10,
    mqttUrl: "mqtt://127.0.0.1:1883",
    logLevel: "info",
    dispatch: {},
  });
  const s = resolveDeviceSettings(
    { ...PI_FLAGS, site: "tower-017", sysfsRoot: "/tmp/fake", transferDeadTime: "500" },
    {},
  );
  assert.deepEqual(
    s.hw === "pi" && [s.siteId, s.sysfsRoot, s.dispatch],
    ["tower-017", "/tmp/fake", { transferDeadTimeMs: 500 }],
  );
});

Deno.test("resolveDeviceSettings() refuses the simulator's flags with --hw=pi, and the reverse", () => {
  const cases: [Record<string, string | undefined>, RegExp][] = [
    [{ ...PI_FLAGS, config: undefined }, /--hw=pi needs --config FILE/],
    [{ ...PI_FLAGS, profile: "small" }, /--profile is for --hw=sim: a Pi reads its equipment/],
    [{ ...PI_FLAGS, seed: "3" }, /--seed is for --hw=sim/],
    [{ ...PI_FLAGS, speed: "60" }, /--speed "60": real hardware runs in real time/],
    [{ ...FLAGS, config: "site.json" }, /--config is for --hw=pi/],
    [{ ...FLAGS, site: undefined }, /--site is required with --hw=sim/],
  ];
  for (const [flags, message] of cases) {
    assert.throws(
      () => resolveDeviceSettings(flags as typeof PI_FLAGS, {}),
      (e) => e instanceof KasiError && e.code === "INPUT_INVALID" && message.test(e.message),
      JSON.stringify(flags),
    );
  }
});
