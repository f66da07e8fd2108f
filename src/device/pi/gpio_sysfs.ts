/**
 * The kernel's sysfs GPIO interface (Documentation/admin-guide/gpio/sysfs.rst): a line is
 * exported by writing its global number to /sys/class/gpio/export, then driven through
 * gpioN/direction and gpioN/value. The global number is the chip's base plus the line's offset;
 * the base is read from /sys/class/gpio/gpiochipN/base, never assumed: since Linux 6.2 ("gpio:
 * Get rid of ARCH_NR_GPIOS") chips are numbered from 512, so on Raspberry Pi OS kernels 6.6 and
 * later GPIO17 of the Pi 4 is 529, not 17. Exported lines stay as set when the process exits,
 * which is what lets `kasi device safe-state` (systemd ExecStopPost) set the safe state after a
 * crash.
 */
import { KasiError } from "../../core/errors.ts";
import { type GpioBackend, type GpioChipInfo, pickChip } from "./gpio.ts";
import { describeError, type Sysfs } from "./sysfs.ts";

/** udev gives gpioN/* to the gpio group a moment after export; wait this long for it. */
const PERMISSION_WAIT_MS = 2000;
const POLL_MS = 25;

export class SysfsGpio implements GpioBackend {
  readonly kind = "sysfs" as const;
  readonly chip: GpioChipInfo & { base: number };
  readonly #sysfs: Sysfs;

  private constructor(sysfs: Sysfs, chip: GpioChipInfo & { base: number }) {
    this.#sysfs = sysfs;
    this.chip = chip;
  }

  /** Every GPIO chip sysfs lists, with its base, label and line count. */
  static async chips(sysfs: Sysfs): Promise<(GpioChipInfo & { base: number })[]> {
    const chips: (GpioChipInfo & { base: number })[] = [];
    for (const entry of await sysfs.list("/sys/class/gpio")) {
      if (!/^gpiochip\d+$/.test(entry)) continue;
      const dir = `/sys/class/gpio/${entry}`;
      const [base, label, ngpio] = await Promise.all([
        sysfs.readInt(`${dir}/base`),
        sysfs.read(`${dir}/label`),
        sysfs.readInt(`${dir}/ngpio`),
      ]);
      if (!base.ok || !label.ok || !ngpio.ok) continue;
      chips.push({ label: label.text.trim(), base: base.value, name: null, lines: ngpio.value });
    }
    return chips;
  }

  static async open(sysfs: Sysfs, options: { label?: string }): Promise<SysfsGpio> {
    return new SysfsGpio(sysfs, pickChip(await SysfsGpio.chips(sysfs), options.label));
  }

  /** The global sysfs number of a line. */
  number(line: number): number {
    if (!(Number.isInteger(line) && line >= 0 && line < this.chip.lines)) {
      throw new KasiError(
        "CONFIG_INVALID",
        `GPIO ${line} does not exist on ${this.chip.label} (lines 0–${this.chip.lines - 1})`,
      );
    }
    return this.chip.base + line;
  }

  async setupInput(line: number): Promise<void> {
    const dir = await this.#export(line);
    if ((await this.#readText(`${dir}/direction`)) !== "in") {
      await this.#write(`${dir}/direction`, "in");
    }
    await this.#normalPolarity(dir);
  }

  async setupOutput(line: number, initial: boolean): Promise<boolean> {
    const dir = await this.#export(line);
    await this.#normalPolarity(dir);
    if ((await this.#readText(`${dir}/direction`)) === "out") return await this.read(line);
    // "high"/"low" make it an output with that level in one step: no glitch through "out" = low.
    await this.#write(`${dir}/direction`, initial ? "high" : "low");
    // Read the pin back: a driver that ignored the initial level gets it written now.
    if ((await this.read(line)) !== initial) await this.write(line, initial);
    return initial;
  }

  async read(line: number): Promise<boolean> {
    const path = `${this.#dir(line)}/value`;
    const text = await this.#readText(path);
    if (text !== "0" && text !== "1") {
      throw new Error(`${path}: expected 0 or 1, read ${JSON.stringify(text.slice(0, 20))}`);
    }
    return text === "1";
  }

  async write(line: number, level: boolean): Promise<void> {
    await this.#write(`${this.#dir(line)}/value`, level ? "1" : "0");
  }

  /** Exported lines are left as they are: their levels are the state the site is in. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  #dir(line: number): string {
    return `/sys/class/gpio/gpio${this.number(line)}`;
  }

  async #export(line: number): Promise<string> {
    const dir = this.#dir(line);
    if (!await this.#sysfs.exists(`${dir}/value`)) {
      await this.#write("/sys/class/gpio/export", String(this.number(line)));
      const until = performance.now() + PERMISSION_WAIT_MS;
      while (!await this.#sysfs.exists(`${dir}/value`)) {
        if (performance.now() > until) {
          throw new Error(`${dir} did not appear after exporting GPIO ${this.number(line)}`);
        }
        await sleep(POLL_MS);
      }
    }
    return dir;
  }

  /** This driver does active-low itself; a line some earlier user set inverted is reset. */
  async #normalPolarity(dir: string): Promise<void> {
    if (!await this.#sysfs.exists(`${dir}/active_low`)) return;
    if ((await this.#readText(`${dir}/active_low`)) !== "0") {
      await this.#write(`${dir}/active_low`, "0");
    }
  }

  async #readText(sysPath: string): Promise<string> {
    const r = await this.#sysfs.read(sysPath);
    if (!r.ok) throw new Error(r.reason);
    return r.text.trim();
  }

  /** Writes a sysfs file, waiting out udev's permission change right after an export. */
  async #write(sysPath: string, text: string): Promise<void> {
    const until = performance.now() + PERMISSION_WAIT_MS;
    while (true) {
      try {
        await Deno.writeTextFile(this.#sysfs.path(sysPath), text);
        return;
      } catch (error) {
        if (!(error instanceof Deno.errors.PermissionDenied) || performance.now() > until) {
          throw new Error(`${sysPath}: cannot write "${text}": ${describeError(error)}`);
        }
        await sleep(POLL_MS);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
