/** The HTTP API on the backend's own alarm engine (not a test book): telemetry in, alarm out. */
import assert from "node:assert/strict";
import { uniqueSiteId } from "../../_helpers/mqtt.ts";
import { v1Telemetry, waitFor } from "../harness.ts";
import { parseMetrics, withHttpBackend } from "./http_harness.ts";

const TOKEN = "test-token-alarm-engine";
const auth = { authorization: `Bearer ${TOKEN}` };

Deno.test("/api/v1/alarms serves the engine's low-fuel alarm, acknowledges it, and /metrics counts it", async () => {
  const siteId = uniqueSiteId("http-alarm");
  const at = (s: number) => new Date(Date.now() - 60_000 + s * 1000).toISOString();
  await withHttpBackend({ apiToken: TOKEN }, async ({ service, base, publisher }) => {
    // Three readings at 5 % of the default 200 L tank: the rule's three-sample debounce.
    for (let i = 0; i < 3; i++) {
      await publisher.publishAsync(
        `kasi/v1/sites/${siteId}/telemetry`,
        v1Telemetry(siteId, { ts: at(i * 10), seq: i + 1, fuel_pct: 5 }),
        { qos: 1 },
      );
    }
    await waitFor("the alarm raised", () => service.alarms().openCounts().get(siteId) === 1);

    const listed = await fetch(`${base}/api/v1/alarms?state=open&site=${siteId}`, {
      headers: auth,
    });
    assert.equal(listed.status, 200);
    const { alarms } = await listed.json();
    assert.equal(alarms.length, 1);
    assert.equal(alarms[0].kind, "low-fuel");
    assert.equal(alarms[0].state, "raised");
    assert.equal(alarms[0].values.fuelL, 10);

    const acked = await fetch(`${base}/api/v1/alarms/${alarms[0].id}/ack`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ by: "night-shift" }),
    });
    assert.equal(acked.status, 200);
    const body = await acked.json();
    assert.equal(body.alarm.state, "acknowledged");
    assert.equal(body.alarm.acknowledgedBy, "night-shift");

    const m = parseMetrics(await (await fetch(`${base}/metrics`)).text());
    assert.equal(m.get("kasi_alarms_open"), 1, "acknowledged is still open");
    assert.equal((await fetch(`${base}/api/v1/alarms`)).status, 401);
  });
});
