/**
 * One site of a simulated fleet: the device agent's control loop (agent.ts) without its per-site
 * timer, log and offline queue, so that 10 000 of them fit in one process, and with the
 * measurements the agent does not expose (when each message was sent and acknowledged, when
 * each command arrived). It is built from the same parts as the agent — the physics simulator
 * behind SimDriver, the core policy `decide`, CommandGate for command validity, the v1 telemetry
 * encoder, the profile announcement — so a fleet behaves as that many agents would.
 */
import { socFromOcv } from "../core/battery.ts";
import { decide, initialPolicyMemory, type PolicyMemory } from "../core/policy.ts";
import { profileToWire } from "../core/site_profile.ts";
import { encodeTelemetryV1, type TelemetryRecord } from "../core/telemetry.ts";
import { v1Topic } from "../core/topics.ts";
import { CommandGate } from "./command_gate.ts";
import type { FleetSiteSpec } from "./fleet_profiles.ts";
import type { FleetMetrics } from "./fleet_metrics.ts";
import { SimDriver } from "./sim_driver.ts";

/** How a site reaches the broker: its own connection, or the fleet's shared one. */
export interface SiteLink {
  publish(
    topic: string,
    payload: string,
    options: { qos: 0 | 1; retain: boolean },
    done: (error?: Error) => void,
  ): void;
}

/** Called for every message a site publishes (what `--record` writes). */
export type PublishedHook = (
  message: { topic: string; payload: string; atMs: number; retain: boolean },
) => void;

