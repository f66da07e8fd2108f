/**
 * The site agent: every tick it reads the sensors, decides locally (src/core/policy.ts), drives
 * the outputs and publishes telemetry; strategic commands from the backend only tune the
 * decision's thresholds. The control loop never waits on the MQTT link: while offline, telemetry
 * and events go to a bounded queue that is flushed on reconnect.
 *
 * Two clocks:
 * - Simulated clock: starts at `startTime` and moves `telemetryIntervalS` per tick, whatever the
 *   speed. The physics (`driver.advance`) and the policy's timers (minimum run time, shed delays)
 *   use it, so `--speed 60` runs an hour of site behaviour per real minute.
 * - Wall clock (`clock`, default real time): the clock the backend and device share. Command
 *   validity (`issued_at`/`valid_until` are real wall-clock times set by the backend) and the
 *   telemetry `ts` use it. The simulated clock must not be sent as `ts`: at speed > 1 it runs
 *   ahead of real time and the backend re-stamps anything more than 5 min in the future
 *   (MAX_CLOCK_AHEAD_MS in src/core/telemetry.ts). At speed 1 the two clocks coincide. The
 *   demo, whose backend lives on the simulated clock too, passes that clock as `clock`.
 */
import mqtt, { type MqttClient } from "mqtt";
import type { StrategicCommand } from "../core/command.ts";
import {
  decide,
  type Decision,
  initialPolicyMemory,
  type PolicyMemory,
  type PolicyParams,
  thresholdsFor,
} from "../core/policy.ts";
import { describePolicyParams, resolvePolicyParams } from "../core/policy_params.ts";
import { checkTimeZone } from "../core/site_time.ts";
import { profileToWire } from "../core/site_profile.ts";
import { type SocEstimate, updateSocEstimate } from "../core/soc_estimator.ts";
import { encodeTelemetryV1, type TelemetryRecord } from "../core/telemetry.ts";
import { v1Topic } from "../core/topics.ts";
import { type Outputs, SAFE_OUTPUTS, type SensorReadings } from "./driver.ts";
import { CommandGate } from "./command_gate.ts";
import { switchOutputs } from "./switch_outputs.ts";
import { OfflineQueue } from "./offline_queue.ts";
import type { AgentEvent, AgentEventKind, AgentOptions, AgentSnapshot } from "./agent_types.ts";

export type { AgentEvent, AgentEventKind, AgentOptions, AgentSnapshot };

export class DeviceAgent {
  readonly #o: AgentOptions;
  readonly #intervalS: number;
  readonly #periodMs: number;
  readonly #clock: () => Date;
  readonly #queue: OfflineQueue;
  #client: MqttClient | null = null;
  #running = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inflight: Promise<void> = Promise.resolve();
  #nextAtMs = 0;
  #simNow = new Date(0);
  #ticks = 0;
  #memory: PolicyMemory | null = null;
  #readings: SensorReadings | null = null;
  #socPct: number | null = null;
  #socFromVoltage = false;
  #socEstimate: SocEstimate | null = null;
  #decision: Decision | null = null;
  #outputs: Outputs | null = null;
  readonly #gate: CommandGate;
  readonly #params: PolicyParams;
  /** A break that did not open is reported once, until a transfer succeeds again. */
  #transferBlocked = false;
  #seq = -1;
  #subscribed = false;
  #offlineWarned = false;
  #everConnected = false;

  constructor(options: AgentOptions) {
    const intervalS = options.telemetryIntervalS ?? 10;
    const speed = options.speed ?? 1;
    if (!(intervalS > 0)) {
      throw new RangeError(`telemetryIntervalS must be > 0, got ${intervalS}`);
    }
    if (!(speed > 0)) throw new RangeError(`speed must be > 0, got ${speed}`);
    // Bad settings or an unknown time zone fail here, not at the first quiet-hours check.
    this.#params = resolvePolicyParams(options.policyParams);
    checkTimeZone(options.profile.timeZone);
    this.#o = options;
    this.#intervalS = intervalS;
    this.#periodMs = intervalS * 1000 / speed;
    this.#clock = options.clock ?? (() => new Date());
    this.#queue = new OfflineQueue(options.offlineQueueLimit);
    this.#gate = new CommandGate(options.siteId);
  }

