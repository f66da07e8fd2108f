/**
 * The two real hourly series the backtest replays (see ../shared/data/README.md for provenance):
 * measured load of the Ouessant island grid (2016) and measured irradiance at Bauchi, Nigeria
 * (2021-09-20 .. 2022-09-20). Parsed here, at the edge; a bad line is reported with its number.
 */
import type { MeasuredLoadHour, MeasuredSolarHour } from "../core/backtest_series.ts";
import { KasiError } from "../core/errors.ts";

/** A parsed row of the load file (the type the backtest engine takes). */
export type LoadHour = MeasuredLoadHour;
/** A parsed row of the irradiance file. */
export type SolarHour = MeasuredSolarHour;

/**
 * Bauchi's logger writes local time without a zone; Nigeria keeps West Africa Time, UTC+1, all
 * year (no daylight saving).
 */
export const BAUCHI_UTC_OFFSET_H = 1;

/** A CSV file as header names and rows of cells, with 1-based line numbers for messages. */
function readCsv(
  text: string,
  options: { file: string; skipLines?: number; required: string[] },
): { line: number; get: (name: string) => string }[] {
  const lines = text.split(/\r?\n/);
  const headerAt = options.skipLines ?? 0;
  const header = (lines[headerAt] ?? "").split(",").map((h) => h.trim());
  const index = new Map(header.map((h, i) => [h, i]));
  for (const name of options.required) {
    if (!index.has(name)) {
      throw new KasiError(
        "INPUT_INVALID",
        `${options.file}:${headerAt + 1}: no column "${name}" in the header (${header.join(", ")})`,
      );
    }
  }
  const rows: { line: number; get: (name: string) => string }[] = [];
  for (let i = headerAt + 1; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === "") continue;
    const cells = raw.split(",");
    rows.push({ line: i + 1, get: (name) => (cells[index.get(name)!] ?? "").trim() });
  }
  return rows;
}

function number(
  row: { line: number; get: (name: string) => string },
  name: string,
  file: string,
): number {
  const text = row.get(name);
  const value = Number(text);
  if (text === "" || !Number.isFinite(value)) {
    throw new KasiError("INPUT_INVALID", `${file}:${row.line}: ${name} "${text}" is not a number`);
  }
  return value;
}

/** "2016-01-01 00:00:00" read as UTC (the caller says which zone it really is). */
function time(row: { line: number; get: (name: string) => string }, name: string, file: string) {
  const text = row.get(name);
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (!match) {
    throw new KasiError(
      "INPUT_INVALID",
      `${file}:${row.line}: ${name} "${text}" is not a time like 2016-01-01 00:00:00`,
    );
  }
  const [, y, mo, d, h, mi, s] = match;
  return new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +(s ?? 0)));
}

/** ouessant-island-load-pv-hourly-2016.csv: one comment line, then `time,Load,...` (kW). */
export function parseOuessantLoad(text: string, file = "ouessant"): LoadHour[] {
  return readCsv(text, { file, skipLines: 1, required: ["time", "Load"] }).map((row) => {
    const loadKw = number(row, "Load", file);
    if (loadKw < 0) {
      throw new KasiError("INPUT_INVALID", `${file}:${row.line}: Load ${loadKw} kW is negative`);
    }
    return { localTime: time(row, "time", file), loadKw };
  });
}

/**
 * nigeria-bauchi-esmap-ghi-hourly.csv: `Timestamp` in local time (UTC+1), `GHI_MEAN` (W/m²) and
 * `Tamb_MEAN` (°C). Night readings slightly below zero are the pyranometer's offset (thermal
 * radiation loss), not light: they are read as 0.
 */
export function parseBauchiSolar(text: string, file = "bauchi"): SolarHour[] {
  return readCsv(text, { file, required: ["Timestamp", "GHI_MEAN", "Tamb_MEAN"] }).map((row) => {
    const local = time(row, "Timestamp", file);
    return {
      start: new Date(local.getTime() - BAUCHI_UTC_OFFSET_H * 3_600_000),
      ghiWm2: Math.max(0, number(row, "GHI_MEAN", file)),
      ambientC: number(row, "Tamb_MEAN", file),
    };
  });
}
