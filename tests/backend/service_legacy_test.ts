import assert from "node:assert/strict";
import { legacyCommandTopic, legacyTelemetryTopic } from "../../src/core/topics.ts";
import { uniqueLegacySiteId } from "../_helpers/mqtt.ts";
import { listen, publisher, waitFor, withBackend } from "./harness.ts";

const CASES_FILE = new URL("../../../shared/cases/first-gen-telemetry.jsonl", import.meta.url);
const CASE_SITE = "00000000-0000-0000-0000-0000000000a1";
const OTHER_SITE = "00000000-0000-0000-0000-0000000000a2";

interface Case {
  name: string;
  topic: string;
  payload: string;
  expect: "stored" | "stored-once" | "rejected" | "not-1970" | "not-future";
}

/** The field each rejected case's reason must name. */
const REJECT_FIELDS: Record<string, string> = {
  "number sent as a string": "battery_voltage",
  "null value": "fuel_level_percent",
  "0xFFFF sensor sentinel": "fuel_level_percent",
  "negative load": "current_load_watts",
  "epoch milliseconds instead of RFC 3339": "timestamp_utc",
  "unknown source": "active_source",
  "site id disagrees with the topic": "site_id",
  "empty payload": "payload",
  "truncated JSON": "payload",
  "JSON that is not an object": "payload",
  "one megabyte payload": "payload",
};

async function mosquittoPub(topic: string, payload: string): Promise<void> {
  const out = await new Deno.Command("mosquitto_pub", {
    args: ["-h", "127.0.0.1", "-p", "1883", "-q", "1", "-t", topic, "-m", payload],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

Deno.test("BackendService answers a first-generation message from mosquitto_pub in the old format", async () => {
  const siteId = uniqueLegacySiteId();
  const listener = await listen(legacyCommandTopic(siteId));
  try {
    await withBackend(async ({ sql }) => {
      const payload = JSON.stringify({
        site_id: siteId,
        timestamp_utc: new Date(Date.now() - 5000).toISOString(),
        active_source: "Battery",
        battery_voltage: 12.5,
        is_generator_on: false,
        fuel_level_percent: 85.0,
        current_load_watts: 150.0,
      });
      await mosquittoPub(legacyTelemetryTopic(siteId), payload);

      const rows = await waitFor("the power_events row", async () => {
        const r = await sql`
          select time, voltage, fuel_level, load_watts, active_source
          from power_events where site_id = ${siteId}`;
        return r.length > 0 ? r : undefined;
      });
      assert.deepEqual(
        { ...rows[0], time: undefined },
        {
          time: undefined,
          voltage: 12.5,
          fuel_level: 85,
          load_watts: 150,
          active_source: "Battery",
        },
      );

      const message = await waitFor("the legacy command", () => listener.messages[0]);
      assert.equal(message.retain, false);
      const command = JSON.parse(message.payload);
      assert.deepEqual(Object.keys(command).sort(), [
        "mode",
        "predicted_battery_hours",
        "predicted_diesel_hours",
        "weather_forecast",
      ]);
      // The battery carries the 150 W load (no PV on first-generation sites): 12 A through
      // 1.296 mΩ, so 12.5 V rests at 12.5156 V → BCI 83.19 %, ± 9.4 points (10 mV a cell of
      // meter error, the sag's own error): (73.8 .. 92.6 − 50) % · 5000 Wh / 150 W = 7.9 .. 14.2 h.
      const hours = command.predicted_battery_hours;
      assert.ok(hours > 7.9 && hours < 14.2, `${hours}`);
      // The 5 kW set would run 2.1 h at 1.5 kW (0.5752 L/h) every 15.4 h: 80 L above the
      // reserve outlast the week → 168 h.
      assert.equal(command.predicted_diesel_hours, 168);
      assert.equal(command.mode, "Normal");
      assert.equal(command.weather_forecast, "Unknown");
    });
  } finally {
    await listener.close();
  }
});

Deno.test("BackendService handles every case of first-gen-telemetry.jsonl in order", async () => {
  const siteId = uniqueLegacySiteId();
  const otherId = uniqueLegacySiteId();
  const cases: Case[] = (await Deno.readTextFile(CASES_FILE))
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line))
    .map((c: Case) => ({
      ...c,
      topic: c.topic.replaceAll(CASE_SITE, siteId),
      payload: c.payload.replaceAll(CASE_SITE, siteId).replaceAll(OTHER_SITE, otherId),
    }));
  const topic = legacyTelemetryTopic(siteId);
  const pub = await publisher();
  try {
    await withBackend(async ({ sql }) => {
      for (const c of cases) {
        assert.equal(c.topic, topic);
        await pub.publishAsync(c.topic, c.payload, { qos: 1 });
      }
      const last = cases[cases.length - 1]!;
      assert.equal(last.expect, "stored");
      const lastTs = JSON.parse(last.payload).timestamp_utc;
      await waitFor(
        "the last good message",
        async () =>
          (await sql`select 1 from telemetry where site_id = ${siteId} and time = ${lastTs}`)
            .length > 0,
        10_000,
      );
      const rejectedCases = cases.filter((c) => c.expect === "rejected");
      const rejects = await waitFor("every reject row", async () => {
        const r = await sql`
          select reason, payload_bytes, truncated from rejected_messages
          where topic = ${topic} order by id`;
        return r.length >= rejectedCases.length ? r : undefined;
      });
      assert.equal(rejects.length, rejectedCases.length);

      let r = 0;
      for (const c of cases) {
        const ts = c.expect === "rejected" ? undefined : JSON.parse(c.payload).timestamp_utc;
        switch (c.expect) {
          case "stored":
          case "stored-once": {
            const rows = await sql`
              select clock_restamped from telemetry where site_id = ${siteId} and time = ${ts}`;
            assert.equal(rows.length, 1, c.name);
            assert.equal(rows[0]!.clock_restamped, false, c.name);
            break;
          }
          case "rejected": {
            const row = rejects[r++]!;
            const field = REJECT_FIELDS[c.name];
            assert.ok(field, `no expected field for "${c.name}"`);
            assert.ok(row.reason.startsWith(`${field}: `), `${c.name}: ${row.reason}`);
            const bytes = new TextEncoder().encode(c.payload).byteLength;
            assert.equal(row.payload_bytes, bytes, c.name);
            // Kept up to 64 KiB: only the one-megabyte payload is cut.
            assert.equal(row.truncated, bytes > 65_536, c.name);
            break;
          }
          case "not-1970":
          case "not-future": {
            const rows =
              await sql`select 1 from telemetry where site_id = ${siteId} and time = ${ts}`;
            assert.equal(rows.length, 0, `${c.name}: stored at ${ts}`);
            break;
          }
        }
      }
      // The wrong-clock messages are kept at their receive time, flagged. (Both may share a
      // millisecond of receive time and so one row: at least one is there.)
      const restamped = await sql`
        select time from telemetry where site_id = ${siteId} and clock_restamped`;
      assert.ok(restamped.length >= 1);
      for (const row of restamped) {
        assert.ok(Math.abs(row.time.getTime() - Date.now()) < 60_000);
      }
      // Nothing was written for the site named in the mismatching payload.
      assert.equal((await sql`select 1 from telemetry where site_id = ${otherId}`).length, 0);
    });
  } finally {
    await pub.endAsync();
  }
});
