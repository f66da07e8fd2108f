import assert from "node:assert/strict";
import { packInternalResistanceOhm, socEstimatorParams } from "../../src/core/soc_params.ts";

Deno.test("packInternalResistanceOhm() scales the datasheet cell resistance by cells and Ah", () => {
  // Lead-acid 90 mΩ·Ah per cell (CLH12-200: 2.7 mΩ / 6 cells at 200 Ah): 12 V 100 Ah (1200 Wh)
  // is 6 · 90 / 100 = 5.4 mΩ.
  const lead = packInternalResistanceOhm({
    chemistry: "flooded-lead-acid",
    nominalV: 12,
    capacityWh: 1200,
  });
  assert.ok(Math.abs(lead - 0.0054) < 1e-12, `${lead}`);
  // LiFePO4 70 mΩ·Ah per cell (LF280K: 0.25 mΩ at 280 Ah): the shared data's 12 V 500 Ah bank is
  // 4 · 70 / 500 = 0.56 mΩ; a 48 V 30 kWh (625 Ah) bank is 16 · 70 / 625 = 1.792 mΩ.
  const bank = packInternalResistanceOhm({ chemistry: "lifepo4", nominalV: 12, capacityWh: 6000 });
  assert.ok(Math.abs(bank - 0.00056) < 1e-12, `${bank}`);
  const rack = packInternalResistanceOhm({
    chemistry: "lifepo4",
    nominalV: 48,
    capacityWh: 30_000,
  });
  assert.ok(Math.abs(rack - 0.001792) < 1e-12, `${rack}`);
});

Deno.test("socEstimatorParams() picks the per-chemistry defaults of the Victron manual, Trojan and IEC 61960", () => {
  const lead = socEstimatorParams({ chemistry: "agm", nominalV: 24, capacityWh: 4800 });
  // 4800 Wh / 24 V = 200 Ah: rest below C/100 = 2 A, unknown current C/5 = 40 A.
  assert.deepEqual(
    [lead.capacityAh, lead.peukertExponent, lead.peukertRatedH, lead.chargeEfficiency],
    [200, 1.25, 20, 0.95],
  );
  assert.deepEqual([lead.restCurrentA, lead.restTimeS, lead.unknownCurrentA], [2, 21_600, 40]);
  assert.equal(lead.hysteresisVPerCell, 0);
  const lfp = socEstimatorParams({ chemistry: "lifepo4", nominalV: 48, capacityWh: 30_000 });
  assert.deepEqual([lfp.peukertExponent, lfp.peukertRatedH, lfp.restTimeS], [1.05, 5, 3600]);
  assert.deepEqual([lfp.voltmeterErrorVPerCell, lfp.hysteresisVPerCell], [0.010, 0.0125]);
  // An override wins, and a capacity override moves the C/100 rest threshold with it.
  const custom = socEstimatorParams({ chemistry: "lifepo4", nominalV: 12, capacityWh: 1200 }, {
    capacityAh: 80,
    restTimeS: 600,
  });
  assert.deepEqual([custom.capacityAh, custom.restCurrentA, custom.restTimeS], [80, 0.8, 600]);
});

Deno.test("socEstimatorParams() names the bad parameter and its value", () => {
  const pack = { chemistry: "agm", nominalV: 12, capacityWh: 1200 } as const;
  assert.throws(
    () => socEstimatorParams(pack, { chargeEfficiency: 1.2 }),
    /chargeEfficiency must be in \(0, 1\], got 1.2/,
  );
  assert.throws(
    () => socEstimatorParams(pack, { peukertExponent: 0.9 }),
    /peukertExponent must be between 1 and 2, got 0.9/,
  );
  assert.throws(
    () => socEstimatorParams(pack, { lowVoltagePersistS: -5 }),
    /lowVoltagePersistS must be a finite number ≥ 0, got -5/,
  );
});
