/**
 * Lines of a file, of a gzip file, or of stdin (`-`), as they stream in: a recording of
 * millions of messages is never held in memory. gzip is recognised by its magic bytes (1f 8b,
 * RFC 1952 §2.3.1), so `.jsonl.gz` works under any name and piped through stdin too.
 */
import { KasiError } from "../core/errors.ts";

/**
 * A line longer than this is not read into memory: reported as too long and skipped. A message
 * is at most 64 KiB (MAX_PAYLOAD_BYTES), so even escaped as JSON text it is far below.
 */
export const MAX_LINE_CHARS = 4 * 1024 * 1024;

export type Line =
  | { lineNo: number; text: string }
  | { lineNo: number; text: null; reason: string };

export interface LineSource {
  /** Non-empty lines with their 1-based line numbers; a trailing `\r` is removed. */
  lines: AsyncGenerator<Line>;
  /** Bytes of the input read so far (compressed bytes for gzip), for progress. */
  bytesRead: () => number;
  /** Size of the input in bytes, when it is a file. */
  totalBytes: number | null;
  gzip: boolean;
  close: () => void;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** Opens `path` (or stdin for `-`); a missing file is an INPUT_INVALID error naming it. */
export async function openLineSource(path: string): Promise<LineSource> {
  let stream: ReadableStream<Uint8Array>;
  let totalBytes: number | null = null;
  let file: Deno.FsFile | undefined;
  if (path === "-") {
    stream = Deno.stdin.readable;
  } else {
    try {
      file = await Deno.open(path, { read: true });
      const info = await file.stat();
      if (!info.isFile) throw new Error("not a regular file");
      totalBytes = info.size;
    } catch (error) {
      file?.close();
      const reason = error instanceof Deno.errors.NotFound
        ? "no such file"
        : (error as Error).message;
      throw new KasiError("INPUT_INVALID", `FILE "${path}": cannot read it: ${reason}`);
    }
    stream = file.readable;
  }
  let bytes = 0;
  const counted = stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
    }),
  );
  const { stream: peeked, first } = await peek(counted);
  const gzip = first !== undefined && first.length >= 2 && first[0] === GZIP_MAGIC[0] &&
    first[1] === GZIP_MAGIC[1];
  const inflated: ReadableStream<Uint8Array> = gzip
    ? peeked.pipeThrough(
      new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>,
    )
    : peeked;
  const decoded = inflated.pipeThrough(new TextDecoderStream("utf-8", { fatal: false }));
  return {
    lines: splitLines(decoded, path, gzip),
    bytesRead: () => bytes,
    totalBytes,
    gzip,
    close: () => {
      try {
        file?.close();
      } catch {
        // Already closed by reading to the end.
      }
    },
  };
}

/** Reads the first chunk and gives back a stream that still starts with it. */
async function peek(
  stream: ReadableStream<Uint8Array>,
): Promise<{ stream: ReadableStream<Uint8Array>; first: Uint8Array | undefined }> {
  const reader = stream.getReader();
  const head = await reader.read();
  const first = head.done ? undefined : head.value;
  let sentFirst = false;
  return {
    first,
    stream: new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (!sentFirst) {
          sentFirst = true;
          if (first !== undefined) {
            controller.enqueue(first);
            return;
          }
        }
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    }),
  };
}

async function* splitLines(
  text: ReadableStream<string>,
  path: string,
  gzip: boolean,
): AsyncGenerator<Line> {
  let carry = "";
  /** Inside a line already reported as too long: skip to its end. */
  let skipping = false;
  let lineNo = 0;
  const reader = text.getReader();
  const clean = (line: string) => (line.endsWith("\r") ? line.slice(0, -1) : line);
  try {
    while (true) {
      let chunk: ReadableStreamReadResult<string>;
      try {
        chunk = await reader.read();
      } catch (error) {
        const what = gzip ? "not a valid gzip stream" : "read failed";
        throw new KasiError(
          "INPUT_INVALID",
          `FILE "${path}": ${what} after line ${lineNo}: ${(error as Error).message}`,
        );
      }
      if (chunk.done) break;
      let value = chunk.value;
      if (skipping) {
        const end = value.indexOf("\n");
        if (end < 0) continue;
        skipping = false;
        value = value.slice(end + 1);
      }
      const parts = (carry + value).split("\n");
      carry = parts.pop()!;
      for (const part of parts) {
        lineNo++;
        const line = clean(part);
        if (line.trim() !== "") yield { lineNo, text: line };
      }
      if (carry.length > MAX_LINE_CHARS) {
        lineNo++;
        yield {
          lineNo,
          text: null,
          reason: `line: longer than ${MAX_LINE_CHARS} characters; skipped`,
        };
        carry = "";
        skipping = true;
      }
    }
    if (!skipping && carry.trim() !== "") {
      lineNo++;
      yield { lineNo, text: clean(carry) };
    }
  } finally {
    reader.releaseLock();
  }
}
