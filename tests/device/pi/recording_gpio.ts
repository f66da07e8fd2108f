/** Test helper: a GpioBackend wrapper that logs every write (and sleeps) in order, with times. */
import type { GpioBackend, GpioChipInfo } from "../../../src/device/pi/gpio.ts";

export class RecordingGpio implements GpioBackend {
  readonly log: string[] = [];
  readonly times: { what: string; atMs: number }[] = [];
  readonly #inner: GpioBackend;
  readonly #nowMs: () => number;

  constructor(inner: GpioBackend, nowMs: () => number = () => performance.now()) {
    this.#inner = inner;
    this.#nowMs = nowMs;
  }

  get kind(): GpioBackend["kind"] {
    return this.#inner.kind;
  }

  get chip(): GpioChipInfo {
    return this.#inner.chip;
  }

  note(what: string): void {
    this.log.push(what);
    this.times.push({ what, atMs: this.#nowMs() });
  }

  setupInput(line: number): Promise<void> {
    return this.#inner.setupInput(line);
  }

  setupOutput(line: number, initial: boolean): Promise<boolean> {
    return this.#inner.setupOutput(line, initial);
  }

  read(line: number): Promise<boolean> {
    return this.#inner.read(line);
  }

  async write(line: number, level: boolean): Promise<void> {
    this.note(`GPIO${line}=${level ? 1 : 0}`);
    await this.#inner.write(line, level);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** In-memory lines for unit tests that need no files: levels in a map, writes logged. */
export class MemoryGpio implements GpioBackend {
  readonly kind = "sysfs" as const;
  readonly chip: GpioChipInfo = { label: "memory", base: 0, name: null, lines: 58 };
  readonly levels = new Map<number, boolean>();
  readonly log: string[] = [];
  readonly #nowMs: () => number;

  constructor(nowMs: () => number) {
    this.#nowMs = nowMs;
  }

  setupInput(): Promise<void> {
    return Promise.resolve();
  }

  setupOutput(line: number, initial: boolean): Promise<boolean> {
    if (!this.levels.has(line)) this.levels.set(line, initial);
    return Promise.resolve(this.levels.get(line)!);
  }

  read(line: number): Promise<boolean> {
    return Promise.resolve(this.levels.get(line) ?? false);
  }

  write(line: number, level: boolean): Promise<void> {
    this.levels.set(line, level);
    this.log.push(`${this.#nowMs() / 1000} s GPIO${line}=${level ? 1 : 0}`);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
