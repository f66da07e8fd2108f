import assert from "node:assert/strict";
import { uniqueSiteId } from "../../_helpers/mqtt.ts";
import { v1Telemetry, waitFor } from "../harness.ts";
import { MemoryAlarmBook } from "../../_helpers/alarm_book.ts";
import { parseMetrics, withHttpBackend } from "./http_harness.ts";

const TOKEN = "test-token-7f3a9c";
const auth = { authorization: `Bearer ${TOKEN}` };

async function get(url: string, headers: HeadersInit = auth) {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: safeJson(text) };
}

async function post(url: string, body?: string) {
  const response = await fetch(url, { method: "POST", headers: auth, body });
  return { status: response.status, body: await response.json() };
}

function safeJson(text: string) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

Deno.test("the JSON API answers 401 without the bearer token and serves sites and telemetry with it", async () => {
  const siteId = uniqueSiteId("http-api");
  const t0 = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  const at = (s: number) => new Date(t0.getTime() + s * 1000).toISOString();
  await withHttpBackend({ apiToken: TOKEN }, async ({ service, base, publisher }) => {
    const topic = `kasi/v1/sites/${siteId}/telemetry`;
    for (const [i, s] of [0, 10, 20].entries()) {
      await publisher.publishAsync(topic, v1Telemetry(siteId, { ts: at(s), seq: i + 1 }), {
        qos: 1,
      });
    }
    await waitFor("3 rows stored", () => service.stats().stored === 3);

    const none = await get(`${base}/api/v1/sites`, {});
    assert.equal(none.status, 401);
    assert.equal(none.body.error, "missing Authorization: Bearer <token> header");
    assert.equal(none.headers.get("www-authenticate"), 'Bearer realm="kasi"');
    const wrong = await get(`${base}/api/v1/sites`, { authorization: "Bearer nope" });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, "invalid token");
    const streamWithout = await get(`${base}/api/v1/stream`, {});
    assert.equal(streamWithout.status, 401);

    const sites = await get(`${base}/api/v1/sites`);
    assert.equal(sites.status, 200);
    assert.equal(sites.headers.get("cache-control"), "no-store");
    const site = sites.body.sites.find((s: { siteId: string }) => s.siteId === siteId);
    assert.equal(site.latest.time, at(20));
    assert.equal(site.latest.batteryV, 52);
    assert.equal(site.latest.loadW, 400);
    assert.equal(site.protocol, "v1");
    assert.equal(site.openAlarms, 0);

    // `to` is exclusive: t0 and t0+10 s, not t0+20 s.
    const range = await get(
      `${base}/api/v1/sites/${siteId}/telemetry?from=${at(0)}&to=${at(20)}`,
    );
    assert.equal(range.status, 200);
    assert.equal(range.body.count, 2);
    assert.deepEqual(range.body.telemetry.map((r: { time: string }) => r.time), [at(0), at(10)]);
    assert.equal(range.body.truncated, false);
    const columns = await get(
      `${base}/api/v1/sites/${siteId}/telemetry?from=${t0.getTime()}&format=columns&limit=2`,
    );
    // The newest two of three, oldest first, and the third left out.
    assert.deepEqual(columns.body.columns.time, [t0.getTime() + 10_000, t0.getTime() + 20_000]);
    assert.deepEqual(columns.body.columns.socPct, [80, 80]);
    assert.equal(columns.body.truncated, true);

    const badFrom = await get(`${base}/api/v1/sites/${siteId}/telemetry?from=yesterday`);
    assert.equal(badFrom.status, 400);
    assert.equal(
      badFrom.body.error,
      'from: "yesterday" is not an RFC 3339 time or milliseconds since 1970',
    );
    const backwards = await get(
      `${base}/api/v1/sites/${siteId}/telemetry?from=${at(20)}&to=${at(0)}`,
    );
    assert.equal(backwards.status, 400);
    assert.match(backwards.body.error, /^from: ".*" must be before to/);
    const badLimit = await get(`${base}/api/v1/sites/${siteId}/telemetry?limit=0`);
    assert.equal(badLimit.body.error, 'limit: "0" must be a whole number from 1 to 50000');
    const unknown = await get(`${base}/api/v1/sites/no-such-site/telemetry`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'site "no-such-site" is not known');
    const one = await get(`${base}/api/v1/sites/${siteId}`);
    assert.equal(one.body.siteId, siteId);

    // Health, readiness and metrics are open.
    assert.deepEqual((await get(`${base}/healthz`, {})).body, { status: "ok" });
    assert.deepEqual((await get(`${base}/readyz`, {})).body, {
      status: "ready",
      mqtt: "up",
      database: "up",
    });
    assert.equal((await get(`${base}/metrics`, {})).status, 200);
  });
});

