/**
 * Writes a recording (src/core/recording.ts) as messages are published: lines are buffered and
 * written a few times a second, gzip-compressed when the name ends in `.gz`.
 */
import { KasiError } from "../core/errors.ts";
import { encodeRecordingLine } from "../core/recording.ts";

const FLUSH_EVERY_MS = 200;

export interface RecordingWriter {
  add(message: { topic: string; payload: string; atMs: number; retain: boolean }): void;
  /** Lines written so far. */
  readonly lines: number;
  close(): Promise<void>;
}

export async function openRecording(path: string): Promise<RecordingWriter> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { write: true, create: true, truncate: true });
  } catch (error) {
    throw new KasiError("INPUT_INVALID", `--record "${path}": ${(error as Error).message}`);
  }
  const text = new TextEncoderStream();
  const sink = path.endsWith(".gz")
    ? text.readable.pipeThrough(
      new CompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>,
    )
    : text.readable;
  const piped = sink.pipeTo(file.writable);
  const writer = text.writable.getWriter();
  let buffer: string[] = [];
  let lines = 0;
  let writing = Promise.resolve();
  const flush = () => {
    if (buffer.length === 0) return;
    const chunk = buffer.join("");
    buffer = [];
    writing = writing.then(() => writer.write(chunk));
  };
  const timer = setInterval(flush, FLUSH_EVERY_MS);
  return {
    add(m) {
      buffer.push(
        encodeRecordingLine({
          topic: m.topic,
          payload: m.payload,
          at: new Date(m.atMs),
          retain: m.retain,
        }) + "\n",
      );
      lines++;
    },
    get lines() {
      return lines;
    },
    async close() {
      clearInterval(timer);
      flush();
      await writing;
      await writer.close();
      await piped;
    },
  };
}
