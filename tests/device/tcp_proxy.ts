/**
 * Test helper: a TCP relay in front of the real broker whose link a test can cut and restore,
 * to exercise the agent's offline queue without stopping the shared Mosquitto.
 */
export class TcpProxy {
  readonly port: number;
  readonly #target: Deno.ConnectOptions;
  #listener: Deno.Listener | null = null;
  #accepting: Promise<void> = Promise.resolve();
  #conns = new Set<Deno.Conn>();
  #pumps = new Set<Promise<void>>();

  constructor(port: number, target: Deno.ConnectOptions) {
    this.port = port;
    this.#target = target;
  }

  /** A port that was free a moment ago. */
  static freePort(): number {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    return port;
  }

  /** Starts relaying: clients can connect. */
  up(): void {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: this.port });
    this.#listener = listener;
    this.#accepting = (async () => {
      try {
        for await (const client of listener) {
          try {
            const server = await Deno.connect(this.#target);
            this.#pipe(client, server);
            this.#pipe(server, client);
          } catch {
            this.#close(client);
          }
        }
      } catch {
        // listener closed
      }
    })();
  }

  /** Stops listening and cuts every relayed connection. */
  async down(): Promise<void> {
    this.#listener?.close();
    this.#listener = null;
    await this.#accepting;
    for (const conn of this.#conns) this.#close(conn);
    await Promise.all(this.#pumps);
  }

  #pipe(from: Deno.Conn, to: Deno.Conn) {
    this.#conns.add(from);
    this.#conns.add(to);
    const pump = from.readable.pipeTo(to.writable).catch(() => {}).finally(() => {
      this.#close(from);
      this.#close(to);
      this.#pumps.delete(pump);
    });
    this.#pumps.add(pump);
  }

  #close(conn: Deno.Conn) {
    if (!this.#conns.delete(conn)) return;
    try {
      conn.close();
    } catch {
      // already closed by the other side
    }
  }
}
