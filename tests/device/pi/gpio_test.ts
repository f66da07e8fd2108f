/** GPIO backends: sysfs with the chip base read from the tree, and libgpiod v1/v2 via fake tools. */
import assert from "node:assert/strict";
import { KasiError } from "../../../src/core/errors.ts";
import { openGpio } from "../../../src/device/pi/gpio.ts";
import {
  LibgpiodGpio,
  parseGpiodetect,
  parseGpioget,
  parseLibgpiodVersion,
} from "../../../src/device/pi/gpio_libgpiod.ts";
import { SysfsGpio } from "../../../src/device/pi/gpio_sysfs.ts";
import { Sysfs } from "../../../src/device/pi/sysfs.ts";
import { fakeGpioTools } from "./fake_gpio_tools.ts";
import { FakeSysfs } from "./fake_sysfs.ts";

Deno.test("SysfsGpio numbers header lines from the chip's base: GPIO17 is 529 from 512", async () => {
  const fake = await FakeSysfs.create();
  try {
    // Raspberry Pi OS, kernel 6.6, Pi 4: the SoC's chip at 512, the firmware expander above it.
    await fake.gpioChip(512, { label: "pinctrl-bcm2711", ngpio: 58 });
    await fake.gpioChip(570, { label: "raspberrypi-exp-gpio", ngpio: 8 });
    fake.startKernel();
    const gpio = await openGpio({ sysfs: new Sysfs(fake.root), backend: "auto" });
    assert.equal(gpio.kind, "sysfs");
    assert.deepEqual(gpio.chip, { label: "pinctrl-bcm2711", base: 512, name: null, lines: 58 });
    // 512 + 17 = 529: exported, made an output with its level in one write ("high").
    assert.equal(await gpio.setupOutput(17, true), true);
    assert.equal(await fake.read("/sys/class/gpio/export"), "529");
    assert.equal((await fake.gpio(529)).value, "1");
    await gpio.write(17, false);
    assert.equal((await fake.gpio(529)).value, "0");
    assert.equal(await gpio.read(17), false);
  } finally {
    await fake.dispose();
  }
});

Deno.test("SysfsGpio finds the Pi 5's RP1 chip (base 571) and keeps an output's level", async () => {
  const fake = await FakeSysfs.create();
  try {
    await fake.gpioChip(512, { label: "gpio-brcmstb@107d508500", ngpio: 32 });
    await fake.gpioChip(571, { label: "pinctrl-rp1", ngpio: 54 });
    // GPIO22 = 571 + 22 = 593, already an output driven high by the previous run.
    await fake.gpioLine(593, { direction: "out", value: "1" });
    const gpio = await SysfsGpio.open(new Sysfs(fake.root), {});
    assert.equal(gpio.number(22), 593);
    assert.equal(
      await gpio.setupOutput(22, false),
      true,
      "kept high, not reset to the initial low",
    );
    assert.equal((await fake.gpio(593)).value, "1");
    assert.equal(await fake.read("/sys/class/gpio/export"), "", "no export: already exported");
  } finally {
    await fake.dispose();
  }
});

Deno.test("SysfsGpio names a missing chip label and a line beyond the chip", async () => {
  const fake = await FakeSysfs.create();
  try {
    await fake.gpioChip(512, { label: "pinctrl-bcm2711", ngpio: 58 });
    await assert.rejects(
      SysfsGpio.open(new Sysfs(fake.root), { label: "pinctrl-rp1" }),
      (e) =>
        e instanceof KasiError &&
        /gpio\.chip "pinctrl-rp1": no GPIO chip with that label \(found: pinctrl-bcm2711\)/.test(
          e.message,
        ),
    );
    const gpio = await SysfsGpio.open(new Sysfs(fake.root), {});
    assert.throws(
      () => gpio.number(58),
      /GPIO 58 does not exist on pinctrl-bcm2711 \(lines 0–57\)/,
    );
  } finally {
    await fake.dispose();
  }
});

Deno.test("parseLibgpiodVersion() tells v1 from v2 by the tools' --version line", () => {
  // Formats of libgpiod's print_version(): v1 "%s (libgpiod) v%s", v2 the same, newer tools
  // "gpioset v2.3.2 (libgpiod v2.2.1)".
  assert.equal(parseLibgpiodVersion("gpioget (libgpiod) v1.6.3\nCopyright (C) 2017-2018"), 1);
  assert.equal(parseLibgpiodVersion("gpioget (libgpiod) v2.1\nCopyright (C) 2017-2023"), 2);
  assert.equal(parseLibgpiodVersion("gpioset v2.3.2 (libgpiod v2.2.1)"), 2);
  assert.throws(() => parseLibgpiodVersion("gpioget 0.1"), /cannot tell the libgpiod version/);
});

