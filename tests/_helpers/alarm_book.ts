/** An in-memory AlarmBook for the HTTP tests: the test raises and clears alarms by hand. */
import type { Alarm, AlarmKind } from "../../src/core/alarm.ts";
import type { AckResult, AlarmBook, AlarmFilter } from "../../src/backend/alarm_book.ts";

export class MemoryAlarmBook implements AlarmBook {
  readonly #alarms = new Map<number, Alarm>();
  readonly #listeners = new Set<(alarm: Alarm) => void>();
  #nextId = 1;

  raise(
    siteId: string,
    kind: AlarmKind,
    options: { message: string; at: Date; severity?: Alarm["severity"] },
  ): Alarm {
    const alarm: Alarm = {
      id: this.#nextId++,
      siteId,
      kind,
      severity: options.severity ?? "warning",
      state: "raised",
      message: options.message,
      raisedAt: options.at.toISOString(),
      acknowledgedAt: null,
      acknowledgedBy: null,
      clearedAt: null,
      values: {},
    };
    this.#alarms.set(alarm.id, alarm);
    this.#emit(alarm);
    return alarm;
  }

  clear(id: number, at: Date): void {
    const alarm = this.#alarms.get(id);
    if (!alarm) throw new Error(`no alarm ${id}`);
    alarm.state = "cleared";
    alarm.clearedAt = at.toISOString();
    this.#emit(alarm);
  }

  list(filter: AlarmFilter = {}): Promise<Alarm[]> {
    const open = (a: Alarm) => a.state !== "cleared";
    const found = [...this.#alarms.values()]
      .filter((a) => filter.siteId === undefined || a.siteId === filter.siteId)
      .filter((a) => filter.kind === undefined || a.kind === filter.kind)
      .filter((a) =>
        filter.state === undefined || (filter.state === "open" ? open(a) : a.state === filter.state)
      )
      .sort((a, b) => b.id - a.id)
      .slice(0, filter.limit ?? 100);
    return Promise.resolve(found.map((a) => ({ ...a })));
  }

  acknowledge(id: number, options: { by: string; at?: Date }): Promise<AckResult> {
    const alarm = this.#alarms.get(id);
    if (!alarm) return Promise.resolve({ ok: false, reason: "not-found" });
    if (alarm.state === "cleared") return Promise.resolve({ ok: false, reason: "already-cleared" });
    if (alarm.state === "raised") {
      alarm.state = "acknowledged";
      alarm.acknowledgedAt = (options.at ?? new Date()).toISOString();
      alarm.acknowledgedBy = options.by;
      this.#emit(alarm);
    }
    return Promise.resolve({ ok: true, alarm: { ...alarm } });
  }

  openCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const a of this.#alarms.values()) {
      if (a.state !== "cleared") counts.set(a.siteId, (counts.get(a.siteId) ?? 0) + 1);
    }
    return counts;
  }

  subscribe(listener: (alarm: Alarm) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(alarm: Alarm) {
    for (const l of this.#listeners) l({ ...alarm });
  }
}
