/**
 * A site's load profile as the backend holds it for each of its sites
 * (src/backend/site_state.ts): its scalars in one array of doubles, which V8 keeps unboxed,
 * beside the bucket arrays. As fields, ten of its numbers were 16-byte boxes of their own.
 */
import type { LoadProfileState } from "./load_forecast.ts";
import { orNaN, orNull } from "./held_numbers.ts";

/** Where each number sits; NaN stands for null. */
const UTC_OFFSET_MIN = 0;
const SCALE_W = 1;
const EWMA_W = 2;
const EWMA_VAR_W2 = 3;
const LEVEL_VAR_24_W2 = 4;
const LEVEL_VAR_N = 5;
const MIDNIGHT_LEVEL_W = 6;
const LAST_SAMPLE_MS = 7;
const HOUR_KEY = 8;
const HOUR_SUM_WS = 9;
const HOUR_COVERED_S = 10;
const LEARNED_HOUR_KEY = 11;

class HeldLoadProfile implements LoadProfileState {
  readonly buckets: Float16Array | null;
  readonly counts: Uint8Array | null;
  readonly #n: readonly number[];

  constructor(p: LoadProfileState) {
    this.buckets = p.buckets;
    this.counts = p.counts;
    this.#n = [
      p.utcOffsetMin,
      p.scaleW,
      orNaN(p.ewmaW),
      p.ewmaVarW2,
      p.levelVar24W2,
      p.levelVarN,
      orNaN(p.midnightLevelW),
      orNaN(p.lastSampleMs),
      orNaN(p.hourKey),
      p.hourSumWs,
      p.hourCoveredS,
      orNaN(p.learnedHourKey),
    ];
  }

  get utcOffsetMin(): number {
    return this.#n[UTC_OFFSET_MIN]!;
  }
  get scaleW(): number {
    return this.#n[SCALE_W]!;
  }
  get ewmaW(): number | null {
    return orNull(this.#n[EWMA_W]!);
  }
  get ewmaVarW2(): number {
    return this.#n[EWMA_VAR_W2]!;
  }
  get levelVar24W2(): number {
    return this.#n[LEVEL_VAR_24_W2]!;
  }
  get levelVarN(): number {
    return this.#n[LEVEL_VAR_N]!;
  }
  get midnightLevelW(): number | null {
    return orNull(this.#n[MIDNIGHT_LEVEL_W]!);
  }
  get lastSampleMs(): number | null {
    return orNull(this.#n[LAST_SAMPLE_MS]!);
  }
  get hourKey(): number | null {
    return orNull(this.#n[HOUR_KEY]!);
  }
  get hourSumWs(): number {
    return this.#n[HOUR_SUM_WS]!;
  }
  get hourCoveredS(): number {
    return this.#n[HOUR_COVERED_S]!;
  }
  get learnedHourKey(): number | null {
    return orNull(this.#n[LEARNED_HOUR_KEY]!);
  }
}

/** The profile as the backend holds a site's. */
export function heldLoadProfile(profile: LoadProfileState): LoadProfileState {
  return profile instanceof HeldLoadProfile ? profile : new HeldLoadProfile(profile);
}
