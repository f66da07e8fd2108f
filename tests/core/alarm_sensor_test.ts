import assert from "node:assert/strict";
import { newAlarmRuleState, onEvent, onReject, onTick } from "../../src/core/alarm_rules.ts";
import { SENTINELS } from "../../src/core/alarm_sensor_checks.ts";
import { changes, ctx, profile, rec, run, T0 } from "./alarm_fixtures.ts";

Deno.test("SENTINELS holds the 16-bit error values and their tenths and hundredths", () => {
  for (const v of [65535, 0xfffe, 32767, -32768, 6553.5, 3276.7, 655.35, -327.68]) {
    assert.ok(SENTINELS.has(v), String(v));
  }
  assert.ok(!SENTINELS.has(450));
});

Deno.test("sensor-invalid raises on three sentinel readings, not on one", () => {
  const three = [0, 1, 2, 3, 4].map((i) => rec(i, i >= 1 && i <= 3 ? { loadW: 65535 } : {}));
  const { steps } = run(three);
  assert.deepEqual(changes(steps), ["3 sensor-invalid raised"]);
  assert.deepEqual(steps[0]!.conditions[0]!.values, {
    sensors: "load_w",
    reason: "reads 65535, a sentinel of a 16-bit register",
  });
  const one = [0, 1, 2, 3].map((i) => rec(i, i === 1 ? { loadW: 65535 } : {}));
  assert.deepEqual(changes(run(one).steps), []);
});

Deno.test("sensor-invalid clears after three good readings", () => {
  const records = [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
    rec(i, i >= 1 && i <= 3 ? { batteryTempC: 85 } : {})
  );
  assert.deepEqual(changes(run(records).steps), [
    "3 sensor-invalid raised",
    "6 sensor-invalid cleared",
  ]);
});

Deno.test("sensor-invalid raises on impossible values for the site", () => {
  const cases: { name: string; bad: object }[] = [
    { name: "48 V on a 12 V bank", bad: { batteryV: 48 } },
    { name: "3 V while the bank carries the load", bad: { batteryV: 3 } },
    { name: "PV 3 kW from 1 kWp", bad: { pvW: 3000 } },
  ];
  const site = ctx({ profile: profile({ pvKwp: 1 }) });
  for (const c of cases) {
    const records = [0, 1, 2, 3].map((i) => rec(i, i >= 1 ? c.bad : {}));
    assert.deepEqual(changes(run(records, site).steps), ["3 sensor-invalid raised"], c.name);
  }
});

Deno.test("sensor-invalid raises on an impossible jump that persists, not on one spike", () => {
  // Battery temperature 25 → 60 °C within a minute: more than 5 °C + 10 °C/h.
  const held = [0, 1, 2, 3, 4].map((i) => rec(i, i >= 2 ? { batteryTempC: 60 } : {}));
  const { steps } = run(held);
  assert.deepEqual(changes(steps), ["4 sensor-invalid raised"]);
  assert.equal(steps[0]!.conditions[0]!.values.reason, "jumped from 25 to 60 °C in 1 min");
  const spike = [0, 1, 2, 3, 4].map((i) => rec(i, i === 2 ? { batteryTempC: 60 } : {}));
  assert.deepEqual(changes(run(spike).steps), []);
  // A slow real rise of 3 °C per sample is accepted.
  const warming = [0, 1, 2, 3, 4].map((i) => rec(i * 10, { batteryTempC: 25 + 3 * i }));
  assert.deepEqual(changes(run(warming).steps), []);
});

Deno.test("sensor-invalid raises on a reading stuck for an hour while the rest moves", () => {
  // loadW exactly 450 W, one sample a minute, while the voltage moves every minute: the value
  // is stuck from the 60th sample (60 min), three samples later it is a fault.
  const stuck = Array.from({ length: 70 }, (_, i) => rec(i, { loadW: 450 }));
  const { steps } = run(stuck);
  assert.deepEqual(changes(steps), ["62 sensor-invalid raised"]);
  assert.match(String(steps[0]!.conditions[0]!.values.reason), /^stuck at 450 for 60 min/);
  // The same hour with a load that jitters by a watt: no alarm.
  const live = Array.from({ length: 70 }, (_, i) => rec(i));
  assert.deepEqual(changes(run(live).steps), []);
  // A whole site standing still (nothing else moves either) is not a stuck sensor.
  const still = Array.from({ length: 70 }, (_, i) => rec(i, { loadW: 450, batteryV: 12.64 }));
  assert.deepEqual(changes(run(still).steps), []);
});

