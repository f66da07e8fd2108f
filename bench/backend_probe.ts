/**
 * The backend of `bench:fleet`, in its own process so that its memory is its own: a
 * BackendService that answers lines on stdin. `mem` prints, after two full garbage collections,
 * the V8 heap in use, external memory (ArrayBuffer backing stores) and the process RSS with the
 * service's stats; `heap FILE` writes a V8 heap snapshot; `pending` the messages not yet
 * committed; `stop` stops it.
 *
 *   deno run -A --v8-flags=--expose-gc bench/backend_probe.ts '{"mqttUrl":…,"databaseUrl":…}'
 */
import v8 from "node:v8";
import { BackendService } from "../src/backend/service.ts";
import type { Logger } from "../src/core/log.ts";

const options = JSON.parse(Deno.args[0]!) as {
  mqttUrl: string;
  databaseUrl: string;
  commandIntervalS: number;
};
/**
 * Warnings and errors on stderr, the first SHOWN of each message; the rest are counted and the
 * counts printed at the stop (a fleet's stop raises site-offline once per site: 100 000 lines).
 */
const SHOWN = 3;
const said = new Map<string, number>();
const say = (level: "warn" | "error") => (msg: string, fields?: Record<string, unknown>) => {
  const key = `${level}: ${msg}`;
  const n = (said.get(key) ?? 0) + 1;
  said.set(key, n);
  if (n <= SHOWN) console.error(`backend ${key} ${JSON.stringify(fields ?? {})}`);
};
const quiet: Logger = { debug() {}, info() {}, warn: say("warn"), error: say("error") };
function sayCounts(): void {
  for (const [key, n] of said) {
    if (n > SHOWN) console.error(`backend ${key}: ${n} in all, the first ${SHOWN} shown`);
  }
}
const service = new BackendService({
  mqttUrl: options.mqttUrl,
  databaseUrl: options.databaseUrl,
  commandIntervalS: options.commandIntervalS,
  // No weather service: a benchmark must not send the free API a request per grid cell of its
  // fleet. A closed port fails at once and the planner takes the climatology fallback.
  weather: { openMeteoUrl: "http://127.0.0.1:4" },
  log: quiet,
  clientId: `kasi-bench-backend-${crypto.randomUUID().slice(0, 6)}`,
  sessionExpiryS: 0,
  migrate: true,
});
await service.start();
const gc = (globalThis as { gc?: () => void }).gc;
console.log(JSON.stringify({ ready: true }));
const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
let carry = "";
for await (const chunk of lines) {
  carry += chunk;
  const parts = carry.split("\n");
  carry = parts.pop()!;
  for (const command of parts) {
    if (command === "mem") {
      gc?.();
      gc?.();
      const m = Deno.memoryUsage();
      console.log(JSON.stringify({
        heapUsed: m.heapUsed,
        // ArrayBuffer backing stores (a learned load profile's buckets) live outside the heap.
        external: m.external,
        rss: m.rss,
        sites: service.sites().length,
        pending: service.stats().pending,
        planning: service.stats().planning,
        stats: service.stats(),
        gc: gc !== undefined,
      }));
    } else if (command.startsWith("heap ")) {
      // A V8 heap snapshot (Chrome DevTools' Memory tab reads it): what the sites hold.
      gc?.();
      console.log(JSON.stringify({ heapSnapshot: v8.writeHeapSnapshot(command.slice(5)) }));
    } else if (command === "pending") {
      const stats = service.stats();
      console.log(JSON.stringify({ pending: stats.pending, planning: stats.planning }));
    } else if (command === "stop") {
      await service.stop();
      sayCounts();
      console.log(JSON.stringify({ stopped: true }));
      Deno.exit(0);
    }
  }
}
