/**
 * The hourly inputs of a backtest: a measured load series and a measured solar series of
 * different places and years, put on one timeline. Pure; the CLI parses the files
 * (src/cli/backtest_data.ts) and passes the rows in.
 *
 * The timeline is the solar series' (its sun is tied to its dates and place). Each local day of
 * it takes the load of the load series' day with the same weekday nearest to the same calendar
 * date (at most 3 days away), hour by local hour; a date outside the load year wraps by 52 weeks
 * (364 days, which keeps the weekday) into it. The load is scaled so that the load year's mean is
 * the site's mean.
 */
import { KasiError } from "./errors.ts";

/** One hour of a measured load series, stamped in its own local wall-clock time. */
export interface MeasuredLoadHour {
  /** Local wall-clock time as written in the file, held in a Date as if it were UTC. */
  localTime: Date;
  loadKw: number;
}

/** One hour of measured irradiance and air temperature. */
export interface MeasuredSolarHour {
  /** Start of the hour, UTC. */
  start: Date;
  /** Mean global horizontal irradiance over the hour, W/m², never below 0. */
  ghiWm2: number;
  ambientC: number;
}

/** Hourly inputs on one timeline: index i covers [startMs + i h, startMs + (i + 1) h). */
export interface BacktestSeries {
  startMs: number;
  hours: number;
  loadW: Float64Array;
  ghiWm2: Float64Array;
  ambientC: Float64Array;
  /** Load W per load-series kW: site mean / load-year mean. */
  loadScale: number;
  /** Local time of the timeline = UTC + this. */
  utcOffsetMin: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface AlignOptions {
  /** Mean of the scaled load over the whole load year, W. */
  meanLoadW: number;
  /** The solar series' local time = UTC + this (the place's standard offset, no DST). */
  utcOffsetMin: number;
  /** First local midnight of the window; default the first one in the solar series. */
  startLocal?: Date;
  /** Whole days; default every whole day from the start. */
  days?: number;
}

function invalid(message: string): never {
  throw new KasiError("INPUT_INVALID", message);
}

/** The load series as kW by local day index (from its first day) and hour. */
function loadByDay(load: readonly MeasuredLoadHour[]) {
  if (load.length === 0) invalid("the load series is empty");
  const firstDayMs = Math.floor(load[0]!.localTime.getTime() / DAY_MS) * DAY_MS;
  const byKey = new Map<number, number>();
  let sumKw = 0;
  for (const row of load) {
    byKey.set(Math.floor((row.localTime.getTime() - firstDayMs) / HOUR_MS), row.loadKw);
    sumKw += row.loadKw;
  }
  const lastDayMs = Math.floor(load[load.length - 1]!.localTime.getTime() / DAY_MS) * DAY_MS;
  return { firstDayMs, lastDayMs, byKey, meanKw: sumKw / load.length };
}

/**
 * The load day (midnight, as-if-UTC ms) that stands for a local day of the timeline: same
 * weekday, nearest to the same month and day in the load year, wrapped by 364 days into it.
 */
export function loadDayFor(
  localDayMs: number,
  load: { firstDayMs: number; lastDayMs: number },
): number {
  const day = new Date(localDayMs);
  const loadYear = new Date(load.firstDayMs).getUTCFullYear();
  let target = Date.UTC(loadYear, day.getUTCMonth(), day.getUTCDate());
  const shift = ((((day.getUTCDay() - new Date(target).getUTCDay()) % 7) + 7 + 3) % 7) - 3;
  target += shift * DAY_MS;
  while (target < load.firstDayMs) target += 364 * DAY_MS;
  while (target > load.lastDayMs) target -= 364 * DAY_MS;
  if (target < load.firstDayMs) {
    invalid("the load series is shorter than 52 weeks: a day cannot be wrapped into it");
  }
  return target;
}

/** Both series on the solar series' timeline, the load scaled to `meanLoadW`. */
export function alignSeries(
  load: readonly MeasuredLoadHour[],
  solar: readonly MeasuredSolarHour[],
  options: AlignOptions,
): BacktestSeries {
  if (!(options.meanLoadW > 0 && Number.isFinite(options.meanLoadW))) {
    invalid(`meanLoadW must be a number of W > 0, got ${options.meanLoadW}`);
  }
  if (solar.length === 0) invalid("the solar series is empty");
  const offsetMs = options.utcOffsetMin * 60_000;
  const l = loadByDay(load);
  const scale = options.meanLoadW / (l.meanKw * 1000);
  const solarByMs = new Map(solar.map((h) => [h.start.getTime(), h]));
  const firstLocalMs = solar[0]!.start.getTime() + offsetMs;
  const startLocalMs = options.startLocal?.getTime() ??
    Math.ceil(firstLocalMs / DAY_MS) * DAY_MS;
  if (startLocalMs % DAY_MS !== 0) {
    invalid(`startLocal must be a local midnight, got ${new Date(startLocalMs).toISOString()}`);
  }
  const lastStartMs = solar[solar.length - 1]!.start.getTime();
  const available = Math.floor((lastStartMs + HOUR_MS - (startLocalMs - offsetMs)) / DAY_MS);
  const days = options.days ?? available;
  if (!(Number.isInteger(days) && days >= 1)) {
    invalid(`days must be a whole number ≥ 1, got ${days}`);
  }
  if (days > available) {
    invalid(
      `the solar series holds ${Math.max(0, available)} whole days from ` +
        `${new Date(startLocalMs).toISOString().slice(0, 10)}, not ${days}`,
    );
  }
  const hours = days * 24;
  const series: BacktestSeries = {
    startMs: startLocalMs - offsetMs,
    hours,
    loadW: new Float64Array(hours),
    ghiWm2: new Float64Array(hours),
    ambientC: new Float64Array(hours),
    loadScale: scale,
    utcOffsetMin: options.utcOffsetMin,
  };
  for (let i = 0; i < hours; i++) {
    const utcMs = series.startMs + i * HOUR_MS;
    const s = solarByMs.get(utcMs);
    if (!s) invalid(`the solar series has no hour starting ${new Date(utcMs).toISOString()}`);
    const localMs = utcMs + offsetMs;
    const localDayMs = Math.floor(localMs / DAY_MS) * DAY_MS;
    const loadDayMs = loadDayFor(localDayMs, l);
    const key = (loadDayMs - l.firstDayMs) / HOUR_MS + (localMs - localDayMs) / HOUR_MS;
    const kw = l.byKey.get(key);
    if (kw === undefined) {
      invalid(
        `the load series has no hour ${
          new Date(loadDayMs + (localMs - localDayMs)).toISOString().slice(0, 16)
        }`,
      );
    }
    series.loadW[i] = kw * 1000 * scale;
    series.ghiWm2[i] = s.ghiWm2;
    series.ambientC[i] = s.ambientC;
  }
  return series;
}
