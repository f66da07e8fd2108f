/**
 * Alarms: what an operator must act on, one per site and kind at a time, with a lifecycle
 * raised → acknowledged → cleared. The rules that raise and clear them live beside this file;
 * these are the shapes the backend stores, publishes on `kasi/v1/sites/{id}/event` and serves
 * over HTTP, shared by the alarm engine, the API and the web view.
 */

export const ALARM_KINDS = [
  /** Last will received, or no telemetry for several reporting intervals. */
  "site-offline",
  /** Tank below a percentage, or below some hours of predicted running. */
  "low-fuel",
  /** The level fell with the generator off, beyond sensor noise and temperature drift. */
  "fuel-loss",
  /** The device reported that the generator did not start. */
  "generator-start-failed",
  /** The generator ran past its maximum continuous time. */
  "generator-over-run",
  /** State of charge below the site's reserve. */
  "battery-below-reserve",
  /** Predicted to reach the reserve within some hours with neither generator nor sun to help. */
  "battery-reserve-predicted",
  /** A sensor read invalid or implausible: stuck, an impossible jump, a sentinel such as 65535. */
  "sensor-invalid",
] as const;
export type AlarmKind = typeof ALARM_KINDS[number];

/**
 * `origin` of the alarm events the backend publishes on `kasi/v1/sites/{id}/event`: the backend
 * subscribes to that topic for device events, and skips its own (backend/messages.ts).
 */
export const ALARM_EVENT_ORIGIN = "kasi-backend";

export type AlarmSeverity = "critical" | "warning";

/** `open` in a filter means raised or acknowledged, not yet cleared. */
export type AlarmState = "raised" | "acknowledged" | "cleared";

/** The values an alarm was raised on (fuelPct, hoursLeft, sensor, value …), for the operator. */
export type AlarmValues = Record<string, number | string | boolean | null>;

export interface Alarm {
  id: number;
  siteId: string;
  kind: AlarmKind;
  severity: AlarmSeverity;
  state: AlarmState;
  /** One line for a person: "Fuel 8 % (16 L), below 10 %". */
  message: string;
  /** RFC 3339 UTC. */
  raisedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  clearedAt: string | null;
  values: AlarmValues;
  /** What the rule saw when it cleared (fuelPct after a refuel …); absent while open. */
  clearedValues?: AlarmValues | null;
}

/** Whether `kind` names an alarm kind (database rows and API filters are checked with it). */
export function isAlarmKind(kind: string): kind is AlarmKind {
  return (ALARM_KINDS as readonly string[]).includes(kind);
}
