/**
 * GPIO through the libgpiod command-line tools, for kernels without sysfs GPIO. Their syntax
 * changed between libgpiod v1 and v2, so the version is read first (`gpioget --version`: v1
 * "gpioget (libgpiod) v1.6.3", v2 "gpioget (libgpiod) v2.1", later "… (libgpiod v2.2.1)"):
 * - v1: `gpioget <chip> <offset>…` prints "1 0"; `gpioset --mode=signal <chip> <offset>=<0|1>`
 *   holds the value until SIGTERM.
 * - v2: `gpioget -c <chip> <offset>…` prints `"17"=active "18"=inactive` (`17=active` with
 *   --unquoted, `1 0` with --numeric); `gpioset --banner -c <chip> <offset>=<0|1>` holds it
 *   until killed and prints "Setting line '17'..." once the line is requested.
 * A character-device line holds its value only while its process keeps it requested (gpioset's
 * manual: "after that is not guaranteed"), so each output line has its own long-running gpioset;
 * changing a line restarts only that line's process. The other lines are never touched.
 * Read-back of an output: its gpioset is alive and holds the level (the kernel will not let a
 * second process read a requested line); a feedback contact is the real check.
 */
import { KasiError } from "../../core/errors.ts";
import { type GpioBackend, type GpioChipInfo, pickChip } from "./gpio.ts";

export type LibgpiodVersion = 1 | 2;

/** The major version from `gpioget --version` (or gpioset's). */
export function parseLibgpiodVersion(text: string): LibgpiodVersion {
  const m = /libgpiod\)?\s+v(\d+)\.\d+/.exec(text);
  const major = m ? Number(m[1]) : NaN;
  if (major === 1) return 1;
  if (major >= 2) return 2;
  throw new Error(`cannot tell the libgpiod version from ${JSON.stringify(text.slice(0, 80))}`);
}

/** `gpiodetect`: "gpiochip0 [pinctrl-bcm2711] (58 lines)", one chip a line (v1 and v2). */
export function parseGpiodetect(text: string): GpioChipInfo[] {
  const chips: GpioChipInfo[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\S+)\s+\[([^\]]*)\]\s+\((\d+) lines?\)/.exec(line.trim());
    if (m) chips.push({ name: m[1]!, label: m[2]!, base: null, lines: Number(m[3]) });
  }
  return chips;
}

/** `gpioget`'s values, in the order asked: v1 "1 0"; v2 `"17"=active`, `17=active` or "1 0". */
export function parseGpioget(
  text: string,
  options: { version: LibgpiodVersion; count: number },
): boolean[] {
  const { version, count } = options;
  const tokens = text.trim().split(/\s+/).filter((t) => t !== "");
  const values = tokens.map((t) => {
    if (t === "0" || t === "1") return t === "1";
    const m = version === 2 ? /^(?:"[^"]*"|[^=\s]+)=(active|inactive)$/.exec(t) : null;
    if (!m) throw new Error(`gpioget (libgpiod v${version}): cannot read ${JSON.stringify(t)}`);
    return m[1] === "active";
  });
  if (values.length !== count) {
    throw new Error(
      `gpioget (libgpiod v${version}): expected ${count} values, got ${
        JSON.stringify(text.trim())
      }`,
    );
  }
  return values;
}

export function gpiogetArgs(
  version: LibgpiodVersion,
  options: { chip: string; lines: number[] },
): string[] {
  const offsets = options.lines.map(String);
  return version === 1 ? [options.chip, ...offsets] : ["-c", options.chip, ...offsets];
}

export function gpiosetArgs(
  version: LibgpiodVersion,
  options: { chip: string; line: number; level: boolean },
): string[] {
  const { chip } = options;
  const value = `${options.line}=${options.level ? 1 : 0}`;
  return version === 1 ? ["--mode=signal", chip, value] : ["--banner", "-c", chip, value];
}

/** v1 gpioset prints nothing once it holds the lines: alive this long means it does. */
const V1_SETTLE_MS = 150;
const START_TIMEOUT_MS = 3000;

interface Holder {
  level: boolean;
  child: Deno.ChildProcess;
  status: Deno.CommandStatus | null;
  stderr: string;
  done: Promise<void>;
}

export class LibgpiodGpio implements GpioBackend {
  readonly kind: "libgpiod-v1" | "libgpiod-v2";
  readonly chip: GpioChipInfo & { name: string };
  readonly version: LibgpiodVersion;
  readonly #env: Record<string, string> | undefined;
  readonly #holders = new Map<number, Holder>();

  private constructor(
    version: LibgpiodVersion,
    chip: GpioChipInfo & { name: string },
    env?: Record<string, string>,
  ) {
    this.version = version;
    this.kind = version === 1 ? "libgpiod-v1" : "libgpiod-v2";
    this.chip = chip;
    this.#env = env;
  }

  static async open(
    options: { label?: string; env?: Record<string, string> },
  ): Promise<LibgpiodGpio> {
    const version = parseLibgpiodVersion(await run("gpioget", ["--version"], options));
    const chip = pickChip(parseGpiodetect(await run("gpiodetect", [], options)), options.label);
    return new LibgpiodGpio(version, chip as GpioChipInfo & { name: string }, options.env);
  }

  setupInput(line: number): Promise<void> {
    this.#check(line);
    return Promise.resolve();
  }

