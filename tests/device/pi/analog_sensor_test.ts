/** Each sensor kind of the Pi driver against a fake sysfs tree (src/device/pi/analog_sensor.ts). */
import assert from "node:assert/strict";
import { AnalogSensorReader, interpolate } from "../../../src/device/pi/analog_sensor.ts";
import {
  type AnalogSensor,
  AnalogSensorSchema,
  type SensorKey,
} from "../../../src/device/pi/config.ts";
import { Sysfs } from "../../../src/device/pi/sysfs.ts";
import { FakeSysfs } from "./fake_sysfs.ts";

function reader(
  fake: FakeSysfs,
  key: SensorKey,
  config: Record<string, unknown>,
  options: { nowMs?: () => number; timeoutMs?: number } = {},
) {
  return new AnalogSensorReader(key, AnalogSensorSchema.parse(config) as AnalogSensor, {
    sysfs: new Sysfs(fake.root, { timeoutMs: options.timeoutMs ?? 1500 }),
    nominalV: 24,
    nowMs: options.nowMs,
  });
}

/**
 * ADS1115 at PGA ±4.096 V: 4.096 V / 32768 = 0.125 mV per code, the kernel's scale
 * "0.125000000" (TI ADS1115 datasheet, table "Full-scale range and LSB size"). AIN0 behind a
 * 100 kΩ / 10 kΩ divider, ratio 110/10 = 11. AIN1 at ±6.144 V: 0.1875 mV per code.
 */
async function adsTree(fake: FakeSysfs, raw0: number, raw1 = 8000) {
  await fake.iio(0, {
    name: "ads1115",
    address: "1-0048",
    channels: {
      voltage0: { raw: raw0, scale: "0.125000000" },
      voltage1: { raw: raw1, scale: "0.187500000" },
    },
  });
}

Deno.test("AnalogSensorReader reads an IIO ADC channel as raw × scale × divider", async () => {
  const fake = await FakeSysfs.create();
  try {
    await adsTree(fake, 19200);
    const r = await reader(fake, "battery_v", {
      kind: "iio",
      device: "ads1115",
      channel: "voltage0",
      divider: 11,
    }).read();
    // 19200 × 0.125 mV = 2400 mV at the pin; × 11 = 26.4 V.
    assert.ok(r.ok);
    assert.equal(Math.round(r.value * 1000) / 1000, 26.4);
    assert.equal(r.raw, 19200);
  } finally {
    await fake.dispose();
  }
});

Deno.test("AnalogSensorReader maps a fuel sender through its calibration table, never beyond", async () => {
  const fake = await FakeSysfs.create();
  try {
    await adsTree(fake, 19200, 8000);
    const fuel = {
      kind: "iio",
      device: "ads1115",
      channel: "voltage1",
      table: [[0.5, 0], [2.5, 50], [4.5, 100]],
    };
    const r = await reader(fake, "fuel_pct", fuel).read();
    // 8000 × 0.1875 mV = 1.5 V; between 0.5 V → 0 % and 2.5 V → 50 %: 50 × (1.0 / 2.0) = 25 %.
    assert.ok(r.ok);
    assert.equal(r.value, 25);
    // 1600 × 0.1875 mV = 0.3 V: below the table's 0.5 V, an open sender, not "0 %".
    await adsTree(fake, 19200, 1600);
    const open = await reader(fake, "fuel_pct", fuel).read();
    assert.equal(open.ok, false);
    assert.match(
      (open as { reason: string }).reason,
      /0\.3 is outside the calibration table 0\.5–4\.5/,
    );
  } finally {
    await fake.dispose();
  }
});

