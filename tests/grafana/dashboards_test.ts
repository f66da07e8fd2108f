/**
 * The provisioned dashboards: the JSON files match their source, every panel is wired to the
 * provisioned data source, and every panel query, expanded exactly as Grafana expands it
 * (grafana_sql.ts), runs on a migrated PostgreSQL filled by a short simulation — as the
 * read-only role Grafana connects as — and returns rows, over a short range (raw telemetry) and a
 * long one (telemetry_hourly).
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { DASHBOARD_FILES } from "../../grafana/source/build.ts";
import { type Dashboard, DATASOURCE, type Panel } from "../../grafana/source/kit.ts";
import { SIM_PRESETS } from "../../src/device/sim_presets.ts";
import { expandGrafanaSql, type GrafanaQueryContext } from "./grafana_sql.ts";
import { type SimulatedFleet, withSimulatedFleet } from "./simulation.ts";

const DASHBOARDS = new URL("../../grafana/dashboards/", import.meta.url);

Deno.test("grafana/dashboards/*.json are what grafana/source builds (deno task grafana)", async () => {
  const files: string[] = [];
  for await (const entry of Deno.readDir(DASHBOARDS)) files.push(entry.name);
  assert.deepEqual(files.sort(), Object.keys(DASHBOARD_FILES).sort());
  for (const [name, board] of Object.entries(DASHBOARD_FILES)) {
    const onDisk = JSON.parse(await Deno.readTextFile(new URL(name, DASHBOARDS)));
    assert.deepEqual(onDisk, JSON.parse(JSON.stringify(board)), `${name} is up to date`);
  }
});

function overlaps(a: Panel["gridPos"], b: Panel["gridPos"]): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

Deno.test("every panel queries the provisioned data source with plain SQL, laid out without overlap", async () => {
  const provisioned = parse(
    await Deno.readTextFile(
      new URL("../../grafana/provisioning/datasources/kasi.yaml", import.meta.url),
    ),
  ).datasources[0];
  assert.deepEqual({ type: provisioned.type, uid: provisioned.uid }, DATASOURCE);
  const uids = new Set(Object.values(DASHBOARD_FILES).map((d) => d.uid));
  for (const board of Object.values(DASHBOARD_FILES)) {
    const ids = board.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `${board.uid}: panel ids are unique`);
    board.panels.forEach((p, i) => {
      assert.deepEqual(p.datasource, DATASOURCE, p.title);
      assert.ok(p.targets.length > 0, p.title);
      assert.ok(p.description.length > 20, `${p.title} says what it shows`);
      assert.ok(p.gridPos.x >= 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits 24 columns`);
      for (const t of p.targets) {
        assert.deepEqual(t.datasource, DATASOURCE);
        // Newer Grafana strips SQL comments before expanding macros, older does not: without
        // comments both send the same text.
        assert.ok(!/--|\/\*/.test(t.rawSql), `${p.title} ${t.refId}: no SQL comments`);
      }
      for (const q of board.panels.slice(i + 1)) {
        assert.ok(!overlaps(p.gridPos, q.gridPos), `${p.title} and ${q.title} overlap`);
      }
    });
    // Links to other dashboards name dashboards that exist, and the site variable that does.
    const json = JSON.stringify(board);
    for (const [, uid] of json.matchAll(/\/d\/([\w-]+)\//g)) assert.ok(uids.has(uid!), uid);
    for (const [, name] of json.matchAll(/var-(\w+)=/g)) assert.equal(name, "site");
  }
});

interface Query {
  where: string;
  rawSql: string;
  format: string;
}

/** Every query of a dashboard: its variables' and its panels' targets. */
function queries(board: Dashboard): Query[] {
  const out: Query[] = [];
  for (const v of board.templating.list as { name: string; query: string }[]) {
    out.push({ where: `${board.uid} variable $${v.name}`, rawSql: v.query, format: "table" });
  }
  for (const p of board.panels) {
    for (const t of p.targets) {
      out.push({
        where: `${board.uid} "${p.title}" ${t.refId}`,
        rawSql: t.rawSql,
        format: t.format,
      });
    }
  }
  return out;
}

async function run(
  fleet: SimulatedFleet,
  query: Query,
  ctx: GrafanaQueryContext,
): Promise<Record<string, unknown>[]> {
  const text = expandGrafanaSql(query.rawSql, ctx);
  assert.ok(!/\$(__|site\b)/.test(text), `${query.where}: fully expanded:\n${text}`);
  try {
    return [...await fleet.reader.unsafe(text)];
  } catch (error) {
    throw new Error(`${query.where} failed: ${(error as Error).message}\n${text}`);
  }
}

/** Seconds since the epoch of a time column: a timestamptz or Grafana's numeric epoch. */
function epochS(value: unknown): number {
  return value instanceof Date ? value.getTime() / 1000 : Number(value);
}

/** The panels whose query is series() of site_detail.ts: raw and hourly branches alike. */
const SERIES_PANELS = [
  "State of charge",
  "Battery voltage",
  "Load, PV and generator",
  "Fuel level",
  "Battery temperature",
];

