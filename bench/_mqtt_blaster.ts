/**
 * A load generator that speaks just enough MQTT 3.1.1 (OASIS, 2014) over TCP to publish QoS 1
 * as fast as a broker acknowledges: CONNECT (§3.1), PUBLISH with a packet id (§3.3), PUBACK
 * (§3.4), DISCONNECT (§3.14). Packets are encoded straight into large write buffers, so on a
 * 2-core machine the publisher takes little of the CPU the broker, the backend and PostgreSQL
 * need. It counts a message as sent only when its PUBACK arrives.
 */

export interface BlastOptions {
  host: string;
  port: number;
  clientId: string;
  /** What to send, from `encodePublishes`. */
  packets: EncodedPublishes;
  /** Unacknowledged messages allowed on this connection. */
  window: number;
}

export interface BlastResult {
  acked: number;
  /** performance.timeOrigin-based wall time (ms) of the first PUBLISH written. */
  firstSendMs: number;
  /** Wall time of the last PUBACK. */
  lastAckMs: number;
}

const encoder = new TextEncoder();

function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function connectPacket(clientId: string): Uint8Array {
  const id = encoder.encode(clientId);
  // Variable header: protocol name "MQTT", level 4, flags: clean session, keep alive 60 s.
  const variable = [0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 60];
  const body = [...variable, id.length >> 8, id.length & 0xff, ...id];
  return new Uint8Array([0x10, ...remainingLength(body.length), ...body]);
}

async function readExactly(conn: Deno.TcpConn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const read = await conn.read(out.subarray(got));
    if (read === null) throw new Error("connection closed by the broker");
    got += read;
  }
  return out;
}

export interface EncodedPublishes {
  bytes: Uint8Array;
  /** Where each packet ends in `bytes`. */
  ends: number[];
}

/**
 * PUBLISH packets (QoS 1, packet ids 1…65535 in turn) end to end. Encoded before the run, so
 * during it the publisher only writes bytes and counts acknowledgements, leaving the CPU to
 * what is measured.
 */
export function encodePublishes(next: () => [string, string] | undefined): EncodedPublishes {
  const parts: Uint8Array[] = [];
  const ends: number[] = [];
  let total = 0;
  let packetId = 0;
  for (let item = next(); item !== undefined; item = next()) {
    const topic = encoder.encode(item[0]);
    const payload = encoder.encode(item[1]);
    packetId = packetId % 65_535 + 1;
    const rest = 2 + topic.length + 2 + payload.length;
    const header = [0x32, ...remainingLength(rest), topic.length >> 8, topic.length & 0xff];
    const packet = new Uint8Array(header.length + topic.length + 2 + payload.length);
    packet.set(header);
    packet.set(topic, header.length);
    packet[header.length + topic.length] = packetId >> 8;
    packet[header.length + topic.length + 1] = packetId & 0xff;
    packet.set(payload, header.length + topic.length + 2);
    parts.push(packet);
    total += packet.length;
    ends.push(total);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return { bytes, ends };
}

/** Connects; `send()` then publishes every packet and resolves when all are acknowledged. */
export async function connectBlaster(
  options: BlastOptions,
): Promise<{ send: () => Promise<BlastResult> }> {
  const conn = await Deno.connect({ hostname: options.host, port: options.port });
  conn.setNoDelay(true);
  await conn.write(connectPacket(options.clientId));
  const connack = await readExactly(conn, 4);
  if (connack[0] !== 0x20 || connack[3] !== 0) {
    conn.close();
    throw new Error(`broker refused the connection: CONNACK ${[...connack].join(" ")}`);
  }
  const send = async (): Promise<BlastResult> => {
    let inFlight = 0;
    let acked = 0;
    let done = false;
    let lastAckMs = 0;
    let firstSendMs = 0;
    let wake: (() => void) | undefined;
    const reader = (async () => {
      const buf = new Uint8Array(64 * 1024);
      let carry = new Uint8Array(0);
      while (true) {
        const n = await conn.read(buf);
        if (n === null) {
          if (!done) throw new Error("connection closed by the broker");
          return;
        }
        let data = buf.subarray(0, n);
        if (carry.length > 0) {
          const joined = new Uint8Array(carry.length + n);
          joined.set(carry);
          joined.set(data, carry.length);
          data = joined;
        }
        let i = 0;
        // The broker only sends PUBACK (4 bytes) and PINGRESP (2) to a publisher.
        while (i + 2 <= data.length) {
          const type = data[i]! >> 4;
          const len = data[i + 1]!;
          if (i + 2 + len > data.length) break;
          if (type === 4) {
            inFlight--;
            acked++;
          }
          i += 2 + len;
        }
        carry = data.slice(i);
        lastAckMs = performance.timeOrigin + performance.now();
        if (wake) {
          const w = wake;
          wake = undefined;
          w();
        }
        if (done && inFlight === 0) return;
      }
    })();
    const packets = options.packets;
    const ends = packets.ends;
    let sentCount = 0;
    firstSendMs = performance.timeOrigin + performance.now();
    while (sentCount < ends.length) {
      while (inFlight >= options.window) await new Promise<void>((resolve) => (wake = resolve));
      const upTo = Math.min(ends.length, sentCount + (options.window - inFlight));
      const from = sentCount === 0 ? 0 : ends[sentCount - 1]!;
      const to = ends[upTo - 1]!;
      inFlight += upTo - sentCount;
      sentCount = upTo;
      let written = from;
      while (written < to) written += await conn.write(packets.bytes.subarray(written, to));
    }
    done = true;
    if (inFlight > 0) await reader;
    await conn.write(new Uint8Array([0xe0, 0x00])); // DISCONNECT
    conn.close();
    await reader.catch(() => {});
    return { acked, firstSendMs, lastAckMs };
  };
  return { send };
}
