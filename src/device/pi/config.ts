/**
 * The site hardware config of `kasi device --hw=pi`: which kernel file or GPIO line each sensor,
 * input and output is, and the site's equipment. JSON, keys as in the file (snake_case, units in
 * the names). Every object is strict, so a misspelt key is an error, not a silently ignored line.
 * Loading and the checks that span keys: src/device/pi/config_load.ts; an example: README.md,
 * "Install on a Raspberry Pi".
 */
import { z } from "zod";
import { SiteProfileWireSchema } from "../../core/site_profile.ts";
import { MAX_SHED_TIER } from "../../core/policy.ts";

/** BCM GPIO numbers: the Pi's chips have at most 58 lines (BCM2711), the header uses 0–27. */
const gpioLine = z.int().min(0).max(63);

/** A digital input: generator running, mains present, door open. `active_low`: active = 0 V. */
export const DigitalInputSchema = z.strictObject({
  kind: z.literal("gpio"),
  line: gpioLine,
  active_low: z.boolean().default(false),
});
export type DigitalInput = z.infer<typeof DigitalInputSchema>;

/** A relay line. Active = energized logic (contactor closed, relay open for shedding, run on). */
export const OutputLineSchema = z.strictObject({
  line: gpioLine,
  active_low: z.boolean().default(false),
  /** An auxiliary contact that reports the actuator's real state (read back instead of the pin). */
  feedback: z.strictObject({ line: gpioLine, active_low: z.boolean().default(false) }).optional(),
});
export type OutputLine = z.infer<typeof OutputLineSchema>;

/**
 * A calibration table: [input, output] points, inputs strictly rising, at least two. Between
 * points the value is interpolated linearly; outside the table the reading is invalid, never
 * extrapolated (an open or shorted fuel sender reads beyond its table).
 */
const table = z.array(z.tuple([z.number(), z.number()])).min(2).max(64).refine(
  (points) => points.every((p, i) => i === 0 || p[0] > points[i - 1]![0]),
  "inputs (the first number of each point) must rise strictly",
);

/** Shared by every analog sensor: the physical range and the frozen-value check. */
const analogCommon = {
  /** Readings outside [min, max] are invalid; defaults per quantity (config_load.ts). */
  min: z.number().optional(),
  max: z.number().optional(),
  /**
   * Invalid when the raw value has not changed at all for this long: a hung converter repeats
   * its last result. Off by default (a quiet battery at rest can hold one ADC code for minutes).
   */
  stale_after_s: z.number().positive().optional(),
};

/**
 * IIO ADC channel (ADS1015/ADS1115 with the ti-ads1015 kernel driver):
 * V_pin = (in_<channel>_raw + in_<channel>_offset) × in_<channel>_scale / 1000 (the IIO ABI:
 * scale in mV per LSB), V_in = V_pin × divider, value = table(V_in) or V_in × gain + offset.
 */
export const IioSensorSchema = z.strictObject({
  kind: z.literal("iio"),
  /** The device's `name` file ("ads1115"): the N of iio:deviceN changes between boots. */
  device: z.string().min(1).max(64),
  /** The I2C bus-address the device sits at ("1-0048"), to tell two of one name apart. */
  address: z.string().regex(/^\d+-[0-9a-f]{4}$/, "must be bus-address, e.g. 1-0048").optional(),
  /** "voltage0" (AIN0 to ground) or "voltage0-voltage1" (differential). */
  channel: z.string().regex(
    /^voltage\d+(-voltage\d+)?$/,
    'must be like "voltage0" or "voltage0-voltage1"',
  ),
  /** Resistor divider ratio (R1 + R2) / R2: the input volts per volt at the pin. */
  divider: z.number().positive().default(1),
  gain: z.number().default(1),
  offset: z.number().default(0),
  table: table.optional(),
  /** The converter's full-scale code: a raw value at ±full scale is saturated, not a reading. */
  full_scale_raw: z.int().positive().optional(),
  ...analogCommon,
});

/**
 * hwmon channel (INA219/INA226 with the ina2xx kernel driver). The kernel's hwmon units: inN
 * mV, currN mA, powerN µW, tempN m°C (Documentation/hwmon/sysfs-interface), turned into V, A,
 * W and °C; value = table(x) or x × gain + offset (gain −1 flips a shunt's sign).
 */
export const HwmonSensorSchema = z.strictObject({
  kind: z.literal("hwmon"),
  /** The device's `name` file ("ina226"): the N of hwmonN changes between boots. */
  device: z.string().min(1).max(64),
  address: z.string().regex(/^\d+-[0-9a-f]{4}$/, "must be bus-address, e.g. 1-0040").optional(),
  /** in1 (bus voltage), in0 (shunt voltage), curr1, power1, temp1 … */
  input: z.string().regex(/^(in|curr|power|temp)\d+$/, 'must be like "in1", "curr1" or "power1"'),
  gain: z.number().default(1),
  offset: z.number().default(0),
  table: table.optional(),
  ...analogCommon,
});

/** DS18B20 on 1-Wire (w1_therm): `temperature` in m°C. `offset` is a calibration in °C. */
export const W1SensorSchema = z.strictObject({
  kind: z.literal("w1"),
  /** The sensor's bus id, family 28 for DS18B20: "28-0316a2795aff". */
  id: z.string().regex(/^[0-9a-f]{2}-[0-9a-f]{12}$/, "must be a 1-Wire id, e.g. 28-0316a2795aff"),
  offset: z.number().default(0),
  ...analogCommon,
});

