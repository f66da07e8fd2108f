/**
 * The ESMAP ground station year at Bauchi, Nigeria (../shared/data/README.md): hourly GHI
 * mean and max, air and module temperature. Stamps carry no zone: they are local time, UTC+1
 * (West Africa Time, no daylight saving), and each labels the START of its hour —
 * solar_test.ts shows the clear-sky curve fits that reading best.
 */

/** Bauchi city centre, 10°18′57″ N 9°50′39″ E, 616 m (Wikipedia, "Bauchi"). */
export const BAUCHI = { latitude: 10.3158, longitude: 9.8442 };
const UTC_OFFSET_MS = 3600_000;

export interface BauchiHour {
  /** The local stamp as written, "2021-09-20 00:00:00". */
  stamp: string;
  /** Start of the hour, UTC. */
  start: Date;
  ghiMeanWm2: number;
  ghiMaxWm2: number;
  ambientC: number;
  moduleAC: number;
  moduleBC: number;
}

const FILE = new URL("../../../shared/data/nigeria-bauchi-esmap-ghi-hourly.csv", import.meta.url);

export async function loadBauchi(): Promise<BauchiHour[]> {
  const [head, ...lines] = (await Deno.readTextFile(FILE)).trim().split("\n");
  const names = head!.split(",");
  const col = (name: string) => {
    const i = names.indexOf(name);
    if (i < 0) throw new Error(`Bauchi CSV: no column ${name}`);
    return i;
  };
  const [t, mean, max, amb, modA, modB] = [
    "Timestamp",
    "GHI_MEAN",
    "GHI_MAX",
    "Tamb_MEAN",
    "TModA_MEAN",
    "TModB_MEAN",
  ].map(col) as [number, number, number, number, number, number];
  return lines.map((line) => {
    const f = line.split(",");
    const stamp = f[t]!;
    return {
      stamp,
      start: new Date(Date.parse(stamp.replace(" ", "T") + "Z") - UTC_OFFSET_MS),
      ghiMeanWm2: Number(f[mean]),
      ghiMaxWm2: Number(f[max]),
      ambientC: Number(f[amb]),
      moduleAC: Number(f[modA]),
      moduleBC: Number(f[modB]),
    };
  });
}
