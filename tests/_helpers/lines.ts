/** A child process's output read line by line, for tests that wait for a log line. */
export interface LineWaiter {
  /** Every complete line read so far. */
  lines: string[];
  /** Reads on until a line matches `pattern`; throws naming the lines seen when it does not. */
  readUntil(pattern: RegExp, timeoutMs: number): Promise<void>;
  /** Reads to the end of the output, so the process's pipe is closed when the test ends. */
  drain(): Promise<void>;
}

export function waitForLines(stream: ReadableStream<Uint8Array>): LineWaiter {
  const lines: string[] = [];
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  return {
    lines,
    async readUntil(pattern, timeoutMs) {
      const until = Date.now() + timeoutMs;
      while (!lines.some((l) => pattern.test(l))) {
        if (Date.now() > until) throw new Error(`no ${pattern} in:\n${lines.join("\n")}`);
        const { value, done } = await reader.read();
        if (done) throw new Error(`output ended without ${pattern}:\n${lines.join("\n")}`);
        buffered += value;
        const parts = buffered.split("\n");
        buffered = parts.pop()!;
        lines.push(...parts);
      }
    },
    async drain() {
      while (!(await reader.read()).done) { /* drain */ }
    },
  };
}