Deno.test("/metrics counts a known sequence of messages exactly, rejects by reason code", async () => {
  const siteId = uniqueSiteId("http-metrics");
  const ts = (s: number) => new Date(Date.now() - 60_000 + s * 1000).toISOString();
  await withHttpBackend({ apiToken: TOKEN }, async ({ service, base, publisher }) => {
    const topic = `kasi/v1/sites/${siteId}/telemetry`;
    const first = v1Telemetry(siteId, { ts: ts(0), seq: 1 });
    const sequence: [string, string][] = [
      [topic, first],
      [topic, v1Telemetry(siteId, { ts: ts(10), seq: 2 })],
      [topic, first], // a repeat: stored once
      [topic, v1Telemetry(siteId, { ts: ts(20), battery_v: "12.4" })], // invalid
      [topic, "{not json"], // not-json
      [topic, ""], // empty
      ["kasi/v1/sites/bad id!/telemetry", v1Telemetry(siteId)], // topic
      [topic, v1Telemetry("someone-else", { ts: ts(30) })], // site-mismatch
      [`kasi/v1/sites/${siteId}/status`, "online"],
    ];
    for (const [t, p] of sequence) await publisher.publishAsync(t, p, { qos: 1 });
    await waitFor(
      "every message committed",
      () => service.stats().received === 9 && service.stats().pending === 0,
    );
    await waitFor("the first command", () => service.stats().commandsSent >= 1);

    const response = await fetch(`${base}/metrics`);
    assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const text = await response.text();
    const m = parseMetrics(text);
    assert.equal(m.get("kasi_messages_received_total"), 9);
    assert.equal(m.get("kasi_telemetry_stored_total"), 2);
    assert.equal(m.get("kasi_telemetry_duplicates_total"), 1);
    assert.equal(m.get('kasi_messages_rejected_total{reason="invalid"}'), 1);
    assert.equal(m.get('kasi_messages_rejected_total{reason="not-json"}'), 1);
    assert.equal(m.get('kasi_messages_rejected_total{reason="empty"}'), 1);
    assert.equal(m.get('kasi_messages_rejected_total{reason="topic"}'), 1);
    assert.equal(m.get('kasi_messages_rejected_total{reason="site-mismatch"}'), 1);
    assert.equal(m.get('kasi_messages_rejected_total{reason="too-large"}'), 0);
    assert.equal(m.get("kasi_status_updates_total"), 1);
    assert.equal(m.get('kasi_sites{status="online"}'), 1);
    assert.equal(m.get("kasi_sites_online"), 1);
    assert.equal(m.get("kasi_messages_pending"), 0);
    assert.equal(m.get("kasi_commands_sent_total"), service.stats().commandsSent);
    // One rejected reading is not a broken sensor (3 in a row are), and nothing else alarms.
    assert.equal(m.get("kasi_alarms_open"), 0);

    // The histogram: one observation per committed batch, cumulative buckets ending at +Inf.
    const count = m.get("kasi_batch_latency_seconds_count")!;
    assert.equal(count, service.stats().batches);
    assert.ok(count >= 1);
    const buckets = [...m].filter(([k]) => k.startsWith("kasi_batch_latency_seconds_bucket"));
    assert.equal(buckets.at(-1)![0], 'kasi_batch_latency_seconds_bucket{le="+Inf"}');
    assert.equal(buckets.at(-1)![1], count);
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]![1] >= buckets[i - 1]![1]);
    assert.ok(m.get("kasi_batch_latency_seconds_sum")! > 0);

    // Every family: HELP then TYPE before its samples, and the kasi_ prefix.
    const lines = text.trimEnd().split("\n");
    for (const [i, line] of lines.entries()) {
      if (!line.startsWith("# TYPE ")) continue;
      const [, , name, type] = line.split(" ");
      assert.ok(name!.startsWith("kasi_"), name);
      assert.match(lines[i - 1]!, new RegExp(`^# HELP ${name} `));
      assert.ok(["counter", "gauge", "histogram"].includes(type!));
      if (type === "counter") assert.ok(name!.endsWith("_total"), name);
    }
  });
});