Deno.test("AnalogSensorReader reports a saturated ADC and a broken divider as invalid", async () => {
  const fake = await FakeSysfs.create();
  const battery = { kind: "iio", device: "ads1115", channel: "voltage0", divider: 11 };
  try {
    // 7FFFh = 32767: the ADS1115's +full-scale code, the input is beyond ±4.096 V.
    await adsTree(fake, 32767);
    const sat = await reader(fake, "battery_v", battery).read();
    assert.equal(sat.ok, false);
    assert.match((sat as { reason: string }).reason, /32767 is the converter's full-scale code/);
    // A divider with its top resistor open reads ~0 V: 0 V is below 0.5 × 24 V = 12 V.
    await adsTree(fake, 3);
    const zero = await reader(fake, "battery_v", battery).read();
    assert.equal(zero.ok, false);
    // 3 × 0.125 mV × 11 = 0.004125 V → shown rounded to 0.004.
    assert.match(
      (zero as { reason: string }).reason,
      /0\.004 is outside the physical range 12–36 of battery_v/,
    );
  } finally {
    await fake.dispose();
  }
});

Deno.test("AnalogSensorReader reads an INA226 through hwmon, found by name not by number", async () => {
  const fake = await FakeSysfs.create();
  try {
    // hwmon units: in1 mV, curr1 mA, power1 µW (Documentation/hwmon/sysfs-interface.rst).
    await fake.hwmon(0, { name: "cpu_thermal", address: "1-0000", files: { temp1_input: 48000 } });
    await fake.hwmon(3, {
      name: "ina226",
      address: "1-0040",
      files: {
        in1_input: 26400,
        curr1_input: -12500,
        power1_input: 330_000_000,
      },
    });
    const bus = await reader(fake, "battery_v", { kind: "hwmon", device: "ina226", input: "in1" })
      .read();
    const amps = await reader(fake, "battery_a", {
      kind: "hwmon",
      device: "ina226",
      input: "curr1",
      gain: -1,
    }).read();
    const watts = await reader(fake, "load_w", { kind: "hwmon", device: "ina226", input: "power1" })
      .read();
    // 26400 mV = 26.4 V; −12500 mA × −1 = +12.5 A (shunt wired the other way); 330e6 µW = 330 W.
    assert.deepEqual(
      [bus, amps, watts].map((r) => r.ok ? r.value : r.reason),
      [26.4, 12.5, 330],
    );
  } finally {
    await fake.dispose();
  }
});

Deno.test("AnalogSensorReader tells two INA226 apart by I2C address, and asks for one", async () => {
  const fake = await FakeSysfs.create();
  try {
    await fake.hwmon(1, {
      name: "ina226",
      address: "1-0040",
      files: { power1_input: 330_000_000 },
    });
    await fake.hwmon(2, {
      name: "ina226",
      address: "1-0041",
      files: { power1_input: 120_500_000 },
    });
    const pv = await reader(fake, "pv_w", {
      kind: "hwmon",
      device: "ina226",
      address: "1-0041",
      input: "power1",
    }).read();
    // 120,500,000 µW = 120.5 W, from the one at 0x41.
    assert.ok(pv.ok);
    assert.equal(pv.value, 120.5);
    const ambiguous = await reader(fake, "pv_w", {
      kind: "hwmon",
      device: "ina226",
      input: "power1",
    })
      .read();
    assert.equal(ambiguous.ok, false);
    assert.match(
      (ambiguous as { reason: string }).reason,
      /2 devices named "ina226" under \/sys\/class\/hwmon \(1-0040, 1-0041\): set "address"/,
    );
  } finally {
    await fake.dispose();
  }
});

Deno.test("AnalogSensorReader reads a DS18B20 and rejects its 85 °C power-on value", async () => {
  const fake = await FakeSysfs.create();
  const sensor = { kind: "w1", id: "28-0316a2795aff" };
  try {
    await fake.w1("28-0316a2795aff", 23125);
    const r = await reader(fake, "battery_temp_c", sensor).read();
    // 23125 m°C = 23.125 °C.
    assert.ok(r.ok);
    assert.equal(r.value, 23.125);
    await fake.w1("28-0316a2795aff", 85000);
    const reset = await reader(fake, "battery_temp_c", sensor).read();
    assert.equal(reset.ok, false);
    assert.match((reset as { reason: string }).reason, /85000 is the DS18B20's power-on value/);
  } finally {
    await fake.dispose();
  }
});

Deno.test("AnalogSensorReader falls back to w1_slave and checks its CRC", async () => {
  const fake = await FakeSysfs.create();
  const dir = "/sys/bus/w1/devices/28-0316a2795aff";
  const sensor = { kind: "w1", id: "28-0316a2795aff" };
  try {
    // Scratchpad bytes 72 01: 0x0172 = 370 × 0.0625 °C (12-bit LSB, DS18B20 datasheet) = 23.125.
    await fake.file(
      `${dir}/w1_slave`,
      "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125",
    );
    const r = await reader(fake, "battery_temp_c", sensor).read();
    assert.ok(r.ok);
    assert.equal(r.value, 23.125);
    await fake.file(
      `${dir}/w1_slave`,
      "72 01 4b 46 7f ff 0e 10 57 : crc=56 NO\n72 01 4b 46 7f ff 0e 10 57 t=23125",
    );
    const bad = await reader(fake, "battery_temp_c", sensor).read();
    assert.equal(bad.ok, false);
    assert.match((bad as { reason: string }).reason, /CRC check failed/);
  } finally {
    await fake.dispose();
  }
});

Deno.test("AnalogSensorReader reports unplugged sensors as invalid, never as 0", async () => {
  const fake = await FakeSysfs.create();
  try {
    await adsTree(fake, 19200);
    const battery = reader(fake, "battery_v", {
      kind: "iio",
      device: "ads1115",
      channel: "voltage0",
      divider: 11,
    });
    assert.ok((await battery.read()).ok);
    // The ADC's driver unbound (its overlay removed, the module unloaded): the device is gone.
    await fake.remove("/sys/bus/iio/devices/iio:device0");
    const gone = await battery.read();
    assert.equal(gone.ok, false);
    assert.match(
      (gone as { reason: string }).reason,
      /no device named "ads1115" under \/sys\/bus\/iio\/devices: unplugged/,
    );
    const w1 = await reader(fake, "battery_temp_c", { kind: "w1", id: "28-00000aabbccd" }).read();
    assert.equal(w1.ok, false);
    assert.match(
      (w1 as { reason: string }).reason,
      /1-Wire sensor 28-00000aabbccd is not on the bus/,
    );
  } finally {
    await fake.dispose();
  }
});

Deno.test("AnalogSensorReader reports an EIO from the kernel with the file that gave it", async () => {
  const fake = await FakeSysfs.create();
  try {
    await fake.hwmon(0, { name: "ina226", address: "1-0040", files: { in1_input: 26400 } });
    // An I2C board unplugged while its driver stays bound: every transfer behind an attribute
    // fails and the read returns EIO (os error 5).
    await fake.eio("/sys/devices/platform/soc/fe804000.i2c/i2c-1/1-0040/hwmon/hwmon0/in1_input");
    const r = await reader(fake, "battery_v", { kind: "hwmon", device: "ina226", input: "in1" })
      .read();
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /hwmon0\/in1_input: EIO: Input\/output error/);
  } finally {
    await fake.dispose();
  }
});

Deno.test("AnalogSensorReader gives up on a read that hangs, after the timeout", async () => {
  const fake = await FakeSysfs.create();
  const real = "/sys/devices/platform/soc/fe804000.i2c/i2c-1/1-0040/hwmon/hwmon0";
  try {
    await fake.hwmon(0, { name: "ina226", address: "1-0040", files: {} });
    // A FIFO with no writer blocks its reader, as a hung bus transfer does.
    const fifo = fake.path(`${real}/in1_input`);
    const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.ok(mk.success);
    const r = await reader(fake, "battery_v", { kind: "hwmon", device: "ina226", input: "in1" }, {
      timeoutMs: 200,
    }).read();
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /in1_input: no answer within 200 ms/);
    // Unblock the abandoned read so the test leaves nothing pending.
    const w = await Deno.open(fifo, { write: true });
    await w.write(new TextEncoder().encode("1\n"));
    w.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    await fake.dispose();
  }
});

