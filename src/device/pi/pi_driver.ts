/**
 * `Driver` for a Raspberry Pi wired to the site: sensors through sysfs (IIO ADCs, hwmon power
 * monitors, DS18B20), digital inputs and relay outputs through GPIO (sysfs, else libgpiod). No
 * native code: files and, for libgpiod, its command-line tools.
 *
 * Safety at this layer, below the agent's break-before-make (src/device/switch_outputs.ts):
 * - One setOutputs opens what must open before it closes anything, and never closes a contactor
 *   while the other reads closed or before the other has been open the dead time, whoever calls
 *   it: a second interlock after the agent's, in case a caller skips the "off" step.
 * - readOutputs reads every line back (pin and feedback contact) and reports any disagreement as
 *   a fault, so the agent alarms and goes to the safe state.
 * - A sensor that cannot be read is listed invalid with the reason and reads null, never 0.
 * The charger limit of load following (`genChargeLimitW`) has no line here and is not applied.
 */
import type { Logger } from "../../core/log.ts";
import { MAX_SHED_TIER } from "../../core/policy.ts";
import { SOURCES } from "../../core/telemetry.ts";
import type {
  Driver,
  Outputs,
  OutputsReadBack,
  SensorFault,
  SensorName,
  SensorReadings,
} from "../driver.ts";
import { AnalogSensorReader } from "./analog_sensor.ts";
import type { DigitalInput, PiConfig, SensorKey } from "./config.ts";
import { GeneratorStarter } from "./generator_starter.ts";
import { type GpioBackend, openGpio } from "./gpio.ts";
import { OutputLine } from "./output_line.ts";
import { Sysfs } from "./sysfs.ts";

export interface PiDriverOptions {
  config: PiConfig;
  /** The directory standing for "/" (tests: a fake sysfs tree). Default "/". */
  root?: string;
  /** Both contactors stay open at least this long between sources (ms). */
  deadTimeMs: number;
  /** The environment of the libgpiod tools (tests put fakes on PATH). */
  gpioEnv?: Record<string, string>;
  /** A GPIO backend already open (tests wrap one to record the writes); default: openGpio. */
  gpio?: GpioBackend;
  log?: Logger;
  nowMs?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const SENSOR_FIELDS: Record<Exclude<SensorKey, "gen_running">, SensorName> = {
  battery_v: "batteryV",
  battery_a: "batteryA",
  load_w: "loadW",
  pv_w: "pvW",
  gen_w: "genW",
  fuel_pct: "fuelPct",
  battery_temp_c: "batteryTempC",
};

export class PiDriver implements Driver {
  readonly config: PiConfig;
  readonly gpio: GpioBackend;
  readonly safeOutputs: Readonly<Outputs>;
  readonly #o: PiDriverOptions;
  readonly #nowMs: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #analog: AnalogSensorReader[];
  readonly #battery: OutputLine;
  readonly #generator: OutputLine;
  readonly #run: OutputLine | null;
  readonly #shed: OutputLine[];
  readonly #starter: GeneratorStarter | null;
  readonly #lineExtras: OutputLine[];
  #tail: Promise<unknown> = Promise.resolve();
  #shedTier = 0;
  #interlock: string | null = null;
  #closed = false;

