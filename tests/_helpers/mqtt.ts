/** The real Mosquitto for integration tests: KASI_TEST_MQTT_URL, default mqtt://127.0.0.1:1883. */
export const TEST_MQTT_URL = Deno.env.get("KASI_TEST_MQTT_URL") ?? "mqtt://127.0.0.1:1883";

/** A site id no other test run uses, so retained messages of earlier runs never interfere. */
export function uniqueSiteId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

/** A UUID-shaped id for first-generation tests, unique per run. */
export function uniqueLegacySiteId(): string {
  const hex = crypto.randomUUID().replaceAll("-", "");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20, 32)
  }`;
}