Deno.test("sensor-invalid raises on a fuel gauge that stands still while the generator burns 3 %", () => {
  // The fixture's 5 kW set at full load burns 0.0332·5 + 0.2728·5 = 1.53 L/h (the curve of the
  // worked example, 15.3 L/h at 50 kW), 0.255 L per 10-minute sample: 0.255 % of its 100 L
  // tank. The gauge at 60 % all along has "burned" 11 · 0.255 = 2.805 % at sample 11 and
  // 3.06 % at sample 12 (≥ 3 %): bad from 12, a fault at 14.
  const running = { genRunning: true, source: "generator" as const, genW: 5000 };
  const still = Array.from({ length: 16 }, (_, i) => rec(i * 10, { ...running, fuelPct: 60 }));
  const { steps } = run(still);
  assert.deepEqual(changes(steps), ["14 sensor-invalid raised"]);
  assert.equal(
    steps[0]!.conditions[0]!.values.reason,
    "stuck at 60 % while the generator burned about 3.1 % of the tank",
  );
  // A gauge that falls with the burn reads live.
  const live = Array.from(
    { length: 16 },
    (_, i) => rec(i * 10, { ...running, fuelPct: 60 - 0.255 * i }),
  );
  assert.deepEqual(changes(run(live).steps), []);
});

Deno.test("sensor-invalid raises on the device's sensor-invalid event and clears on recovery", () => {
  let s = newAlarmRuleState();
  const invalid = onEvent(s, {
    kind: "sensor-invalid",
    time: T0,
    values: { sensor: "battery_temp_c", reason: "w1_slave CRC NO", required: false },
  });
  assert.deepEqual(invalid.conditions.map((c) => [c.active, c.values.sensors]), [
    [true, "battery_temp_c"],
  ]);
  s = invalid.state;
  const recovered = onEvent(s, {
    kind: "sensor-recovered",
    time: T0,
    values: { sensor: "battery_temp_c", invalid_since: T0.toISOString() },
  });
  assert.deepEqual(recovered.conditions.map((c) => c.active), [false]);
});

Deno.test("a counter reset after a device reboot raises nothing", () => {
  // seq counts up to 1000, the device reboots (20 min silent), seq starts again at 0, and the
  // battery temperature is 4 °C warmer after the gap: nothing is a jump, nothing is stuck.
  const before = Array.from({ length: 10 }, (_, i) => rec(i, { seq: 991 + i }));
  const after = Array.from(
    { length: 10 },
    (_, i) => rec(30 + i, { seq: i, batteryTempC: 29, socPct: 68 }),
  );
  assert.deepEqual(changes(run([...before, ...after]).steps), []);
});

Deno.test("sensor-invalid raises on three rejected messages naming one field, clears on records", () => {
  let s = run([rec(0), rec(1)]).state;
  const reason = "fuel_pct: Too big: expected number to be <=100 (got 65535)";
  const raised: string[] = [];
  for (let i = 2; i <= 4; i++) {
    const r = onReject(s, { reason, at: new Date(T0.getTime() + i * 60_000) });
    s = r.state;
    raised.push(...r.conditions.map((c) => `${i} ${c.active} ${c.values.sensors}`));
  }
  assert.deepEqual(raised, ["4 true fuel_pct"]);
  // Rejected telemetry is the site talking: no offline alarm 11 min after the last record.
  assert.equal(onTick(s, new Date(T0.getTime() + 12 * 60_000), 0).conditions.length, 0);
  const back = run([rec(5), rec(6), rec(7)], ctx(), s);
  assert.deepEqual(changes(back.steps), ["2 sensor-invalid cleared"]);
  // Rejects naming different fields, or one in between records, raise nothing.
  let t = run([rec(0)]).state;
  for (const [i, why] of ["fuel_pct: x", "load_w: y", "fuel_pct: z"].entries()) {
    t = onReject(t, { reason: why, at: new Date(T0.getTime() + (i + 1) * 60_000) }).state;
  }
  assert.equal(t.sensorAlarm.active, false);
});
