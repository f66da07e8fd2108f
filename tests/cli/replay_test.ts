/**
 * `kasi replay`: the loop on in-memory lines (fake clock), the input reader (gzip, CRLF, long
 * lines), and the command end to end against the real PostgreSQL and Mosquitto.
 */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { openLineSource } from "../../src/cli/line_source.ts";
import { etaSeconds, formatDuration, formatProgress } from "../../src/cli/progress.ts";
import { checkRecordedMessage } from "../../src/cli/replay_check.ts";
import { runReplay } from "../../src/cli/replay_run.ts";
import { encodeRecordingLine, type RecordedMessage } from "../../src/core/recording.ts";
import { runMigrations } from "../../src/db/migrate.ts";
import { TEST_MQTT_URL, uniqueSiteId } from "../_helpers/mqtt.ts";
import { withTempDatabase } from "../_helpers/pg.ts";

const CASES = new URL("../../../shared/cases/first-gen-telemetry.jsonl", import.meta.url);
const CLI = new URL("../../cli.ts", import.meta.url).pathname;

function telemetryLine(siteId: string, ts: string, at?: string, extra = {}): string {
  const payload = JSON.stringify({
    v: 1,
    site_id: siteId,
    ts,
    source: "battery",
    battery_v: 52,
    load_w: 400,
    gen_running: false,
    ...extra,
  });
  return at === undefined
    ? JSON.stringify({ topic: `kasi/v1/sites/${siteId}/telemetry`, payload })
    : encodeRecordingLine({
      topic: `kasi/v1/sites/${siteId}/telemetry`,
      payload,
      at: new Date(at),
    });
}

async function* linesOf(texts: string[]) {
  let lineNo = 0;
  for (const text of texts) yield { lineNo: ++lineNo, text };
}

Deno.test("runReplay() reports every bad line with its number and reason and goes on", async () => {
  const reports: string[] = [];
  const counts = await runReplay({
    lines: linesOf([
      telemetryLine("s-1", "2026-11-20T10:00:00Z"),
      "{not json",
      JSON.stringify({ payload: "{}" }),
      telemetryLine("s-1", "2026-11-20T10:00:10Z", undefined, { battery_v: "52" }),
      JSON.stringify({ topic: "kasi/v1/sites/s-1/command", payload: "{}" }),
      telemetryLine("s-1", "2026-11-20T10:00:00Z"), // the first line again
      telemetryLine("s-1", "2026-11-20T10:00:20Z"),
    ]),
    target: { kind: "dry-run" },
    reportBad: (text) => reports.push(text),
  });
  assert.deepEqual(counts, {
    lines: 7,
    valid: 3,
    rejected: 4,
    duplicatesInFile: 1,
    ignored: 0,
    clockRestamped: 0,
  });
  assert.equal(reports.length, 4);
  assert.match(reports[0]!, /^line 2: line: not JSON/);
  assert.match(reports[1]!, /^line 3: topic: .*expected string/);
  assert.equal(
    reports[2],
    'line 4: battery_v: Invalid input: expected number, received string (got "52")',
  );
  assert.match(reports[3]!, /^line 5: topic: .*command topic/);
});

Deno.test("checkRecordedMessage() needs the line's at for an unusable clock only in a backfill", () => {
  const m = (at: string | null) => ({
    topic: "kasi/v1/sites/s-rtc/telemetry",
    payload: new TextEncoder().encode(
      JSON.parse(telemetryLine("s-rtc", "1970-01-01T00:00:07Z")).payload,
    ),
    atMs: at === null ? null : Date.parse(at),
    qos: 1 as const,
    retain: false,
  });
  const readAt = Date.parse("2026-11-20T10:00:00Z");
  // To the broker: the backend stamps it with its own receive time.
  assert.equal(checkRecordedMessage(m(null), { receivedAtMs: readAt, backfill: false }).ok, true);
  // Backfill (db, dry run) without `at`: no time to stamp it with.
  const refused = checkRecordedMessage(m(null), { receivedAtMs: readAt, backfill: true });
  assert.equal(refused.ok, false);
  if (!refused.ok) {
    assert.match(refused.reject.reason, /^at: missing, and the device clock is implausible/);
    assert.equal(refused.backendRejects, false);
    assert.deepEqual(refused.reject.receivedAt, new Date(readAt));
  }
  // With `at`: stamped with it.
  const at = "2026-11-20T09:59:00Z";
  const stamped = checkRecordedMessage(m(at), { receivedAtMs: Date.parse(at), backfill: true });
  assert.ok(stamped.ok && stamped.inbound.kind === "telemetry");
  if (stamped.ok && stamped.inbound.kind === "telemetry") {
    assert.deepEqual(stamped.inbound.record.time, new Date(at));
  }
});

