/**
 * Site-local time of day, for rules that follow the site's clock (quiet hours, exercise hour).
 * Timestamps stay UTC everywhere; only these rules look at the wall clock of the site's IANA time
 * zone (the profile's `timeZone`), through the runtime's time-zone database (Intl), so daylight
 * saving time and zone changes need no code here.
 */
import type { DailyWindow } from "./policy_params.ts";

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat("en-GB", {
        timeZone,
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      });
    } catch {
      throw new RangeError(
        `timeZone "${timeZone}" is not an IANA time zone (e.g. "Africa/Lagos", "UTC")`,
      );
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws a RangeError naming the zone when the runtime does not know it. */
export function checkTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

function wallMinuteOfDay(time: Date, timeZone: string): number {
  let hour = 0;
  let minute = 0;
  for (const part of formatterFor(timeZone).formatToParts(time)) {
    if (part.type === "hour") hour = Number(part.value);
    else if (part.type === "minute") minute = Number(part.value);
  }
  return hour * 60 + minute;
}

/**
 * Today's UTC offsets are whole quarter hours and change (daylight saving) at local wall times on
 * a quarter hour, so within one UTC quarter hour a zone's offset is constant: it is looked up once
 * per zone and quarter hour instead of formatting every time (a decision every 10 s).
 */
const QUARTER_MS = 15 * 60_000;
const offsets = new Map<string, { quarter: number; offsetMin: number }>();

/** Minutes since local midnight (0..1439) at `time` in `timeZone`. */
export function localMinuteOfDay(time: Date, timeZone: string): number {
  const ms = time.getTime();
  const quarter = Math.floor(ms / QUARTER_MS);
  const utcMinute = (ms: number) =>
    Math.floor((((ms % 86_400_000) + 86_400_000) % 86_400_000) / 60_000);
  let cached = offsets.get(timeZone);
  if (cached === undefined || cached.quarter !== quarter) {
    const start = quarter * QUARTER_MS;
    const local = wallMinuteOfDay(new Date(start), timeZone);
    cached = { quarter, offsetMin: (((local - utcMinute(start)) % 1440) + 1440) % 1440 };
    offsets.set(timeZone, cached);
  }
  return (utcMinute(ms) + cached.offsetMin) % 1440;
}

const dateFormatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The zone's offset from UTC at `time`, in minutes: +60 for Africa/Lagos, −600 for Honolulu.
 * The local calendar date is read too: −10 h and +14 h (Kiribati) are the same time of day.
 */
export function utcOffsetMin(time: Date, timeZone: string): number {
  let f = dateFormatters.get(timeZone);
  if (f === undefined) {
    formatterFor(timeZone); // names a bad zone the same way
    f = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    dateFormatters.set(timeZone, f);
  }
  const part = (parts: Intl.DateTimeFormatPart[], type: string) =>
    Number(parts.find((p) => p.type === type)?.value);
  const parts = f.formatToParts(time);
  const localAsUtcMs = Date.UTC(
    part(parts, "year"),
    part(parts, "month") - 1,
    part(parts, "day"),
    part(parts, "hour"),
    part(parts, "minute"),
  );
  const utcMinuteMs = Math.floor(time.getTime() / 60_000) * 60_000;
  return Math.round((localAsUtcMs - utcMinuteMs) / 60_000);
}

/** Whether a minute of the day falls in [start, end); a window with end < start wraps midnight. */
export function inDailyWindow(minuteOfDay: number, window: DailyWindow): boolean {
  const { startMin, endMin } = window;
  if (startMin === endMin) return false;
  return startMin < endMin
    ? minuteOfDay >= startMin && minuteOfDay < endMin
    : minuteOfDay >= startMin || minuteOfDay < endMin;
}

/** "06:30" → 390. Errors name the text. */
export function parseClockTime(text: string): number {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  if (!m) throw new RangeError(`"${text}" is not a time of day HH:MM (00:00–23:59)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** "21:00-06:00" → { startMin: 1260, endMin: 360 }. */
export function parseDailyWindow(text: string): DailyWindow {
  const parts = text.split("-");
  if (parts.length !== 2) {
    throw new RangeError(`"${text}" is not a daily window HH:MM-HH:MM (e.g. 21:00-06:00)`);
  }
  const startMin = parseClockTime(parts[0]!);
  const endMin = parseClockTime(parts[1]!);
  if (startMin === endMin) throw new RangeError(`"${text}" is an empty window: start = end`);
  return { startMin, endMin };
}

/** 1260 → "21:00". */
export function formatClockTime(minuteOfDay: number): string {
  const h = Math.floor(minuteOfDay / 60);
  const m = minuteOfDay % 60;
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
}
