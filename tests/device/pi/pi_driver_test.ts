/** PiDriver on a fake sysfs tree: sensors, interlocked break-before-make, read-back faults. */
import assert from "node:assert/strict";
import { parsePiConfig } from "../../../src/device/pi/config_load.ts";
import { SysfsGpio } from "../../../src/device/pi/gpio_sysfs.ts";
import { PiDriver } from "../../../src/device/pi/pi_driver.ts";
import { Sysfs } from "../../../src/device/pi/sysfs.ts";
import { switchOutputs } from "../../../src/device/switch_outputs.ts";
import type { FakeSysfs } from "./fake_sysfs.ts";
import { fakeGpioTools } from "./fake_gpio_tools.ts";
import { RecordingGpio } from "./recording_gpio.ts";
import { BASE, followFeedback, GPIO, siteConfig, siteTree } from "./site_fixture.ts";

const DEAD_TIME_MS = 50;

async function open(fake: FakeSysfs, patch: (c: Record<string, unknown>) => void = () => {}) {
  const raw = siteConfig("tower-017");
  patch(raw);
  const config = parsePiConfig(JSON.stringify(raw), "site.json");
  const gpio = new RecordingGpio(await SysfsGpio.open(new Sysfs(fake.root), {}));
  const driver = await PiDriver.open({ config, root: fake.root, deadTimeMs: DEAD_TIME_MS, gpio });
  return { driver, gpio };
}

/** Runs `fn` on the site tree with feedback contacts that follow their coils (or are stuck). */
async function withSite(
  fn: (fake: FakeSysfs) => Promise<void>,
  stuck: Parameters<typeof followFeedback>[1] = {},
) {
  const fake = await siteTree();
  const stop = followFeedback(fake, stuck);
  try {
    await fn(fake);
  } finally {
    await stop();
    await fake.dispose();
  }
}

Deno.test("PiDriver reads every sensor kind of the wired site", async () => {
  await withSite(async (fake) => {
    const { driver } = await open(fake);
    try {
      const r = await driver.readSensors();
      // 19200 × 0.125 mV × 11 = 26.4 V; −12500 mA = −12.5 A; 330e6 µW = 330 W; 8000 × 0.1875 mV
      // = 1.5 V → 25 % on the sender's table; 23125 m°C; GPIO17 low: stopped; GPIO27 high with
      // active_low: the door contact is not active (closed).
      assert.deepEqual(
        { ...r, batteryV: Math.round(r.batteryV! * 1000) / 1000 },
        {
          batteryV: 26.4,
          batteryA: -12.5,
          socPct: null,
          loadW: 330,
          pvW: null,
          genRunning: false,
          genW: null,
          fuelPct: 25,
          batteryTempC: 23.125,
          inputs: { door: false },
        },
      );
      await fake.setGpio(BASE + GPIO.door, 0);
      await fake.setGpio(BASE + GPIO.genRunning, 1);
      const after = await driver.readSensors();
      assert.deepEqual([after.inputs, after.genRunning], [{ door: true }, true]);
    } finally {
      await driver.close();
    }
  });
});

Deno.test("PiDriver lists unplugged and failing sensors as invalid and reads them null", async () => {
  await withSite(async (fake) => {
    const { driver } = await open(fake);
    try {
      await fake.remove("/sys/class/hwmon/hwmon3"); // the load's INA226 gone
      await fake.eio("/sys/devices/w1_bus_master1/28-0316a2795aff/temperature");
      const r = await driver.readSensors();
      assert.equal(r.loadW, null);
      assert.equal(r.batteryTempC, null);
      assert.deepEqual(r.invalid?.map((f) => f.sensor), ["loadW", "batteryTempC"]);
      assert.match(
        r.invalid![0]!.reason,
        /no device named "ina226" at 1-0041 under \/sys\/class\/hwmon/,
      );
      assert.match(r.invalid![1]!.reason, /28-0316a2795aff\/temperature: EIO/);
      assert.equal(Math.round(r.batteryV! * 10) / 10, 26.4, "the rest still reads");
    } finally {
      await driver.close();
    }
  });
});

