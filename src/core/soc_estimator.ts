/**
 * State-of-charge estimator: one pure step per sample, the previous estimate in, the next out.
 *
 * Sources, in order of trust:
 * 1. A SoC reported by a BMS (or shunt monitor) always wins.
 * 2. With a current reading: coulomb counting from the previous estimate (Peukert on discharge,
 *    charge efficiency on charge, src/core/coulomb_count.ts), its uncertainty growing with the
 *    charge counted. The OCV table re-anchors the count only after the battery has rested
 *    (|I| ≤ restCurrentA for restTimeS): the count's band is intersected with the rest
 *    voltage's band, or replaced by it when the two disagree. Under load the voltage is first
 *    corrected, V_ocv ≈ V − I·R, and may pull the count down only when its whole band lies below
 *    the count's for lowVoltagePersistS (a drifted count, a faded battery) — never on one dip.
 *    The first estimate, with nothing to count from, is that corrected voltage. At the end of a
 *    charge the count is synchronised to 100 %, as battery monitors do: the terminal voltage at
 *    or above chargedVPerCell with the current at most tailCurrentA for chargedDetectS.
 * 3. Without a current reading: the loaded voltage, read with a wider error (an unknown current
 *    up to unknownCurrentA times R may be hiding in it). A fall must persist lowVoltagePersistS
 *    before the estimate follows, and then it falls to the highest reading of that run; the
 *    previous estimate is held through a motor start or a generator crank. A voltage above the
 *    full-charge OCV says only "on charge" and holds the estimate.
 *
 * Uncertainty is a half-width in SoC percentage points: the band [socPct − u, socPct + u]
 * (clipped to 0–100) is meant as the P10–P90 range of the forward prediction. Time is passed in.
 */
import { cellsInSeries, type SocBand, socBandFromOcv } from "./battery.ts";
import { countedSocDeltaPct } from "./coulomb_count.ts";
import { type BatteryPack, type SocEstimatorParams, socEstimatorParams } from "./soc_params.ts";

export type SocMethod =
  /** Reported by a BMS. */
  | "bms"
  /** Counted from the previous estimate with the battery current. */
  | "coulomb"
  /** Re-anchored to the OCV table after a rest. */
  | "ocv-rest"
  /** Terminal voltage corrected for I·R (first reading, or a persistent low voltage). */
  | "ocv-corrected"
  /** Loaded voltage without a current reading. */
  | "voltage-loaded"
  /** Synchronised to 100 % at the end of a charge (charged voltage and tail current held). */
  | "full-charge";

/** Whether an estimate made by `method` rests on a voltage reading (not a BMS, count or sync). */
export function readsVoltage(method: SocMethod): boolean {
  return method === "ocv-rest" || method === "ocv-corrected" || method === "voltage-loaded";
}

export interface SocSample {
  time: Date;
  batteryV: number;
  /** Positive while charging; null without a current sensor. */
  batteryA: number | null;
  /** SoC reported by a BMS; null without one. */
  bmsSocPct: number | null;
  /** Battery temperature; null without a sensor (no temperature correction then). */
  tempC: number | null;
}

/** A run of low voltage readings not yet acted on. */
export interface LowVoltageRun {
  since: Date;
  /** The highest SoC read during the run: where the estimate falls if the run persists. */
  socPct: number;
  uncertaintyPct: number;
  method: "ocv-corrected" | "voltage-loaded";
}

export interface SocEstimate {
  /** Time of the sample it was made from. */
  time: Date;
  socPct: number;
  /** Half-width of the SoC band, percentage points. */
  uncertaintyPct: number;
  /** Where `socPct` came from. */
  method: SocMethod;
  /** The previous estimate is held: a low voltage not yet persistent, or a charging voltage. */
  holding: boolean;
  /** Start of the present rest; null when not resting or without a current reading. */
  restSince: Date | null;
  /**
   * Since when the battery has held the charged voltage with no more than the tail current;
   * null when it does not, or without a current reading.
   */
  chargedSince: Date | null;
  lowVoltage: LowVoltageRun | null;
  /** The sample's current, for the next step's trapezoid. */
  batteryA: number | null;
}

export interface SocEstimateOptions {
  profile: BatteryPack;
  /** Overrides of the defaults of `socEstimatorParams` (src/core/soc_params.ts). */
  params?: Partial<SocEstimatorParams>;
}

