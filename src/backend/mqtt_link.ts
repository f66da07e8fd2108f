/**
 * The backend's MQTT connection, with acknowledgements held back until the data is committed.
 *
 * Why not `customHandleAcks`: mqtt.js (v5.16, lib/client.js `connect()` → `work`) handles
 * incoming packets one at a time and moves to the next only after the current one's ack
 * callback. Holding the ack of one message until its batch commits would stop all reception,
 * so every batch would hold one message. Instead `handleMessage` — the documented hook mqtt.js
 * calls before it sends PUBACK — takes the message and answers with an error, which makes
 * mqtt.js go on to the next packet WITHOUT acknowledging (handlers/publish.js: `if (err) return
 * done(err)`). The PUBACK is written later by `ack()`: the 4-byte form of MQTT 5 §3.4.2.1
 * (reason Success, no properties), identical to the MQTT 3.1.1 one.
 *
 * The session is persistent (clean start off, a session expiry) with a fixed client id, so
 * messages that were received but not acknowledged when the backend died are redelivered when it
 * comes back. The broker sends at most Receive Maximum unacknowledged messages: the bound of
 * what the backend holds in memory when the database is slow or down.
 */
import mqtt from "mqtt";
import { KasiError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";

/** Tells mqtt.js not to acknowledge: the batch writer does, after COMMIT. */
const ACK_DEFERRED = new Error("acknowledged after commit");
/** A broker that has not answered by now is not coming. */
const CONNECT_TIMEOUT_MS = 5000;

export interface ReceivedMessage {
  topic: string;
  /** A copy: it outlives mqtt.js's parser buffers. */
  payload: Uint8Array;
  retain: boolean;
  /** Sends the PUBACK (QoS 1) if the connection it came on is still up; a no-op for QoS 0. */
  ack: () => void;
}

export interface LinkOptions {
  clientId: string;
  log: Logger;
  /** How long the broker keeps the session (and queues for it) while the backend is away. */
  sessionExpiryS: number;
  /** Unacknowledged messages the broker may send at once (1–65535). */
  receiveMaximum: number;
  onMessage: (message: ReceivedMessage) => void;
}

/** PUBACK (MQTT 3.1.1 §3.4, MQTT 5 §3.4 with reason code and properties omitted = success). */
const PUBACK_BYTES = 4;

function writePuback(into: Uint8Array, at: number, messageId: number) {
  into[at] = 0x40;
  into[at + 1] = 0x02;
  into[at + 2] = messageId >> 8;
  into[at + 3] = messageId & 0xff;
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * Commands and PUBACKs are small packets that must leave at once: Nagle's algorithm would hold
 * one back until the previous is acknowledged, and with delayed ACKs that is up to 40 ms (Linux
 * tcp(7) TCP_NODELAY, RFC 1122 §4.2.3.2). mqtt.js leaves the socket at Node's default (Nagle on).
 */
export function noDelay(client: mqtt.MqttClient): void {
  const stream = client.stream as { setNoDelay?: (on: boolean) => void } | undefined;
  stream?.setNoDelay?.(true);
}

/**
 * MQTT 3.1.1 CONNACK return code 1 and MQTT 5 reason code 0x84: the broker does not speak the
 * version asked for. aedes (the embedded broker) answers MQTT 5 this way.
 */
const UNSUPPORTED_VERSION_CODES = new Set([1, 0x84]);

/**
 * Connects (or throws BROKER_UNAVAILABLE) and starts handing messages to `onMessage`. MQTT 5
 * first, for Session Expiry and Receive Maximum; a broker without MQTT 5 gets MQTT 3.1.1, where
 * the session persists until the broker expires it and the broker's own in-flight limit (e.g.
 * Mosquitto's max_inflight_messages) bounds what is held.
 */
export async function connectLink(url: string, options: LinkOptions): Promise<mqtt.MqttClient> {
  try {
    return await open(url, 5, options);
  } catch (error) {
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    if (typeof code !== "number" || !UNSUPPORTED_VERSION_CODES.has(code)) throw error;
    options.log.info("the broker does not speak MQTT 5; using MQTT 3.1.1");
    return await open(url, 4, options);
  }
}

async function open(
  url: string,
  protocolVersion: 4 | 5,
  options: LinkOptions,
): Promise<mqtt.MqttClient> {
  const { log } = options;
  let client: mqtt.MqttClient;
  try {
    client = mqtt.connect(url, {
      protocolVersion,
      clientId: options.clientId,
      // MQTT 3.1.1 has no session expiry: "no session" (0) can only be a clean session there.
      clean: protocolVersion === 4 && options.sessionExpiryS === 0,
      reconnectPeriod: 1000,
      connectTimeout: CONNECT_TIMEOUT_MS,
      ...(protocolVersion === 5
        ? {
          properties: {
            sessionExpiryInterval: options.sessionExpiryS,
            receiveMaximum: options.receiveMaximum,
          },
        }
        : {}),
    });
  } catch (error) {
    throw new KasiError("CONFIG_INVALID", `--mqtt-url: ${(error as Error).message}`);
  }
  let connection = 0;
  client.on("connect", () => {
    noDelay(client);
    connection++;
    if (connection > 1) log.info("reconnected to the broker", { connection });
  });
  client.on("offline", () => log.warn("broker connection lost; reconnecting"));
  client.on("error", (error) => log.debug("mqtt error", { error }));

  // The batch writer acknowledges a whole batch at once: one socket write for all of its
  // PUBACKs (in order), not one per message (bench:ingest profile: 5 % of the backend's CPU).
  let acks: number[] = [];
  const flushAcks = () => {
    const ids = acks;
    acks = [];
    if (!client.connected) return;
    const bytes = new Uint8Array(ids.length * PUBACK_BYTES);
    ids.forEach((id, i) => writePuback(bytes, i * PUBACK_BYTES, id));
    client.stream.write(bytes);
  };
  const queueAck = (messageId: number) => {
    if (acks.length === 0) queueMicrotask(flushAcks);
    acks.push(messageId);
  };
  // Acks queued on a connection that then dropped must not go out on the next one.
  client.on("close", () => (acks = []));

  client.handleMessage = (packet, done) => {
    if (packet.qos === 2) {
      // Not subscribed at QoS 2, so never expected; let mqtt.js finish its handshake.
      log.warn("unexpected QoS 2 message; acknowledged on receipt", { topic: packet.topic });
      done();
      return;
    }
    const arrivedOn = connection;
    const messageId = packet.messageId;
    const ack = packet.qos === 1 && messageId !== undefined
      ? () => {
        // A message of an earlier connection is redelivered by the broker; its old id means
        // nothing on this one.
        if (arrivedOn !== connection || !client.connected) return;
        queueAck(messageId);
      }
      : () => {};
    try {
      const raw = packet.payload;
      const payload = typeof raw === "string" ? new TextEncoder().encode(raw) : new Uint8Array(raw);
      options.onMessage({ topic: packet.topic, payload, retain: packet.retain, ack });
    } catch (error) {
      log.error("could not take a message; it will be redelivered", { topic: packet.topic, error });
    }
    if (packet.qos === 1) done(ACK_DEFERRED);
    else done();
  };

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`no answer in ${CONNECT_TIMEOUT_MS} ms`)),
      CONNECT_TIMEOUT_MS,
    );
    const cleanup = () => {
      clearTimeout(timer);
      client.off("connect", onConnect);
      client.off("error", fail);
    };
    const onConnect = () => {
      cleanup();
      resolve();
    };
    function fail(error: Error) {
      cleanup();
      client.end(true);
      reject(
        new KasiError(
          "BROKER_UNAVAILABLE",
          `Cannot connect to the MQTT broker at ${redactUrl(url)}: ${error.message}`,
          { cause: error },
        ),
      );
    }
    client.once("connect", onConnect);
    client.once("error", fail);
  });
  return client;
}
