/**
 * `kasi device probe --hw=pi`: what the kernel exposes — IIO ADCs, hwmon monitors, 1-Wire
 * sensors, GPIO chips and exported lines — with live readings, and with a config, what each
 * mapped sensor reads. Read-only: it exports no line and drives none (a gpioget would turn an
 * output into an input), so it is safe to run next to a running agent.
 */
import { AnalogSensorReader } from "./analog_sensor.ts";
import type { AnalogSensor, PiConfig, SensorKey } from "./config.ts";
import { parseGpiodetect, parseLibgpiodVersion } from "./gpio_libgpiod.ts";
import { SysfsGpio } from "./gpio_sysfs.ts";
import { Sysfs } from "./sysfs.ts";

export interface ProbeReading {
  name: string;
  /** The reading in the file's unit, or why there is none. */
  value: string;
}

export interface ProbeDevice {
  path: string;
  name: string;
  address: string | null;
  readings: ProbeReading[];
}

export interface ProbeReport {
  iio: ProbeDevice[];
  hwmon: ProbeDevice[];
  w1: ProbeDevice[];
  gpio: {
    backend: string;
    chips: { label: string; base: number | null; name: string | null; lines: number }[];
    exported: { number: number; line: string; direction: string; value: string }[];
  };
  /** With a config: each mapped sensor's value in its key's unit, or why it is invalid. */
  mapped: ProbeReading[];
}

/** 1-Wire family codes of the temperature sensors w1_therm drives. */
const W1_FAMILIES: Record<string, string> = {
  "10": "DS18S20",
  "22": "DS1822",
  "28": "DS18B20",
  "3b": "MAX31850",
  "42": "DS28EA00",
};

const HWMON_UNITS: Record<string, string> = { in: "mV", curr: "mA", power: "µW", temp: "m°C" };
const KEY_UNITS: Record<string, string> = {
  battery_v: "V",
  battery_a: "A",
  load_w: "W",
  pv_w: "W",
  gen_w: "W",
  fuel_pct: "%",
  battery_temp_c: "°C",
};

export async function probeHardware(
  root: string,
  options: { config?: PiConfig; env?: Record<string, string> } = {},
): Promise<ProbeReport> {
  const sysfs = new Sysfs(root, { timeoutMs: options.config?.safety.read_timeout_ms ?? 1500 });
  const [iio, hwmon, w1, gpio] = await Promise.all([
    probeIio(sysfs),
    probeHwmon(sysfs),
    probeW1(sysfs),
    probeGpio(sysfs, options.env),
  ]);
  const mapped: ProbeReading[] = [];
  if (options.config) {
    const c = options.config;
    for (const [key, sensor] of Object.entries(c.sensors)) {
      if (key === "gen_running" || sensor === undefined) continue;
      const r = await new AnalogSensorReader(key as SensorKey, sensor as AnalogSensor, {
        sysfs,
        nominalV: c.site.nominal_v,
      }).read();
      mapped.push({
        name: key,
        value: r.ok ? `${round(r.value)} ${KEY_UNITS[key]} (${r.source})` : `invalid: ${r.reason}`,
      });
    }
  }
  return { iio, hwmon, w1, gpio, mapped };
}

async function probeIio(sysfs: Sysfs): Promise<ProbeDevice[]> {
  const devices: ProbeDevice[] = [];
  for (const entry of await sysfs.list("/sys/bus/iio/devices")) {
    if (!/^iio:device\d+$/.test(entry)) continue;
    const path = `/sys/bus/iio/devices/${entry}`;
    const readings: ProbeReading[] = [];
    const shared = await sysfs.readDecimal(`${path}/in_voltage_scale`);
    for (const file of await sysfs.list(path)) {
      const m = /^in_(voltage\d+(?:-voltage\d+)?)_raw$/.exec(file);
      if (!m) continue;
      const raw = await sysfs.readInt(`${path}/${file}`);
      let scale = await sysfs.readDecimal(`${path}/in_${m[1]}_scale`);
      if (!scale.ok && shared.ok) scale = shared;
      readings.push({
        name: m[1]!,
        value: !raw.ok
          ? raw.reason
          : !scale.ok
          ? `raw ${raw.value} (no scale: ${scale.reason})`
          : `raw ${raw.value} × ${scale.value} mV = ${round(raw.value * scale.value)} mV`,
      });
    }
    devices.push({
      path,
      name: await nameOf(sysfs, path),
      address: await sysfs.address(path),
      readings,
    });
  }
  return devices;
}

