/**
 * One configured analog sensor (IIO ADC, hwmon power monitor, DS18B20), read through sysfs and
 * turned into the quantity of its key, or reported invalid with the reason: the file is gone
 * (unplugged), the kernel returned an error (EIO), the read hung, the converter is saturated, the
 * value is outside the calibration table or the physical range, or it froze.
 */
import type { AnalogSensor, HwmonSensor, IioSensor, SensorKey, W1Sensor } from "./config.ts";
import type { Sysfs } from "./sysfs.ts";

export type SensorRead =
  | { ok: true; value: number; raw: number; source: string }
  | { ok: false; reason: string };

type Raw = { ok: true; x: number; raw: number; source: string } | { ok: false; reason: string };

/**
 * Full-scale codes of the ti-ads1015 driver's chips: the ADS1115 returns 16-bit two's
 * complement, 7FFFh at +FS and 8000h at −FS; the ADS1015 12 bits, 7FFh/800h (TI datasheets,
 * "Output data format"). A code at full scale means the input is beyond the PGA range.
 */
const FULL_SCALE_RAW: Record<string, number> = { ads1115: 32767, ads1015: 2047 };

/**
 * The DS18B20's temperature register powers up at +85 °C and holds it until a conversion
 * completes (Maxim DS18B20 datasheet, "Operation — measuring temperature"): that value means the
 * sensor did not convert (parasite power too weak, a reset mid-read), not 85 °C.
 */
const DS18B20_RESET_MILLI_C = 85_000;

/** hwmon sysfs units (Documentation/hwmon/sysfs-interface.rst) to V, A, W and °C. */
const HWMON_DIVISOR: Record<string, number> = {
  in: 1000,
  curr: 1000,
  power: 1_000_000,
  temp: 1000,
};

/**
 * Default physical ranges: the wire's (TelemetryV1Schema in src/core/telemetry.ts), and for the
 * battery 0.5–1.5 × nominal. No healthy bank leaves that band: lead-acid runs 1.75 V/cell at the
 * end of discharge to 2.5 V/cell equalizing (0.875–1.25 × its 2 V/cell nominal), LiFePO4
 * 2.5–3.65 V/cell (0.78–1.14 × 3.2 V). A broken divider reads near 0 and a wrong ratio by 2× or
 * more, both outside it. Power below 0: a load or PV monitor reading negative is wired wrong.
 */
export function defaultRange(key: SensorKey, nominalV: number): [number, number] {
  switch (key) {
    case "battery_v":
      return [0.5 * nominalV, 1.5 * nominalV];
    case "battery_a":
      return [-5000, 5000];
    case "fuel_pct":
      return [0, 100];
    case "battery_temp_c":
      return [-40, 100];
    default:
      return [0, 1_000_000];
  }
}

/** Piecewise-linear through the table; null outside it (never extrapolated). */
export function interpolate(
  table: readonly (readonly [number, number])[],
  x: number,
): number | null {
  const first = table[0]!;
  const last = table[table.length - 1]!;
  if (x < first[0] || x > last[0]) return null;
  for (let i = 1; i < table.length; i++) {
    const [x1, y1] = table[i]!;
    if (x <= x1) {
      const [x0, y0] = table[i - 1]!;
      return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
    }
  }
  return last[1];
}

export class AnalogSensorReader {
  readonly key: SensorKey;
  readonly config: AnalogSensor;
  readonly range: [number, number];
  readonly #sysfs: Sysfs;
  readonly #nowMs: () => number;
  #devicePath: string | null = null;
  #frozen: { raw: number; sinceMs: number } | null = null;

  constructor(
    key: SensorKey,
    config: AnalogSensor,
    options: { sysfs: Sysfs; nominalV: number; nowMs?: () => number },
  ) {
    this.key = key;
    this.config = config;
    const [min, max] = defaultRange(key, options.nominalV);
    this.range = [config.min ?? min, config.max ?? max];
    this.#sysfs = options.sysfs;
    this.#nowMs = options.nowMs ?? (() => performance.now());
  }

  async read(): Promise<SensorRead> {
    const c = this.config;
    const raw = c.kind === "iio"
      ? await this.#readIio(c)
      : c.kind === "hwmon"
      ? await this.#readHwmon(c)
      : await this.#readW1(c);
    if (!raw.ok) {
      this.#frozen = null;
      return raw;
    }
    const stale = this.#stale(raw.raw);
    if (stale) return { ok: false, reason: `${raw.source}: ${stale}` };
    let value: number;
    const table = c.kind === "w1" ? undefined : c.table;
    if (table) {
      const v = interpolate(table, raw.x);
      if (v === null) {
        const lo = table[0]![0];
        const hi = table[table.length - 1]![0];
        return {
          ok: false,
          reason: `${raw.source}: ${fmt(raw.x)} is outside the calibration table ${lo}–${hi} ` +
            "(open or shorted sender?)",
        };
      }
      value = v;
    } else {
      value = raw.x * (c.kind === "w1" ? 1 : c.gain) + c.offset;
    }
    const [min, max] = this.range;
    if (!(value >= min && value <= max)) {
      return {
        ok: false,
        reason: `${raw.source}: ${fmt(value)} is outside the physical range ${min}–${max} of ` +
          this.key,
      };
    }
    return { ok: true, value, raw: raw.raw, source: raw.source };
  }

