/**
 * Reading the kernel's sysfs as plain files, under a root that tests point at a fake tree
 * (`--sysfs-root`). A read either gives text or says why not, naming the path and the error the
 * kernel returned (ENOENT: the device is gone; EIO: the bus transfer failed; a timeout: the read
 * hung), so a sensor is reported invalid with the reason, never read as 0.
 */

export type ReadResult = { ok: true; text: string } | { ok: false; reason: string };

export class Sysfs {
  /** The directory that stands for "/" ("/" on the device). */
  readonly root: string;
  readonly timeoutMs: number;

  constructor(root: string, options: { timeoutMs?: number } = {}) {
    this.root = root.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 1500;
  }

  /** The real path of a sysfs path such as "/sys/class/hwmon". */
  path(sysPath: string): string {
    return `${this.root}${sysPath.startsWith("/") ? "" : "/"}${sysPath}`;
  }

  /** The sysfs path of a real path under the root (for messages). */
  display(realPath: string): string {
    return this.root && realPath.startsWith(this.root)
      ? realPath.slice(this.root.length)
      : realPath;
  }

  /** Reads a sysfs attribute, bounded by the timeout. */
  async read(sysPath: string): Promise<ReadResult> {
    const real = this.path(sysPath);
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<ReadResult>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve({ ok: false, reason: `${sysPath}: no answer within ${this.timeoutMs} ms` });
      }, this.timeoutMs);
    });
    const read = Deno.readTextFile(real, { signal: controller.signal }).then(
      (text): ReadResult => ({ ok: true, text }),
      (error): ReadResult => ({ ok: false, reason: `${sysPath}: ${describeError(error)}` }),
    );
    try {
      return await Promise.race([read, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads an attribute that holds one integer (sysfs values are integers in fixed units). */
  async readInt(
    sysPath: string,
  ): Promise<{ ok: true; value: number } | { ok: false; reason: string }> {
    const r = await this.read(sysPath);
    if (!r.ok) return r;
    const text = r.text.trim();
    if (!/^-?\d+$/.test(text)) {
      return {
        ok: false,
        reason: `${sysPath}: not an integer: ${JSON.stringify(text.slice(0, 40))}`,
      };
    }
    return { ok: true, value: Number(text) };
  }

  /** Reads a decimal attribute (IIO scales are like "0.125000000"). */
  async readDecimal(
    sysPath: string,
  ): Promise<{ ok: true; value: number } | { ok: false; reason: string }> {
    const r = await this.read(sysPath);
    if (!r.ok) return r;
    const text = r.text.trim();
    if (!/^-?\d+(\.\d+)?$/.test(text)) {
      return {
        ok: false,
        reason: `${sysPath}: not a number: ${JSON.stringify(text.slice(0, 40))}`,
      };
    }
    return { ok: true, value: Number(text) };
  }

  async exists(sysPath: string): Promise<boolean> {
    try {
      await Deno.stat(this.path(sysPath));
      return true;
    } catch {
      return false;
    }
  }

  /** Entry names of a sysfs directory, sorted; empty when it does not exist. */
  async list(sysPath: string): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(this.path(sysPath))) names.push(e.name);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return names.sort(naturalOrder);
  }

  /**
   * The I2C bus-address ("1-0048") a class device sits on, from where its sysfs link points
   * (…/i2c-1/1-0048/iio:device0); null when it is not an I2C device.
   */
  async address(sysPath: string): Promise<string | null> {
    let real: string;
    try {
      real = await Deno.realPath(this.path(sysPath));
    } catch {
      return null;
    }
    const parts = real.split("/").filter((p) => /^\d+-[0-9a-f]{4}$/.test(p));
    return parts.at(-1) ?? null;
  }

  /**
   * The class devices under `dir` whose `name` file is `name` (and at `address`, when given):
   * the kernel numbers hwmonN and iio:deviceN in probe order, which changes between boots.
   */
  async findByName(
    dir: string,
    options: { entries: RegExp; name: string; address?: string },
  ): Promise<{ path: string; address: string | null }[]> {
    const { name, address } = options;
    const found: { path: string; address: string | null }[] = [];
    for (const entry of await this.list(dir)) {
      if (!options.entries.test(entry)) continue;
      const path = `${dir}/${entry}`;
      const r = await this.read(`${path}/name`);
      if (!r.ok || r.text.trim() !== name) continue;
      const at = await this.address(path);
      if (address === undefined || at === address) found.push({ path, address: at });
    }
    return found;
  }
}

/** "EIO (Input/output error)" and the like, from a Deno file error. */
export function describeError(error: unknown): string {
  const e = error as Error & { code?: string };
  if (e instanceof Deno.errors.NotFound) return "missing (ENOENT): device unplugged or not bound";
  const text = e.message?.replace(/: (readfile|open|write|writefile) '.*'$/, "") ?? String(error);
  return e.code ? `${e.code}: ${text}` : text;
}

/** hwmon2 before hwmon10. */
function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}
