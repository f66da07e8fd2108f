import assert from "node:assert/strict";
import { heldSoc } from "../../src/core/held_soc.ts";
import type { SocEstimate } from "../../src/core/soc_estimator.ts";

const resting: SocEstimate = {
  time: new Date("2026-11-20T03:00:00Z"),
  socPct: 71.25,
  uncertaintyPct: 4.5,
  method: "ocv-rest",
  holding: false,
  restSince: new Date("2026-11-20T01:30:00Z"),
  chargedSince: null,
  lowVoltage: null,
  batteryA: -0.2,
};
const sagging: SocEstimate = {
  ...resting,
  method: "coulomb",
  holding: true,
  restSince: null,
  chargedSince: new Date("2026-11-20T02:00:00Z"),
  lowVoltage: {
    since: new Date("2026-11-20T02:50:00Z"),
    socPct: 30,
    uncertaintyPct: 10,
    method: "voltage-loaded",
  },
  batteryA: null,
};

Deno.test("heldSoc() reads back every field of the estimate, its dates and nulls alike", () => {
  for (const e of [resting, sagging]) {
    const held = heldSoc(e);
    assert.deepEqual(JSON.parse(JSON.stringify(held)), JSON.parse(JSON.stringify(e)));
    assert.equal(held.time.getTime(), e.time.getTime());
    assert.equal(held.restSince?.getTime(), e.restSince?.getTime());
    assert.equal(held.chargedSince?.getTime(), e.chargedSince?.getTime());
    assert.equal(held.batteryA, e.batteryA);
    assert.equal(held.lowVoltage, e.lowVoltage);
  }
  const held = heldSoc(resting);
  assert.equal(heldSoc(held), held, "a held estimate is not wrapped twice");
});
