/**
 * The planner: after each committed batch, new advice for every site whose telemetry moved on,
 * and a command when the advice changed or the command interval is up. A command is stored
 * (insertCommand, which also makes its seq durable) before it is published, so seq keeps rising
 * across restarts and every command sent is on record.
 */
import { setImmediate } from "node:timers";
import type mqtt from "mqtt";
import type postgres from "postgres";
import { type Advice, adviceChanged, commandFromAdvice, computeAdvice } from "../core/advice.ts";
import { heldAdvice } from "../core/held_advice.ts";
import {
  commandValidityMs,
  encodeCommandV1,
  encodeLegacyCommand,
  type StrategicCommand,
} from "../core/command.ts";
import type { Logger } from "../core/log.ts";
import { legacyCommandTopic, v1Topic } from "../core/topics.ts";
import { unknownWeather } from "../core/weather.ts";
import { loadForecaster, newLoadProfile } from "../core/load_forecast.ts";
import { pvForecastFor } from "../core/outlook.ts";
import type { SiteProfile } from "../core/site_profile.ts";
import { readsVoltage, type SocEstimate, updateSocEstimate } from "../core/soc_estimator.ts";
import { socSampleOf } from "../core/site_learning.ts";
import type { TelemetryRecord } from "../core/telemetry.ts";
import { insertCommand } from "../db/store.ts";
import {
  type AdviceBasis,
  hasLocation,
  profileOf,
  type SiteState,
  type SiteStates,
} from "./site_state.ts";

export type { AdviceBasis };
import { learnFuelCurve } from "../core/fuel_learning.ts";
import { loadFuelHistory } from "../db/fuel_history.ts";
import type { WeatherProvider } from "./weather_provider.ts";

/** The least time between two commands to one site when the advice changes early. */
export const MIN_EARLY_COMMAND_GAP_MS = 5000;

/**
 * A site's fuel curve is learned again this often, from this much history: a fortnight holds
 * the learner's 20 running hours at a site that runs its generator 1.5 h a day, and a curve
 * moves with maintenance (filters, injectors) over weeks, not hours.
 */
export const FUEL_RELEARN_MS = 6 * 3600_000;
export const FUEL_HISTORY_MS = 14 * 24 * 3600_000;

export interface PlannerOptions {
  sql: postgres.Sql;
  mqtt: mqtt.MqttClient;
  sites: SiteStates;
  weather: WeatherProvider;
  log: Logger;
  commandIntervalS: number;
  now: () => Date;
  /** Real time in ms, for the least gap between two early commands (a link budget). */
  wallClockMs: () => number;
  onCommandSent: (command: StrategicCommand) => void;
}

export class Planner {
  readonly #o: PlannerOptions;
  /** Sites being planned now; a site asked for again meanwhile is planned once more after. */
  readonly #running = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  /** Settles when the forward forecast now computing (or waiting its turn) is done. */
  #computing: Promise<unknown> = Promise.resolve();

  constructor(options: PlannerOptions) {
    this.#o = options;
  }