Deno.test("/api/v1/alarms lists and acknowledges, naming a bad id, kind or body", async () => {
  const alarms = new MemoryAlarmBook();
  const siteId = uniqueSiteId("http-alarms");
  await withHttpBackend({ apiToken: TOKEN, alarms }, async ({ base, publisher, service }) => {
    await publisher.publishAsync(`kasi/v1/sites/${siteId}/telemetry`, v1Telemetry(siteId), {
      qos: 1,
    });
    await waitFor("the site", () => service.stats().stored === 1);
    const at = new Date("2026-03-01T10:00:00Z");
    const low = alarms.raise(siteId, "low-fuel", { message: "Fuel 8 % (16 L), below 10 %", at });
    const offline = alarms.raise(siteId, "site-offline", { message: "No telemetry", at });

    const list = await get(`${base}/api/v1/alarms?state=open`);
    assert.deepEqual(list.body.alarms.map((a: { id: number }) => a.id), [offline.id, low.id]);
    const site = (await get(`${base}/api/v1/sites/${siteId}`)).body;
    assert.equal(site.openAlarms, 2);
    const m = parseMetrics(await (await fetch(`${base}/metrics`)).text());
    assert.equal(m.get("kasi_alarms_open"), 2);

    const byKind = await get(`${base}/api/v1/alarms?kind=low-fuel`);
    assert.deepEqual(byKind.body.alarms.map((a: { kind: string }) => a.kind), ["low-fuel"]);
    const badKind = await get(`${base}/api/v1/alarms?kind=bogus`);
    assert.equal(badKind.status, 400);
    assert.match(badKind.body.error, /^kind: "bogus" is not one of: site-offline, low-fuel/);
    const badState = await get(`${base}/api/v1/alarms?state=closed`);
    assert.equal(
      badState.body.error,
      'state: "closed" is not one of: raised, acknowledged, cleared, open',
    );

    const acked = await post(
      `${base}/api/v1/alarms/${low.id}/ack`,
      JSON.stringify({ by: "amina" }),
    );
    assert.equal(acked.status, 200);
    assert.equal(acked.body.alarm.state, "acknowledged");
    assert.equal(acked.body.alarm.acknowledgedBy, "amina");
    const anonymous = await post(`${base}/api/v1/alarms/${offline.id}/ack`);
    assert.equal(anonymous.body.alarm.acknowledgedBy, "api");

    assert.deepEqual(await post(`${base}/api/v1/alarms/abc/ack`), {
      status: 400,
      body: { error: 'alarm id: "abc" must be a whole number from 1 to 999999999999999' },
    });
    assert.deepEqual(await post(`${base}/api/v1/alarms/999/ack`), {
      status: 404,
      body: { error: "alarm 999 does not exist" },
    });
    assert.deepEqual(await post(`${base}/api/v1/alarms/${low.id}/ack`, "{by"), {
      status: 400,
      body: { error: 'body: not JSON ("{by")' },
    });
    assert.equal((await post(`${base}/api/v1/alarms/${low.id}/ack`, '{"by": 5}')).status, 400);
    assert.deepEqual(await post(`${base}/api/v1/alarms/${low.id}/ack`, "x".repeat(5000)), {
      status: 413,
      body: { error: "body: 5000 bytes exceeds the limit of 4096" },
    });
    alarms.clear(low.id, at);
    assert.deepEqual(await post(`${base}/api/v1/alarms/${low.id}/ack`), {
      status: 409,
      body: { error: `alarm ${low.id} is already cleared` },
    });
    const wrongMethod = await fetch(`${base}/api/v1/alarms/${low.id}/ack`, { headers: auth });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get("allow"), "POST");
    await wrongMethod.body?.cancel();
  });
});

