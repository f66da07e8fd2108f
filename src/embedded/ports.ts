/** Port checks shared by the embedded broker and database, so both fail with the same clear error. */
import { KasiError } from "../core/errors.ts";

export interface PortOptions {
  /** What wanted the port, for the message: "MQTT", "PostgreSQL". */
  what: string;
  /** The command-line flag that chooses another port, e.g. "--mqtt-port". */
  flag: string;
}

/** The error for a taken port, naming the port, the host and the flag that picks another. */
export function portInUseError(
  host: string,
  port: number,
  options: PortOptions & { cause?: unknown },
): KasiError {
  return new KasiError(
    "PORT_IN_USE",
    `${options.what} port ${port} on ${host} is already in use; pass ${options.flag} to choose another`,
    options.cause === undefined ? undefined : { cause: options.cause },
  );
}

/** Whether `error` is an "address in use" error from Deno.listen or node:net. */
export function isAddrInUse(error: unknown): boolean {
  if (error instanceof Deno.errors.AddrInUse) return true;
  return typeof error === "object" && error !== null &&
    (error as { code?: unknown }).code === "EADDRINUSE";
}

/** Throws CONFIG_INVALID unless `port` is a TCP port number (0 lets the OS choose). */
export function assertPortNumber(port: number, flag: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new KasiError(
      "CONFIG_INVALID",
      `${flag}: must be an integer from 0 to 65535 (got ${port})`,
    );
  }
}

/**
 * Throws PORT_IN_USE when `port` on `host` cannot be bound, before any service is built.
 * Probes by listening and closing at once. Callers still map EADDRINUSE from their real
 * listen() with `portInUseError`, because another process may take the port in between.
 * Port 0 (the OS picks one) is always free.
 */
export function assertPortFree(host: string, port: number, options: PortOptions): void {
  assertPortNumber(port, options.flag);
  if (port === 0) return;
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ hostname: host, port, transport: "tcp" });
  } catch (error) {
    if (isAddrInUse(error)) throw portInUseError(host, port, { ...options, cause: error });
    throw error;
  }
  listener.close();
}

/** A host for a URL: IPv6 literals need brackets. */
export function formatHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
