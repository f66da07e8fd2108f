/**
 * Publishes a replay to the broker with a bounded window of unacknowledged QoS 1 messages: as
 * fast as the broker acknowledges, never an unbounded buffer. A message counts as published
 * when its PUBACK arrives (QoS 1) or when it is written (QoS 0).
 */
import { Buffer } from "node:buffer";
import mqtt from "mqtt";
import { KasiError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";

export interface PublisherStats {
  /** Handed to the client. */
  sent: number;
  /** Acknowledged by the broker (or written, for QoS 0). */
  published: number;
  failed: number;
}

/** In-flight QoS 1 messages; a broker acknowledges each in well under a millisecond. */
export const DEFAULT_WINDOW = 500;
const CONNECT_TIMEOUT_MS = 5000;

export class WindowedPublisher {
  readonly #client: mqtt.MqttClient;
  readonly #window: number;
  readonly #log: Logger;
  #inFlight = 0;
  #waiters: (() => void)[] = [];
  readonly stats: PublisherStats = { sent: 0, published: 0, failed: 0 };

  private constructor(client: mqtt.MqttClient, window: number, log: Logger) {
    this.#client = client;
    this.#window = window;
    this.#log = log;
  }

  static async connect(
    url: string,
    options: { clientId: string; log: Logger; window?: number },
  ): Promise<WindowedPublisher> {
    let client: mqtt.MqttClient;
    try {
      client = await mqtt.connectAsync(url, {
        clientId: options.clientId,
        connectTimeout: CONNECT_TIMEOUT_MS,
        reconnectPeriod: 1000,
      }, false);
    } catch (error) {
      throw new KasiError(
        "BROKER_UNAVAILABLE",
        `Cannot connect to the MQTT broker at ${url}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    client.on("offline", () => options.log.warn("broker connection lost; reconnecting"));
    client.on("error", (error) => options.log.debug("mqtt error", { error: error.message }));
    return new WindowedPublisher(client, options.window ?? DEFAULT_WINDOW, options.log);
  }

  /** Hands one message to the client; resolves when the window has room for the next. */
  publish(topic: string, payload: Uint8Array, options: { qos: 0 | 1; retain: boolean }) {
    this.stats.sent++;
    this.#inFlight++;
    const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    this.#client.publish(topic, bytes, options, (error) => {
      this.#inFlight--;
      if (error) {
        this.stats.failed++;
        this.#log.warn("publish failed", { topic, error: error.message });
      } else {
        this.stats.published++;
      }
      while (this.#waiters.length > 0 && this.#inFlight < this.#window) this.#waiters.shift()!();
    });
    if (this.#inFlight < this.#window) return Promise.resolve();
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Waits until every message is acknowledged, or `timeoutMs` passed; returns how many are not. */
  async flush(timeoutMs: number): Promise<number> {
    const until = Date.now() + timeoutMs;
    while (this.#inFlight > 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.#inFlight;
  }

  async close(): Promise<void> {
    await this.#client.endAsync(this.#inFlight > 0).catch(() => this.#client.end(true));
  }
}