/** Telemetry `ts` values kept per site, to find the one a command answers. */
const KEPT_TS = 8;

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export class FleetSite {
  readonly spec: FleetSiteSpec;
  readonly #driver: SimDriver;
  readonly #gate: CommandGate;
  readonly #metrics: FleetMetrics;
  readonly #intervalS: number;
  readonly #onPublished: PublishedHook | undefined;
  #link: SiteLink | undefined;
  #simNow: Date;
  #memory: PolicyMemory;
  #seq = -1;
  #farewelled = false;
  #busy = false;
  #commanded = false;
  /** Wall-clock ms of the last KEPT_TS telemetry messages, oldest first (a ring). */
  readonly #sentTs = new Float64Array(KEPT_TS);
  #sentCount = 0;

  constructor(
    spec: FleetSiteSpec,
    options: {
      metrics: FleetMetrics;
      intervalS: number;
      startTime: Date;
      onPublished?: PublishedHook;
    },
  ) {
    this.spec = spec;
    this.#metrics = options.metrics;
    this.#intervalS = options.intervalS;
    this.#onPublished = options.onPublished;
    this.#simNow = options.startTime;
    this.#driver = new SimDriver({
      site: spec.site,
      initialSocPct: spec.initialSocPct,
      initialFuelPct: spec.initialFuelPct,
      now: options.startTime,
    });
    this.#gate = new CommandGate(spec.siteId);
    this.#memory = initialPolicyMemory(
      { source: "battery", genOn: false, shedTier: 0 },
      options.startTime,
    );
  }

  get siteId(): string {
    return this.spec.siteId;
  }

  /** Messages a device sends on every connect: `online` (retained), then its profile. */
  announce(link: SiteLink, wallNow: Date): void {
    this.#link = link;
    this.#send(v1Topic(this.siteId, "status"), "online", true);
    const announcement = {
      ts: wallNow.toISOString(),
      kind: "profile",
      profile: profileToWire(this.spec.site.profile),
    };
    this.#send(v1Topic(this.siteId, "event"), JSON.stringify(announcement), false);
  }

  /** The clean stop's retained `offline` (a shared connection has no per-site last will). */
  farewell(): void {
    this.#send(v1Topic(this.siteId, "status"), "offline", true);
    // Offline now: a command still arriving while the connection closes is not acknowledged with
    // an event, which the closing client could only fail to send.
    this.#farewelled = true;
  }

  /** One control step: physics, decision, outputs, telemetry. Never throws. */
  async tick(wallNow: Date): Promise<void> {
    // A tick that has not finished (a stalled process) is not stacked behind.
    if (this.#busy || !this.#link) return;
    this.#busy = true;
    try {
      const driver = this.#driver;
      const profile = this.spec.site.profile;
      this.#simNow = new Date(this.#simNow.getTime() + this.#intervalS * 1000);
      await driver.advance(this.#intervalS, this.#simNow);
      const readings = await driver.readSensors();
      const { batteryV, loadW, genRunning } = readings;
      // The simulator always reads these three; a driver that cannot gets no decision (agent.ts).
      if (batteryV === null || loadW === null || genRunning === null) return;
      const { command } = this.#gate.active(wallNow);
      const socPct = readings.socPct ?? socFromOcv(profile.chemistry, profile.nominalV, batteryV);
      const decision = decide({
        ...this.#memory,
        socPct,
        batteryV,
        loadW,
        pvW: readings.pvW,
        fuelPct: readings.fuelPct,
        genRunning,
      }, { command, now: this.#simNow, profile });
      this.#memory = decision.memory;
      await driver.setOutputs({
        source: decision.source,
        genRun: decision.genOn,
        shedTier: decision.shedTier,
      });
      const outputs = await driver.readOutputs();
      // Rounded as the agent rounds what it publishes.
      const record: TelemetryRecord = {
        siteId: this.siteId,
        time: wallNow,
        protocol: "v1",
        source: outputs.source,
        batteryV: round(batteryV, 2),
        batteryA: readings.batteryA === null ? null : round(readings.batteryA, 1),
        socPct: round(Math.min(100, Math.max(0, socPct)), 1),
        batteryTempC: readings.batteryTempC === null ? null : round(readings.batteryTempC, 1),
        loadW: round(Math.max(0, loadW), 0),
        pvW: readings.pvW === null ? null : round(Math.max(0, readings.pvW), 0),
        genRunning,
        genW: readings.genW === null ? null : round(Math.max(0, readings.genW), 0),
        fuelPct: readings.fuelPct === null ? null : round(readings.fuelPct, 1),
        shedTier: outputs.shedTier,
        seq: ++this.#seq,
        clockRestamped: false,
      };
      this.#sentTs[this.#sentCount % KEPT_TS] = wallNow.getTime();
      this.#sentCount++;
      this.#metrics.counts.telemetrySent++;
      const payload = encodeTelemetryV1(record);
      this.#onPublished?.({
        topic: v1Topic(this.siteId, "telemetry"),
        payload,
        atMs: wallNow.getTime(),
        retain: false,
      });
      this.#link.publish(v1Topic(this.siteId, "telemetry"), payload, {
        qos: 1,
        retain: false,
      }, (error) => {
        if (error) this.#publishFailed(error);
        else this.#metrics.counts.telemetryAcked++;
      });
      if (decision.changed.length > 0) {
        this.#event(
          wallNow,
          "decision",
          `changed ${decision.changed.join(", ")}`,
          decision.reasons,
        );
      }
    } catch (error) {
      this.#metrics.counts.publishErrors++;
      this.#metrics.lastErrors.tick = `${this.siteId}: ${(error as Error).stack ?? error}`;
    } finally {
      this.#busy = false;
    }
  }

  #publishFailed(error: Error) {
    this.#metrics.counts.publishErrors++;
    this.#metrics.lastErrors.publish = `${this.siteId}: ${error.message}`;
  }

  /** A message on the site's command topic, `arrivedAtMs` on the wall clock. */
  onCommand(payload: Uint8Array, retained: boolean, arrivedAtMs: number): void {
    const m = this.#metrics.counts;
    m.commandsReceived++;
    if (retained) m.commandsRetained++;
    const wallNow = new Date(arrivedAtMs);
    const outcome = this.#gate.receive(payload, wallNow);
    if (outcome.kind === "ignored") return;
    if (outcome.kind === "rejected") {
      m.commandsRejected++;
      this.#event(wallNow, "command-rejected", outcome.detail, [], outcome.seq ?? undefined);
      return;
    }
    m.commandsAccepted++;
    if (this.#gate.lastAccepted === outcome.command && !this.#commanded) {
      this.#commanded = true;
      m.sitesCommanded++;
    }
    const c = outcome.command;
    this.#event(wallNow, "command-accepted", outcome.detail, c.reason ? [c.reason] : [], c.seq);
    if (retained) return;
    const answered = this.#newestTsBefore(c.issuedAt.getTime());
    if (answered !== null) this.#metrics.addRoundTrip(arrivedAtMs - answered);
  }

  #newestTsBefore(issuedAtMs: number): number | null {
    let best: number | null = null;
    const n = Math.min(this.#sentCount, KEPT_TS);
    for (let i = 0; i < n; i++) {
      const ts = this.#sentTs[i]!;
      if (ts <= issuedAtMs && (best === null || ts > best)) best = ts;
    }
    return best;
  }

  #event(wallNow: Date, kind: string, detail: string, reasons: string[], seq?: number) {
    const event: Record<string, unknown> = { ts: wallNow.toISOString(), kind, detail, reasons };
    if (seq !== undefined) event.command_seq = seq;
    this.#send(v1Topic(this.siteId, "event"), JSON.stringify(event), false);
  }

  #send(topic: string, payload: string, retain: boolean) {
    if (!this.#link || this.#farewelled) return;
    this.#metrics.counts.otherSent++;
    this.#onPublished?.({ topic, payload, atMs: Date.now(), retain });
    this.#link.publish(topic, payload, { qos: 1, retain }, (error) => {
      if (error) this.#publishFailed(error);
    });
  }
}
