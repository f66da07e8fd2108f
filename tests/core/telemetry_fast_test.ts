/**
 * The fast decode path must agree with the zod path on every input: what the schema rejects it
 * rejects (with the schema's reason, since it falls back to it), what the schema accepts it
 * decodes to the identical record. Checked by hand on known cases, on every first-generation case
 * of the shared data, and on 30 000 seeded random mutations of valid messages.
 */
import assert from "node:assert/strict";
import { daysFromCivil, rfc3339Ms } from "../../src/core/rfc3339.ts";
import { nextRandom } from "../../src/core/simulator.ts";
import {
  decodeLegacyTelemetry,
  decodeLegacyTelemetryReference,
  decodeTelemetryV1,
  decodeTelemetryV1Reference,
} from "../../src/core/telemetry.ts";
import { fastDecodeLegacy, fastDecodeV1 } from "../../src/core/telemetry_fast.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);
const LEGACY_SITE = "3f2b8c1e-9a4d-4e7b-8c21-5d6f7a8b9c0d";
const RECEIVED = new Date("2026-11-20T10:00:05Z");

Deno.test("daysFromCivil() counts days from 1970-01-01", () => {
  assert.equal(daysFromCivil(1970, 1, 1), 0);
  // 1970..1999 = 30 years with 7 leap days (72, 76, 80, 84, 88, 92, 96): 30·365 + 7 = 10 957.
  assert.equal(daysFromCivil(2000, 1, 1), 10_957);
  // + 31 (January) + 29 (February of a leap year) = 11 017.
  assert.equal(daysFromCivil(2000, 3, 1), 11_017);
  assert.equal(daysFromCivil(1969, 12, 31), -1);
});

Deno.test("rfc3339Ms() reads RFC 3339 date-times as zod's datetime grammar defines them", () => {
  const ms = (text: string) => rfc3339Ms(bytes(text), 0, text.length);
  // 2024-02-29 is day 19 782 (daysFromCivil); 23:59:59.999 at +02:00 is 21:59:59.999 UTC.
  assert.equal(ms("2024-02-29T23:59:59.999+02:00"), Date.UTC(2024, 1, 29, 21, 59, 59, 999));
  // Fractions: .1 is 100 ms, .12 is 120 ms, digits after the third are cut (V8 truncates).
  assert.equal(ms("2024-01-01T00:00:00.1Z"), Date.UTC(2024, 0, 1, 0, 0, 0, 100));
  assert.equal(ms("2024-01-01T00:00:00.12Z"), Date.UTC(2024, 0, 1, 0, 0, 0, 120));
  assert.equal(ms("2024-01-01T00:00:00.123999Z"), Date.UTC(2024, 0, 1, 0, 0, 0, 123));
  // 2000 is a leap year (divisible by 400), 1900 and 2023 are not.
  assert.equal(ms("2000-02-29T00:00:00Z"), Date.UTC(2000, 1, 29));
  for (
    const bad of [
      "1900-02-29T00:00:00Z",
      "2023-02-29T00:00:00Z",
      "2024-04-31T00:00:00Z",
      "2024-03-01T12:00Z", // no seconds
      "2024-03-01T12:00:00", // no offset
      "2024-03-01T12:00:00+0200",
      "2024-03-01T12:00:00z",
      "2024-03-01 12:00:00Z",
      "2024-03-01T24:00:00Z",
      "2024-03-01T12:00:60Z",
      "2024-03-01T12:00:00.Z",
      "2024-03-01T12:00:00+24:00",
    ]
  ) assert.ok(Number.isNaN(ms(bad)), bad);
});

Deno.test("fastDecodeLegacy() decodes the reference first-generation message", () => {
  const payload = bytes(
    `{"site_id": "${LEGACY_SITE.toUpperCase()}", "timestamp_utc": "2024-03-01T12:00:00Z", ` +
      `"active_source": "Diesel", "battery_voltage": 12.6, "is_generator_on": true, ` +
      `"fuel_level_percent": 40.5, "current_load_watts": 820}`,
  );
  // docs/protocol.md: Diesel → generator, the id is lower-cased, fields v1 has and this lacks
  // are null.
  assert.deepEqual(fastDecodeLegacy(payload, LEGACY_SITE), {
    siteId: LEGACY_SITE,
    time: new Date("2024-03-01T12:00:00Z"),
    protocol: "legacy",
    source: "generator",
    batteryV: 12.6,
    batteryA: null,
    socPct: null,
    batteryTempC: null,
    loadW: 820,
    pvW: null,
    genRunning: true,
    genW: null,
    fuelPct: 40.5,
    shedTier: null,
    seq: null,
    clockRestamped: false,
  });
});

