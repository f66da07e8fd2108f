/** The alarm engine in the backend, on the real PostgreSQL and Mosquitto. */
import assert from "node:assert/strict";
import type { AlarmEventPayload } from "../../src/backend/alarms.ts";
import { runMigrations } from "../../src/db/migrate.ts";
import { MIGRATIONS } from "../../src/db/migrations.ts";
import { uniqueSiteId } from "../_helpers/mqtt.ts";
import { withTempDatabase } from "../_helpers/pg.ts";
import { listen, publisher, startBackend, v1Telemetry, waitFor } from "./harness.ts";

const ts = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();

Deno.test("alarms: low fuel is raised, published, acknowledged, reloaded at restart and cleared", async () => {
  await withTempDatabase(async (url, sql) => {
    await runMigrations(sql);
    const siteId = uniqueSiteId("alarm");
    const topic = `kasi/v1/sites/${siteId}`;
    const events = await listen(`${topic}/event`);
    const pub = await publisher();
    let { service } = await startBackend(url);
    try {
      // Three readings at 5 %: one short of the rule's three-sample debounce until the last.
      for (let i = 0; i < 3; i++) {
        await pub.publishAsync(
          `${topic}/telemetry`,
          v1Telemetry(siteId, { ts: ts(30_000 - i * 10_000), seq: i, fuel_pct: 5 }),
          { qos: 1 },
        );
      }
      const raised = await waitFor(
        "the raised event",
        () =>
          events.messages.map((m) => JSON.parse(m.payload) as AlarmEventPayload)
            .find((p) => p.change === "raised"),
      );
      assert.equal(raised.kind, "alarm");
      assert.equal(raised.site_id, siteId);
      assert.equal(raised.alarm.kind, "low-fuel");
      assert.equal(raised.alarm.state, "raised");
      // Default v1 site: 200 L tank, so 5 % is 10 L.
      assert.deepEqual(raised.alarm.values.fuelL, 10);
      assert.deepEqual(service.alarms().openCounts().get(siteId), 1);

      const ack = await service.alarms().acknowledge(raised.alarm.id, { by: "operator@kasi" });
      assert.ok(ack.ok);
      assert.equal(ack.alarm.state, "acknowledged");
      assert.equal(ack.alarm.acknowledgedBy, "operator@kasi");
      const again = await service.alarms().acknowledge(raised.alarm.id, { by: "someone else" });
      assert.ok(again.ok);
      assert.equal(again.alarm.acknowledgedBy, "operator@kasi", "unchanged");
      await waitFor(
        "the acknowledged event",
        () => events.messages.some((m) => JSON.parse(m.payload).change === "acknowledged"),
      );
      assert.deepEqual(await service.alarms().acknowledge(999_999, { by: "x" }), {
        ok: false,
        reason: "not-found",
      });

      // Restart: the open alarm is reloaded, and more low readings raise no second one.
      await service.stop();
      ({ service } = await startBackend(url));
      assert.equal(service.alarms().openCounts().get(siteId), 1);
      for (let i = 3; i < 6; i++) {
        await pub.publishAsync(
          `${topic}/telemetry`,
          v1Telemetry(siteId, { ts: ts(8000 - i * 1000), seq: i, fuel_pct: 5 }),
          { qos: 1 },
        );
      }
      // Refuelled: three readings at 80 % clear it.
      for (let i = 6; i < 9; i++) {
        await pub.publishAsync(
          `${topic}/telemetry`,
          v1Telemetry(siteId, { ts: ts(8000 - i * 1000), seq: i, fuel_pct: 80 }),
          { qos: 1 },
        );
      }
      const cleared = await waitFor(
        "the cleared event",
        () =>
          events.messages.map((m) => JSON.parse(m.payload) as AlarmEventPayload)
            .find((p) => p.change === "cleared"),
      );
      assert.equal(cleared.alarm.id, raised.alarm.id);
      assert.equal(cleared.alarm.state, "cleared");
      assert.equal(cleared.alarm.acknowledgedBy, "operator@kasi");
      assert.deepEqual(cleared.alarm.clearedValues, {
        fuelPct: 80,
        fuelL: 160,
        runHoursLeft: 67.3,
      });
      assert.equal(service.alarms().openCounts().get(siteId), undefined);
      const rows = await service.alarms().list({ siteId });
      assert.deepEqual(rows.map((a) => [a.kind, a.state]), [["low-fuel", "cleared"]]);
      assert.deepEqual(await service.alarms().acknowledge(raised.alarm.id, { by: "x" }), {
        ok: false,
        reason: "already-cleared",
      });
      // The backend's own alarm events are not stored as device events.
      await service.alarms().idle();
      const [own] = await sql`select count(*)::int as n from site_events
        where site_id = ${siteId} and kind = 'alarm'`;
      assert.equal(own!.n, 0);
      assert.equal(
        events.messages.filter((m) => JSON.parse(m.payload).change === "raised").length,
        1,
        "raised once across the restart",
      );
    } finally {
      await service.stop();
      await pub.endAsync();
      await events.close();
    }
  });
});

