/** The broker URL schemes mqtt.js connects with. */
import { KasiError } from "../core/errors.ts";

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