Deno.test("fastDecodeV1() leaves every doubtful input to the zod path", () => {
  const base = { v: 1, site_id: "t-1", ts: "2024-03-01T12:00:00Z", source: "off" };
  const ok = { ...base, battery_v: 12, load_w: 0, gen_running: false };
  assert.ok(fastDecodeV1(bytes(JSON.stringify(ok)), "t-1"));
  // seq is optional but not nullable; an escape, a nested value, a repeated key: not fast.
  assert.equal(fastDecodeV1(bytes(JSON.stringify({ ...ok, seq: null })), "t-1"), undefined);
  assert.equal(
    fastDecodeV1(bytes(JSON.stringify(ok).replace("off", "o\\u0066f")), "t-1"),
    undefined,
  );
  assert.equal(fastDecodeV1(bytes(JSON.stringify({ ...ok, x: { y: 1 } })), "t-1"), undefined);
  assert.equal(fastDecodeV1(bytes(JSON.stringify(ok).replace("}", ',"v":1}')), "t-1"), undefined);
  assert.equal(fastDecodeV1(bytes(JSON.stringify(ok)), "t-2"), undefined);
});

Deno.test("decodeLegacyTelemetry() agrees with the zod path on every shared first-generation case", async () => {
  const url = new URL("../../../shared/cases/first-gen-telemetry.jsonl", import.meta.url);
  const lines = (await Deno.readTextFile(url)).split("\n").filter((l) => l.trim() !== "");
  assert.equal(lines.length, 18);
  for (const line of lines) {
    const c = JSON.parse(line) as { topic: string; payload: string; expect: string };
    const site = c.topic.split("/")[2]!;
    const payload = bytes(c.payload);
    assert.deepStrictEqual(
      decodeLegacyTelemetry(payload, site, RECEIVED),
      decodeLegacyTelemetryReference(payload, site, RECEIVED),
      c.payload.slice(0, 120),
    );
  }
});

// --- Random mutations --------------------------------------------------------------------------

type Field = [key: string, raw: string];

