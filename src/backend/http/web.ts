/**
 * The web view's files: plain HTML, an ES module and CSS, no build step, and uPlot from its npm
 * package. Imported as text, so they are part of the module graph: `deno compile` embeds them
 * and a compiled `kasi` needs no files beside it.
 */
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import appJs from "./web/app.js" with { type: "text" };
import chartsJs from "./web/charts.js" with { type: "text" };
import eventStreamJs from "./web/event_stream.js" with { type: "text" };
import fleetTableJs from "./web/fleet_table.js" with { type: "text" };
import indexHtml from "./web/index.html" with { type: "text" };
import styleCss from "./web/style.css" with { type: "text" };

const FILES: Record<string, { body: string; type: string }> = {
  "/": { body: indexHtml, type: "text/html; charset=utf-8" },
  "/app.js": { body: appJs, type: "text/javascript; charset=utf-8" },
  "/charts.js": { body: chartsJs, type: "text/javascript; charset=utf-8" },
  "/event_stream.js": { body: eventStreamJs, type: "text/javascript; charset=utf-8" },
  "/fleet_table.js": { body: fleetTableJs, type: "text/javascript; charset=utf-8" },
  "/style.css": { body: styleCss, type: "text/css; charset=utf-8" },
  "/vendor/uPlot.iife.min.js": { body: uplotJs, type: "text/javascript; charset=utf-8" },
  "/vendor/uPlot.min.css": { body: uplotCss, type: "text/css; charset=utf-8" },
};

/** The file at `path`, or null. */
export function webFile(path: string): Response | null {
  const file = FILES[path === "/index.html" ? "/" : path];
  if (!file) return null;
  return new Response(file.body, {
    headers: {
      "content-type": file.type,
      // The page itself holds no data; a reload picks up a new version.
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
    },
  });
}
