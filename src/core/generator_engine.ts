/**
 * What the engine did since the last decision, from the "running" sensor (the genset's run
 * feedback or AC presence): it answered the run signal (→ warm-up), finished warming up
 * (→ running, it may take the load), stopped by itself, or never started. A run signal not
 * answered within `genStartTimeoutS` is a failure, reported once per failure with the values;
 * a failed generator that runs again is reported as recovered.
 */
import type { PolicyParams } from "./policy_params.ts";
import {
  type GenPhase,
  minutes,
  type PolicyEvent,
  type RunRequest,
  secondsBetween,
  type SiteState,
} from "./policy_state.ts";

export interface EngineObservation {
  phase: GenPhase;
  runningSince: Date | null;
  notRunningSince: Date | null;
  failureReportedAt: Date | null;
  events: PolicyEvent[];
  reasons: string[];
}

const r1 = (x: number) => Math.round(x * 10) / 10;

export function observeEngine(s: SiteState, o: {
  phase: GenPhase;
  genStartedAt: Date | null;
  runningSince: Date | null;
  notRunningSince: Date | null;
  failureReportedAt: Date | null;
  requests: RunRequest[];
  p: PolicyParams;
  now: Date;
}): EngineObservation {
  const { p, now } = o;
  const since = (d: Date | null) => secondsBetween(d, now);
  let { phase, runningSince, notRunningSince, failureReportedAt } = o;
  const events: PolicyEvent[] = [];
  const reasons: string[] = [];
  const values = (extra: PolicyEvent["values"]): PolicyEvent["values"] => ({
    soc_pct: r1(s.socPct),
    battery_v: Math.round(s.batteryV * 100) / 100,
    load_w: Math.round(s.loadW),
    fuel_pct: s.fuelPct === null ? null : r1(s.fuelPct),
    ...extra,
  });

  if (phase === "cooldown") {
    if (!s.genRunning) {
      phase = "off";
      reasons.push("generator stopped during its cool-down");
    }
    return { phase, runningSince, notRunningSince, failureReportedAt, events, reasons };
  }
  if (phase === "off") {
    return { phase, runningSince, notRunningSince, failureReportedAt, events, reasons };
  }
  if (s.genRunning) {
    if (phase === "failed") {
      events.push({
        kind: "generator-recovered",
        detail: "generator running again after its reported failure",
        values: values({ failed_since: failureReportedAt?.toISOString() ?? null }),
      });
      reasons.push("generator running again after its failure");
      failureReportedAt = null;
    }
    if (phase === "starting" || phase === "failed") {
      phase = "warmup";
      runningSince = now;
      notRunningSince = null;
    }
    if (phase === "warmup") {
      if (since(runningSince) >= p.warmupS) {
        phase = "running";
        if (p.warmupS > 0) {
          reasons.push(`generator warmed up ${minutes(p.warmupS)}: it takes the load`);
        }
      } else {
        reasons.push(
          `generator running ${minutes(since(runningSince))}: warming up ` +
            `${minutes(p.warmupS)} before it takes the load`,
        );
      }
    }
    return { phase, runningSince, notRunningSince, failureReportedAt, events, reasons };
  }

  if (phase === "warmup" || phase === "running") {
    reasons.push("generator stopped although commanded on");
    phase = "starting";
    notRunningSince = now;
  }
  notRunningSince ??= o.genStartedAt ?? now;
  const waitedS = since(notRunningSince);
  if (phase === "starting" && waitedS >= p.genStartTimeoutS) phase = "failed";
  if (phase === "failed") {
    // A run that had been sensed running stopped by itself; otherwise it never started.
    const ran = runningSince !== null;
    reasons.push(
      ran
        ? `generator stopped ${minutes(waitedS)} ago while commanded on: treated as failed`
        : `generator commanded on ${minutes(since(o.genStartedAt))} ago but not running: ` +
          "treated as failed",
    );
    if (failureReportedAt === null) {
      failureReportedAt = now;
      events.push({
        kind: ran ? "generator-stopped-unexpectedly" : "generator-start-failed",
        detail: ran
          ? `generator stopped by itself and did not run again within ${p.genStartTimeoutS} s`
          : `generator did not run within ${p.genStartTimeoutS} s of its start signal`,
        values: values({
          commanded_at: o.genStartedAt?.toISOString() ?? null,
          not_running_since: notRunningSince.toISOString(),
          waited_s: Math.round(waitedS),
          requests: o.requests.join(","),
        }),
      });
    }
  }
  return { phase, runningSince, notRunningSince, failureReportedAt, events, reasons };
}
