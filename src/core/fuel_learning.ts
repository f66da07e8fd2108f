/**
 * A site's own fuel curve, learned from its fuel-level history. Real gensets stray far from the
 * default curve (generator.ts): village sets run at 6–33 % load burn 1.8–3.5× what it predicts
 * (tests/core/fuel_learning_test.ts checks it against measured specific fuel consumption).
 *
 * The history is cut into segments of steady state (generator running throughout, or off
 * throughout), broken at gaps, refuels, sudden drops and start/stop transitions. Within a
 * running segment the litres burned since its start are F0 · P_rated · hours + F1 · kWh out;
 * every reading of every running segment enters one least-squares fit, either of both
 * coefficients (when the set ran at loads varied enough to tell them apart) or of one scale
 * factor on the default curve. Level that falls while the generator is off is theft or a leak:
 * it is flagged, never learned from.
 */
import { KasiError } from "./errors.ts";
import { checkFuelCurve, DEFAULT_FUEL_CURVE, type FuelCurve, fuelRateLph } from "./generator.ts";

export interface FuelSample {
  time: Date;
  /** Gauge reading 0..100; null when the sensor did not report (the sample is skipped). */
  fuelPct: number | null;
  genRunning: boolean;
  /** Generator output; null when not metered, then `loadW` stands in for it. */
  genW: number | null;
  loadW: number;
}

export interface FuelAnomaly {
  /**
   * drop-while-off: the level fell with the generator off (theft or a leak).
   * drop-too-fast: it fell faster than twice the full-load burn (siphoning while running).
   */
  kind: "drop-while-off" | "drop-too-fast";
  from: Date;
  to: Date;
  droppedL: number;
}

export interface Refuel {
  at: Date;
  addedL: number;
}

export interface FuelLearning {
  curve: FuelCurve;
  method: "default" | "scale" | "linear";
  reason: string;
  /** Running time, burn and output of the segments the fit used. */
  runningH: number;
  burnedL: number;
  energyKwh: number;
  segments: number;
  /** Learned ÷ default litres over the segments used: 1 for the default curve. */
  scale: number;
  anomalies: FuelAnomaly[];
  refuels: Refuel[];
}

export interface FuelLearningOptions {
  ratedKw: number;
  tankL: number;
  /**
   * A one-interval rise at least this large (% of tank) is a refuel; a one-interval fall this
   * large at more than twice the full-load burn is not consumption. Default 5 %: five times an
   * assumed 1 % gauge noise, so noise alone practically never crosses it.
   */
  jumpPct?: number;
  /**
   * An off segment losing at least this much (% of tank, between the mean levels of its first
   * and last half hour) is flagged. Default 3 %.
   */
  offDropPct?: number;
  /** Samples further apart than this break a segment. Default 30 min. */
  maxGapS?: number;
  /** Running segments shorter than this are too short to measure a slope. Default 0.5 h. */
  minSegmentH?: number;
  /** Fit only with at least this much running time… Default 20 h. */
  minRunningH?: number;
  /** …and this much burn (% of tank), 20× the assumed gauge noise. Default 20 %. */
  minBurnPct?: number;
}

/**
 * A floor on specific fuel consumption at full load: diesel holds about 9.94 kWh/L (lower
 * heating value 35.8 MJ/L) and the best engines convert about 45 % of it, so no genset makes a
 * kWh from less than 1 / (9.94 · 0.45) ≈ 0.22 L. A fit below it means a wrong tank size or gauge.
 */
export const MIN_PLAUSIBLE_SFC_L_PER_KWH = 0.22;
/**
 * F0 and F1 are fitted apart only when the loads the set ran at vary enough: the squared
 * correlation of rated-hours and kWh must stay under 0.95. For steady runs at loads p it equals
 * mean(p)² / mean(p²) = 1 / (1 + cv²), so this asks for a coefficient of variation of about
 * 23 % (runs at 3, 5, 7 and 9 kW have 0.88; runs all at one load have 1 and give only a scale).
 */
const MAX_COLLINEARITY = 0.95;
/** The level at each end of an off segment is the mean of its readings over this window. */
const END_WINDOW_MS = 30 * 60_000;

interface Segment {
  state: "run" | "off";
  times: number[];
  levels: number[];
  /** kWh out since the segment's first sample, at each sample. */
  energyKwh: number[];
}

/** Sums of the within-segment least squares (see `learnFuelCurve`). */
interface Sums {
  xx: number;
  xy: number;
  yy: number;
  xl: number;
  yl: number;
}