Deno.test("AnalogSensorReader reports a value frozen past stale_after_s as stale", async () => {
  const fake = await FakeSysfs.create();
  let nowMs = 0;
  try {
    await adsTree(fake, 19200);
    const battery = reader(fake, "battery_v", {
      kind: "iio",
      device: "ads1115",
      channel: "voltage0",
      divider: 11,
      stale_after_s: 600,
    }, { nowMs: () => nowMs });
    assert.ok((await battery.read()).ok);
    nowMs = 599_000;
    assert.ok((await battery.read()).ok, "599 s of one code: still a reading");
    nowMs = 600_000;
    const stale = await battery.read();
    assert.equal(stale.ok, false);
    assert.match(
      (stale as { reason: string }).reason,
      /stale: raw value 19200 unchanged for 600 s/,
    );
    // One code of change and it reads again.
    await adsTree(fake, 19201);
    assert.ok((await battery.read()).ok);
  } finally {
    await fake.dispose();
  }
});

Deno.test("interpolate() is linear between points and null outside the table", () => {
  const table = [[0.5, 0], [2.5, 50], [4.5, 100]] as const;
  // 3.5 V: halfway from 2.5 → 50 to 4.5 → 100: 75. The ends are inside.
  assert.deepEqual(
    [0.5, 1.5, 2.5, 3.5, 4.5, 0.49, 4.51].map((x) => interpolate(table, x)),
    [0, 25, 50, 75, 100, null, null],
  );
});
