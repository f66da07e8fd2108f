/**
 * A byte scanner for the one shape telemetry has: a flat JSON object (RFC 8259) of strings,
 * numbers, booleans and nulls, in ASCII. It reads the fields it is asked for straight from the
 * received bytes, without TextDecoder, JSON.parse or a string per value. It never guesses: any
 * input it does not fully understand (an escape, a non-ASCII byte, a nested value, a repeated
 * field, anything that is not JSON) makes it return false, and the caller takes the general path,
 * which decides and explains. So it only has to be right about what it accepts.
 */

export const KIND_ABSENT = 0;
export const KIND_NUMBER = 1;
export const KIND_TRUE = 2;
export const KIND_FALSE = 3;
export const KIND_NULL = 4;
/** A string without escapes; its bytes are `starts[i]` to `ends[i]` (exclusive) of the input. */
export const KIND_STRING = 5;

/** 10^0 … 10^22: every one is exact in binary64 (10^22 < 2^53 · 2^22), so m / 10^k rounds once. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
/**
 * Up to 15 significant digits the mantissa is below 10^15 < 2^53, an exact integer; divided by
 * an exact 10^k, IEEE 754 rounds the exact quotient once, which is what JSON.parse returns
 * (correctly rounded decimal conversion). Longer numbers go through Number(), the same V8 code.
 */
const MAX_FAST_DIGITS = 15;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** The fields one decoder wants, and where the last scan found them. Reused scan after scan. */
export class FlatFields {
  readonly names: readonly string[];
  readonly kinds: Uint8Array;
  readonly numbers: Float64Array;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly #keys: Uint8Array[];

  constructor(names: readonly string[]) {
    this.names = names;
    this.#keys = names.map((n) => new TextEncoder().encode(n));
    this.kinds = new Uint8Array(names.length);
    this.numbers = new Float64Array(names.length);
    this.starts = new Int32Array(names.length);
    this.ends = new Int32Array(names.length);
  }

  /**
   * Length of key `slot` when bytes at `start` spell it followed by its closing quote, else -1.
   * Firmware sends its fields in one order, so the key after field k is most often field k + 1:
   * checking that one in place skips scanning the key at all.
   */
  keyAt(bytes: Uint8Array, start: number, slot: number): number {
    const key = this.#keys[slot];
    if (key === undefined) return -1;
    const n = key.length;
    if (bytes[start + n] !== QUOTE) return -1;
    for (let i = 0; i < n; i++) if (key[i] !== bytes[start + i]) return -1;
    return n;
  }

  /** Index of the key in bytes[start, end), or -1. */
  indexOf(bytes: Uint8Array, start: number, end: number): number {
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) if (equalAt(keys[i]!, bytes, start, end)) return i;
    return -1;
  }
}

