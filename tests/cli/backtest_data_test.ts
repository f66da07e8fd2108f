import assert from "node:assert/strict";
import { KasiError } from "../../src/core/errors.ts";
import { parseBauchiSolar, parseOuessantLoad } from "../../src/cli/backtest_data.ts";

const DATA = new URL("../../../shared/data/", import.meta.url);
const ouessant = await Deno.readTextFile(new URL("ouessant-island-load-pv-hourly-2016.csv", DATA));
const bauchi = await Deno.readTextFile(new URL("nigeria-bauchi-esmap-ghi-hourly.csv", DATA));

Deno.test("parseOuessantLoad() reads the 365 days of 2016 after the comment line", () => {
  const rows = parseOuessantLoad(ouessant);
  // 8,762 lines = 1 comment + 1 header + 8,760 hours (365 × 24).
  assert.equal(rows.length, 8760);
  assert.deepEqual(rows[0], { localTime: new Date("2016-01-01T00:00:00Z"), loadKw: 1453 });
  const july = rows.find((r) => r.localTime.getTime() === Date.parse("2016-07-14T12:00:00Z"));
  assert.equal(july?.loadKw, 656);
});

Deno.test("parseBauchiSolar() shifts local UTC+1 to UTC and reads night offsets as 0", () => {
  const rows = parseBauchiSolar(bauchi);
  assert.equal(rows.length, 8761);
  // First line: 2021-09-20 00:00 local, GHI_MEAN -1.0 (offset at night), Tamb 22.2 °C.
  assert.deepEqual(rows[0], {
    start: new Date("2021-09-19T23:00:00Z"),
    ghiWm2: 0,
    ambientC: 22.2,
  });
  // 2021-12-15 12:00 local = 11:00 UTC: GHI_MEAN 836.3 W/m², Tamb_MEAN 29.0 °C.
  const noon = rows.find((r) => r.start.getTime() === Date.parse("2021-12-15T11:00:00Z"));
  assert.deepEqual(noon, {
    start: new Date("2021-12-15T11:00:00Z"),
    ghiWm2: 836.3,
    ambientC: 29,
  });
});

Deno.test("parseOuessantLoad() names the file, the line and the value of a bad cell", () => {
  const text = "comment\ntime,Load\n2016-01-01 00:00:00,1453.0\n2016-01-01 01:00:00,n/a\n";
  assert.throws(() => parseOuessantLoad(text, "load.csv"), (error: unknown) => {
    assert.ok(error instanceof KasiError);
    assert.equal(error.message, 'load.csv:4: Load "n/a" is not a number');
    return true;
  });
  assert.throws(
    () => parseOuessantLoad("comment\ntime,Load\n01/01/2016 00:00,1\n", "load.csv"),
    /load\.csv:3: time "01\/01\/2016 00:00" is not a time like 2016-01-01 00:00:00/,
  );
  assert.throws(
    () => parseBauchiSolar("Timestamp,GHI\n", "ghi.csv"),
    /ghi\.csv:1: no column "GHI_MEAN" in the header \(Timestamp, GHI\)/,
  );
});