Deno.test("parseGpioget() reads v1's digits and v2's quoted, unquoted and numeric forms", () => {
  // v2 formats as pinned by libgpiod's tools/gpio-tools-test.bash.
  assert.deepEqual(parseGpioget("1 0\n", { version: 1, count: 2 }), [true, false]);
  assert.deepEqual(parseGpioget('"17"=active "27"=inactive\n', { version: 2, count: 2 }), [
    true,
    false,
  ]);
  assert.deepEqual(parseGpioget("17=inactive\n", { version: 2, count: 1 }), [false]);
  assert.deepEqual(parseGpioget("0 1\n", { version: 2, count: 2 }), [false, true]);
  assert.throws(
    () => parseGpioget('"17"=active', { version: 1, count: 1 }),
    /cannot read "\\"17\\"=active"/,
  );
  assert.throws(() => parseGpioget("1", { version: 1, count: 2 }), /expected 2 values, got "1"/);
});

Deno.test("parseGpiodetect() lists chips with their labels and line counts", () => {
  assert.deepEqual(
    parseGpiodetect(
      "gpiochip0 [pinctrl-bcm2711] (58 lines)\ngpiochip1 [raspberrypi-exp-gpio] (8 lines)\n",
    ),
    [
      { name: "gpiochip0", label: "pinctrl-bcm2711", base: null, lines: 58 },
      { name: "gpiochip1", label: "raspberrypi-exp-gpio", base: null, lines: 8 },
    ],
  );
});

for (const version of [1, 2] as const) {
  Deno.test(`LibgpiodGpio v${version}: reads inputs and holds each output in its own gpioset`, async () => {
    const tools = await fakeGpioTools(version);
    const gpio = await LibgpiodGpio.open({ env: tools.env });
    try {
      assert.equal(gpio.kind, `libgpiod-v${version}`);
      assert.equal(gpio.chip.name, "gpiochip0");
      await tools.setLevel(17, 1);
      await gpio.setupInput(17);
      assert.equal(await gpio.read(17), true);
      assert.equal(await gpio.setupOutput(22, false), false);
      await gpio.write(22, true);
      assert.equal(await tools.level(22), "1");
      assert.equal(await gpio.read(22), true, "read back from the holder, not with gpioget");
      await gpio.write(22, true); // unchanged: no new process
      const calls = await tools.calls();
      const sets = calls.filter((c) => c.startsWith("gpioset"));
      const expected = version === 1
        ? ["gpioset --mode=signal gpiochip0 22=0", "gpioset --mode=signal gpiochip0 22=1"]
        : ["gpioset --banner -c gpiochip0 22=0", "gpioset --banner -c gpiochip0 22=1"];
      assert.deepEqual(sets, expected);
      const get = version === 1 ? "gpioget gpiochip0 17" : "gpioget -c gpiochip0 17";
      assert.ok(calls.includes(get), calls.join("\n"));
    } finally {
      await gpio.close();
      await tools.dispose();
    }
  });
}

Deno.test("LibgpiodGpio v2 keeps an output's level across a restart (gpioget --as-is)", async () => {
  const tools = await fakeGpioTools(2);
  await tools.setLevel(23, 1);
  await Deno.writeTextFile(`${tools.state}/23.dir`, "output\n");
  const gpio = await LibgpiodGpio.open({ env: tools.env });
  try {
    assert.equal(await gpio.setupOutput(23, false), true);
    const calls = await tools.calls();
    assert.ok(calls.includes("gpioget --as-is -c gpiochip0 23"), calls.join("\n"));
    assert.ok(calls.includes("gpioset --banner -c gpiochip0 23=1"), calls.join("\n"));
  } finally {
    await gpio.close();
    await tools.dispose();
  }
});

Deno.test("LibgpiodGpio reports a line it cannot hold, with gpioset's message", async () => {
  const tools = await fakeGpioTools(2, { busy: [24] });
  const gpio = await LibgpiodGpio.open({ env: tools.env });
  try {
    await assert.rejects(
      gpio.setupOutput(24, false),
      /gpioset --banner -c gpiochip0 24=0 exited \(code 1\): gpioset: unable to request lines on chip 'gpiochip0': Device or resource busy/,
    );
  } finally {
    await gpio.close();
    await tools.dispose();
  }
});

Deno.test("openGpio() falls back to libgpiod where the kernel has no sysfs GPIO", async () => {
  const fake = await FakeSysfs.create(); // no /sys/class/gpio at all
  const tools = await fakeGpioTools(1);
  try {
    const gpio = await openGpio({ sysfs: new Sysfs(fake.root), backend: "auto", env: tools.env });
    assert.equal(gpio.kind, "libgpiod-v1");
    await gpio.close();
    await assert.rejects(
      openGpio({ sysfs: new Sysfs(fake.root), backend: "sysfs" }),
      /gpio\.backend "sysfs": \/sys\/class\/gpio\/export is missing/,
    );
    await assert.rejects(
      openGpio({ sysfs: new Sysfs(fake.root), backend: "auto", env: { PATH: "/nonexistent" } }),
      /gpioget not found: no sysfs GPIO on this kernel and no libgpiod tools \(apt install gpiod\)/,
    );
  } finally {
    await tools.dispose();
    await fake.dispose();
  }
});
