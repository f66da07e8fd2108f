/**
 * An in-process PostgreSQL (PGlite, Postgres compiled to WASM) behind a wire-protocol socket
 * (pglite-socket), so `kasi demo` needs no PostgreSQL server and keeps its data in a directory.
 *
 * One connection at a time: clients must use `postgres(url, { max: 1 })`. PGlite is a single
 * session. pglite-socket 0.2.17 (src/index.ts) sets `net.Server.maxConnections` to its
 * `maxConnections` option (default 1), so a second socket is not queued: it is closed at once
 * with nothing written. A second postgres.js client (3.4.9 on Deno 2.9.6, measured) gets no
 * error: it reconnects in a tight loop (~300 attempts/s) and its queries run once the first
 * client ends. A pool with `max` > 1 hangs: its first connection holds the only slot while idle,
 * and queries given to the other connections never run. So: one `max: 1` pool at a time across
 * all clients, and a second client (migration runner, psql, Grafana) only after the first ended.
 * We keep maxConnections at 1: with more, pglite-socket multiplexes every client into the one
 * session message by message, so session state (advisory locks, SET) is shared between clients
 * and their extended-query messages can interleave.
 */
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { KasiError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { EmbeddedService } from "./broker.ts";
import { assertPortFree, formatHost, isAddrInUse, portInUseError } from "./ports.ts";

export interface EmbeddedDatabaseOptions {
  /** Where PGlite keeps its files, e.g. ".kasi/pgdata"; created if missing. */
  dataDir: string;
  /** Interface to listen on. Default 127.0.0.1: the embedded database has no password. */
  host?: string;
  /** TCP port; 0 lets the OS pick one (the returned url has the real port). */
  port: number;
  log?: Logger;
  /** The flag that picks another port, named in the PORT_IN_USE message. Default --db-port. */
  flagHint?: string;
}

/**
 * Opens (or creates) the database in `dataDir` and serves it on `host:port`. The url is
 * `postgres://postgres@HOST:PORT/postgres`; connect with `{ max: 1 }` (see the module comment).
 */
export async function startEmbeddedDatabase(
  options: EmbeddedDatabaseOptions,
): Promise<EmbeddedService> {
  const host = options.host ?? "127.0.0.1";
  const portOptions = { what: "PostgreSQL", flag: options.flagHint ?? "--db-port" };
  const log = options.log;
  assertPortFree(host, options.port, portOptions);

  const db = await openPglite(options.dataDir);
  const server = new PGLiteSocketServer({ db, host, port: options.port });
  server.addEventListener("error", (event) => {
    log?.error("embedded PostgreSQL socket error", {
      error: (event as CustomEvent<unknown>).detail,
    });
  });
  try {
    await server.start();
  } catch (error) {
    await server.stop();
    await db.close();
    if (isAddrInUse(error)) {
      throw portInUseError(host, options.port, { ...portOptions, cause: error });
    }
    throw error;
  }

  // getServerConn() is "host:port" with the port the OS assigned when options.port was 0.
  const port = Number(server.getServerConn().slice(server.getServerConn().lastIndexOf(":") + 1));
  const url = `postgres://postgres@${formatHost(host)}:${port}/postgres`;
  log?.info("embedded PostgreSQL listening", { url, dataDir: options.dataDir });

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      // Closing twice (a signal handler and a finally block) waits for the same shutdown.
      closing ??= (async () => {
        // The server first, so no query arrives while PGlite flushes its files and shuts down.
        await server.stop();
        await db.close();
        log?.info("embedded PostgreSQL stopped", { url });
      })();
      return closing;
    },
  };
}

async function openPglite(dataDir: string): Promise<PGlite> {
  try {
    await Deno.mkdir(dataDir, { recursive: true });
    return await PGlite.create(dataDir);
  } catch (error) {
    throw new KasiError(
      "DATABASE_UNAVAILABLE",
      `Cannot open the embedded database in ${dataDir}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