Deno.test("/api/v1/stream sends a snapshot, then the sites that changed and alarm changes", async () => {
  const alarms = new MemoryAlarmBook();
  const siteId = uniqueSiteId("http-stream");
  await withHttpBackend({ apiToken: TOKEN, alarms }, async ({ base, publisher, service }) => {
    const topic = `kasi/v1/sites/${siteId}/telemetry`;
    await publisher.publishAsync(topic, v1Telemetry(siteId, { load_w: 400 }), { qos: 1 });
    await waitFor("the site", () => service.stats().stored === 1);
    const response = await fetch(`${base}/api/v1/stream`, { headers: auth });
    assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    const nextEvent = async (): Promise<{ event: string; data: unknown }> => {
      while (true) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) return { event, data: JSON.parse(data) };
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        buffer += value;
      }
    };
    try {
      const snapshot = await nextEvent();
      assert.equal(snapshot.event, "snapshot");
      const sites = snapshot.data as { siteId: string; latest: { loadW: number } }[];
      assert.deepEqual(sites.map((s) => [s.siteId, s.latest.loadW]), [[siteId, 400]]);

      await publisher.publishAsync(topic, v1Telemetry(siteId, { load_w: 650 }), { qos: 1 });
      let update = await nextEvent();
      while (update.event !== "sites") update = await nextEvent();
      const changed = update.data as { siteId: string; latest: { loadW: number } }[];
      assert.deepEqual(changed.map((s) => [s.siteId, s.latest.loadW]), [[siteId, 650]]);

      const raised = alarms.raise(siteId, "low-fuel", { message: "Fuel low", at: new Date() });
      let alarm = await nextEvent();
      while (alarm.event !== "alarm") alarm = await nextEvent();
      assert.deepEqual(alarm.data, raised);
    } finally {
      await reader.cancel();
    }
  });
});

Deno.test("/readyz answers 503 naming MQTT when the broker is gone", async () => {
  await withHttpBackend({ apiToken: TOKEN }, async ({ base, stopBroker }) => {
    await stopBroker();
    const down = await waitFor("readyz 503", async () => {
      const r = await get(`${base}/readyz`, {});
      return r.status === 503 ? r.body : undefined;
    });
    assert.deepEqual(down, {
      status: "not ready",
      mqtt: "down",
      database: "up",
      error: "mqtt not connected",
    });
  }, { stopTimeoutMs: 500 });
});

Deno.test("/telemetry?step= averages each bucket, keeps the most frequent source and any generator run", async () => {
  const siteId = uniqueSiteId("http-step");
  const t0 = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 120_000);
  const at = (s: number) => new Date(t0.getTime() + s * 1000).toISOString();
  await withHttpBackend({ apiToken: TOKEN }, async ({ service, base, publisher }) => {
    const topic = `kasi/v1/sites/${siteId}/telemetry`;
    const rows = [
      { ts: at(0), load_w: 300, soc_pct: 80 },
      { ts: at(10), load_w: 400, soc_pct: 79 },
      { ts: at(20), load_w: 650, soc_pct: 78, source: "generator", gen_running: true, gen_w: 900 },
    ];
    for (const r of rows) await publisher.publishAsync(topic, v1Telemetry(siteId, r), { qos: 1 });
    await waitFor("3 rows stored", () => service.stats().stored === 3);
    const url = `${base}/api/v1/sites/${siteId}/telemetry?from=${at(0)}&to=${at(40)}&step=20`;
    const r = await get(url);
    assert.equal(r.status, 200);
    assert.equal(r.body.stepS, 20);
    // [t0, t0+20 s): the rows at 0 and 10 s; [t0+20 s, t0+40 s): the generator row.
    assert.deepEqual(
      r.body.buckets.map((
        b: { time: string; samples: number; loadW: number; socPct: number; source: string },
      ) => [b.time, b.samples, b.loadW, b.socPct, b.source]),
      [[at(0), 2, 350, 79.5, "battery"], [at(20), 1, 650, 78, "generator"]],
    );
    assert.deepEqual(
      r.body.buckets.map((b: { genRunning: boolean; genW: number }) => [b.genRunning, b.genW]),
      [[false, null], [true, 900]], // the battery rows report no gen_w
    );
    const columns = await get(`${url}&format=columns`);
    assert.deepEqual(columns.body.columns.samples, [2, 1]);
    assert.deepEqual(columns.body.columns.time, [t0.getTime(), t0.getTime() + 20_000]);
    const bad = await get(`${base}/api/v1/sites/${siteId}/telemetry?step=5`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'step: "5" must be a whole number of seconds from 10 to 86400');
  });
});
