import assert from "node:assert/strict";
import { pressCounter, SAME_PRESS_MS } from "../../src/cli/signals.ts";

Deno.test("pressCounter() counts a signal and its forwarded copy as one press", () => {
  let t = 1000;
  const press = pressCounter(() => t);
  assert.equal(press(), 1);
  // `deno task` forwards the terminal's SIGINT a few ms later: still the first press.
  t += 5;
  assert.equal(press(), 1);
  // A person pressing again half a second later is a second press, its copy again folded in.
  t += 500;
  assert.equal(press(), 2);
  t += 2;
  assert.equal(press(), 2);
});

Deno.test("pressCounter() measures the gap from the latest signal, not the first", () => {
  let t = 0;
  const press = pressCounter(() => t);
  assert.equal(press(), 1);
  t = SAME_PRESS_MS - 1;
  assert.equal(press(), 1);
  t = 2 * SAME_PRESS_MS - 2; // SAME_PRESS_MS − 1 after the previous signal
  assert.equal(press(), 1);
  t = 3 * SAME_PRESS_MS; // SAME_PRESS_MS + 2 after it
  assert.equal(press(), 2);
});
