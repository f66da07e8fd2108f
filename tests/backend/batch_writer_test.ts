/**
 * BatchWriter with transactions the test finishes by hand: concurrency, acknowledgement order
 * (MQTT 5 §4.6: PUBACKs in the order the PUBLISHes arrived) and retries. The messages are
 * "ignore" messages, for which no statement runs, so the fake database only needs `begin`.
 */
import assert from "node:assert/strict";
import type postgres from "postgres";
import { BatchWriter, type CommittedBatch } from "../../src/backend/batch_writer.ts";
import { MemoryLogger } from "../../src/core/log.ts";

interface Tx {
  finish: () => void;
  fail: (error: Error) => void;
}

/**
 * A pool whose transactions end when the test says: `begin` returns at once, `commit` waits
 * for finish() or fail(). Statements in between never run for "ignore" messages.
 */
function fakeSql() {
  const transactions: Tx[] = [];
  const statements: string[] = [];
  const connection = (strings: TemplateStringsArray) => {
    const text = strings.join("?").trim();
    statements.push(text);
    if (text !== "commit") return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      transactions.push({ finish: () => resolve([]), fail: reject });
    });
  };
  const sql = {
    reserve: () => Promise.resolve(Object.assign(connection, { release: () => {} })),
  } as unknown as postgres.Sql;
  return { sql, transactions, statements };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function writer(sql: postgres.Sql, acked: number[], committed: CommittedBatch[]) {
  const w = new BatchWriter({
    sql,
    log: new MemoryLogger(),
    maxBatch: 2,
    maxDelayMs: 10_000,
    maxConcurrent: 2,
    onCommitted: (b) => committed.push(b),
  });
  const push = (id: number) =>
    w.push({ inbound: { kind: "ignore", why: "test" }, ack: () => acked.push(id) });
  return { w, push };
}

Deno.test("BatchWriter runs two batches at once and acknowledges in arrival order", async () => {
  const { sql, transactions, statements } = fakeSql();
  const acked: number[] = [];
  const committed: CommittedBatch[] = [];
  const { w, push } = writer(sql, acked, committed);
  for (const id of [1, 2, 3, 4, 5, 6]) push(id);
  await tick();
  // maxBatch 2, maxConcurrent 2: batches [1,2] and [3,4] are being written, [5,6] waits.
  assert.equal(transactions.length, 2);
  assert.equal(w.pending, 6);
  transactions[1]!.finish(); // the second batch commits first…
  await tick();
  assert.deepEqual(acked, []); // …but waits for the first: no PUBACK overtakes another
  assert.equal(transactions.length, 3, "its slot is taken by [5,6]");
  transactions[0]!.finish();
  await tick();
  assert.deepEqual(acked, [1, 2, 3, 4]);
  assert.equal(committed.length, 2);
  transactions[2]!.finish();
  await tick();
  assert.deepEqual(acked, [1, 2, 3, 4, 5, 6]);
  assert.equal(w.pending, 0);
  // Each batch is one BEGIN … COMMIT on its reserved connection.
  assert.deepEqual(statements, ["begin", "begin", "commit", "commit", "begin", "commit"]);
});

Deno.test("BatchWriter retries a failed batch and starts no new one until a write succeeds", async () => {
  const { sql, transactions } = fakeSql();
  const acked: number[] = [];
  const committed: CommittedBatch[] = [];
  const { w, push } = writer(sql, acked, committed);
  for (const id of [1, 2, 3, 4, 5, 6]) push(id);
  await tick();
  transactions[0]!.fail(new Error("connection reset"));
  await tick();
  // [1,2] failed: its slot stays empty, [5,6] is not started on a failing database.
  assert.equal(transactions.length, 2);
  transactions[1]!.fail(new Error("connection reset"));
  await tick();
  // Both are retried after the first backoff, 100 ms, oldest first.
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(transactions.length, 4, "two retries");
  assert.deepEqual(acked, []);
  transactions[2]!.finish();
  await tick();
  // [1,2] committed: acknowledged, and with the database back new batches start again.
  assert.deepEqual(acked, [1, 2]);
  assert.equal(transactions.length, 5, "[5,6]");
  assert.equal(w.stats.failedAttempts, 2);
  transactions[4]!.finish(); // [5,6] commits before [3,4]: still acknowledged after it
  await tick();
  assert.deepEqual(acked, [1, 2]);
  transactions[3]!.finish();
  await tick();
  assert.deepEqual(acked, [1, 2, 3, 4, 5, 6]);
  assert.equal(w.pending, 0);
});

Deno.test("BatchWriter.drain() writes what waits and stops at its deadline", async () => {
  const { sql, transactions } = fakeSql();
  const acked: number[] = [];
  const { w, push } = writer(sql, acked, []);
  push(1); // one message: waits for maxDelayMs (10 s), so nothing is written yet
  await tick();
  assert.equal(transactions.length, 0);
  const drained = w.drain(1000);
  await tick();
  assert.equal(transactions.length, 1);
  transactions[0]!.finish();
  await drained;
  assert.deepEqual(acked, [1]);

  push(2);
  const stuck = w.drain(50);
  await tick();
  transactions[1]!.fail(new Error("down"));
  await stuck; // retries until 50 ms passed, then gives up without acknowledging
  assert.deepEqual(acked, [1]);
  assert.equal(w.pending, 1);
});
