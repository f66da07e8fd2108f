/**
 * What the backend keeps in memory per site: protocol, profile, newest record, SoC estimate, load
 * profile, last advice and command. Rebuilt from the database at start, then updated after each committed
 * batch; the database stays the truth, this is a cache for planning and the live view.
 */
import { type Advice, commandFromAdvice } from "../core/advice.ts";
import type { StrategicCommand } from "../core/command.ts";
import type { FuelLearning } from "../core/fuel_learning.ts";
import type { FuelCurve } from "../core/generator.ts";
import type { Prediction } from "../core/prediction.ts";
import { legacySiteProfile, type SiteProfile } from "../core/site_profile.ts";
import { heldRecord } from "../core/held_record.ts";
import { heldLoadProfile } from "../core/held_load_profile.ts";
import { heldSoc } from "../core/held_soc.ts";
import { SiteEntry } from "./site_entry.ts";
import type { TelemetryRecord } from "../core/telemetry.ts";
import { type LoadProfileState, newLoadProfile, updateLoadProfile } from "../core/load_forecast.ts";
import { learnsLoad, socSampleOf } from "../core/site_learning.ts";
import { utcOffsetMin } from "../core/site_time.ts";
import { type SocEstimate, updateSocEstimate } from "../core/soc_estimator.ts";
import type { SiteSnapshot, SiteStatus } from "../db/store.ts";

export interface SiteStatesOptions {
  /** Called the first time a site is seen; never for the sites rebuilt from the database. */
  onNewSite?: (
    site: { siteId: string; protocol: "v1" | "legacy"; seenIn: "telemetry" | "status" | "profile" },
  ) => void;
}

/**
 * Profile assumed for a v1 site until an operator saves its own: a single-tenant telecom tower's
 * −48 V DC plant on a 48 V 200 Ah LiFePO4 bank (48 V · 200 Ah = 9.6 kWh), a 10 kW generator and a
 * 200 L day tank. Reserve 20 %: the 80 % depth of discharge LiFePO4 makers rate cycle life at.
 * Location 0°, 0° means "unknown": the planner asks no forecast for it.
 */
export function defaultV1Profile(siteId: string): SiteProfile {
  return {
    siteId,
    chemistry: "lifepo4",
    nominalV: 48,
    capacityWh: 9600,
    reserveSocPct: 20,
    tankL: 200,
    generatorRatedKw: 10,
    pvKwp: 0,
    latitude: 0,
    longitude: 0,
    timeZone: "UTC",
  };
}

/** Whether a profile carries a real location (0°, 0° is the "not set" of the defaults). */
export function hasLocation(profile: SiteProfile): boolean {
  return profile.latitude !== 0 || profile.longitude !== 0;
}

export interface SiteState {
  siteId: string;
  protocol: "v1" | "legacy";
  status: SiteStatus;
  /** The operator's saved profile, or null when the default for the protocol applies. */
  storedProfile: SiteProfile | null;
  /** The newest record, as held_record.ts holds it (its numbers unboxed). */
  latest: TelemetryRecord | null;
  /** Where a first-generation device listens: its topic's spelling of the site id. */
  topicSiteId: string;
  /**
   * The site's SoC as the backend reads it: the reported one (BMS or the device's own count),
   * else estimated from the voltage stream (first-generation sites), with its band.
   */
  soc: SocEstimate | null;
  /** Hour-of-day and hour-of-week load profile, learned from the site's telemetry. */
  loadProfile: LoadProfileState | null;
  /** The site's own fuel curve, learned from its gauge history; null until first learned. */
  fuel: FuelKnowledge | null;
  /** Advice from the newest telemetry, sent or not. */
  advice: Advice | null;
  /** Advice in the last command sent (null after a restart: the next one is sent at once). */
  sentAdvice: Advice | null;
  /** The envelope of the last command sent; with `sentAdvice` it is the whole command. */
  lastCommand: SentCommand | null;
  /** Highest command seq stored for the site, so seq keeps rising across restarts. */
  lastSeq: number | null;
  /**
   * The planner's notes (planner.ts), here rather than in maps of its own (a map entry is some
   * 50 bytes a site): what `advice` was computed from and when on the wall clock, when the last
   * command went out on the wall clock, and when the fuel history was last read. SiteEntry
   * (site_entry.ts) holds these numbers unboxed and builds the two objects when read.
   */
  advisedOn: AdviceBasis | null;
  advisedAtWallMs: number | null;
  sentAtWallMs: number | null;
  fuelTriedAtMs: number | null;
}

/** What a site's newest advice was computed from (planner.ts `basisHolds`). */
export interface AdviceBasis {
  atMs: number;
  socPct: number;
  fuelPct: number | null;
  source: TelemetryRecord["source"];
  genRunning: boolean;
  shedTier: number | null;
  /** The operator's or announced profile (its identity changes when it is replaced). */
  storedProfile: SiteProfile | null;
}

/**
 * The last command's envelope, as plain numbers: the command itself is `commandFromAdvice` of
 * the sent advice and this (two Dates and the command object were 420 bytes a site).
 */
export interface SentCommand {
  seq: number;
  issuedAtMs: number;
  validUntilMs: number;
}

/** What the backend last learned of a site's fuel use (src/core/fuel_learning.ts). */
export interface FuelKnowledge {
  curve: FuelCurve;
  method: FuelLearning["method"];
  /** Learned ÷ default litres: 2 means the set burns twice what the default curve says. */
  scale: number;
  reason: string;
  learnedAt: Date;
  /** End of the newest anomaly already reported, so each is logged once. */
  anomaliesSeenUntil: Date | null;
}