Deno.test("PiDriver opens the old source before closing the new, the dead time apart", async () => {
  await withSite(async (fake) => {
    const { driver, gpio } = await open(fake);
    try {
      // Fresh lines start inactive: both contactors open, source off.
      assert.equal((await driver.readOutputs()).source, "off");
      await driver.setOutputs({ source: "battery", genRun: true, shedTier: 0 });
      assert.equal((await driver.readOutputs()).source, "battery");
      gpio.log.length = 0;
      gpio.times.length = 0;
      // Straight to the generator in one call: the driver itself still breaks before it makes.
      await driver.setOutputs({ source: "generator", genRun: true, shedTier: 0 });
      // Only what changes is written: the battery contactor open, then the generator's closed.
      assert.deepEqual(gpio.log, [`GPIO${GPIO.battery}=0`, `GPIO${GPIO.generator}=1`]);
      const opened = gpio.times.find((t) => t.what === `GPIO${GPIO.battery}=0`)!.atMs;
      const closed = gpio.times.find((t) => t.what === `GPIO${GPIO.generator}=1`)!.atMs;
      assert.ok(closed - opened >= DEAD_TIME_MS, `closed ${closed - opened} ms after the open`);
      const back = await driver.readOutputs();
      assert.deepEqual(back, { source: "generator", genRun: true, shedTier: 0, fault: null });
      // On the sysfs files: GPIO22 → 534 low, GPIO23 → 535 high (base 512).
      assert.deepEqual(
        [
          (await fake.gpio(BASE + GPIO.battery)).value,
          (await fake.gpio(BASE + GPIO.generator)).value,
        ],
        ["0", "1"],
      );
    } finally {
      await driver.close();
    }
  });
});

Deno.test("switchOutputs() over PiDriver: off, read back, dead time, then the generator", async () => {
  await withSite(async (fake) => {
    const { driver, gpio } = await open(fake);
    try {
      await driver.setOutputs({ source: "battery", genRun: true, shedTier: 0 });
      gpio.log.length = 0;
      const sleep = (ms: number) => {
        gpio.note(`wait ${ms}`);
        return new Promise<void>((r) => setTimeout(r, ms));
      };
      const r = await switchOutputs(
        driver,
        { source: "generator", genRun: true, shedTier: 0 },
        { from: "battery", deadTimeMs: 1000, sleep },
      );
      assert.deepEqual(gpio.log, [`GPIO${GPIO.battery}=0`, "wait 1000", `GPIO${GPIO.generator}=1`]);
      assert.deepEqual([r.actual.source, r.blocked], ["generator", null]);
    } finally {
      await driver.close();
    }
  });
});

Deno.test("PiDriver never closes the generator while the battery contactor reads closed", async () => {
  // The battery contactor is welded: its auxiliary contact stays closed whatever its coil does.
  await withSite(async (fake) => {
    const { driver, gpio } = await open(fake);
    try {
      await driver.setOutputs({ source: "battery", genRun: true, shedTier: 0 });
      gpio.log.length = 0;
      const r = await switchOutputs(
        driver,
        { source: "generator", genRun: true, shedTier: 0 },
        { from: "battery", deadTimeMs: 10 },
      );
      assert.deepEqual(r.blocked, { from: "battery", to: "generator", readBack: "battery" });
      assert.ok(!gpio.log.includes(`GPIO${GPIO.generator}=1`), gpio.log.join(", "));
      // A direct call is refused by the driver's own interlock.
      await driver.setOutputs({ source: "generator", genRun: true, shedTier: 0 });
      assert.ok(!gpio.log.includes(`GPIO${GPIO.generator}=1`), gpio.log.join(", "));
      const back = await driver.readOutputs();
      assert.equal(back.source, "battery");
      assert.match(
        back.fault!,
        /outputs\.battery_contactor: feedback GPIO 16 reads closed \d+ ms after it was driven open/,
      );
      assert.match(
        back.fault!,
        /interlock: outputs\.generator_contactor not closed because outputs\.battery_contactor reads closed/,
      );
    } finally {
      await driver.close();
    }
  }, { battery: 1 });
});

Deno.test("PiDriver reports a contactor that does not close and a pin that reads wrong", async () => {
  await withSite(async (fake) => {
    const { driver } = await open(fake);
    try {
      await driver.setOutputs({ source: "generator", genRun: true, shedTier: 0 });
      const back = await driver.readOutputs();
      // The coil was driven, the auxiliary contact never followed (250 ms allowed).
      assert.equal(back.source, "off");
      assert.match(
        back.fault!,
        /outputs\.generator_contactor: feedback GPIO 26 reads open \d+ ms after it was driven closed/,
      );
      // The run relay's pin pulled low by a short: the read-back of GPIO24 (536) says so.
      await fake.setGpio(BASE + GPIO.genRun, 0);
      const shorted = await driver.readOutputs();
      assert.equal(shorted.genRun, false);
      assert.match(shorted.fault!, /outputs\.generator\.run \(GPIO 24\) reads off, driven on/);
    } finally {
      await driver.close();
    }
  }, { generator: 0 });
});

