/**
 * RFC 3339 date-times read from bytes: exactly the grammar of zod's `z.iso.datetime({ offset:
 * true })` (zod v4 core/regexes.js `datetime`), with the epoch milliseconds `new Date(text)`
 * gives for it, for the telemetry fast path.
 *
 * Grammar: `YYYY-MM-DD` (days per month; 02-29 only in Gregorian leap years) `T` `hh:mm:ss`
 * (00–23, 00–59, 00–59) an optional `.` and one or more digits, then `Z` or `±hh:mm` (00–23,
 * 00–59). V8 keeps the first three fraction digits (truncates), as docs/protocol.md says.
 */

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MS_PER_DAY = 86_400_000;

function digit(bytes: Uint8Array, i: number): number {
  const d = bytes[i]! - 0x30;
  return d >= 0 && d <= 9 ? d : -1;
}

function two(bytes: Uint8Array, i: number): number {
  const a = digit(bytes, i);
  const b = digit(bytes, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Days from 1970-01-01 to the proleptic Gregorian date (Howard Hinnant, "chrono-Compatible
 * Low-Level Date Algorithms", days_from_civil), exact for every year 0–9999.
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Epoch ms of the date-time in bytes[start, end), or NaN when it is not in the grammar above. */
export function rfc3339Ms(bytes: Uint8Array, start: number, end: number): number {
  // Shortest: 2024-03-01T12:00:00Z (20 bytes).
  if (end - start < 20) return NaN;
  const i = start;
  const y1 = two(bytes, i);
  const y2 = two(bytes, i + 2);
  if (y1 < 0 || y2 < 0 || bytes[i + 4] !== 0x2d || bytes[i + 7] !== 0x2d) return NaN;
  const year = y1 * 100 + y2;
  const month = two(bytes, i + 5);
  const day = two(bytes, i + 8);
  if (month < 1 || month > 12 || day < 1) return NaN;
  const maxDay = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day > maxDay) return NaN;
  if (bytes[i + 10] !== 0x54) return NaN; // "T", upper case only
  const hour = two(bytes, i + 11);
  const minute = two(bytes, i + 14);
  const second = two(bytes, i + 17);
  if (bytes[i + 13] !== 0x3a || bytes[i + 16] !== 0x3a) return NaN;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return NaN;
  }
  let j = i + 19;
  let ms = 0;
  if (bytes[j] === 0x2e) {
    j++;
    let count = 0;
    while (j < end && digit(bytes, j) >= 0) {
      if (count < 3) ms = ms * 10 + digit(bytes, j);
      count++;
      j++;
    }
    if (count === 0) return NaN;
    if (count === 1) ms *= 100;
    else if (count === 2) ms *= 10;
  }
  let offsetMin = 0;
  const z = bytes[j];
  if (z === 0x5a && j + 1 === end) {
    // "Z"
  } else if ((z === 0x2b || z === 0x2d) && j + 6 === end) {
    const oh = two(bytes, j + 1);
    const om = two(bytes, j + 4);
    if (bytes[j + 3] !== 0x3a || oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    offsetMin = (z === 0x2b ? 1 : -1) * (oh * 60 + om);
  } else {
    return NaN;
  }
  const days = daysFromCivil(year, month, day);
  return days * MS_PER_DAY + ((hour * 60 + minute - offsetMin) * 60 + second) * 1000 + ms;
}