/** The next estimate from the previous one (null at start) and a new sample. */
export function updateSocEstimate(
  prev: SocEstimate | null,
  sample: SocSample,
  options: SocEstimateOptions,
): SocEstimate {
  const p = socEstimatorParams(options.profile, options.params);
  checkSample(sample, prev);
  const { time, batteryA } = sample;
  const dtS = prev === null ? 0 : (time.getTime() - prev.time.getTime()) / 1000;
  const gap = dtS > p.maxGapS;
  const resting = batteryA !== null && Math.abs(batteryA) <= p.restCurrentA;
  const restSince = resting ? (prev?.restSince && !gap ? prev.restSince : time) : null;
  // Full charge, as a battery monitor detects it: the charger holds the battery at or above the
  // charged voltage while what it still takes (or, within rest noise, gives) is under the tail.
  const charged = batteryA !== null && batteryA >= -p.restCurrentA &&
    batteryA <= p.tailCurrentA &&
    sample.batteryV >=
      p.chargedVPerCell * cellsInSeries(options.profile.chemistry, options.profile.nominalV);
  const chargedSince = charged ? (prev?.chargedSince && !gap ? prev.chargedSince : time) : null;
  const base = { time, restSince, chargedSince, batteryA };

  if (sample.bmsSocPct !== null) {
    return {
      ...base,
      socPct: sample.bmsSocPct,
      uncertaintyPct: p.bmsUncertaintyPct,
      method: "bms",
      holding: false,
      lowVoltage: null,
    };
  }

  const reading = voltageReading(sample, p, options.profile);
  // Above the full-charge OCV even at its low edge, with a charging (or unknown) current: the
  // charger's voltage, not the battery's state.
  const onCharge = reading.band.lowPct >= 100 && (batteryA === null || batteryA > p.restCurrentA);

  if (prev === null) {
    const first = onCharge ? { socPct: 50, uncertaintyPct: 50 } : fromBand(reading.band);
    return { ...base, ...first, method: reading.method, holding: false, lowVoltage: null };
  }
  // A run of low readings survives a gap: two low readings an hour apart are a persistent low.
  const run = prev.lowVoltage;

  if (batteryA !== null) {
    const deltaPct = countedSocDeltaPct({ fromA: prev.batteryA, toA: batteryA, dtS }, p);
    const gapPct = gap ? p.unknownCurrentA * (dtS / 3600) / p.capacityAh * 100 : 0;
    let est = {
      socPct: clamp(prev.socPct + deltaPct),
      uncertaintyPct: prev.uncertaintyPct + p.countErrorFrac * Math.abs(deltaPct) + gapPct,
      method: deltaPct === 0 && prev.method !== "bms" ? prev.method : "coulomb" as SocMethod,
    };
    let lowVoltage: LowVoltageRun | null = null;
    const rested = restSince !== null && (time.getTime() - restSince.getTime()) / 1000 >=
        p.restTimeS;
    const full = chargedSince !== null &&
      (time.getTime() - chargedSince.getTime()) / 1000 >= p.chargedDetectS;
    if (full) {
      // The count's drift (Peukert, efficiency, a first reading under load) ends here.
      est = { socPct: 100, uncertaintyPct: p.fullChargeUncertaintyPct, method: "full-charge" };
    } else if (rested) {
      const anchored = anchorAtRest(est, reading.band);
      if (anchored) est = { ...anchored, method: "ocv-rest" };
    } else if (
      !resting && !onCharge && -batteryA <= p.lowVoltageMaxCurrentA &&
      reading.band.highPct < est.socPct - est.uncertaintyPct
    ) {
      // Only under load: near zero current an unrested voltage is still relaxing (low after a
      // discharge), and the rest rule above takes over once it has settled. And only up to
      // lowVoltageMaxCurrentA: beyond it polarisation sags the voltage far more than V − I·R
      // explains (Copetti et al., 1993: the overvoltage term grows with I / C10), and an
      // evening load on a lead-acid bank would read as a near-empty one.
      const next = extendRun(run, time, reading);
      if (persisted(next, time, p)) est = { ...fromRun(next), method: next.method };
      else lowVoltage = next;
    }
    return { ...base, ...capped(est), holding: false, lowVoltage };
  }

  if (onCharge) {
    return { ...base, ...pick(prev), holding: true, lowVoltage: null };
  }
  if (reading.band.socPct < prev.socPct) {
    const next = extendRun(run, time, reading);
    if (persisted(next, time, p)) {
      return { ...base, ...fromRun(next), method: next.method, holding: false, lowVoltage: null };
    }
    return { ...base, ...pick(prev), holding: true, lowVoltage: next };
  }
  return {
    ...base,
    ...fromBand(reading.band),
    method: reading.method,
    holding: false,
    lowVoltage: null,
  };
}

/** The SoC band of an estimate, clipped to 0–100: the P10–P90 range for a forward prediction. */
export function socBand(estimate: Pick<SocEstimate, "socPct" | "uncertaintyPct">): {
  lowPct: number;
  highPct: number;
} {
  return {
    lowPct: clamp(estimate.socPct - estimate.uncertaintyPct),
    highPct: clamp(estimate.socPct + estimate.uncertaintyPct),
  };
}

interface VoltageReading {
  band: SocBand;
  method: "ocv-corrected" | "voltage-loaded";
}

