import assert from "node:assert/strict";
import { OfflineQueue, type QueuedMessage } from "../../src/device/offline_queue.ts";

const msg = (n: number): QueuedMessage => ({
  topic: "t",
  payload: String(n),
  qos: 1,
  retain: false,
});

Deno.test("OfflineQueue drains oldest first and empties", () => {
  const q = new OfflineQueue(10);
  [1, 2, 3].forEach((n) => q.push(msg(n)));
  assert.equal(q.size, 3);
  assert.deepEqual(q.drain().map((m) => m.payload), ["1", "2", "3"]);
  assert.equal(q.size, 0);
  assert.deepEqual(q.drain(), []);
});

Deno.test("OfflineQueue drops the oldest beyond its limit and counts them", () => {
  const q = new OfflineQueue(3);
  for (let n = 1; n <= 7; n++) q.push(msg(n));
  // 7 pushed into 3 places: 1..4 dropped, 5..7 kept.
  assert.equal(q.size, 3);
  assert.equal(q.dropped, 4);
  assert.deepEqual(q.drain().map((m) => m.payload), ["5", "6", "7"]);
  assert.equal(q.dropped, 4);
});

Deno.test("OfflineQueue keeps the newest 10,000 of 25,000 by default", () => {
  const q = new OfflineQueue();
  for (let n = 0; n < 25_000; n++) q.push(msg(n));
  const kept = q.drain();
  assert.equal(kept.length, 10_000);
  assert.equal(q.dropped, 15_000);
  assert.equal(kept[0]!.payload, "15000");
  assert.equal(kept.at(-1)!.payload, "24999");
});

Deno.test("OfflineQueue rejects a limit below 1, naming it", () => {
  assert.throws(() => new OfflineQueue(0), /limit must be an integer ≥ 1, got 0/);
});
