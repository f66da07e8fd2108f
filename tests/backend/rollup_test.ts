/** RollupJob (src/backend/rollup.ts): its timer on fake time, and the backend's wiring on PG. */
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { RollupJob, type RollupStore } from "../../src/backend/rollup.ts";
import { MemoryLogger } from "../../src/core/log.ts";
import { v1Topic } from "../../src/core/topics.ts";
import type { Db } from "../../src/db/client.ts";
import type { HourlyRollupKind, SiteHour } from "../../src/db/telemetry_hourly.ts";
import { uniqueSiteId } from "../_helpers/mqtt.ts";
import { clearRetained, publisher, v1Telemetry, waitFor, withBackend } from "./harness.ts";

/** A store that records what the job asks of it. */
function fakeStore(kind: HourlyRollupKind) {
  const calls: { recompute: string[][]; catchUps: number } = { recompute: [], catchUps: 0 };
  let failNext = false;
  const store: RollupStore & { kindNow: HourlyRollupKind } = {
    kindNow: kind,
    kind: () => Promise.resolve(store.kindNow),
    catchUp: () => {
      calls.catchUps++;
      return Promise.resolve(0);
    },
    recompute: (hours: SiteHour[]) => {
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error("connection refused"));
      }
      calls.recompute.push(hours.map((h) => `${h.siteId}@${h.bucket.toISOString()}`).sort());
      return Promise.resolve(hours.length);
    },
  };
  return { store, calls, failOnce: () => (failNext = true) };
}

type Clock = ReturnType<typeof FakeTimers.install>;

function withClock(fn: (clock: Clock) => Promise<void>) {
  return async () => {
    const clock = FakeTimers.install({ now: 0, toFake: ["setTimeout", "clearTimeout"] });
    try {
      await fn(clock);
    } finally {
      clock.uninstall();
    }
  };
}

const at = (iso: string) => new Date(iso);
const NO_DB = {} as Db;

Deno.test(
  "RollupJob recomputes each touched site-hour once per interval, and retries a failed run",
  withClock(async (clock) => {
    const { store, calls, failOnce } = fakeStore("table");
    const log = new MemoryLogger();
    const job = new RollupJob({ sql: NO_DB, log, intervalS: 300, store });
    await job.start();
    await clock.tickAsync(0);
    assert.equal(calls.catchUps, 1, "catches up once at start");
    assert.equal(job.active, true);

    // Two rows in 12:xx and one in 13:00 of site a, one of site b: three site-hours.
    job.touch([
      { siteId: "a", time: at("2025-03-01T12:10:00Z") },
      { siteId: "a", time: at("2025-03-01T12:50:00Z") },
      { siteId: "a", time: at("2025-03-01T13:00:00Z") },
      { siteId: "b", time: at("2025-03-01T12:10:00Z") },
    ]);
    assert.equal(job.pending, 3);
    await clock.tickAsync(299_999);
    assert.deepEqual(calls.recompute, [], "nothing before the interval");
    await clock.tickAsync(1);
    assert.deepEqual(calls.recompute, [[
      "a@2025-03-01T12:00:00.000Z",
      "a@2025-03-01T13:00:00.000Z",
      "b@2025-03-01T12:00:00.000Z",
    ]]);

    // Nothing touched: the next interval writes nothing.
    await clock.tickAsync(300_000);
    assert.equal(calls.recompute.length, 1);

    // The database is away for one run: the hour is kept and written at the following one.
    failOnce();
    job.touch([{ siteId: "a", time: at("2025-03-01T14:05:00Z") }]);
    await clock.tickAsync(300_000);
    assert.equal(calls.recompute.length, 1);
    assert.equal(job.pending, 1);
    assert.equal(log.entries.filter((e) => e.level === "warn").length, 1);
    await clock.tickAsync(300_000);
    assert.deepEqual(calls.recompute[1], ["a@2025-03-01T14:00:00.000Z"]);
    assert.equal(job.stats.failures, 1);

    // stop() writes what is pending at once and leaves no timer behind.
    job.touch([{ siteId: "b", time: at("2025-03-01T15:00:00Z") }]);
    await job.stop();
    assert.deepEqual(calls.recompute[2], ["b@2025-03-01T15:00:00.000Z"]);
    assert.equal(clock.countTimers(), 0);
  }),
);

Deno.test(
  "RollupJob does nothing where telemetry_hourly is a continuous aggregate",
  withClock(async (clock) => {
    const { store, calls } = fakeStore("continuous-aggregate");
    const job = new RollupJob({ sql: NO_DB, log: new MemoryLogger(), store });
    await job.start();
    job.touch([{ siteId: "a", time: at("2025-03-01T12:10:00Z") }]);
    assert.equal(job.active, false);
    assert.equal(job.pending, 0);
    await clock.tickAsync(3_600_000);
    assert.deepEqual(calls, { recompute: [], catchUps: 0 });
    assert.equal(clock.countTimers(), 0);
  }),
);

Deno.test(
  "RollupJob stands down when kasi migrate turned the table into an aggregate meanwhile",
  withClock(async (clock) => {
    const { store, calls, failOnce } = fakeStore("table");
    const log = new MemoryLogger();
    const job = new RollupJob({ sql: NO_DB, log, intervalS: 60, store });
    await job.start();
    // The insert into what is now a view fails; the job finds out why and stops for good.
    store.kindNow = "continuous-aggregate";
    failOnce();
    job.touch([{ siteId: "a", time: at("2025-03-01T12:10:00Z") }]);
    await clock.tickAsync(60_000);
    assert.equal(job.active, false);
    assert.equal(clock.countTimers(), 0);
    job.touch([{ siteId: "a", time: at("2025-03-01T12:20:00Z") }]);
    assert.equal(job.pending, 0);
    assert.deepEqual(calls.recompute, []);
    assert.ok(log.entries.some((e) => e.msg.includes("no longer a plain table")));
  }),
);

Deno.test("BackendService keeps telemetry_hourly up to date on plain PostgreSQL", async () => {
  const siteId = uniqueSiteId("it-rollup");
  const pub = await publisher();
  try {
    await withBackend(async ({ sql, service }) => {
      const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000);
      // Three readings in the previous hour: load 100, 200 and 600 W.
      for (const [i, loadW] of [100, 200, 600].entries()) {
        const ts = new Date(hour.getTime() + (i + 1) * 600_000).toISOString();
        await pub.publishAsync(
          v1Topic(siteId, "telemetry"),
          v1Telemetry(siteId, { ts, seq: i, load_w: loadW }),
          { qos: 1 },
        );
      }
      await waitFor("3 rows stored", () => service.stats().stored === 3);
      // The interval is one second here: the row appears without stopping the backend.
      const row = await waitFor("the hour's rollup", async () => {
        const [r] = await sql`
          select samples::int, load_avg_w, load_max_w from telemetry_hourly
          where site_id = ${siteId} and bucket = ${hour}`;
        return r?.samples === 3 ? r : undefined;
      });
      assert.equal(row.load_avg_w, 300); // (100 + 200 + 600) / 3
      assert.equal(row.load_max_w, 600);
    }, { rollupIntervalS: 1 });
  } finally {
    await pub.endAsync();
    await clearRetained(v1Topic(siteId, "command"));
  }
});
