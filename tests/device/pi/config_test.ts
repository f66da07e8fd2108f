/** The site hardware config (src/device/pi/config_load.ts): defaults, and errors naming key and value. */
import assert from "node:assert/strict";
import { KasiError } from "../../../src/core/errors.ts";
import { parsePiConfig } from "../../../src/device/pi/config_load.ts";
import { siteConfig } from "./site_fixture.ts";

type Json = Record<string, unknown>;

function parse(config: unknown) {
  return parsePiConfig(JSON.stringify(config), "site.json");
}

function patched(patch: (c: Json) => void): Json {
  const c = structuredClone(siteConfig("tower-017"));
  patch(c);
  return c;
}

function fails(config: unknown, message: RegExp) {
  assert.throws(
    () => parse(config),
    (e) => e instanceof KasiError && e.code === "CONFIG_INVALID" && message.test(e.message),
    `expected ${message}`,
  );
}

const sensors = (c: Json) => c.sensors as Record<string, unknown>;
const outputs = (c: Json) => c.outputs as Record<string, unknown>;

Deno.test("parsePiConfig() accepts the example site and fills in the defaults", () => {
  const c = parse(siteConfig("tower-017"));
  assert.equal(c.site.site_id, "tower-017");
  assert.equal(c.sensors.battery_v.kind, "iio");
  // Defaults: divider given (11); gain 1, offset 0; safe state battery / tier 0; timeouts.
  assert.deepEqual(
    c.sensors.battery_v.kind === "iio" &&
      [c.sensors.battery_v.divider, c.sensors.battery_v.gain, c.sensors.battery_v.offset],
    [11, 1, 0],
  );
  assert.deepEqual(c.safety, {
    transfer_dead_time_ms: 50,
    safe_source: "battery",
    safe_shed_tier: 0,
    read_timeout_ms: 1500,
    feedback_timeout_ms: 250,
    output_fault_retry_s: 300,
  });
  assert.deepEqual(c.gpio, { backend: "auto" });
  assert.equal(c.inputs.door?.active_low, true);
  assert.equal(c.outputs.battery_contactor.active_low, false);
});

Deno.test("parsePiConfig() names a misspelt key and suggests the right one", () => {
  fails(
    patched((c) => {
      sensors(c).battery_v = { kind: "iio", device: "ads1115", channel: "voltage0", divder: 11 };
    }),
    /^site\.json: sensors\.battery_v\.divder: unknown key \(did you mean "divider"\?\)$/,
  );
  fails(
    patched((c) => (c.saftey = {})),
    /^site\.json: saftey: unknown key \(did you mean "safety"\?\)$/,
  );
  fails(patched((c) => (sensors(c).solar_w = sensors(c).load_w)), /sensors\.solar_w: unknown key/);
});

Deno.test("parsePiConfig() names a bad value with its key and the value", () => {
  fails(
    patched((c) => ((sensors(c).battery_v as Json).divider = -2)),
    /sensors\.battery_v\.divider: Too small: expected number to be >0 \(got -2\)/,
  );
  fails(
    patched((c) => ((outputs(c).battery_contactor as Json).line = "22")),
    /outputs\.battery_contactor\.line: Invalid input: expected number, received string \(got "22"\)/,
  );
  fails(
    patched((c) => ((sensors(c).battery_v as Json).channel = "ain0")),
    /sensors\.battery_v\.channel: must be like "voltage0" or "voltage0-voltage1" \(got "ain0"\)/,
  );
  fails(
    patched((c) => ((outputs(c).generator as Json).mode = "toggle")),
    /outputs\.generator\.mode: Invalid discriminator value\. Expected 'hold' \| 'pulse' \(got "toggle"\)/,
  );
  fails(
    patched((c) => ((sensors(c).fuel_pct as Json).table = [[2.5, 50], [0.5, 0]])),
    /sensors\.fuel_pct\.table: inputs \(the first number of each point\) must rise strictly/,
  );
  fails(
    patched((c) => ((c.site as Json).time_zone = undefined)),
    /site\.time_zone: .*expected string/,
  );
  assert.throws(
    () => parsePiConfig("{ sensors: ", "site.json"),
    /^KasiError: site\.json: not JSON/,
  );
});

Deno.test("parsePiConfig() refuses one GPIO line used twice, naming both uses", () => {
  fails(
    patched((c) => ((outputs(c).generator_contactor as Json).line = 17)),
    /outputs\.generator_contactor\.line: GPIO 17 is already used by sensors\.gen_running\.line/,
  );
  fails(
    patched((c) => (((outputs(c).shed as Json[])[0] as Json).line = 16)),
    /outputs\.shed\.0\.line: GPIO 16 is already used by outputs\.battery_contactor\.feedback\.line/,
  );
});

Deno.test("parsePiConfig() requires the running sense when the site has a generator", () => {
  fails(
    patched((c) => delete sensors(c).gen_running),
    /sensors\.gen_running: required when site\.generator_rated_kw is above 0 \(got 8\)/,
  );
  // No generator: no running sense needed.
  const c = patched((c) => {
    delete sensors(c).gen_running;
    (c.site as Json).generator_rated_kw = 0;
  });
  assert.equal(parse(c).sensors.gen_running, undefined);
});

Deno.test("parsePiConfig() refuses a sensor whose unit is not its key's", () => {
  fails(
    patched((c) => ((sensors(c).load_w as Json).input = "curr1")),
    /sensors\.load_w\.input: "curr1" is in A but load_w is in W: use powerN, or give a gain or a table/,
  );
  fails(
    patched((c) => (sensors(c).fuel_pct = { kind: "iio", device: "ads1115", channel: "voltage1" })),
    /sensors\.fuel_pct: an ADC reads volts, fuel_pct is in %: give a table/,
  );
  fails(
    patched((c) => (sensors(c).battery_v = { kind: "w1", id: "28-0316a2795aff" })),
    /sensors\.battery_v\.kind: "w1" \(DS18B20\) measures temperature, not volts/,
  );
  fails(
    patched((c) => Object.assign(sensors(c).battery_v as Json, { min: 30, max: 20 })),
    /sensors\.battery_v\.min: 30 must be below max 20/,
  );
  // A current times a fixed bus voltage is a power: a gain makes it one (48 W per A).
  const c = patched((c) => Object.assign(sensors(c).load_w as Json, { input: "curr1", gain: 48 }));
  assert.equal(parse(c).sensors.load_w.kind, "hwmon");
});
