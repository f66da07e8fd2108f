/**
 * Physics of a simulated hybrid site: battery, load, solar PV and diesel generator, integrated
 * over a time step. Pure: the time and the PRNG state are passed in and returned, so the same
 * seed gives the same run. Energy bookkeeping is lossless (no charge/inverter efficiency) so a
 * test can check it by hand; the voltage sag under load comes from an internal resistance.
 */
import { ocvFromSoc } from "./battery.ts";
import { fuelRateLph, generatorOutputKw } from "./generator.ts";
import { MAX_SHED_TIER } from "./policy.ts";
import type { SiteProfile } from "./site_profile.ts";
import { dayOfYear, solarElevationDeg } from "./solar.ts";
import type { Source } from "./telemetry.ts";

/**
 * Fraction of the load left on at each shed tier: tier 1 drops non-essential loads (−20 %),
 * tier 2 comfort loads (−50 %), tier 3 keeps only the critical core (−80 %).
 */
export const SHED_LOAD_FACTOR = [1, 0.8, 0.5, 0.2] as const;
/** PV performance ratio: inverter, wiring, soiling and heat losses of a typical system. */
export const PV_PERFORMANCE_RATIO = 0.8;
/** Charge power limit as a fraction of capacity per hour: C/5, a common charger rating. */
export const DEFAULT_CHARGE_C_RATE = 0.2;

/** Daily load shape: a constant base (telecom radios, fridges) plus daytime and evening bumps. */
export interface LoadShape {
  baseW: number;
  /** Peak of the daytime bump (shelter cooling, clinic hours), centred at 13:00 solar time. */
  daytimeW: number;
  /** Peak of the evening bump (lighting), centred at 19:30 solar time. */
  eveningW: number;
  /** Uniform multiplicative noise, ±this fraction. */
  noiseFrac: number;
}

export interface SimSite {
  profile: SiteProfile;
  load: LoadShape;
  internalResistanceOhm: number;
  chargeCRate: number;
  seed: number;
  /** Fixed clearness index 0..1 instead of the seeded daily cloudiness (tests). */
  fixedClearness?: number;
  /** Sensors the site has; a missing one reads null. Default: all present. */
  sensors?: { soc?: boolean; fuel?: boolean; batteryTemp?: boolean; current?: boolean };
}

export interface SimState {
  socPct: number;
  fuelL: number;
  genRunning: boolean;
  /** Fault injection: a failed generator never runs. */
  genFailed: boolean;
  /** mulberry32 state. */
  rng: number;
}

export interface SimOutputs {
  source: Source;
  genRun: boolean;
  shedTier: number;
}

export interface SimReadings {
  batteryV: number;
  /** Positive while charging. */
  batteryA: number | null;
  socPct: number | null;
  /** Load actually supplied (after shedding; 0 when the bus is dead). */
  loadW: number;
  /** Load the site would draw with nothing shed. */
  demandW: number;
  pvW: number | null;
  genRunning: boolean;
  genW: number | null;
  fuelPct: number | null;
  batteryTempC: number | null;
}

/** One draw of mulberry32 (Tommy Ettinger's 32-bit PRNG) as a pure function of its state. */
export function nextRandom(state: number): { value: number; state: number } {
  const next = (state + 0x6D2B79F5) | 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), 1 | t);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return { value: ((t ^ (t >>> 14)) >>> 0) / 4294967296, state: next };
}

/**
 * The sun's position comes from solar.ts (NOAA / Spencer, with the equation of time); it is
 * re-exported here for the callers of the simulator.
 */
export { dayOfYear, solarElevationDeg };

/** Local mean solar time in hours, 0..24. */
export function solarHour(longitudeDeg: number, time: Date): number {
  const utcH = time.getUTCHours() + time.getUTCMinutes() / 60 + time.getUTCSeconds() / 3600 +
    time.getUTCMilliseconds() / 3_600_000;
  return (((utcH + longitudeDeg / 15) % 24) + 24) % 24;
}

/**
 * Clearness (0.45..1) for the UTC day of `time`, seeded: the same seed and day give the same
 * sky. 0.45 stands for an overcast rainy-season day, 1 for a clear sky.
 */
export function dailyClearness(seed: number, time: Date): number {
  const day = Math.floor(time.getTime() / 86_400_000);
  const { value } = nextRandom((seed ^ Math.imul(day, 0x9E3779B1)) | 0);
  return 0.45 + 0.55 * value;
}

/** PV W = kWp · 1000 · max(0, sin elevation) · clearness · performance ratio. */
export function pvPowerW(site: SimSite, time: Date): number {
  const { pvKwp, latitude, longitude } = site.profile;
  if (pvKwp <= 0) return 0;
  const sinElevation = Math.sin(solarElevationDeg(latitude, longitude, time) * Math.PI / 180);
  const clearness = site.fixedClearness ?? dailyClearness(site.seed, time);
  return pvKwp * 1000 * Math.max(0, sinElevation) * clearness * PV_PERFORMANCE_RATIO;
}