Deno.test("every panel query, expanded as Grafana does, returns rows from a simulated fleet", async (t) => {
  await withSimulatedFleet(async (fleet) => {
    // 3 sites × 150 simulated minutes at one message a minute is 450; a loaded machine skips
    // ticks (the agent does not burst to catch up), so only a floor is asserted.
    assert.ok(fleet.stored >= 150, `${fleet.stored} telemetry rows`);
    const clinic = fleet.sites.find((s) => s.preset === "medium")!.siteId;
    const all = Object.values(DASHBOARD_FILES).flatMap(queries);
    const short: GrafanaQueryContext = {
      from: new Date(fleet.start.getTime() - 1_800_000),
      to: new Date(fleet.end.getTime() + 1_800_000),
      intervalMs: 20_000, // what Grafana picks for 3.5 h across ~1000 px (rounded to 20s)
      variables: { site: clinic },
    };
    const long: GrafanaQueryContext = {
      from: new Date(fleet.end.getTime() - 30 * 86_400_000),
      to: new Date(fleet.end.getTime() + 3_600_000),
      intervalMs: 3_600_000, // 30 days across ~1000 px: Grafana's 1h
      variables: { site: clinic },
    };

    await t.step("over 3.5 hours: raw telemetry", async () => {
      for (const query of all) {
        const rows = await run(fleet, query, short);
        assert.ok(rows.length > 0, `${query.where}: no rows`);
      }
    });

    await t.step("over 30 days: the hourly rollup", async () => {
      const readings = await fleet.sql<{ time: Date }[]>`
        select time from telemetry where site_id = ${clinic}`;
      const hours = [...new Set(readings.map((r) => Math.floor(r.time.getTime() / 3_600_000)))]
        .sort((a, b) => a - b).map((h) => h * 3600);
      // 2.5 simulated hours from a whole hour: three hours (a fourth if stopping ran late).
      assert.ok(hours.length >= 3, `${hours.length} hours of data`);
      for (const query of all) {
        const rows = await run(fleet, query, long);
        assert.ok(rows.length > 0, `${query.where}: no rows`);
        if (SERIES_PANELS.some((title) => query.where.includes(`"${title}" A`))) {
          // From telemetry_hourly: one point per UTC hour that holds readings, on the hour.
          assert.deepEqual(rows.map((r) => epochS(r.time)), hours, query.where);
        }
      }
    });

    await t.step("the raw branch groups by Grafana's interval", async () => {
      const soc = all.find((q) => q.where.includes('"State of charge" A'))!;
      const rows = await run(fleet, soc, short);
      // One point per 20-second bucket that holds a reading: floor(epoch / 20) * 20.
      const readings = await fleet.sql<{ time: Date }[]>`
        select time from telemetry where site_id = ${clinic}`;
      const buckets = new Set(readings.map((r) => Math.floor(r.time.getTime() / 20_000) * 20));
      assert.deepEqual(rows.map((r) => epochS(r.time)), [...buckets].sort((a, b) => a - b));
      assert.ok(rows.length >= 50, `${rows.length} points over 2.5 h`);
    });

    await t.step("the fleet's panels show the simulated sites", async () => {
      const find = (title: string) => all.find((q) => q.where.includes(`"${title}"`))!;
      const table = await run(fleet, find("Sites by urgency"), short);
      assert.deepEqual(
        table.map((r) => r.Site).sort(),
        [...fleet.sites.map((s) => s.siteId), fleet.legacySiteId].sort(),
      );
      // The agents stopped cleanly, so each published "offline" (docs/protocol.md, Status);
      // the first-generation site sends no status at all.
      const [counts] = await run(fleet, find("Sites"), short);
      assert.equal(Number(counts!.Offline), 3);
      assert.equal(Number(counts!["All sites"]), 4);
      // The map places each site at its preset's coordinates (src/device/sim_presets.ts:
      // Kano, Kisumu, Mwanza).
      const map = await run(fleet, find("Sites map"), short);
      assert.deepEqual(
        map.map((r) => [r.latitude, r.longitude]).sort(),
        fleet.sites.map((s) => [
          SIM_PRESETS[s.preset].profile.latitude,
          SIM_PRESETS[s.preset].profile.longitude,
        ]).sort(),
      );
      // The one first-generation reading, as published: 12.5 V, 85 %, 150 W on battery.
      const gen1 = await run(fleet, find("First-generation sites"), short);
      assert.deepEqual(
        gen1.map((r) => [r.Site, r.Source, r.Voltage, r.Fuel, r.Load]),
        [[fleet.legacySiteId, "Battery", 12.5, 85, 150]],
      );
      // One undecodable payload: counted under "payload", in one hour.
      const rejected = await run(fleet, find("Rejected messages"), short);
      assert.deepEqual(rejected.map((r) => [r.metric, Number(r.rejected)]), [["payload", 1]]);
      const events = await run(fleet, find("Device events"), short);
      assert.ok(events.some((e) => e.Event === "generator-start-failed" && e.Site === clinic));
    });
  });
});
