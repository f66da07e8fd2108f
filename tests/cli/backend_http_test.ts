import { waitForLines } from "../_helpers/lines.ts";
import assert from "node:assert/strict";
import { startPrivateBroker } from "../../bench/_mosquitto.ts";
import { withTempDatabase } from "../_helpers/pg.ts";

Deno.test("kasi backend --http-port 0 serves readiness, and the API only with KASI_API_TOKEN", async () => {
  const broker = await startPrivateBroker();
  try {
    await withTempDatabase(async (url) => {
      // An empty working directory: no .env of the developer's is read.
      const cwd = await Deno.makeTempDir();
      const cli = new URL("../../src/cli/backend.ts", import.meta.url).href;
      const config = new URL("../../deno.json", import.meta.url).pathname;
      const env: Record<string, string> = {
        PATH: Deno.env.get("PATH") ?? "",
        KASI_DATABASE_URL: url,
        KASI_MQTT_URL: broker.url,
        KASI_MQTT_SESSION_EXPIRY_S: "0",
        KASI_API_TOKEN: "cli-token-93d1",
      };
      for (const name of ["HOME", "DENO_DIR"]) {
        const value = Deno.env.get(name);
        if (value) env[name] = value;
      }
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          "--config",
          config,
          `import { backendCommand } from "${cli}";\n` +
          `await backendCommand().parseAsync(${
            JSON.stringify(["--http-port", "0", "--client-id", `kasi-http-${Date.now()}`])
          }, { from: "user" });`,
        ],
        cwd,
        clearEnv: true,
        env,
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const { lines, readUntil, drain } = waitForLines(child.stderr);
      try {
        await readUntil(/"msg":"backend started"/, 20_000);
        const listening = JSON.parse(
          lines.find((l) => l.includes('"msg":"HTTP server listening"'))!,
        );
        assert.equal(listening.hostname, "127.0.0.1");
        assert.equal(listening.api, "token");
        const base = `http://127.0.0.1:${listening.port}`;
        const ready = await fetch(`${base}/readyz`);
        assert.equal(ready.status, 200);
        assert.equal((await ready.json()).status, "ready");
        const denied = await fetch(`${base}/api/v1/sites`);
        assert.equal(denied.status, 401);
        await denied.body?.cancel();
        const sites = await fetch(`${base}/api/v1/sites`, {
          headers: { authorization: "Bearer cli-token-93d1" },
        });
        assert.deepEqual(await sites.json(), { sites: [] });
        const starting = JSON.parse(lines.find((l) => l.includes('"msg":"starting"'))!);
        assert.equal(starting.http, "127.0.0.1:0 (API token)");
        assert.ok(!lines.some((l) => l.includes("cli-token-93d1")), "the token is never logged");
      } finally {
        child.kill("SIGTERM");
      }
      await readUntil(/"msg":"backend stopped"/, 10_000);
      await drain();
      assert.equal((await child.status).code, 0, lines.join("\n"));
      await Deno.remove(cwd, { recursive: true });
    });
  } finally {
    await broker.stop();
  }
});