function equalAt(key: Uint8Array, bytes: Uint8Array, start: number, end: number): boolean {
  if (key.length !== end - start) return false;
  for (let i = 0; i < key.length; i++) if (key[i] !== bytes[start + i]) return false;
  return true;
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function isDigit(b: number): boolean {
  return b >= ZERO && b <= NINE;
}

/** Whether bytes[start, end) spell `word`. */
function matches(bytes: Uint8Array, start: number, word: string): boolean {
  if (start + word.length > bytes.length) return false;
  for (let i = 0; i < word.length; i++) if (bytes[start + i] !== word.charCodeAt(i)) return false;
  return true;
}

/** The latin-1 text of bytes[start, end): ASCII here, so the same as UTF-8. */
export function asciiText(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
}

/**
 * Scans `bytes` as one flat JSON object, filling `fields` for the names it lists (other keys are
 * read and skipped). Returns false — and the caller must not use `fields` — for anything else.
 */
export function scanFlatObject(bytes: Uint8Array, fields: FlatFields): boolean {
  const kinds = fields.kinds;
  kinds.fill(KIND_ABSENT);
  const n = bytes.length;
  let i = 0;
  while (i < n && isSpace(bytes[i]!)) i++;
  if (bytes[i] !== OPEN) return false;
  i++;
  while (i < n && isSpace(bytes[i]!)) i++;
  let guess = 0;
  if (bytes[i] === CLOSE) {
    i++;
  } else {
    while (true) {
      // Key.
      if (bytes[i] !== QUOTE) return false;
      const keyStart = ++i;
      let slot: number;
      const guessed = fields.keyAt(bytes, keyStart, guess);
      if (guessed >= 0) {
        slot = guess;
        i += guessed + 1;
      } else {
        while (i < n) {
          const b = bytes[i]!;
          if (b === QUOTE) break;
          if (b === BACKSLASH || b < 0x20 || b > 0x7f) return false;
          i++;
        }
        if (i >= n) return false;
        slot = fields.indexOf(bytes, keyStart, i);
        i++;
      }
      if (bytes[i] !== COLON) {
        while (i < n && isSpace(bytes[i]!)) i++;
        if (bytes[i] !== COLON) return false;
      }
      i++;
      if (bytes[i]! <= 0x20) { while (i < n && isSpace(bytes[i]!)) i++; }
      // JSON.parse keeps the last of repeated keys; rare enough to leave to it.
      if (slot >= 0 && kinds[slot] !== KIND_ABSENT) return false;
      if (slot >= 0) guess = slot + 1;
      // Value.
      const b = bytes[i];
      let kind: number;
      if (b === QUOTE) {
        const start = ++i;
        while (i < n) {
          const c = bytes[i]!;
          if (c === QUOTE) break;
          if (c === BACKSLASH || c < 0x20 || c > 0x7f) return false;
          i++;
        }
        if (i >= n) return false;
        if (slot >= 0) {
          fields.starts[slot] = start;
          fields.ends[slot] = i;
        }
        i++;
        kind = KIND_STRING;
      } else if (b === MINUS || (b !== undefined && isDigit(b))) {
        const start = i;
        let negative = false;
        if (b === MINUS) {
          negative = true;
          i++;
        }
        let mantissa = 0;
        let digits = 0;
        let fraction = 0;
        let exact = true;
        // Integer part: 0, or a digit 1-9 and more digits (no leading zeros).
        if (bytes[i] === ZERO) {
          i++;
          digits = 0;
        } else if (i < n && isDigit(bytes[i]!)) {
          while (i < n && isDigit(bytes[i]!)) {
            mantissa = mantissa * 10 + (bytes[i]! - ZERO);
            digits++;
            i++;
          }
        } else {
          return false;
        }
        if (bytes[i] === DOT) {
          i++;
          if (!(i < n && isDigit(bytes[i]!))) return false;
          while (i < n && isDigit(bytes[i]!)) {
            const d = bytes[i]! - ZERO;
            // Leading fraction zeros of 0.00x are not significant digits.
            if (digits > 0 || d !== 0) digits++;
            mantissa = mantissa * 10 + d;
            fraction++;
            i++;
          }
        }
        const e = bytes[i];
        if (e === 0x65 || e === 0x45) {
          i++;
          if (bytes[i] === PLUS || bytes[i] === MINUS) i++;
          if (!(i < n && isDigit(bytes[i]!))) return false;
          while (i < n && isDigit(bytes[i]!)) i++;
          exact = false;
        }
        if (digits > MAX_FAST_DIGITS || fraction > 22) exact = false;
        if (slot >= 0) {
          let value: number;
          if (exact) {
            value = fraction === 0 ? mantissa : mantissa / POW10[fraction]!;
            if (negative) value = -value;
          } else {
            value = Number(asciiText(bytes, start, i));
          }
          fields.numbers[slot] = value;
        }
        kind = KIND_NUMBER;
      } else if (b === 0x74 && matches(bytes, i, "true")) {
        i += 4;
        kind = KIND_TRUE;
      } else if (b === 0x66 && matches(bytes, i, "false")) {
        i += 5;
        kind = KIND_FALSE;
      } else if (b === 0x6e && matches(bytes, i, "null")) {
        i += 4;
        kind = KIND_NULL;
      } else {
        // Nested object or array, or not JSON: the general path decides.
        return false;
      }
      if (slot >= 0) kinds[slot] = kind;
      if (bytes[i]! <= 0x20) { while (i < n && isSpace(bytes[i]!)) i++; }
      const sep = bytes[i];
      if (sep === COMMA) {
        i++;
        if (bytes[i]! <= 0x20) { while (i < n && isSpace(bytes[i]!)) i++; }
        continue;
      }
      if (sep === CLOSE) {
        i++;
        break;
      }
      return false;
    }
  }
  while (i < n && isSpace(bytes[i]!)) i++;
  return i === n;
}
