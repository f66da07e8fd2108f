import assert from "node:assert/strict";
import { percentile } from "../../src/device/fleet_metrics.ts";
import { fleetSiteId, fleetSiteSpec } from "../../src/device/fleet_profiles.ts";
import { SIM_PRESETS } from "../../src/device/sim_presets.ts";

Deno.test("fleetSiteSpec() gives the same site for the same seed and index, whatever the fleet", () => {
  const a = fleetSiteSpec(17, { seed: 7, prefix: "f" });
  const b = fleetSiteSpec(17, { seed: 7, prefix: "f" });
  assert.deepEqual(a, b);
  assert.equal(a.siteId, "f-00017");
  assert.notDeepEqual(fleetSiteSpec(17, { seed: 8, prefix: "f" }).site, a.site);
  assert.notDeepEqual(fleetSiteSpec(18, { seed: 7, prefix: "f" }).site, a.site);
});

Deno.test("fleetSiteSpec() mixes towers, clinics and mini-grids 6:3:1 within the stated ranges", () => {
  const counts = { small: 0, medium: 0, large: 0 };
  for (let i = 0; i < 3000; i++) {
    const spec = fleetSiteSpec(i, { seed: 1, prefix: "f" });
    counts[spec.preset]++;
    const preset = SIM_PRESETS[spec.preset];
    const ratio = spec.site.profile.capacityWh / preset.profile.capacityWh;
    // Scaled 0.7–1.3, rounded to 100 Wh.
    assert.ok(ratio >= 0.7 - 100 / preset.profile.capacityWh && ratio <= 1.3 + 0.05, `${ratio}`);
    assert.ok(spec.initialSocPct >= 40 && spec.initialSocPct <= 95);
    assert.ok(spec.initialFuelPct >= 30 && spec.initialFuelPct <= 100);
    assert.ok(Math.abs(spec.site.profile.latitude - preset.profile.latitude) <= 0.505);
  }
  // Expected 1800 / 900 / 300 of 3000; a binomial standard deviation is at most
  // sqrt(3000 · 0.6 · 0.4) ≈ 27, so ±100 is more than 3.5 σ.
  assert.ok(Math.abs(counts.small - 1800) < 100, JSON.stringify(counts));
  assert.ok(Math.abs(counts.medium - 900) < 100, JSON.stringify(counts));
  assert.ok(Math.abs(counts.large - 300) < 100, JSON.stringify(counts));
});

Deno.test("fleetSiteId() pads the index so ids sort in site order", () => {
  assert.equal(fleetSiteId("tower", 7), "tower-00007");
  assert.equal(fleetSiteId("tower", 123456), "tower-123456");
});

Deno.test("percentile() is the nearest-rank percentile", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  // Nearest rank: ceil(p/100 · n); p50 of 1..100 is the 50th value, p99 the 99th.
  assert.equal(percentile(hundred, 50), 50);
  assert.equal(percentile(hundred, 99), 99);
  assert.equal(percentile(hundred, 100), 100);
  // Of 3 values, p99 is the ceil(2.97) = 3rd and p50 the ceil(1.5) = 2nd.
  assert.equal(percentile([10, 20, 30], 99), 30);
  assert.equal(percentile([10, 20, 30], 50), 20);
  assert.equal(percentile([], 50), null);
});
