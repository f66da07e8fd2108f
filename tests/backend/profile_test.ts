import assert from "node:assert/strict";
import { decodeCommandV1 } from "../../src/core/command.ts";
import { profileToWire, type SiteProfile } from "../../src/core/site_profile.ts";
import { v1Topic } from "../../src/core/topics.ts";
import { uniqueSiteId } from "../_helpers/mqtt.ts";
import { clearRetained, listen, publisher, v1Telemetry, waitFor, withBackend } from "./harness.ts";

function clinic(siteId: string): SiteProfile {
  return {
    siteId,
    name: "Clinic",
    chemistry: "lifepo4",
    nominalV: 24,
    capacityWh: 10_000,
    reserveSocPct: 20,
    tankL: 200,
    generatorRatedKw: 8,
    pvKwp: 0,
    latitude: 0,
    longitude: 0,
    timeZone: "Africa/Nairobi",
  };
}

Deno.test("BackendService predicts with the profile a device announces", async () => {
  const siteId = uniqueSiteId("it-profile");
  const listener = await listen(v1Topic(siteId, "command"));
  const pub = await publisher();
  try {
    await withBackend(async ({ sql }) => {
      const event = { kind: "profile", profile: profileToWire(clinic(siteId)) };
      await pub.publishAsync(v1Topic(siteId, "event"), JSON.stringify(event), { qos: 1 });
      await pub.publishAsync(
        v1Topic(siteId, "telemetry"),
        v1Telemetry(siteId, { battery_v: 26.4, soc_pct: 70, load_w: 500, fuel_pct: 50 }),
        { qos: 1 },
      );
      const message = await waitFor("the command", () => listener.messages[0]);
      const decoded = decodeCommandV1(message.payload);
      assert.ok(decoded.ok);
      // Announced 24 V 10 kWh, reserve 20 %: (70 − 20) % · 10,000 Wh / 500 W = 10 h; with the
      // BMS SoC's ± 5 points, 9..11 h. (The default v1 profile, 48 V 9.6 kWh: 9.6 h.)
      const hours = decoded.command.predictedBatteryH;
      assert.ok(hours > 9 && hours < 11, `${hours}`);
      // Diesel under the normal plan (start 40 %, stop 90 %): the 8 kW set runs at 500 W load +
      // 2000 W charging = 2.5 kW, 0.0332·8 + 0.2728·2.5 = 0.9476 L/h, for 5000 Wh / 1900 W =
      // 2.63 h (2.49 L) every 12.6 h: 90 L above the reserve outlast the week → 168 h.
      assert.equal(decoded.command.predictedDieselH, 168);
      const stored = await sql`select profile from sites where site_id = ${siteId}`;
      assert.equal(stored[0]!.profile.capacityWh, 10_000);
    });
  } finally {
    await pub.endAsync();
    await listener.close();
    await clearRetained(v1Topic(siteId, "command"));
  }
});

Deno.test("BackendService rejects a profile event with a bad field, naming it", async () => {
  const siteId = uniqueSiteId("it-profile-bad");
  const pub = await publisher();
  try {
    await withBackend(async ({ sql }) => {
      const wire = { ...profileToWire(clinic(siteId)), nominal_v: 36 };
      await pub.publishAsync(
        v1Topic(siteId, "event"),
        JSON.stringify({ kind: "profile", profile: wire }),
        { qos: 1 },
      );
      const rows = await waitFor("the reject", async () => {
        const r = await sql`select reason from rejected_messages
          where topic = ${v1Topic(siteId, "event")}`;
        return r.length > 0 ? r : undefined;
      });
      assert.match(rows[0]!.reason, /profile\.nominal_v/);
      assert.match(rows[0]!.reason, /36/);
      const sites = await sql`select profile from sites where site_id = ${siteId}`;
      assert.ok(sites.length === 0 || sites[0]!.profile === null);
    });
  } finally {
    await pub.endAsync();
  }
});
