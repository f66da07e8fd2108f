/**
 * GPIO lines by their offset on the header's chip (the BCM number: GPIO17 is line 17), through
 * the kernel's sysfs GPIO interface where it exists, else the libgpiod command-line tools. Levels
 * here are electrical (true = high); active-low wiring is the driver's business.
 */
import { KasiError } from "../../core/errors.ts";
import { PI_GPIO_LABELS } from "./config.ts";
import { LibgpiodGpio } from "./gpio_libgpiod.ts";
import { SysfsGpio } from "./gpio_sysfs.ts";
import type { Sysfs } from "./sysfs.ts";

export interface GpioChipInfo {
  label: string;
  /** sysfs: the first global GPIO number (0, or 512 and up on kernels from 6.6); else null. */
  base: number | null;
  /** libgpiod: the character device name ("gpiochip0"); else null. */
  name: string | null;
  lines: number;
}

export interface GpioBackend {
  readonly kind: "sysfs" | "libgpiod-v1" | "libgpiod-v2";
  readonly chip: GpioChipInfo;
  setupInput(line: number): Promise<void>;
  /**
   * Makes `line` an output. A line that already is one keeps its level (no glitch on a restart
   * while a contactor is held); otherwise it starts at `initial`. Returns the level it has.
   */
  setupOutput(line: number, initial: boolean): Promise<boolean>;
  /** The electrical level: an input's, or an output's as the pin reads back. */
  read(line: number): Promise<boolean>;
  write(line: number, level: boolean): Promise<void>;
  close(): Promise<void>;
}

export interface OpenGpioOptions {
  sysfs: Sysfs;
  backend: "auto" | "sysfs" | "libgpiod";
  /** The chip's label; default: the first of PI_GPIO_LABELS present. */
  label?: string;
  /** The environment the libgpiod tools run with (tests put fake tools on PATH). */
  env?: Record<string, string>;
}

/** The sysfs GPIO interface when the kernel has it (CONFIG_GPIO_SYSFS), else libgpiod. */
export async function openGpio(options: OpenGpioOptions): Promise<GpioBackend> {
  const { sysfs } = options;
  const hasSysfs = await sysfs.exists("/sys/class/gpio/export");
  if (options.backend === "sysfs" || (options.backend === "auto" && hasSysfs)) {
    if (!hasSysfs) {
      throw new KasiError(
        "CONFIG_INVALID",
        'gpio.backend "sysfs": /sys/class/gpio/export is missing (the kernel has no ' +
          'CONFIG_GPIO_SYSFS); use "auto" or "libgpiod"',
      );
    }
    return await SysfsGpio.open(sysfs, { label: options.label });
  }
  return await LibgpiodGpio.open({ label: options.label, env: options.env });
}

/** The chip to use among those found: the configured label, else the Pi header's. */
export function pickChip<T extends { label: string }>(chips: T[], label?: string): T {
  const wanted = label ? [label] : [...PI_GPIO_LABELS];
  for (const l of wanted) {
    const chip = chips.find((c) => c.label === l);
    if (chip) return chip;
  }
  const seen = chips.map((c) => c.label).join(", ") || "none";
  throw new KasiError(
    "CONFIG_INVALID",
    label
      ? `gpio.chip "${label}": no GPIO chip with that label (found: ${seen})`
      : `no Raspberry Pi GPIO chip (${PI_GPIO_LABELS.join(", ")}) found (found: ${seen}); ` +
        "set gpio.chip to the label of the chip to use",
  );
}
