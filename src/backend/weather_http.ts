/**
 * One JSON GET to a weather API with a hard timeout. Every way it can fail becomes a
 * WeatherFetchError with a `kind` (for logging each cause once) and a message that names the
 * provider and what went wrong.
 */

export class WeatherFetchError extends Error {
  /** "timeout", "network", "http-429", "http-401-body", "body", ... */
  readonly kind: string;
  /** Seconds the API asked us to wait (HTTP 429 Retry-After), when it said. */
  readonly retryAfterS: number | null;
  constructor(kind: string, message: string, retryAfterS: number | null = null) {
    super(message);
    this.name = "WeatherFetchError";
    this.kind = kind;
    this.retryAfterS = retryAfterS;
  }
}

export interface JsonReply {
  status: number;
  ok: boolean;
  body: unknown;
  retryAfterS: number | null;
}

function retryAfter(response: Response): number | null {
  const value = response.headers.get("retry-after");
  if (value === null || !/^\d+$/.test(value.trim())) return null;
  return Number(value);
}

/** GETs `url` and decodes its JSON body within `timeoutMs` (the body read included). */
export async function fetchWeatherJson(
  url: URL,
  options: { provider: string; timeoutMs: number },
): Promise<JsonReply> {
  const { provider, timeoutMs } = options;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    let response: Response;
    try {
      response = await fetch(url, { signal: controller.signal });
    } catch (error) {
      if (controller.signal.aborted) {
        throw new WeatherFetchError(
          "timeout",
          `${provider} request timed out after ${timeoutMs} ms`,
        );
      }
      throw new WeatherFetchError(
        "network",
        `${provider} request failed: ${(error as Error).message}`,
      );
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      const why = controller.signal.aborted
        ? `timed out after ${timeoutMs} ms`
        : (error as Error).message;
      throw new WeatherFetchError(
        `http-${response.status}-body`,
        `${provider} response (HTTP ${response.status}) is not JSON: ${why}`,
        retryAfter(response),
      );
    }
    return { status: response.status, ok: response.ok, body, retryAfterS: retryAfter(response) };
  } finally {
    clearTimeout(timer);
  }
}
