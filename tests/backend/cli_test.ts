import { waitForLines } from "../_helpers/lines.ts";
import assert from "node:assert/strict";
import { DEFAULT_CLIENT_ID, DEFAULT_SESSION_EXPIRY_S } from "../../src/backend/service.ts";
import {
  DEFAULT_MQTT_CLIENT_ID,
  DEFAULT_MQTT_SESSION_EXPIRY_S,
  resolveBackendSettings,
  weatherSummary,
} from "../../src/cli/backend.ts";
import { loadDotEnv, parseDotEnv, resolveSetting } from "../../src/cli/env.ts";
import { KasiError } from "../../src/core/errors.ts";
import { withTempDatabase } from "../_helpers/pg.ts";
import { endSession, hasSession } from "./harness.ts";

Deno.test("parseDotEnv() reads KEY=VALUE lines, comments, export and both quotes", () => {
  const env = parseDotEnv([
    "# a comment",
    "",
    "PLAIN=value",
    "SPACED =  padded value   # trailing comment",
    "export EXPORTED=yes",
    'DOUBLE="a # not a comment\\nsecond line"',
    "SINGLE='literal \\n $HOME'",
    "EMPTY=",
    "URL=postgres://u:p@h:5432/db?sslmode=require#frag",
  ].join("\n"));
  assert.deepEqual(env, {
    PLAIN: "value",
    SPACED: "padded value",
    EXPORTED: "yes",
    DOUBLE: "a # not a comment\nsecond line",
    SINGLE: "literal \\n $HOME",
    EMPTY: "",
    // "#" without a space before it is part of the value.
    URL: "postgres://u:p@h:5432/db?sslmode=require#frag",
  });
});

