/**
 * An in-process MQTT broker (aedes) for the one-command default, so `kasi demo` needs no
 * Mosquitto. aedes keeps retained messages, QoS 1 sessions and last wills in memory, which is
 * all the demo needs; they are lost when the process exits.
 */
import { Aedes } from "aedes";
import type { EventEmitter } from "node:events";
import { createServer, type Server } from "node:net";
import type { Logger } from "../core/log.ts";
import { assertPortFree, formatHost, isAddrInUse, portInUseError } from "./ports.ts";

/** A running embedded service: where to connect, and how to stop it. */
export interface EmbeddedService {
  url: string;
  /** Stops the service and resolves once every socket, timer and handle is released. */
  close(): Promise<void>;
}

export interface EmbeddedBrokerOptions {
  /** Interface to listen on. Default 127.0.0.1: the embedded broker has no authentication. */
  host?: string;
  /** TCP port; 0 lets the OS pick one (the returned url has the real port). */
  port: number;
  log?: Logger;
  /** The flag that picks another port, named in the PORT_IN_USE message. Default --mqtt-port. */
  flagHint?: string;
}

/** Starts aedes on `host:port`; throws KasiError PORT_IN_USE when the port is taken. */
export async function startEmbeddedBroker(
  options: EmbeddedBrokerOptions,
): Promise<EmbeddedService> {
  const host = options.host ?? "127.0.0.1";
  const portOptions = { what: "MQTT", flag: options.flagHint ?? "--mqtt-port" };
  assertPortFree(host, options.port, portOptions);

  const broker = await Aedes.createBroker();
  const log = options.log;
  // aedes emits "error" (e.g. from its will sweep) though its types omit it; an EventEmitter
  // "error" without a listener throws and would end the process.
  (broker as unknown as EventEmitter).on("error", (error: Error) => {
    log?.error("embedded MQTT broker error", { error });
  });
  broker.on("clientError", (client, error) => {
    log?.warn("embedded MQTT client error", { clientId: client.id, error });
  });
  broker.on("connectionError", (_client, error) => {
    log?.debug("embedded MQTT connection error", { error });
  });

  const server = createServer(broker.handle);
  try {
    await listen(server, options.port, host);
  } catch (error) {
    await closeBroker(broker);
    if (isAddrInUse(error)) {
      throw portInUseError(host, options.port, { ...portOptions, cause: error });
    }
    throw error;
  }
  server.on("error", (error) => log?.error("embedded MQTT server error", { error }));

  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  const url = `mqtt://${formatHost(host)}:${port}`;
  log?.info("embedded MQTT broker listening", { url });

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      // Closing twice (a signal handler and a finally block) waits for the same shutdown.
      closing ??= (async () => {
        // The broker first: it ends every client socket, so server.close() can complete.
        await closeBroker(broker);
        await closeServer(server);
        log?.info("embedded MQTT broker stopped", { url });
      })();
      return closing;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off("listening", onListening);
      reject(error);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

function closeBroker(broker: Aedes): Promise<void> {
  return new Promise((resolve) => broker.close(() => resolve()));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) return resolve();
    server.close((error) => (error ? reject(error) : resolve()));
  });
}
