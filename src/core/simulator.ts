/**
 * Physics of a simulated hybrid site: battery, load, solar PV and diesel generator, integrated
 * over a time step. Pure: the time and the PRNG state are passed in and returned, so the same
 * seed gives the same run. One physics for the device simulator (src/device/sim_driver.ts) and
 * the backtest (src/core/backtest.ts).
 *
 * - Battery: terminal voltage and current from src/core/battery_terminal.ts (Copetti's lead-acid
 *   model on the BCI rest voltages: a sag that grows as the battery empties, to the inverter's
 *   cut-off; a CC-CV charger against the charge polarisation, so the voltage reaches the
 *   absorption and float voltages); SoC moves by coulomb_count.ts with the SoC estimator's own
 *   parameters (soc_params.ts): Peukert on discharge, 95 % charge efficiency.
 * - PV: src/core/pv.ts from a measured GHI, or from Haurwitz clear sky (solar.ts) × a seeded
 *   daily clearness.
 * - Generator: the fuel curve of generator.ts. While it carries the load it also charges the
 *   battery, up to the charger's limit (the site's C-rate, lowered by the decision's
 *   `genChargeLimitW`); its fuel is taken at least at its minimum load. Running while the load is
 *   on the battery (warm-up, cool-down) its contactor is open: no output, the no-load burn
 *   F0 · P_rated.
 * - Topology of an inverter-charger site: on the battery, PV first serves the load and the
 *   battery covers the rest; on the generator, PV and the charger share what the battery accepts,
 *   PV first. PV the battery cannot take is curtailed (the MPPT backs off).
 */
import { chargeAt, dischargeAt, type TerminalPack, terminalVoltageV } from "./battery_terminal.ts";
import { type CoulombParams, countedSocDeltaPct } from "./coulomb_count.ts";
import { fuelRateLph, generatorOutputKw } from "./generator.ts";
import { MAX_SHED_TIER } from "./policy.ts";
import { pvOutputW } from "./pv.ts";
import type { SiteProfile } from "./site_profile.ts";
import { socEstimatorParams } from "./soc_params.ts";
import { clearSkyGhiWm2, dayOfYear, solarElevationDeg, solarPosition } from "./solar.ts";
import type { Source } from "./telemetry.ts";

/**
 * Fraction of the load left on at each shed tier: tier 1 drops non-essential loads (−20 %),
 * tier 2 comfort loads (−50 %), tier 3 keeps only the critical core (−80 %).
 */
export const SHED_LOAD_FACTOR = [1, 0.8, 0.5, 0.2] as const;
/** Charger power limit as a fraction of capacity per hour: C/5, a common charger rating. */
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
  /** The generator charger's limit, in capacity per hour (W = rate · capacityWh). */
  chargeCRate: number;
  seed: number;
  /** Fixed clearness index 0..1 instead of the seeded daily cloudiness (tests). */
  fixedClearness?: number;
  /** Fixed air (and battery) temperature instead of the daily swing (tests). */
  fixedAmbientC?: number;
  /** Sensors the site has; a missing one reads null. Default: all present. */
  sensors?: { soc?: boolean; fuel?: boolean; batteryTemp?: boolean; current?: boolean };
  /** Fuel lost to a leak (or a thief), L/h, whether the generator runs or not. Default 0. */
  fuelLeakLph?: number;
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
  /** Cap on the generator's battery charging (W); null or absent: the charger's maximum. */
  genChargeLimitW?: number | null;
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