/** Load demand before noise: base plus two Gaussian bumps in local solar time. */
export function loadShapeW(load: LoadShape, solarHourH: number): number {
  const bump = (centreH: number, widthH: number) =>
    Math.exp(-(((solarHourH - centreH) / widthH) ** 2));
  return load.baseW + load.daytimeW * bump(13, 3) + load.eveningW * bump(19.5, 1.5);
}

export interface StepOptions {
  dtS: number;
  /** Time at the end of the step: sun position and load shape are taken here. */
  now: Date;
  outputs: SimOutputs;
}

/** Advances the site by `dtS` seconds under `outputs`; returns the new state and what sensors read. */
export function step(
  site: SimSite,
  state: SimState,
  options: StepOptions,
): { state: SimState; readings: SimReadings } {
  const { dtS, now, outputs } = options;
  const { profile } = site;
  const dtH = dtS / 3600;
  const capacityWh = profile.capacityWh;

  const noise = nextRandom(state.rng);
  const hour = solarHour(profile.longitude, now);
  const demandW = Math.max(
    0,
    loadShapeW(site.load, hour) * (1 + site.load.noiseFrac * (2 * noise.value - 1)),
  );
  const tier = Math.min(MAX_SHED_TIER, Math.max(0, Math.round(outputs.shedTier)));
  const pvW = pvPowerW(site, now);

  const genRunning = outputs.genRun && !state.genFailed && state.fuelL > 0 &&
    profile.generatorRatedKw > 0;
  const ratedW = profile.generatorRatedKw * 1000;
  // The bus is dead when switched off, or switched to a generator that is not running.
  const busLive = outputs.source === "battery" || (outputs.source === "generator" && genRunning);
  let loadW = busLive ? demandW * SHED_LOAD_FACTOR[tier]! : 0;
  const genLoadW = outputs.source === "generator" && genRunning ? Math.min(loadW, ratedW) : 0;
  const batteryLoadW = outputs.source === "battery" ? loadW : 0;

  // The charger takes at most C/5, never more than the battery can still store in this step.
  const headroomWh = (100 - state.socPct) / 100 * capacityWh;
  const storableW = dtH > 0 ? headroomWh / dtH : Infinity;
  const chargeLimitW = Math.min(site.chargeCRate * capacityWh, storableW);
  // PV first offsets the load on the battery's bus; the generator tops the charge up to the limit.
  const netPvW = pvW - batteryLoadW;
  const genChargeW = genRunning
    ? Math.max(0, Math.min(chargeLimitW - netPvW, ratedW - genLoadW))
    : 0;
  const genOutW = genRunning ? genLoadW + genChargeW : 0;

  // Surplus beyond what the battery can store is curtailed.
  let batteryInW = Math.min(netPvW + genChargeW, storableW);
  // An empty battery cannot carry the load: its BMS disconnects it.
  if (state.socPct <= 0 && batteryInW < 0) {
    if (outputs.source === "battery") loadW = 0;
    batteryInW = Math.max(0, batteryInW + batteryLoadW);
  }
  const socPct = Math.min(100, Math.max(0, state.socPct + batteryInW * dtH / capacityWh * 100));

  let fuelL = state.fuelL;
  if (genRunning) {
    const rate = fuelRateLph(
      profile.generatorRatedKw,
      generatorOutputKw(profile.generatorRatedKw, genOutW / 1000),
    );
    fuelL = Math.max(0, fuelL - rate * dtH);
  }

  const ocvV = ocvFromSoc(profile.chemistry, profile.nominalV, socPct);
  const batteryA = batteryInW / ocvV;
  // Terminal voltage: OCV plus I·R while charging, minus it while discharging (I is signed).
  const batteryV = ocvV + batteryA * site.internalResistanceOhm;
  const sensors = site.sensors ?? {};
  const tempC = 25 + 5 * Math.sin(2 * Math.PI * (hour - 9) / 24);
  return {
    state: {
      socPct,
      fuelL,
      genRunning: genRunning && fuelL > 0,
      genFailed: state.genFailed,
      rng: noise.state,
    },
    readings: {
      batteryV,
      batteryA: sensors.current === false ? null : batteryA,
      socPct: sensors.soc === false ? null : socPct,
      loadW,
      demandW,
      pvW: profile.pvKwp > 0 ? pvW : null,
      genRunning: genRunning && fuelL > 0,
      genW: profile.generatorRatedKw > 0 ? (genRunning ? genOutW : 0) : null,
      fuelPct: sensors.fuel === false || profile.tankL <= 0 ? null : fuelL / profile.tankL * 100,
      batteryTempC: sensors.batteryTemp === false ? null : tempC,
    },
  };
}

/** A fresh state: the seed starts the PRNG. */
export function initialSimState(
  site: SimSite,
  options: { socPct: number; fuelPct: number },
): SimState {
  return {
    socPct: Math.min(100, Math.max(0, options.socPct)),
    fuelL: site.profile.tankL * Math.min(100, Math.max(0, options.fuelPct)) / 100,
    genRunning: false,
    genFailed: false,
    rng: site.seed | 0,
  };
}