/** Mean level over the first and the last `END_WINDOW_MS` of a segment: noise averages out. */
function endLevels(seg: Segment): { first: number; last: number } {
  const t0 = seg.times[0]!, t1 = seg.times[seg.times.length - 1]!;
  let sf = 0, nf = 0, sl = 0, nl = 0;
  seg.times.forEach((t, i) => {
    if (t <= t0 + END_WINDOW_MS) (sf += seg.levels[i]!, nf++);
    if (t >= t1 - END_WINDOW_MS) (sl += seg.levels[i]!, nl++);
  });
  return { first: sf / nf, last: sl / nl };
}

/**
 * Adds one running segment to the least-squares sums. Within a segment the burned litres since
 * its start are F0·P_rated·t + F1·E(t) plus an unknown offset (the level the segment started
 * at); subtracting each series' segment mean removes the offset, so every reading counts, the
 * noise of the first and last reading does not dominate, and any load shape within the run fits.
 */
function addSegment(sums: Sums, seg: Segment, ratedKw: number, tankL: number): void {
  const n = seg.times.length;
  const t0 = seg.times[0]!;
  let mx = 0, my = 0, ml = 0;
  for (let i = 0; i < n; i++) {
    mx += ratedKw * (seg.times[i]! - t0) / 3.6e6;
    my += seg.energyKwh[i]!;
    ml += seg.levels[i]!;
  }
  mx /= n, my /= n, ml /= n;
  for (let i = 0; i < n; i++) {
    const x = ratedKw * (seg.times[i]! - t0) / 3.6e6 - mx;
    const y = seg.energyKwh[i]! - my;
    const burnedL = -(seg.levels[i]! - ml) / 100 * tankL;
    sums.xx += x * x;
    sums.xy += x * y;
    sums.yy += y * y;
    sums.xl += x * burnedL;
    sums.yl += y * burnedL;
  }
}

function check(field: string, value: number, ok: boolean): void {
  if (!Number.isFinite(value) || !ok) {
    throw new KasiError("INPUT_INVALID", `${field} is invalid: ${value}`);
  }
}

