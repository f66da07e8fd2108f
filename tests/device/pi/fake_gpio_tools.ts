/**
 * Test helper: fake libgpiod command-line tools (gpiodetect, gpioinfo, gpioget, gpioset) in a
 * temporary bin folder to put first on PATH, speaking v1 or v2 syntax as the real ones do
 * (libgpiod's tools/gpio-tools-test.bash pins the v2 formats). Line levels live in files under
 * a state folder; every call is logged. gpioset holds until SIGTERM, as the real one does; a line
 * listed in FAKE_GPIO_BUSY cannot be requested ("Device or resource busy").
 */
export interface FakeGpioTools {
  bin: string;
  state: string;
  /** The environment for the tools: PATH with the fakes first. */
  env: Record<string, string>;
  calls(): Promise<string[]>;
  level(line: number): Promise<string>;
  setLevel(line: number, level: 0 | 1): Promise<void>;
  dispose(): Promise<void>;
}

const DETECT = `#!/bin/sh
echo "gpiochip0 [pinctrl-bcm2711] (58 lines)"
echo "gpiochip1 [raspberrypi-exp-gpio] (8 lines)"
`;

function common(version: 1 | 2): string {
  const ver = version === 1 ? "v1.6.3" : "v2.1";
  return `S="$FAKE_GPIO_STATE"
echo "$(basename "$0") $*" >> "$S/calls.log"
case "$1" in --version|-v)
  echo "$(basename "$0") (libgpiod) ${ver}"
  echo "Copyright (C) 2017-2023 Bartosz Golaszewski"
  exit 0;;
esac
`;
}

/** v1: gpioget <chip> <offset>…  → "1 0"; v2: gpioget [--as-is] -c <chip> <offset>… → "17"=active. */
function getter(version: 1 | 2): string {
  const parse = version === 1
    ? `for a in "$@"; do case "$a" in -*) ;; *) if [ -z "$chip" ]; then chip="$a"; else lines="$lines $a"; fi;; esac; done`
    : `asis=0; while [ $# -gt 0 ]; do case "$1" in -c) chip="$2"; shift;; --as-is|-a) asis=1;; -*) ;; *) lines="$lines $1";; esac; shift; done`;
  const print = version === 1
    ? `out="$out\${out:+ }$v"`
    : `if [ "$v" = 1 ]; then w=active; else w=inactive; fi; out="$out\${out:+ }\\"$l\\"=$w"`;
  const toInput = version === 1
    ? `echo input > "$S/$l.dir"`
    : `[ "$asis" = 1 ] || echo input > "$S/$l.dir"`;
  return `#!/bin/sh
${common(version)}chip=""; lines=""
${parse}
out=""
for l in $lines; do
  v=$(cat "$S/$l" 2>/dev/null || echo 0)
  ${toInput}
  ${print}
done
echo "$out"
`;
}

function setter(version: 1 | 2): string {
  const parse = version === 1
    ? `for a in "$@"; do case "$a" in -*) ;; *=*) pairs="$pairs $a";; *) chip="$a";; esac; done`
    : `while [ $# -gt 0 ]; do case "$1" in -c) chip="$2"; shift;; -*) ;; *=*) pairs="$pairs $1";; esac; shift; done`;
  const banner = version === 2 ? `echo "Setting line '$(echo $pairs | cut -d= -f1)'..."` : "";
  return `#!/bin/sh
${common(version)}chip=""; pairs=""
${parse}
for p in $pairs; do
  l=\${p%%=*}; v=\${p#*=}
  for b in $FAKE_GPIO_BUSY; do
    if [ "$b" = "$l" ]; then echo "gpioset: unable to request lines on chip '$chip': Device or resource busy" >&2; exit 1; fi
  done
  echo "$v" > "$S/$l"; echo output > "$S/$l.dir"
done
${banner}
sleep 1000 >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; exit 0' TERM INT
wait $pid
`;
}

/** v2 only: gpioinfo -c <chip> <offset> → "gpiochip0 17  unnamed  output". */
const INFO = `#!/bin/sh
S="$FAKE_GPIO_STATE"
echo "gpioinfo $*" >> "$S/calls.log"
while [ $# -gt 0 ]; do case "$1" in -c) chip="$2"; shift;; -*) ;; *) l="$1";; esac; shift; done
d=$(cat "$S/$l.dir" 2>/dev/null || echo input)
printf '%s %s\\tunnamed\\t%s\\n' "$chip" "$l" "$d"
`;

export async function fakeGpioTools(
  version: 1 | 2,
  options: { busy?: number[] } = {},
): Promise<FakeGpioTools> {
  const dir = await Deno.makeTempDir({ prefix: `kasi-fake-libgpiod-v${version}-` });
  const bin = `${dir}/bin`;
  const state = `${dir}/state`;
  await Deno.mkdir(bin);
  await Deno.mkdir(state);
  await Deno.writeTextFile(`${state}/calls.log`, "");
  const tools: Record<string, string> = {
    gpiodetect: DETECT,
    gpioget: getter(version),
    gpioset: setter(version),
    ...(version === 2 ? { gpioinfo: INFO } : {}),
  };
  for (const [name, script] of Object.entries(tools)) {
    await Deno.writeTextFile(`${bin}/${name}`, script, { mode: 0o755 });
  }
  return {
    bin,
    state,
    env: {
      PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
      FAKE_GPIO_STATE: state,
      FAKE_GPIO_BUSY: (options.busy ?? []).join(" "),
    },
    calls: async () => (await Deno.readTextFile(`${state}/calls.log`)).split("\n").filter(Boolean),
    level: async (line) => (await Deno.readTextFile(`${state}/${line}`).catch(() => "0\n")).trim(),
    setLevel: (line, level) => Deno.writeTextFile(`${state}/${line}`, `${level}\n`),
    dispose: () => Deno.remove(dir, { recursive: true }),
  };
}
