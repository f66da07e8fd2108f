/** The README's Pi config example and the systemd unit stay true to the code. */
import assert from "node:assert/strict";
import { resolveDeviceSettings } from "../../../src/cli/device.ts";
import { parsePiConfig } from "../../../src/device/pi/config_load.ts";
import { siteConfig } from "./site_fixture.ts";

const README = new URL("../../../README.md", import.meta.url);
const UNIT = new URL("../../../deploy/kasi-device.service", import.meta.url);

Deno.test("README's 'Install on a Raspberry Pi' config parses and is the one the tests wire", async () => {
  const text = await Deno.readTextFile(README);
  const section = text.slice(text.indexOf("## Install on a Raspberry Pi"));
  const block = /```json\n([\s\S]*?)\n```/.exec(section);
  assert.ok(block, "a JSON block in the section");
  const fromReadme = parsePiConfig(block[1]!, "README.md");
  // The tests' fixture differs only in its short dead time (50 ms, to keep the tests fast).
  const fixture = siteConfig("tower-017") as { safety: Record<string, unknown> };
  fixture.safety.transfer_dead_time_ms = 1000;
  assert.deepEqual(fromReadme, parsePiConfig(JSON.stringify(fixture), "fixture"));
});

Deno.test("deploy/kasi-device.service runs the agent and the safe state with valid flags", async () => {
  const unit = await Deno.readTextFile(UNIT);
  const line = (key: string) => {
    const m = new RegExp(`^${key}=(.*)$`, "m").exec(unit);
    assert.ok(m, `${key} in the unit`);
    return m[1]!.trim().split(/\s+/);
  };
  assert.deepEqual(line("Restart"), ["always"]);
  assert.deepEqual(line("User"), ["kasi"]);
  assert.ok(line("SupplementaryGroups").includes("gpio"));
  const [bin, cmd, ...args] = line("ExecStart");
  assert.deepEqual([bin, cmd], ["/usr/local/bin/kasi", "device"]);
  // --hw=pi --config /etc/kasi/site.json, as commander hands them over.
  const flags: Record<string, string> = {};
  for (const a of args) {
    const [k, v] = a.replace(/^--/, "").split("=");
    flags[k!] = v ?? args[args.indexOf(a) + 1]!;
  }
  const s = resolveDeviceSettings(
    { hw: flags.hw!, config: flags.config, interval: "10", logLevel: "info" },
    {},
  );
  assert.deepEqual(s.hw === "pi" && [s.configPath, s.sysfsRoot], ["/etc/kasi/site.json", "/"]);
  assert.deepEqual(line("ExecStopPost").slice(0, 3), [
    "/usr/local/bin/kasi",
    "device",
    "safe-state",
  ]);
});
