import assert from "node:assert/strict";
import { resolveBackendSettings } from "../../src/cli/backend.ts";
import { loadDotEnv, parseDotEnv, resolveSetting } from "../../src/cli/env.ts";
import { KasiError } from "../../src/core/errors.ts";
import { withTempDatabase } from "../_helpers/pg.ts";

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

Deno.test("kasi backend reads .env from its directory and stops cleanly on SIGTERM", async () => {
  await withTempDatabase(async (url) => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(
        `${dir}/.env`,
        `# written by the test\nKASI_DATABASE_URL="${url}"\nKASI_MQTT_URL=mqtt://127.0.0.1:1883 # local\n`,
      );
      const cli = new URL("../../src/cli/backend.ts", import.meta.url).href;
      const config = new URL("../../deno.json", import.meta.url).pathname;
      const env: Record<string, string> = { PATH: Deno.env.get("PATH") ?? "" };
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
          `await backendCommand().parseAsync(["--command-interval", "30"], { from: "user" });`,
        ],
        cwd: dir,
        clearEnv: true,
        env,
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const lines: string[] = [];
      const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
      let buffered = "";
      const readUntil = async (pattern: RegExp, timeoutMs: number) => {
        const until = Date.now() + timeoutMs;
        while (!lines.some((l) => pattern.test(l))) {
          if (Date.now() > until) throw new Error(`no ${pattern} in:\n${lines.join("\n")}`);
          const { value, done } = await reader.read();
          if (done) throw new Error(`output ended without ${pattern}:\n${lines.join("\n")}`);
          buffered += value;
          const parts = buffered.split("\n");
          buffered = parts.pop()!;
          lines.push(...parts);
        }
      };
      try {
        await readUntil(/"msg":"backend started"/, 20_000);
      } finally {
        child.kill("SIGTERM");
      }
      await readUntil(/"msg":"backend stopped"/, 10_000);
      while (!(await reader.read()).done) { /* drain */ }
      const status = await child.status;
      assert.equal(status.code, 0, lines.join("\n"));
      const starting = JSON.parse(lines.find((l) => l.includes('"msg":"starting"'))!);
      assert.equal(starting.databaseUrl, url);
      assert.equal(starting.mqttUrlFrom, "KASI_MQTT_URL");
      assert.equal(starting.commandIntervalS, 30);
      assert.ok(lines.some((l) => l.includes('"msg":"signal received: flushing and stopping"')));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});
