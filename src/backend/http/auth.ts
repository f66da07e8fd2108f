/**
 * The JSON API's bearer token (RFC 6750 §2.1: `Authorization: Bearer <token>`). Compared in
 * constant time: both sides are hashed with SHA-256 first, so neither the length nor the first
 * differing byte shows in the time an answer takes.
 */
import { KasiError } from "../../core/errors.ts";

export type AuthMode =
  | { kind: "token"; digest: Uint8Array }
  /** The embedded demo on loopback: the API is open. */
  | { kind: "open" }
  /** No token configured: the API answers 401 to everyone, saying why. */
  | { kind: "closed" };

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Whether `hostname` only accepts connections from this machine. */
export function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * How the API authenticates, from the server's options. Tokenless serving is allowed only where
 * asked for (the embedded demo) and only on a loopback address: otherwise anyone on the network
 * could read the fleet and acknowledge its alarms.
 */
export async function authMode(
  options: { apiToken?: string; allowTokenless?: boolean; hostname: string },
): Promise<AuthMode> {
  if (options.apiToken !== undefined && options.apiToken !== "") {
    return { kind: "token", digest: await sha256(options.apiToken) };
  }
  if (!options.allowTokenless) return { kind: "closed" };
  if (!isLoopback(options.hostname)) {
    throw new KasiError(
      "INPUT_INVALID",
      `HTTP host "${options.hostname}" is not a loopback address: serving the API without a ` +
        "token is only allowed on 127.0.0.1, ::1 or localhost; set KASI_API_TOKEN",
    );
  }
  return { kind: "open" };
}

/** null when the request may use the API, else why not (for the 401 body). */
export async function checkBearer(mode: AuthMode, request: Request): Promise<string | null> {
  if (mode.kind === "open") return null;
  if (mode.kind === "closed") {
    return "the JSON API is disabled: start the backend with KASI_API_TOKEN set";
  }
  const header = request.headers.get("authorization");
  if (header === null) return "missing Authorization: Bearer <token> header";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return "Authorization header must be 'Bearer <token>'";
  const given = await sha256(match[1]!);
  let diff = 0;
  for (let i = 0; i < given.length; i++) diff |= given[i]! ^ mode.digest[i]!;
  return diff === 0 ? null : "invalid token";
}