/** The row of the demo's live table. */
export interface SiteView {
  siteId: string;
  protocol: "v1" | "legacy";
  status: SiteStatus;
  latest: TelemetryRecord | null;
  prediction: Prediction | null;
  lastCommand: StrategicCommand | null;
  fuel: FuelKnowledge | null;
}

export function profileOf(state: SiteState): SiteProfile {
  if (state.storedProfile) return state.storedProfile;
  return state.protocol === "legacy"
    ? legacySiteProfile(state.siteId)
    : defaultV1Profile(state.siteId);
}

/**
 * Feeds one newer record to the site's SoC estimate and load profile. The load is learned only
 * while nothing is shed and the bus is live: a shed or dark site's load is not what it needs.
 * A record the estimator refuses (a 0 V reading) leaves the estimate as it was.
 */
function learn(state: SiteState, record: TelemetryRecord): void {
  const profile = profileOf(state);
  try {
    state.soc = heldSoc(updateSocEstimate(state.soc, socSampleOf(record), { profile }));
  } catch {
    // Kept: the previous estimate (or none) says more than a reading the estimator refuses.
  }
  if (!learnsLoad(record)) return;
  state.loadProfile ??= newLoadProfile({ utcOffsetMin: offsetOrUtc(record.time, profile) });
  state.loadProfile = heldLoadProfile(updateLoadProfile(state.loadProfile, {
    time: record.time,
    loadW: record.loadW,
  }));
}

/** The profile's UTC offset; 0 for a time zone the runtime does not know. */
function offsetOrUtc(time: Date, profile: SiteProfile): number {
  try {
    return utcOffsetMin(time, profile.timeZone);
  } catch {
    return 0;
  }
}

export class SiteStates {
  readonly #sites = new Map<string, SiteState>();
  readonly #o: SiteStatesOptions;

  constructor(options: SiteStatesOptions = {}) {
    this.#o = options;
  }

  static fromSnapshots(snapshots: SiteSnapshot[], options: SiteStatesOptions = {}): SiteStates {
    const states = new SiteStates(options);
    for (const s of snapshots) {
      const state = new SiteEntry(s.siteId, s.protocol, s.status);
      state.storedProfile = s.profile;
      state.latest = s.latest && heldRecord(s.latest);
      state.lastSeq = s.lastCommandSeq;
      states.#sites.set(s.siteId, state);
    }
    return states;
  }

  get(siteId: string): SiteState | undefined {
    return this.#sites.get(siteId);
  }

  #ensure(
    siteId: string,
    protocol: "v1" | "legacy",
    seenIn: "telemetry" | "status" | "profile",
  ): SiteState {
    let state = this.#sites.get(siteId);
    if (!state) {
      state = new SiteEntry(siteId, protocol, "unknown");
      this.#sites.set(siteId, state);
      this.#o.onNewSite?.({ siteId, protocol, seenIn });
    }
    return state;
  }

  /**
   * Takes committed records in arrival order. A record older than the site's newest (a late or
   * redelivered one) is stored in the database but changes nothing here. Returns the sites
   * whose newest record changed.
   */
  observe(records: TelemetryRecord[], topicSiteIds: string[]): Set<string> {
    const touched = new Set<string>();
    records.forEach((record, i) => {
      const state = this.#ensure(record.siteId, record.protocol, "telemetry");
      state.protocol = record.protocol;
      // One copy of the id per site: each decoded message brings its own equal strings.
      record.siteId = state.siteId;
      const topicSiteId = topicSiteIds[i] ?? state.siteId;
      state.topicSiteId = topicSiteId === state.siteId ? state.siteId : topicSiteId;
      const prev = state.latest;
      if (prev && record.time.getTime() <= prev.time.getTime()) return;
      state.latest = heldRecord(record);
      learn(state, record);
      touched.add(record.siteId);
    });
    return touched;
  }

  /** A profile the site announced (or an operator saved) replaces the assumed one. */
  setProfile(profile: SiteProfile): void {
    const state = this.#ensure(profile.siteId, "v1", "profile");
    state.storedProfile = { ...profile, siteId: state.siteId };
  }

  setStatus(siteId: string, status: "online" | "offline"): void {
    this.#ensure(siteId, "v1", "status").status = status;
  }

  /** Sites known, by status, without building a view of each (metrics read it at every scrape). */
  statusCounts(): Map<SiteStatus, number> {
    const counts = new Map<SiteStatus, number>();
    for (const s of this.#sites.values()) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
    return counts;
  }

  get size(): number {
    return this.#sites.size;
  }

  /**
   * Every site's view, or only those in `ids`, in site id order. A view rebuilds the last
   * command (its reason text too): the live stream asks only for the sites that changed.
   */
  views(ids?: Iterable<string>): SiteView[] {
    const states = ids === undefined
      ? [...this.#sites.values()]
      : [...ids].flatMap((id) => this.#sites.get(id) ?? []);
    return states
      .sort((a, b) => a.siteId.localeCompare(b.siteId))
      .map((s) => ({
        siteId: s.siteId,
        protocol: s.protocol,
        status: s.status,
        latest: s.latest,
        prediction: s.advice?.prediction ?? null,
        lastCommand: s.lastCommand && s.sentAdvice
          ? commandFromAdvice(s.sentAdvice, {
            siteId: s.siteId,
            seq: s.lastCommand.seq,
            issuedAt: new Date(s.lastCommand.issuedAtMs),
            validUntil: new Date(s.lastCommand.validUntilMs),
          })
          : null,
        fuel: s.fuel,
      }));
  }
}
