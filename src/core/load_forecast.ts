/**
 * Load forecast per site: the load is a level (the mean of the last 24 clock hours) plus a
 * shape (how each hour of the day, and of the week, deviates from that level), both learned
 * online from the site's own telemetry; an EWMA of the load stands in for a new site.
 *
 * Why level + shape, not absolute hourly means: a site's daily energy moves with the weather
 * and the season (heating, cooling, harvest) far more than its daily shape does. Absolute
 * bucket means lag every such move; on the Ouessant island grid they did worse than "same hour
 * yesterday", while level + shape beats both (tests/core/load_forecast_test.ts).
 *
 * Samples of any rate are averaged into local clock hours. Each finished hour
 * - enters a 24-slot ring of the latest value of each hour of the day, whose mean is the level;
 * - updates its hour-of-day and hour-of-week shape buckets with (value − level): running means
 *   that turn into EWMAs once full, so the shape follows the seasons;
 * - updates, for its hour of the day, the squared errors the hour-of-day shape, the
 *   hour-of-week shape and their blend made for it; once a day, at local midnight, the squared
 *   day-over-day change of the level. A forecast's spread is the blend's error plus the level's
 *   drift over the lead, the level taken as a random walk (variance ∝ lead).
 * A forecast blends the two shapes by their measured errors (see `weekWeight`) and falls back
 * to the EWMA until the level's ring is full and the hour's shape has a day.
 *
 * State is small (the backend holds 100 000 sites): fourteen numbers until the first hour is
 * learned, then one 768-byte buffer seen as 288 Float16 and 192 Uint8 — about 1.1 KB in memory
 * (see the test). Float16 keeps 11 significant bits (0.05 %); values are stored divided by a
 * power-of-two scale chosen at the first learned hour, so a 50 W cabinet and a 1.7 MW island
 * grid both fit its range (±65 504 × the scale), and errors as their root mean square, so
 * they fit it too. Updating is pure: a finished hour copies the buffer (copy-on-write), other
 * samples share it.
 */
import { ewma, ewmaAlpha } from "./advice.ts";
import { KasiError } from "./errors.ts";

/**
 * An hour-of-day shape bucket is trusted once it holds this many days. One is enough: on the
 * Ouessant grid the first day-ahead forecast from a one-day shape had a MAE of 92 kW against
 * the flat EWMA's 247 kW, and waiting for a second or third day only kept the EWMA longer
 * (first-fortnight MAE 74.1 kW with 1, 85.1 with 2, 90.6 with 3).
 */
export const MIN_DAY_SAMPLES = 1;
/** Hour-of-week weight n / (n + this): equal to hour-of-day after this many weeks. */
export const WEEK_PRIOR_SAMPLES = 2;
/**
 * Shape buckets forget with at least this weight per new sample: about a week of days… On the
 * Ouessant grid (tuned on January–June, checked on July–December) day-ahead MAE moved by under
 * 2 % between 1/3 and 1/14 and between 1/2 and 1/8 for weeks: round values in the middle.
 */
export const DAY_MIN_ALPHA = 1 / 7;
/** …and about four weeks of weeks. */
export const WEEK_MIN_ALPHA = 1 / 4;
/** The fallback EWMA's time constant: one day, so a new site's forecast is its daily mean. */
export const FALLBACK_TAU_S = 24 * 3600;
/**
 * Relative spread floor of the fallback, which knows the level but not the daily shape. On the
 * Ouessant grid an hour deviates from its day's mean by 12.7 % on average (σ ≈ 1.25 × that =
 * 16 % for a normal error); one site aggregates far fewer loads and swings more, so 25 % is
 * assumed.
 */
