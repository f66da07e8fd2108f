import assert from "node:assert/strict";
import { MetricsRegistry } from "../../../src/backend/http/metrics.ts";

Deno.test("MetricsRegistry.render() writes counters, gauges and histograms in the text format", () => {
  const r = new MetricsRegistry();
  const c = r.counter("kasi_x_total", "Things.\nSecond line \\ here.", {
    labelNames: ["reason"],
    initial: [{ reason: "a" }],
  });
  c.inc({ reason: 'b"\\\n' }, 2);
  c.inc({ reason: "a" });
  r.gauge("kasi_g", "A gauge.", () => 3.5);
  const h = r.histogram("kasi_h_seconds", "Latency.", [0.01, 0.1, 1]);
  // 0.01 falls in le=0.01 (bounds are inclusive), 0.05 in 0.1, 2 only in +Inf.
  for (const v of [0.01, 0.05, 2]) h.observe(v);
  assert.equal(
    r.render(),
    [
      "# HELP kasi_x_total Things.\\nSecond line \\\\ here.",
      "# TYPE kasi_x_total counter",
      'kasi_x_total{reason="a"} 1',
      'kasi_x_total{reason="b\\"\\\\\\n"} 2',
      "# HELP kasi_g A gauge.",
      "# TYPE kasi_g gauge",
      "kasi_g 3.5",
      "# HELP kasi_h_seconds Latency.",
      "# TYPE kasi_h_seconds histogram",
      'kasi_h_seconds_bucket{le="0.01"} 1',
      'kasi_h_seconds_bucket{le="0.1"} 2',
      'kasi_h_seconds_bucket{le="1"} 2',
      'kasi_h_seconds_bucket{le="+Inf"} 3',
      "kasi_h_seconds_sum 2.06",
      "kasi_h_seconds_count 3",
      "",
    ].join("\n"),
  );
});

Deno.test("MetricsRegistry refuses a counter without _total, a duplicate name and wrong labels", () => {
  const r = new MetricsRegistry();
  assert.throws(() => r.counter("kasi_x", "x"), /counter "kasi_x" must end in _total/);
  const c = r.counter("kasi_y_total", "y", { labelNames: ["reason"] });
  assert.throws(() => r.counter("kasi_y_total", "y"), /registered twice/);
  assert.throws(() => c.inc({ code: "a" }), /labels \["code"\] must be exactly \["reason"\]/);
  assert.throws(() => c.inc({ reason: "a" }, -1), /only goes up, got -1/);
});

Deno.test("MetricsRegistry.render() shows an unlabelled counter never incremented as 0", () => {
  const r = new MetricsRegistry();
  r.counter("kasi_z_total", "z");
  assert.match(r.render(), /^kasi_z_total 0$/m);
});
