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
  assert.deepEqual([s.seed, s.speed, s.intervalS, s.preset], [1, 1, 10, "small"]);
  const env = { KASI_MQTT_URL: "mqtt://env:1883" };
  assert.equal(resolveDeviceSettings(FLAGS, env).mqttUrl, "mqtt://env:1883");
  assert.equal(
    resolveDeviceSettings({ ...FLAGS, mqttUrl: "mqtt://flag:1883" }, env).mqttUrl,
    "mqtt://flag:1883",
  );
});

Deno.test("resolveDeviceSettings() rejects bad flags with a KasiError naming the value", () => {
  const cases: [Partial<typeof FLAGS>, RegExp][] = [
    [{ hw: "pi" }, /no Raspberry Pi driver yet/],
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