export const FALLBACK_MIN_SPREAD_FRAC = 0.25;
/** An hour is learned only when samples cover at least half of it. */
const MIN_HOUR_COVERAGE_S = 1800;
/** A sample stands for at most an hour since the previous one (longer is a gap). */
const MAX_SAMPLE_WEIGHT_S = 3600;
const HOUR_MS = 3_600_000;
const WEEK_H = 168;
const DAY_H = 24;
const COUNT_MAX = 255;
/** The smallest scale: 65 504 × 64 W = 4.2 MW fits even a site whose first hour was idle. */
const MIN_SCALE_W = 64;
/** The largest finite Float16 (a larger value would be stored as Infinity). */
const FLOAT16_MAX = 65504;
/** Float16Array layout. */
const DAY_SHAPE = WEEK_H;
const DAY_ERR = WEEK_H + DAY_H;
const WEEK_ERR = WEEK_H + 2 * DAY_H;
const BLEND_ERR = WEEK_H + 3 * DAY_H;
const RING = WEEK_H + 4 * DAY_H;
const FLOATS = WEEK_H + 5 * DAY_H;
const COUNTS = WEEK_H + DAY_H;

export interface LoadProfileState {
  /** Local clock = UTC + this (the site's standard offset; DST is ignored). */
  readonly utcOffsetMin: number;
  /**
   * In units of `scaleW`: [0, 168) hour-of-week shape, Monday 00:00 first; [168, 192)
   * hour-of-day shape; per hour of the day, root mean square error of the forecast from the
   * hour-of-day shape [192, 216), from the hour-of-week shape [216, 240) and of the blend
   * [240, 264); [264, 288) latest value of each hour of the day (NaN until seen). Null until
   * the first hour is learned.
   */
  readonly buckets: Float16Array | null;
  /** [0, 168) hour-of-week shape samples, [168, 192) hour-of-day, saturating at 255. */
  readonly counts: Uint8Array | null;
  /** Watts per unit of `buckets`: a power of two, set when they are first allocated. */
  readonly scaleW: number;
  readonly ewmaW: number | null;
  readonly ewmaVarW2: number;
  /** Mean squared day-over-day change of the level, W², and how many changes it holds (≤ 255). */
  readonly levelVar24W2: number;
  readonly levelVarN: number;
  /** The level when local midnight was last learned: the day-over-day change is measured there. */
  readonly midnightLevelW: number | null;
  readonly lastSampleMs: number | null;
  /** Local hour (hours since the epoch) being averaged, and the last one learned. */
  readonly hourKey: number | null;
  readonly hourSumWs: number;
  readonly hourCoveredS: number;
  readonly learnedHourKey: number | null;
}

export interface LoadSample {
  time: Date;
  loadW: number;
}

/** A forecast load: mean and one standard deviation of its error. */
export interface LoadPoint {
  meanW: number;
  spreadW: number;
  basis: "profile" | "ewma";
}

/** Bytes of bucket storage per site once its first hour is learned: 288 · 2 + 192 · 1. */
export const LOAD_PROFILE_BUCKET_BYTES = FLOATS * 2 + COUNTS;

interface Buckets {
  buckets: Float16Array;
  counts: Uint8Array;
}

/** Both arrays over one buffer: one allocation, one copy. */
function views(buffer: ArrayBuffer): Buckets {
  return {
    buckets: new Float16Array(buffer, 0, FLOATS),
    counts: new Uint8Array(buffer, FLOATS * 2, COUNTS),
  };
}

/** Fresh buckets: NaN marks "not yet", an error never measured, an hour never seen. */
function allocate(): Buckets {
  const b = views(new ArrayBuffer(LOAD_PROFILE_BUCKET_BYTES));
  b.buckets.fill(Number.NaN, DAY_ERR, FLOATS);
  return b;
}

/** A power of two near the first hour's load, at least MIN_SCALE_W. */
function scaleFor(valueW: number): number {
  return Math.max(MIN_SCALE_W, 2 ** Math.round(Math.log2(Math.max(valueW, 1))));
}

/** Stores `value` (already in units of the scale), held within Float16's finite range. */
function put(buckets: Float16Array, index: number, value: number): void {
  buckets[index] = Math.max(-FLOAT16_MAX, Math.min(FLOAT16_MAX, value));
}

