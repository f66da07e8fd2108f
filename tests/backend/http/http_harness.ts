/** A backend with its HTTP server on a private broker and a temporary database. */
import mqtt from "mqtt";
import type postgres from "postgres";
import { startPrivateBroker } from "../../../bench/_mosquitto.ts";
import type { AlarmBook } from "../../../src/backend/alarm_book.ts";
import type { BackendOptions, BackendService } from "../../../src/backend/service.ts";
import { runMigrations } from "../../../src/db/migrate.ts";
import { withTempDatabase } from "../../_helpers/pg.ts";
import { startBackend } from "../harness.ts";

export interface HttpBackend {
  service: BackendService;
  /** http://127.0.0.1:PORT */
  base: string;
  brokerUrl: string;
  publisher: mqtt.MqttClient;
  sql: postgres.Sql;
  stopBroker: () => Promise<void>;
}

/**
 * A private Mosquitto, so the counters see only this test's messages (other runs share the
 * broker on 1883), a migrated temporary database, and a backend serving HTTP on a free port.
 */
export async function withHttpBackend(
  options: { apiToken?: string; alarms?: AlarmBook; allowTokenless?: boolean },
  fn: (ctx: HttpBackend) => Promise<void>,
  backend: Partial<BackendOptions> = {},
): Promise<void> {
  const broker = await startPrivateBroker();
  let brokerStopped = false;
  const stopBroker = async () => {
    if (brokerStopped) return;
    brokerStopped = true;
    await broker.stop();
  };
  try {
    await withTempDatabase(async (url, sql) => {
      await runMigrations(sql);
      const { service } = await startBackend(url, {
        mqttUrl: broker.url,
        http: { port: 0, hostname: "127.0.0.1", ...options, streamFlushMs: 100 },
        alarms: options.alarms,
        batch: { maxBatch: 1000, maxDelayMs: 5 },
        ...backend,
      });
      const publisher = await mqtt.connectAsync(broker.url, {
        clientId: `kasi-test-http-${crypto.randomUUID().slice(0, 8)}`,
        reconnectPeriod: 0,
      });
      try {
        await fn({
          service,
          base: `http://127.0.0.1:${service.httpPort()}`,
          brokerUrl: broker.url,
          publisher,
          sql,
          stopBroker,
        });
      } finally {
        await publisher.endAsync().catch(() => {});
        await service.stop();
      }
    });
  } finally {
    await stopBroker();
  }
}

/** Samples of a Prometheus text exposition: "name{labels}" → value. */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const value = m[2] === "+Inf" ? Infinity : m[2] === "NaN" ? NaN : Number(m[2]);
    samples.set(m[1]!, value);
  }
  return samples;
}
