/** Shared setup of the backend integration tests: real Mosquitto, real PostgreSQL. */
import mqtt from "mqtt";
import type postgres from "postgres";
import { type BackendOptions, BackendService } from "../../src/backend/service.ts";
import { MemoryLogger } from "../../src/core/log.ts";
import { runMigrations } from "../../src/db/migrate.ts";
import { TEST_MQTT_URL } from "../_helpers/mqtt.ts";
import { withTempDatabase } from "../_helpers/pg.ts";

export interface Started {
  service: BackendService;
  log: MemoryLogger;
}

/** A backend on `url` with test-friendly defaults: unique client id, no broker session kept. */
export async function startBackend(
  url: string,
  options: Partial<BackendOptions> = {},
): Promise<Started> {
  const log = new MemoryLogger();
  const service = new BackendService({
    mqttUrl: TEST_MQTT_URL,
    databaseUrl: url,
    commandIntervalS: 60,
    // Tests never reach the internet: a site with a location and no OpenWeatherMap key would
    // ask Open-Meteo, here a port nothing listens on (refused at once → climatology).
    weather: { openMeteoUrl: "http://127.0.0.1:9" },
    log,
    clientId: `kasi-backend-test-${crypto.randomUUID().slice(0, 8)}`,
    sessionExpiryS: 0,
    batch: { maxBatch: 1000, maxDelayMs: 20 },
    dbMax: 2,
    ...options,
  });
  await service.start();
  return { service, log };
}

/** A migrated temporary database and a backend on it, stopped and dropped after `fn`. */
export async function withBackend(
  fn: (ctx: Started & { url: string; sql: postgres.Sql }) => Promise<void>,
  options: Partial<BackendOptions> = {},
): Promise<void> {
  await withTempDatabase(async (url, sql) => {
    await runMigrations(sql);
    const started = await startBackend(url, options);
    try {
      await fn({ ...started, url, sql });
    } finally {
      await started.service.stop();
    }
  });
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 5000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (true) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A client that records what arrives on `topic`. */
export async function listen(topic: string): Promise<{
  messages: Received[];
  client: mqtt.MqttClient;
  close: () => Promise<void>;
}> {
  const client = await mqtt.connectAsync(TEST_MQTT_URL, {
    clientId: `kasi-test-listener-${crypto.randomUUID().slice(0, 8)}`,
    reconnectPeriod: 0,
  });
  const messages: Received[] = [];
  client.on("message", (t, payload, packet) => {
    messages.push({ topic: t, payload: payload.toString(), retain: packet.retain });
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return { messages, client, close: () => client.endAsync() };
}

/** A publisher client (mqtt.js). */
export async function publisher(): Promise<mqtt.MqttClient> {
  return await mqtt.connectAsync(TEST_MQTT_URL, {
    clientId: `kasi-test-pub-${crypto.randomUUID().slice(0, 8)}`,
    reconnectPeriod: 0,
  });
}

/**
 * Ends the broker session of `clientId`, so the broker stops queueing for it: connects with
 * Clean Start and a Session Expiry of 0 (MQTT 5 §3.1.2.4, §3.1.2.11.2), then disconnects.
 */
export async function endSession(clientId: string): Promise<void> {
  const client = await mqtt.connectAsync(TEST_MQTT_URL, {
    clientId,
    protocolVersion: 5,
    clean: true,
    properties: { sessionExpiryInterval: 0 },
    reconnectPeriod: 0,
  });
  await client.endAsync();
}

/**
 * Whether the broker holds a session for `clientId`: resumes it (Clean Start off) and reads
 * Session Present from the CONNACK (MQTT 5 §3.2.2.1.1). Leaves none behind: the expiry is 0.
 */
export async function hasSession(clientId: string): Promise<boolean> {
  const client = mqtt.connect(TEST_MQTT_URL, {
    clientId,
    protocolVersion: 5,
    clean: false,
    properties: { sessionExpiryInterval: 0 },
    reconnectPeriod: 0,
  });
  try {
    return await new Promise<boolean>((resolve, reject) => {
      client.once("connect", (connack) => resolve(connack.sessionPresent));
      client.once("error", reject);
    });
  } finally {
    await client.endAsync();
  }
}

/** Removes a retained message so later runs start clean (an empty retained payload clears it). */
export async function clearRetained(topic: string): Promise<void> {
  const client = await publisher();
  try {
    await client.publishAsync(topic, "", { qos: 1, retain: true });
  } finally {
    await client.endAsync();
  }
}

/** A v1 telemetry payload with plausible values; override what the test is about. */
export function v1Telemetry(siteId: string, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    v: 1,
    site_id: siteId,
    ts: new Date(Date.now() - 1000).toISOString(),
    seq: 1,
    source: "battery",
    battery_v: 52.0,
    soc_pct: 80,
    load_w: 400,
    pv_w: 0,
    gen_running: false,
    fuel_pct: 50,
    ...overrides,
  });
}
