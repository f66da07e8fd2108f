/**
 * A simulated fleet in one process: N FleetSites on one MQTT connection each (as a real fleet:
 * per-site last will, per-site subscription) or all on one shared connection. Connections open
 * evenly over `rampS`; telemetry ticks are spread evenly over the interval (site i at i/N of
 * it), driven by one scheduler instead of N timers. `start()` connects and starts ticking,
 * `stop()` says goodbye (retained `offline`) and disconnects.
 */
import mqtt from "mqtt";
import type { Logger } from "../core/log.ts";
import { V1_ROOT, v1Topic } from "../core/topics.ts";
import { FleetMetrics } from "./fleet_metrics.ts";
import { fleetSiteSpec } from "./fleet_profiles.ts";
import { FleetSite, type PublishedHook, type SiteLink } from "./fleet_site.ts";

export interface FleetOptions {
  sites: number;
  seed: number;
  /** Site ids are `${prefix}-00000` … */
  prefix: string;
  mqttUrl: string;
  sharedConnection: boolean;
  /** Seconds over which the connections open; 0: as fast as the broker takes them. */
  rampS: number;
  /** Simulated seconds per real second. */
  speed: number;
  /** Simulated seconds between telemetry messages of one site. */
  intervalS: number;
  log: Logger;
  onPublished?: PublishedHook;
}

/** Handshakes in flight at once when there is no ramp: enough to connect 10 000 in seconds. */
const MAX_CONNECTING = 200;
const CONNECT_TIMEOUT_MS = 30_000;

export class Fleet {
  readonly metrics = new FleetMetrics();
  /** Ticks under way (each never throws). */
  readonly #ticking = new Set<Promise<void>>();
  readonly #o: FleetOptions;
  readonly #sites: FleetSite[] = [];
  readonly #bySite = new Map<string, FleetSite>();
  readonly #clients: mqtt.MqttClient[] = [];
  #started: boolean[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;

  constructor(options: FleetOptions) {
    for (
      const [name, value] of Object.entries({
        sites: options.sites,
        speed: options.speed,
        intervalS: options.intervalS,
      })
    ) {
      if (!(Number.isFinite(value) && value > 0)) {
        throw new RangeError(`${name} must be a number > 0, got ${value}`);
      }
    }
    this.#o = options;
  }

  /** Connects every site (following the ramp) and starts the telemetry schedule. */
  async start(): Promise<void> {
    const o = this.#o;
    const startTime = new Date();
    for (let i = 0; i < o.sites; i++) {
      const site = new FleetSite(fleetSiteSpec(i, { seed: o.seed, prefix: o.prefix }), {
        metrics: this.metrics,
        intervalS: o.intervalS,
        startTime,
        onPublished: o.onPublished,
      });
      this.#sites.push(site);
      this.#bySite.set(site.siteId, site);
    }
    this.metrics.counts.sites = o.sites;
    this.#started = new Array(o.sites).fill(false);
    this.#running = true;
    this.#schedule(performance.now());
    if (o.sharedConnection) await this.#startShared();
    else await this.#startPerSite();
  }

