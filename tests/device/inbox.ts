/** Test helper: a subscriber on the real broker that collects messages and waits for one. */
import mqtt, { type MqttClient } from "mqtt";

export interface Received {
  topic: string;
  text: string;
  retain: boolean;
}

export class Inbox {
  readonly messages: Received[] = [];
  #waiters: { match: (m: Received) => boolean; resolve: (m: Received) => void }[] = [];

  private constructor(readonly client: MqttClient) {
    client.on("message", (topic, payload, packet) => {
      const m = { topic, text: new TextDecoder().decode(payload), retain: packet.retain };
      this.messages.push(m);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.match(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }

  static async open(url: string, topic: string): Promise<Inbox> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    const inbox = new Inbox(client);
    await client.subscribeAsync(topic, { qos: 1 });
    return inbox;
  }

  /** The first message (already received or still to come) that matches, or a timeout error. */
  waitFor(
    what: string,
    match: (m: Received) => boolean,
    timeoutMs = 3000,
  ): Promise<Received> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = (m: Received) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.#waiters.push({ match, resolve: done });
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

/** Clears retained messages on `topics` (an empty retained payload deletes one). */
export async function clearRetained(url: string, topics: string[]): Promise<void> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  for (const topic of topics) await client.publishAsync(topic, "", { qos: 1, retain: true });
  await client.endAsync();
}