Deno.test("parseDotEnv() names the line of a malformed entry", () => {
  const cases: [string, RegExp][] = [
    ["OK=1\nnot a pair", /\.env line 2: expected KEY=VALUE, got "not a pair"/],
    ["1BAD=x", /\.env line 1: "1BAD" is not a valid variable name/],
    ['A="open', /\.env line 1: " opened but never closed/],
    ['A="x" y', /\.env line 1: unexpected "y" after the quoted value/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(() => parseDotEnv(text), (e: unknown) => {
      assert.ok(e instanceof KasiError);
      assert.equal(e.code, "CONFIG_INVALID");
      assert.match(e.message, pattern);
      return true;
    });
  }
});

Deno.test("loadDotEnv() never overrides a variable already set and ignores a missing file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/.env`;
    await Deno.writeTextFile(path, "KASI_MQTT_URL=mqtt://from-file:1883\nNEW_ONE=1\n");
    const vars = new Map([["KASI_MQTT_URL", "mqtt://from-env:1883"]]);
    const env = { get: (k: string) => vars.get(k), set: (k: string, v: string) => vars.set(k, v) };
    assert.deepEqual(await loadDotEnv({ path, env }), ["NEW_ONE"]);
    assert.equal(vars.get("KASI_MQTT_URL"), "mqtt://from-env:1883");
    assert.equal(vars.get("NEW_ONE"), "1");
    assert.deepEqual(await loadDotEnv({ path: `${dir}/absent.env`, env }), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveSetting() takes flag, then each variable in order, then the default", () => {
  const names = ["KASI_DATABASE_URL", "DATABASE_URL"];
  const env = { KASI_DATABASE_URL: "  ", DATABASE_URL: "postgres://second" };
  assert.deepEqual(
    resolveSetting({
      flag: "postgres://flag",
      flagName: "--database-url",
      env,
      names,
      fallback: "d",
    }),
    { value: "postgres://flag", source: "--database-url" },
  );
  // A blank variable counts as unset.
  assert.deepEqual(
    resolveSetting({ flagName: "--database-url", env, names, fallback: "d" }),
    { value: "postgres://second", source: "DATABASE_URL" },
  );
  assert.deepEqual(
    resolveSetting({ flagName: "--database-url", env: {}, names, fallback: "d" }),
    { value: "d", source: "default" },
  );
});

Deno.test("resolveBackendSettings() applies flag > KASI_MQTT_URL > default and checks values", () => {
  const flags = { commandInterval: "60", logLevel: "info" };
  assert.equal(resolveBackendSettings(flags, {}).mqttUrl, "mqtt://127.0.0.1:1883");
  assert.equal(
    resolveBackendSettings(flags, { KASI_MQTT_URL: "mqtt://broker:1883" }).mqttUrl,
    "mqtt://broker:1883",
  );
  const s = resolveBackendSettings(
    { ...flags, mqttUrl: "mqtts://flag:8883" },
    { KASI_MQTT_URL: "mqtt://broker:1883", OPENWEATHER_API_KEY: "k" },
  );
  assert.equal(s.mqttUrl, "mqtts://flag:8883");
  assert.equal(s.mqttUrlSource, "--mqtt-url");
  assert.equal(s.weatherApiKey, "k");
  const bad: [Parameters<typeof resolveBackendSettings>[0], RegExp][] = [
    [{ ...flags, commandInterval: "0" }, /--command-interval "0" must be/],
    [{ ...flags, commandInterval: "soon" }, /--command-interval "soon"/],
    [{ ...flags, logLevel: "loud" }, /--log-level "loud" is not one of/],
    [{ ...flags, mqttUrl: "broker:1883" }, /--mqtt-url: "broker:1883" must be an mqtt:\/\//],
    [{ ...flags, mqttUrl: "not a url" }, /--mqtt-url: "not a url" is not a URL/],
  ];
  for (const [f, pattern] of bad) {
    assert.throws(() => resolveBackendSettings(f, {}), pattern);
  }
});

Deno.test("resolveBackendSettings() reads the weather keys and base URLs and checks the URLs", () => {
  const flags = { commandInterval: "60", logLevel: "info" };
  const none = resolveBackendSettings(flags, {});
  assert.deepEqual(
    [none.weatherApiKey, none.weatherUrl, none.openMeteoUrl, none.openMeteoApiKey],
    [undefined, undefined, undefined, undefined],
  );
  assert.equal(
    weatherSummary(none),
    "Open-Meteo (free) by default; OpenWeatherMap needs OPENWEATHER_API_KEY",
  );
  const all = resolveBackendSettings(flags, {
    OPENWEATHER_API_KEY: "owm",
    KASI_WEATHER_URL: "http://127.0.0.1:8081",
    OPEN_METEO_API_KEY: "om",
    KASI_OPEN_METEO_URL: "https://meteo.example.org",
  });
  assert.equal(all.openMeteoUrl, "https://meteo.example.org");
  assert.equal(all.openMeteoApiKey, "om");
  assert.equal(all.weatherUrl, "http://127.0.0.1:8081");
  assert.equal(
    weatherSummary(all),
    "OpenWeatherMap by default; Open-Meteo (commercial key) for sites that ask for it",
  );
  assert.throws(
    () => resolveBackendSettings(flags, { KASI_OPEN_METEO_URL: "meteo" }),
    /KASI_OPEN_METEO_URL: "meteo" is not a URL/,
  );
  assert.throws(
    () => resolveBackendSettings(flags, { KASI_WEATHER_URL: "ftp://x" }),
    /KASI_WEATHER_URL: "ftp:\/\/x" must be an http:\/\/ or https:\/\/ URL/,
  );
});

Deno.test("resolveBackendSettings() applies --client-id > KASI_MQTT_CLIENT_ID > kasi-backend", () => {
  const flags = { commandInterval: "60", logLevel: "info" };
  // The CLI keeps its own copies so parsing flags loads no backend code; they must agree.
  assert.equal(DEFAULT_MQTT_CLIENT_ID, DEFAULT_CLIENT_ID);
  assert.equal(DEFAULT_MQTT_SESSION_EXPIRY_S, DEFAULT_SESSION_EXPIRY_S);
  const byDefault = resolveBackendSettings(flags, {});
  assert.equal(byDefault.mqttClientId, "kasi-backend");
  assert.equal(byDefault.mqttClientIdSource, "default");
  // 24 h · 3600 s = 86 400 s.
  assert.equal(byDefault.mqttSessionExpiryS, 86_400);
  const fromEnv = resolveBackendSettings(flags, { KASI_MQTT_CLIENT_ID: "backend-eu-1" });
  assert.equal(fromEnv.mqttClientId, "backend-eu-1");
  assert.equal(fromEnv.mqttClientIdSource, "KASI_MQTT_CLIENT_ID");
  const fromFlag = resolveBackendSettings(
    { ...flags, clientId: "backend-test_1:x" },
    { KASI_MQTT_CLIENT_ID: "backend-eu-1", KASI_MQTT_SESSION_EXPIRY_S: "0" },
  );
  assert.equal(fromFlag.mqttClientId, "backend-test_1:x");
  assert.equal(fromFlag.mqttClientIdSource, "--client-id");
  assert.equal(fromFlag.mqttSessionExpiryS, 0);
  // 64 characters is the longest accepted; MQTT 5's largest expiry is 2^32 − 1 = 4294967295 s.
  assert.equal(
    resolveBackendSettings({ ...flags, clientId: "a".repeat(64) }, {}).mqttClientId.length,
    64,
  );
  assert.equal(
    resolveBackendSettings(flags, { KASI_MQTT_SESSION_EXPIRY_S: "4294967295" }).mqttSessionExpiryS,
    4_294_967_295,
  );

  const bad: [Parameters<typeof resolveBackendSettings>[0], Record<string, string>, RegExp][] = [
    [{ ...flags, clientId: "" }, {}, /--client-id: "" must be 1-64 printable ASCII/],
    [{ ...flags, clientId: "my backend" }, {}, /--client-id: "my backend" must be 1-64/],
    [{ ...flags, clientId: "a".repeat(65) }, {}, new RegExp(`--client-id: "a{65}" must be`)],
    [{ ...flags, clientId: "büro" }, {}, /--client-id: "büro" must be/],
    [flags, { KASI_MQTT_CLIENT_ID: "tab\there" }, /KASI_MQTT_CLIENT_ID: "tab\there" must be/],
    [
      flags,
      { KASI_MQTT_SESSION_EXPIRY_S: "-1" },
      /KASI_MQTT_SESSION_EXPIRY_S: "-1" must be a whole/,
    ],
    [flags, { KASI_MQTT_SESSION_EXPIRY_S: "1.5" }, /KASI_MQTT_SESSION_EXPIRY_S: "1\.5"/],
    [flags, { KASI_MQTT_SESSION_EXPIRY_S: "1e3" }, /KASI_MQTT_SESSION_EXPIRY_S: "1e3"/],
    [flags, { KASI_MQTT_SESSION_EXPIRY_S: "4294967296" }, /"4294967296" .* 0 to 4294967295/],
    [flags, { KASI_MQTT_SESSION_EXPIRY_S: "a day" }, /KASI_MQTT_SESSION_EXPIRY_S: "a day"/],
  ];
  for (const [f, env, pattern] of bad) {
    assert.throws(() => resolveBackendSettings(f, env), (e: unknown) => {
      assert.ok(e instanceof KasiError);
      assert.equal(e.code, "INPUT_INVALID");
      assert.match(e.message, pattern);
      return true;
    });
  }
});

Deno.test("kasi backend reads .env from its directory and stops cleanly on SIGTERM", async () => {
  // A client id of its own and no session kept: the broker must not queue for this run after
  // it ends, nor hand it messages meant for a real backend (`kasi-backend`).
  const clientId = `kasi-backend-test-${crypto.randomUUID().slice(0, 8)}`;
  await withTempDatabase(async (url) => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(
        `${dir}/.env`,
        `# written by the test\nKASI_DATABASE_URL="${url}"\nKASI_MQTT_URL=mqtt://127.0.0.1:1883 # local\n`,
      );
      const cli = new URL("../../src/cli/backend.ts", import.meta.url).href;
      const config = new URL("../../deno.json", import.meta.url).pathname;
      const env: Record<string, string> = {
        PATH: Deno.env.get("PATH") ?? "",
        KASI_MQTT_SESSION_EXPIRY_S: "0",
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
            JSON.stringify(["--command-interval", "30", "--client-id", clientId])
          }, { from: "user" });`,
        ],
        cwd: dir,
        clearEnv: true,
        env,
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const { lines, readUntil, drain } = waitForLines(child.stderr);
      try {
        await readUntil(/"msg":"backend started"/, 20_000);
      } finally {
        child.kill("SIGTERM");
      }
      await readUntil(/"msg":"backend stopped"/, 10_000);
      await drain();
      const status = await child.status;
      assert.equal(status.code, 0, lines.join("\n"));
      const starting = JSON.parse(lines.find((l) => l.includes('"msg":"starting"'))!);
      assert.equal(starting.databaseUrl, url);
      assert.equal(starting.mqttUrlFrom, "KASI_MQTT_URL");
      assert.equal(starting.commandIntervalS, 30);
      assert.equal(starting.clientId, clientId);
      assert.equal(starting.clientIdFrom, "--client-id");
      assert.equal(starting.sessionExpiryS, 0);
      assert.equal(await hasSession(clientId), false, "the broker kept the backend's session");
      assert.ok(lines.some((l) => l.includes('"msg":"signal received: flushing and stopping"')));
    } finally {
      await Deno.remove(dir, { recursive: true });
      // In case the run kept a session after all (it should not, with expiry 0).
      await endSession(clientId);
    }
  });
});

Deno.test("resolveBackendSettings() reads KASI_ALARM_WEBHOOK_URL as a comma-separated list", () => {
  const flags = { commandInterval: "60", logLevel: "info" };
  assert.deepEqual(resolveBackendSettings(flags, {}).alarmWebhookUrls, []);
  assert.deepEqual(
    resolveBackendSettings(flags, {
      KASI_ALARM_WEBHOOK_URL: "https://hooks.example/a?token=x, http://10.0.0.2:8080/b,",
    }).alarmWebhookUrls,
    ["https://hooks.example/a?token=x", "http://10.0.0.2:8080/b"],
  );
  assert.throws(
    () => resolveBackendSettings(flags, { KASI_ALARM_WEBHOOK_URL: "https://ok.example, ftp://x" }),
    /KASI_ALARM_WEBHOOK_URL \(URL 2\): "ftp:\/\/x" must be an http:\/\/ or https:\/\/ URL/,
  );
  assert.throws(
    () => resolveBackendSettings(flags, { KASI_ALARM_WEBHOOK_URL: "hooks" }),
    /KASI_ALARM_WEBHOOK_URL \(URL 1\): "hooks" is not a URL/,
  );
});