/** Where the step's power went, W (means over the step), and the fuel it burned. */
export interface SimFlows {
  demandW: number;
  servedW: number;
  /** Demand not served: shed, bus dead, generator overloaded, battery empty. */
  unservedW: number;
  pvAvailableW: number;
  pvToLoadW: number;
  pvToBatteryW: number;
  pvCurtailedW: number;
  batteryToLoadW: number;
  genToLoadW: number;
  genToBatteryW: number;
  /** The generator's electrical output; its fuel is taken at the minimum load at least. */
  genOutW: number;
  fuelUsedL: number;
  /** True SoC before and after the step. */
  socStartPct: number;
  socEndPct: number;
  chargeStage: "bulk" | "absorption" | "float" | null;
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
 * Clear-sky index (0.45..1) for the UTC day of `time`, seeded: the same seed and day give the
 * same sky. 0.45 stands for an overcast rainy-season day (Bauchi's August mean is 0.55), 1 for
 * a clear sky.
 */
export function dailyClearness(seed: number, time: Date): number {
  const day = Math.floor(time.getTime() / 86_400_000);
  const { value } = nextRandom((seed ^ Math.imul(day, 0x9E3779B1)) | 0);
  return 0.45 + 0.55 * value;
}

/** Air temperature without data: 25 °C ± 5 °C, warmest at 15:00 solar time. */
export function defaultAmbientC(longitudeDeg: number, time: Date): number {
  return 25 + 5 * Math.sin(2 * Math.PI * (solarHour(longitudeDeg, time) - 9) / 24);
}

/**
 * PV W without measured irradiance: Haurwitz clear-sky GHI × the day's clearness, through the
 * PV model of pv.ts (performance ratio, NOCT cell temperature, −0.4 %/°C).
 */
export function pvPowerW(site: SimSite, time: Date, options: { ambientC?: number } = {}): number {
  const { pvKwp, latitude, longitude } = site.profile;
  if (pvKwp <= 0) return 0;
  const zenith = solarPosition(latitude, longitude, time).zenithDeg;
  const clearness = site.fixedClearness ?? dailyClearness(site.seed, time);
  return pvOutputW(clearSkyGhiWm2(zenith) * clearness, {
    kwp: pvKwp,
    ambientC: options.ambientC ?? site.fixedAmbientC ?? defaultAmbientC(longitude, time),
  });
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
  /** Measured demand (W) instead of the load shape (the backtest replays a series). */
  demandW?: number;
  /** Measured global horizontal irradiance (W/m²) instead of clear sky × clearness. */
  ghiWm2?: number;
  /** Measured air temperature (°C), also taken as the battery's. */
  ambientC?: number;
}

/**
 * The battery's terminal model and its coulomb counting, built once per site object (a memo: a
 * SimSite is never changed once made, and building them every step cost a backtest a third of
 * its time).
 */
const batteries = new WeakMap<SimSite, { pack: TerminalPack; coulomb: CoulombParams }>();

function siteBattery(site: SimSite): { pack: TerminalPack; coulomb: CoulombParams } {
  let b = batteries.get(site);
  if (b === undefined) {
    b = {
      pack: { ...site.profile, internalResistanceOhm: site.internalResistanceOhm },
      // The physics counts every milliampere: the estimator's threshold is a shunt's noise floor.
      coulomb: socEstimatorParams(site.profile, { currentThresholdA: 0 }),
    };
    batteries.set(site, b);
  }
  return b;
}

/** Advances the site by `dtS` seconds under `outputs`; returns the new state and what sensors read. */
export function step(
  site: SimSite,
  state: SimState,
  options: StepOptions,
): { state: SimState; readings: SimReadings; flows: SimFlows } {
  const { dtS, now, outputs } = options;
  const { profile } = site;
  const { pack, coulomb } = siteBattery(site);
  const noise = nextRandom(state.rng);
  const demandW = Math.max(
    0,
    options.demandW ?? loadShapeW(site.load, solarHour(profile.longitude, now)) *
        (1 + site.load.noiseFrac * (2 * noise.value - 1)),
  );
  const ambientC = options.ambientC ?? site.fixedAmbientC ??
    defaultAmbientC(profile.longitude, now);
  const tier = Math.min(MAX_SHED_TIER, Math.max(0, Math.round(outputs.shedTier)));
  const pvAvailableW = profile.pvKwp <= 0
    ? 0
    : options.ghiWm2 === undefined
    ? pvPowerW(site, now, { ambientC })
    : pvOutputW(options.ghiWm2, { kwp: profile.pvKwp, ambientC });

  const ratedW = profile.generatorRatedKw * 1000;
  const genRunning = outputs.genRun && !state.genFailed && state.fuelL > 0 && ratedW > 0;
  const carrying = genRunning && outputs.source === "generator";
  // The bus is dead when switched off, or switched to a generator that is not running.
  const busLive = outputs.source === "battery" || carrying;
  const wantW = busLive ? demandW * SHED_LOAD_FACTOR[tier]! : 0;
  const genToLoadW = carrying ? Math.min(wantW, ratedW) : 0;
  const onBatteryBusW = outputs.source === "battery" ? wantW : 0;
  let pvToLoadW = Math.min(pvAvailableW, onBatteryBusW);
  let batteryToLoadW = onBatteryBusW - pvToLoadW;
  let pvSurplusW = pvAvailableW - pvToLoadW;
  const chargerW = carrying
    ? Math.max(
      0,
      Math.min(
        site.chargeCRate * profile.capacityWh,
        outputs.genChargeLimitW ?? Infinity,
        ratedW - genToLoadW,
      ),
    )
    : 0;

  const tempC = ambientC;
  const soc0 = state.socPct;
  let currentA = 0;
  let pvToBatteryW = 0, genToBatteryW = 0;
  let stage: SimFlows["chargeStage"] = null;
  let deltaPct = 0;
  if (batteryToLoadW > 0 && soc0 <= 0) {
    // An empty battery cannot carry the load: its BMS disconnects it and the bus collapses.
    pvSurplusW += pvToLoadW;
    pvToLoadW = 0;
    batteryToLoadW = 0;
  }
  const point = batteryToLoadW > 0
    ? dischargeAt(pack, { socPct: soc0, tempC, powerW: batteryToLoadW })
    : null;
  if (point?.cutOff) {
    // The load would pull the battery under its cut-off voltage: the inverter disconnects it.
    pvSurplusW += pvToLoadW;
    pvToLoadW = 0;
    batteryToLoadW = 0;
  }
  if (point && !point.cutOff) {
    currentA = point.currentA;
    deltaPct = countedSocDeltaPct({ fromA: currentA, toA: currentA, dtS }, coulomb);
    if (soc0 + deltaPct < 0) {
      // Empty within the step: the battery carried its share only for that part of it.
      const f = soc0 / -deltaPct;
      // The bus collapses for the rest of the step: PV serves the load only while it stands.
      batteryToLoadW *= f;
      pvToLoadW *= f;
      currentA *= f;
      deltaPct = -soc0;
    }
  } else {
    const offeredW = pvSurplusW + chargerW;
    if (offeredW > 0) {
      const point = chargeAt(pack, { socPct: soc0, tempC, offeredW });
      stage = point.stage;
      currentA = point.currentA;
      let acceptedW = point.powerW;
      deltaPct = countedSocDeltaPct({ fromA: currentA, toA: currentA, dtS }, coulomb);
      if (soc0 + deltaPct > 100) {
        const f = (100 - soc0) / deltaPct;
        acceptedW *= f;
        currentA *= f;
        deltaPct = 100 - soc0;
      }
      pvToBatteryW = Math.min(pvSurplusW, acceptedW);
      genToBatteryW = acceptedW - pvToBatteryW;
    }
  }
  const socPct = Math.min(100, Math.max(0, soc0 + deltaPct));
  const pvCurtailedW = pvAvailableW - pvToLoadW - pvToBatteryW;
  const genOutW = carrying ? genToLoadW + genToBatteryW : 0;

  let fuelUsedL = 0;
  if (genRunning) {
    const outKw = carrying ? generatorOutputKw(profile.generatorRatedKw, genOutW / 1000) : 0;
    fuelUsedL = Math.min(state.fuelL, fuelRateLph(profile.generatorRatedKw, outKw) * dtS / 3600);
  }
  const leakL = Math.min(state.fuelL - fuelUsedL, (site.fuelLeakLph ?? 0) * dtS / 3600);
  const fuelL = state.fuelL - fuelUsedL - leakL;

  // What a voltmeter reads at the end of the step: the step's current at the new SoC.
  const batteryV = terminalVoltageV(pack, { socPct, tempC, currentA, stage });
  const servedW = pvToLoadW + batteryToLoadW + genToLoadW;
  const sensors = site.sensors ?? {};
  const genOn = genRunning && fuelL > 0;
  return {
    state: { socPct, fuelL, genRunning: genOn, genFailed: state.genFailed, rng: noise.state },
    readings: {
      batteryV,
      batteryA: sensors.current === false ? null : currentA,
      socPct: sensors.soc === false ? null : socPct,
      loadW: servedW,
      demandW,
      pvW: profile.pvKwp > 0 ? pvToLoadW + pvToBatteryW : null,
      genRunning: genOn,
      genW: ratedW > 0 ? genOutW : null,
      fuelPct: sensors.fuel === false || profile.tankL <= 0 ? null : fuelL / profile.tankL * 100,
      batteryTempC: sensors.batteryTemp === false ? null : tempC,
    },
    flows: {
      demandW,
      servedW,
      unservedW: demandW - servedW,
      pvAvailableW,
      pvToLoadW,
      pvToBatteryW,
      pvCurtailedW,
      batteryToLoadW,
      genToLoadW,
      genToBatteryW,
      genOutW,
      fuelUsedL,
      socStartPct: soc0,
      socEndPct: socPct,
      chargeStage: stage,
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