  /** "stale: …" when the raw value has been frozen for the configured time, else null. */
  #stale(raw: number): string | null {
    const limitS = this.config.stale_after_s;
    if (limitS === undefined) return null;
    const now = this.#nowMs();
    if (this.#frozen === null || this.#frozen.raw !== raw) {
      this.#frozen = { raw, sinceMs: now };
      return null;
    }
    const forS = (now - this.#frozen.sinceMs) / 1000;
    return forS >= limitS ? `stale: raw value ${raw} unchanged for ${Math.round(forS)} s` : null;
  }

  /** The class device of a name (and address); re-found when the one held disappears. */
  async #device(dir: string, c: IioSensor | HwmonSensor): Promise<
    { ok: true; path: string } | { ok: false; reason: string }
  > {
    if (this.#devicePath && await this.#sysfs.exists(this.#devicePath)) {
      return { ok: true, path: this.#devicePath };
    }
    const entries = c.kind === "iio" ? /^iio:device\d+$/ : /^hwmon\d+$/;
    const found = await this.#sysfs.findByName(dir, {
      entries,
      name: c.device,
      address: c.address,
    });
    const at = c.address ? ` at ${c.address}` : "";
    if (found.length === 0) {
      this.#devicePath = null;
      return {
        ok: false,
        reason: `no device named "${c.device}"${at} under ${dir}: unplugged, or its driver or ` +
          "overlay not loaded",
      };
    }
    if (found.length > 1) {
      return {
        ok: false,
        reason: `${found.length} devices named "${c.device}" under ${dir} (` +
          `${found.map((f) => f.address ?? "?").join(", ")}): set "address"`,
      };
    }
    this.#devicePath = found[0]!.path;
    return { ok: true, path: this.#devicePath };
  }

  async #readIio(c: IioSensor): Promise<Raw> {
    const dev = await this.#device("/sys/bus/iio/devices", c);
    if (!dev.ok) return dev;
    const base = `${dev.path}/in_${c.channel}`;
    const raw = await this.#sysfs.readInt(`${base}_raw`);
    if (!raw.ok) return raw;
    let scale = await this.#sysfs.readDecimal(`${base}_scale`);
    // Some IIO drivers share one scale per channel type (in_voltage_scale).
    if (!scale.ok && await this.#sysfs.exists(`${dev.path}/in_voltage_scale`)) {
      scale = await this.#sysfs.readDecimal(`${dev.path}/in_voltage_scale`);
    }
    if (!scale.ok) return scale;
    const offset = await this.#sysfs.exists(`${base}_offset`)
      ? await this.#sysfs.readDecimal(`${base}_offset`)
      : { ok: true as const, value: 0 };
    if (!offset.ok) return offset;
    const fullScale = c.full_scale_raw ?? FULL_SCALE_RAW[c.device];
    const source = `${base}_raw`;
    if (fullScale !== undefined && (raw.value >= fullScale || raw.value <= -fullScale - 1)) {
      return {
        ok: false,
        reason: `${source}: ${raw.value} is the converter's full-scale code: the input is ` +
          "beyond its range (saturated)",
      };
    }
    // IIO ABI: processed value = (raw + offset) × scale, in mV for voltage channels.
    const pinV = (raw.value + offset.value) * scale.value / 1000;
    return { ok: true, x: pinV * c.divider, raw: raw.value, source };
  }

  async #readHwmon(c: HwmonSensor): Promise<Raw> {
    const dev = await this.#device("/sys/class/hwmon", c);
    if (!dev.ok) return dev;
    const source = `${dev.path}/${c.input}_input`;
    const raw = await this.#sysfs.readInt(source);
    if (!raw.ok) return raw;
    const divisor = HWMON_DIVISOR[c.input.replace(/\d+$/, "")]!;
    return { ok: true, x: raw.value / divisor, raw: raw.value, source };
  }

  async #readW1(c: W1Sensor): Promise<Raw> {
    const dir = `/sys/bus/w1/devices/${c.id}`;
    let source = `${dir}/temperature`;
    let milliC: number;
    const t = await this.#sysfs.readInt(source);
    if (t.ok) {
      milliC = t.value;
    } else if (await this.#sysfs.exists(`${dir}/w1_slave`)) {
      // Kernels before w1_therm's `temperature` file: "… crc=xx YES\n… t=23125".
      source = `${dir}/w1_slave`;
      const r = await this.#sysfs.read(source);
      if (!r.ok) return r;
      if (!/crc=[0-9a-f]{2} YES/.test(r.text)) {
        return { ok: false, reason: `${source}: CRC check failed (noise on the 1-Wire bus)` };
      }
      const m = /t=(-?\d+)/.exec(r.text);
      if (!m) {
        return {
          ok: false,
          reason: `${source}: no "t=" in ${JSON.stringify(r.text.slice(0, 60))}`,
        };
      }
      milliC = Number(m[1]);
    } else if (!await this.#sysfs.exists(dir)) {
      return {
        ok: false,
        reason: `1-Wire sensor ${c.id} is not on the bus (${dir} missing): unplugged?`,
      };
    } else {
      return t;
    }
    if (milliC === DS18B20_RESET_MILLI_C) {
      return {
        ok: false,
        reason: `${source}: 85000 is the DS18B20's power-on value: no conversion happened`,
      };
    }
    return { ok: true, x: milliC / 1000, raw: milliC, source };
  }
}

function fmt(x: number): string {
  return String(Math.round(x * 1000) / 1000);
}
