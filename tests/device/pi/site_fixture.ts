/**
 * Test helper: one wired site — the README's example — as a config and a fake sysfs tree.
 *
 * A 24 V AGM bank. ADS1115 at 0x48: AIN0 the battery through an 11:1 divider (PGA ±4.096 V,
 * 0.125 mV/code), AIN1 the fuel sender 0.5–4.5 V (PGA ±6.144 V, 0.1875 mV/code). INA226 at 0x40
 * on the battery's shunt (current, bus voltage) and at 0x41 on the load (power). DS18B20 on the
 * battery. GPIO (header numbers, chip base 512 as on Raspberry Pi OS kernels ≥ 6.6): 17 generator
 * running, 27 door (active low), 22/23 battery and generator contactors with their auxiliary
 * contacts on 16/26, 24 generator remote start (hold), 25 shed tier 1.
 */
import { FakeSysfs } from "./fake_sysfs.ts";

export const BASE = 512;
export const GPIO = {
  genRunning: 17,
  door: 27,
  battery: 22,
  batteryFeedback: 16,
  generator: 23,
  generatorFeedback: 26,
  genRun: 24,
  shed1: 25,
} as const;

export function siteConfig(siteId: string): Record<string, unknown> {
  return {
    site: {
      site_id: siteId,
      name: "Telecom tower, Kano",
      chemistry: "agm",
      nominal_v: 24,
      capacity_wh: 9600,
      reserve_soc_pct: 50,
      tank_l: 200,
      generator_rated_kw: 8,
      pv_kwp: 0,
      latitude: 12.0,
      longitude: 8.52,
      time_zone: "Africa/Lagos",
    },
    sensors: {
      battery_v: { kind: "iio", device: "ads1115", channel: "voltage0", divider: 11 },
      battery_a: { kind: "hwmon", device: "ina226", address: "1-0040", input: "curr1" },
      load_w: { kind: "hwmon", device: "ina226", address: "1-0041", input: "power1" },
      fuel_pct: {
        kind: "iio",
        device: "ads1115",
        channel: "voltage1",
        table: [[0.5, 0], [2.5, 50], [4.5, 100]],
      },
      battery_temp_c: { kind: "w1", id: "28-0316a2795aff" },
      gen_running: { kind: "gpio", line: GPIO.genRunning },
    },
    inputs: { door: { kind: "gpio", line: GPIO.door, active_low: true } },
    outputs: {
      battery_contactor: { line: GPIO.battery, feedback: { line: GPIO.batteryFeedback } },
      generator_contactor: { line: GPIO.generator, feedback: { line: GPIO.generatorFeedback } },
      generator: { mode: "hold", run: { line: GPIO.genRun } },
      shed: [{ line: GPIO.shed1 }],
    },
    safety: { transfer_dead_time_ms: 50 },
  };
}

/**
 * The tree with the site at rest on the battery: 26.4 V (raw 19200), 25 % fuel (raw 8000 →
 * 1.5 V), −12.5 A (discharging), 330 W load, 23.125 °C, generator stopped, door closed (27 high:
 * active low). Input lines exported; outputs left for the driver to export.
 */
export async function siteTree(): Promise<FakeSysfs> {
  const fake = await FakeSysfs.create();
  await fake.gpioChip(BASE, { label: "pinctrl-bcm2711", ngpio: 58 });
  await fake.gpioChip(570, { label: "raspberrypi-exp-gpio", ngpio: 8 });
  await fake.iio(0, {
    name: "ads1115",
    address: "1-0048",
    channels: {
      voltage0: { raw: 19200, scale: "0.125000000" },
      voltage1: { raw: 8000, scale: "0.187500000" },
    },
  });
  await fake.hwmon(2, {
    name: "ina226",
    address: "1-0040",
    files: { in1_input: 26400, curr1_input: -12500 },
  });
  await fake.hwmon(3, { name: "ina226", address: "1-0041", files: { power1_input: 330_000_000 } });
  await fake.w1("28-0316a2795aff", 23125);
  await fake.gpioLine(BASE + GPIO.genRunning, { direction: "in", value: "0" });
  await fake.gpioLine(BASE + GPIO.door, { direction: "in", value: "1" });
  // The contactors' auxiliary contacts follow their coils: the test moves them (followFeedback).
  await fake.gpioLine(BASE + GPIO.batteryFeedback, { direction: "in", value: "0" });
  await fake.gpioLine(BASE + GPIO.generatorFeedback, { direction: "in", value: "0" });
  fake.startKernel();
  return fake;
}

/**
 * Makes each contactor's feedback follow its coil line, as a healthy contactor's auxiliary
 * contact does (unless `stuck` names one that stays as it is). Returns the stop function.
 */
export function followFeedback(
  fake: FakeSysfs,
  stuck: { battery?: 0 | 1; generator?: 0 | 1 } = {},
): () => Promise<void> {
  let running = true;
  const last: Record<string, string> = {};
  const loop = (async () => {
    while (running) {
      for (
        const [coil, fb, key] of [
          [GPIO.battery, GPIO.batteryFeedback, "battery"],
          [GPIO.generator, GPIO.generatorFeedback, "generator"],
        ] as const
      ) {
        const held = stuck[key];
        // A coil file caught mid-write by the driver reads empty: wait for the next look.
        const value = held !== undefined
          ? String(held)
          : await fake.read(`/sys/class/gpio/gpio${BASE + coil}/value`).catch(() => "");
        if ((value === "0" || value === "1") && last[key] !== value) {
          await fake.setGpio(BASE + fb, value === "1" ? 1 : 0);
          last[key] = value;
        }
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

export async function writeConfig(dir: string, config: unknown): Promise<string> {
  const path = `${dir}/site.json`;
  await Deno.writeTextFile(path, JSON.stringify(config, null, 2));
  return path;
}
