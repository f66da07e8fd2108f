/**
 * What the HTTP API, the metrics and the web view need of the alarm engine: list, acknowledge,
 * count what is open, and hear about every change. The engine (alarms.ts) implements it.
 */
import type { Alarm, AlarmKind, AlarmState } from "../core/alarm.ts";

export interface AlarmFilter {
  siteId?: string;
  kind?: AlarmKind;
  /** `open`: raised or acknowledged, not cleared. Default: every state. */
  state?: AlarmState | "open";
  /** Newest first; default 100. */
  limit?: number;
}

export type AckResult =
  | { ok: true; alarm: Alarm }
  | { ok: false; reason: "not-found" | "already-cleared" };

export interface AlarmBook {
  list(filter?: AlarmFilter): Promise<Alarm[]>;
  /** Acknowledges an open alarm; acknowledging one already acknowledged returns it unchanged. */
  acknowledge(id: number, options: { by: string; at?: Date }): Promise<AckResult>;
  /** Open alarms per site, from memory (metrics and the fleet list read it often). */
  openCounts(): Map<string, number>;
  /** Called after each raise, acknowledge and clear is stored; returns an unsubscribe. */
  subscribe(listener: (alarm: Alarm) => void): () => void;
}
