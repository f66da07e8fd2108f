/**
 * The backend's HTTP server (Deno.serve): health and readiness, Prometheus metrics, the JSON API
 * and its live stream, and the web view. Health, readiness, metrics and the page's static files
 * are open; everything under /api/ needs the bearer token (auth.ts).
 */
import { KasiError } from "../../core/errors.ts";
import type { Logger } from "../../core/log.ts";
import {
  ackResponse,
  alarmsResponse,
  type ApiDeps,
  json,
  jsonError,
  sitesJson,
  telemetryResponse,
} from "./api.ts";
import { type AuthMode, authMode, checkBearer } from "./auth.ts";
import { METRICS_CONTENT_TYPE, type MetricsRegistry } from "./metrics.ts";
import { SiteStream } from "./sse.ts";
import { webFile } from "./web.ts";

export const DEFAULT_HTTP_HOST = "127.0.0.1";
/** How often the live stream sends what changed. */
export const DEFAULT_STREAM_FLUSH_MS = 1000;

export interface HttpOptions {
  /** 0: a port the OS chooses (read it back from `HttpServer.port`). */
  port: number;
  /** Default 127.0.0.1. */
  hostname?: string;
  /** The JSON API's bearer token; without one the API answers 401 unless `allowTokenless`. */
  apiToken?: string;
  /** Serve the API without a token (the embedded demo); refused on a non-loopback host. */
  allowTokenless?: boolean;
  streamFlushMs?: number;
}

export interface HttpDeps extends ApiDeps {
  log: Logger;
  metrics: MetricsRegistry;
  /** Which dependencies are down; empty when ready. */
  readiness: () => Promise<{ mqtt: boolean; database: boolean }>;
}

export interface HttpServer {
  readonly port: number;
  readonly hostname: string;
  /** http://host:port/ */
  readonly url: string;
  readonly stream: SiteStream;
  close(): Promise<void>;
}

const SITE_TELEMETRY = /^\/api\/v1\/sites\/([^/]+)\/telemetry$/;
const SITE_ONE = /^\/api\/v1\/sites\/([^/]+)$/;
const ALARM_ACK = /^\/api\/v1\/alarms\/([^/]+)\/ack$/;

export async function startHttpServer(options: HttpOptions, deps: HttpDeps): Promise<HttpServer> {
  const hostname = options.hostname ?? DEFAULT_HTTP_HOST;
  const auth = await authMode({ ...options, hostname });
  if (auth.kind === "closed") {
    deps.log.warn("HTTP API disabled: no KASI_API_TOKEN (health, metrics and the page stay open)");
  }
  const stream = new SiteStream({ sites: (ids) => sitesJson(deps, ids) });
  const unsubscribe = deps.alarms?.subscribe((alarm) => {
    stream.alarm(alarm);
    stream.touch([alarm.siteId]);
  });
  const timer = setInterval(() => stream.flush(), options.streamFlushMs ?? DEFAULT_STREAM_FLUSH_MS);
  const abort = new AbortController();
  let listening: Deno.NetAddr | undefined;
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      port: options.port,
      hostname,
      signal: abort.signal,
      onListen: (addr) => (listening = addr),
      onError: (error) => {
        deps.log.error("HTTP request failed", { error });
        return jsonError(500, "internal error (logged)");
      },
    }, (request) => route(request, { deps, auth, stream }));
  } catch (error) {
    clearInterval(timer);
    unsubscribe?.();
    if (error instanceof Deno.errors.AddrInUse) {
      throw new KasiError(
        "PORT_IN_USE",
        `HTTP port ${options.port} on ${hostname} is already in use; pass --http-port to choose ` +
          "another",
        { cause: error },
      );
    }
    throw new Error(`HTTP server: cannot listen on ${hostname}:${options.port}: ${error}`, {
      cause: error,
    });
  }
  const port = listening?.port ?? server.addr.port;
  const shownHost = hostname.includes(":") ? `[${hostname}]` : hostname;
  deps.log.info("HTTP server listening", { hostname, port, api: auth.kind });
  return {
    port,
    hostname,
    url: `http://${shownHost}:${port}/`,
    stream,
    close: async () => {
      clearInterval(timer);
      unsubscribe?.();
      // Open streams never end by themselves: end them, or shutdown() would wait forever.
      stream.close();
      abort.abort();
      await server.finished;
    },
  };
}

