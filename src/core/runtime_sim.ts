/**
 * The physics of one forward-simulation step for the runtime forecast (runtime_forecast.ts):
 * battery, PV, load and a generator under start/stop dispatch, with powers constant over the
 * step. A step is cut at every threshold it crosses (start, stop, full, reserve, critical,
 * fuel reserve), so event times and generator run times are exact for piecewise-constant
 * inputs and do not depend on the step length.
 *
 * Energy flows, in order of priority (a hybrid inverter's usual one): PV serves the load; the
 * generator, while it runs, carries what is left up to its rating; the battery covers the
 * rest. Surplus PV and the generator's spare capacity charge the battery, together at most the
 * charger limit; stored energy = input × charge efficiency (discharge is counted at the
 * terminals, as the simple model in prediction.ts does).
 *
 * The scenario states are plain mutable records: one forecast runs hundreds of scenarios of
 * hundreds of steps, and the records never leave runtime_forecast.ts.
 */
import { type FuelCurve, fuelRateLph, generatorOutputKw } from "./generator.ts";

export interface SimParams {
  capacityWh: number;
  /** 0 when there is no usable generator (none fitted, or not available). */
  ratedW: number;
  chargeLimitW: number;
  chargeEfficiency: number;
  reserveSocPct: number;
  criticalSocPct: number;
  startSocPct: number;
  stopSocPct: number;
  /** Fuel at which the generator stops, and above which it may start again (with a sensor). */
  fuelReserveL: number;
  fuelRestartL: number;
  /** Options objects for generator.ts, built once: the step loop allocates nothing. */
  curve: { curve: FuelCurve };
  minLoad: { minLoadRatio: number };
}

/** Battery alone, no generator: when does it reach the reserve? */
export interface BatteryRun {
  socPct: number;
  reserveH: number | null;
}

/** Under the dispatch. `fuelL` null: no fuel sensor, the generator is assumed to have fuel. */
export interface DispatchRun {
  socPct: number;
  fuelL: number | null;
  genOn: boolean;
  /**
   * The generator can no longer run on the fuel left: it reached the reserve while running, or
   * a start was refused because it was under the restart level.
   */
  tankH: number | null;
  /** Battery at critical with the generator unable to help. */
  outageH: number | null;
  genH: number;
  fuelUsedL: number;
}

export interface StepInput {
  loadW: number;
  pvW: number;
  /** Hours from the forecast's start to the step's start, and the step's length. */
  t0H: number;
  dtH: number;
  /** Count generator hours and litres (false while extrapolating past the horizon). */
  record: boolean;
}

const EPS_PCT = 1e-9;
const EPS_L = 1e-9;
/** A step crosses at most a handful of thresholds; this bounds the loop regardless. */
const MAX_CUTS = 16;

/** Advances the battery-only run by one step. */
export function stepBattery(p: SimParams, s: BatteryRun, input: StepInput): void {
  if (s.reserveH !== null) return;
  const netW = input.loadW - input.pvW;
  const pctPerH = 100 / p.capacityWh;
  if (netW > 0) {
    const drop = netW * pctPerH;
    const toReserveH = (s.socPct - p.reserveSocPct) / drop;
    if (toReserveH <= input.dtH) {
      s.reserveH = input.t0H + Math.max(0, toReserveH);
      s.socPct = p.reserveSocPct;
      return;
    }
    s.socPct -= drop * input.dtH;
  } else {
    const chargeW = Math.min(-netW, p.chargeLimitW) * p.chargeEfficiency;
    s.socPct = Math.min(100, s.socPct + chargeW * pctPerH * input.dtH);
  }
}

/** Advances the dispatched run by one step, cutting it at each threshold crossed. */
export function stepDispatch(p: SimParams, s: DispatchRun, input: StepInput): void {
  const pctPerH = 100 / p.capacityWh;
  const solarW = Math.min(input.pvW, input.loadW);
  const surplusPvW = input.pvW - solarW;
  const netLoadW = input.loadW - solarW;
  let t = 0;
  for (let cut = 0; cut < MAX_CUTS && t < input.dtH && s.outageH === null; cut++) {
    const fuelOk = s.fuelL === null || s.fuelL > p.fuelReserveL + EPS_L;
    if (s.genOn && (s.socPct >= p.stopSocPct - EPS_PCT || !fuelOk)) s.genOn = false;
    if (!s.genOn && p.ratedW > 0 && s.socPct <= p.startSocPct + EPS_PCT) {
      if (s.fuelL === null || s.fuelL > p.fuelRestartL + EPS_L) s.genOn = true;
      // Fuel left under the restart level is no use: the tank is as good as empty.
      else if (s.tankH === null) s.tankH = input.t0H + t;
    }
    if (!s.genOn && s.socPct <= p.criticalSocPct + EPS_PCT) {
      s.outageH = input.t0H + t;
      return;
    }
    const room = s.socPct < 100 - EPS_PCT;
    let socRate: number, lph = 0;
    if (s.genOn) {
      const genLoadW = Math.min(netLoadW, p.ratedW);
      const pvChargeW = room ? Math.min(surplusPvW, p.chargeLimitW) : 0;
      const genChargeW = room
        ? Math.max(0, Math.min(p.chargeLimitW - pvChargeW, p.ratedW - genLoadW))
        : 0;
      socRate = ((pvChargeW + genChargeW) * p.chargeEfficiency - (netLoadW - genLoadW)) * pctPerH;
      const outKw = generatorOutputKw(p.ratedW / 1000, (genLoadW + genChargeW) / 1000, p.minLoad);
      lph = fuelRateLph(p.ratedW / 1000, outKw, p.curve);
    } else {
      socRate = netLoadW > 0
        ? -netLoadW * pctPerH
        : room
        ? Math.min(surplusPvW, p.chargeLimitW) * p.chargeEfficiency * pctPerH
        : 0;
    }
    // The last allowed cut runs to the end of the step whatever it crosses.
    let dt = input.dtH - t;
    if (cut < MAX_CUTS - 1) {
      if (socRate > 0) {
        dt = Math.min(dt, (100 - s.socPct) / socRate);
        if (s.genOn) dt = Math.min(dt, (p.stopSocPct - s.socPct) / socRate);
      } else if (socRate < 0 && !s.genOn) {
        if (s.socPct > p.startSocPct) dt = Math.min(dt, (s.socPct - p.startSocPct) / -socRate);
        dt = Math.min(dt, (s.socPct - p.criticalSocPct) / -socRate);
      }
      if (s.genOn && s.fuelL !== null && lph > 0) {
        dt = Math.min(dt, (s.fuelL - p.fuelReserveL) / lph);
      }
      dt = Math.max(0, dt);
    }
    s.socPct = Math.min(100, Math.max(0, s.socPct + socRate * dt));
    if (s.genOn) {
      if (s.fuelL !== null) {
        s.fuelL = Math.max(0, s.fuelL - lph * dt);
        if (s.tankH === null && s.fuelL <= p.fuelReserveL + EPS_L) s.tankH = input.t0H + t + dt;
      }
      if (input.record) {
        s.genH += dt;
        s.fuelUsedL += lph * dt;
      }
    }
    t += dt;
  }
}
