/**
 * compose.yaml, checked without Docker: it parses, every file it mounts exists, the Deno services
 * run subcommands and options the CLI has and see every module they load, and each service's
 * environment is what its code reads (observed, not listed: the settings resolvers run on a
 * record of what they look up) and points at the other services.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { buildProgram } from "../../cli.ts";
import { resolveBackendSettings } from "../../src/cli/backend.ts";
import { resolveDatabaseUrl } from "../../src/db/client.ts";
import { DATASOURCE } from "../../grafana/source/kit.ts";
import {
  type ComposeService,
  interpolate,
  loadCompose,
  parseVolume,
  ROOT,
} from "./compose_file.ts";

const compose = await loadCompose();
const services = compose.services;
const program = buildProgram();
const hasSimulateFleet = program.commands.some((c) => c.name() === "simulate-fleet");

function service(name: string): ComposeService {
  const s = services[name];
  assert.ok(s, `compose.yaml has a "${name}" service`);
  return s;
}

function environment(s: ComposeService): Record<string, string> {
  return Object.fromEntries(
    Object.entries(s.environment ?? {}).map(([k, v]) => [k, v === null ? "" : String(v)]),
  );
}

/** An environment that records which variables the code looks up. */
function recording(
  env: Record<string, string>,
): { env: Record<string, string>; read: Set<string> } {
  const read = new Set<string>();
  const proxy = new Proxy(env, {
    get(target, key, receiver) {
      if (typeof key === "string") read.add(key);
      return Reflect.get(target, key, receiver);
    },
  });
  return { env: proxy, read };
}

/** The kasi invocations in a service's command: `deno run ... cli.ts <subcommand> <args>`. */
function kasiRuns(s: ComposeService): { subcommand: string; args: string[] }[] {
  const command = Array.isArray(s.command) ? s.command : [s.command ?? ""];
  const line = command[0] === "sh" && command[1] === "-c" ? command[2]! : command.join(" ");
  assert.ok(!/["'\\]/.test(line), "commands are plain words (no quoting to emulate)");
  return line.split(/&&|;/).map((part) => part.trim().split(/\s+/)).map((words) => {
    const exec = words[0] === "exec" ? words.slice(1) : words;
    const i = exec.indexOf("cli.ts");
    // The Deno image runs `deno <args>` when the first word is a deno subcommand (run).
    const deno = exec[0] === "deno" ? exec.slice(1) : exec;
    assert.equal(deno[0], "run", `"${part(words)}" runs deno run`);
    assert.ok(i >= 0, `"${part(words)}" runs cli.ts`);
    return { subcommand: exec[i + 1]!, args: exec.slice(i + 2) };
  });
}

function part(words: string[]): string {
  return words.join(" ");
}

/** Parses `args` with the subcommand's own Commander options, without running it. */
function parseFlags(subcommand: string, args: string[]): Record<string, unknown> {
  const command = program.commands.find((c) => c.name() === subcommand);
  assert.ok(command, `kasi has a "${subcommand}" command`);
  const { operands, unknown } = command.parseOptions(args);
  assert.deepEqual(unknown, [], `${subcommand}: unknown options ${unknown.join(" ")}`);
  assert.deepEqual(operands, [], `${subcommand}: stray arguments ${operands.join(" ")}`);
  return command.opts();
}

Deno.test("interpolate() follows the Compose specification's rules", () => {
  const env = { SET: "value", EMPTY: "" };
  assert.equal(interpolate("${SET:-d}", env), "value");
  assert.equal(interpolate("${EMPTY:-d}", env), "d"); // ":-": unset or empty
  assert.equal(interpolate("${EMPTY-d}", env), ""); // "-": unset only
  assert.equal(interpolate("${UNSET-d}", env), "d");
  assert.equal(interpolate("${UNSET:-${SET}}", env), "value"); // nested
  assert.equal(interpolate("${SET:+alt}/${EMPTY:+alt}", env), "alt/");
  assert.equal(interpolate("$SET/x $UNSET.", env), "value/x ."); // unset without default: ""
  assert.equal(interpolate("$$SET costs $5", env), "$SET costs $5"); // $$ and a non-name
  assert.throws(() => interpolate("${UNSET:?must be set}", env), /UNSET: must be set/);
});

Deno.test("compose.yaml parses into the stack's five services, simulate behind its profile", () => {
  assert.deepEqual(Object.keys(services).sort(), [
    "backend",
    "grafana",
    "mosquitto",
    "simulate",
    "timescaledb",
  ]);
  assert.deepEqual(service("simulate").profiles, ["simulate"]);
  for (const [name, s] of Object.entries(services)) {
    if (name !== "simulate") assert.equal(s.profiles, undefined, `${name} starts by default`);
    for (const dependency of Object.keys(s.depends_on ?? {})) {
      assert.ok(dependency in services, `${name} depends on a service that exists`);
    }
  }
});

Deno.test("every file compose.yaml mounts exists, and every named volume is declared", async () => {
  let binds = 0;
  for (const [name, s] of Object.entries(services)) {
    for (const spec of s.volumes ?? []) {
      const volume = parseVolume(spec);
      if (!volume.bind) {
        assert.ok(volume.source in (compose.volumes ?? {}), `${name}: volume ${volume.source}`);
        continue;
      }
      binds++;
      const info = await Deno.stat(new URL(volume.source, ROOT)).catch(() => null);
      assert.ok(info, `${name} mounts ${volume.source}, which exists`);
      assert.ok(volume.readOnly, `${name} mounts ${volume.source} read-only`);
    }
  }
  assert.ok(binds >= 9, `${binds} bind mounts checked`);
  const init = await Deno.stat(new URL("grafana/postgres/create_reader.sh", ROOT));
  assert.ok((init.mode ?? 0) & 0o111, "the init script is executable (else the image sources it)");
});

Deno.test("the Deno services run on the project's Deno version and see every module kasi loads", async () => {
  const ci = await Deno.readTextFile(new URL(".ci/run", ROOT));
  const version = /DENO_VERSION="([\d.]+)"/.exec(ci)?.[1];
  const info = new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "cli.ts"],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "null",
  });
  const output = await info.output();
  assert.ok(output.success, "deno info cli.ts");
  const graph = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: { specifier: string }[];
  };
  const local = graph.modules.map((m) => m.specifier).filter((s) => s.startsWith(ROOT.href))
    .map((s) => s.slice(ROOT.href.length));
  assert.ok(local.includes("cli.ts") && local.length > 50, `${local.length} local modules`);
  for (const name of ["backend", "simulate"]) {
    const s = service(name);
    assert.equal(s.image, `denoland/deno:${version}`, `${name} uses Deno ${version} as CI does`);
    assert.equal(s.working_dir, "/app");
    const mounts = (s.volumes ?? []).map(parseVolume).filter((v) => v.bind).map((v) => ({
      from: v.source.replace(/^\.\//, ""),
      to: v.target.replace(/^\/app\//, ""),
    }));
    for (const m of mounts) assert.equal(m.from, m.to, `${name}: ${m.from} is at /app/${m.from}`);
    for (const required of ["deno.json", "deno.lock", ...local]) {
      assert.ok(
        mounts.some((m) => required === m.from || required.startsWith(`${m.from}/`)),
        `${name} can load ${required}`,
      );
    }
  }
});

