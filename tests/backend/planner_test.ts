import assert from "node:assert/strict";
import { decodeCommandV1 } from "../../src/core/command.ts";
import type { SiteProfile } from "../../src/core/site_profile.ts";
import { v1Topic } from "../../src/core/topics.ts";
import { saveSiteProfile } from "../../src/db/store.ts";
import { uniqueSiteId } from "../_helpers/mqtt.ts";
import { runMigrations } from "../../src/db/migrate.ts";
import { withTempDatabase } from "../_helpers/pg.ts";
import {
  clearRetained,
  listen,
  publisher,
  startBackend,
  v1Telemetry,
  waitFor,
  withBackend,
} from "./harness.ts";

const DOC_EXAMPLE = new URL(
  "../../../shared/data/payloads/owm-2.5-forecast-doc-example.json",
  import.meta.url,
);

Deno.test("BackendService sends a command on change or when the interval is up, not per message", async () => {
  const siteId = uniqueSiteId("it-interval");
  const topic = v1Topic(siteId, "telemetry");
  let offsetMs = 0;
  const now = () => new Date(Date.now() + offsetMs);
  const pub = await publisher();
  try {
    await withBackend(async ({ sql, service }) => {
      const advisedSocPct = () =>
        service.sites().find((v) => v.siteId === siteId)?.prediction?.socPct;
      const commandCount = async () =>
        Number((await sql`select count(*) as n from commands where site_id = ${siteId}`)[0]!.n);
      const send = async (overrides: Record<string, unknown>) => {
        const ts = new Date(now().getTime() - 1000).toISOString();
        await pub.publishAsync(topic, v1Telemetry(siteId, { ts, ...overrides }), { qos: 1 });
        await waitFor(
          `the row at ${ts}`,
          async () =>
            (await sql`select 1 from telemetry where site_id = ${siteId} and time = ${ts}`)
              .length === 1,
        );
      };
      await send({});
      await waitFor("the first command", async () => (await commandCount()) === 1);

      // Same readings 10 s later: same advice, interval (60 s) not up → no command.
      offsetMs += 10_000;
      await send({});
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(await commandCount(), 1);

      // 61 s after the first: the interval is up → a command with the same advice.
      offsetMs += 51_000;
      await send({});
      await waitFor("the interval command", async () => (await commandCount()) === 2);

      // 5 s later, SoC 80 → 30 %: battery (30 − 20) % · 9600 Wh / 400 W = 2.4 h < 6 h →
      // conservative: the advice changed, so it goes out before the interval. A BMS SoC is
      // taken as ± 5 points: 25..35 % gives 1.2..3.6 h, and the median lies in that band.
      offsetMs += 5000;
      await send({ soc_pct: 30 });
      await waitFor("the changed command", async () => (await commandCount()) === 3);
      const [last] = await sql`
        select payload::text as text from commands where site_id = ${siteId} and seq = 3`;
      const decoded = decodeCommandV1(last!.text);
      assert.ok(decoded.ok, decoded.ok ? "" : decoded.reason);
      assert.equal(decoded.command.mode, "conservative");
      const hours = decoded.command.predictedBatteryH;
      assert.ok(hours > 1.2 && hours < 3.6, `${hours}`);

      // 1 s later the advice changes again (SoC 30 → 80 %: normal), but the last command is
      // under MIN_EARLY_COMMAND_GAP_MS (5 s) old → held back; 5 s after it, it goes out.
      offsetMs += 1000;
      await send({ soc_pct: 80 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(await commandCount(), 3);
      // Nor is the advice computed again within those 5 s: it is still the one on 30 %.
      assert.equal(advisedSocPct(), 30);
      offsetMs += 4000;
      await send({ soc_pct: 80 });
      await waitFor("the held-back command", async () => (await commandCount()) === 4);
      assert.equal(advisedSocPct(), 80);
    }, { commandIntervalS: 60, now });
  } finally {
    await pub.endAsync();
    await clearRetained(v1Topic(siteId, "command"));
  }
});

Deno.test("BackendService plans with the forecast at the site's stored location", async () => {
  const siteId = uniqueSiteId("it-weather");
  // The documented example, moved in time so its first step starts now: the next 24 h hold the
  // 100, 96 and 68 % steps → mean 88 % ≥ 75 % → cloudy.
  const example = JSON.parse(await Deno.readTextFile(DOC_EXAMPLE));
  const shiftS = Math.floor(Date.now() / 1000) - example.list[0].dt;
  for (const item of example.list) item.dt += shiftS;
  const seen: URL[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    seen.push(new URL(req.url));
    return Response.json(example);
  });
  const listener = await listen(v1Topic(siteId, "command"));
  const pub = await publisher();
  try {
    await withBackendAndProfile(siteId, `http://127.0.0.1:${server.addr.port}`, async () => {
      await pub.publishAsync(v1Topic(siteId, "telemetry"), v1Telemetry(siteId), { qos: 1 });
      const message = await waitFor("the command", () => listener.messages[0]);
      const decoded = decodeCommandV1(message.payload);
      assert.ok(decoded.ok, decoded.ok ? "" : decoded.reason);
      assert.equal(decoded.command.forecast, "cloudy");
      assert.equal(decoded.command.mode, "conservative");
      // Conservative 50/95; the profile's reserve 30 % is below 50 → start 50.
      assert.equal(decoded.command.genStartSocPct, 50);
      assert.equal(decoded.command.genStopSocPct, 95);
      assert.equal(decoded.command.reserveSocPct, 30);
      assert.match(decoded.command.reason, /mean cloud cover 88 %/);
      // Kano, 12.0° N 8.52° E, asked on the 0.1° grid: 12, 8.5.
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.searchParams.get("lat"), "12");
      assert.equal(seen[0]!.searchParams.get("lon"), "8.5");
      assert.equal(seen[0]!.searchParams.get("appid"), "test-key");
    });
  } finally {
    await pub.endAsync();
    await listener.close();
    await server.shutdown();
    await clearRetained(v1Topic(siteId, "command"));
  }
});

/** A backend whose database already holds an operator's profile for `siteId`. */
async function withBackendAndProfile(
  siteId: string,
  weatherUrl: string,
  fn: () => Promise<void>,
): Promise<void> {
  const profile: SiteProfile = {
    siteId,
    name: "Kano clinic",
    chemistry: "lifepo4",
    nominalV: 48,
    capacityWh: 15_000,
    reserveSocPct: 30,
    tankL: 300,
    generatorRatedKw: 8,
    pvKwp: 5,
    latitude: 12.0,
    longitude: 8.52,
    timeZone: "Africa/Lagos",
  };
  await withTempDatabase(async (url, sql) => {
    await runMigrations(sql);
    await saveSiteProfile(sql, profile);
    const { service } = await startBackend(url, {
      weather: { apiKey: "test-key", baseUrl: weatherUrl },
    });
    try {
      await fn();
    } finally {
      await service.stop();
    }
  });
}
