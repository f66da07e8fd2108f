/** A bounded FIFO for messages published while the broker is unreachable: the oldest go first. */
export interface QueuedMessage {
  topic: string;
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
}

/** A device's flash and RAM are small: 10,000 telemetry messages are about 28 h at 10 s. */
export const DEFAULT_OFFLINE_QUEUE_LIMIT = 10_000;

export class OfflineQueue {
  readonly limit: number;
  #items: QueuedMessage[] = [];
  #head = 0;
  #dropped = 0;

  constructor(limit: number = DEFAULT_OFFLINE_QUEUE_LIMIT) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(
        `Cannot create an offline queue: limit must be an integer ≥ 1, got ${limit}`,
      );
    }
    this.limit = limit;
  }

  /** Messages waiting. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Messages dropped because the queue was full, since creation. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Appends; when full, drops the oldest and counts it. */
  push(message: QueuedMessage): void {
    if (this.size >= this.limit) {
      this.#head++;
      this.#dropped++;
    }
    this.#items.push(message);
    // Compact now and then so dropped heads do not pile up.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Removes and returns every waiting message, oldest first. */
  drain(): QueuedMessage[] {
    const out = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return out;
  }
}