Deno.test("the backend service runs kasi migrate then kasi backend against the compose services", async () => {
  const backend = service("backend");
  const db = environment(service("timescaledb"));
  const runs = kasiRuns(backend);
  assert.deepEqual(runs.map((r) => r.subcommand), ["migrate", "backend"]);
  const { env, read } = recording(environment(backend));
  for (const run of runs) {
    const flags = parseFlags(run.subcommand, run.args);
    // What src/cli/migrate.ts and src/cli/backend.ts resolve from the environment.
    const url = new URL(resolveDatabaseUrl({ flag: flags.databaseUrl as string, env }));
    assert.equal(url.hostname, "timescaledb");
    assert.equal(url.port, "5432");
    assert.equal(url.username, db.POSTGRES_USER);
    assert.equal(url.password, db.POSTGRES_PASSWORD);
    assert.equal(url.pathname, `/${db.POSTGRES_DB}`);
    if (run.subcommand === "backend") {
      const settings = resolveBackendSettings(
        flags as Parameters<typeof resolveBackendSettings>[0],
        env,
      );
      assert.equal(settings.mqttUrlSource, "KASI_MQTT_URL");
      const mqtt = new URL(settings.mqttUrl);
      assert.equal(mqtt.hostname, "mosquitto");
      const conf = await Deno.readTextFile(new URL("deploy/mosquitto/kasi.conf", ROOT));
      assert.equal(mqtt.port, /^listener (\d+)/m.exec(conf)?.[1], "the broker's listener");
      // Unset on the host: blank in the container, which the backend takes as no key.
      assert.equal(settings.weatherApiKey, undefined);
    }
  }
  const set = Object.keys(environment(backend));
  assert.deepEqual(set.filter((k) => !read.has(k)), [], "every variable set is one kasi reads");

  // A key set on the host reaches the backend.
  const withKey = (await loadCompose({ OPENWEATHER_API_KEY: "k123" })).services.backend!;
  const settings = resolveBackendSettings(
    { commandInterval: "60", logLevel: "info" },
    environment(withKey),
  );
  assert.equal(settings.weatherApiKey, "k123");
});