Deno.test("PiDriver keeps held outputs on a restart and reads them back as they are", async () => {
  await withSite(async (fake) => {
    // The previous run left the load on the generator, running, with tier 1 shed.
    await fake.gpioLine(BASE + GPIO.battery, { direction: "out", value: "0" });
    await fake.gpioLine(BASE + GPIO.generator, { direction: "out", value: "1" });
    await fake.gpioLine(BASE + GPIO.genRun, { direction: "out", value: "1" });
    await fake.gpioLine(BASE + GPIO.shed1, { direction: "out", value: "1" });
    await new Promise((r) => setTimeout(r, 20)); // the feedback follows the coil
    const { driver, gpio } = await open(fake);
    try {
      assert.deepEqual(await driver.readOutputs(), {
        source: "generator",
        genRun: true,
        shedTier: 1,
        fault: null,
      });
      assert.deepEqual(gpio.log, [], "nothing written on open");
    } finally {
      await driver.close();
    }
  });
});

Deno.test("PiDriver sheds with the relays it has and gives its configured safe state", async () => {
  await withSite(async (fake) => {
    const { driver } = await open(fake, (c) => {
      c.safety = { transfer_dead_time_ms: 50, safe_source: "off", safe_shed_tier: 1 };
    });
    try {
      assert.deepEqual(driver.safeOutputs, { source: "off", genRun: false, shedTier: 1 });
      // One relay fitted: tiers 1–3 all open it; the read-back cannot tell them apart.
      await driver.setOutputs({ source: "battery", genRun: false, shedTier: 2 });
      assert.equal((await fake.gpio(BASE + GPIO.shed1)).value, "1");
      assert.equal((await driver.readOutputs()).shedTier, 2);
      await driver.setOutputs({ source: "battery", genRun: false, shedTier: 0 });
      assert.equal((await fake.gpio(BASE + GPIO.shed1)).value, "0");
      assert.equal((await driver.readOutputs()).shedTier, 0);
      await assert.rejects(
        driver.setOutputs({ source: "battery", genRun: false, shedTier: 4 }),
        /shedTier must be an integer 0\.\.3, got 4/,
      );
    } finally {
      await driver.close();
    }
  });
});

Deno.test("PiDriver drives the site through libgpiod v2 where the kernel has no sysfs GPIO", async () => {
  const fake = await siteTree();
  await fake.remove("/sys/class/gpio");
  const tools = await fakeGpioTools(2);
  // The auxiliary contacts follow their coils, in the fake tools' line state.
  let running = true;
  const follow = (async () => {
    while (running) {
      for (
        const [coil, fb] of [[GPIO.battery, GPIO.batteryFeedback], [
          GPIO.generator,
          GPIO.generatorFeedback,
        ]]
      ) {
        const level = await tools.level(coil!);
        if (level === "0" || level === "1") await tools.setLevel(fb!, level === "1" ? 1 : 0);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  const config = parsePiConfig(JSON.stringify(siteConfig("tower-017")), "site.json");
  const driver = await PiDriver.open({
    config,
    root: fake.root,
    deadTimeMs: DEAD_TIME_MS,
    gpioEnv: tools.env,
  });
  try {
    assert.equal(driver.gpio.kind, "libgpiod-v2");
    await driver.setOutputs({ source: "battery", genRun: false, shedTier: 0 });
    assert.deepEqual(await driver.readOutputs(), {
      source: "battery",
      genRun: false,
      shedTier: 0,
      fault: null,
    });
    assert.equal((await driver.readSensors()).genRunning, false);
    const calls = await tools.calls();
    assert.ok(calls.includes(`gpioset --banner -c gpiochip0 ${GPIO.battery}=1`), calls.join("\n"));
    assert.ok(calls.includes(`gpioget -c gpiochip0 ${GPIO.genRunning}`), calls.join("\n"));
  } finally {
    await driver.close();
    running = false;
    await follow;
    await tools.dispose();
    await fake.dispose();
  }
});
