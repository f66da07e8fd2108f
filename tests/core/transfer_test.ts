import assert from "node:assert/strict";
import { transferSteps } from "../../src/core/transfer.ts";

Deno.test("transferSteps() breaks before it makes between two live sources", () => {
  assert.deepEqual(transferSteps("battery", "generator", 1000), [
    { source: "off", waitMsAfter: 1000 },
    { source: "generator", waitMsAfter: 0 },
  ]);
  assert.deepEqual(transferSteps("generator", "battery", 250), [
    { source: "off", waitMsAfter: 250 },
    { source: "battery", waitMsAfter: 0 },
  ]);
});

Deno.test("transferSteps() needs no dead time into or out of off, and nothing for no change", () => {
  assert.deepEqual(transferSteps("off", "generator", 1000), [{
    source: "generator",
    waitMsAfter: 0,
  }]);
  assert.deepEqual(transferSteps("battery", "off", 1000), [{ source: "off", waitMsAfter: 0 }]);
  assert.deepEqual(transferSteps("battery", "battery", 1000), []);
  assert.throws(() => transferSteps("battery", "generator", -1), /dead time .* got -1/);
});