Deno.test("runReplay() keeps the recorded spacing divided by --speed, capped by --max-rate", async () => {
  let clockMs = 1_000_000;
  const sentAt: number[] = [];
  const lines = [0, 1000, 1000, 3000].map((offsetMs, i) =>
    telemetryLine(
      "s-2",
      new Date(Date.UTC(2026, 10, 20, 10) + i * 1000).toISOString(),
      new Date(Date.UTC(2026, 10, 20, 10) + offsetMs).toISOString(),
    )
  );
  const options = {
    target: {
      kind: "mqtt" as const,
      publish: (_m: RecordedMessage) => {
        sentAt.push(clockMs);
        return Promise.resolve();
      },
      sendInvalid: false,
    },
    reportBad: () => {},
    nowMs: () => clockMs,
    sleep: (ms: number) => {
      clockMs += ms;
      return Promise.resolve();
    },
  };
  await runReplay({ ...options, lines: linesOf(lines), speed: 10 });
  // Recorded at 0, 1, 1 and 3 s; at 10× that is 0, 100, 100 and 300 ms after the start.
  assert.deepEqual(sentAt.map((t) => t - 1_000_000), [0, 100, 100, 300]);

  sentAt.length = 0;
  clockMs = 2_000_000;
  await runReplay({ ...options, lines: linesOf(lines), speed: 10, maxRate: 5 });
  // 5 per second: message i no earlier than i × 200 ms, so 0, 200, 400, and 600 > 300.
  assert.deepEqual(sentAt.map((t) => t - 2_000_000), [0, 200, 400, 600]);
});

Deno.test("formatProgress() shows the bar, rate and time left", () => {
  // 1 200 lines in 3 s = 400/s; 25 % done in 3 s leaves 3 × 0.75 / 0.25 = 9 s.
  assert.equal(
    formatProgress({ done: 1200, fraction: 0.25 }, { elapsedS: 3, unit: "lines", bar: true }),
    "[######------------------]   25.0%  1,200 lines  400/s  ETA 0:09",
  );
  assert.equal(
    formatProgress({ done: 50, fraction: null, extra: "2 rejected" }, {
      elapsedS: 65,
      unit: "lines",
      bar: false,
    }),
    "50 lines  1/s  elapsed 1:05  2 rejected",
  );
  assert.equal(etaSeconds(0, 10), null);
  assert.equal(formatDuration(3725), "1:02:05");
});

