/**
 * `kasi device --hw=pi --sysfs-root <fake tree>` end to end: the real CLI in its own process,
 * the real Mosquitto, the real backend on a temporary PostgreSQL database. Also the config
 * errors at start, `kasi device safe-state` and `kasi device probe`.
 */
import assert from "node:assert/strict";
import { v1Topic } from "../../../src/core/topics.ts";
import { withBackend } from "../../backend/harness.ts";
import { TEST_MQTT_URL, uniqueSiteId } from "../../_helpers/mqtt.ts";
import { clearRetained } from "../inbox.ts";
import { BASE, followFeedback, GPIO, siteConfig, siteTree, writeConfig } from "./site_fixture.ts";

const REPO = new URL("../../../", import.meta.url).pathname;

function kasi(args: string[], stdout: "piped" | "null" = "piped"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", ...args],
    cwd: REPO,
    stdin: "null",
    stdout,
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

async function kasiOutput(args: string[]) {
  const out = await kasi(args).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (true) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test({
  name: "kasi device --hw=pi runs the agent on a fake sysfs tree against the broker and backend",
  fn: async () => {
    const siteId = uniqueSiteId("pi-e2e");
    const fake = await siteTree();
    const stopFeedback = followFeedback(fake);
    const configPath = await writeConfig(fake.root, siteConfig(siteId));
    try {
      await withBackend(async ({ sql }) => {
        const child = kasi([
          "device",
          "--hw=pi",
          "--config",
          configPath,
          "--sysfs-root",
          fake.root,
          "--interval",
          "1",
          "--mqtt-url",
          TEST_MQTT_URL,
        ], "null");
        const stderr: string[] = [];
        const pump = (async () => {
          for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
            stderr.push(chunk);
          }
        })();
        try {
          const row = await until("a telemetry row", async () => {
            const rows = await sql`
              SELECT source, battery_v, battery_a, load_w, fuel_pct, battery_temp_c, gen_running,
                     shed_tier
              FROM telemetry WHERE site_id = ${siteId} ORDER BY time LIMIT 1`;
            return rows[0];
          });
          // From the tree (site_fixture.ts): 19200 × 0.125 mV × 11 = 26.4 V; −12500 mA =
          // −12.5 A; 330,000,000 µW = 330 W; 1.5 V on the sender's table = 25 %; 23.125 °C
          // rounded to 0.1 = 23.1; GPIO17 low: not running. SoC 80+ % of a rested 24 V AGM at
          // 26.4 V: no generator, load on the battery.
          assert.deepEqual({ ...row }, {
            source: "battery",
            battery_v: 26.4,
            battery_a: -12.5,
            load_w: 330,
            fuel_pct: 25,
            battery_temp_c: 23.1,
            gen_running: false,
            shed_tier: 0,
          });
          const profile = await until("the profile", async () => {
            const [s] = await sql`SELECT profile FROM sites WHERE site_id = ${siteId}`;
            return s?.profile ?? undefined;
          });
          assert.equal(profile.nominalV, 24, "stored as the backend reads it");
          await until("the backend's command accepted", async () => {
            const [e] = await sql`
              SELECT 1 FROM site_events WHERE site_id = ${siteId} AND kind = 'command-accepted'`;
            return e;
          });
          // The battery contactor (GPIO22 = 534) closed, the generator's (23 = 535) open.
          assert.equal((await fake.gpio(BASE + GPIO.battery)).value, "1");
          assert.equal((await fake.gpio(BASE + GPIO.generator)).value, "0");

          // The load's INA226 unplugged: its reads fail with EIO. No sample without load_w.
          const loadFile =
            "/sys/devices/platform/soc/fe804000.i2c/i2c-1/1-0041/hwmon/hwmon3/power1_input";
          await fake.eio(loadFile);
          const withheld = await until("decision withheld", async () => {
            const [e] = await sql`
              SELECT detail FROM site_events
              WHERE site_id = ${siteId} AND kind = 'decision-withheld'`;
            return e?.detail;
          });
          assert.equal(withheld.values.sensors, "load_w");
          const count = async () =>
            (await sql`SELECT count(*)::int AS n FROM telemetry WHERE site_id = ${siteId}`)[0]!.n;
          const during = await count();
          await new Promise((r) => setTimeout(r, 2500));
          const after = await count();
          assert.ok(
            after <= during + 1,
            `no samples while load_w is invalid (${during} → ${after})`,
          );
          const [invalid] = await sql`
            SELECT detail FROM site_events WHERE site_id = ${siteId} AND kind = 'sensor-invalid'`;
          assert.match(invalid!.detail.values.reason, /hwmon3\/power1_input: EIO/);
          await fake.remove(loadFile);
          await fake.file(loadFile, 330_000_000);
          await until("recovery", async () => {
            const [e] = await sql`
              SELECT 1 FROM site_events WHERE site_id = ${siteId} AND kind = 'sensor-recovered'`;
            return e;
          });

          child.kill("SIGTERM");
          const status = await child.status;
          await pump;
          assert.equal(status.code, 0, stderr.join(""));
          // The safe state: battery contactor closed, generator contactor open, run off, shed 0.
          assert.deepEqual(
            await Promise.all(
              [GPIO.battery, GPIO.generator, GPIO.genRun, GPIO.shed1].map(async (l) =>
                (await fake.gpio(BASE + l)).value
              ),
            ),
            ["1", "0", "0", "0"],
          );
          assert.match(
            stderr.join(""),
            /Pi hardware: GPIO through sysfs on chip \[pinctrl-bcm2711\], numbers from 512/,
          );
        } finally {
          try {
            child.kill("SIGKILL");
          } catch {
            // already exited
          }
          await child.status;
        }
      });
    } finally {
      await stopFeedback();
      await fake.dispose();
      await clearRetained(TEST_MQTT_URL, [v1Topic(siteId, "status"), v1Topic(siteId, "command")]);
    }
  },
});

Deno.test("kasi device --hw=pi fails at start on a config key or value it does not know", async () => {
  const fake = await siteTree();
  try {
    const config = siteConfig("tower-017") as Record<
      string,
      Record<string, Record<string, unknown>>
    >;
    config.sensors!.battery_v = { kind: "iio", device: "ads1115", channel: "voltage0", divder: 11 };
    const path = await writeConfig(fake.root, config);
    const args = ["device", "--hw=pi", "--config", path, "--sysfs-root", fake.root];
    const typo = await kasiOutput(args);
    assert.equal(typo.code, 2);
    assert.equal(
      typo.stderr.trim(),
      `kasi: ${path}: sensors.battery_v.divder: unknown key (did you mean "divider"?)`,
    );
    config.sensors!.battery_v = { kind: "iio", device: "ads1115", channel: "voltage0", divider: 0 };
    await writeConfig(fake.root, config);
    const zero = await kasiOutput(args);
    assert.equal(zero.code, 2);
    assert.match(
      zero.stderr,
      /sensors\.battery_v\.divider: Too small: expected number to be >0 \(got 0\)/,
    );
  } finally {
    await fake.dispose();
  }
});

Deno.test("kasi device safe-state breaks the generator's contactor, then makes the battery's", async () => {
  const fake = await siteTree();
  const stopFeedback = followFeedback(fake);
  try {
    // Left by a crashed agent: the load on the generator, running.
    await fake.gpioLine(BASE + GPIO.battery, { direction: "out", value: "0" });
    await fake.gpioLine(BASE + GPIO.generator, { direction: "out", value: "1" });
    await fake.gpioLine(BASE + GPIO.genRun, { direction: "out", value: "1" });
    await fake.gpioLine(BASE + GPIO.shed1, { direction: "out", value: "0" });
    const path = await writeConfig(fake.root, siteConfig("tower-017"));
    const r = await kasiOutput([
      "device",
      "safe-state",
      "--config",
      path,
      "--sysfs-root",
      fake.root,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /outputs in the safe state/);
    assert.deepEqual(
      await Promise.all(
        [GPIO.battery, GPIO.generator, GPIO.genRun].map(async (l) =>
          (await fake.gpio(BASE + l)).value
        ),
      ),
      ["1", "0", "0"],
    );
  } finally {
    await stopFeedback();
    await fake.dispose();
  }
});

Deno.test("kasi device probe --hw=pi lists what the kernel exposes, with readings", async () => {
  const fake = await siteTree();
  try {
    const path = await writeConfig(fake.root, siteConfig("tower-017"));
    const r = await kasiOutput([
      "device",
      "probe",
      "--hw=pi",
      "--sysfs-root",
      fake.root,
      "--config",
      path,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    // 19200 × 0.125 mV = 2400 mV; 8000 × 0.1875 mV = 1500 mV.
    assert.match(out, /iio:device0 {2}ads1115 {2}at 1-0048/);
    assert.match(out, /voltage0 +raw 19200 × 0\.125 mV = 2400 mV/);
    assert.match(out, /voltage1 +raw 8000 × 0\.1875 mV = 1500 mV/);
    assert.match(out, /hwmon3 {2}ina226 {2}at 1-0041\n {4}power1 +330000000 µW/);
    assert.match(out, /28-0316a2795aff {2}DS18B20\n {4}temperature +23125 m°C/);
    // Base 512, 58 lines: numbers 512–569; GPIO17 is 529.
    assert.match(out, /gpiochip512 {2}pinctrl-bcm2711 {2}58 lines {2}numbers 512–569/);
    assert.match(out, /gpio529 \(GPIO17 of pinctrl-bcm2711\) {2}in {2}0/);
    assert.match(out, /battery_v +26\.4 V \(/);
    assert.match(out, /fuel_pct +25 % \(/);
  } finally {
    await fake.dispose();
  }
});
