/**
 * Graceful stop on SIGINT, SIGTERM or SIGHUP (a closed terminal). The listeners stay installed
 * until the caller is done stopping: Ctrl-C under `deno task` or `npx` reaches the process twice
 * (once from the terminal, once forwarded by the parent), and a second signal must not kill a
 * shutdown half-way. A third signal while stopping exits at once (130, as a shell does for ^C).
 */
const SIGNALS: Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT", "SIGBREAK"]
  : ["SIGINT", "SIGTERM", "SIGHUP"];
const FORCE_AFTER = 3;

export interface StopSignal {
  /** Resolves with the first signal's name. */
  received: Promise<Deno.Signal>;
  /** Removes the listeners: call it when stopping is done (or start-up failed). */
  dispose(): void;
}

export function stopSignal(
  options: { onRepeat?: (signal: Deno.Signal, count: number) => void } = {},
): StopSignal {
  let count = 0;
  let resolve: (signal: Deno.Signal) => void = () => {};
  const received = new Promise<Deno.Signal>((r) => (resolve = r));
  const handlers = SIGNALS.map((signal) => {
    const handler = () => {
      count++;
      if (count === 1) return resolve(signal);
      if (count >= FORCE_AFTER) {
        console.error(`kasi: ${signal} received ${count} times while stopping; exiting now`);
        Deno.exit(130);
      }
      options.onRepeat?.(signal, count);
    };
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });
  return {
    received,
    dispose: () => {
      for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
    },
  };
}
