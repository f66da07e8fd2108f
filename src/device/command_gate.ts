/**
 * Which strategic command the device acts on. Every payload on the command topic passes here:
 * it is decoded, checked against this site, its sequence number and the wall clock, and either
 * accepted or rejected with a reason that names the field. A held command that expires makes the
 * device fall back to its safe local defaults, reported once.
 */
import { commandStatus, decodeCommandV1, type StrategicCommand } from "../core/command.ts";

export type CommandOutcome =
  | { kind: "accepted"; command: StrategicCommand; detail: string }
  | { kind: "rejected"; detail: string; seq: number | null }
  /** An empty payload (a cleared retained command) or a repeat of the accepted one. */
  | { kind: "ignored"; detail: string };

export class CommandGate {
  readonly siteId: string;
  #command: StrategicCommand | null = null;
  #expired = false;

  constructor(siteId: string) {
    this.siteId = siteId;
  }

  /** The last accepted command, valid or since expired. */
  get lastAccepted(): StrategicCommand | null {
    return this.#command;
  }

  /** True while no command or only an expired one is held. */
  get usingLocalDefaults(): boolean {
    return this.#command === null || this.#expired;
  }

  receive(payload: Uint8Array | string, wallNow: Date): CommandOutcome {
    const size = typeof payload === "string" ? payload.length : payload.byteLength;
    if (size === 0) return { kind: "ignored", detail: "empty payload (cleared command)" };
    const decoded = decodeCommandV1(payload);
    if (!decoded.ok) {
      return { kind: "rejected", detail: `invalid payload: ${decoded.reason}`, seq: null };
    }
    const c = decoded.command;
    if (c.siteId !== this.siteId) {
      return {
        kind: "rejected",
        detail: `site_id: "${c.siteId}" does not match this site "${this.siteId}"`,
        seq: c.seq,
      };
    }
    const lastSeq = this.#command?.seq ?? null;
    // A retained command comes again on every re-subscribe: the same seq is not news.
    if (c.seq === lastSeq) {
      return { kind: "ignored", detail: `repeat of the accepted command seq ${c.seq}` };
    }
    const now = wallNow.toISOString();
    switch (commandStatus(c, wallNow, lastSeq)) {
      case "expired":
        return {
          kind: "rejected",
          detail: `expired: valid_until ${c.validUntil.toISOString()} is not after now ${now}`,
          seq: c.seq,
        };
      case "not-yet-valid":
        return {
          kind: "rejected",
          detail: `not yet valid: issued_at ${c.issuedAt.toISOString()} is more than 60 s ` +
            `after now ${now}`,
          seq: c.seq,
        };
      case "stale-seq":
        return {
          kind: "rejected",
          detail: `stale seq: ${c.seq} ≤ last accepted ${lastSeq}`,
          seq: c.seq,
        };
      case "valid":
        break;
    }
    this.#command = c;
    this.#expired = false;
    return {
      kind: "accepted",
      command: c,
      detail: `acting on command seq ${c.seq}: mode ${c.mode}, start gen at ` +
        `${c.genStartSocPct} %, stop at ${c.genStopSocPct} %, reserve ${c.reserveSocPct} %, ` +
        `valid until ${c.validUntil.toISOString()}`,
    };
  }

  /**
   * The command to decide with now: the held one while valid, else null. `expired` is set on
   * the one call where the held command stopped being valid, so the caller reports it once.
   */
  active(wallNow: Date): { command: StrategicCommand | null; expired: StrategicCommand | null } {
    const command = this.#command;
    if (command === null || this.#expired) return { command: null, expired: null };
    if (commandStatus(command, wallNow, null) === "valid") return { command, expired: null };
    this.#expired = true;
    return { command: null, expired: command };
  }
}