Deno.test("alarms: a device's generator-start-failed event raises, a last will raises offline, webhooks hear both", async () => {
  await withTempDatabase(async (url, sql) => {
    await runMigrations(sql);
    const siteId = uniqueSiteId("alarm-gen");
    const topic = `kasi/v1/sites/${siteId}`;
    const pub = await publisher();
    const hooked: { change: string; alarm: { kind: string; siteId: string } }[] = [];
    const hook = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
      const body = await r.json();
      // The shared broker may hold other sites' retained last wills: this site's calls only.
      if (body.alarm.siteId === siteId) hooked.push(body);
      return new Response("ok");
    });
    const { service } = await startBackend(url, {
      alarmWebhookUrls: [`http://127.0.0.1:${hook.addr.port}/alarms`],
    });
    try {
      await pub.publishAsync(`${topic}/telemetry`, v1Telemetry(siteId, { ts: ts(5000) }), {
        qos: 1,
      });
      await pub.publishAsync(
        `${topic}/event`,
        JSON.stringify({
          kind: "generator-start-failed",
          ts: ts(4000),
          detail: "generator did not run within 120 s of its start signal",
          reasons: [],
          values: { waited_s: 120, fuel_pct: 50, soc_pct: 44.6 },
        }),
        { qos: 1 },
      );
      await pub.publishAsync(`${topic}/status`, "offline", { qos: 1 });
      const open = await waitFor("two open alarms", async () => {
        await service.alarms().idle();
        const a = await service.alarms().list({ siteId, state: "open" });
        return a.length === 2 && a;
      });
      assert.deepEqual(open.map((a) => a.kind).sort(), ["generator-start-failed", "site-offline"]);
      const gen = open.find((a) => a.kind === "generator-start-failed")!;
      assert.equal(gen.message, "Generator did not start within 120 s");
      assert.equal(gen.severity, "critical");
      // Telemetry with the generator running clears both.
      await pub.publishAsync(
        `${topic}/telemetry`,
        v1Telemetry(siteId, { ts: ts(1000), gen_running: true, source: "generator" }),
        { qos: 1 },
      );
      await waitFor("both cleared", async () => {
        await service.alarms().idle();
        return (await service.alarms().list({ siteId, state: "open" })).length === 0;
      });
      await waitFor("four webhook calls", () => hooked.length === 4);
      assert.deepEqual(hooked.map((h) => `${h.alarm.kind} ${h.change}`).sort(), [
        "generator-start-failed cleared",
        "generator-start-failed raised",
        "site-offline cleared",
        "site-offline raised",
      ]);
    } finally {
      await service.stop();
      await pub.endAsync();
      await hook.shutdown();
    }
  });
});

