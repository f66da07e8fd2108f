/**
 * A small Prometheus registry: counters, gauges read at scrape time, and histograms, written in
 * the text exposition format 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats):
 * `# HELP` and `# TYPE` once per family, label values escaped (\\, \", \n), a histogram as
 * cumulative `_bucket{le="…"}` lines ending in `le="+Inf"`, then `_sum` and `_count`.
 * Hand-written: the format is a page long, and a library would bring a Node-style dependency
 * tree for it.
 */

export type Labels = Record<string, string>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Prometheus's default buckets (client_golang DefBuckets), in seconds. */
export const DEFAULT_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  lines(): string[];
}

function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** A sample value: integers as written, +Inf / -Inf / NaN as the format spells them. */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

function checkLabels(metric: string, names: readonly string[], labels: Labels) {
  const given = Object.keys(labels);
  if (given.length !== names.length || !names.every((n) => n in labels)) {
    throw new RangeError(
      `${metric}: labels ${JSON.stringify(given)} must be exactly ${JSON.stringify(names)}`,
    );
  }
}

export class Counter {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly labelNames: readonly string[]) {}

  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new RangeError(`${this.name}: a counter only goes up, got ${by}`);
    checkLabels(this.name, this.labelNames, labels);
    const key = labelText(labels);
    const entry = this.#values.get(key);
    if (entry) entry.value += by;
    else this.#values.set(key, { labels: { ...labels }, value: by });
  }

  get(labels: Labels = {}): number {
    return this.#values.get(labelText(labels))?.value ?? 0;
  }

  lines(): string[] {
    if (this.labelNames.length === 0 && this.#values.size === 0) return [`${this.name} 0`];
    return [...this.#values.values()].map((e) =>
      `${this.name}${labelText(e.labels)} ${formatValue(e.value)}`
    );
  }
}

export class Histogram {
  readonly #bounds: number[];
  readonly #counts: number[];
  #sum = 0;
  #count = 0;
  constructor(readonly name: string, bounds: readonly number[]) {
    const sorted = [...bounds].sort((a, b) => a - b);
    if (sorted.length === 0 || sorted.some((b, i) => !Number.isFinite(b) || b === sorted[i - 1])) {
      throw new RangeError(`${name}: buckets must be distinct finite numbers, got ${bounds}`);
    }
    this.#bounds = sorted;
    this.#counts = sorted.map(() => 0);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    this.#sum += value;
    this.#count++;
    const i = this.#bounds.findIndex((b) => value <= b);
    if (i >= 0) this.#counts[i]!++;
  }

  get count(): number {
    return this.#count;
  }

  lines(): string[] {
    let cumulative = 0;
    const out = this.#bounds.map((b, i) => {
      cumulative += this.#counts[i]!;
      return `${this.name}_bucket{le="${formatValue(b)}"} ${cumulative}`;
    });
    out.push(`${this.name}_bucket{le="+Inf"} ${this.#count}`);
    out.push(`${this.name}_sum ${formatValue(this.#sum)}`);
    out.push(`${this.name}_count ${this.#count}`);
    return out;
  }
}

/** A gauge's samples, read when scraped: one value, or one per label set. */
export type GaugeRead = () => number | { labels: Labels; value: number }[];

export class MetricsRegistry {
  readonly #families: Family[] = [];

  #add(family: Family) {
    if (!NAME.test(family.name)) throw new RangeError(`metric name "${family.name}" is invalid`);
    if (this.#families.some((f) => f.name === family.name)) {
      throw new RangeError(`metric "${family.name}" is registered twice`);
    }
    this.#families.push(family);
  }

  /** A counter; its name must end in `_total`. Label sets listed in `initial` show as 0. */
  counter(
    name: string,
    help: string,
    options: { labelNames?: string[]; initial?: Labels[] } = {},
  ): Counter {
    if (!name.endsWith("_total")) throw new RangeError(`counter "${name}" must end in _total`);
    const labelNames = options.labelNames ?? [];
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l)) throw new RangeError(`${name}: label name "${l}" is invalid`);
    }
    const counter = new Counter(name, labelNames);
    for (const labels of options.initial ?? []) counter.inc(labels, 0);
    this.#add({ name, help, type: "counter", lines: () => counter.lines() });
    return counter;
  }

  gauge(name: string, help: string, read: GaugeRead): void {
    this.#add({
      name,
      help,
      type: "gauge",
      lines: () => {
        const v = read();
        if (typeof v === "number") return [`${name} ${formatValue(v)}`];
        return v.map((s) => `${name}${labelText(s.labels)} ${formatValue(s.value)}`);
      },
    });
  }

  histogram(name: string, help: string, buckets: readonly number[] = DEFAULT_BUCKETS_S): Histogram {
    const histogram = new Histogram(name, buckets);
    this.#add({ name, help, type: "histogram", lines: () => histogram.lines() });
    return histogram;
  }

  /** The exposition text; a gauge whose read throws is left out (and named in a comment). */
  render(): string {
    const out: string[] = [];
    for (const f of this.#families) {
      let lines: string[];
      try {
        lines = f.lines();
      } catch (error) {
        out.push(`# ${f.name} could not be read: ${escapeHelp(String(error))}`);
        continue;
      }
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`, ...lines);
    }
    return out.join("\n") + "\n";
  }
}

/** The Content-Type of the text format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
