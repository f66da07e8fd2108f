/**
 * A `Driver` over the physics simulator; simulated time moves only when `advance` is called.
 * The physics (src/core/simulator.ts) models what the outputs mean: a generator running while
 * the load is on the battery (warm-up, cool-down) runs unloaded on its no-load fuel, and the
 * charger limit of load following (`genChargeLimitW`) caps what the generator puts into the
 * battery — the same physics the backtest runs.
 */
import { MAX_SHED_TIER } from "../core/policy.ts";
import {
  initialSimState,
  type SimReadings,
  type SimSite,
  type SimState,
  step,
} from "../core/simulator.ts";
import { SOURCES } from "../core/telemetry.ts";
import { type Driver, type Outputs, SAFE_OUTPUTS, type SensorReadings } from "./driver.ts";

export interface SimDriverOptions {
  site: SimSite;
  initialSocPct: number;
  initialFuelPct: number;
  /** Simulated time of the first readings. */
  now: Date;
}

export class SimDriver implements Driver {
  readonly site: SimSite;
  #state: SimState;
  #outputs: Outputs = { ...SAFE_OUTPUTS };
  #readings: SimReadings;
  #closed = false;

  constructor(options: SimDriverOptions) {
    this.site = options.site;
    this.#state = initialSimState(options.site, {
      socPct: options.initialSocPct,
      fuelPct: options.initialFuelPct,
    });
    // A zero-length step gives the instantaneous readings without moving the state.
    const first = step(this.site, this.#state, {
      dtS: 0,
      now: options.now,
      outputs: this.#outputs,
    });
    this.#readings = first.readings;
  }

  /** The simulator's state (for the demo and tests). */
  get simState(): Readonly<SimState> {
    return this.#state;
  }

  /** The last readings including what real sensors cannot see (demand before shedding). */
  get simReadings(): Readonly<SimReadings> {
    return this.#readings;
  }

  advance(dtS: number, now: Date): Promise<void> {
    return this.#guard(() => {
      if (!(dtS >= 0) || !Number.isFinite(dtS)) {
        throw new RangeError(
          `Cannot advance the simulation: dtS must be a finite number ≥ 0, got ${dtS}`,
        );
      }
      const { state, readings } = step(this.site, this.#state, {
        dtS,
        now,
        outputs: this.#outputs,
      });
      this.#state = state;
      this.#readings = readings;
    });
  }

  readSensors(): Promise<SensorReadings> {
    return this.#guard(() => {
      const { demandW: _demandW, ...readings } = this.#readings;
      return readings;
    });
  }

  setOutputs(outputs: Outputs): Promise<void> {
    return this.#guard(() => {
      if (!SOURCES.includes(outputs.source)) {
        throw new RangeError(`Cannot set outputs: unknown source "${outputs.source}"`);
      }
      const tier = outputs.shedTier;
      if (!Number.isInteger(tier) || tier < 0 || tier > MAX_SHED_TIER) {
        throw new RangeError(
          `Cannot set outputs: shedTier must be an integer 0..${MAX_SHED_TIER}, got ${tier}`,
        );
      }
      const limit = outputs.genChargeLimitW;
      if (limit !== undefined && limit !== null && !(limit >= 0 && Number.isFinite(limit))) {
        throw new RangeError(
          `Cannot set outputs: genChargeLimitW must be a number of W ≥ 0 or null, got ${limit}`,
        );
      }
      this.#outputs = { ...outputs };
    });
  }

  readOutputs(): Promise<Outputs> {
    return this.#guard(() => ({ ...this.#outputs }));
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  /** Fault injection: refill or drain the tank. */
  setFuelPct(fuelPct: number): void {
    if (!(fuelPct >= 0 && fuelPct <= 100)) {
      throw new RangeError(`Cannot set fuel: fuelPct must be 0..100, got ${fuelPct}`);
    }
    this.#state = { ...this.#state, fuelL: this.site.profile.tankL * fuelPct / 100 };
  }

  /** Fault injection: a failed generator ignores its run signal. */
  setGeneratorFailed(failed: boolean): void {
    this.#state = { ...this.#state, genFailed: failed };
  }

  /** Runs `fn` unless closed; errors become a rejected promise, as from real I/O. */
  #guard<T>(fn: () => T): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new Error("Cannot use the simulated driver: it is closed"));
    }
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
