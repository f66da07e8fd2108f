/**
 * How the backend's held forms (held_advice.ts, held_record.ts, held_soc.ts, held_load_profile.ts,
 * src/backend/site_entry.ts) keep a site's numbers: in one array of doubles, which V8 stores
 * unboxed as long as nothing but numbers goes in. NaN stands for null there (no reading is NaN:
 * decoded JSON cannot hold one), and times are epoch milliseconds.
 */

/** A nullable number as it is stored. */
export const orNaN = (v: number | null | undefined): number => v ?? NaN;
/** A stored number as read back. */
export const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);
/** A stored time as read back. */
export const dateOrNull = (ms: number): Date | null => (Number.isNaN(ms) ? null : new Date(ms));
