/**
 * Cranks a generator that has no auto-start controller (`outputs.generator.mode = "pulse"`).
 * On a run request: the run (fuel) line on, then up to `attempts` cranks of at most `crank_s`
 * each, `rest_s` apart (the starter motor's duty cycle), each ended the moment the engine is
 * sensed running (a starter engaged on a running engine is driven past its speed). After the last
 * failed attempt the run line goes off too: a fuel solenoid left on drains the battery and the
 * policy reports the failure (generator-start-failed). On a stop request: crank and run off, and
 * the stop solenoid pulsed `stop_pulse_s` when there is one.
 */
import type { Logger } from "../../core/log.ts";
import type { GeneratorOutput } from "./config.ts";
import type { OutputLine } from "./output_line.ts";

type PulseConfig = Extract<GeneratorOutput, { mode: "pulse" }>;

export type StarterState = "off" | "cranking" | "resting" | "running" | "failed" | "stopping";

export interface StarterOptions {
  /** The engine running sense; null when it cannot be read (treated as not running). */
  running: () => Promise<boolean | null>;
  /** Serializes line writes with the driver's read-backs. */
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>;
  nowMs: () => number;
  sleep: (ms: number) => Promise<void>;
  log?: Logger;
  /** How often the running sense is polled while cranking. */
  pollMs?: number;
}

export class GeneratorStarter {
  readonly config: PulseConfig;
  readonly #lines: { crank: OutputLine; run?: OutputLine; stop?: OutputLine };
  readonly #o: StarterOptions;
  #requested = false;
  #state: StarterState = "off";
  /** Bumped on every request: a sequence whose token is stale stops at its next step. */
  #token = 0;
  #sequence: Promise<void> = Promise.resolve();

  constructor(
    config: PulseConfig,
    lines: { crank: OutputLine; run?: OutputLine; stop?: OutputLine },
    options: StarterOptions,
  ) {
    this.config = config;
    this.#lines = lines;
    this.#o = options;
  }

  /** What the agent asked for last (the genRun output). */
  get requested(): boolean {
    return this.#requested;
  }

  get state(): StarterState {
    return this.#state;
  }

  /** Starts or stops the sequence; returns at once, the sequence runs on. */
  request(on: boolean): void {
    if (on === this.#requested) return;
    this.#requested = on;
    const token = ++this.#token;
    const previous = this.#sequence;
    this.#sequence = previous.then(() => on ? this.#start(token) : this.#stop(token)).catch(
      (error) => this.#o.log?.error("generator start/stop sequence failed", { error }),
    );
  }

  /** Resolves when the present sequence is over (tests, close). */
  settled(): Promise<void> {
    return this.#sequence;
  }

  /** Ends any sequence with crank off (run and stop lines are left to the driver's safe state). */
  async close(): Promise<void> {
    this.#token++;
    await this.#sequence;
    await this.#o.exclusive(() => this.#lines.crank.set(false));
  }

  async #start(token: number): Promise<void> {
    const { crank, run, stop } = this.#lines;
    const c = this.config;
    const current = () => token === this.#token;
    await this.#o.exclusive(async () => {
      if (stop) await stop.set(false);
      if (run) await run.set(true);
    });
    for (let attempt = 1; attempt <= c.attempts; attempt++) {
      if (!current()) return;
      if (await this.#o.running()) {
        this.#state = "running";
        return;
      }
      this.#state = "cranking";
      await this.#o.exclusive(() => crank.set(true));
      const ran = await this.#wait(c.crank_s * 1000, token, true);
      await this.#o.exclusive(() => crank.set(false));
      if (ran) {
        this.#state = "running";
        this.#o.log?.info(`generator started on crank attempt ${attempt}`);
        return;
      }
      if (!current()) return;
      if (attempt < c.attempts) {
        this.#state = "resting";
        if (await this.#wait(c.rest_s * 1000, token, true)) {
          this.#state = "running";
          return;
        }
      }
    }
    if (!current()) return;
    this.#state = "failed";
    if (run) await this.#o.exclusive(() => run.set(false));
    this.#o.log?.warn(
      `generator did not start after ${c.attempts} crank attempts of ${c.crank_s} s: fuel off`,
    );
  }

  async #stop(token: number): Promise<void> {
    const { crank, run, stop } = this.#lines;
    await this.#o.exclusive(async () => {
      await crank.set(false);
      if (run) await run.set(false);
      if (stop) await stop.set(true);
    });
    this.#state = stop ? "stopping" : "off";
    if (!stop) return;
    await this.#wait(this.config.stop_pulse_s * 1000, token, false);
    // A start requested meanwhile has already released the stop line itself.
    if (token === this.#token) {
      await this.#o.exclusive(() => stop.set(false));
      this.#state = "off";
    }
  }

  /**
   * Waits up to `ms` in poll steps; true as soon as the engine is sensed running (when
   * `watchRunning`), false at the end or when a newer request makes this one stale.
   */
  async #wait(ms: number, token: number, watchRunning: boolean): Promise<boolean> {
    const pollMs = this.#o.pollMs ?? 250;
    const until = this.#o.nowMs() + ms;
    while (token === this.#token && this.#o.nowMs() < until) {
      await this.#o.sleep(Math.min(pollMs, until - this.#o.nowMs()));
      if (watchRunning && token === this.#token && await this.#o.running()) return true;
    }
    return false;
  }
}
