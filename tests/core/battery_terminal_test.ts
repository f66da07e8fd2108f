import assert from "node:assert/strict";
import {
  CHARGE_PROFILES,
  chargeAt,
  chargeSetpointV,
  chargeVoltageV,
  dischargeAt,
  dischargeVoltageV,
  restVoltageV,
  type TerminalPack,
} from "../../src/core/battery_terminal.ts";

/** 12 V 5000 Wh flooded lead-acid: 6 cells, 416.667 Ah. */
const LEAD: TerminalPack = {
  chemistry: "flooded-lead-acid",
  nominalV: 12,
  capacityWh: 5000,
  internalResistanceOhm: 0,
};
const AH = 5000 / 12;

function near(actual: number, expected: number, tolerance: number, what: string) {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

Deno.test("chargeVoltageV() adds Copetti's polarisation to the rest voltage", () => {
  // 75 %: OCV 12.45 V. C/10 = 41.667 A: per cell 0.1 · (0.48 / 0.25^1.2 + 0.036) =
  // 0.1 · (0.48 / 0.189465 + 0.036) = 0.256945 V, × 6 = 1.54167 V → 13.9917 V.
  near(
    chargeVoltageV(LEAD, { socPct: 75, currentA: AH / 10, tempC: null }),
    13.9917,
    1e-4,
    "C/10 at 75 %",
  );
  // No current: the rest voltage itself.
  assert.equal(chargeVoltageV(LEAD, { socPct: 75, currentA: 0, tempC: null }), 12.45);
});

Deno.test("chargeVoltageV() reaches 13.8 V and 14.4 V at C/10 near 72 and 79 % SoC", () => {
  // The first generation hands the load back to the battery above 13.8 V: a charge must get
  // there. 72 %: OCV 12.4248, per cell 0.1 · (0.48 / 0.28^1.2 + 0.036) = 0.22473 → 13.773 V;
  // 73 %: 12.4332 + 6 · 0.23460 = 13.841 V. 79 %: 12.482 + 6 · 0.31590 = 14.377 V;
  // 80 %: 12.49 + 6 · 0.33474 = 14.498 V: 14.40 V is crossed between them.
  const v = (socPct: number) => chargeVoltageV(LEAD, { socPct, currentA: AH / 10, tempC: null });
  assert.ok(v(72) < 13.8 && v(73) > 13.8, `${v(72)} ${v(73)}`);
  near(v(79), 14.377, 1e-3, "79 %");
  near(v(80), 14.498, 1e-3, "80 %");
});

Deno.test("chargeSetpointV() absorbs at 2.40 V/cell until the current falls to 3 % of C", () => {
  // At 14.40 V a battery at 92 % takes (14.40 − 12.586) / (6 · (0.48 / 0.08^1.2 + 0.036) / C)
  // = 1.814 / (59.878 / C) = 3.030 % of C; at 93 %: 1.806 / (70.245 / C) = 2.571 %: float.
  assert.deepEqual(chargeSetpointV(LEAD, { socPct: 92, tempC: null }), {
    voltageV: 14.4,
    stage: "absorption",
  });
  assert.deepEqual(chargeSetpointV(LEAD, { socPct: 93, tempC: null }), {
    voltageV: 13.5,
    stage: "float",
  });
});

Deno.test("chargeAt() takes all the power in bulk and holds the setpoint in absorption", () => {
  const pack = { ...LEAD, internalResistanceOhm: 0.003 };
  // 50 %: b = 0.003 + 6 · (0.48 / 0.5^1.2 + 0.036) / 416.667 = 0.019398 Ω. 500 W:
  // I = (−12.24 + √(12.24² + 4 · 0.019398 · 500)) / (2 · 0.019398) = 38.5005 A at 12.9868 V.
  const bulk = chargeAt(pack, { socPct: 50, tempC: null, offeredW: 500 });
  assert.equal(bulk.stage, "bulk");
  near(bulk.currentA, 38.5005, 1e-3, "bulk current");
  near(bulk.voltageV, 12.9868, 1e-4, "bulk voltage");
  near(bulk.powerW, 500, 1e-9, "bulk power");
  // 80 %: b = 0.003 + 6 · (0.48 / 0.2^1.2 + 0.036) / 416.667 = 0.051202 Ω; at 14.40 V the
  // battery takes (14.40 − 12.49) / 0.051202 = 37.303 A = 537.17 W of the 5 kW offered.
  const cv = chargeAt(pack, { socPct: 80, tempC: null, offeredW: 5000 });
  assert.equal(cv.stage, "absorption");
  near(cv.currentA, 37.303, 1e-3, "absorption current");
  near(cv.powerW, 537.17, 1e-2, "absorption power");
  assert.equal(cv.voltageV, 14.4);
  // Full: nothing more goes in, the charger floats.
  const full = chargeAt(pack, { socPct: 100, tempC: null, offeredW: 5000 });
  assert.deepEqual([full.currentA, full.voltageV, full.stage], [0, 13.5, "float"]);
});

Deno.test("dischargeAt() solves V·I = P on the sagging voltage", () => {
  // 50 %, 4 mΩ, 612 W: b = 0.004 + 6 · (0.27 / (0.5 + 0.15074)^1.5 + 0.02) / 416.667 =
  // 0.0116945 Ω; I = (12.24 − √(12.24² − 4 · 0.0116945 · 612)) / (2 · 0.0116945) = 52.6483 A,
  // V = 12.24 − 0.6157 = 11.6243 V. Without R: b = 0.0076945, I = 51.6789 A, V = 11.8424 V.
  const p = dischargeAt({ ...LEAD, internalResistanceOhm: 0.004 }, {
    socPct: 50,
    tempC: null,
    powerW: 612,
  });
  near(p.currentA, -52.6483, 1e-3, "current");
  near(p.voltageV, 11.6243, 1e-4, "voltage");
  assert.equal(p.cutOff, false);
  const ideal = dischargeAt(LEAD, { socPct: 50, tempC: null, powerW: 612 });
  near(ideal.currentA, -51.6789, 1e-3, "R = 0 current");
  near(ideal.voltageV, 11.8424, 1e-4, "R = 0 voltage");
});

Deno.test("dischargeVoltageV() ends a 20-hour discharge at 1.75 V/cell at 0 % of the rating", () => {
  // The shift was set by this anchor: 0.05 · (0.27 / s₀^1.5 + 0.02) = 11.89 / 6 − 1.75 gives
  // s₀ = (0.27 / (0.231667 / 0.05 − 0.02))^(2/3) = 0.150741.
  near(CHARGE_PROFILES["flooded-lead-acid"].dischargeShiftFrac, 0.150741, 1e-6, "s₀");
  near(dischargeVoltageV(LEAD, { socPct: 0, currentA: AH / 20, tempC: null }), 10.5, 1e-9, "end");
  // At 50 % the same current sags 6 · 0.05 · (0.27 / 0.650741^1.5 + 0.02) = 0.16030 V.
  near(
    dischargeVoltageV(LEAD, { socPct: 50, currentA: AH / 20, tempC: null }),
    12.24 - 0.1603,
    1e-4,
    "50 %",
  );
});

Deno.test("dischargeAt() shows the first generation's 11.8 V near 28 % under a 200 W load", () => {
  // 12 V 5 kWh, 3 mΩ, 200 W: at 28 % OCV 12.0816, b = 0.003 + 6 · (0.27 / 0.43074^1.5 + 0.02)
  // / 416.667 = 0.017041 Ω, I = 16.960 A, V = 11.793 V; at 30 % OCV 12.096, b = 0.016136 Ω,
  // I = 16.916 A, V = 11.823 V.
  const pack = { ...LEAD, internalResistanceOhm: 0.003 };
  const v = (socPct: number) => dischargeAt(pack, { socPct, tempC: null, powerW: 200 }).voltageV;
  near(v(28), 11.793, 1e-3, "28 %");
  near(v(30), 11.823, 1e-3, "30 %");
  // At 5 % (OCV 11.924 V, b = 0.046517 Ω) no current delivers 2 kW (the most is OCV² / 4b =
  // 764 W): the inverter disconnects.
  assert.equal(dischargeAt(pack, { socPct: 5, tempC: null, powerW: 2000 }).cutOff, true);
});

Deno.test("restVoltageV() moves lead-acid by its temperature coefficient, as the estimator reads it", () => {
  // Discover Battery's worked example: a full 12 V battery reads 12.698 V at 100 °F.
  near(restVoltageV(LEAD, { socPct: 100, tempC: (100 - 32) / 1.8 }), 12.698, 1e-9, "100 °F");
  assert.equal(restVoltageV(LEAD, { socPct: 100, tempC: null }), 12.65);
  // LiFePO4: no coefficient is applied (battery.ts found none to cite).
  const lfp: TerminalPack = { ...LEAD, chemistry: "lifepo4" };
  assert.equal(restVoltageV(lfp, { socPct: 100, tempC: 40 }), 13.6);
});

Deno.test("LiFePO4 reaches its 3.55 V/cell absorption at 95 % under a 0.2 C charge", () => {
  const lfp: TerminalPack = {
    chemistry: "lifepo4",
    nominalV: 12,
    capacityWh: 2560,
    internalResistanceOhm: 0,
  };
  // 2560 Wh / 12 V = 213.33 Ah; 0.2 C = 42.667 A. The polarisation constant was set by this
  // anchor: OCV(95 %) = 3.304 + 0.016 · 16/17 = 3.31906 V/cell, k = (3.55 − 3.31906) ·
  // 0.05^1.2 / 0.2 = 0.031713 V·h.
  near(CHARGE_PROFILES.lifepo4.polarizationVh, 0.031713, 1e-5, "k");
  near(
    chargeVoltageV(lfp, { socPct: 95, currentA: 0.2 * 2560 / 12, tempC: null }),
    3.55 * 4,
    1e-9,
    "95 %",
  );
  // Float 3.375 V/cell is below the full rest voltage (3.40): a full LiFePO4 takes nothing.
  assert.equal(chargeAt(lfp, { socPct: 100, tempC: null, offeredW: 1000 }).currentA, 0);
});
