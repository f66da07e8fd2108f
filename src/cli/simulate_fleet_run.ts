/**
 * Runs `kasi simulate-fleet` with checked settings: starts the fleet, prints a progress line
 * every few seconds (stderr), stops at --duration or a signal, and prints the report (stdout).
 */
import type { FleetCounts, RoundTrip } from "../device/fleet_metrics.ts";
import { Fleet } from "../device/fleet.ts";
import { jsonLogger } from "./log.ts";
import { openRecording, type RecordingWriter } from "./recording_writer.ts";
import { stopSignal } from "./signals.ts";
import type { FleetSettings } from "./simulate_fleet.ts";

export interface FleetReport extends FleetCounts {
  elapsedS: number;
  roundTrip: RoundTrip;
  recorded?: number;
}

const ms = (x: number | null) => (x === null ? "–" : `${Math.round(x)} ms`);

/** One progress line, e.g. `[15 s] connections 1000/1000  telemetry 1500 sent …`. */
export function formatFleetLine(
  c: FleetCounts,
  window: RoundTrip,
  options: { elapsedS: number; shared: boolean },
): string {
  const connections = options.shared
    ? `shared connection ${c.connectionsOpen === 1 ? "up" : "down"}`
    : `connections ${c.connectionsOpen}/${c.sites}`;
  return `[${Math.round(options.elapsedS)} s] ${connections}  telemetry ${c.telemetrySent} sent ` +
    `${c.telemetryAcked} acked  commands ${c.commandsReceived} (round trip p50 ${
      ms(window.p50Ms)
    }, p99 ${ms(window.p99Ms)} over ${window.count})  errors ${
      c.publishErrors + c.connectionErrors
    }`;
}

export function formatFleetReport(r: FleetReport): string {
  const rows: [string, string | number][] = [
    ["sites", r.sites],
    ["seconds", r.elapsedS],
    ["connections open before stop", r.connectionsOpen],
    ["telemetry sent", r.telemetrySent],
    ["telemetry acknowledged", r.telemetryAcked],
    ["status and events sent", r.otherSent],
    ["commands received", r.commandsReceived],
    ["  accepted / rejected", `${r.commandsAccepted} / ${r.commandsRejected}`],
    ["sites commanded", r.sitesCommanded],
    ["  retained (not timed)", r.commandsRetained],
    ["round trips timed", r.roundTrip.count],
    ["round trip p50", ms(r.roundTrip.p50Ms)],
    ["round trip p99", ms(r.roundTrip.p99Ms)],
    ["round trip max", ms(r.roundTrip.maxMs)],
    ["publish errors", r.publishErrors],
    ["connection errors", r.connectionErrors],
  ];
  if (r.recorded !== undefined) rows.push(["messages recorded", r.recorded]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return "fleet report\n" + rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join("\n");
}

export async function runFleet(settings: FleetSettings): Promise<FleetReport> {
  const log = jsonLogger({ level: "warn", component: "fleet" });
  let recording: RecordingWriter | undefined;
  if (settings.record) recording = await openRecording(settings.record);
  const fleet = new Fleet({
    sites: settings.sites,
    seed: settings.seed,
    prefix: settings.prefix,
    mqttUrl: settings.mqttUrl,
    sharedConnection: settings.sharedConnection,
    rampS: settings.rampS,
    speed: settings.speed,
    intervalS: settings.intervalS,
    log,
    onPublished: recording ? (m) => recording!.add(m) : undefined,
  });
  const startMs = performance.now();
  const elapsedS = () => (performance.now() - startMs) / 1000;
  const reporter = setInterval(() => {
    console.error(
      formatFleetLine(fleet.metrics.counts, fleet.metrics.windowRoundTrip(), {
        elapsedS: elapsedS(),
        shared: settings.sharedConnection,
      }),
    );
  }, settings.reportEveryS * 1000);
  const signal = stopSignal();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let openAtEnd = 0;
  try {
    const started = fleet.start();
    const end = settings.durationS === null ? signal.received : Promise.race([
      signal.received,
      new Promise((resolve) => (timer = setTimeout(resolve, settings.durationS! * 1000))),
    ]);
    await Promise.race([started.then(() => end), end]);
  } finally {
    clearTimeout(timer);
    clearInterval(reporter);
    openAtEnd = fleet.metrics.counts.connectionsOpen;
    await fleet.stop();
    await recording?.close();
    signal.dispose();
  }
  const report: FleetReport = {
    ...fleet.metrics.counts,
    // Before the clean stop closed them.
    connectionsOpen: openAtEnd,
    elapsedS: Math.round(elapsedS() * 10) / 10,
    roundTrip: fleet.metrics.roundTrip(),
  };
  if (recording) report.recorded = recording.lines;
  console.log(settings.json ? JSON.stringify(report) : formatFleetReport(report));
  return report;
}
