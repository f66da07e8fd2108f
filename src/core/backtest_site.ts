/**
 * The site a backtest replays, stated in full so the figures can be read against it. Pure.
 *
 * Default: the first generation's specified bank — 12 V, 5000 Wh, flooded lead-acid (so its
 * voltage thresholds apply as written) — with a 50 % reserve (legacySiteProfile), at the ESMAP
 * station of Bauchi, Nigeria (10.3158° N, 9.8442° E), whose year of irradiance is replayed. The
 * rest is a design a solar installer would draw for a mean load of 200 W:
 * - the battery carries a night (200 W · 12 h = 2.4 kWh) within its 2.5 kWh above the reserve;
 * - 1.5 kWp of PV: at Bauchi's 5.54 kWh/m²/day that is about 6 kWh/day after the PV model's
 *   losses, a day's 4.8 kWh of load with the charge losses and little to spare, so the
 *   generator is needed in the rainy season;
 * - a 5 kW generator and a 100 L tank (legacySiteProfile's assumptions for a first-generation
 *   site), refilled to the brim whenever it falls below 25 % (a delivery, not a day's wait);
 * - a 1.5 kW inverter-charger whose charger gives C/5 (1000 W), 3 mΩ pack resistance (four
 *   12 V 105 Ah batteries in parallel with their cabling, as the small simulator preset);
 * - no BMS or battery monitor: Kasi's device estimates SoC from voltage and current, as it would
 *   on this bank (`batteryMonitor` fits one).
 */
import type { BacktestSite } from "./backtest.ts";
import { DEFAULT_CHARGE_C_RATE, type SimSite } from "./simulator.ts";
import type { SiteProfile } from "./site_profile.ts";

export const BAUCHI = { latitude: 10.3158, longitude: 9.8442, timeZone: "Africa/Lagos" } as const;
/** West Africa Time, UTC+1 all year. */
export const BAUCHI_UTC_OFFSET_MIN = 60;

export interface BacktestSiteSize {
  chemistry: "flooded-lead-acid" | "lifepo4";
  nominalV: 12 | 24 | 48;
  capacityWh: number;
  reserveSocPct: number;
  pvKwp: number;
  generatorKw: number;
  tankL: number;
  refuelBelowPct: number;
  /** Pack resistance incl. cabling, Ω. */
  internalResistanceOhm: number;
  initialSocPct: number;
  /**
   * A battery monitor (a shunt coulomb counter such as Victron's BMV) reports SoC, taken as
   * exact; without one (lead-acid default) Kasi's device estimates it from voltage and current.
   */
  batteryMonitor: boolean;
}

export const DEFAULT_SITE_SIZE: Readonly<BacktestSiteSize> = {
  chemistry: "flooded-lead-acid",
  nominalV: 12,
  capacityWh: 5000,
  reserveSocPct: 50,
  pvKwp: 1.5,
  generatorKw: 5,
  tankL: 100,
  refuelBelowPct: 25,
  internalResistanceOhm: 0.003,
  initialSocPct: 80,
  batteryMonitor: false,
};

/** The same bank size in LiFePO4 (its BMS reports SoC, 20 % reserve): a second site for Kasi alone. */
export const LIFEPO4_SITE_SIZE: Readonly<BacktestSiteSize> = {
  ...DEFAULT_SITE_SIZE,
  chemistry: "lifepo4",
  reserveSocPct: 20,
  // EVE LF280K: ≤ 0.25 mΩ per 280 Ah cell; four in series at 5000 Wh / 12 V = 417 Ah (1.5 cells
  // of 280 Ah in parallel) is 4 · 0.25 · 280 / 417 = 0.67 mΩ, plus the lead-acid bank's cabling.
  internalResistanceOhm: 0.0025,
  batteryMonitor: true,
};

export function backtestSite(size: BacktestSiteSize): BacktestSite {
  const profile: SiteProfile = {
    siteId: "backtest",
    name: "Backtest site, Bauchi",
    chemistry: size.chemistry,
    nominalV: size.nominalV,
    capacityWh: size.capacityWh,
    reserveSocPct: size.reserveSocPct,
    tankL: size.tankL,
    generatorRatedKw: size.generatorKw,
    pvKwp: size.pvKwp,
    latitude: BAUCHI.latitude,
    longitude: BAUCHI.longitude,
    timeZone: BAUCHI.timeZone,
  };
  const sim: SimSite = {
    profile,
    load: { baseW: 0, daytimeW: 0, eveningW: 0, noiseFrac: 0 },
    internalResistanceOhm: size.internalResistanceOhm,
    chargeCRate: DEFAULT_CHARGE_C_RATE,
    seed: 1,
    // Lead-acid has no BMS to report SoC (unless a monitor is fitted); a LiFePO4 bank's BMS does.
    sensors: { soc: size.batteryMonitor },
  };
  return {
    sim,
    dispatch: { inverterRatedW: 1500 },
    initialSocPct: size.initialSocPct,
    initialFuelPct: 100,
    refuelBelowPct: size.refuelBelowPct,
  };
}
