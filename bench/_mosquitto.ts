/**
 * A private Mosquitto for a benchmark or test run: started from a Kasi config file
 * (deploy/mosquitto/kasi.conf by default) on a free port, with its persistence and log in a
 * temporary directory, and stopped after. The shared broker on 1883 is never touched.
 * `stock: true` starts one with Mosquitto's defaults instead (max_queued_messages 1000,
 * max_inflight_messages 20), to show what the Kasi config prevents.
 */

export const KASI_BROKER_CONFIG = new URL("../deploy/mosquitto/kasi.conf", import.meta.url);

export interface PrivateBroker {
  url: string;
  port: number;
  /** The config file the broker runs with. */
  configPath: string;
  logPath: string;
  stop: () => Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function listening(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** The Kasi config with this run's port, persistence directory and log file. */
export function privateConfig(
  source: string,
  options: { port: number; dir: string; logPath: string },
): string {
  const lines = source.split("\n").filter((line) => {
    const option = line.trim().split(/\s+/)[0];
    return !["listener", "persistence_location", "log_dest", "pid_file"].includes(option ?? "");
  });
  return [
    `listener ${options.port} 127.0.0.1`,
    ...lines,
    `persistence_location ${options.dir}/`,
    `log_dest file ${options.logPath}`,
  ].join("\n") + "\n";
}

export async function startPrivateBroker(
  options: { stock?: boolean; configUrl?: URL } = {},
): Promise<PrivateBroker> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "kasi-mosquitto-" });
  const logPath = `${dir}/mosquitto.log`;
  const configPath = `${dir}/mosquitto.conf`;
  const source = options.stock
    ? "allow_anonymous true\n"
    : await Deno.readTextFile(options.configUrl ?? KASI_BROKER_CONFIG);
  await Deno.writeTextFile(configPath, privateConfig(source, { port, dir, logPath }));
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("mosquitto", {
      args: ["-c", configPath],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new Error(
      `cannot start mosquitto (${(error as Error).message}): install it (apt-get install ` +
        "mosquitto) or put it on PATH",
    );
  }
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let errText = "";
  const drain = (async () => {
    while (true) {
      const { done, value } = await stderr.read();
      if (done) return;
      errText += value;
    }
  })();
  const until = Date.now() + 5000;
  while (!(await listening(port))) {
    const exited = await Promise.race([
      child.status.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 50)),
    ]);
    if (exited || Date.now() > until) {
      if (!exited) child.kill("SIGKILL");
      await drain;
      const log = await Deno.readTextFile(logPath).catch(() => "");
      throw new Error(`mosquitto did not start on port ${port}: ${errText}${log}`.trim());
    }
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    configPath,
    logPath,
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      await child.status;
      await drain;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
