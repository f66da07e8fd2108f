/**
 * A site's SoC estimate as the backend holds it for each of its sites (src/backend/site_state.ts):
 * its numbers and times in one array of doubles, which V8 keeps unboxed, the Dates built when
 * read. A plain estimate's three boxed numbers and its `Date` (96 bytes, the record's own)
 * were 240 bytes a site, where this holds about 150.
 */
import type { LowVoltageRun, SocEstimate, SocMethod } from "./soc_estimator.ts";
import { dateOrNull, orNaN, orNull } from "./held_numbers.ts";

/** Where each number sits; NaN stands for null. */
const TIME_MS = 0;
const SOC = 1;
const UNCERTAINTY = 2;
const REST_SINCE_MS = 3;
const CHARGED_SINCE_MS = 4;
const BATTERY_A = 5;

class HeldSoc implements SocEstimate {
  readonly method: SocMethod;
  readonly holding: boolean;
  readonly lowVoltage: LowVoltageRun | null;
  readonly #n: readonly number[];

  constructor(e: SocEstimate) {
    this.method = e.method;
    this.holding = e.holding;
    this.lowVoltage = e.lowVoltage;
    this.#n = [
      e.time.getTime(),
      e.socPct,
      e.uncertaintyPct,
      orNaN(e.restSince?.getTime()),
      orNaN(e.chargedSince?.getTime()),
      orNaN(e.batteryA),
    ];
  }

  get time(): Date {
    return new Date(this.#n[TIME_MS]!);
  }
  get socPct(): number {
    return this.#n[SOC]!;
  }
  get uncertaintyPct(): number {
    return this.#n[UNCERTAINTY]!;
  }
  get restSince(): Date | null {
    return dateOrNull(this.#n[REST_SINCE_MS]!);
  }
  get chargedSince(): Date | null {
    return dateOrNull(this.#n[CHARGED_SINCE_MS]!);
  }
  get batteryA(): number | null {
    return orNull(this.#n[BATTERY_A]!);
  }

  /** The estimate as plain fields (logs, the API's JSON). */
  toJSON(): SocEstimate {
    return {
      time: this.time,
      socPct: this.socPct,
      uncertaintyPct: this.uncertaintyPct,
      method: this.method,
      holding: this.holding,
      restSince: this.restSince,
      chargedSince: this.chargedSince,
      lowVoltage: this.lowVoltage,
      batteryA: this.batteryA,
    };
  }
}

/** The estimate as the backend holds a site's. */
export function heldSoc(estimate: SocEstimate): SocEstimate {
  return estimate instanceof HeldSoc ? estimate : new HeldSoc(estimate);
}
