import assert from "node:assert/strict";
import { resolveFleetSettings } from "../../src/cli/simulate_fleet.ts";
import { formatFleetLine } from "../../src/cli/simulate_fleet_run.ts";
import { startPrivateBroker } from "../../bench/_mosquitto.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const flags = {
  sites: "10",
  seed: "1",
  prefix: "fleet",
  speed: "1",
  interval: "10",
  ramp: "0",
  reportEvery: "5",
};

Deno.test("resolveFleetSettings() names the flag and the value it rejects", () => {
  assert.throws(() => resolveFleetSettings({ ...flags, sites: "0" }, {}), /--sites "0"/);
  assert.throws(() => resolveFleetSettings({ ...flags, sites: "2.5" }, {}), /whole number/);
  assert.throws(() => resolveFleetSettings({ ...flags, speed: "-1" }, {}), /--speed "-1"/);
  // "-x-00009" starts with "-": not a site id.
  assert.throws(() => resolveFleetSettings({ ...flags, prefix: "-x" }, {}), /--prefix "-x"/);
  assert.throws(
    () => resolveFleetSettings(flags, { KASI_MQTT_URL: "http://x" }),
    /KASI_MQTT_URL: "http:\/\/x"/,
  );
  const s = resolveFleetSettings({ ...flags, duration: "30" }, {});
  assert.equal(s.durationS, 30);
  assert.equal(s.mqttUrl, "mqtt://127.0.0.1:1883");
});

Deno.test("formatFleetLine() shows connections, telemetry, commands and the round trip", () => {
  const line = formatFleetLine(
    {
      sites: 1000,
      connectionsOpen: 998,
      telemetrySent: 1500,
      telemetryAcked: 1490,
      otherSent: 0,
      commandsReceived: 140,
      commandsAccepted: 140,
      sitesCommanded: 100,
      commandsRejected: 0,
      commandsRetained: 0,
      publishErrors: 1,
      connectionErrors: 2,
    },
    { count: 140, p50Ms: 11.6, p99Ms: 31.2, maxMs: 40 },
    { elapsedS: 15.2, shared: false },
  );
  assert.equal(
    line,
    "[15 s] connections 998/1000  telemetry 1500 sent 1490 acked  commands 140 (round trip " +
      "p50 12 ms, p99 31 ms over 140)  errors 3",
  );
});

async function kasi(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim().split("\n");
  return {
    code: out.code,
    summary: JSON.parse(stdout.at(-1)!),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("kasi simulate-fleet --record writes a recording kasi replay reads back", async () => {
  const broker = await startPrivateBroker();
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/fleet.jsonl.gz`;
    const fleet = await kasi([
      "simulate-fleet",
      "--sites",
      "3",
      "--speed",
      "20",
      "--duration",
      "2",
      "--shared-connection",
      "--record",
      file,
      "--mqtt-url",
      broker.url,
      "--json",
    ]);
    assert.equal(fleet.code, 0, fleet.stderr);
    // 3 sites × (online + profile + offline) + telemetry every 0.5 s for 2 s.
    assert.ok(fleet.summary.telemetrySent >= 9, JSON.stringify(fleet.summary));
    assert.equal(fleet.summary.recorded, fleet.summary.telemetrySent + fleet.summary.otherSent);
    const replay = await kasi(["replay", file, "--dry-run", "--json"]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.equal(replay.summary.lines, fleet.summary.recorded);
    assert.equal(replay.summary.rejected, 0);
    assert.equal(replay.summary.valid, fleet.summary.recorded);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await broker.stop();
  }
});
