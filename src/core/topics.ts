/**
 * The MQTT topic scheme, shared by publisher and subscriber.
 *
 * v1: `kasi/v1/sites/{siteId}/{telemetry|command|status|event}`.
 * First generation (deployed sites, kept working unchanged):
 * `kasi_power/sites/{site_id}/telemetry` in, `kasi_power/sites/{site_id}/commands` out.
 */

export const V1_ROOT = "kasi/v1/sites";
export const LEGACY_ROOT = "kasi_power/sites";

export type V1Channel = "telemetry" | "command" | "status" | "event";

/** Site ids on v1 topics: 1–64 characters of letters, digits, `-`, `_`, `.`. */
export const SITE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function v1Topic(siteId: string, channel: V1Channel): string {
  return `${V1_ROOT}/${siteId}/${channel}`;
}

export function legacyTelemetryTopic(siteId: string): string {
  return `${LEGACY_ROOT}/${siteId}/telemetry`;
}

export function legacyCommandTopic(siteId: string): string {
  return `${LEGACY_ROOT}/${siteId}/commands`;
}

/** Subscriptions the backend holds. */
export const BACKEND_SUBSCRIPTIONS = {
  telemetry: `${V1_ROOT}/+/telemetry`,
  status: `${V1_ROOT}/+/status`,
  event: `${V1_ROOT}/+/event`,
  legacyTelemetry: `${LEGACY_ROOT}/+/telemetry`,
} as const;

export type ParsedTopic =
  | { kind: "v1"; siteId: string; channel: V1Channel }
  | { kind: "legacy-telemetry"; siteId: string };

/** Parses a topic the backend receives; returns undefined for any other topic. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split("/");
  if (parts.length === 5 && `${parts[0]}/${parts[1]}/${parts[2]}` === V1_ROOT) {
    const channel = parts[4];
    const siteId = parts[3]!;
    if (
      channel === "telemetry" || channel === "command" ||
      channel === "status" ||
      channel === "event"
    ) {
      return { kind: "v1", siteId, channel };
    }
    return undefined;
  }
  if (
    parts.length === 4 && `${parts[0]}/${parts[1]}` === LEGACY_ROOT &&
    parts[3] === "telemetry"
  ) {
    return { kind: "legacy-telemetry", siteId: parts[2]! };
  }
  return undefined;
}
