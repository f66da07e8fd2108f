/**
 * `deno task bench:ingest`: sustained QoS 1 ingest on a private Mosquitto (started from
 * deploy/mosquitto/kasi.conf, stopped after) and the PostgreSQL of KASI_BENCH_PG_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres; a temporary database, dropped after), with the
 * one-INSERT-per-message baseline of the first generation in the same run.
 *
 *   deno task bench:ingest [--messages 300000] [--sites 1000] [--connections 4] [--window 1000]
 *                          [--baseline 20000] [--stock-broker] [--json]
 *
 * Exits 1 when any acknowledged message did not become a row (loss), printing how many.
 * `--stock-broker` runs Mosquitto with its default limits to show that loss being detected.
 */
import { parseArgs } from "node:util";
import { runIngestBenchmark } from "./ingest_run.ts";

const { values } = parseArgs({
  // `deno task bench:… -- --flag` passes the "--" on.
  args: Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args,
  options: {
    messages: { type: "string", default: "300000" },
    sites: { type: "string", default: "1000" },
    connections: { type: "string", default: "4" },
    window: { type: "string", default: "1000" },
    baseline: { type: "string", default: "20000" },
    "stock-broker": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});

function whole(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) {
    console.error(`bench:ingest: --${name} "${text}" must be a whole number ≥ ${min}`);
    Deno.exit(2);
  }
  return n;
}

const result = await runIngestBenchmark({
  messages: whole("messages", values.messages, 1),
  sites: whole("sites", values.sites, 1),
  connections: whole("connections", values.connections, 1),
  window: whole("window", values.window, 1),
  baselineMessages: whole("baseline", values.baseline, 0),
  stockBroker: values["stock-broker"],
  say: (line) => console.error(`[bench:ingest] ${line}`),
});

const k = result.kasi;
if (values.json) {
  console.log(JSON.stringify(result));
} else {
  const b = result.baseline;
  console.log(
    [
      `ingest, QoS 1, ${result.broker === "kasi" ? "Kasi broker config" : "STOCK broker config"}`,
      `  kasi      ${k.rows}/${k.brokerAcked} rows  ${k.sustainedMsgsPerS} msg/s sustained ` +
      `(${k.msgsPerS} msg/s overall, ${k.seconds} s; publishers ${k.publishMsgsPerS} msg/s; ` +
      `${k.batches} batches, ${k.redeliveries} redelivered, ${k.commandsSent} commands)`,
      b
        ? `  baseline  ${b.rows}/${b.brokerAcked} rows  ${b.sustainedMsgsPerS} msg/s sustained ` +
          `(${b.msgsPerS} msg/s overall, ${b.seconds} s), one awaited INSERT per message`
        : "  baseline  skipped",
      result.ratio !== undefined ? `  ratio     ${result.ratio}× the baseline` : "",
      `  loss      ${k.lost === 0 ? "none" : `${k.lost} MESSAGES LOST`}` +
      (b && b.lost > 0 ? `; baseline lost ${b.lost}` : ""),
    ].filter((l) => l !== "").join("\n"),
  );
}
if (k.lost > 0 || (result.baseline?.lost ?? 0) > 0) Deno.exit(1);
