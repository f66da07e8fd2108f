/**
 * Writes the provisioned dashboards, grafana/dashboards/*.json, from their source:
 * `deno task grafana`. Grafana loads the JSON; edit the TypeScript.
 */
import type { Dashboard } from "./kit.ts";
import { FLEET_OVERVIEW } from "./fleet_overview.ts";
import { SITE_DETAIL } from "./site_detail.ts";

/** Each file under grafana/dashboards/ and the dashboard it holds. */
export const DASHBOARD_FILES: Readonly<Record<string, Dashboard>> = {
  "fleet_overview.json": FLEET_OVERVIEW,
  "site_detail.json": SITE_DETAIL,
};

if (import.meta.main) {
  for (const [name, board] of Object.entries(DASHBOARD_FILES)) {
    const url = new URL(`../dashboards/${name}`, import.meta.url);
    await Deno.writeTextFile(url, JSON.stringify(board, null, 2) + "\n");
    console.log(`wrote grafana/dashboards/${name}`);
  }
}
