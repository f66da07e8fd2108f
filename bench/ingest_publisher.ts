/**
 * The publisher side of the ingest benchmark, run as its own process so that it does not share
 * an event loop with the backend it measures. Usage (one JSON argument):
 *
 *   deno run -A bench/ingest_publisher.ts '{"host":"127.0.0.1","port":18830,...}'
 *
 * Message k goes to site k mod `sites`, stamped `baseMs + floor(k / sites) · 10 s`: every message
 * has its own (site, time), so the backend must end with exactly `messages` rows. Prints one JSON
 * line: acknowledged count, first send and last acknowledgement times.
 */
import { connectBlaster, encodePublishes } from "./_mqtt_blaster.ts";

export interface PublisherPlan {
  host: string;
  port: number;
  /** Site ids are `${sitePrefix}-${i}`. */
  sitePrefix: string;
  sites: number;
  /** Messages in all, split over the connections. */
  messages: number;
  connections: number;
  /** Unacknowledged messages per connection. */
  window: number;
  /** Time of each site's first message. */
  baseMs: number;
}

/** The v1 payload of message k of the plan (what the publisher sends, what the rows must hold). */
export function planMessage(plan: PublisherPlan, k: number): [string, string] {
  const site = `${plan.sitePrefix}-${k % plan.sites}`;
  const round = Math.floor(k / plan.sites);
  const ts = new Date(plan.baseMs + round * 10_000).toISOString();
  // Each site's SoC falls a point every 10 minutes of its 10 s messages, as a 9.6 kWh bank at
  // 1150 W roughly does (1.15 / 9.6 = 12 %/h): a site whose SoC jumped 40 points a message had
  // the planner run a forward forecast for nearly every message, which no site does. Down to 20 %
  // and back up at that rate (a triangle): a sawtooth's 20 → 99 % in one message is a broken
  // sensor to the alarm rules, and raised sensor-invalid alarms through the run.
  const phase = ((((k % plan.sites) * 7 + 79 - Math.floor(round / 60)) % 160) + 160) % 160;
  const soc = 20 + (phase < 80 ? phase : 159 - phase);
  return [
    `kasi/v1/sites/${site}/telemetry`,
    `{"v":1,"site_id":"${site}","ts":"${ts}","seq":${Math.floor(k / plan.sites)},` +
    `"source":"battery","battery_v":51.8,"battery_a":-22.5,"soc_pct":${soc},` +
    `"battery_temp_c":31.5,"load_w":1150,"pv_w":0,"gen_running":false,"gen_w":0,` +
    `"fuel_pct":72,"shed_tier":0}`,
  ];
}

export async function publishPlan(plan: PublisherPlan) {
  const blasters = await Promise.all(
    Array.from({ length: plan.connections }, (_, c) => {
      let k = c;
      const packets = encodePublishes(() => {
        if (k >= plan.messages) return undefined;
        const item = planMessage(plan, k);
        k += plan.connections;
        return item;
      });
      return connectBlaster({
        host: plan.host,
        port: plan.port,
        clientId: `kasi-bench-pub-${c}-${crypto.randomUUID().slice(0, 6)}`,
        window: plan.window,
        packets,
      });
    }),
  );
  const results = await Promise.all(blasters.map((b) => b.send()));
  return {
    acked: results.reduce((sum, r) => sum + r.acked, 0),
    firstSendMs: Math.min(...results.map((r) => r.firstSendMs)),
    lastAckMs: Math.max(...results.map((r) => r.lastAckMs)),
  };
}

if (import.meta.main) {
  const plan = JSON.parse(Deno.args[0]!) as PublisherPlan;
  console.log(JSON.stringify(await publishPlan(plan)));
}
