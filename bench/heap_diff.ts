/**
 * What a site costs, by the shape of the objects: two V8 heap snapshots (bench:fleet's
 * `--heap-snapshot FILE` writes FILE.base before any site and FILE after the memory run)
 * compared, bytes and objects per site for each constructor and set of property names, and
 * how many of the site's numbers are boxed (a number in an object's field that is not a small
 * integer is a 16-byte HeapNumber of its own).
 *
 *   deno run -A bench/heap_diff.ts FILE.base FILE --sites 100000 [--top 25]   (N: --memory-sites)
 */
import { parseArgs } from "node:util";

const USAGE = "usage: bench/heap_diff.ts FILE.base FILE --sites N [--top 25]  (bench:fleet " +
  "--heap-snapshot FILE wrote the two; N is its --memory-sites)";

function usage(problem: string): never {
  console.error(`heap_diff: ${problem}\n${USAGE}`);
  Deno.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    args: Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args,
    allowPositionals: true,
    options: { sites: { type: "string" }, top: { type: "string", default: "25" } },
  });
} catch (error) {
  usage((error as Error).message);
}
const { values, positionals } = parsed;
const sites = Number(values.sites);
const top = Number(values.top);
if (positionals.length !== 2) usage(`two snapshot files wanted, got ${positionals.length}`);
if (!Number.isSafeInteger(sites) || sites <= 0) {
  usage(`--sites must be a whole number above 0, got ${values.sites ?? "none"}`);
}
if (!Number.isSafeInteger(top) || top <= 0) {
  usage(`--top must be a whole number above 0, got ${values.top}`);
}

interface Shape {
  bytes: number;
  count: number;
  /** HeapNumbers its objects point to from a property. */
  boxed: number;
}

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Bytes, objects and boxed numbers by shape: "Constructor:prop,prop,…" for objects. */
function shapes(path: string): Map<string, Shape> {
  let d: Snapshot;
  try {
    d = JSON.parse(Deno.readTextFileSync(path)) as Snapshot;
    if (!d?.snapshot?.meta?.node_fields) throw new Error("no snapshot.meta.node_fields");
  } catch (error) {
    console.error(
      `heap_diff: ${path} is not a readable V8 heap snapshot: ${(error as Error).message}`,
    );
    Deno.exit(1);
  }
  const { node_fields: nf, node_types, edge_fields: ef, edge_types } = d.snapshot.meta;
  const nodeTypes = node_types[0], edgeTypes = edge_types[0];
  const [n, en] = [nf.length, ef.length];
  const type = nf.indexOf("type"), name = nf.indexOf("name");
  const size = nf.indexOf("self_size"), edgeCount = nf.indexOf("edge_count");
  const edgeType = ef.indexOf("type"), edgeName = ef.indexOf("name_or_index");
  const toNode = ef.indexOf("to_node");
  const { nodes, edges, strings } = d;
  const out = new Map<string, Shape>();
  let e = 0;
  for (let i = 0; i < nodes.length; i += n) {
    const t = nodeTypes[nodes[i + type]!]!;
    const edgesEnd = e + nodes[i + edgeCount]! * en;
    let key = `${t}:${strings[nodes[i + name]!]!.slice(0, 60)}`;
    let boxed = 0;
    if (t === "object") {
      const props: string[] = [];
      for (let j = e; j < edgesEnd; j += en) {
        if (edgeTypes[edges[j + edgeType]!] !== "property") continue;
        props.push(strings[edges[j + edgeName]!]!);
        if (nodeTypes[nodes[edges[j + toNode]! + type]!] === "number") boxed++;
      }
      key = `${strings[nodes[i + name]!]}:${props.slice(0, 8).join(",")}`;
    } else if (t === "number" || t === "string") key = t;
    const s = out.get(key) ?? { bytes: 0, count: 0, boxed: 0 };
    s.bytes += nodes[i + size]!;
    s.count++;
    s.boxed += boxed;
    out.set(key, s);
    e = edgesEnd;
  }
  return out;
}

const [base, after] = positionals.map(shapes) as [Map<string, Shape>, Map<string, Shape>];
const rows = [...after].map(([key, a]) => {
  const b = base.get(key) ?? { bytes: 0, count: 0, boxed: 0 };
  return {
    key,
    bytes: (a.bytes - b.bytes) / sites,
    count: (a.count - b.count) / sites,
    boxed: (a.boxed - b.boxed) / sites,
  };
}).sort((x, y) => y.bytes - x.bytes);
const total = rows.reduce((sum, r) => sum + r.bytes, 0);
console.log(`V8 heap per site, by shape (${sites} sites): ${total.toFixed(0)} bytes`);
if (total < 0) {
  console.log("  (the second snapshot holds less than the first: the base, FILE.base, goes first)");
}
console.log("  bytes  objects  boxed numbers  shape");
for (const r of rows.slice(0, top)) {
  console.log(
    `${r.bytes.toFixed(0).padStart(7)} ${r.count.toFixed(2).padStart(8)} ` +
      `${r.boxed.toFixed(2).padStart(14)}  ${r.key.slice(0, 110)}`,
  );
}
