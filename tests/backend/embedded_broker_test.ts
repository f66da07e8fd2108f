import assert from "node:assert/strict";
import { decodeCommandV1 } from "../../src/core/command.ts";
import { v1Topic } from "../../src/core/topics.ts";
import { startEmbeddedBroker } from "../../src/embedded/broker.ts";
import { startEmbeddedDatabase } from "../../src/embedded/database.ts";
import mqtt from "mqtt";
import { startBackend, v1Telemetry, waitFor } from "./harness.ts";
import { withTempDatabase } from "../_helpers/pg.ts";
import { runMigrations } from "../../src/db/migrate.ts";

Deno.test("BackendService falls back to MQTT 3.1.1 on a broker without MQTT 5 (aedes)", async () => {
  const broker = await startEmbeddedBroker({ port: 0 });
  try {
    await withTempDatabase(async (url, sql) => {
      await runMigrations(sql);
      const { service, log } = await startBackend(url, { mqttUrl: broker.url });
      const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      try {
        assert.ok(log.entries.some((e) => e.msg.includes("using MQTT 3.1.1")));
        const messages: string[] = [];
        client.on("message", (_t, payload) => messages.push(payload.toString()));
        await client.subscribeAsync(v1Topic("aedes-site", "command"), { qos: 1 });
        await client.publishAsync(
          v1Topic("aedes-site", "telemetry"),
          v1Telemetry("aedes-site"),
          { qos: 1 },
        );
        await waitFor(
          "the row",
          async () =>
            (await sql`select 1 from telemetry where site_id = 'aedes-site'`).length === 1,
        );
        const payload = await waitFor("the command", () => messages[0]);
        const decoded = decodeCommandV1(payload);
        assert.ok(decoded.ok, decoded.ok ? "" : decoded.reason);
        assert.equal(decoded.command.seq, 1);
      } finally {
        await client.endAsync();
        await service.stop();
      }
    });
  } finally {
    await broker.close();
  }
});

Deno.test("BackendService runs on the embedded stack: aedes and PGlite with one connection", async () => {
  const dataDir = await Deno.makeTempDir();
  const broker = await startEmbeddedBroker({ port: 0 });
  const db = await startEmbeddedDatabase({ dataDir, port: 0 });
  try {
    const { service } = await startBackend(db.url, {
      mqttUrl: broker.url,
      dbMax: 1,
      migrate: true,
    });
    const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    try {
      const messages: string[] = [];
      client.on("message", (_t, payload) => messages.push(payload.toString()));
      await client.subscribeAsync(v1Topic("pglite-site", "command"), { qos: 1 });
      for (let i = 0; i < 20; i++) {
        await client.publishAsync(
          v1Topic("pglite-site", "telemetry"),
          v1Telemetry("pglite-site", {
            ts: new Date(Date.now() - 60_000 + i * 1000).toISOString(),
          }),
          { qos: 1 },
        );
      }
      await waitFor("20 rows", () => service.stats().stored === 20, 10_000);
      await waitFor("a command", () => messages[0]);
      assert.equal(service.sites().find((s) => s.siteId === "pglite-site")?.latest?.seq, 1);
    } finally {
      await client.endAsync();
      await service.stop();
    }
  } finally {
    await db.close();
    await broker.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
