/**
 * One relay output: a GPIO line, its polarity, and optionally a feedback contact (an auxiliary
 * contact of the contactor) that says what the actuator really did. It remembers the level it was
 * driven to, and reads back both the pin and the feedback, so a shorted driver, a relay that did
 * not pull in and a welded contactor all show as a fault naming the key and the line.
 */
import type { OutputLine as OutputLineConfig } from "./config.ts";
import type { GpioBackend } from "./gpio.ts";

export interface LineReadBack {
  /** What the actuator is: the feedback contact when there is one, else the pin. */
  active: boolean;
  fault: string | null;
}

export interface OutputLineOptions {
  gpio: GpioBackend;
  /** What "active" and "inactive" mean for it, for messages: ["open", "closed"]. */
  words?: [string, string];
  feedbackTimeoutMs: number;
  nowMs: () => number;
  sleep: (ms: number) => Promise<void>;
}

const FEEDBACK_POLL_MS = 10;

export class OutputLine {
  /** The config key, e.g. "outputs.battery_contactor". */
  readonly key: string;
  readonly config: OutputLineConfig;
  readonly #o: OutputLineOptions;
  #expected = false;
  #changedAtMs = -Infinity;
  /** When it last went from active to inactive (the dead-time interlock counts from it). */
  inactiveSinceMs = -Infinity;

  constructor(key: string, config: OutputLineConfig, options: OutputLineOptions) {
    this.key = key;
    this.config = config;
    this.#o = options;
  }

  /** The logical level it was last driven to. */
  get expected(): boolean {
    return this.#expected;
  }

  /**
   * Claims the line: an output already driven keeps its level (a restart does not drop a held
   * contactor); a fresh one starts inactive (de-energized logic).
   */
  async setup(): Promise<void> {
    const { gpio } = this.#o;
    if (this.config.feedback) await gpio.setupInput(this.config.feedback.line);
    const level = await gpio.setupOutput(this.config.line, this.#electrical(false));
    this.#expected = this.#logical(level);
    this.inactiveSinceMs = this.#expected ? -Infinity : this.#o.nowMs();
  }

  async set(active: boolean): Promise<void> {
    if (active === this.#expected && this.#changedAtMs > -Infinity) return;
    await this.#o.gpio.write(this.config.line, this.#electrical(active));
    if (this.#expected && !active) this.inactiveSinceMs = this.#o.nowMs();
    this.#expected = active;
    this.#changedAtMs = this.#o.nowMs();
  }

  async readBack(): Promise<LineReadBack> {
    const { gpio } = this.#o;
    const faults: string[] = [];
    let pin: boolean;
    try {
      pin = this.#logical(await gpio.read(this.config.line));
    } catch (error) {
      return {
        active: this.#expected,
        fault: `${this.key} (GPIO ${this.config.line}) cannot be read back: ${
          (error as Error).message
        }`,
      };
    }
    if (pin !== this.#expected) {
      faults.push(
        `${this.key} (GPIO ${this.config.line}) reads ${this.#word(pin)}, driven ` +
          this.#word(this.#expected),
      );
    }
    const fb = this.config.feedback;
    if (!fb) return { active: pin, fault: faults.join("; ") || null };
    let actual: boolean;
    try {
      actual = await this.#readFeedback(fb.line, fb.active_low);
    } catch (error) {
      faults.push(
        `${this.key} feedback (GPIO ${fb.line}) cannot be read: ${(error as Error).message}`,
      );
      return { active: pin, fault: faults.join("; ") };
    }
    if (actual !== this.#expected) {
      const sinceMs = Math.round(this.#o.nowMs() - this.#changedAtMs);
      const when = Number.isFinite(sinceMs) ? ` ${sinceMs} ms after it was driven` : ", driven";
      faults.push(
        `${this.key}: feedback GPIO ${fb.line} reads ${this.#word(actual)}${when} ` +
          this.#word(this.#expected),
      );
    }
    return { active: actual, fault: faults.join("; ") || null };
  }

  /** The feedback, given up to feedbackTimeoutMs after a change to follow (pull-in time). */
  async #readFeedback(line: number, activeLow: boolean): Promise<boolean> {
    const { gpio, nowMs, sleep, feedbackTimeoutMs } = this.#o;
    while (true) {
      const value = (await gpio.read(line)) !== activeLow;
      if (value === this.#expected || nowMs() - this.#changedAtMs >= feedbackTimeoutMs) {
        return value;
      }
      await sleep(FEEDBACK_POLL_MS);
    }
  }

  #electrical(active: boolean): boolean {
    return active !== this.config.active_low;
  }

  #logical(level: boolean): boolean {
    return level !== this.config.active_low;
  }

  #word(active: boolean): string {
    const [off, on] = this.#o.words ?? ["inactive", "active"];
    return active ? on : off;
  }
}