  async start(): Promise<void> {
    if (this.#running) throw new Error(`The agent of site "${this.#o.siteId}" is already running`);
    const { siteId, log, driver } = this.#o;
    this.#simNow = this.#o.startTime ?? this.#clock();
    this.#socEstimate = null;
    const outputs = await driver.readOutputs();
    this.#outputs = outputs;
    this.#running = true;
    this.#memory = initialPolicyMemory(
      { source: outputs.source, genOn: outputs.genRun, shedTier: outputs.shedTier },
      this.#simNow,
    );
    const client = mqtt.connect(this.#o.mqttUrl, {
      clientId: `kasi-device-${siteId}-${crypto.randomUUID().slice(0, 8)}`,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      will: { topic: v1Topic(siteId, "status"), payload: "offline", qos: 1, retain: true },
      ...this.#o.mqttOptions,
    });
    this.#client = client;
    client.on("connect", () => this.#onConnect(client));
    // One warning per outage; the retries in between are debug noise.
    client.on("offline", () => {
      if (!this.#offlineWarned) log.warn("broker unreachable: working offline, queueing telemetry");
      this.#offlineWarned = true;
    });
    client.on("error", (error) => {
      if (this.#offlineWarned) log.debug("mqtt error", { error: error.message });
      else log.warn("mqtt error", { error: error.message });
    });
    client.on("message", (topic, payload) => {
      try {
        if (topic === v1Topic(siteId, "command")) this.#onCommand(payload);
      } catch (error) {
        log.error("could not handle a message", { topic, error });
      }
    });
    log.info("device agent started", {
      site: siteId,
      mqttUrl: this.#o.mqttUrl,
      intervalS: this.#intervalS,
      speed: this.#o.speed ?? 1,
      simTime: this.#simNow.toISOString(),
    });
    const t = thresholdsFor(null, { profile: this.#o.profile, params: this.#params });
    log.info(
      `no command yet: safe local defaults, start gen at ${t.startSocPct} %, stop at ` +
        `${t.stopSocPct} %, reserve ${t.reserveSocPct} %, ${t.strategy}`,
    );
    log.info(`dispatch settings: ${describePolicyParams(this.#params, this.#o.profile)}`);
    this.#nextAtMs = performance.now();
    await this.#runTick(0);
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#inflight;
    const { log, siteId } = this.#o;
    try {
      // Through "off" too when the load was on the generator: break before make, always.
      this.#outputs = await this.#applyOutputs({ ...SAFE_OUTPUTS }, ["agent stopping"]);
    } catch (error) {
      log.error("could not set the safe outputs on stop", { error });
    }
    const client = this.#client;
    this.#client = null;
    if (client) {
      if (client.connected) {
        try {
          await client.publishAsync(v1Topic(siteId, "status"), "offline", { qos: 1, retain: true });
        } catch (error) {
          log.warn("could not publish status offline", { error });
        }
      }
      await client.endAsync(!client.connected);
    }
    log.info("device agent stopped", { site: siteId, queuedUnsent: this.#queue.size });
  }

  snapshot(): AgentSnapshot {
    return {
      siteId: this.#o.siteId,
      running: this.#running,
      simTime: new Date(this.#simNow),
      ticks: this.#ticks,
      readings: this.#readings,
      socPct: this.#socPct,
      socFromVoltage: this.#socFromVoltage,
      socUncertaintyPct: this.#socEstimate?.uncertaintyPct ?? null,
      socMethod: this.#socEstimate?.method ?? null,
      decision: this.#decision,
      outputs: this.#outputs,
      commandSeq: this.#gate.lastAccepted?.seq ?? null,
      mode: this.#gate.lastAccepted?.mode ?? null,
      commandValidUntil: this.#gate.lastAccepted?.validUntil ?? null,
      usingLocalDefaults: this.#gate.usingLocalDefaults,
      connected: this.#client?.connected ?? false,
      queued: this.#queue.size,
      dropped: this.#queue.dropped,
      telemetrySeq: this.#seq,
    };
  }

  #runTick(dtS: number): Promise<void> {
    this.#inflight = this.#tick(dtS).catch((error) => {
      this.#o.log.error("tick failed", { error });
      this.#event("driver-error", `tick failed: ${(error as Error).message}`, []);
    }).finally(() => this.#schedule());
    return this.#inflight;
  }

  #schedule() {
    if (!this.#running) return;
    // Aim at fixed instants so the period does not drift by the tick's own duration; after a
    // stall (suspended process, slow driver) start afresh instead of bursting to catch up.
    const nowMs = performance.now();
    this.#nextAtMs = Math.max(this.#nextAtMs + this.#periodMs, nowMs - this.#periodMs);
    const delayMs = Math.max(0, this.#nextAtMs - nowMs);
    this.#timer = setTimeout(() => this.#runTick(this.#intervalS), delayMs);
  }

  async #tick(dtS: number): Promise<void> {
    const { driver, profile, log, siteId } = this.#o;
    this.#simNow = new Date(this.#simNow.getTime() + dtS * 1000);
    await driver.advance?.(dtS, this.#simNow);
    const readings = await driver.readSensors();
    const wallNow = this.#clock();
    const command = this.#activeCommand(wallNow);
    const socFromVoltage = readings.socPct === null;
    // On the simulated clock: the estimator integrates current over the physics' time.
    const estimate = updateSocEstimate(this.#socEstimate, {
      time: this.#simNow,
      batteryV: readings.batteryV,
      batteryA: readings.batteryA,
      bmsSocPct: readings.socPct,
      tempC: readings.batteryTempC,
    }, { profile });
    const socPct = estimate.socPct;
    const decision = decide({
      ...this.#memory!,
      socPct,
      batteryV: readings.batteryV,
      loadW: readings.loadW,
      pvW: readings.pvW,
      fuelPct: readings.fuelPct,
      genRunning: readings.genRunning,
    }, { command, now: this.#simNow, params: this.#params, profile });
    this.#memory = decision.memory;
    const wanted: Outputs = {
      source: decision.source,
      genRun: decision.genOn,
      shedTier: decision.shedTier,
      genChargeLimitW: decision.chargeLimitW,
    };
    const actual = await this.#applyOutputs(wanted, decision.reasons);
    this.#ticks++;
    this.#readings = readings;
    this.#socPct = socPct;
    this.#socFromVoltage = socFromVoltage;
    this.#socEstimate = estimate;
    this.#decision = decision;
    this.#outputs = actual;

    if (decision.changed.length > 0) {
      log.info(`decision: ${decision.reasons.slice(1).join("; ")}`, {
        changed: decision.changed,
        source: decision.source,
        genOn: decision.genOn,
        shedTier: decision.shedTier,
        shutdown: decision.shutdown,
      });
      this.#event("decision", `changed ${decision.changed.join(", ")}`, decision.reasons);
    }
    for (const e of decision.events) {
      log.warn(`${e.kind}: ${e.detail}`, e.values);
      this.#event(e.kind, e.detail, decision.reasons, undefined, e.values);
    }
    if (
      actual.source !== wanted.source || actual.genRun !== wanted.genRun ||
      actual.shedTier !== wanted.shedTier
    ) {
      const detail = `outputs read back ${JSON.stringify(actual)} differ from the ` +
        `commanded ${JSON.stringify(wanted)}`;
      log.error(detail);
      this.#event("output-mismatch", detail, decision.reasons);
    }

    const record: TelemetryRecord = {
      siteId,
      time: wallNow,
      protocol: "v1",
      source: actual.source,
      batteryV: round(readings.batteryV, 2),
      batteryA: readings.batteryA === null ? null : round(readings.batteryA, 1),
      socPct: round(Math.min(100, Math.max(0, socPct)), 1),
      batteryTempC: readings.batteryTempC === null ? null : round(readings.batteryTempC, 1),
      loadW: round(Math.max(0, readings.loadW), 0),
      pvW: readings.pvW === null ? null : round(Math.max(0, readings.pvW), 0),
      genRunning: readings.genRunning,
      genW: readings.genW === null ? null : round(Math.max(0, readings.genW), 0),
      fuelPct: readings.fuelPct === null ? null : round(readings.fuelPct, 1),
      shedTier: actual.shedTier,
      seq: ++this.#seq,
      clockRestamped: false,
    };
    this.#publish(v1Topic(siteId, "telemetry"), encodeTelemetryV1(record));
  }

  /**
   * Drives the outputs; a change between battery and generator breaks before it makes. The steps
   * start from the outputs as the hardware last reported them, not from the decision's memory,
   * so a contactor that did not open is never followed by closing the other one.
   */
  async #applyOutputs(wanted: Outputs, reasons: string[]): Promise<Outputs> {
    const { actual, blocked } = await switchOutputs(this.#o.driver, wanted, {
      from: this.#outputs?.source ?? wanted.source,
      deadTimeMs: this.#params.transferDeadTimeMs,
    });
    if (blocked && !this.#transferBlocked) {
      const detail = `transfer ${blocked.from} → ${blocked.to} blocked: the outputs read back ` +
        `source "${blocked.readBack}" after both contactors were commanded open`;
      this.#o.log.error(detail);
      this.#event("transfer-blocked", detail, reasons, undefined, {
        from: blocked.from,
        to: blocked.to,
        read_back: blocked.readBack,
      });
    }
    this.#transferBlocked = blocked !== null;
    return actual;
  }

  /** The held command if still valid; on its expiry, reports the fallback to local defaults. */
  #activeCommand(wallNow: Date): StrategicCommand | null {
    const { command, expired } = this.#gate.active(wallNow);
    if (expired) {
      const t = thresholdsFor(null, { profile: this.#o.profile, params: this.#params });
      const detail = `command seq ${expired.seq} expired (valid_until ` +
        `${expired.validUntil.toISOString()}): falling back to safe local defaults, start gen ` +
        `at ${t.startSocPct} %, stop at ${t.stopSocPct} %, reserve ${t.reserveSocPct} %`;
      this.#o.log.warn(detail, { seq: expired.seq });
      this.#event("fallback-local-defaults", detail, [], expired.seq);
    }
    return command;
  }

  #onConnect(client: MqttClient) {
    const { siteId, log } = this.#o;
    this.#offlineWarned = false;
    log.info("connected to the broker", { mqttUrl: this.#o.mqttUrl });
    client.publish(v1Topic(siteId, "status"), "online", { qos: 1, retain: true });
    // Announce the equipment so the backend predicts with this site's battery, tank and set.
    const announcement = {
      ts: this.#clock().toISOString(),
      kind: "profile",
      profile: profileToWire(this.#o.profile),
    };
    client.publish(v1Topic(siteId, "event"), JSON.stringify(announcement), { qos: 1 });
    // mqtt.js re-subscribes by itself after a reconnect; subscribe only until it succeeded once.
    if (!this.#subscribed) {
      client.subscribe(v1Topic(siteId, "command"), { qos: 1 }, (error) => {
        if (error) log.error("could not subscribe to commands", { error });
        else this.#subscribed = true;
      });
    }
    const queued = this.#queue.drain();
    // The first tick runs before the first connection; only a real outage is worth an info line.
    if (queued.length > 0) {
      const fields = { messages: queued.length, dropped: this.#queue.dropped };
      if (this.#everConnected) log.info("flushing telemetry queued while offline", fields);
      else log.debug("flushing telemetry queued before the first connection", fields);
    }
    this.#everConnected = true;
    for (const m of queued) client.publish(m.topic, m.payload, { qos: m.qos, retain: m.retain });
  }

  #onCommand(payload: Uint8Array) {
    const { log } = this.#o;
    const outcome = this.#gate.receive(payload, this.#clock());
    switch (outcome.kind) {
      case "ignored":
        log.debug(`command ignored: ${outcome.detail}`);
        return;
      case "rejected":
        log.warn(`command rejected: ${outcome.detail}`, { seq: outcome.seq });
        this.#event("command-rejected", outcome.detail, [], outcome.seq ?? undefined);
        return;
      case "accepted": {
        const c = outcome.command;
        log.info(outcome.detail, { seq: c.seq, reason: c.reason });
        this.#event("command-accepted", outcome.detail, c.reason ? [c.reason] : [], c.seq);
      }
    }
  }

  #event(
    kind: AgentEventKind,
    detail: string,
    reasons: string[],
    seq?: number,
    values?: AgentEvent["values"],
  ) {
    const event: AgentEvent = { ts: this.#clock().toISOString(), kind, detail, reasons };
    if (seq !== undefined) event.command_seq = seq;
    if (values !== undefined) event.values = values;
    this.#publish(v1Topic(this.#o.siteId, "event"), JSON.stringify(event));
  }

  /** Publishes now when connected, else queues; never blocks the control loop. */
  #publish(topic: string, payload: string) {
    const client = this.#client;
    if (client?.connected) {
      client.publish(topic, payload, { qos: 1, retain: false }, (error) => {
        if (error) this.#o.log.warn("publish failed", { topic, error: error.message });
      });
    } else {
      this.#queue.push({ topic, payload, qos: 1, retain: false });
    }
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