async function probeHwmon(sysfs: Sysfs): Promise<ProbeDevice[]> {
  const devices: ProbeDevice[] = [];
  for (const entry of await sysfs.list("/sys/class/hwmon")) {
    if (!/^hwmon\d+$/.test(entry)) continue;
    const path = `/sys/class/hwmon/${entry}`;
    const readings: ProbeReading[] = [];
    for (const file of await sysfs.list(path)) {
      const m = /^(in|curr|power|temp)(\d+)_input$/.exec(file);
      if (!m) continue;
      const r = await sysfs.readInt(`${path}/${file}`);
      readings.push({
        name: `${m[1]}${m[2]}`,
        value: r.ok ? `${r.value} ${HWMON_UNITS[m[1]!]}` : r.reason,
      });
    }
    devices.push({
      path,
      name: await nameOf(sysfs, path),
      address: await sysfs.address(path),
      readings,
    });
  }
  return devices;
}

async function probeW1(sysfs: Sysfs): Promise<ProbeDevice[]> {
  const devices: ProbeDevice[] = [];
  for (const entry of await sysfs.list("/sys/bus/w1/devices")) {
    if (!/^[0-9a-f]{2}-[0-9a-f]{12}$/.test(entry)) continue;
    const path = `/sys/bus/w1/devices/${entry}`;
    const family = W1_FAMILIES[entry.slice(0, 2)];
    const readings: ProbeReading[] = [];
    if (family) {
      const t = await sysfs.readInt(`${path}/temperature`);
      readings.push({ name: "temperature", value: t.ok ? `${t.value} m°C` : t.reason });
    }
    devices.push({ path, name: family ?? `family ${entry.slice(0, 2)}`, address: null, readings });
  }
  return devices;
}

async function probeGpio(sysfs: Sysfs, env?: Record<string, string>): Promise<ProbeReport["gpio"]> {
  if (await sysfs.exists("/sys/class/gpio/export")) {
    const chips = await SysfsGpio.chips(sysfs);
    const exported: ProbeReport["gpio"]["exported"] = [];
    for (const entry of await sysfs.list("/sys/class/gpio")) {
      const m = /^gpio(\d+)$/.exec(entry);
      if (!m) continue;
      const n = Number(m[1]);
      const chip = chips.find((c) => n >= c.base && n < c.base + c.lines);
      const [direction, value] = await Promise.all([
        sysfs.read(`/sys/class/gpio/${entry}/direction`),
        sysfs.read(`/sys/class/gpio/${entry}/value`),
      ]);
      exported.push({
        number: n,
        line: chip ? `GPIO${n - chip.base} of ${chip.label}` : "?",
        direction: direction.ok ? direction.text.trim() : direction.reason,
        value: value.ok ? value.text.trim() : value.reason,
      });
    }
    return { backend: "sysfs", chips, exported };
  }
  try {
    const out = async (cmd: string, args: string[]) => {
      const r = await new Deno.Command(cmd, { args, env, stdin: "null" }).output();
      return new TextDecoder().decode(r.stdout);
    };
    const version = parseLibgpiodVersion(await out("gpioget", ["--version"]));
    return {
      backend: `libgpiod v${version}`,
      chips: parseGpiodetect(await out("gpiodetect", [])),
      exported: [],
    };
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no /sys/class/gpio, and the libgpiod tools (gpioget, gpiodetect) are not installed: " +
        "apt install gpiod"
      : (error as Error).message;
    return { backend: `none (${why})`, chips: [], exported: [] };
  }
}

async function nameOf(sysfs: Sysfs, path: string): Promise<string> {
  const r = await sysfs.read(`${path}/name`);
  return r.ok ? r.text.trim() : "?";
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The report as an installer reads it on the console. */
export function formatProbe(r: ProbeReport): string {
  const lines: string[] = [];
  const section = (title: string, devices: ProbeDevice[], empty: string) => {
    lines.push(title);
    if (devices.length === 0) lines.push(`  ${empty}`);
    for (const d of devices) {
      lines.push(`  ${d.path.split("/").at(-1)}  ${d.name}${d.address ? `  at ${d.address}` : ""}`);
      for (const x of d.readings) lines.push(`    ${x.name.padEnd(20)} ${x.value}`);
    }
  };
  section(
    "IIO ADCs (/sys/bus/iio/devices):",
    r.iio,
    "none (ADS1115: dtoverlay=ads1115 in config.txt)",
  );
  section("hwmon (/sys/class/hwmon):", r.hwmon, "none");
  section("1-Wire (/sys/bus/w1/devices):", r.w1, "none (DS18B20: dtoverlay=w1-gpio in config.txt)");
  lines.push(`GPIO: ${r.gpio.backend}`);
  for (const c of r.gpio.chips) {
    const range = c.base === null ? "" : `  numbers ${c.base}–${c.base + c.lines - 1}`;
    lines.push(`  ${c.name ?? `gpiochip${c.base}`}  ${c.label}  ${c.lines} lines${range}`);
  }
  for (const e of r.gpio.exported) {
    lines.push(`  gpio${e.number} (${e.line})  ${e.direction}  ${e.value}`);
  }
  if (r.mapped.length > 0) {
    lines.push("Mapped by the config:");
    for (const m of r.mapped) lines.push(`  ${m.name.padEnd(16)} ${m.value}`);
  }
  return lines.join("\n");
}