Deno.test("openLineSource() reads gzip (by its magic bytes), CRLF and skips blank lines", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const text = "first\r\n\nsecond\n  \nthird";
    const gz = await new Response(
      new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")),
    ).bytes();
    // Named without .gz: recognised by 1f 8b, not by the name.
    await Deno.writeFile(`${dir}/rec.jsonl`, gz);
    const source = await openLineSource(`${dir}/rec.jsonl`);
    const lines = [];
    for await (const line of source.lines) lines.push(line);
    source.close();
    assert.ok(source.gzip);
    assert.deepEqual(lines, [
      { lineNo: 1, text: "first" },
      { lineNo: 3, text: "second" },
      { lineNo: 5, text: "third" },
    ]);
    assert.equal(source.bytesRead(), gz.byteLength);
    await assert.rejects(
      () => openLineSource(`${dir}/missing.jsonl`),
      /missing\.jsonl.*no such file/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function kasi(args: string[], stdin?: Uint8Array) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  if (stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  return {
    code: out.code,
    summary: JSON.parse(stdout.trim().split("\n").at(-1)!),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** The line numbers a run reported as rejected on stderr (`line N: reason`). */
function rejectedLines(stderr: string): number[] {
  return [...stderr.matchAll(/^line (\d+): /gm)].map((m) => Number(m[1]));
}

Deno.test("kasi replay --to db of the shared first-generation cases stores each row once, twice run", async () => {
  await withTempDatabase(async (url, sql) => {
    await runMigrations(sql);
    const args = ["replay", CASES.pathname, "--to", "db", "--database-url", url, "--json"];
    // The file's `expect` fields: 4 stored, 1 stored-once (a repeat), 11 rejected, and the 1970
    // and 2099 clocks, which need a receive time the lines lack (no `at`): rejected in a backfill.
    const first = await kasi(args);
    assert.equal(first.code, 1, "lines were rejected");
    assert.equal(first.summary.lines, 18);
    assert.equal(first.summary.rejected, 13);
    assert.equal(first.summary.stored, 4);
    assert.equal(first.summary.duplicates, 1);
    assert.equal(first.summary.rejectsStored, 13);
    assert.match(first.stderr, /^line 5: battery_voltage: .*\(got "12\.4"\)$/m);
    assert.match(first.stderr, /^line 9: at: missing, and the device clock is implausible/m);
    assert.match(first.stderr, /^line 17: payload: 1048816 bytes exceeds the limit of 65536$/m);
    assert.deepEqual(rejectedLines(first.stderr), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    // Every reject is in rejected_messages as the live path stores it: the topic, the payload
    // (cut to 64 KiB, its full size kept), the reason naming the field first, then the line.
    const rejects = await sql`
      select topic, payload_bytes, truncated, reason, octet_length(payload) as kept
      from rejected_messages order by id`;
    assert.equal(rejects.length, 13);
    const from = `(replay of ${CASES.pathname}, line`;
    assert.deepEqual(
      rejects.map((r) => Number(/, line (\d+)\)$/.exec(r.reason)![1])),
      [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17],
    );
    assert.ok(rejects.every((r) => r.topic.startsWith("kasi_power/sites/")));
    assert.match(
      rejects[0]!.reason,
      /^battery_voltage: .*\(got "12\.4"\) \(replay of .*, line 5\)$/,
    );
    assert.ok(rejects[0]!.reason.includes(`${from} 5)`));
    assert.match(rejects[4]!.reason, /^at: missing, and the device clock is implausible/);
    const big = rejects[12]!;
    assert.deepEqual(
      { bytes: big.payload_bytes, truncated: big.truncated, kept: big.kept },
      { bytes: 1048816, truncated: true, kept: 65536 },
    );
    const second = await kasi(args);
    assert.equal(second.summary.stored, 0);
    assert.equal(second.summary.duplicates, 5);
    const [row] = await sql`select count(*)::int as n from telemetry`;
    assert.equal(row!.n, 4);
    // Rejects are a log of what each run refused, as the live path logs each receipt.
    const [logged] = await sql`select count(*)::int as n from rejected_messages`;
    assert.equal(logged!.n, 26);
  });
});

Deno.test("kasi replay --dry-run rejects exactly the lines --to db rejects", async () => {
  const dry = await kasi(["replay", CASES.pathname, "--dry-run", "--json"]);
  assert.equal(dry.code, 1);
  // As the backfill above: the 11 bad lines and the 1970 and 2099 clocks without `at`.
  assert.equal(dry.summary.rejected, 13);
  assert.equal(dry.summary.valid, 5);
  assert.deepEqual(rejectedLines(dry.stderr), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
  assert.match(dry.stderr, /^line 10: at: missing, and the device clock is implausible/m);
  // Line 4 repeats line 1 (same site and time): the one duplicate a backfill skips.
  assert.equal(dry.summary.duplicates, 1);
});

Deno.test("kasi replay - reads a gzip recording from stdin and publishes it to the broker", async () => {
  const siteId = uniqueSiteId("it-replay");
  const base = Date.now() - 60_000;
  const lines = [0, 1, 2].map((i) =>
    telemetryLine(
      siteId,
      new Date(base + i * 10_000).toISOString(),
      new Date(base + i * 10_000).toISOString(),
    )
  );
  const gz = await new Response(
    new Blob([lines.join("\n") + "\n"]).stream().pipeThrough(new CompressionStream("gzip")),
  ).bytes();
  const sub = await mqtt.connectAsync(TEST_MQTT_URL, { reconnectPeriod: 0 });
  const received: string[] = [];
  sub.on("message", (_t, payload) => received.push(payload.toString()));
  try {
    await sub.subscribeAsync(`kasi/v1/sites/${siteId}/telemetry`, { qos: 1 });
    const result = await kasi(["replay", "-", "--mqtt-url", TEST_MQTT_URL, "--json"], gz);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.summary.published, 3);
    const until = Date.now() + 5000;
    while (received.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(received, lines.map((l) => JSON.parse(l).payload));
  } finally {
    await sub.endAsync();
  }
});

Deno.test("kasi replay --to db stamps an unusable device clock with the line's at, once", async () => {
  await withTempDatabase(async (url, sql) => {
    await runMigrations(sql);
    const dir = await Deno.makeTempDir();
    try {
      const at = "2026-11-20T10:00:05.000Z";
      // An RTC that was never set (1970): re-stamped with the receive time, here the line's at.
      await Deno.writeTextFile(
        `${dir}/r.jsonl`,
        telemetryLine("s-rtc", "1970-01-01T00:00:07Z", at),
      );
      const args = ["replay", `${dir}/r.jsonl`, "--to", "db", "--database-url", url, "--json"];
      const first = await kasi(args);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.summary.stored, 1);
      assert.equal(first.summary.clockRestamped, 1);
      const second = await kasi(args);
      assert.equal(second.summary.stored, 0);
      assert.equal(second.summary.duplicates, 1);
      const rows = await sql`select time, clock_restamped from telemetry where site_id = 's-rtc'`;
      assert.deepEqual(rows.map((r) => ({ ...r })), [{
        time: new Date(at),
        clock_restamped: true,
      }]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});