async function route(
  request: Request,
  ctx: { deps: HttpDeps; auth: AuthMode; stream: SiteStream },
): Promise<Response> {
  const url = new URL(request.url);
  const path = url.pathname;
  const { deps } = ctx;
  const method = request.method;
  if (path === "/healthz") return only(method, ["GET", "HEAD"]) ?? json({ status: "ok" });
  if (path === "/readyz") {
    const wrong = only(method, ["GET", "HEAD"]);
    if (wrong) return wrong;
    const r = await deps.readiness();
    const down = [...(r.mqtt ? [] : ["mqtt"]), ...(r.database ? [] : ["database"])];
    const body = {
      status: down.length === 0 ? "ready" : "not ready",
      mqtt: r.mqtt ? "up" : "down",
      database: r.database ? "up" : "down",
      ...(down.length === 0 ? {} : { error: `${down.join(" and ")} not connected` }),
    };
    return json(body, down.length === 0 ? 200 : 503);
  }
  if (path === "/metrics") {
    return only(method, ["GET", "HEAD"]) ??
      new Response(deps.metrics.render(), { headers: { "content-type": METRICS_CONTENT_TYPE } });
  }
  if (path.startsWith("/api/")) {
    const denied = await checkBearer(ctx.auth, request);
    if (denied !== null) {
      return jsonError(401, denied, { "www-authenticate": 'Bearer realm="kasi"' });
    }
    return await api(request, url, ctx);
  }
  if (method === "GET" || method === "HEAD") {
    const file = webFile(path);
    if (file) return file;
  }
  return jsonError(404, `no such path: ${path}`);
}

async function api(
  request: Request,
  url: URL,
  ctx: { deps: HttpDeps; stream: SiteStream },
): Promise<Response> {
  const { deps } = ctx;
  const path = url.pathname;
  const method = request.method;
  if (path === "/api/v1/sites") return only(method, ["GET"]) ?? json({ sites: sitesJson(deps) });
  if (path === "/api/v1/stream") {
    return only(method, ["GET"]) ?? new Response(ctx.stream.connect(), {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        // nginx and others buffer responses unless told not to.
        "x-accel-buffering": "no",
      },
    });
  }
  if (path === "/api/v1/alarms") {
    return only(method, ["GET"]) ?? await alarmsResponse(deps, url.searchParams);
  }
  let m = ALARM_ACK.exec(path);
  if (m) return only(method, ["POST"]) ?? await ackResponse(deps, m[1]!, request);
  m = SITE_TELEMETRY.exec(path);
  if (m) {
    return only(method, ["GET"]) ??
      await telemetryResponse(deps, decodeURIComponent(m[1]!), url.searchParams);
  }
  m = SITE_ONE.exec(path);
  if (m) {
    const wrong = only(method, ["GET"]);
    if (wrong) return wrong;
    const id = decodeURIComponent(m[1]!);
    const [site] = sitesJson(deps, new Set([id]));
    return site ? json(site) : jsonError(404, `site "${id}" is not known`);
  }
  return jsonError(404, `no such API path: ${path}`);
}

/** 405 with Allow when `method` is not one of `allowed`, else undefined. */
function only(method: string, allowed: string[]): Response | undefined {
  if (allowed.includes(method)) return undefined;
  return jsonError(405, `method ${method} is not allowed here; use ${allowed.join(" or ")}`, {
    allow: allowed.join(", "),
  });
}
