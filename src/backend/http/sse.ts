/**
 * The live stream behind the web view (server-sent events, text/event-stream, WHATWG HTML
 * §9.2). One connection per viewer; what changed is collected and sent in one `sites` event per
 * flush, so a thousand sites reporting every ten seconds cost each viewer one message a second,
 * not a thousand. Events:
 * - `snapshot` on connect: every site (the same objects as GET /api/v1/sites);
 * - `sites`: the sites that changed since the last flush;
 * - `alarm`: one alarm that was raised, acknowledged or cleared.
 * A comment line every `keepAliveMs` keeps proxies from closing an idle stream. A viewer that
 * falls more than `maxBufferedBytes` behind is disconnected (its browser reconnects and starts
 * from a snapshot) rather than held in memory.
 */
import type { Alarm } from "../../core/alarm.ts";

const encoder = new TextEncoder();

export interface SiteStreamOptions {
  /** The JSON objects of these sites (unknown ids are left out); every site when undefined. */
  sites: (ids?: Set<string>) => unknown[];
  nowMs?: () => number;
  keepAliveMs?: number;
  maxBufferedBytes?: number;
}

interface Client {
  controller: ReadableStreamDefaultController<Uint8Array>;
}

/** One SSE frame: `event:` and `data:` lines, then a blank line. */
export function sseFrame(event: string, data: unknown): string {
  const text = JSON.stringify(data);
  return `event: ${event}\ndata: ${text}\n\n`;
}

export class SiteStream {
  readonly #o: SiteStreamOptions;
  readonly #clients = new Set<Client>();
  #dirty = new Set<string>();
  #alarms: Alarm[] = [];
  #lastSentMs: number;
  readonly #nowMs: () => number;

  constructor(options: SiteStreamOptions) {
    this.#o = options;
    this.#nowMs = options.nowMs ?? (() => performance.now());
    this.#lastSentMs = this.#nowMs();
  }

  get clients(): number {
    return this.#clients.size;
  }

  /** Sites whose state changed; sent at the next flush. */
  touch(siteIds: Iterable<string>): void {
    if (this.#clients.size === 0) return;
    for (const id of siteIds) this.#dirty.add(id);
  }

  alarm(alarm: Alarm): void {
    if (this.#clients.size === 0) return;
    this.#alarms.push(alarm);
  }

  /** A new viewer's stream, starting with a snapshot of every site. */
  connect(): ReadableStream<Uint8Array> {
    let client: Client | undefined;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        client = { controller };
        this.#clients.add(client);
        // Tells EventSource-style readers how long to wait before reconnecting.
        controller.enqueue(encoder.encode(`retry: 2000\n${sseFrame("snapshot", this.#o.sites())}`));
      },
      cancel: () => {
        if (client) this.#clients.delete(client);
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }));
  }

  /** Sends what changed since the last flush to every viewer. */
  flush(): void {
    const frames: string[] = [];
    if (this.#dirty.size > 0) {
      const sites = this.#o.sites(this.#dirty);
      this.#dirty = new Set();
      if (sites.length > 0) frames.push(sseFrame("sites", sites));
    }
    for (const alarm of this.#alarms.splice(0)) frames.push(sseFrame("alarm", alarm));
    const now = this.#nowMs();
    if (frames.length === 0) {
      if (now - this.#lastSentMs < (this.#o.keepAliveMs ?? 15_000)) return;
      frames.push(": keep-alive\n\n");
    }
    this.#lastSentMs = now;
    const bytes = encoder.encode(frames.join(""));
    const max = this.#o.maxBufferedBytes ?? 4 * 1024 * 1024;
    for (const client of [...this.#clients]) {
      const behind = 64 * 1024 - (client.controller.desiredSize ?? 0);
      if (behind > max) {
        this.#drop(client);
        continue;
      }
      try {
        client.controller.enqueue(bytes);
      } catch {
        this.#clients.delete(client);
      }
    }
  }

  /** Ends every stream (the server is stopping). */
  close(): void {
    for (const client of [...this.#clients]) this.#drop(client);
  }

  #drop(client: Client) {
    this.#clients.delete(client);
    try {
      client.controller.close();
    } catch {
      // Already closed or errored by the reader going away.
    }
  }
}
