// The charts of one site: SoC, battery voltage, power, fuel and the active source, on uPlot
// (its minified build, 51 KB, loaded by index.html from the backend, which serves it from the npm
// package: web.ts).
const uPlot = globalThis.uPlot;

const SOURCE_CODE = { off: 0, battery: 1, generator: 2 };
const SOURCE_NAME = ["off", "battery", "generator"];

const CHARTS = [
  {
    title: "State of charge (%)",
    series: [{ key: "socPct", label: "SoC %", stroke: "#1565c0" }],
    range: [0, 100],
    levels: true,
  },
  { title: "Battery voltage (V)", series: [{ key: "batteryV", label: "V", stroke: "#6a1b9a" }] },
  {
    title: "Power (W)",
    series: [
      { key: "loadW", label: "load W", stroke: "#c62828" },
      { key: "pvW", label: "PV W", stroke: "#f9a825" },
      { key: "genW", label: "generator W", stroke: "#455a64" },
    ],
  },
  {
    title: "Fuel (%)",
    series: [{ key: "fuelPct", label: "fuel %", stroke: "#2e7d32" }],
    range: [0, 100],
  },
  {
    title: "Active source",
    series: [{ key: "sourceCode", label: "source", stroke: "#d07a00", stepped: true }],
    range: [0, 2],
    sourceAxis: true,
  },
];

/**
 * A gap in the data (the site was silent, or the backend away) longer than five typical
 * intervals gets a null point, so the lines break there instead of bridging it.
 */
function withGaps(series) {
  const t = series.time;
  if (t.length < 3) return series;
  const steps = t.slice(1).map((x, i) => x - t[i]).sort((a, b) => a - b);
  const gapS = Math.max(60, 5 * steps[Math.floor(steps.length / 2)]);
  const out = Object.fromEntries(Object.keys(series).map((k) => [k, []]));
  for (let i = 0; i < t.length; i++) {
    if (i > 0 && t[i] - t[i - 1] > gapS) {
      for (const k of Object.keys(series)) out[k].push(k === "time" ? t[i - 1] + 1 : null);
    }
    for (const k of Object.keys(series)) out[k].push(series[k][i]);
  }
  return out;
}

export function toSeries(columns) {
  return withGaps({
    time: columns.time.map((t) => t / 1000),
    socPct: columns.socPct,
    batteryV: columns.batteryV,
    loadW: columns.loadW,
    pvW: columns.pvW,
    genW: columns.genW,
    fuelPct: columns.fuelPct,
    sourceCode: columns.source.map((s) => SOURCE_CODE[s] ?? null),
  });
}

/**
 * Dashed lines across the SoC chart at the last command's generator start and stop and the
 * site's reserve, read from `levels` at every draw (the caller updates it in place).
 */
function levelLines(levels) {
  // Generator levels labelled at the right, the reserve at the left: they may coincide.
  const lines = [
    ["genStartSocPct", "#d07a00", "gen start", "right"],
    ["genStopSocPct", "#2e7d32", "gen stop", "right"],
    ["reserveSocPct", "#c62828", "reserve", "left"],
  ];
  return {
    hooks: {
      draw: [(u) => {
        const { ctx, bbox } = u;
        ctx.save();
        ctx.setLineDash([5, 4]);
        ctx.lineWidth = 1;
        ctx.font = `${Math.round(10 * devicePixelRatio)}px system-ui, sans-serif`;
        ctx.textBaseline = "bottom";
        for (const [key, color, label, side] of lines) {
          const value = levels[key];
          if (typeof value !== "number") continue;
          const y = Math.round(u.valToPos(value, "y", true)) + 0.5;
          ctx.strokeStyle = color;
          ctx.fillStyle = color;
          ctx.beginPath();
          ctx.moveTo(bbox.left, y);
          ctx.lineTo(bbox.left + bbox.width, y);
          ctx.stroke();
          ctx.textAlign = side;
          const x = side === "left" ? bbox.left + 4 : bbox.left + bbox.width - 4;
          ctx.fillText(`${label} ${value} %`, x, y - 2);
        }
        ctx.restore();
      }],
    },
  };
}

/**
 * One uPlot per chart in `box`, over `series` (kept by the caller and extended in place);
 * `levels` holds the command's SoC thresholds drawn on the SoC chart.
 */
export function drawCharts(box, series, levels = {}) {
  const width = Math.max(380, Math.floor((box.clientWidth || 900) / 2) - 24);
  const sync = uPlot.sync("kasi-site");
  const charts = [];
  for (const spec of CHARTS) {
    const el = document.createElement("div");
    el.className = "chart";
    el.innerHTML = `<h3>${spec.title}</h3>`;
    box.append(el);
    const data = () => [series.time, ...spec.series.map((s) => series[s.key])];
    const plot = new uPlot(
      {
        width,
        height: 170,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        cursor: { sync: { key: sync.key } },
        legend: { live: true },
        plugins: spec.levels ? [levelLines(levels)] : [],
        scales: { x: { time: true }, y: spec.range ? { range: spec.range } : {} },
        axes: [
          {},
          spec.sourceAxis
            ? {
              values: (_u, ticks) => ticks.map((t) => SOURCE_NAME[t] ?? ""),
              splits: () => [0, 1, 2],
              size: 80,
            }
            : { size: 56 },
        ],
        series: [
          {},
          ...spec.series.map((s) => ({
            label: s.label,
            stroke: s.stroke,
            width: 1.5,
            spanGaps: false,
            ...(s.stepped
              ? { paths: uPlot.paths.stepped({ align: 1 }), fill: "rgba(208,122,0,0.12)" }
              : {}),
            ...(s.stepped ? { value: (_u, v) => (v === null ? "–" : SOURCE_NAME[v]) } : {}),
          })),
        ],
      },
      data(),
      el,
    );
    charts.push({ plot, data });
  }
  box.dataset.points = String(series.time.length);
  return charts;
}
