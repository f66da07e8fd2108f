/**
 * Graceful stop on SIGINT, SIGTERM or SIGHUP (a closed terminal). The listeners stay installed
 * until the caller is done stopping. One Ctrl-C under `deno task` or `npx` reaches the process
 * twice within milliseconds (once from the terminal to the whole process group, once forwarded
 * by the parent): signals that close together count as one press. A second press while stopping
 * is reported; a third exits at once (130, as a shell does for ^C).
 */
const SIGNALS: Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT", "SIGBREAK"]
  : ["SIGINT", "SIGTERM", "SIGHUP"];
const FORCE_AFTER = 3;
/** A person cannot press Ctrl-C twice this fast; a parent's forwarded copy arrives well within it. */
export const SAME_PRESS_MS = 300;

export interface StopSignal {
  /** Resolves with the first signal's name. */
  received: Promise<Deno.Signal>;
  /** Removes the listeners: call it when stopping is done (or start-up failed). */
  dispose(): void;
}

export interface StopSignalOptions {
  /** Called on the second press and later ones, with the number of presses so far. */
  onRepeat?: (signal: Deno.Signal, presses: number) => void;
  /** The clock in ms (tests). */
  nowMs?: () => number;
}

/** Counts presses: a signal within SAME_PRESS_MS of the previous one belongs to the same press. */
export function pressCounter(nowMs: () => number): () => number {
  let presses = 0;
  let lastMs = -Infinity;
  return () => {
    const t = nowMs();
    if (t - lastMs >= SAME_PRESS_MS) presses++;
    lastMs = t;
    return presses;
  };
}

export function stopSignal(options: StopSignalOptions = {}): StopSignal {
  const press = pressCounter(options.nowMs ?? (() => performance.now()));
  let seen = 0;
  let resolve: (signal: Deno.Signal) => void = () => {};
  const received = new Promise<Deno.Signal>((r) => (resolve = r));
  const handlers = SIGNALS.map((signal) => {
    const handler = () => {
      const presses = press();
      if (presses === seen) return;
      seen = presses;
      if (presses === 1) return resolve(signal);
      if (presses >= FORCE_AFTER) {
        console.error(`kasi: ${signal} received ${presses} times while stopping; exiting now`);
        Deno.exit(130);
      }
      options.onRepeat?.(signal, presses);
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