/**
 * The sample's voltage read through the OCV table. With a current: V − I·R, the error per cell
 * being the voltmeter's, the hysteresis and the resistance's own error on I·R. Without: V as
 * it is, the error widened by the sag or rise an unknown current could cause, I_max·R·(1 + ε).
 */
function voltageReading(
  sample: SocSample,
  p: SocEstimatorParams,
  pack: BatteryPack,
): VoltageReading {
  const cells = cellsInSeries(pack.chemistry, pack.nominalV);
  const r = p.internalResistanceOhm;
  const baseErrorV = p.voltmeterErrorVPerCell + p.hysteresisVPerCell;
  const i = sample.batteryA;
  const packV = i === null ? sample.batteryV : sample.batteryV - i * r;
  const loadErrorV = i === null
    ? p.unknownCurrentA * r * (1 + p.resistanceErrorFrac)
    : Math.abs(i) * r * p.resistanceErrorFrac;
  const band = socBandFromOcv(pack, {
    packV,
    errorVPerCell: baseErrorV + loadErrorV / cells,
    tempC: sample.tempC,
  });
  return { band, method: i === null ? "voltage-loaded" : "ocv-corrected" };
}

/**
 * Rest re-anchoring: the count's band [s − u, s + u] intersected with the rest voltage's band.
 * Inside it already: no change (null). Overlapping: the intersection (so the same rest reading
 * applied again changes nothing). Apart: the count has drifted beyond both errors, and the rested
 * voltage wins.
 */
function anchorAtRest(
  count: { socPct: number; uncertaintyPct: number },
  band: SocBand,
): { socPct: number; uncertaintyPct: number } | null {
  const low = clamp(count.socPct - count.uncertaintyPct);
  const high = clamp(count.socPct + count.uncertaintyPct);
  if (low >= band.lowPct && high <= band.highPct) return null;
  const lo = Math.max(low, band.lowPct);
  const hi = Math.min(high, band.highPct);
  if (lo > hi) return fromBand(band);
  return { socPct: (lo + hi) / 2, uncertaintyPct: (hi - lo) / 2 };
}

function extendRun(run: LowVoltageRun | null, time: Date, reading: VoltageReading): LowVoltageRun {
  const { socPct, uncertaintyPct } = reading.band;
  if (run === null) return { since: time, socPct, uncertaintyPct, method: reading.method };
  return socPct > run.socPct ? { ...run, socPct, uncertaintyPct, method: reading.method } : run;
}

function persisted(run: LowVoltageRun, time: Date, p: SocEstimatorParams): boolean {
  return (time.getTime() - run.since.getTime()) / 1000 >= p.lowVoltagePersistS;
}

function fromBand(band: SocBand) {
  return { socPct: band.socPct, uncertaintyPct: band.uncertaintyPct };
}

function fromRun(run: LowVoltageRun) {
  return { socPct: run.socPct, uncertaintyPct: run.uncertaintyPct };
}

function pick(e: SocEstimate) {
  return { socPct: e.socPct, uncertaintyPct: e.uncertaintyPct, method: e.method };
}

/** A band never needs to reach beyond 0–100 on both sides. */
function capped<T extends { socPct: number; uncertaintyPct: number }>(e: T): T {
  return { ...e, uncertaintyPct: Math.min(e.uncertaintyPct, Math.max(e.socPct, 100 - e.socPct)) };
}

function clamp(pct: number): number {
  return Math.min(100, Math.max(0, pct));
}

function checkSample(s: SocSample, prev: SocEstimate | null) {
  if (!(s.time instanceof Date) || Number.isNaN(s.time.getTime())) {
    throw new RangeError(`sample.time must be a valid Date, got ${String(s.time)}`);
  }
  if (!(s.batteryV > 0) || !Number.isFinite(s.batteryV)) {
    throw new RangeError(`sample.batteryV must be a finite number > 0, got ${s.batteryV}`);
  }
  if (s.batteryA !== null && !Number.isFinite(s.batteryA)) {
    throw new RangeError(`sample.batteryA must be a finite number or null, got ${s.batteryA}`);
  }
  if (s.bmsSocPct !== null && !(s.bmsSocPct >= 0 && s.bmsSocPct <= 100)) {
    throw new RangeError(`sample.bmsSocPct must be within 0–100 or null, got ${s.bmsSocPct}`);
  }
  if (s.tempC !== null && !Number.isFinite(s.tempC)) {
    throw new RangeError(`sample.tempC must be a finite number or null, got ${s.tempC}`);
  }
  if (prev !== null && s.time.getTime() < prev.time.getTime()) {
    throw new RangeError(
      `sample.time ${s.time.toISOString()} is before the previous estimate's ` +
        `${prev.time.toISOString()}: samples must come in time order`,
    );
  }
}
