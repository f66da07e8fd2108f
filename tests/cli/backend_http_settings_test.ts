import assert from "node:assert/strict";
import { resolveBackendSettings } from "../../src/cli/backend.ts";

const flags = { commandInterval: "60", logLevel: "info" };

Deno.test("resolveBackendSettings() has no HTTP server unless --http-port or KASI_HTTP_PORT", () => {
  const none = resolveBackendSettings(flags, {});
  assert.equal(none.httpPort, null);
  assert.equal(none.httpHost, "127.0.0.1");
  assert.equal(none.apiToken, undefined);
  const fromEnv = resolveBackendSettings(flags, {
    KASI_HTTP_PORT: "8080",
    KASI_HTTP_HOST: "0.0.0.0",
    KASI_API_TOKEN: "s3cret",
  });
  assert.deepEqual(
    [fromEnv.httpPort, fromEnv.httpHost, fromEnv.apiToken],
    [8080, "0.0.0.0", "s3cret"],
  );
  const fromFlag = resolveBackendSettings(
    { ...flags, httpPort: "9090", httpHost: "::1" },
    { KASI_HTTP_PORT: "8080", KASI_HTTP_HOST: "0.0.0.0" },
  );
  assert.deepEqual([fromFlag.httpPort, fromFlag.httpHost], [9090, "::1"]);
});

Deno.test("resolveBackendSettings() names a bad HTTP port and where it came from", () => {
  assert.throws(
    () => resolveBackendSettings({ ...flags, httpPort: "80a" }, {}),
    /--http-port: "80a" is not a TCP port \(0-65535\)/,
  );
  assert.throws(
    () => resolveBackendSettings(flags, { KASI_HTTP_PORT: "70000" }),
    /KASI_HTTP_PORT: "70000" is not a TCP port \(0-65535\)/,
  );
});
