import assert from "node:assert/strict";
import {
  FALLBACK_MIN_SPREAD_FRAC,
  forecastLoad,
  LOAD_PROFILE_BUCKET_BYTES,
  loadForecaster,
  type LoadProfileState,
  newLoadProfile,
  updateLoadProfile,
} from "../../src/core/load_forecast.ts";

const OUESSANT = new URL(
  "../../../shared/data/ouessant-island-load-pv-hourly-2016.csv",
  import.meta.url,
);
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** 2026-01-05 is a Monday. */
const MONDAY = Date.UTC(2026, 0, 5);

function feed(
  state: LoadProfileState,
  fromMs: number,
  toMs: number,
  loadW: (ms: number) => number,
  stepMs = HOUR_MS,
): LoadProfileState {
  let s = state;
  for (let ms = fromMs; ms < toMs; ms += stepMs) {
    s = updateLoadProfile(s, { time: new Date(ms), loadW: loadW(ms) });
  }
  return s;
}

Deno.test("forecastLoad() is null before the first sample and the EWMA for a new site", () => {
  let s = newLoadProfile();
  assert.equal(forecastLoad(s, new Date(MONDAY)), null);
  // One reading of 400 W: the EWMA is the reading; its spread is the 25 % floor, 100 W.
  s = updateLoadProfile(s, { time: new Date(MONDAY), loadW: 400 });
  assert.deepEqual(forecastLoad(s, new Date(MONDAY + 5 * HOUR_MS)), {
    meanW: 400,
    spreadW: 400 * FALLBACK_MIN_SPREAD_FRAC,
    basis: "ewma",
  });
});

Deno.test("loadForecaster() stands in the fallback load before the first sample", () => {
  // 600 W with the 25 % floor: 150 W; once a sample is in, forecastLoad() answers.
  const empty = loadForecaster(newLoadProfile(), { fallbackLoadW: 600 });
  assert.deepEqual(empty(new Date(MONDAY)), { meanW: 600, spreadW: 150, basis: "ewma" });
  const s = updateLoadProfile(newLoadProfile(), { time: new Date(MONDAY), loadW: 400 });
  const t = new Date(MONDAY + HOUR_MS);
  assert.deepEqual(loadForecaster(s, { fallbackLoadW: 600 })(t), forecastLoad(s, t));
  assert.throws(
    () => loadForecaster(s, { fallbackLoadW: -1 }),
    /fallbackLoadW must be ≥ 0 W, got -1/,
  );
});

Deno.test("forecastLoad() reproduces a repeating daily shape from its second day on", () => {
  // 1000 W from 08:00 to 18:00, 200 W otherwise, read every 15 minutes. Level = daily mean
  // = (10 · 1000 + 14 · 200) / 24 = 533.33 W; shape at 09:00 = 1000 − 533.33 = +466.67 W,
  // at 03:00 = 200 − 533.33 = −333.33 W. Day 1 fills the ring, day 2 learns the shape, so the
  // forecast for day 3 made at its midnight is 1000 W at 09:00, 200 W at 03:00, but for the
  // Float16 storage: the scale is 256 W (the first hour's 200 W, to a power of two), the
  // samples are exact in it (200 / 256 = 0.78125, 1000 / 256 = 3.90625), the shapes are not:
  // +466.67 / 256 = 1.823 is held to half a step of 2^-10, ±2^-11 · 256 W = ±0.125 W.
  const load = (ms: number) => {
    const h = new Date(ms).getUTCHours();
    return h >= 8 && h < 18 ? 1000 : 200;
  };
  const s = feed(newLoadProfile(), MONDAY, MONDAY + 2 * DAY_MS, load, 15 * 60_000);
  const nine = forecastLoad(s, new Date(MONDAY + 2 * DAY_MS + 9 * HOUR_MS))!;
  const three = forecastLoad(s, new Date(MONDAY + 2 * DAY_MS + 3 * HOUR_MS))!;
  assert.equal(nine.basis, "profile");
  assert.ok(Math.abs(nine.meanW - 1000) <= 0.125, `${nine.meanW}`);
  assert.ok(Math.abs(three.meanW - 200) <= 0.125, `${three.meanW}`);
  // After one day of shape no error has been measured: the fallback spread stands. The EWMA's
  // spread is its own deviation, floored at 25 % of its mean.
  assert.ok(nine.spreadW >= FALLBACK_MIN_SPREAD_FRAC * s.ewmaW! - 1e-9);
  // A day later the day-3 errors (Float16's rounding alone, ≤ 0.125 W) are known: the spread
  // collapses from over 100 W to that.
  const s4 = feed(s, MONDAY + 2 * DAY_MS, MONDAY + 3 * DAY_MS, load, 15 * 60_000);
  assert.ok(forecastLoad(s4, new Date(MONDAY + 3 * DAY_MS + 9 * HOUR_MS))!.spreadW <= 0.125);
});

