/**
 * The site agent: every tick it reads the sensors, decides locally (src/core/policy.ts), drives
 * the outputs and publishes telemetry; strategic commands from the backend only tune the
 * decision's thresholds. The control loop never waits on the MQTT link: while offline, telemetry
 * and events go to a bounded queue that is flushed on reconnect (src/device/agent_link.ts).
 *
 * Safety, whatever the driver:
 * - A sensor the driver could not read is null, never 0 (src/device/sensor_health.ts). Without
 *   battery voltage, load or the generator's running sense there is no decision, no SoC step and
 *   no telemetry sample; the outputs are held and still read back. Reported once per outage.
 * - Outputs that read back other than commanded raise one `output-mismatch` alarm and go to the
 *   driver's safe state, held for a retry period (src/device/output_guard.ts); on stop too.
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
import { type SocEstimate, updateSocEstimate } from "../core/soc_estimator.ts";
import { encodeTelemetryV1 } from "../core/telemetry.ts";
import { v1Topic } from "../core/topics.ts";
import {
  type Outputs,
  type OutputsReadBack,
  SAFE_OUTPUTS,
  type SensorName,
  type SensorReadings,
} from "./driver.ts";
import { CommandGate } from "./command_gate.ts";
import { mismatchReport, OutputGuard, outputMismatch } from "./output_guard.ts";
import { type PresentReadings, telemetryRecord } from "./telemetry_record.ts";
import { SensorHealth, wireSensorName } from "./sensor_health.ts";
import { switchOutputs } from "./switch_outputs.ts";
import { AgentLink } from "./agent_link.ts";
import type { AgentEvent, AgentEventKind, AgentOptions, AgentSnapshot } from "./agent_types.ts";

export type { AgentEvent, AgentEventKind, AgentOptions, AgentSnapshot };

export class DeviceAgent {
  readonly #o: AgentOptions;
  readonly #intervalS: number;
  readonly #periodMs: number;
  readonly #clock: () => Date;
  #link: AgentLink | null = null;
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
  readonly #health = new SensorHealth();
  readonly #guard: OutputGuard;
  /** What the agent last commanded: a withheld tick checks the read-back against it. */
  #wanted: Outputs | null = null;
  /** Required sensors missing at the last tick (a withheld decision is reported once). */
  #withheld: SensorName[] = [];
  #seq = -1;

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
    this.#gate = new CommandGate(options.siteId);
    this.#guard = new OutputGuard(options.outputFaultRetryS);
  }

  async start(): Promise<void> {
    if (this.#running) throw new Error(`The agent of site "${this.#o.siteId}" is already running`);
    const { siteId, log, driver } = this.#o;
    this.#simNow = this.#o.startTime ?? this.#clock();
    this.#socEstimate = null;
    const outputs = await driver.readOutputs();
    this.#outputs = outputs;
    this.#wanted = null;
    this.#running = true;
    this.#memory = initialPolicyMemory(
      { source: outputs.source, genOn: outputs.genRun, shedTier: outputs.shedTier },
      this.#simNow,
    );
    this.#link = new AgentLink({
      siteId,
      mqttUrl: this.#o.mqttUrl,
      profile: this.#o.profile,
      log,
      clock: this.#clock,
      mqttOptions: this.#o.mqttOptions,
      offlineQueueLimit: this.#o.offlineQueueLimit,
      onCommand: (payload) => this.#onCommand(payload),
    });
    this.#link.connect();
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
      this.#outputs = await this.#applyOutputs({ ...this.#safe }, ["agent stopping"]);
    } catch (error) {
      log.error("could not set the safe outputs on stop", { error });
    }
    // Closed but kept: the snapshot still counts what it could not send.
    const link = this.#link;
    await link?.close();
    log.info("device agent stopped", { site: siteId, queuedUnsent: link?.queued ?? 0 });
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
      connected: this.#link?.connected ?? false,
      queued: this.#link?.queued ?? 0,
      dropped: this.#link?.dropped ?? 0,
      telemetrySeq: this.#seq,
      invalidSensors: this.#health.invalid,
      decisionWithheld: this.#withheld.length > 0,
      safeStateUntil: this.#guard.until,
    };
  }

  /** The site's safe state: the driver's configured one, else SAFE_OUTPUTS. */
  get #safe(): Outputs {
    return { ...(this.#o.driver.safeOutputs ?? SAFE_OUTPUTS) };
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
    const { driver, profile, log } = this.#o;
    this.#simNow = new Date(this.#simNow.getTime() + dtS * 1000);
    await driver.advance?.(dtS, this.#simNow);
    const raw = await driver.readSensors();
    const wallNow = this.#clock();
    const command = this.#activeCommand(wallNow);
    // An invalid sensor is null from here on, never 0 or an old value; faults are reported once.
    const check = this.#health.update(raw, wallNow);
    for (const r of check.reports) {
      if (r.kind === "sensor-invalid") log.warn(r.detail, r.values);
      else log.info(r.detail, r.values);
      this.#event(r.kind, r.detail, [], undefined, r.values);
    }
    this.#readings = check.readings;
    const { batteryV, loadW, genRunning } = check.readings;
    if (batteryV === null || loadW === null || genRunning === null) {
      return await this.#withhold(check.missing);
    }
    const readings: PresentReadings = { ...check.readings, batteryV, loadW, genRunning };
    this.#withheld = [];
    const socFromVoltage = readings.socPct === null;
    // On the simulated clock: the estimator integrates current over the physics' time.
    const estimate = updateSocEstimate(this.#socEstimate, {
      time: this.#simNow,
      batteryV,
      batteryA: readings.batteryA,
      bmsSocPct: readings.socPct,
      tempC: readings.batteryTempC,
    }, { profile });
    this.#socPct = estimate.socPct;
    this.#socFromVoltage = socFromVoltage;
    this.#socEstimate = estimate;
    this.#ticks++;
    if (this.#guard.holding(this.#simNow)) {
      // After a read-back mismatch: the safe state is held, no decision until the retry.
      this.#outputs = await this.#applyOutputs(this.#safe, ["holding the safe state"]);
      return this.#publishTelemetry(readings, this.#outputs, wallNow);
    }
    if (this.#guard.takeReleased()) {
      // The retry starts the policy afresh from the outputs as they read back, as a restart does.
      const o = this.#outputs ?? this.#safe;
      this.#memory = initialPolicyMemory(
        { source: o.source, genOn: o.genRun, shedTier: o.shedTier },
        this.#simNow,
      );
      log.info("output fault lockout over: the policy drives the outputs again");
    }
    const decision = decide({
      ...this.#memory!,
      socPct: estimate.socPct,
      batteryV,
      loadW,
      pvW: readings.pvW,
      fuelPct: readings.fuelPct,
      genRunning,
    }, { command, now: this.#simNow, params: this.#params, profile });
    this.#memory = decision.memory;
    const wanted: Outputs = {
      source: decision.source,
      genRun: decision.genOn,
      shedTier: decision.shedTier,
      genChargeLimitW: decision.chargeLimitW,
    };
    const actual = await this.#applyOutputs(wanted, decision.reasons);
    this.#decision = decision;
    this.#outputs = await this.#checkReadBack(wanted, actual, decision.reasons);

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
    this.#publishTelemetry(readings, this.#outputs, wallNow);
  }

  /**
   * A required sensor is invalid: no decision, no SoC step and no telemetry sample (battery_v and
   * load_w are required on the wire and are never made up); the outputs stay as they are, but
   * are still read back against what was last commanded. Reported once per outage.
   */
  async #withhold(missing: SensorName[]): Promise<void> {
    const actual = await this.#o.driver.readOutputs();
    this.#ticks++;
    const wanted = this.#guard.holding(this.#simNow) ? this.#safe : this.#wanted;
    this.#outputs = wanted
      ? await this.#checkReadBack(wanted, actual, ["decision withheld"])
      : actual;
    const names = missing.map(wireSensorName);
    if (names.join() === this.#withheld.map(wireSensorName).join()) return;
    this.#withheld = missing;
    const o = this.#outputs;
    const detail = `decision withheld: ${names.join(", ")} invalid; outputs held at source ` +
      `${o.source}, generator ${o.genRun ? "on" : "off"}, shed tier ${o.shedTier}`;
    this.#o.log.warn(detail);
    this.#event("decision-withheld", detail, [], undefined, {
      sensors: names.join(","),
      source: o.source,
      gen_run: o.genRun,
      shed_tier: o.shedTier,
    });
  }

  /**
   * Compares the read-back with what was commanded. On a mismatch (or a driver fault): one
   * alarm, the safe state at once, held for the guard's retry period.
   */
  async #checkReadBack(
    wanted: Outputs,
    actual: OutputsReadBack,
    reasons: string[],
  ): Promise<OutputsReadBack> {
    this.#wanted = wanted;
    const mismatch = outputMismatch(wanted, actual);
    if (mismatch === null) {
      this.#guard.ok();
      return actual;
    }
    if (this.#guard.until !== null) return actual; // already alarmed, already holding safe
    const { attempt, until } = this.#guard.trip(this.#simNow);
    const safe = this.#safe;
    const report = mismatchReport(wanted, actual, { mismatch, safe, attempt, until });
    this.#o.log.error(report.detail);
    this.#event("output-mismatch", report.detail, reasons, undefined, report.values);
    this.#wanted = safe;
    return await this.#applyOutputs(safe, [...reasons, "output read-back mismatch: safe state"]);
  }

  #publishTelemetry(readings: PresentReadings, actual: Outputs, wallNow: Date): void {
    const record = telemetryRecord(readings, actual, {
      siteId: this.#o.siteId,
      time: wallNow,
      socPct: this.#socPct ?? 0,
      seq: ++this.#seq,
    });
    this.#publish(v1Topic(this.#o.siteId, "telemetry"), encodeTelemetryV1(record));
  }

  /**
   * Drives the outputs; a change between battery and generator breaks before it makes. The steps
   * start from the outputs as the hardware last reported them, not from the decision's memory,
   * so a contactor that did not open is never followed by closing the other one.
   */
  async #applyOutputs(wanted: Outputs, reasons: string[]): Promise<OutputsReadBack> {
    const sleep = this.#o.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
    const { actual, blocked } = await switchOutputs(this.#o.driver, wanted, {
      from: this.#outputs?.source ?? wanted.source,
      deadTimeMs: this.#params.transferDeadTimeMs,
      // The dead time passes in simulated time: at 300× a second's wait in real time held the
      // tick for 300 simulated seconds, a gap in the telemetry at every transfer.
      sleep: (ms) => sleep(ms / (this.#o.speed ?? 1)),
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

  /** Publishes now when connected, else queues (src/device/agent_link.ts). */
  #publish(topic: string, payload: string) {
    if (this.#link) this.#link.publish(topic, payload);
  }
}
