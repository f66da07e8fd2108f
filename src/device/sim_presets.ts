/**
 * Three simulated sites of different sizes, shared by `kasi device --hw=sim --profile` and the
 * demo. Loads and sizes are typical of each kind of site; coordinates are real places.
 */
import type { PolicyParams } from "../core/policy_params.ts";
import type { LoadShape, SimSite } from "../core/simulator.ts";
import { DEFAULT_CHARGE_C_RATE } from "../core/simulator.ts";
import type { SiteProfile } from "../core/site_profile.ts";

export interface SimPreset {
  description: string;
  /** The site profile without its id, which comes from `--site`. */
  profile: Omit<SiteProfile, "siteId">;
  load: LoadShape;
  /** Pack internal resistance incl. cabling: makes the terminal voltage sag under load. */
  internalResistanceOhm: number;
  initialSocPct: number;
  initialFuelPct: number;
  /** Site-local dispatch settings (flags of `kasi device` override them). */
  dispatch: Partial<PolicyParams>;
}

export const SIM_PRESET_NAMES = ["small", "medium", "large"] as const;
export type SimPresetName = typeof SIM_PRESET_NAMES[number];

export const SIM_PRESETS: Readonly<Record<SimPresetName, SimPreset>> = {
  /**
   * Off-grid telecom tower near Kano, Nigeria: one BTS draws a few hundred watts around the
   * clock, shelter cooling adds more in the afternoon. 12 V 5 kWh flooded lead-acid with a 50 %
   * reserve, as on first-generation sites; 1 kWp PV, 5 kW generator, 100 L tank.
   */
  small: {
    description: "telecom tower, Kano (NG): 12 V 5 kWh lead-acid, 1 kWp PV, 5 kW diesel",
    profile: {
      name: "Telecom tower, Kano",
      chemistry: "flooded-lead-acid",
      nominalV: 12,
      capacityWh: 5_000,
      reserveSocPct: 50,
      tankL: 100,
      generatorRatedKw: 5,
      pvKwp: 1,
      latitude: 12.0,
      longitude: 8.52,
      timeZone: "Africa/Lagos",
    },
    load: { baseW: 450, daytimeW: 200, eveningW: 0, noiseFrac: 0.05 },
    // Four 12 V 105 Ah flooded batteries in parallel, each about 6 mΩ, plus cabling.
    internalResistanceOhm: 0.003,
    initialSocPct: 65,
    initialFuelPct: 70,
    // A 12 V 1.5 kW inverter-charger; nobody lives near the mast: no quiet hours.
    dispatch: { inverterRatedW: 1_500 },
  },
  /**
   * Rural health clinic near Kisumu, Kenya: a vaccine fridge and lights all day, examination
   * equipment in clinic hours. 24 V 10 kWh LiFePO4 (reserve 20 %), 3 kWp PV, 8 kW generator.
   */
  medium: {
    description: "health clinic, Kisumu (KE): 24 V 10 kWh LiFePO4, 3 kWp PV, 8 kW diesel",
    profile: {
      name: "Health clinic, Kisumu",
      chemistry: "lifepo4",
      nominalV: 24,
      capacityWh: 10_000,
      reserveSocPct: 20,
      tankL: 200,
      generatorRatedKw: 8,
      pvKwp: 3,
      latitude: -0.09,
      longitude: 34.77,
      timeZone: "Africa/Nairobi",
    },
    load: { baseW: 300, daytimeW: 900, eveningW: 300, noiseFrac: 0.08 },
    internalResistanceOhm: 0.005,
    initialSocPct: 75,
    initialFuelPct: 80,
    // A 24 V 3 kW inverter-charger; patients sleep next door: quiet 21:00–06:00.
    dispatch: { inverterRatedW: 3_000, quietHours: { startMin: 21 * 60, endMin: 6 * 60 } },
  },
  /**
   * Village mini-grid near Mwanza, Tanzania: shops and a mill by day, household lighting and TV
   * in the evening. 48 V 30 kWh LiFePO4 (reserve 20 %), 15 kWp PV, 20 kW generator, 500 L tank.
   */
  large: {
    description: "mini-grid, Mwanza (TZ): 48 V 30 kWh LiFePO4, 15 kWp PV, 20 kW diesel",
    profile: {
      name: "Village mini-grid, Mwanza",
      chemistry: "lifepo4",
      nominalV: 48,
      capacityWh: 30_000,
      reserveSocPct: 20,
      tankL: 500,
      generatorRatedKw: 20,
      pvKwp: 15,
      latitude: -2.52,
      longitude: 32.9,
      timeZone: "Africa/Dar_es_Salaam",
    },
    load: { baseW: 1_500, daytimeW: 2_500, eveningW: 4_000, noiseFrac: 0.1 },
    internalResistanceOhm: 0.005,
    initialSocPct: 80,
    initialFuelPct: 85,
    // Three 48 V inverters of 3.5 kW in parallel.
    dispatch: { inverterRatedW: 10_500 },
  },
};

/** The simulated site of a preset for one site id and seed. */
export function simSiteFromPreset(
  preset: SimPreset,
  options: { siteId: string; seed: number },
): SimSite {
  return {
    profile: { ...preset.profile, siteId: options.siteId },
    load: { ...preset.load },
    internalResistanceOhm: preset.internalResistanceOhm,
    chargeCRate: DEFAULT_CHARGE_C_RATE,
    seed: options.seed,
  };
}
