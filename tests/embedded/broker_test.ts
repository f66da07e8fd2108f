import assert from "node:assert/strict";
import mqtt from "mqtt";
import { KasiError } from "../../src/core/errors.ts";
import { MemoryLogger } from "../../src/core/log.ts";
import { startEmbeddedBroker } from "../../src/embedded/broker.ts";

const CLIENT_OPTIONS = { reconnectPeriod: 0, connectTimeout: 2_000 } as const;

interface Received {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

/** The next message on `client`, or a rejection after `timeoutMs`. */
function nextMessage(client: mqtt.MqttClient, timeoutMs = 2_000): Promise<Received> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("message", onMessage);
      reject(new Error(`no message within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (topic: string, payload: Uint8Array, packet: mqtt.IPublishPacket) => {
      clearTimeout(timer);
      client.off("message", onMessage);
      resolve({
        topic,
        payload: new TextDecoder().decode(payload),
        qos: packet.qos,
        retain: packet.retain,
      });
    };
    client.on("message", onMessage);
  });
}

Deno.test("startEmbeddedBroker() on port 0 returns the url of the port the OS chose", async () => {
  const log = new MemoryLogger();
  const broker = await startEmbeddedBroker({ port: 0, log });
  try {
    const url = new URL(broker.url);
    assert.equal(url.protocol, "mqtt:");
    assert.equal(url.hostname, "127.0.0.1");
    assert.ok(Number(url.port) > 0, `expected a real port in ${broker.url}`);
    assert.ok(log.entries.some((e) => e.msg === "embedded MQTT broker listening"));
  } finally {
    await broker.close();
  }
});

Deno.test("startEmbeddedBroker() delivers a retained message to a later subscriber", async () => {
  const broker = await startEmbeddedBroker({ port: 0 });
  const publisher = await mqtt.connectAsync(broker.url, CLIENT_OPTIONS);
  const subscriber = await mqtt.connectAsync(broker.url, CLIENT_OPTIONS);
  try {
    await publisher.publishAsync("kasi/v1/sites/s1/status", "online", { qos: 1, retain: true });
    const message = nextMessage(subscriber);
    await subscriber.subscribeAsync("kasi/v1/sites/+/status", { qos: 1 });
    const got = await message;
    assert.deepEqual(got, {
      topic: "kasi/v1/sites/s1/status",
      payload: "online",
      qos: 1,
      // MQTT 3.1.1 §3.3.1.3: a message sent because of a new subscription has RETAIN set.
      retain: true,
    });
  } finally {
    await publisher.endAsync();
    await subscriber.endAsync();
    await broker.close();
  }
});

Deno.test("startEmbeddedBroker() keeps QoS 1 messages for an offline persistent session", async () => {
  const broker = await startEmbeddedBroker({ port: 0 });
  const session = { ...CLIENT_OPTIONS, clientId: "kasi-qos1-test", clean: false };
  const device = await mqtt.connectAsync(broker.url, session);
  await device.subscribeAsync("kasi/v1/sites/s1/command", { qos: 1 });
  await device.endAsync();
  const backend = await mqtt.connectAsync(broker.url, CLIENT_OPTIONS);
  let again: mqtt.MqttClient | undefined;
  try {
    // Not retained: only the stored session can bring it to the device (MQTT 3.1.1 §3.1.2.4).
    await backend.publishAsync("kasi/v1/sites/s1/command", "cmd-1", { qos: 1 });
    again = mqtt.connect(broker.url, session);
    const got = await nextMessage(again);
    assert.deepEqual(got, {
      topic: "kasi/v1/sites/s1/command",
      payload: "cmd-1",
      qos: 1,
      retain: false,
    });
  } finally {
    await again?.endAsync();
    await backend.endAsync();
    await broker.close();
  }
});

Deno.test("startEmbeddedBroker() publishes a retained last will when a client drops", async () => {
  const broker = await startEmbeddedBroker({ port: 0 });
  const will = {
    topic: "kasi/v1/sites/s2/status",
    payload: "offline",
    qos: 1 as const,
    retain: true,
  };
  const device = await mqtt.connectAsync(broker.url, { ...CLIENT_OPTIONS, will });
  const watcher = await mqtt.connectAsync(broker.url, CLIENT_OPTIONS);
  let late: mqtt.MqttClient | undefined;
  try {
    await watcher.subscribeAsync("kasi/v1/sites/s2/status", { qos: 1 });
    const live = nextMessage(watcher);
    // end(true) destroys the socket without DISCONNECT, which is when the will is sent.
    await device.endAsync(true);
    assert.deepEqual(await live, {
      topic: "kasi/v1/sites/s2/status",
      payload: "offline",
      qos: 1,
      retain: false, // forwarded live, not because of a new subscription
    });
    late = await mqtt.connectAsync(broker.url, CLIENT_OPTIONS);
    const retained = nextMessage(late);
    await late.subscribeAsync("kasi/v1/sites/s2/status", { qos: 1 });
    assert.deepEqual(await retained, { ...(await live), retain: true });
  } finally {
    await late?.endAsync();
    await watcher.endAsync();
    await broker.close();
  }
});

Deno.test("startEmbeddedBroker() throws PORT_IN_USE naming the port and the flag", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = taken.addr.port;
  try {
    await assert.rejects(
      () => startEmbeddedBroker({ port }),
      (error: unknown) => {
        assert.ok(error instanceof KasiError);
        assert.equal(error.code, "PORT_IN_USE");
        assert.equal(
          error.message,
          `MQTT port ${port} on 127.0.0.1 is already in use; pass --mqtt-port to choose another`,
        );
        return true;
      },
    );
    await assert.rejects(
      () => startEmbeddedBroker({ port, flagHint: "--broker-port" }),
      (error: unknown) => error instanceof KasiError && error.message.includes("--broker-port"),
    );
  } finally {
    taken.close();
  }
});

Deno.test("startEmbeddedBroker() rejects a port number outside 0-65535 naming the value", async () => {
  await assert.rejects(
    () => startEmbeddedBroker({ port: 70_000 }),
    (error: unknown) =>
      error instanceof KasiError && error.code === "CONFIG_INVALID" &&
      error.message === "--mqtt-port: must be an integer from 0 to 65535 (got 70000)",
  );
});

Deno.test("close() disconnects clients, frees the port, and may be called twice", async () => {
  const broker = await startEmbeddedBroker({ port: 0 });
  const port = Number(new URL(broker.url).port);
  const client = await mqtt.connectAsync(broker.url, CLIENT_OPTIONS);
  const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
  await Promise.all([broker.close(), broker.close()]);
  await closed;
  await client.endAsync();
  // The same port can be bound again once close() has resolved.
  const again = await startEmbeddedBroker({ port });
  assert.equal(again.url, broker.url);
  await again.close();
});
