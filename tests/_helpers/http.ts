/** A local stand-in for a weather API: 127.0.0.1 on an OS-chosen port, never the internet. */

export type Handler = (request: Request) => Response | Promise<Response>;

/** Runs `fn` with the server's base URL and the URLs it was asked for, then shuts it down. */
export async function withServer(
  handler: Handler,
  fn: (baseUrl: string, seen: URL[]) => Promise<void>,
): Promise<void> {
  const seen: URL[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => {
      seen.push(new URL(request.url));
      return handler(request);
    },
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}
