/**
 * Varied, repeatable sites for `kasi simulate-fleet`: site i of a fleet is a function of the
 * fleet seed and i only, so `--seed 7 --sites 1000` is the same fleet on every run and site 17
 * is the same whether the fleet has 100 or 10 000 sites.
 *
 * The mix follows what the presets stand for: most sites of an operator's fleet are towers,
 * fewer are clinics, a few are mini-grids (6 : 3 : 1). Each is its preset with the battery, PV
 * and loads scaled by 0.7–1.3, started between 40 and 95 % SoC and 30 and 100 % fuel, and placed
 * up to 0.5° (about 55 km) from the preset's town, so forecasts and sun vary across the fleet.
 */
import { nextRandom, type SimSite } from "../core/simulator.ts";
import { SIM_PRESETS, type SimPresetName, simSiteFromPreset } from "./sim_presets.ts";

export interface FleetSiteSpec {
  siteId: string;
  preset: SimPresetName;
  site: SimSite;
  initialSocPct: number;
  initialFuelPct: number;
}

const MIX: readonly SimPresetName[] = [
  "small",
  "small",
  "small",
  "small",
  "small",
  "small",
  "medium",
  "medium",
  "medium",
  "large",
];

/** `${prefix}-00042`: zero-padded so ids sort in site order. */
export function fleetSiteId(prefix: string, index: number): string {
  return `${prefix}-${String(index).padStart(5, "0")}`;
}

/** The spec of site `index` (0-based) of the fleet `seed`. */
export function fleetSiteSpec(
  index: number,
  options: { seed: number; prefix: string },
): FleetSiteSpec {
  // A distinct PRNG stream per site: the fleet seed mixed with the index (golden-ratio step).
  let state = (options.seed ^ Math.imul(index + 1, 0x9e3779b9)) | 0;
  const draw = () => {
    const r = nextRandom(state);
    state = r.state;
    return r.value;
  };
  const preset = MIX[Math.floor(draw() * MIX.length)]!;
  const p = SIM_PRESETS[preset];
  const siteId = fleetSiteId(options.prefix, index);
  const base = simSiteFromPreset(p, { siteId, seed: state });
  const scale = () => 0.7 + 0.6 * draw();
  // Printed without float noise (1.2, not 1.2000000000000002).
  const round = (x: number, step: number) => Number((Math.round(x / step) * step).toFixed(2));
  const batteryScale = scale();
  const loadScale = scale();
  const site: SimSite = {
    ...base,
    profile: {
      ...base.profile,
      capacityWh: round(p.profile.capacityWh * batteryScale, 100),
      pvKwp: round(p.profile.pvKwp * scale(), 0.1),
      latitude: round(p.profile.latitude + (draw() - 0.5), 0.01),
      longitude: round(p.profile.longitude + (draw() - 0.5), 0.01),
    },
    load: {
      ...base.load,
      baseW: round(p.load.baseW * loadScale, 1),
      daytimeW: round(p.load.daytimeW * loadScale, 1),
      eveningW: round(p.load.eveningW * loadScale, 1),
    },
    // A bigger bank of the same cells has proportionally lower resistance.
    internalResistanceOhm: p.internalResistanceOhm / batteryScale,
  };
  return {
    siteId,
    preset,
    site,
    initialSocPct: Math.round(40 + 55 * draw()),
    initialFuelPct: Math.round(30 + 70 * draw()),
  };
}