/** Learns the site's fuel curve from its history; keeps the default when the data are too thin. */
export function learnFuelCurve(
  samples: readonly FuelSample[],
  options: FuelLearningOptions,
): FuelLearning {
  const { ratedKw, tankL } = options;
  check("ratedKw", ratedKw, ratedKw > 0);
  check("tankL", tankL, tankL > 0);
  const jumpPct = options.jumpPct ?? 5;
  const offDropPct = options.offDropPct ?? 3;
  const maxGapMs = (options.maxGapS ?? 1800) * 1000;
  const minSegmentH = options.minSegmentH ?? 0.5;
  const minRunningH = options.minRunningH ?? 20;
  const minBurnPct = options.minBurnPct ?? 20;
  const fastLph = 2 * fuelRateLph(ratedKw, ratedKw);

  const anomalies: FuelAnomaly[] = [];
  const refuels: Refuel[] = [];
  const sums: Sums = { xx: 0, xy: 0, yy: 0, xl: 0, yl: 0 };
  let runningH = 0, energyKwh = 0, segments = 0;
  let seg: Segment | null = null;

  const close = (s: Segment | null) => {
    if (s === null || s.times.length < 2) return;
    const hours = (s.times[s.times.length - 1]! - s.times[0]!) / 3.6e6;
    if (s.state === "run" && hours >= minSegmentH && s.times.length >= 3) {
      addSegment(sums, s, ratedKw, tankL);
      runningH += hours;
      energyKwh += s.energyKwh[s.energyKwh.length - 1]!;
      segments++;
    } else if (s.state === "off" && hours >= 2 * END_WINDOW_MS / 3.6e6) {
      const { first, last } = endLevels(s);
      if (first - last >= offDropPct) {
        anomalies.push({
          kind: "drop-while-off",
          from: new Date(s.times[0]!),
          to: new Date(s.times[s.times.length - 1]!),
          droppedL: (first - last) / 100 * tankL,
        });
      }
    }
  };
  const open = (s: FuelSample): Segment => ({
    state: s.genRunning ? "run" : "off",
    times: [s.time.getTime()],
    levels: [s.fuelPct!],
    energyKwh: [0],
  });

  let prev: FuelSample | null = null;
  samples.forEach((s, i) => {
    if (s.fuelPct === null) return;
    check(`samples[${i}].fuelPct`, s.fuelPct, s.fuelPct >= 0 && s.fuelPct <= 100);
    check(`samples[${i}].time`, s.time.getTime(), true);
    const a: FuelSample | null = prev;
    if (a !== null && s.time.getTime() <= a.time.getTime()) {
      throw new KasiError(
        "INPUT_INVALID",
        `samples[${i}].time ${s.time.toISOString()} is not after the previous sample`,
      );
    }
    prev = s;
    if (a === null || seg === null) {
      seg = open(s);
      return;
    }
    const dtMs = s.time.getTime() - a.time.getTime();
    const risePct = s.fuelPct - a.fuelPct!;
    const state = a.genRunning && s.genRunning
      ? "run"
      : !a.genRunning && !s.genRunning
      ? "off"
      : null;
    if (risePct >= jumpPct) {
      refuels.push({ at: s.time, addedL: risePct / 100 * tankL });
      close(seg);
      seg = open(s);
      return;
    }
    const fellFast = -risePct >= jumpPct && state !== null &&
      (state === "off" || -risePct / 100 * tankL / (dtMs / 3.6e6) > fastLph);
    if (fellFast) {
      anomalies.push({
        kind: state === "off" ? "drop-while-off" : "drop-too-fast",
        from: a.time,
        to: s.time,
        droppedL: -risePct / 100 * tankL,
      });
    }
    if (fellFast || dtMs > maxGapMs || state === null || state !== seg.state) {
      close(seg);
      seg = open(s);
      return;
    }
    const lastKwh = seg.energyKwh[seg.energyKwh.length - 1]!;
    const kw = state === "run" ? ((a.genW ?? a.loadW) + (s.genW ?? s.loadW)) / 2 / 1000 : 0;
    seg.times.push(s.time.getTime());
    seg.levels.push(s.fuelPct);
    seg.energyKwh.push(lastKwh + kw * dtMs / 3.6e6);
  });
  close(seg);

  const d = DEFAULT_FUEL_CURVE;
  // One scale k on the default curve: least squares of burned litres on the default's litres.
  const dd = d.f0LPerKwhRated ** 2 * sums.xx + 2 * d.f0LPerKwhRated * d.f1LPerKwhOut * sums.xy +
    d.f1LPerKwhOut ** 2 * sums.yy;
  const k = dd > 0 ? (d.f0LPerKwhRated * sums.xl + d.f1LPerKwhOut * sums.yl) / dd : 0;
  const defaultL = d.f0LPerKwhRated * ratedKw * runningH + d.f1LPerKwhOut * energyKwh;
  const base = { runningH, energyKwh, segments, anomalies, refuels };
  const fallback = (reason: string, burnedL: number): FuelLearning => ({
    ...base,
    burnedL,
    curve: { ...DEFAULT_FUEL_CURVE },
    method: "default",
    reason,
    scale: 1,
  });
  if (runningH < minRunningH) {
    return fallback(
      `${runningH.toFixed(1)} h of measurable running < ${minRunningH} h`,
      k * defaultL,
    );
  }
  const burnedL = k * defaultL;
  if (burnedL < minBurnPct / 100 * tankL) {
    return fallback(
      `${burnedL.toFixed(1)} L burned < ${minBurnPct} % of the ${tankL} L tank`,
      burnedL,
    );
  }
  const plausible = (c: FuelCurve) =>
    c.f0LPerKwhRated >= 0 && c.f0LPerKwhRated + c.f1LPerKwhOut >= MIN_PLAUSIBLE_SFC_L_PER_KWH;
  const collinearity = sums.xy ** 2 / (sums.xx * sums.yy);
  if (collinearity <= MAX_COLLINEARITY) {
    const det = sums.xx * sums.yy - sums.xy ** 2;
    const linear = {
      f0LPerKwhRated: (sums.xl * sums.yy - sums.yl * sums.xy) / det,
      f1LPerKwhOut: (sums.yl * sums.xx - sums.xl * sums.xy) / det,
    };
    if (linear.f1LPerKwhOut > 0 && plausible(linear)) {
      checkFuelCurve(linear);
      const litres = linear.f0LPerKwhRated * ratedKw * runningH + linear.f1LPerKwhOut * energyKwh;
      return {
        ...base,
        burnedL: litres,
        curve: linear,
        method: "linear",
        reason: `F0 and F1 fitted on ${segments} running segments at varied loads`,
        scale: litres / defaultL,
      };
    }
  }
  const scaled = { f0LPerKwhRated: k * d.f0LPerKwhRated, f1LPerKwhOut: k * d.f1LPerKwhOut };
  if (!plausible(scaled)) {
    return fallback(
      `the fit burns ${(k * (d.f0LPerKwhRated + d.f1LPerKwhOut)).toFixed(3)} L/kWh at full load, ` +
        `below the physical ${MIN_PLAUSIBLE_SFC_L_PER_KWH}: check the tank size and the gauge`,
      burnedL,
    );
  }
  return {
    ...base,
    burnedL,
    curve: scaled,
    method: "scale",
    reason: `the default curve × ${k.toFixed(3)}, from ${runningH.toFixed(1)} h and ` +
      `${burnedL.toFixed(1)} L`,
    scale: k,
  };
}