Deno.test("forecastLoad() places hours in the site's local time", () => {
  // Same shape, 08:00–18:00 local at UTC+3 (East Africa): 05:00–15:00 UTC.
  const load = (ms: number) => {
    const h = (new Date(ms).getUTCHours() + 3) % 24;
    return h >= 8 && h < 18 ? 1000 : 200;
  };
  const s = feed(newLoadProfile({ utcOffsetMin: 180 }), MONDAY, MONDAY + 3 * DAY_MS, load);
  // 06:00 UTC = 09:00 local → 1000 W; 16:00 UTC = 19:00 local → 200 W (±0.125 W of Float16,
  // as above).
  assert.ok(
    Math.abs(forecastLoad(s, new Date(MONDAY + 3 * DAY_MS + 6 * HOUR_MS))!.meanW - 1000) <= 0.125,
  );
  assert.ok(
    Math.abs(forecastLoad(s, new Date(MONDAY + 3 * DAY_MS + 16 * HOUR_MS))!.meanW - 200) <= 0.125,
  );
  assert.throws(() => newLoadProfile({ utcOffsetMin: 900 }), /utcOffsetMin .* got 900/);
});

Deno.test("forecastLoad() learns a clinic's week: weekday hours busy, Sundays quiet", () => {
  // 2000 W from 08:00 to 17:00 Monday–Saturday, 300 W otherwise and all Sunday; 4 weeks.
  const load = (ms: number) => {
    const d = new Date(ms);
    const h = d.getUTCHours();
    return d.getUTCDay() !== 0 && h >= 8 && h < 17 ? 2000 : 300;
  };
  const sunday = MONDAY + 27 * DAY_MS;
  // One hour ahead, from Sunday 09:00: the hour-of-week shape has no error on a repeating
  // week, so it takes all the weight and the forecast is the Sunday value, 300 W (the
  // hour-of-day shape alone would say about 2000 W).
  const s = feed(newLoadProfile(), MONDAY, sunday + 10 * HOUR_MS, load);
  assert.ok(Math.abs(forecastLoad(s, new Date(sunday + 10 * HOUR_MS))!.meanW - 300) < 0.5);
  // Day-ahead from Sunday 23:00 for Monday 10:00. The shape was learned against the level of
  // the 24 h before Monday 10:00 (Sunday 10:00 … Monday 09:00: 22 h at 300 W, Monday 08:00 and
  // 09:00 at 2000 W) = (22 · 300 + 2 · 2000) / 24 = 441.67 W, so shape = 2000 − 441.67 =
  // 1558.33 W; the level at Sunday 23:00 is 300 W: 300 + 1558.33 = 1858.33 W. The 141.7 W
  // shortfall is the level's drift over the lead, which the spread accounts for.
  const s2 = feed(s, sunday + 10 * HOUR_MS, sunday + DAY_MS, load);
  const monday10 = forecastLoad(s2, new Date(sunday + DAY_MS + 10 * HOUR_MS))!;
  assert.ok(Math.abs(monday10.meanW - 1858.33) < 0.5, `${monday10.meanW}`);
});

Deno.test("updateLoadProfile() ignores replayed samples and names bad input", () => {
  const s = updateLoadProfile(newLoadProfile(), { time: new Date(MONDAY), loadW: 100 });
  assert.equal(updateLoadProfile(s, { time: new Date(MONDAY - 1000), loadW: 900 }), s);
  assert.throws(
    () => updateLoadProfile(s, { time: new Date(MONDAY + 1000), loadW: -5 }),
    /sample\.loadW must be ≥ 0 W, got -5/,
  );
});

Deno.test("LoadProfileState allocates its 768-byte buffer at the first learned hour, scaled", () => {
  // 168 hour-of-week + 24 hour-of-day shapes, 3 × 24 hour-of-day errors, 24 ring slots:
  // 288 Float16 = 576 bytes; 168 + 24 Uint8 counts = 192 bytes; 768 in all. A site that has
  // not learned an hour yet holds none of it.
  assert.equal(LOAD_PROFILE_BUCKET_BYTES, 768);
  // 800 W every 10 min from Monday 00:00: the hour is learned when 01:00's sample arrives.
  const before = feed(newLoadProfile(), MONDAY, MONDAY + HOUR_MS, () => 800, 600_000);
  assert.equal(before.buckets, null);
  assert.equal(before.counts, null);
  const s = feed(before, MONDAY + HOUR_MS, MONDAY + HOUR_MS + 1, () => 800);
  assert.equal(s.buckets!.buffer, s.counts!.buffer);
  assert.equal(s.buckets!.buffer.byteLength, 768);
  // The scale is the power of two nearest 800 W: 2^round(log2 800) = 2^round(9.64) = 1024 W,
  // and the ring keeps 800 / 1024 = 0.78125 (25/32, exact in Float16) for hour 0.
  assert.equal(s.scaleW, 1024);
  assert.equal(s.buckets![264], 0.78125);
  // A copy per learned hour; the samples in between share it.
  const next = updateLoadProfile(s, { time: new Date(MONDAY + HOUR_MS + 600_000), loadW: 800 });
  assert.equal(next.buckets, s.buckets);
});

