/**
 * What the backend's state costs per site once its load profile is learned, which
 * `bench:fleet`'s memory run (sites a minute old) cannot show: in one process, N sites' telemetry
 * every 10 minutes for H hours through the backend's SiteStates, then each site's advice held as
 * the planner holds it (held_advice.ts) with its command envelope; memory after garbage
 * collection (V8 heap and, outside it, the profiles' ArrayBuffers) before and after, per site.
 *
 *   deno run -A --v8-flags=--expose-gc bench/site_memory.ts [--sites 5000] [--hours 30]
 *
 * Hours 0 gives a site with one message (no hour learned yet); 30 a site whose profile holds a
 * day of hours (its buffer is allocated at the first learned hour and never grows).
 */
import { parseArgs } from "node:util";
import { profileOf, SiteStates } from "../src/backend/site_state.ts";
import { computeAdvice } from "../src/core/advice.ts";
import { heldAdvice } from "../src/core/held_advice.ts";
import { loadForecaster, newLoadProfile } from "../src/core/load_forecast.ts";
import { readsVoltage } from "../src/core/soc_estimator.ts";
import { decodeTelemetryV1 } from "../src/core/telemetry.ts";
import { unknownWeather } from "../src/core/weather.ts";

const { values } = parseArgs({
  args: Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args,
  options: { sites: { type: "string", default: "5000" }, hours: { type: "string", default: "30" } },
});
const sites = Number(values.sites), hours = Number(values.hours);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");
const memory = () => {
  gc();
  gc();
  const m = Deno.memoryUsage();
  return { heap: m.heapUsed, external: m.external };
};
const encoder = new TextEncoder();
const id = (i: number) => `mem-${String(i).padStart(5, "0")}`;
/** A tower's 10-minute reading: load with a daily swing, a discharging LiFePO4 bank. */
function record(i: number, ms: number) {
  const hour = new Date(ms).getUTCHours();
  const payload = JSON.stringify({
    v: 1,
    site_id: id(i),
    ts: new Date(ms).toISOString(),
    source: "battery",
    battery_v: 51.3 + (i % 7) / 10,
    battery_a: -12.5 - (hour % 6),
    soc_pct: 63 + (i % 5),
    battery_temp_c: 28.5,
    load_w: 640 + (i % 13) * 10 + (hour >= 8 && hour < 18 ? 300 : 0),
    gen_running: false,
    fuel_pct: 71.5,
    shed_tier: 0,
  });
  const decoded = decodeTelemetryV1(encoder.encode(payload), id(i), new Date(ms + 200));
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.record;
}

const states = new SiteStates();
const before = memory();
const stepMs = 600_000;
const startMs = Date.UTC(2026, 10, 20);
const steps = Math.max(1, hours * 6);
let ms = startMs;
for (let s = 0; s < steps; s++, ms += stepMs) {
  const records = Array.from({ length: sites }, (_, i) => record(i, ms));
  states.observe(records, records.map((r) => r.siteId));
}
const now = new Date(ms);
for (let i = 0; i < sites; i++) {
  const state = states.get(id(i))!;
  const soc = state.soc!;
  const latest = state.latest!;
  const advice = heldAdvice(computeAdvice({
    profile: profileOf(state),
    latest,
    now,
    soc: {
      socPct: soc.socPct,
      uncertaintyPct: soc.uncertaintyPct,
      fromVoltage: readsVoltage(soc.method),
    },
    load: loadForecaster(state.loadProfile ?? newLoadProfile(), { fallbackLoadW: latest.loadW }),
    pv: null,
    weather: unknownWeather("site location not set"),
  }));
  state.advice = advice;
  state.sentAdvice = advice;
  state.advisedOn = {
    atMs: now.getTime(),
    socPct: soc.socPct,
    fuelPct: latest.fuelPct,
    source: latest.source,
    genRunning: latest.genRunning,
    shedTier: latest.shedTier,
    storedProfile: null,
  };
  state.advisedAtWallMs = Date.now();
  state.sentAtWallMs = Date.now();
  state.lastCommand = { seq: 1, issuedAtMs: now.getTime(), validUntilMs: now.getTime() + 30_000 };
  state.lastSeq = 1;
}
const after = memory();
const heap = Math.round((after.heap - before.heap) / sites);
const external = Math.round((after.external - before.external) / sites);
const learned = states.get(id(0))!.loadProfile?.buckets !== null;
console.log(
  `site state, ${sites} sites after ${steps} messages each (${hours} h; load profile ` +
    `${learned ? "learned" : "not learned yet"}): ${heap + external} bytes per site ` +
    `(V8 heap ${heap}, outside it ${external})`,
);