Deno.test({
  name: "the simulate service runs kasi simulate-fleet with options it has, on the compose broker",
  // simulate-fleet arrives with the fleet branch (issue 5); until it is merged there is nothing
  // to check the service against.
  ignore: !hasSimulateFleet,
  fn: async () => {
    const simulate = service("simulate");
    const runs = kasiRuns(simulate);
    assert.deepEqual(runs.map((r) => r.subcommand), ["simulate-fleet"]);
    const flags = parseFlags("simulate-fleet", runs[0]!.args);
    const path = "../../src/cli/simulate_fleet.ts"; // not analysable: absent before the merge
    const { resolveFleetSettings } = await import(path);
    const { env, read } = recording(environment(simulate));
    const settings = resolveFleetSettings(flags, env);
    assert.equal(settings.sites, 20); // ${KASI_SIM_SITES:-20} with nothing set
    assert.equal(settings.speed, 60);
    assert.equal(new URL(settings.mqttUrl).hostname, "mosquitto");
    const set = Object.keys(environment(simulate));
    assert.deepEqual(set.filter((k) => !read.has(k)), []);
  },
});

Deno.test("grafana's provisioning reads only what its service sets, and finds the database and dashboards", async () => {
  const grafana = service("grafana");
  const env = environment(grafana);
  const db = environment(service("timescaledb"));
  const mounts = (grafana.volumes ?? []).map(parseVolume);
  const provisioning = mounts.find((m) => m.source === "./grafana/provisioning");
  // The image's provisioning directory (GF_PATHS_PROVISIONING of the official image).
  assert.equal(provisioning?.target, "/etc/grafana/provisioning");

  const sourceText = await Deno.readTextFile(
    new URL("grafana/provisioning/datasources/kasi.yaml", ROOT),
  );
  // Grafana expands $NAME and ${NAME} in provisioning files from its own environment.
  const refs = [...sourceText.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)].map((m) => m[1]!);
  assert.ok(refs.length >= 4);
  for (const ref of refs) assert.ok(ref in env, `grafana's environment sets ${ref}`);
  const expanded = parse(sourceText.replace(/\$\{?([A-Za-z_]\w*)\}?/g, (_, n) => env[n]!));
  const [ds] = expanded.datasources;
  assert.deepEqual({ type: ds.type, uid: ds.uid }, DATASOURCE, "the dashboards' data source");
  assert.equal(ds.url, "timescaledb:5432");
  assert.equal(ds.jsonData.database, db.POSTGRES_DB);
  assert.equal(ds.user, db.READER_DB_USER, "the role create_reader.sh creates");
  assert.equal(ds.secureJsonData.password, db.READER_DB_PASSWORD);
  assert.equal(ds.jsonData.timescaledb, false, "the same SQL on PostgreSQL and TimescaleDB");

  const providers = parse(
    await Deno.readTextFile(new URL("grafana/provisioning/dashboards/kasi.yaml", ROOT)),
  );
  const path: string = providers.providers[0].options.path;
  const dashboards = mounts.find((m) => m.target === path);
  assert.equal(dashboards?.source, "./grafana/dashboards", "the provider reads the JSON files");
  const home = env.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
  assert.ok(home.startsWith(`${path}/`));
  await Deno.stat(new URL(`grafana/dashboards/${home.slice(path.length + 1)}`, ROOT));

  // create_reader.sh runs in the database container with what it needs.
  const script = await Deno.readTextFile(new URL("grafana/postgres/create_reader.sh", ROOT));
  for (const ref of new Set([...script.matchAll(/\$\{?([A-Z_]+)/g)].map((m) => m[1]!))) {
    assert.ok(ref in db, `timescaledb's environment sets ${ref}`);
  }
});

Deno.test("the mosquitto service runs the mounted Kasi configuration with its storage on a volume", async () => {
  const mosquitto = service("mosquitto");
  const line = (mosquitto.command as string[]).join(" ");
  const conf = /mosquitto -c (\S+)/.exec(line)?.[1];
  const mounts = (mosquitto.volumes ?? []).map(parseVolume);
  assert.equal(mounts.find((m) => m.target === conf)?.source, "./deploy/mosquitto/kasi.conf");
  const text = await Deno.readTextFile(new URL("deploy/mosquitto/kasi.conf", ROOT));
  const persistence = /^persistence_location (\S+?)\/?$/m.exec(text)?.[1];
  const volume = mounts.find((m) => m.target === persistence);
  assert.ok(volume && !volume.bind, `${persistence} is a named volume`);
  assert.ok(line.includes(`chown mosquitto:mosquitto ${persistence}`), "and the broker's to write");
});