Deno.test("alarms: a silent site goes offline on the backend's clock tick", async () => {
  await withTempDatabase(async (url, sql) => {
    await runMigrations(sql);
    const siteId = uniqueSiteId("alarm-silent");
    const pub = await publisher();
    // The backend's clock, moved by the test; ticks are called directly.
    let nowMs = Date.now();
    const { service } = await startBackend(url, { now: () => new Date(nowMs), alarmTickS: 3600 });
    try {
      await pub.publishAsync(
        `kasi/v1/sites/${siteId}/telemetry`,
        v1Telemetry(siteId, { ts: new Date(nowMs - 1000).toISOString() }),
        { qos: 1 },
      );
      await waitFor("the site", () => service.sites().some((s) => s.siteId === siteId));
      nowMs += 9 * 60_000;
      service.alarms().tick();
      await service.alarms().idle();
      assert.equal(service.alarms().openCounts().get(siteId), undefined, "9 min is not 10");
      nowMs += 2 * 60_000;
      service.alarms().tick();
      await service.alarms().idle();
      const [alarm] = await service.alarms().list({ siteId });
      assert.equal(alarm?.kind, "site-offline");
      assert.equal(alarm?.values.reason, "silent");
    } finally {
      await service.stop();
      await pub.endAsync();
    }
  });
});

Deno.test("alarms: telemetry rejected three times for one field raises sensor-invalid", async () => {
  await withTempDatabase(async (url, sql) => {
    await runMigrations(sql);
    const siteId = uniqueSiteId("alarm-reject");
    const topic = `kasi/v1/sites/${siteId}/telemetry`;
    const pub = await publisher();
    const { service } = await startBackend(url);
    try {
      await pub.publishAsync(topic, v1Telemetry(siteId, { ts: ts(9000) }), { qos: 1 });
      await waitFor("the site", () => service.sites().some((s) => s.siteId === siteId));
      for (let i = 0; i < 3; i++) {
        await pub.publishAsync(topic, v1Telemetry(siteId, { ts: ts(8000 - i), fuel_pct: 65535 }), {
          qos: 1,
        });
      }
      const [alarm] = await waitFor("the alarm", async () => {
        await service.alarms().idle();
        const a = await service.alarms().list({ siteId, kind: "sensor-invalid" });
        return a.length > 0 && a;
      });
      assert.equal(alarm!.values.sensors, "fuel_pct");
      assert.match(String(alarm!.message), /^fuel_pct rejected: fuel_pct: /);
    } finally {
      await service.stop();
      await pub.endAsync();
    }
  });
});

Deno.test("alarms: a failing alarms table is logged, never stops ingestion, and is retried", async () => {
  await withTempDatabase(async (url, sql) => {
    await runMigrations(sql);
    const siteId = uniqueSiteId("alarm-broken");
    const topic = `kasi/v1/sites/${siteId}/telemetry`;
    const pub = await publisher();
    const { service, log } = await startBackend(url);
    try {
      await sql`drop table alarms`;
      for (let i = 0; i < 4; i++) {
        await pub.publishAsync(
          topic,
          v1Telemetry(siteId, { ts: ts(9000 - i * 1000), fuel_pct: 5 }),
          {
            qos: 1,
          },
        );
      }
      await waitFor("the failure logged", async () => {
        await service.alarms().idle();
        return log.entries.some((e) => e.msg.startsWith("alarm change not stored"));
      });
      const [rows] = await sql`select count(*)::int as n from telemetry where site_id = ${siteId}`;
      assert.equal(rows!.n, 4, "every record stored");
      assert.equal(service.alarms().openCounts().get(siteId), undefined);
      // Ingestion goes on after it.
      await pub.publishAsync(topic, v1Telemetry(siteId, { ts: ts(1000), fuel_pct: 5 }), { qos: 1 });
      await waitFor("the fifth record", async () => {
        const [r] = await sql`select count(*)::int as n from telemetry where site_id = ${siteId}`;
        return r!.n === 5;
      });
      // The table is back: the next tick stores the alarm that could not be stored.
      await sql.unsafe(MIGRATIONS.find((m) => m.name === "alarms")!.sql);
      service.alarms().tick();
      await service.alarms().idle();
      const open = await service.alarms().list({ siteId });
      assert.deepEqual(open.map((a) => [a.kind, a.state]), [["low-fuel", "raised"]]);
    } finally {
      await service.stop();
      await pub.endAsync();
    }
  });
});
