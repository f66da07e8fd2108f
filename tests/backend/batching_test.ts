import assert from "node:assert/strict";
import { v1Topic } from "../../src/core/topics.ts";
import { runMigrations } from "../../src/db/migrate.ts";
import { uniqueSiteId } from "../_helpers/mqtt.ts";
import { withTempDatabase } from "../_helpers/pg.ts";
import {
  clearRetained,
  endSession,
  publisher,
  startBackend,
  v1Telemetry,
  waitFor,
  withBackend,
} from "./harness.ts";

Deno.test("BackendService writes a burst in full batches, not one transaction per message", async () => {
  const siteId = uniqueSiteId("it-burst");
  const pub = await publisher();
  try {
    // maxDelayMs 2 s: within the burst, only a full batch (100) triggers a write.
    await withBackend(async ({ sql, service }) => {
      const base = Date.now() - 600_000;
      await Promise.all(Array.from({ length: 300 }, (_, i) =>
        pub.publishAsync(
          v1Topic(siteId, "telemetry"),
          v1Telemetry(siteId, { ts: new Date(base + i * 1000).toISOString(), seq: i }),
          { qos: 1 },
        )));
      await waitFor("300 rows", async () => {
        const [row] = await sql`select count(*)::int as n from telemetry where site_id = ${siteId}`;
        return row!.n === 300;
      });
      // received_at defaults to now(), the start time of the transaction: one value per write.
      // 300 messages / 100 per batch = 3 writes (one more if the timer caught a partial one).
      const [row] = await sql`
        select count(distinct received_at)::int as writes from telemetry where site_id = ${siteId}`;
      assert.ok(row!.writes >= 3 && row!.writes <= 4, `${row!.writes} writes`);
      assert.ok(service.stats().batches >= 3);
    }, { batch: { maxBatch: 100, maxDelayMs: 2000 } });
  } finally {
    await pub.endAsync();
    await clearRetained(v1Topic(siteId, "command"));
  }
});

Deno.test("BackendService acknowledges only committed messages: a failed write is redelivered", async () => {
  const siteId = uniqueSiteId("it-redeliver");
  const clientId = `kasi-backend-test-${crypto.randomUUID().slice(0, 8)}`;
  const pub = await publisher();
  try {
    await withTempDatabase(async (url, sql) => {
      await runMigrations(sql);
      // A broker session that outlives the first backend, as in production; ended in `finally`.
      const first = await startBackend(url, { clientId, sessionExpiryS: 60, stopTimeoutMs: 300 });
      await sql`alter table telemetry rename to telemetry_away`;
      const ts = new Date(Date.now() - 5000).toISOString();
      try {
        await pub.publishAsync(v1Topic(siteId, "telemetry"), v1Telemetry(siteId, { ts }), {
          qos: 1,
        });
        await waitFor(
          "a failed write",
          () => first.log.entries.some((e) => e.msg.startsWith("database write failed")),
        );
      } finally {
        // Stops with the message still unwritten: it must not have been acknowledged.
        await first.service.stop();
        await sql`alter table telemetry_away rename to telemetry`;
      }
      assert.equal(first.service.stats().stored, 0);
      assert.ok(
        first.log.entries.some((e) => e.msg.startsWith("stopping with messages not written")),
      );

      // The same session again: the broker redelivers what was never acknowledged.
      const second = await startBackend(url, { clientId, sessionExpiryS: 0 });
      try {
        await waitFor(
          "the redelivered row",
          async () =>
            (await sql`select 1 from telemetry where site_id = ${siteId} and time = ${ts}`)
              .length === 1,
        );
      } finally {
        await second.service.stop();
      }
    });
  } finally {
    await pub.endAsync();
    // Whatever failed above, the broker must not keep queueing for this client id.
    await endSession(clientId);
    await clearRetained(v1Topic(siteId, "command"));
  }
});
