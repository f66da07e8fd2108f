/**
 * Zero loss at QoS 1, end to end: publishers → a private Mosquitto → the real backend →
 * PostgreSQL. A shortened bench:ingest (correctness, not speed: it fails on any message the
 * broker acknowledged that did not become a row), and the case the Kasi broker config exists
 * for: the database away while a fleet keeps publishing.
 */
import assert from "node:assert/strict";
import { BackendService } from "../../src/backend/service.ts";
import { MemoryLogger } from "../../src/core/log.ts";
import { runMigrations } from "../../src/db/migrate.ts";
import { startPrivateBroker } from "../../bench/_mosquitto.ts";
import { publishPlan } from "../../bench/ingest_publisher.ts";
import { runIngestBenchmark } from "../../bench/ingest_run.ts";
import { withTempDatabase } from "../_helpers/pg.ts";
import { waitFor } from "./harness.ts";

Deno.test("bench:ingest, shortened: every acknowledged message is exactly one row", async () => {
  const result = await runIngestBenchmark({
    messages: 20_000,
    sites: 200,
    connections: 2,
    window: 500,
    baselineMessages: 0,
  });
  assert.equal(result.kasi.brokerAcked, 20_000);
  assert.equal(result.kasi.lost, 0);
  assert.equal(result.kasi.rows, 20_000);
});

/**
 * 15 000 messages while the telemetry table is away (renamed): the backend holds its Receive
 * Maximum, 10 × 1000 = 10 000, unacknowledged; the broker must queue the other 5 000 for it.
 */
async function outage(stock: boolean): Promise<{ sent: number; rows: number }> {
  const broker = await startPrivateBroker({ stock });
  try {
    let result = { sent: 0, rows: 0 };
    await withTempDatabase(async (url, sql) => {
      await runMigrations(sql);
      const service = new BackendService({
        mqttUrl: broker.url,
        databaseUrl: url,
        weather: {},
        log: new MemoryLogger(),
        clientId: `kasi-backend-test-${crypto.randomUUID().slice(0, 8)}`,
        sessionExpiryS: 0,
        dbMax: 2,
      });
      await service.start();
      try {
        await sql`alter table telemetry rename to telemetry_away`;
        const prefix = `out${Date.now().toString(36)}`;
        const sent = await publishPlan({
          host: "127.0.0.1",
          port: broker.port,
          sitePrefix: prefix,
          sites: 100,
          messages: 15_000,
          connections: 2,
          window: 500,
          baseMs: Date.now() - 200 * 10_000,
        });
        await sql`alter table telemetry_away rename to telemetry`;
        // Rows stop growing once everything the backend got is written.
        let rows = -1;
        await waitFor("rows to settle", async () => {
          const [row] = await sql`select count(*)::int as n from telemetry`;
          const settled = row!.n === rows && service.stats().pending === 0;
          rows = row!.n;
          if (settled) await new Promise((r) => setTimeout(r, 1000));
          return settled;
        }, 30_000);
        const [row] = await sql`select count(*)::int as n from telemetry`;
        result = { sent: sent.acked, rows: row!.n };
      } finally {
        await service.stop();
      }
    });
    return result;
  } finally {
    await broker.stop();
  }
}

Deno.test("deploy/mosquitto/kasi.conf loses nothing while the database is away", async () => {
  const { sent, rows } = await outage(false);
  assert.equal(sent, 15_000);
  assert.equal(rows, 15_000);
});

Deno.test("Mosquitto's stock limits drop acknowledged messages in the same outage (detected)", async () => {
  const { sent, rows } = await outage(true);
  assert.equal(sent, 15_000, "the broker acknowledged every message to the publishers");
  // At most 10 000 in flight to the backend plus max_queued_messages 1000: 4 000 or more lost.
  assert.ok(rows <= 11_000, `${rows} rows of ${sent}`);
});