export function newLoadProfile(options: { utcOffsetMin?: number } = {}): LoadProfileState {
  const utcOffsetMin = options.utcOffsetMin ?? 0;
  if (!Number.isInteger(utcOffsetMin) || Math.abs(utcOffsetMin) > 14 * 60) {
    throw new KasiError(
      "INPUT_INVALID",
      `utcOffsetMin must be a whole number of minutes within ±840, got ${utcOffsetMin}`,
    );
  }
  return {
    utcOffsetMin,
    buckets: null,
    counts: null,
    scaleW: 0,
    ewmaW: null,
    ewmaVarW2: 0,
    levelVar24W2: 0,
    levelVarN: 0,
    midnightLevelW: null,
    lastSampleMs: null,
    hourKey: null,
    hourSumWs: 0,
    hourCoveredS: 0,
    learnedHourKey: null,
  };
}

/** The profile's fields as a plain object. */
export function plainLoadProfile(s: LoadProfileState): LoadProfileState {
  return {
    utcOffsetMin: s.utcOffsetMin,
    buckets: s.buckets,
    counts: s.counts,
    scaleW: s.scaleW,
    ewmaW: s.ewmaW,
    ewmaVarW2: s.ewmaVarW2,
    levelVar24W2: s.levelVar24W2,
    levelVarN: s.levelVarN,
    midnightLevelW: s.midnightLevelW,
    lastSampleMs: s.lastSampleMs,
    hourKey: s.hourKey,
    hourSumWs: s.hourSumWs,
    hourCoveredS: s.hourCoveredS,
    learnedHourKey: s.learnedHourKey,
  };
}

function localHourKey(state: LoadProfileState, ms: number): number {
  return Math.floor((ms + state.utcOffsetMin * 60_000) / HOUR_MS);
}

/** 1970-01-01 was a Thursday: day 0 is weekday 3 with Monday = 0. */
function weekIndex(hourKey: number): number {
  const day = Math.floor(hourKey / DAY_H);
  return ((((day + 3) % 7) + 7) % 7) * DAY_H + dayIndex(hourKey);
}

function dayIndex(hourKey: number): number {
  return ((hourKey % DAY_H) + DAY_H) % DAY_H;
}

/**
 * Mean of the ring (the last value of each hour of the day), in units of the scale, or null
 * until all 24 are seen.
 */
function level(buckets: Float16Array | null): number | null {
  if (buckets === null) return null;
  let sum = 0;
  for (let d = 0; d < DAY_H; d++) {
    const v = buckets[RING + d]!;
    if (Number.isNaN(v)) return null;
    sum += v;
  }
  return sum / DAY_H;
}

/**
 * Weight of the hour-of-week shape against the hour-of-day shape. With errors of both measured
 * for this hour of the day, the inverse-MSE combination (Bates & Granger, 1969): w = e_day /
 * (e_day + e_week), so a site without a weekly rhythm (an island grid) leans on the better-fed
 * hour-of-day shape and a clinic closed on Sundays on hour-of-week. Before that, the prior
 * n / (n + WEEK_PRIOR_SAMPLES).
 */
function weekWeight(b: Buckets, hourKey: number): number {
  const d = dayIndex(hourKey), w = weekIndex(hourKey);
  const nWeek = b.counts[w]!;
  if (nWeek === 0) return 0;
  // Mean squared errors, from their roots (the scale cancels in the ratio).
  const eDay = b.buckets[DAY_ERR + d]! ** 2, eWeek = b.buckets[WEEK_ERR + d]! ** 2;
  if (Number.isNaN(eDay) || Number.isNaN(eWeek)) return nWeek / (nWeek + WEEK_PRIOR_SAMPLES);
  return eDay + eWeek === 0 ? 0.5 : eDay / (eDay + eWeek);
}

/**
 * The blended shape of a local hour in units of the scale, or null while its hour-of-day
 * bucket is untrusted.
 */
function shape(b: Buckets, hourKey: number): number | null {
  const d = dayIndex(hourKey), w = weekIndex(hourKey);
  if (b.counts[DAY_SHAPE + d]! < MIN_DAY_SAMPLES) return null;
  const k = weekWeight(b, hourKey);
  return k * b.buckets[w]! + (1 - k) * b.buckets[DAY_SHAPE + d]!;
}

