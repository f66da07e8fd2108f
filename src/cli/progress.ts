/**
 * Progress of a long run: on a terminal, one bar redrawn in place (at most 10 times a second)
 * with the rate and the time left; otherwise (a pipe, a log file, CI) a plain line every few
 * seconds, which a log keeps readable. Lines printed through `log` appear above the bar.
 */

export interface ProgressState {
  /** Items done (lines, messages). */
  done: number;
  /** Fraction of the whole done, 0–1, when the whole is known. */
  fraction: number | null;
  /** Appended as is, e.g. "12 rejected". */
  extra?: string;
}

export interface ProgressOptions {
  /** Draw a bar in place (a terminal) or print plain lines. */
  tty: boolean;
  write: (text: string) => void;
  /** What is counted, e.g. "lines". */
  unit: string;
  /** Between plain lines; default 5 s. */
  plainEveryMs?: number;
  /** Milliseconds clock (tests). */
  nowMs?: () => number;
  /** Columns of the terminal; default 80. */
  columns?: number;
}

const TTY_EVERY_MS = 100;
const BAR_WIDTH = 24;

/** `1:05` or `1:02:05` for seconds; `?` when unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/** Time left at a constant pace: elapsed × (1 − f) / f; null before anything is done. */
export function etaSeconds(fraction: number | null, elapsedS: number): number | null {
  if (fraction === null || !(fraction > 0)) return null;
  return elapsedS * (1 - Math.min(1, fraction)) / fraction;
}

const count = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** One progress line, e.g. `[######------------------]  25.0%  1,200 lines  400/s  ETA 0:09`. */
export function formatProgress(
  state: ProgressState,
  options: { elapsedS: number; unit: string; bar: boolean },
): string {
  const rate = options.elapsedS > 0 ? state.done / options.elapsedS : 0;
  const parts: string[] = [];
  if (state.fraction !== null) {
    const f = Math.max(0, Math.min(1, state.fraction));
    if (options.bar) {
      const filled = Math.round(f * BAR_WIDTH);
      parts.push(`[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]`);
    }
    parts.push(`${(f * 100).toFixed(1).padStart(5)}%`);
  }
  parts.push(`${count.format(state.done)} ${options.unit}`);
  parts.push(`${count.format(rate)}/s`);
  if (state.fraction !== null) {
    parts.push(`ETA ${formatDuration(etaSeconds(state.fraction, options.elapsedS))}`);
  } else {
    parts.push(`elapsed ${formatDuration(options.elapsedS)}`);
  }
  if (state.extra) parts.push(state.extra);
  return parts.join("  ");
}

export class Progress {
  readonly #o: ProgressOptions;
  readonly #nowMs: () => number;
  readonly #startMs: number;
  #lastDrawMs = -Infinity;
  #drawn = false;
  #state: ProgressState = { done: 0, fraction: null };

  constructor(options: ProgressOptions) {
    this.#o = options;
    this.#nowMs = options.nowMs ?? (() => performance.now());
    this.#startMs = this.#nowMs();
    // Plain lines start after the first interval: a short run prints none.
    if (!options.tty) this.#lastDrawMs = this.#startMs;
  }

  /** Records the state; draws when due. Cheap enough to call per item. */
  update(state: ProgressState): void {
    this.#state = state;
    const now = this.#nowMs();
    const every = this.#o.tty ? TTY_EVERY_MS : this.#o.plainEveryMs ?? 5000;
    if (now - this.#lastDrawMs < every) return;
    this.#lastDrawMs = now;
    this.#draw(now);
  }

  /** Prints a whole line, keeping the bar below it. */
  log(line: string): void {
    this.#clear();
    this.#o.write(line + "\n");
    if (this.#o.tty) this.#draw(this.#nowMs());
  }

  /** Removes the bar (a terminal) before the summary is printed. */
  finish(): void {
    this.#clear();
  }

  #draw(now: number) {
    const text = formatProgress(this.#state, {
      elapsedS: (now - this.#startMs) / 1000,
      unit: this.#o.unit,
      bar: this.#o.tty,
    });
    if (this.#o.tty) {
      const columns = this.#o.columns ?? 80;
      this.#o.write(`\r\x1b[2K${text.slice(0, columns - 1)}`);
      this.#drawn = true;
    } else {
      this.#o.write(`${text}\n`);
    }
  }

  #clear() {
    if (this.#o.tty && this.#drawn) {
      this.#o.write("\r\x1b[2K");
      this.#drawn = false;
    }
  }
}