  /** Stops the telemetry schedule; connections stay open (a quiet fleet, e.g. to measure). */
  pause(): void {
    this.#running = false;
    clearTimeout(this.#timer);
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    // A tick under way publishes when it ends: let it, before the farewell and the disconnect.
    await Promise.all(this.#ticking);
    for (const [i, site] of this.#sites.entries()) {
      if (this.#started[i]) site.farewell();
      // As when announcing: let the socket drain between chunks of a large fleet, or mqtt.js
      // queues every message at once (minutes of CPU for 100 000 on one connection).
      if (i % 500 === 499) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await Promise.all(
      this.#clients.map((c) => c.endAsync().catch(() => c.end(true))),
    );
  }

  /** The scheduler: site i ticks at t0 + cycle · period + i/N · period. */
  #schedule(t0: number) {
    const periodMs = (this.#o.intervalS * 1000) / this.#o.speed;
    const n = this.#sites.length;
    let cycle = 0;
    let cursor = 0;
    const run = () => {
      if (!this.#running) return;
      const now = performance.now();
      const wallNow = new Date();
      let due = t0 + cycle * periodMs + (cursor / n) * periodMs;
      while (due <= now) {
        if (this.#started[cursor]) {
          const tick = this.#sites[cursor]!.tick(wallNow);
          this.#ticking.add(tick);
          void tick.finally(() => this.#ticking.delete(tick));
        }
        if (++cursor === n) {
          cursor = 0;
          cycle++;
        }
        due = t0 + cycle * periodMs + (cursor / n) * periodMs;
      }
      this.#timer = setTimeout(run, Math.max(1, Math.min(20, due - now)));
    };
    run();
  }

  /** When site i may connect: evenly over the ramp. */
  async #rampWait(i: number, t0: number) {
    if (this.#o.rampS <= 0) return;
    const at = t0 + (i / this.#o.sites) * this.#o.rampS * 1000;
    const wait = at - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  #track(client: mqtt.MqttClient, onConnect: () => void) {
    const c = this.metrics.counts;
    let open = false;
    client.on("connect", () => {
      // Telemetry and PUBACKs leave at once, not after Nagle's wait (see the backend's link).
      (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      if (!open) c.connectionsOpen++;
      open = true;
      onConnect();
    });
    client.on("close", () => {
      if (open) c.connectionsOpen--;
      open = false;
    });
    client.on("error", (error) => {
      c.connectionErrors++;
      this.metrics.lastErrors.connection = error.message;
    });
  }

  async #startPerSite() {
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (this.#running && next < this.#sites.length) {
        const i = next++;
        await this.#rampWait(i, t0);
        if (!this.#running) return;
        await this.#connectSite(i);
      }
    };
    const lanes = this.#o.rampS > 0 ? this.#sites.length : MAX_CONNECTING;
    await Promise.all(Array.from({ length: Math.min(lanes, this.#sites.length) }, worker));
  }

  #connectSite(i: number): Promise<void> {
    const site = this.#sites[i]!;
    const client = mqtt.connect(this.#o.mqttUrl, {
      clientId: `kasi-fleet-${site.siteId}-${crypto.randomUUID().slice(0, 4)}`,
      reconnectPeriod: 2000,
      connectTimeout: CONNECT_TIMEOUT_MS,
      will: { topic: v1Topic(site.siteId, "status"), payload: "offline", qos: 1, retain: true },
    });
    this.#clients.push(client);
    const link: SiteLink = {
      publish: (topic, payload, options, done) => client.publish(topic, payload, options, done),
    };
    const commandTopic = v1Topic(site.siteId, "command");
    client.on("message", (topic, payload, packet) => {
      if (topic === commandTopic) site.onCommand(payload, packet.retain, Date.now());
    });
    let subscribed = false;
    return new Promise<void>((resolve) => {
      let settled = false;
      const settle = () => {
        if (!settled) resolve();
        settled = true;
      };
      this.#track(client, () => {
        site.announce(link, new Date());
        this.#started[i] = true;
        // mqtt.js re-subscribes after a reconnect by itself.
        if (!subscribed) {
          client.subscribe(commandTopic, { qos: 1 }, () => settle());
          subscribed = true;
        }
      });
      client.once("error", settle);
      setTimeout(settle, CONNECT_TIMEOUT_MS);
    });
  }

  async #startShared() {
    const client = mqtt.connect(this.#o.mqttUrl, {
      clientId: `kasi-fleet-shared-${crypto.randomUUID().slice(0, 8)}`,
      reconnectPeriod: 2000,
      connectTimeout: CONNECT_TIMEOUT_MS,
    });
    this.#clients.push(client);
    const link: SiteLink = {
      publish: (topic, payload, options, done) => client.publish(topic, payload, options, done),
    };
    client.on("message", (topic, payload, packet) => {
      const parts = topic.split("/");
      const site = parts[4] === "command" ? this.#bySite.get(parts[3]!) : undefined;
      site?.onCommand(payload, packet.retain, Date.now());
    });
    await new Promise<void>((resolve) => {
      this.#track(client, () => resolve());
    });
    // One wildcard subscription; commands of other sites on the broker are ignored.
    await client.subscribeAsync(`${V1_ROOT}/+/command`, { qos: 1 });
    const t0 = performance.now();
    for (let i = 0; i < this.#sites.length && this.#running; i++) {
      await this.#rampWait(i, t0);
      this.#sites[i]!.announce(link, new Date());
      this.#started[i] = true;
      // Let the socket drain now and then when announcing a large fleet at once.
      if (i % 500 === 499) await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
}