export const AnalogSensorSchema = z.discriminatedUnion("kind", [
  IioSensorSchema,
  HwmonSensorSchema,
  W1SensorSchema,
]);
export type AnalogSensor = z.infer<typeof AnalogSensorSchema>;
export type IioSensor = z.infer<typeof IioSensorSchema>;
export type HwmonSensor = z.infer<typeof HwmonSensorSchema>;
export type W1Sensor = z.infer<typeof W1SensorSchema>;

/**
 * The generator's start/stop. `hold`: a remote-start contact of an auto-start controller (DSE,
 * ComAp, DEIF), closed while it should run; the controller cranks. `pulse`: no controller, the
 * agent cranks: `run` (fuel/ignition, held while running), `crank` (starter, pulsed until the
 * engine is sensed running, at most `crank_s`, `attempts` times with `rest_s` between) and
 * optionally `stop` (an energize-to-stop solenoid, pulsed `stop_pulse_s`).
 * Defaults from DEIF PPM 300 (Designer's handbook, table 8.9 and start attempts): crank on 5 s,
 * crank off 5 s, 3 start attempts; stop 30 s: DEIF SGC 120's default stop action time.
 */
export const GeneratorOutputSchema = z.discriminatedUnion("mode", [
  z.strictObject({ mode: z.literal("hold"), run: OutputLineSchema }),
  z.strictObject({
    mode: z.literal("pulse"),
    crank: OutputLineSchema,
    run: OutputLineSchema.optional(),
    stop: OutputLineSchema.optional(),
    crank_s: z.number().min(1).max(30).default(5),
    rest_s: z.number().min(1).max(300).default(5),
    attempts: z.int().min(1).max(10).default(3),
    stop_pulse_s: z.number().min(1).max(120).default(30),
  }),
]);
export type GeneratorOutput = z.infer<typeof GeneratorOutputSchema>;

export const SafetySchema = z.strictObject({
  /** Both contactors open this long on a transfer; default: the policy's (1000 ms). */
  transfer_dead_time_ms: z.number().min(0).max(60_000).optional(),
  /** Where the outputs go on exit, crash, SIGTERM and on a read-back mismatch. */
  safe_source: z.enum(["battery", "off"]).default("battery"),
  safe_shed_tier: z.int().min(0).max(MAX_SHED_TIER).default(0),
  /**
   * A sensor read that takes longer is invalid. 1500 ms: twice a DS18B20's 12-bit conversion
   * (750 ms max, Maxim DS18B20 datasheet, tCONV).
   */
  read_timeout_ms: z.int().min(100).max(10_000).default(1500),
  /**
   * How long a feedback contact may take to follow its output. 250 ms: over three times the
   * slowest closing of a DC-coil contactor (Schneider TeSys D LC1D09BD: 53.55–72.45 ms closing,
   * 16–24 ms opening, product data sheet).
   */
  feedback_timeout_ms: z.int().min(10).max(5000).default(250),
  /** After a read-back mismatch the safe state is held this long before a retry. */
  output_fault_retry_s: z.number().min(10).max(86_400).default(300),
});

export const PiConfigSchema = z.strictObject({
  /** The site's equipment, as announced to the backend (docs/protocol.md, Profile). */
  site: SiteProfileWireSchema.strict(),
  sensors: z.strictObject({
    battery_v: AnalogSensorSchema,
    battery_a: AnalogSensorSchema.optional(),
    load_w: AnalogSensorSchema,
    pv_w: AnalogSensorSchema.optional(),
    gen_w: AnalogSensorSchema.optional(),
    fuel_pct: AnalogSensorSchema.optional(),
    battery_temp_c: AnalogSensorSchema.optional(),
    gen_running: DigitalInputSchema.optional(),
  }),
  /** Other digital inputs, reported as events when they change: door, mains_present … */
  inputs: z.record(
    z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, "input names are 1-32 of a-z, 0-9, _"),
    DigitalInputSchema,
  ).default({}),
  outputs: z.strictObject({
    battery_contactor: OutputLineSchema,
    generator_contactor: OutputLineSchema,
    generator: GeneratorOutputSchema,
    /** Load-shed relays, tier 1 first: tier k opens relays 1..k. */
    shed: z.array(OutputLineSchema).max(MAX_SHED_TIER).default([]),
  }),
  gpio: z.strictObject({
    /** The chip's label; default: the first of PI_GPIO_LABELS present. */
    chip: z.string().min(1).max(64).optional(),
    backend: z.enum(["auto", "sysfs", "libgpiod"]).default("auto"),
  }).default({ backend: "auto" }),
  safety: SafetySchema.default(SafetySchema.parse({})),
});
export type PiConfig = z.infer<typeof PiConfigSchema>;
export type SensorKey = keyof PiConfig["sensors"];

/**
 * The header's GPIO chip on each Pi: RP1 on the Pi 5, the SoC's on the Pi 4 (BCM2711) and
 * on the Pi 1–3 and Zero (BCM2835 family).
 */
export const PI_GPIO_LABELS = ["pinctrl-rp1", "pinctrl-bcm2711", "pinctrl-bcm2835"] as const;
