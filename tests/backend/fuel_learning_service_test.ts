/** The backend learns each site's fuel curve from its gauge history and plans with it. */
import assert from "node:assert/strict";
import { v1Topic } from "../../src/core/topics.ts";
import { insertTelemetry } from "../../src/db/store.ts";
import { uniqueSiteId } from "../_helpers/mqtt.ts";
import { telemetryRecord } from "../db/fixtures.ts";
import { clearRetained, publisher, v1Telemetry, waitFor, withBackend } from "./harness.ts";

const HOUR_MS = 3_600_000;
const STEP_MS = 5 * 60_000;

Deno.test("BackendService learns a thirsty generator's curve and reports fuel lost while it stood", async () => {
  const siteId = uniqueSiteId("it-fuel");
  const pub = await publisher();
  try {
    await withBackend(async ({ sql, service, log }) => {
      // Default v1 profile: a 10 kW set and a 200 L tank. At full output the default curve
      // burns 0.0332·10 + 0.2728·10 = 3.06 L/h; this set burns twice that, 6.12 L/h = 3.06 %
      // of the tank an hour, for 22 h: 95 % → 95 − 22 · 3.06 = 27.68 %. Then it stands 3 h and
      // the level falls on to 20 %: 7.68 % = 15.4 L gone with the generator off.
      const end = Math.floor((Date.now() - HOUR_MS) / STEP_MS) * STEP_MS;
      const runStart = end - 25 * HOUR_MS;
      const rows = [];
      for (let t = runStart; t <= end; t += STEP_MS) {
        const h = (t - runStart) / HOUR_MS;
        const running = h <= 22;
        rows.push(telemetryRecord({
          siteId,
          time: new Date(t),
          source: running ? "generator" : "battery",
          genRunning: running,
          genW: running ? 10_000 : 0,
          loadW: 2000,
          fuelPct: running ? 95 - 3.06 * h : 27.68 - 7.68 * (h - 22) / 3,
          shedTier: 0,
        }));
      }
      await insertTelemetry(sql, rows);
      await pub.publishAsync(v1Topic(siteId, "telemetry"), v1Telemetry(siteId), { qos: 1 });
      const fuel = await waitFor(
        "the learned fuel curve",
        () => service.sites().find((v) => v.siteId === siteId)?.fuel ?? undefined,
      );
      // One load only: a scale on the default curve, not F0 and F1 apart.
      assert.equal(fuel.method, "scale");
      assert.ok(Math.abs(fuel.scale - 2) < 1e-6, `${fuel.scale}`);
      assert.ok(Math.abs(fuel.curve.f0LPerKwhRated - 2 * 0.0332) < 1e-6);
      assert.ok(Math.abs(fuel.curve.f1LPerKwhOut - 2 * 0.2728) < 1e-6);
      const warned = log.entries.filter((e) => e.msg.startsWith("fuel level fell with"));
      assert.equal(warned.length, 1);
      assert.equal(warned[0]!.fields.siteId, siteId);
      // Measured between the mean levels of the stop's first and last half hour: the off
      // samples run from 22 h 05 to 25 h; the first seven average 22 h 20 (level
      // 27.68 − 7.68 · 0.3333 / 3 = 26.827 %), the last seven 24 h 45 (20.640 %):
      // 6.187 % of 200 L = 12.37 L, logged at one decimal.
      assert.equal(warned[0]!.fields.droppedL, 12.4);
    });
  } finally {
    await pub.endAsync();
    await clearRetained(v1Topic(siteId, "command"));
  }
});