class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed;
  }
  next(): number {
    const r = nextRandom(this.#state);
    this.#state = r.state;
    return r.value;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

const NUMBER_TEXTS = [
  "0",
  "-0",
  "0.0",
  "-0.0",
  "1",
  "12",
  "12.5",
  "12.979999542236328",
  "100",
  "100.0",
  "100.0000001",
  "20",
  "20.5",
  "-1",
  "-40",
  "-40.1",
  "5000",
  "-5000",
  "5000.01",
  "1e2",
  "1E-2",
  "2.5e+1",
  "012",
  "1.",
  ".5",
  "+1",
  "3",
  "3.0",
  "2.9999999999999999",
  "65535",
  "1000000",
  "1000001",
  "9007199254740993",
  "1e400",
  "-",
  "0x10",
  "0.000001",
  "99.99999999999999999",
  "4821",
  "7",
] as const;
const STRING_TEXTS = [
  '"battery"',
  '"generator"',
  '"off"',
  '"Battery"',
  '"Diesel"',
  '"Shutdown"',
  '"Nuclear"',
  '""',
  '"b\\u0061ttery"',
  '"batt\u00e9ry"',
  '"12.4"',
  '"2024-03-01T12:00:00Z"',
  '"t-1"',
] as const;
const LITERALS = ["true", "false", "null", "[]", "{}", '{"a":1}', "[1,2]", "nul", "True"] as const;
const SPACES = ["", " ", "\n", "\t", "\r\n  "] as const;

function randomTimestamp(rng: Rng): string {
  const year = rng.pick([1970, 1999, 2000, 2023, 2024, 2026, 2100, 9999, 50]);
  const month = rng.int(14); // 0 and 13 are invalid
  const day = rng.int(33);
  const two = (n: number) => String(n).padStart(2, "0");
  const frac = rng.pick(["", ".5", ".25", ".123", ".123456", ".", ".9999999"]);
  const zone = rng.pick(["Z", "+02:00", "-05:30", "+23:59", "+24:00", "z", "", "+0200", "-00:00"]);
  const sep = rng.int(20) === 0 ? " " : "T";
  const hour = rng.int(26);
  const minute = rng.int(61);
  const second = rng.int(62);
  return `"${String(year).padStart(4, "0")}-${two(month)}-${two(day)}${sep}${two(hour)}:` +
    `${two(minute)}:${two(second)}${frac}${zone}"`;
}

function mutate(rng: Rng, fields: Field[], siteIds: string[]): Field[] {
  const out = fields.map(([k, v]) => [k, v] as Field);
  const i = rng.int(out.length);
  switch (rng.int(9)) {
    case 0:
      out[i]![1] = rng.pick(NUMBER_TEXTS);
      break;
    case 1:
      out[i]![1] = rng.pick(STRING_TEXTS);
      break;
    case 2:
      out[i]![1] = rng.pick(LITERALS);
      break;
    case 3:
      out.splice(i, 1);
      break;
    case 4:
      out.splice(rng.int(out.length + 1), 0, [
        rng.pick(["firmware", "x", "v", "seq"]),
        rng.pick([
          ...NUMBER_TEXTS.slice(0, 5),
          ...LITERALS,
          '"3.0.1"',
        ]),
      ]);
      break;
    case 5:
      out.push([...out[i]!]);
      break;
    case 6:
      out[i]![1] = randomTimestamp(rng);
      break;
    case 7:
      out[i]![1] = `"${rng.pick(siteIds)}"`;
      break;
    default: {
      const j = rng.int(out.length);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
  }
  return out;
}

function render(rng: Rng, fields: Field[]): Uint8Array {
  const sp = () => rng.pick(SPACES);
  let text = `${sp()}{${sp()}` +
    fields.map(([k, v]) => `"${k}"${sp()}:${sp()}${v}`).join(`${sp()},${sp()}`) + `${sp()}}${sp()}`;
  switch (rng.int(32)) {
    case 0:
      text = text.slice(0, rng.int(text.length));
      break;
    case 1:
      text = text.replace(/}\s*$/, ",}");
      break;
    case 2:
      text += "x";
      break;
    case 3:
      text = "\uFEFF" + text;
      break;
  }
  const b = encoder.encode(text);
  if (rng.int(30) === 0 && b.length > 0) b[rng.int(b.length)] = rng.int(256);
  return b;
}

function fuzz(
  options: {
    seed: number;
    base: Field[];
    topicSites: string[];
    decode: typeof decodeTelemetryV1;
    reference: typeof decodeTelemetryV1;
    fast: typeof fastDecodeV1;
  },
) {
  const rng = new Rng(options.seed);
  let accepted = 0;
  let fastAccepted = 0;
  const cases = 15_000;
  for (let n = 0; n < cases; n++) {
    let fields = options.base;
    const mutations = rng.int(3);
    for (let m = 0; m < mutations; m++) fields = mutate(rng, fields, options.topicSites);
    const payload = render(rng, fields);
    // Mostly the topic of the payload's own site, so that plenty of cases are valid.
    const topicSite = rng.int(10) < 7 ? options.topicSites[0]! : rng.pick(options.topicSites);
    const receivedAt = new Date(Date.UTC(2026, 10, 20) + rng.int(400) * 86_400_000);
    const fast = options.decode(payload, topicSite, receivedAt);
    const reference = options.reference(payload, topicSite, receivedAt);
    assert.deepStrictEqual(fast, reference, new TextDecoder().decode(payload));
    if (reference.ok) accepted++;
    if (options.fast(payload, topicSite)) fastAccepted++;
  }
  // Meaningful only with plenty of both outcomes, and with the fast path taking most valid ones
  // (the rest have an escape, a repeated key or a nested unknown field).
  assert.ok(accepted > cases * 0.15 && accepted < cases * 0.85, `${accepted} of ${cases} accepted`);
  assert.ok(fastAccepted > accepted * 0.7, `fast path took ${fastAccepted} of ${accepted}`);
}

Deno.test("decodeTelemetryV1() equals the zod path on 15 000 random mutations", () => {
  fuzz({
    seed: 20261120,
    base: [
      ["v", "1"],
      ["site_id", '"tower-017"'],
      ["ts", '"2026-11-20T09:59:00.250+01:00"'],
      ["seq", "4821"],
      ["source", '"battery"'],
      ["battery_v", "51.8"],
      ["battery_a", "-22.5"],
      ["soc_pct", "64"],
      ["battery_temp_c", "31.5"],
      ["load_w", "1150"],
      ["pv_w", "0"],
      ["gen_running", "false"],
      ["gen_w", "null"],
      ["fuel_pct", "72"],
      ["shed_tier", "0"],
    ],
    topicSites: ["tower-017", "Tower-017", "t-1", "-bad", "tower-017x"],
    decode: decodeTelemetryV1,
    reference: decodeTelemetryV1Reference,
    fast: fastDecodeV1,
  });
});

Deno.test("decodeLegacyTelemetry() equals the zod path on 15 000 random mutations", () => {
  fuzz({
    seed: 430,
    base: [
      ["site_id", `"${LEGACY_SITE}"`],
      ["timestamp_utc", '"2026-11-20T10:00:00Z"'],
      ["active_source", '"Battery"'],
      ["battery_voltage", "12.5"],
      ["is_generator_on", "false"],
      ["fuel_level_percent", "85.0"],
      ["current_load_watts", "150.0"],
    ],
    topicSites: [
      LEGACY_SITE,
      LEGACY_SITE.toUpperCase(),
      "3f2b8c1e-9a4d-4e7b-8c21-5d6f7a8b9c0e",
      "3f2b8c1e9a4d4e7b8c215d6f7a8b9c0d",
      "3f2b8c1e-9a4d-4e7b-8c21-5d6f7a8b9c0g",
    ],
    decode: decodeLegacyTelemetry,
    reference: decodeLegacyTelemetryReference,
    fast: fastDecodeLegacy,
  });
});