  /** Plans each site in the background; never throws. */
  schedule(siteIds: Iterable<string>): void {
    for (const siteId of siteIds) {
      if (this.#running.has(siteId)) {
        this.#again.add(siteId);
        continue;
      }
      const run = this.#planSafely(siteId).finally(() => {
        this.#running.delete(siteId);
        if (this.#again.delete(siteId)) this.schedule([siteId]);
      });
      this.#running.set(siteId, run);
    }
  }

  /** Sites being planned or waiting their turn for a forward forecast, and asked for again. */
  get backlog(): number {
    return this.#running.size + this.#again.size;
  }

  /** Resolves when no plan is running. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) {
      await Promise.all([...this.#running.values()]);
    }
  }

  async #planSafely(siteId: string): Promise<void> {
    try {
      await this.#plan(siteId);
    } catch (error) {
      this.#o.log.error("planning failed", { siteId, error });
    }
  }

  /**
   * Learns the site's fuel curve from its gauge history when it has a generator and a fuel
   * level, at most every FUEL_RELEARN_MS; reports each fuel drop with the generator off once.
   */
  async #learnFuel(state: SiteState, profile: SiteProfile, now: Date): Promise<void> {
    if (profile.generatorRatedKw <= 0 || state.latest?.fuelPct === null) return;
    const last = state.fuelTriedAtMs ?? -Infinity;
    if (now.getTime() - last < FUEL_RELEARN_MS) return;
    // Taken before the query, so a failing database is asked again only after the interval.
    state.fuelTriedAtMs = now.getTime();
    let samples;
    try {
      samples = await loadFuelHistory(this.#o.sql, state.siteId, {
        since: new Date(now.getTime() - FUEL_HISTORY_MS),
        until: now,
      });
    } catch (error) {
      // The plan goes on with the curve it had; the next plan after the interval tries again.
      this.#o.log.warn("could not read the fuel history; planning with the curve known", {
        siteId: state.siteId,
        error,
      });
      return;
    }
    const learning = learnFuelCurve(samples, {
      ratedKw: profile.generatorRatedKw,
      tankL: profile.tankL,
    });
    const seenUntil = state.fuel?.anomaliesSeenUntil ?? null;
    const fresh = learning.anomalies.filter((a) => seenUntil === null || a.to > seenUntil);
    for (const a of fresh) {
      this.#o.log.warn(
        a.kind === "drop-while-off"
          ? "fuel level fell with the generator off: theft or a leak?"
          : "fuel level fell faster than the generator can burn: siphoning?",
        {
          siteId: state.siteId,
          from: a.from,
          to: a.to,
          droppedL: Math.round(a.droppedL * 10) / 10,
        },
      );
    }
    const newest = learning.anomalies.reduce<Date | null>(
      (max, a) => (max === null || a.to > max ? a.to : max),
      seenUntil,
    );
    // The default curve with nothing to report is what a site without knowledge plans on
    // anyway: no object (with its curve, reason and date) is kept for it.
    if (learning.method === "default" && newest === null && state.fuel === null) return;
    state.fuel = {
      curve: learning.curve,
      method: learning.method,
      scale: learning.scale,
      reason: learning.reason,
      learnedAt: now,
      anomaliesSeenUntil: newest,
    };
  }

  /** Fresh advice for a site: weather, fuel curve, load and solar forecasts, forward forecast. */
  async #advise(
    state: SiteState,
    ctx: { profile: SiteProfile; soc: SocEstimate; now: Date },
  ): Promise<Advice> {
    const { profile, soc, now } = ctx;
    const latest = state.latest!;
    const weatherFor = hasLocation(profile) ? await this.#o.weather.weatherFor(profile, now) : null;
    await this.#learnFuel(state, profile, now);
    // Held without its forward forecast: the command needs only its bands and outage time.
    return await this.#inTurn(() => {
      // Built in its turn: a plan waiting holds the weather's shared cell, not its own hours.
      const siteWeather = weatherFor?.() ?? null;
      const weather = siteWeather?.classification ?? unknownWeather("site location not set");
      const solar = siteWeather?.solar ?? null;
      return heldAdvice(computeAdvice({
        profile,
        latest,
        now,
        soc: {
          socPct: soc.socPct,
          uncertaintyPct: soc.uncertaintyPct,
          fromVoltage: readsVoltage(soc.method),
        },
        load: loadForecaster(state.loadProfile ?? newLoadProfile(), {
          fallbackLoadW: latest.loadW,
        }),
        pv: solar ? pvForecastFor(solar, profile) : null,
        pvIsFallback: solar?.fallback ?? true,
        weather,
        fuelCurve: state.fuel?.curve,
      }));
    });
  }

  /**
   * Runs `compute` after every forecast scheduled before it, and after a turn of the event loop
   * (setImmediate, which lets pending I/O run first). A forward forecast takes milliseconds of
   * CPU; a thousand new sites planned at once took seconds in which no MQTT packet was read and
   * no batch committed (bench:ingest saw ingest stop for over 5 s). One at a time, with I/O
   * between them, ingest goes on while a backlog of plans is worked off.
   */
  #inTurn<T>(compute: () => T): Promise<T> {
    const run = this.#computing.then(() =>
      new Promise<T>((resolve, reject) => {
        setImmediate(() => {
          try {
            resolve(compute());
          } catch (error) {
            reject(error);
          }
        });
      })
    );
    this.#computing = run.catch(() => {});
    return run;
  }

  async #plan(siteId: string): Promise<void> {
    const state = this.#o.sites.get(siteId);
    if (!state?.latest) return;
    const profile = profileOf(state);
    const now = this.#o.now();
    const latest = state.latest;
    const soc = state.soc ?? fallbackSoc(profile, latest);
    const intervalMs = this.#o.commandIntervalS * 1000;
    const due = !state.lastCommand || now.getTime() - state.lastCommand.issuedAtMs >= intervalMs;
    const basis: AdviceBasis = {
      atMs: now.getTime(),
      socPct: soc.socPct,
      fuelPct: latest.fuelPct,
      source: latest.source,
      genRunning: latest.genRunning,
      shedTier: latest.shedTier,
      storedProfile: state.storedProfile,
    };
    // The forward forecast is the costly part of a plan (milliseconds): it is run again only when
    // what it starts from has moved enough to matter, or is ADVICE_REFRESH_MS old. A command that
    // is due on its interval repeats advice that still holds: at 10 000 sites commanded every
    // 10 s, a forecast per command was 1000 a second, five times what two cores run.
    const advisedOn = state.advisedOn;
    const holds = state.advice !== null && advisedOn !== null && basisHolds(advisedOn, basis);
    const wallMs = this.#o.wallClockMs();
    // Between commands, advice is computed at most once per early-command gap: no changed advice
    // could go out sooner, and a site whose SoC moves with every message (a backlog flushed
    // after an outage, bench:ingest's synthetic sites) cost a forward forecast per message. The
    // site's next telemetry after the gap plans it again.
    const advisedWallMs = state.advisedAtWallMs;
    if (
      !holds && !due && advisedWallMs !== null && wallMs - advisedWallMs < MIN_EARLY_COMMAND_GAP_MS
    ) {
      return;
    }
    const advice = holds ? state.advice! : await this.#advise(state, { profile, soc, now });
    if (!holds) {
      state.advice = advice;
      state.advisedOn = basis;
      state.advisedAtWallMs = wallMs;
    }
    if (!due && !adviceChanged(state.sentAdvice, advice)) return;
    // Changed advice goes out early, but not more often than this: a site charging fast (or a
    // simulation at 300×) must not flood the link with a command per message.
    const sentWallMs = state.sentAtWallMs;
    if (!due && sentWallMs !== null && wallMs - sentWallMs < MIN_EARLY_COMMAND_GAP_MS) return;

    const seq = (state.lastSeq ?? 0) + 1;
    const command = commandFromAdvice(advice, {
      siteId,
      seq,
      issuedAt: now,
      validUntil: new Date(now.getTime() + commandValidityMs(this.#o.commandIntervalS)),
    });
    const legacy = state.protocol === "legacy";
    const topic = legacy ? legacyCommandTopic(state.topicSiteId) : v1Topic(siteId, "command");
    const payload = legacy ? encodeLegacyCommand(command) : encodeCommandV1(command);
    // Stored first: the seq is then taken even if publishing fails, so it is never reused.
    state.lastSeq = seq;
    const stored = await insertCommand(this.#o.sql, { command, topic, payload });
    if (!stored) {
      // Another backend on this database took the seq: skip it and plan again next time.
      this.#o.log.warn("command seq already taken; will use the next one", { siteId, seq });
      return;
    }
    // v1 commands are retained so a device that (re)connects gets the current one at once;
    // first-generation devices were built for plain messages, as deployed.
    await this.#o.mqtt.publishAsync(topic, payload, { qos: 1, retain: !legacy });
    state.sentAdvice = advice;
    state.lastCommand = {
      seq,
      issuedAtMs: command.issuedAt.getTime(),
      validUntilMs: command.validUntil.getTime(),
    };
    state.sentAtWallMs = wallMs;
    this.#o.onCommandSent(command);
    this.#o.log.debug("command sent", { siteId, seq, mode: command.mode, topic });
  }
}

/**
 * Advice is computed again between commands once it is this old (planner clock), or when the
 * site's SoC or fuel moved this many points, or its source, generator or shedding changed, or
 * its profile was replaced. 2 points of SoC move battery hours by 2/50 = 4 % on a lead-acid
 * bank's usable half, under the 10 % that makes advice "changed" (advice.ts).
 */
export const ADVICE_REFRESH_MS = 5 * 60_000;
export const ADVICE_MOVE_PCT = 2;

/** Whether advice computed on `b` still stands for a site now at `next`. */
export function basisHolds(b: AdviceBasis, next: AdviceBasis): boolean {
  const moved = (x: number | null, y: number | null) =>
    x === null || y === null ? x !== y : Math.abs(x - y) >= ADVICE_MOVE_PCT;
  return next.atMs - b.atMs < ADVICE_REFRESH_MS &&
    !moved(b.socPct, next.socPct) && !moved(b.fuelPct, next.fuelPct) &&
    b.source === next.source && b.genRunning === next.genRunning &&
    b.shedTier === next.shedTier && b.storedProfile === next.storedProfile;
}

/**
 * A SoC for a site the estimator has not read yet (restored from the database at start): the
 * estimator's reading of the latest record alone.
 */
function fallbackSoc(profile: SiteProfile, latest: TelemetryRecord): SocEstimate {
  return updateSocEstimate(null, socSampleOf(latest), { profile });
}
