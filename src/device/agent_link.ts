/**
 * The agent's MQTT side (src/device/agent.ts): the connection with its retained last will, the
 * `online` status and profile announcement on every connect, the command subscription, and
 * publish-or-queue, so the control loop never waits on the link. While offline, telemetry and
 * events go to a bounded queue (src/device/offline_queue.ts) flushed on reconnect.
 */
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { Logger } from "../core/log.ts";
import { profileToWire, type SiteProfile } from "../core/site_profile.ts";
import { v1Topic } from "../core/topics.ts";
import { OfflineQueue } from "./offline_queue.ts";

export interface AgentLinkOptions {
  siteId: string;
  mqttUrl: string;
  profile: SiteProfile;
  log: Logger;
  clock: () => Date;
  mqttOptions?: IClientOptions;
  offlineQueueLimit?: number;
  /** Every payload on the site's command topic; a throw is logged, never stops the link. */
  onCommand: (payload: Uint8Array) => void;
}

export class AgentLink {
  readonly #o: AgentLinkOptions;
  readonly #queue: OfflineQueue;
  #client: MqttClient | null = null;
  #subscribed = false;
  #offlineWarned = false;
  #everConnected = false;

  constructor(options: AgentLinkOptions) {
    this.#o = options;
    this.#queue = new OfflineQueue(options.offlineQueueLimit);
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  get queued(): number {
    return this.#queue.size;
  }

  get dropped(): number {
    return this.#queue.dropped;
  }

  /** Starts connecting (and reconnecting); returns at once. */
  connect(): void {
    const { siteId, log } = this.#o;
    const client = mqtt.connect(this.#o.mqttUrl, {
      clientId: `kasi-device-${siteId}-${crypto.randomUUID().slice(0, 8)}`,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      will: { topic: v1Topic(siteId, "status"), payload: "offline", qos: 1, retain: true },
      ...this.#o.mqttOptions,
    });
    this.#client = client;
    client.on("connect", () => this.#onConnect(client));
    // One warning per outage; the retries in between are debug noise.
    client.on("offline", () => {
      if (!this.#offlineWarned) log.warn("broker unreachable: working offline, queueing telemetry");
      this.#offlineWarned = true;
    });
    client.on("error", (error) => {
      if (this.#offlineWarned) log.debug("mqtt error", { error: error.message });
      else log.warn("mqtt error", { error: error.message });
    });
    client.on("message", (topic, payload) => {
      try {
        if (topic === v1Topic(siteId, "command")) this.#o.onCommand(payload);
      } catch (error) {
        log.error("could not handle a message", { topic, error });
      }
    });
  }

  /** Publishes `offline` (retained) when connected, then closes. */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    if (!client) return;
    if (client.connected) {
      try {
        await client.publishAsync(v1Topic(this.#o.siteId, "status"), "offline", {
          qos: 1,
          retain: true,
        });
      } catch (error) {
        this.#o.log.warn("could not publish status offline", { error });
      }
    }
    await client.endAsync(!client.connected);
  }

  /** Publishes now when connected, else queues; never blocks the control loop. */
  publish(topic: string, payload: string): void {
    const client = this.#client;
    if (client?.connected) {
      client.publish(topic, payload, { qos: 1, retain: false }, (error) => {
        if (error) this.#o.log.warn("publish failed", { topic, error: error.message });
      });
    } else {
      this.#queue.push({ topic, payload, qos: 1, retain: false });
    }
  }

  #onConnect(client: MqttClient) {
    const { siteId, log } = this.#o;
    this.#offlineWarned = false;
    log.info("connected to the broker", { mqttUrl: this.#o.mqttUrl });
    client.publish(v1Topic(siteId, "status"), "online", { qos: 1, retain: true });
    // Announce the equipment so the backend predicts with this site's battery, tank and set.
    const announcement = {
      ts: this.#o.clock().toISOString(),
      kind: "profile",
      profile: profileToWire(this.#o.profile),
    };
    client.publish(v1Topic(siteId, "event"), JSON.stringify(announcement), { qos: 1 });
    // mqtt.js re-subscribes by itself after a reconnect; subscribe only until it succeeded once.
    if (!this.#subscribed) {
      client.subscribe(v1Topic(siteId, "command"), { qos: 1 }, (error) => {
        if (error) log.error("could not subscribe to commands", { error });
        else this.#subscribed = true;
      });
    }
    const queued = this.#queue.drain();
    // The first tick runs before the first connection; only a real outage is worth an info line.
    if (queued.length > 0) {
      const fields = { messages: queued.length, dropped: this.#queue.dropped };
      if (this.#everConnected) log.info("flushing telemetry queued while offline", fields);
      else log.debug("flushing telemetry queued before the first connection", fields);
    }
    this.#everConnected = true;
    for (const m of queued) client.publish(m.topic, m.payload, { qos: m.qos, retain: m.retain });
  }
}