  private constructor(options: PiDriverOptions, gpio: GpioBackend, sysfs: Sysfs) {
    const { config } = options;
    this.config = config;
    this.gpio = gpio;
    this.#o = options;
    this.#nowMs = options.nowMs ?? (() => performance.now());
    this.#sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.safeOutputs = Object.freeze({
      source: config.safety.safe_source,
      genRun: false,
      shedTier: config.safety.safe_shed_tier,
    });
    this.#analog = Object.entries(config.sensors).flatMap(([key, s]) =>
      key === "gen_running" || s === undefined ? [] : [
        new AnalogSensorReader(key as SensorKey, s as Exclude<typeof s, DigitalInput>, {
          sysfs,
          nominalV: config.site.nominal_v,
          nowMs: this.#nowMs,
        }),
      ]
    );
    const line = (
      key: string,
      c: PiConfig["outputs"]["battery_contactor"],
      words?: [string, string],
    ) =>
      new OutputLine(key, c, {
        gpio,
        words,
        feedbackTimeoutMs: config.safety.feedback_timeout_ms,
        nowMs: this.#nowMs,
        sleep: this.#sleep,
      });
    const contactor: [string, string] = ["open", "closed"];
    this.#battery = line("outputs.battery_contactor", config.outputs.battery_contactor, contactor);
    this.#generator = line(
      "outputs.generator_contactor",
      config.outputs.generator_contactor,
      contactor,
    );
    this.#shed = config.outputs.shed.map((c, i) =>
      line(`outputs.shed.${i}`, c, ["closed", "open"])
    );
    const g = config.outputs.generator;
    this.#run = g.run ? line("outputs.generator.run", g.run, ["off", "on"]) : null;
    this.#lineExtras = [];
    if (g.mode === "pulse") {
      const crank = line("outputs.generator.crank", g.crank, ["off", "on"]);
      const stop = g.stop ? line("outputs.generator.stop", g.stop, ["off", "on"]) : undefined;
      this.#lineExtras.push(crank, ...(stop ? [stop] : []));
      this.#starter = new GeneratorStarter(g, { crank, run: this.#run ?? undefined, stop }, {
        running: () => this.#readGenRunning().then((r) => r.ok ? r.value : null),
        exclusive: (fn) => this.#exclusive(fn),
        nowMs: this.#nowMs,
        sleep: this.#sleep,
        log: options.log,
      });
    } else {
      this.#starter = null;
    }
  }

  /** Opens the GPIO chip and claims every line; outputs already driven keep their level. */
  static async open(options: PiDriverOptions): Promise<PiDriver> {
    const { config } = options;
    const sysfs = new Sysfs(options.root ?? "/", { timeoutMs: config.safety.read_timeout_ms });
    const gpio = options.gpio ?? await openGpio({
      sysfs,
      backend: config.gpio.backend,
      label: config.gpio.chip,
      env: options.gpioEnv,
    });
    const driver = new PiDriver(options, gpio, sysfs);
    try {
      await driver.#setup();
    } catch (error) {
      await gpio.close();
      throw error;
    }
    return driver;
  }

  async #setup(): Promise<void> {
    const inputs = [
      ...(this.config.sensors.gen_running ? [this.config.sensors.gen_running] : []),
      ...Object.values(this.config.inputs),
    ];
    for (const input of inputs) await this.gpio.setupInput(input.line);
    for (const l of this.#outputLines()) await l.setup();
    this.#shedTier = this.#shed.findIndex((l) => !l.expected);
    if (this.#shedTier === -1) this.#shedTier = this.#shed.length;
  }

  #outputLines(): OutputLine[] {
    return [
      this.#battery,
      this.#generator,
      ...(this.#run ? [this.#run] : []),
      ...this.#lineExtras,
      ...this.#shed,
    ];
  }

  async readSensors(): Promise<SensorReadings> {
    this.#checkOpen();
    const readings: SensorReadings = {
      batteryV: null,
      batteryA: null,
      socPct: null, // no BMS link on this driver: SoC is estimated
      loadW: null,
      pvW: null,
      genRunning: this.config.sensors.gen_running ? null : false,
      genW: null,
      fuelPct: null,
      batteryTempC: null,
    };
    const invalid: SensorFault[] = [];
    const [analog, running, inputs] = await Promise.all([
      Promise.all(this.#analog.map((s) => s.read())),
      this.config.sensors.gen_running ? this.#readGenRunning() : Promise.resolve(null),
      Promise.all(
        Object.entries(this.config.inputs).map(async ([name, input]) => {
          const r = await this.#readInput(input);
          return [name, r.ok ? r.value : null] as const;
        }),
      ),
    ]);
    analog.forEach((r, i) => {
      const field = SENSOR_FIELDS[this.#analog[i]!.key as keyof typeof SENSOR_FIELDS];
      if (r.ok) (readings as unknown as Record<string, number>)[field] = r.value;
      else invalid.push({ sensor: field, reason: r.reason });
    });
    if (running) {
      if (running.ok) readings.genRunning = running.value;
      else invalid.push({ sensor: "genRunning", reason: running.reason });
    }
    if (invalid.length > 0) readings.invalid = invalid;
    if (inputs.length > 0) readings.inputs = Object.fromEntries(inputs);
    return readings;
  }

  async setOutputs(outputs: Outputs): Promise<void> {
    this.#checkOpen();
    if (!SOURCES.includes(outputs.source)) {
      throw new RangeError(`Cannot set outputs: unknown source "${outputs.source}"`);
    }
    const tier = outputs.shedTier;
    if (!Number.isInteger(tier) || tier < 0 || tier > MAX_SHED_TIER) {
      throw new RangeError(
        `Cannot set outputs: shedTier must be an integer 0..${MAX_SHED_TIER}, got ${tier}`,
      );
    }
    await this.#exclusive(async () => {
      const toBattery = outputs.source === "battery";
      const toGenerator = outputs.source === "generator";
      // Break first: whatever must open opens before anything closes.
      if (!toBattery) await this.#battery.set(false);
      if (!toGenerator) await this.#generator.set(false);
      for (const [i, l] of this.#shed.entries()) await l.set(i < tier);
      this.#shedTier = tier;
      if (this.#run && !this.#starter) await this.#run.set(outputs.genRun);
      this.#interlock = null;
      if (toBattery) await this.#make(this.#battery, this.#generator);
      if (toGenerator) await this.#make(this.#generator, this.#battery);
    });
    this.#starter?.request(outputs.genRun);
  }

  /** Closes `line` only once `other` reads open and has been open the dead time. */
  async #make(line: OutputLine, other: OutputLine): Promise<void> {
    if (line.expected) return;
    const back = await other.readBack();
    if (other.expected || back.active) {
      this.#interlock = `interlock: ${line.key} not closed because ${other.key} reads closed`;
      this.#o.log?.error(this.#interlock);
      return;
    }
    const waitMs = other.inactiveSinceMs + this.#o.deadTimeMs - this.#nowMs();
    if (waitMs > 0) await this.#sleep(waitMs);
    await line.set(true);
  }

  async readOutputs(): Promise<OutputsReadBack> {
    this.#checkOpen();
    return await this.#exclusive(async () => {
      const faults: string[] = [];
      const back = async (l: OutputLine) => {
        const r = await l.readBack();
        if (r.fault) faults.push(r.fault);
        return r.active;
      };
      const battery = await back(this.#battery);
      const generator = await back(this.#generator);
      let source: Outputs["source"] = generator ? "generator" : battery ? "battery" : "off";
      if (battery && generator) {
        faults.push("battery and generator contactors both read closed");
        source = "generator";
      }
      let genRun: boolean;
      if (this.#starter) {
        // Pulse mode: genRun is the request; every line of the sequence is read back.
        for (const l of [...this.#lineExtras, ...(this.#run ? [this.#run] : [])]) await back(l);
        genRun = this.#starter.requested;
      } else {
        genRun = await back(this.#run!);
      }
      const shed: boolean[] = [];
      for (const l of this.#shed) shed.push(await back(l));
      let shedTier = shed.findIndex((open) => !open);
      if (shedTier === -1) shedTier = shed.length;
      if (shed.slice(shedTier).some((open) => open)) {
        faults.push(`shed relays read ${shed.map((o) => (o ? 1 : 0)).join("")}: not a tier`);
      }
      // Tiers above the relays fitted all look alike (every relay open): the one commanded.
      if (shedTier === this.#shed.length && this.#shedTier > shedTier) shedTier = this.#shedTier;
      if (this.#interlock) faults.push(this.#interlock);
      return { source, genRun, shedTier, fault: faults.length > 0 ? faults.join("; ") : null };
    });
  }

  /** The pulse-mode starter's state, for probe and tests; null in hold mode. */
  get starter(): GeneratorStarter | null {
    return this.#starter;
  }

  /** Stops any crank sequence; the lines keep their levels (the agent set the safe state). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#starter?.close();
    await this.gpio.close();
  }

  #readGenRunning(): Promise<{ ok: true; value: boolean } | { ok: false; reason: string }> {
    return this.#readInput(this.config.sensors.gen_running!);
  }

  async #readInput(
    input: DigitalInput,
  ): Promise<{ ok: true; value: boolean } | { ok: false; reason: string }> {
    try {
      return { ok: true, value: (await this.gpio.read(input.line)) !== input.active_low };
    } catch (error) {
      return { ok: false, reason: `GPIO ${input.line}: ${(error as Error).message}` };
    }
  }

  /** Line writes and read-backs one at a time, so a read-back never sees half a change. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => {});
    return result;
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error("Cannot use the Pi driver: it is closed");
  }
}