  async setupOutput(line: number, initial: boolean): Promise<boolean> {
    this.#check(line);
    let level = initial;
    // v2 can read an output's level without turning it into an input (v1's gpioget would).
    if (this.version === 2) {
      const info = await run("gpioinfo", ["-c", this.chip.name, String(line)], { env: this.#env });
      if (/\boutput\b/.test(info)) {
        const text = await run(
          "gpioget",
          ["--as-is", ...gpiogetArgs(2, { chip: this.chip.name, lines: [line] })],
          { env: this.#env },
        );
        level = parseGpioget(text, { version: 2, count: 1 })[0]!;
      }
    }
    await this.#hold(line, level);
    return level;
  }

  async read(line: number): Promise<boolean> {
    this.#check(line);
    const holder = this.#holders.get(line);
    if (holder) {
      if (holder.status !== null) {
        throw new Error(
          `gpioset holding GPIO ${line} exited (code ${holder.status.code}): ${
            holder.stderr.trim() || "no message"
          }`,
        );
      }
      return holder.level;
    }
    const args = gpiogetArgs(this.version, { chip: this.chip.name, lines: [line] });
    const text = await run("gpioget", args, { env: this.#env });
    return parseGpioget(text, { version: this.version, count: 1 })[0]!;
  }

  async write(line: number, level: boolean): Promise<void> {
    this.#check(line);
    const holder = this.#holders.get(line);
    if (holder && holder.status === null && holder.level === level) return;
    await this.#hold(line, level);
  }

  /** Ends every gpioset: the lines are released (fail-safe wiring decides their state). */
  async close(): Promise<void> {
    await Promise.all([...this.#holders.keys()].map((line) => this.#release(line)));
  }

  #check(line: number): void {
    if (!(Number.isInteger(line) && line >= 0 && line < this.chip.lines)) {
      throw new KasiError(
        "CONFIG_INVALID",
        `GPIO ${line} does not exist on ${this.chip.name} [${this.chip.label}] (lines 0–${
          this.chip.lines - 1
        })`,
      );
    }
  }

  async #release(line: number): Promise<void> {
    const holder = this.#holders.get(line);
    if (!holder) return;
    this.#holders.delete(line);
    if (holder.status === null) {
      try {
        holder.child.kill("SIGTERM");
      } catch {
        // already gone
      }
    }
    await holder.done;
  }

  async #hold(line: number, level: boolean): Promise<void> {
    await this.#release(line);
    const args = gpiosetArgs(this.version, { chip: this.chip.name, line, level });
    const child = spawn("gpioset", args, { env: this.#env });
    const holder: Holder = { level, child, status: null, stderr: "", done: Promise.resolve() };
    let stdout = "";
    let sawBanner: () => void = () => {};
    const banner = new Promise<void>((resolve) => (sawBanner = resolve));
    const pump = async (stream: ReadableStream<Uint8Array>, onText: (t: string) => void) => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) onText(chunk);
    };
    holder.done = Promise.all([
      pump(child.stdout, (t) => {
        stdout += t;
        if (stdout.includes("Setting line")) sawBanner();
      }),
      pump(child.stderr, (t) => (holder.stderr += t)),
      child.status.then((s) => {
        holder.status = s;
      }),
    ]).then(() => {});
    this.#holders.set(line, holder);
    const settle = timer(this.version === 2 ? START_TIMEOUT_MS : V1_SETTLE_MS);
    const started = this.version === 2 ? banner : settle.done;
    const outcome = await Promise.race([
      started.then(() => "started" as const),
      child.status.then(() => "exited" as const),
      settle.done.then(() => "timeout" as const),
    ]);
    settle.cancel();
    if (outcome === "started" && holder.status === null) return;
    await this.#release(line);
    throw new Error(
      `gpioset ${args.join(" ")} ${
        outcome === "timeout"
          ? "did not confirm within " + START_TIMEOUT_MS + " ms"
          : `exited (code ${holder.status?.code})`
      }: ${holder.stderr.trim() || "no message"}`,
    );
  }
}

function spawn(
  cmd: string,
  args: string[],
  options: { env?: Record<string, string> },
): Deno.ChildProcess {
  try {
    const { env } = options;
    return new Deno.Command(cmd, { args, env, stdin: "null", stdout: "piped", stderr: "piped" })
      .spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new KasiError(
        "CONFIG_INVALID",
        `${cmd} not found: no sysfs GPIO on this kernel and no libgpiod tools (apt install gpiod)`,
      );
    }
    throw error;
  }
}

/** Runs a tool to completion; its stdout, or an error with its stderr. */
async function run(
  cmd: string,
  args: string[],
  options: { env?: Record<string, string> },
): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, env: options.env, stdin: "null" }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new KasiError(
        "CONFIG_INVALID",
        `${cmd} not found: no sysfs GPIO on this kernel and no libgpiod tools (apt install gpiod)`,
      );
    }
    throw error;
  }
  const decoder = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (code ${out.code}): ${decoder.decode(out.stderr).trim()}`,
    );
  }
  return decoder.decode(out.stdout);
}

/** A timer that can be cancelled, so a race never leaves one pending. */
function timer(ms: number): { done: Promise<void>; cancel: () => void } {
  let id: ReturnType<typeof setTimeout> | undefined;
  const done = new Promise<void>((resolve) => (id = setTimeout(resolve, ms)));
  return { done, cancel: () => clearTimeout(id) };
}
