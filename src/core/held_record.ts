/**
 * A site's newest telemetry record as the backend holds it for each of its sites (a hundred
 * thousand at once, src/backend/site_state.ts): the record's numbers in one array of doubles,
 * which V8 keeps unboxed. As a decoded record's fields, every number that is not a small integer
 * is a 16-byte object of its own, and its `Date` 96 bytes: 408 bytes a record, where this holds
 * about 210.
 */
import type { Source, TelemetryRecord } from "./telemetry.ts";
import { orNaN, orNull } from "./held_numbers.ts";

/** Where each number sits; NaN stands for null. */
const TIME_MS = 10;
const BATTERY_V = 0;
const BATTERY_A = 1;
const SOC = 2;
const BATTERY_TEMP = 3;
const LOAD_W = 4;
const PV_W = 5;
const GEN_W = 6;
const FUEL = 7;
const SHED_TIER = 8;
const SEQ = 9;

class HeldRecord implements TelemetryRecord {
  readonly siteId: string;
  readonly protocol: "v1" | "legacy";
  readonly source: Source;
  readonly genRunning: boolean;
  readonly clockRestamped: boolean;
  readonly #n: readonly number[];

  constructor(r: TelemetryRecord) {
    this.siteId = r.siteId;
    this.protocol = r.protocol;
    this.source = r.source;
    this.genRunning = r.genRunning;
    this.clockRestamped = r.clockRestamped;
    this.#n = [
      r.batteryV,
      orNaN(r.batteryA),
      orNaN(r.socPct),
      orNaN(r.batteryTempC),
      r.loadW,
      orNaN(r.pvW),
      orNaN(r.genW),
      orNaN(r.fuelPct),
      orNaN(r.shedTier),
      orNaN(r.seq),
      r.time.getTime(),
    ];
  }

  /** Built when read: a `Date` is 96 bytes, held for each site. */
  get time(): Date {
    return new Date(this.#n[TIME_MS]!);
  }
  get batteryV(): number {
    return this.#n[BATTERY_V]!;
  }
  get batteryA(): number | null {
    return orNull(this.#n[BATTERY_A]!);
  }
  get socPct(): number | null {
    return orNull(this.#n[SOC]!);
  }
  get batteryTempC(): number | null {
    return orNull(this.#n[BATTERY_TEMP]!);
  }
  get loadW(): number {
    return this.#n[LOAD_W]!;
  }
  get pvW(): number | null {
    return orNull(this.#n[PV_W]!);
  }
  get genW(): number | null {
    return orNull(this.#n[GEN_W]!);
  }
  get fuelPct(): number | null {
    return orNull(this.#n[FUEL]!);
  }
  get shedTier(): number | null {
    return orNull(this.#n[SHED_TIER]!);
  }
  get seq(): number | null {
    return orNull(this.#n[SEQ]!);
  }

  /** The record as plain fields, in the order a decoded one has them (the API's JSON). */
  toJSON(): TelemetryRecord {
    return plainRecord(this);
  }
}

/** A record's fields as a plain object. */
export function plainRecord(r: TelemetryRecord): TelemetryRecord {
  return {
    siteId: r.siteId,
    time: r.time,
    protocol: r.protocol,
    source: r.source,
    batteryV: r.batteryV,
    batteryA: r.batteryA,
    socPct: r.socPct,
    batteryTempC: r.batteryTempC,
    loadW: r.loadW,
    pvW: r.pvW,
    genRunning: r.genRunning,
    genW: r.genW,
    fuelPct: r.fuelPct,
    shedTier: r.shedTier,
    seq: r.seq,
    clockRestamped: r.clockRestamped,
  };
}

/** The record as the backend holds a site's newest one. */
export function heldRecord(record: TelemetryRecord): TelemetryRecord {
  return record instanceof HeldRecord ? record : new HeldRecord(record);
}