/** The state's buckets, or null before its first learned hour. */
function bucketsOf(state: LoadProfileState): Buckets | null {
  return state.buckets && state.counts ? { buckets: state.buckets, counts: state.counts } : null;
}

function learnHour(
  state: LoadProfileState,
  hourKey: number,
  valueW: number,
): Pick<
  LoadProfileState,
  | "buckets"
  | "counts"
  | "scaleW"
  | "levelVar24W2"
  | "levelVarN"
  | "midnightLevelW"
  | "learnedHourKey"
> {
  const prev = bucketsOf(state);
  const scaleW = prev ? state.scaleW : scaleFor(valueW);
  const { buckets, counts } = prev
    ? views((prev.buckets.buffer as ArrayBuffer).slice(0))
    : allocate();
  const d = dayIndex(hourKey), w = weekIndex(hourKey);
  // In units of the scale from here on; the level-change variance stays in W².
  const value = valueW / scaleW;
  const lvl = level(prev?.buckets ?? null);
  let { levelVar24W2, levelVarN, midnightLevelW } = state;
  if (prev && lvl !== null) {
    const shaped = shape(prev, hourKey);
    if (shaped !== null) {
      // Errors seen so far in this hour: one per day learned after the bucket became trusted.
      const a = Math.max(1 / (counts[DAY_SHAPE + d]! - MIN_DAY_SAMPLES + 1), DAY_MIN_ALPHA);
      const track = (index: number, predicted: number) => {
        const sq = (value - predicted) ** 2;
        const rms = buckets[index]!;
        const mse = Number.isNaN(rms) ? sq : rms * rms + a * (sq - rms * rms);
        put(buckets, index, Math.sqrt(mse));
      };
      track(DAY_ERR + d, lvl + prev.buckets[DAY_SHAPE + d]!);
      if (counts[w]! > 0) track(WEEK_ERR + d, lvl + prev.buckets[w]!);
      track(BLEND_ERR + d, lvl + shaped);
    }
    if (d === 0) {
      // Day-over-day change of the level (of the daily mean), once a day; about two weeks.
      const levelW = lvl * scaleW;
      if (midnightLevelW !== null) {
        const change = levelW - midnightLevelW;
        levelVar24W2 += Math.max(1 / (levelVarN + 1), DAY_MIN_ALPHA / 2) *
          (change * change - levelVar24W2);
        levelVarN = Math.min(COUNT_MAX, levelVarN + 1);
      }
      midnightLevelW = levelW;
    }
    const update = (index: number, minAlpha: number) => {
      const n = counts[index]!;
      put(
        buckets,
        index,
        buckets[index]! + Math.max(1 / (n + 1), minAlpha) * (value - lvl - buckets[index]!),
      );
      counts[index] = Math.min(COUNT_MAX, n + 1);
    };
    update(DAY_SHAPE + d, DAY_MIN_ALPHA);
    update(w, WEEK_MIN_ALPHA);
  }
  put(buckets, RING + d, value);
  return {
    buckets,
    counts,
    scaleW,
    levelVar24W2,
    levelVarN,
    midnightLevelW,
    learnedHourKey: hourKey,
  };
}

/**
 * Learns one sample. Samples at or before the last one (replays, duplicates) are ignored;
 * a sample stands for the time since the previous one, at most an hour.
 */
