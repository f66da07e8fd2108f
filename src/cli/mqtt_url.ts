/** The broker URL every command takes: --mqtt-url, then KASI_MQTT_URL, then the local broker. */
import { KasiError } from "../core/errors.ts";
import { resolveSetting } from "./env.ts";

export const DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883";
/** The --mqtt-url option's help, one wording for every command. */
export const MQTT_URL_HELP = `broker URL (default: $KASI_MQTT_URL, then ${DEFAULT_MQTT_URL})`;

/** The broker URL schemes mqtt.js connects with. */
const SCHEMES = ["mqtt:", "mqtts:", "tcp:", "ssl:", "ws:", "wss:"];

/** Returns `value` when it is a broker URL; else an error naming where it came from and the value. */
export function checkMqttUrl(value: string, source: string): string {
  if (!URL.canParse(value)) {
    throw new KasiError("INPUT_INVALID", `${source}: "${value}" is not a URL`);
  }
  if (!SCHEMES.includes(new URL(value).protocol)) {
    throw new KasiError(
      "INPUT_INVALID",
      `${source}: "${value}" must be an mqtt://, mqtts://, ws:// or wss:// URL`,
    );
  }
  return value;
}

/** The broker URL from the flag, the environment or the default, checked; and where it came from. */
export function resolveMqttUrl(
  flag: string | undefined,
  env: Record<string, string | undefined>,
): { value: string; source: string } {
  const mqtt = resolveSetting({
    flag,
    flagName: "--mqtt-url",
    env,
    names: ["KASI_MQTT_URL"],
    fallback: DEFAULT_MQTT_URL,
  });
  checkMqttUrl(mqtt.value, mqtt.source);
  return mqtt;
}