Deno.test("LoadProfileState keeps a 1.7 MW grid and a 10 W cabinet within Float16's range", () => {
  // Float16's largest finite value is 65 504; 1 700 000 W / 65 504 = 26 W would overflow
  // without the scale. 2^round(log2 1.7e6) = 2^21 = 2 097 152 W: 1.7 MW is 0.81 of it.
  const big = feed(newLoadProfile(), MONDAY, MONDAY + 26 * HOUR_MS, () => 1_700_000);
  assert.equal(big.scaleW, 2 ** 21);
  const f = forecastLoad(big, new Date(MONDAY + 26 * HOUR_MS))!;
  // Float16 keeps 11 significant bits: within 2^-11 = 0.05 % of the load.
  assert.ok(Math.abs(f.meanW - 1_700_000) < 1_700_000 * 2 ** -11, `${f.meanW}`);
  // 10 W: the scale floor of 64 W, so 10 / 64 = 0.15625 (exact).
  const small = feed(newLoadProfile(), MONDAY, MONDAY + 26 * HOUR_MS, () => 10);
  assert.equal(small.scaleW, 64);
  assert.equal(forecastLoad(small, new Date(MONDAY + 26 * HOUR_MS))!.meanW, 10);
});

interface Hour {
  ms: number;
  loadW: number;
}

async function ouessant(): Promise<Hour[]> {
  const lines = (await Deno.readTextFile(OUESSANT)).trim().split("\n");
  assert.match(lines[0]!, /^Ouessant 2016 data/);
  assert.equal(lines[1], "time,Load,Ppv1k,Temp,Wind");
  return lines.slice(2).map((line) => {
    const [time, load] = line.split(",");
    // Timestamps carry no zone: read as the site's local clock (offset 0), loads in kW.
    return { ms: Date.parse(`${time!.replace(" ", "T")}Z`), loadW: Number(load) * 1000 };
  });
}

/**
 * Rolling day-ahead test: at each midnight from day `fromDay`, having learned every earlier
 * hour, forecast the next 24 hours; mean absolute error of the profile, of its EWMA fallback
 * (flat at its value at midnight) and of "same hour yesterday", and how often the actual load
 * fell within ±1 spread.
 */
function dayAhead(hours: readonly Hour[], fromDay: number, toDay: number) {
  let s = newLoadProfile();
  let i = 0, n = 0, profile = 0, fallback = 0, naive = 0, within = 0;
  const t0 = hours[0]!.ms;
  for (let day = 0; day < toDay; day++) {
    const origin = t0 + day * DAY_MS;
    for (; i < hours.length && hours[i]!.ms < origin; i++) {
      s = updateLoadProfile(s, { time: new Date(hours[i]!.ms), loadW: hours[i]!.loadW });
    }
    if (day < fromDay) continue;
    for (let h = 0; h < 24 && day * 24 + h < hours.length; h++) {
      const actual = hours[day * 24 + h]!.loadW;
      const f = forecastLoad(s, new Date(origin + h * HOUR_MS))!;
      profile += Math.abs(actual - f.meanW);
      fallback += Math.abs(actual - s.ewmaW!);
      naive += Math.abs(actual - hours[day * 24 + h - 24]!.loadW);
      within += Math.abs(actual - f.meanW) <= f.spreadW ? 1 : 0;
      n++;
    }
  }
  const kw = (sumW: number) => sumW / n / 1000;
  return { profile: kw(profile), fallback: kw(fallback), naive: kw(naive), within: within / n, n };
}

Deno.test("forecastLoad() beats the EWMA and 'same hour yesterday' day-ahead on Ouessant 2016", async () => {
  const hours = await ouessant();
  assert.equal(hours.length, 8760);
  // Days 7..365: 359 days × 24 h − the last day's missing hours = 8592 forecasts. Measured:
  // profile 49.1 kW, EWMA 102.4 kW, same hour yesterday 55.5 kW (the load: 294..1707 kW).
  // The EWMA is flat and knows no daily shape, so its error is about the daily swing; the
  // profile keeps the EWMA's level information (its 24 h ring) and adds the shape, so it
  // should halve it. Asserted with headroom: at least 40 % below the EWMA, below "yesterday".
  const r = dayAhead(hours, 7, 366);
  assert.equal(r.n, 8592);
  assert.ok(r.profile < 0.6 * r.fallback, JSON.stringify(r));
  assert.ok(r.profile < r.naive, JSON.stringify(r));
  // The spread is one standard deviation: a normal error falls within it 68 % of the time
  // (measured: 68.3 %).
  assert.ok(r.within > 0.6 && r.within < 0.76, JSON.stringify(r));
});

Deno.test("forecastLoad() holds its edge on the half of 2016 its constants were not tuned on", async () => {
  // The constants were chosen on January–June; July–December (days 183..365) is held out.
  // Measured: profile 39.5 kW, EWMA 88.8 kW, same hour yesterday 41.6 kW.
  const r = dayAhead(await ouessant(), 183, 366);
  assert.ok(r.profile < 0.6 * r.fallback, JSON.stringify(r));
  assert.ok(r.profile < r.naive, JSON.stringify(r));
});
