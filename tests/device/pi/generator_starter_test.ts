/** Pulse-mode generator start (src/device/pi/generator_starter.ts) on fake time. */
import assert from "node:assert/strict";
import { GeneratorOutputSchema } from "../../../src/device/pi/config.ts";
import { GeneratorStarter } from "../../../src/device/pi/generator_starter.ts";
import { OutputLine } from "../../../src/device/pi/output_line.ts";
import { MemoryGpio } from "./recording_gpio.ts";

const CRANK = 20;
const RUN = 21;
const STOP = 26;

/**
 * A starter on in-memory lines whose time passes only in its sleeps; the engine is sensed running
 * from `runsAtS` on (null: never).
 */
function starter(runsAtS: number | null, withStop = false) {
  let nowMs = 0;
  const gpio = new MemoryGpio(() => nowMs);
  const config = GeneratorOutputSchema.parse({
    mode: "pulse",
    crank: { line: CRANK },
    run: { line: RUN },
    ...(withStop ? { stop: { line: STOP } } : {}),
  });
  if (config.mode !== "pulse") throw new Error("pulse config expected");
  const options = {
    gpio,
    feedbackTimeoutMs: 250,
    nowMs: () => nowMs,
    sleep: (ms: number) => {
      nowMs += ms;
      return Promise.resolve();
    },
  };
  const lines = {
    crank: new OutputLine("outputs.generator.crank", config.crank, options),
    run: new OutputLine("outputs.generator.run", config.run!, options),
    stop: config.stop ? new OutputLine("outputs.generator.stop", config.stop, options) : undefined,
  };
  const s = new GeneratorStarter(config, lines, {
    running: () => Promise.resolve(runsAtS !== null && nowMs >= runsAtS * 1000),
    exclusive: (fn) => fn(),
    nowMs: options.nowMs,
    sleep: options.sleep,
    pollMs: 250,
  });
  return { s, gpio, lines, setup: () => Promise.all(Object.values(lines).map((l) => l?.setup())) };
}

Deno.test("GeneratorStarter cranks, rests and cranks again, and stops cranking once it runs", async () => {
  // Defaults (DEIF PPM 300): crank 5 s, rest 5 s, 3 attempts. Engine fires at 12 s.
  const { s, gpio, setup } = starter(12);
  await setup();
  s.request(true);
  await s.settled();
  // Attempt 1: crank 0–5 s; rest 5–10 s; attempt 2 from 10 s, sensed running at the first poll
  // at or after 12 s: 10 + 8 × 0.25 = 12 s, crank off at once.
  assert.deepEqual(gpio.log, [
    `0 s GPIO${RUN}=1`,
    `0 s GPIO${CRANK}=1`,
    `5 s GPIO${CRANK}=0`,
    `10 s GPIO${CRANK}=1`,
    `12 s GPIO${CRANK}=0`,
  ]);
  assert.equal(s.state, "running");
});

Deno.test("GeneratorStarter gives up after the last attempt and turns the fuel off", async () => {
  const { s, gpio, setup } = starter(null);
  await setup();
  s.request(true);
  await s.settled();
  // Three 5 s cranks with 5 s rests: 0–5, 10–15, 20–25; then the run (fuel) line off at 25 s.
  assert.deepEqual(gpio.log, [
    `0 s GPIO${RUN}=1`,
    `0 s GPIO${CRANK}=1`,
    `5 s GPIO${CRANK}=0`,
    `10 s GPIO${CRANK}=1`,
    `15 s GPIO${CRANK}=0`,
    `20 s GPIO${CRANK}=1`,
    `25 s GPIO${CRANK}=0`,
    `25 s GPIO${RUN}=0`,
  ]);
  assert.equal(s.state, "failed");
  assert.equal(s.requested, true, "the request stands; the policy reports the failure");
});

Deno.test("GeneratorStarter stops with fuel off and a stop-solenoid pulse", async () => {
  const { s, gpio, setup } = starter(0, true);
  await setup();
  s.request(true);
  await s.settled();
  s.request(false);
  await s.settled();
  // Already running at 0 s: no crank. Stop: fuel off, stop solenoid 30 s (DEIF SGC 120 default).
  assert.deepEqual(gpio.log, [
    `0 s GPIO${STOP}=0`,
    `0 s GPIO${RUN}=1`,
    `0 s GPIO${CRANK}=0`,
    `0 s GPIO${RUN}=0`,
    `0 s GPIO${STOP}=1`,
    `30 s GPIO${STOP}=0`,
  ]);
  assert.equal(s.state, "off");
});