export function updateLoadProfile(held: LoadProfileState, sample: LoadSample): LoadProfileState {
  const ms = sample.time.getTime();
  if (!Number.isFinite(ms)) throw new KasiError("INPUT_INVALID", `sample.time is invalid`);
  if (!Number.isFinite(sample.loadW) || sample.loadW < 0) {
    throw new KasiError("INPUT_INVALID", `sample.loadW must be ≥ 0 W, got ${sample.loadW}`);
  }
  if (held.lastSampleMs !== null && ms <= held.lastSampleMs) return held;
  // Plain fields to spread: a held profile (held_load_profile.ts) has them as getters.
  const state = plainLoadProfile(held);
  const dtS = state.lastSampleMs === null
    ? 0
    : Math.min((ms - state.lastSampleMs) / 1000, MAX_SAMPLE_WEIGHT_S);
  const alpha = ewmaAlpha(dtS, FALLBACK_TAU_S);
  const dev = sample.loadW - (state.ewmaW ?? sample.loadW);
  let next: LoadProfileState = {
    ...state,
    ewmaW: ewma(state.ewmaW, sample.loadW, alpha),
    ewmaVarW2: state.ewmaVarW2 + alpha * (dev * dev - state.ewmaVarW2),
    lastSampleMs: ms,
  };

  const key = localHourKey(state, ms);
  if (state.learnedHourKey !== null && key <= state.learnedHourKey) return next;
  if (state.hourKey !== null && key !== state.hourKey) {
    if (state.hourCoveredS >= MIN_HOUR_COVERAGE_S) {
      next = { ...next, ...learnHour(state, state.hourKey, state.hourSumWs / state.hourCoveredS) };
    }
    next = { ...next, hourKey: key, hourSumWs: 0, hourCoveredS: 0 };
  } else if (state.hourKey === null) {
    next = { ...next, hourKey: key };
  }
  // The first sample has no interval: it counts for one second so a lone reading is not lost.
  const weightS = Math.max(dtS, 1);
  const hourSumWs = next.hourSumWs + sample.loadW * weightS;
  const hourCoveredS = next.hourCoveredS + weightS;
  next = { ...next, hourSumWs, hourCoveredS };
  // A fully covered hour is learned at once, so a forecast made at its end already knows it.
  if (hourCoveredS >= 3600) {
    next = {
      ...next,
      ...learnHour(next, key, hourSumWs / hourCoveredS),
      hourKey: null,
      hourSumWs: 0,
      hourCoveredS: 0,
    };
  }
  return next;
}

/**
 * The load expected at `time`, or null before the first sample. Its spread combines the hour's
 * shape error with the level's drift since the last sample: σ² = shape² + level24² · lead / 24 h.
 */
export function forecastLoad(state: LoadProfileState, time: Date): LoadPoint | null {
  if (state.ewmaW === null || state.lastSampleMs === null) return null;
  const ms = time.getTime();
  const key = localHourKey(state, ms);
  const b = bucketsOf(state);
  const lvl = b ? level(b.buckets) : null;
  const shaped = b && lvl !== null ? shape(b, key) : null;
  const fallbackSpreadW = Math.max(
    Math.sqrt(state.ewmaVarW2),
    FALLBACK_MIN_SPREAD_FRAC * state.ewmaW,
  );
  if (b === null || lvl === null || shaped === null) {
    return { meanW: state.ewmaW, spreadW: fallbackSpreadW, basis: "ewma" };
  }
  const d = dayIndex(key);
  const leadH = Math.max(0, (ms - state.lastSampleMs) / HOUR_MS);
  // Until the hour has been forecast once, its error is unknown: the fallback's spread stands.
  const blendRms = b.buckets[BLEND_ERR + d]!;
  const shapeVarW2 = Number.isNaN(blendRms) ? fallbackSpreadW ** 2 : (blendRms * state.scaleW) ** 2;
  const spreadW = Math.sqrt(shapeVarW2 + state.levelVar24W2 * leadH / DAY_H);
  return { meanW: Math.max(0, (lvl + shaped) * state.scaleW), spreadW, basis: "profile" };
}

/**
 * The load forecast as runtime_forecast.ts takes it, never null: before the site's first sample
 * it is `fallbackLoadW` (e.g. the latest reading) with the fallback's 25 % spread.
 */
export function loadForecaster(
  state: LoadProfileState,
  options: { fallbackLoadW: number },
): (time: Date) => LoadPoint {
  const { fallbackLoadW } = options;
  if (!(Number.isFinite(fallbackLoadW) && fallbackLoadW >= 0)) {
    throw new KasiError("INPUT_INVALID", `fallbackLoadW must be ≥ 0 W, got ${fallbackLoadW}`);
  }
  const none: LoadPoint = {
    meanW: fallbackLoadW,
    spreadW: FALLBACK_MIN_SPREAD_FRAC * fallbackLoadW,
    basis: "ewma",
  };
  return (time) => forecastLoad(state, time) ?? none;
}
