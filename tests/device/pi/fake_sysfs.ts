/**
 * Test helper: a fake sysfs tree in a temporary folder, laid out as the kernel lays out the real
 * one (class links pointing into /sys/devices, so a device's I2C address is where its link
 * points), with a small stand-in for the kernel's GPIO side: exporting a number creates its
 * gpioN directory, and "high"/"low" written to a direction reads "out" soon after.
 */
export interface GpioLineState {
  direction: string;
  value: string;
}

export class FakeSysfs {
  readonly root: string;
  #kernel: ReturnType<typeof setInterval> | undefined;

  private constructor(root: string) {
    this.root = root;
  }

  static async create(): Promise<FakeSysfs> {
    return new FakeSysfs(await Deno.makeTempDir({ prefix: "kasi-fake-sysfs-" }));
  }

  path(sysPath: string): string {
    return `${this.root}${sysPath}`;
  }

  /** Writes a file whole: through a rename, so a reader never sees it half written. */
  async file(sysPath: string, content: string | number): Promise<void> {
    const path = this.path(sysPath);
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    await Deno.writeTextFile(tmp, `${content}\n`);
    await Deno.rename(tmp, path);
  }

  async read(sysPath: string): Promise<string> {
    return (await Deno.readTextFile(this.path(sysPath))).trim();
  }

  async remove(sysPath: string): Promise<void> {
    await Deno.remove(this.path(sysPath), { recursive: true });
  }

  /** Makes reading `sysPath` fail with EIO, as an attribute does when its I2C transfer fails. */
  async eio(sysPath: string): Promise<void> {
    await Deno.remove(this.path(sysPath)).catch(() => {});
    await Deno.symlink("/proc/self/mem", this.path(sysPath));
  }

  /** A GPIO chip as sysfs lists it, and the export files. */
  async gpioChip(base: number, options: { label: string; ngpio: number }): Promise<void> {
    const { label, ngpio } = options;
    const dir = `/sys/class/gpio/gpiochip${base}`;
    await this.file(`${dir}/base`, base);
    await this.file(`${dir}/label`, label);
    await this.file(`${dir}/ngpio`, ngpio);
    await this.file("/sys/class/gpio/export", "");
    await this.file("/sys/class/gpio/unexport", "");
  }

  /** An exported line. */
  async gpioLine(number: number, state: GpioLineState): Promise<void> {
    const dir = `/sys/class/gpio/gpio${number}`;
    await this.file(`${dir}/direction`, state.direction);
    await this.file(`${dir}/active_low`, 0);
    await this.file(`${dir}/value`, state.value);
  }

  async gpio(number: number): Promise<GpioLineState> {
    const dir = `/sys/class/gpio/gpio${number}`;
    return {
      direction: await this.read(`${dir}/direction`),
      value: await this.read(`${dir}/value`),
    };
  }

  async setGpio(number: number, value: 0 | 1): Promise<void> {
    await this.file(`/sys/class/gpio/gpio${number}/value`, value);
  }

  /** An IIO device at an I2C address, with channels { voltage0: { raw, scale } }. */
  async iio(
    n: number,
    options: {
      name: string;
      address: string;
      channels: Record<string, { raw: number; scale: string }>;
    },
  ): Promise<void> {
    const { name, address, channels } = options;
    const real = `/sys/devices/platform/soc/fe804000.i2c/i2c-1/${address}/iio:device${n}`;
    await this.file(`${real}/name`, name);
    for (const [channel, c] of Object.entries(channels)) {
      await this.file(`${real}/in_${channel}_raw`, c.raw);
      await this.file(`${real}/in_${channel}_scale`, c.scale);
    }
    await this.link(`/sys/bus/iio/devices/iio:device${n}`, real);
  }

  /** A hwmon device at an I2C address, with attribute files { in1_input: 26400 }. */
  async hwmon(
    n: number,
    options: { name: string; address: string; files: Record<string, number> },
  ): Promise<void> {
    const { name, address, files } = options;
    const real = `/sys/devices/platform/soc/fe804000.i2c/i2c-1/${address}/hwmon/hwmon${n}`;
    await this.file(`${real}/name`, name);
    for (const [file, value] of Object.entries(files)) await this.file(`${real}/${file}`, value);
    await this.link(`/sys/class/hwmon/hwmon${n}`, real);
  }

  /** A DS18B20 (w1_therm) reading `milliC`. */
  async w1(id: string, milliC: number): Promise<void> {
    const real = `/sys/devices/w1_bus_master1/${id}`;
    await this.file(`${real}/temperature`, milliC);
    await this.link(`/sys/bus/w1/devices/${id}`, real);
  }

  async link(sysPath: string, target: string): Promise<void> {
    const path = this.path(sysPath);
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.remove(path).catch(() => {});
    await Deno.symlink(this.path(target), path);
  }

  /** Starts the stand-in for the kernel's GPIO side (stopped by dispose). */
  startKernel(): void {
    let busy = false;
    this.#kernel = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        await this.#kernelStep();
      } catch {
        // a file being written right now: the next step sees it whole
      } finally {
        busy = false;
      }
    }, 2);
  }

  async #kernelStep(): Promise<void> {
    const exported = (await this.read("/sys/class/gpio/export").catch(() => "")).trim();
    if (/^\d+$/.test(exported)) {
      const dir = `/sys/class/gpio/gpio${exported}`;
      if (!await exists(this.path(`${dir}/value`))) {
        await this.file(`${dir}/direction`, "in");
        await this.file(`${dir}/active_low`, 0);
        await this.file(`${dir}/value`, 0);
      }
    }
    for await (const e of Deno.readDir(this.path("/sys/class/gpio"))) {
      if (!/^gpio\d+$/.test(e.name)) continue;
      const dir = `/sys/class/gpio/${e.name}`;
      const direction = await this.read(`${dir}/direction`).catch(() => "");
      // The level itself is the driver's to check (it reads the value back and corrects it).
      if (direction === "high" || direction === "low") await this.file(`${dir}/direction`, "out");
    }
  }

  async dispose(): Promise<void> {
    clearInterval(this.#kernel);
    // Let a kernel step in flight finish before its files go.
    await new Promise((r) => setTimeout(r, 10));
    await Deno.remove(this.root, { recursive: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
