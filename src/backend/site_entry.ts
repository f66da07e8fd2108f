/**
 * One site's state as SiteStates holds it (site_state.ts), a hundred thousand at once: the
 * planner's numbers (what the advice was computed from, when, the last command's envelope) sit
 * in one array of doubles, which V8 keeps unboxed. As fields and two small objects of their own,
 * each of those numbers was a 16-byte box: 464 bytes a site, where this holds about 280.
 */
import type { Advice } from "../core/advice.ts";
import type { LoadProfileState } from "../core/load_forecast.ts";
import type { SiteProfile } from "../core/site_profile.ts";
import type { SocEstimate } from "../core/soc_estimator.ts";
import type { Source, TelemetryRecord } from "../core/telemetry.ts";
import type { SiteStatus } from "../db/store.ts";
import type { AdviceBasis, FuelKnowledge, SentCommand, SiteState } from "./site_state.ts";
import { orNaN, orNull } from "../core/held_numbers.ts";

/** Where each number sits; NaN stands for null. */
const ADVISED_AT_MS = 0;
const ADVISED_SOC = 1;
const ADVISED_FUEL = 2;
const ADVISED_SHED = 3;
const ADVISED_WALL_MS = 4;
const SENT_WALL_MS = 5;
const FUEL_TRIED_MS = 6;
const COMMAND_SEQ = 7;
const COMMAND_ISSUED_MS = 8;
const COMMAND_VALID_MS = 9;
const LAST_SEQ = 10;

export class SiteEntry implements SiteState {
  siteId: string;
  protocol: "v1" | "legacy";
  status: SiteStatus;
  storedProfile: SiteProfile | null = null;
  latest: TelemetryRecord | null = null;
  topicSiteId: string;
  soc: SocEstimate | null = null;
  loadProfile: LoadProfileState | null = null;
  fuel: FuelKnowledge | null = null;
  advice: Advice | null = null;
  sentAdvice: Advice | null = null;
  /** The parts of `advisedOn` that are not numbers. */
  #advisedSource: Source = "battery";
  #advisedGenRunning = false;
  #advisedProfile: SiteProfile | null = null;
  // A literal of NaNs is a packed double array; only numbers are ever stored in it.
  readonly #n: number[] = [NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN];

  constructor(siteId: string, protocol: "v1" | "legacy", status: SiteStatus) {
    this.siteId = siteId;
    this.protocol = protocol;
    this.status = status;
    this.topicSiteId = siteId;
  }

  get advisedOn(): AdviceBasis | null {
    const n = this.#n;
    if (Number.isNaN(n[ADVISED_AT_MS]!)) return null;
    return {
      atMs: n[ADVISED_AT_MS]!,
      socPct: n[ADVISED_SOC]!,
      fuelPct: orNull(n[ADVISED_FUEL]!),
      source: this.#advisedSource,
      genRunning: this.#advisedGenRunning,
      shedTier: orNull(n[ADVISED_SHED]!),
      storedProfile: this.#advisedProfile,
    };
  }
  set advisedOn(b: AdviceBasis | null) {
    const n = this.#n;
    n[ADVISED_AT_MS] = b === null ? NaN : b.atMs;
    n[ADVISED_SOC] = b === null ? NaN : b.socPct;
    n[ADVISED_FUEL] = orNaN(b?.fuelPct ?? null);
    n[ADVISED_SHED] = orNaN(b?.shedTier ?? null);
    this.#advisedSource = b?.source ?? "battery";
    this.#advisedGenRunning = b?.genRunning ?? false;
    this.#advisedProfile = b?.storedProfile ?? null;
  }

  get lastCommand(): SentCommand | null {
    const n = this.#n;
    if (Number.isNaN(n[COMMAND_SEQ]!)) return null;
    return {
      seq: n[COMMAND_SEQ]!,
      issuedAtMs: n[COMMAND_ISSUED_MS]!,
      validUntilMs: n[COMMAND_VALID_MS]!,
    };
  }
  set lastCommand(c: SentCommand | null) {
    const n = this.#n;
    n[COMMAND_SEQ] = c === null ? NaN : c.seq;
    n[COMMAND_ISSUED_MS] = c === null ? NaN : c.issuedAtMs;
    n[COMMAND_VALID_MS] = c === null ? NaN : c.validUntilMs;
  }

  get lastSeq(): number | null {
    return orNull(this.#n[LAST_SEQ]!);
  }
  set lastSeq(v: number | null) {
    this.#n[LAST_SEQ] = orNaN(v);
  }
  get advisedAtWallMs(): number | null {
    return orNull(this.#n[ADVISED_WALL_MS]!);
  }
  set advisedAtWallMs(v: number | null) {
    this.#n[ADVISED_WALL_MS] = orNaN(v);
  }
  get sentAtWallMs(): number | null {
    return orNull(this.#n[SENT_WALL_MS]!);
  }
  set sentAtWallMs(v: number | null) {
    this.#n[SENT_WALL_MS] = orNaN(v);
  }
  get fuelTriedAtMs(): number | null {
    return orNull(this.#n[FUEL_TRIED_MS]!);
  }
  set fuelTriedAtMs(v: number | null) {
    this.#n[FUEL_TRIED_MS] = orNaN(v);
  }
}
