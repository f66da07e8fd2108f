/**
 * The web view end to end in headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core): a backend with a token, three simulated sites publishing, the page loads,
 * lists the sites, and the selected site's charts grow as telemetry arrives. The screenshot is
 * kept at .kasi/artifacts/web_view.png (git-ignored).
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { MemoryLogger } from "../../../src/core/log.ts";
import { startSimDevice } from "../../../src/device/run.ts";
import { MemoryAlarmBook } from "../../_helpers/alarm_book.ts";
import { uniqueSiteId } from "../../_helpers/mqtt.ts";
import { waitFor } from "../harness.ts";
import { withHttpBackend } from "./http_harness.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACT = new URL("../../../.kasi/artifacts/web_view.png", import.meta.url);
const TOKEN = "web-view-token-51c2";
const SPEED = 120;

Deno.test("the web view lists the simulated sites by urgency and its charts grow live", async () => {
  const sites = [
    { siteId: uniqueSiteId("web-tower"), preset: "small" as const, seed: 1 },
    { siteId: uniqueSiteId("web-clinic"), preset: "medium" as const, seed: 2 },
    { siteId: uniqueSiteId("web-grid"), preset: "large" as const, seed: 3 },
  ];
  // One simulated clock for the sites and the backend, as in the demo: 05:00 UTC today.
  const startTime = new Date();
  startTime.setUTCHours(5, 0, 0, 0);
  const startedMs = performance.now();
  const simClock = () => new Date(startTime.getTime() + (performance.now() - startedMs) * SPEED);
  const alarms = new MemoryAlarmBook();
  await withHttpBackend({ apiToken: TOKEN, alarms }, async ({ service, base, brokerUrl }) => {
    const log = new MemoryLogger();
    const devices = [];
    try {
      for (const s of sites) {
        devices.push(
          await startSimDevice({
            ...s,
            speed: SPEED,
            intervalS: 10,
            mqttUrl: brokerUrl,
            log,
            startTime,
            clock: simClock,
          }),
        );
      }
      await waitFor(
        "telemetry from every site",
        () => sites.every((s) => service.sites().some((v) => v.siteId === s.siteId && v.latest)),
        15_000,
      );
      alarms.raise(sites[1]!.siteId, "low-fuel", {
        message: "Fuel 8 % (16 L), below 10 %",
        at: simClock(),
      });

      const profile = await Deno.makeTempDir({ prefix: "kasi-chromium-" });
      // A new, empty profile (--user-data-dir), as playwright-core takes it.
      const browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1400, height: 1000 },
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(String(e)));
        // A file the page needs and the server does not have shows here, not as a timeout.
        page.on("response", (r) => {
          if (r.status() === 404) errors.push(`404 ${new URL(r.url()).pathname}`);
        });
        await page.goto(`${base}/?site=${sites[0]!.siteId}`);
        // No token yet: the API answers 401 and the page asks for one; a wrong one is refused.
        await page.waitForSelector("#token-form", { state: "visible", timeout: 10_000 })
          .catch((error) => {
            throw new Error(`no token prompt (${errors.join("; ") || "no page error"})`, {
              cause: error,
            });
          });
        await page.fill("#token", "wrong-token");
        await page.click("#token-form button");
        await page.waitForFunction(
          `document.getElementById("token-error").textContent === "invalid token"`,
        );
        assert.equal(await page.$$eval("#fleet-body tr", (trs) => trs.length), 0);
        await page.fill("#token", TOKEN);
        await page.click("#token-form button");

        // Page-side predicates as strings: the test is type-checked without the DOM library.
        await page.waitForFunction(
          `document.querySelectorAll("#fleet-body tr").length === ${sites.length}`,
        );
        assert.equal(await page.isVisible("#token-form"), false);
        const rows = await page.$$eval("#fleet-body tr", (trs) => trs.map((tr) => tr.dataset.site));
        assert.deepEqual(rows, sites.map((s) => s.siteId).sort());
        // Urgency: the site with an open alarm comes first (none is offline).
        const urgent = await page.$$eval(
          "#urgent-list li",
          (lis) => lis.map((l) => l.dataset.site),
        );
        assert.equal(urgent[0], sites[1]!.siteId);
        assert.equal(urgent.length, 3);
        assert.match(await page.textContent("#alarm-list") ?? "", /Fuel 8 % \(16 L\), below 10 %/);

        // Five charts for the selected site; their data grows with new telemetry.
        await page.waitForFunction(`document.querySelectorAll("#charts .uplot").length === 5`);
        const points = () => page.$eval("#charts", (el) => Number(el.dataset.points));
        const before = await points();
        assert.ok(before > 0, `charts start with the stored telemetry (${before} points)`);
        await page.waitForFunction(
          `Number(document.getElementById("charts").dataset.points) > ${before + 2}`,
          undefined,
          { timeout: 15_000 },
        );
        assert.equal(await page.textContent("#detail-title"), `Site ${sites[0]!.siteId}`);

        // A week in 10-minute means: the charts are drawn again from bucketed telemetry.
        const [week] = await Promise.all([
          page.waitForResponse((r) =>
            r.url().includes("/telemetry?") && r.url().includes("step=600")
          ),
          page.click('[data-range="7d"]'),
        ]);
        assert.equal(week.status(), 200);
        await page.waitForFunction(
          `document.querySelectorAll("#charts .uplot").length === 5 &&
            Number(document.getElementById("charts").dataset.points) > 0`,
        );
        assert.equal(await page.getAttribute('[data-range="7d"]', "class"), "active");
        await page.click('[data-range="24h"]');
        await page.waitForFunction(
          `Number(document.getElementById("charts").dataset.points) > ${before}`,
        );
        assert.deepEqual(errors, []);

        await Deno.mkdir(new URL(".", ARTIFACT), { recursive: true });
        await page.screenshot({ path: ARTIFACT.pathname, fullPage: true });
        console.log(`web view screenshot: ${ARTIFACT.pathname}`);
      } finally {
        await browser.close();
        await Deno.remove(profile, { recursive: true }).catch(() => {});
      }
    } finally {
      for (const d of devices) await d.stop();
    }
  }, {
    now: simClock,
    wallClockMs: () => Date.now(),
  });
});
