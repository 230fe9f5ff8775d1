// The targets of issue 5 and how a run's results are judged against them: one definition, used
// by run.mjs (each run's report) and pool.mjs (several runs' results together).

export const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * a[i] / b[i] of `metric` for every run i where both jobs succeeded: adjacent jobs share the
 * machine's state of the moment, which drifts between runs by more than the clients differ.
 */
export function pairedValues(a, b, metric) {
  const out = [];
  for (let i = 0; i < Math.min(a?.length ?? 0, b?.length ?? 0); i++) {
    if (a[i].ok && b[i].ok) out.push(a[i][metric] / b[i][metric]);
  }
  return out;
}

/**
 * Each target with its value in every run of `results` (scenario -> client -> the runs' job
 * results, as results.json's `raw`): [{ target, values, meets(v), unit ("x", " ms", " B") }].
 * `resumeN`: the resume scenario's message count; `sizes`: the shipped sizes (results.json's
 * `sizes`).
 */
export function targetValues(results, resumeN, sizes) {
  const perRun = (key, metric, a, b) => pairedValues(results[key]?.[a], results[key]?.[b], metric);
  return [
    ...[0, 1, 2].map((q) => ({
      target: `publish QoS ${q} >= 0.9x raw`,
      values: perRun(`pub-q${q}`, "rate", "wasmqtt", "raw"),
      meets: (v) => v >= 0.9,
      unit: "x",
    })),
    { target: "receive QoS 0 >= 0.9x raw", values: perRun("recv-q0", "rate", "wasmqtt", "raw"), meets: (v) => v >= 0.9, unit: "x" },
    { target: "receive QoS 1 >= 1.2x MQTT.js", values: perRun("recv-q1", "rate", "wasmqtt", "mqttjs"), meets: (v) => v >= 1.2, unit: "x" },
    { target: "round trip QoS 0 p50 <= 1.1x raw", values: perRun("lat-q0", "p50us", "wasmqtt", "raw"), meets: (v) => v <= 1.1, unit: "x" },
    // The same target, from the clients' round trips alternated in one page (lat-q0-mix): the
    // ratio within a run spreads about a quarter as much as between separate jobs.
    {
      target: "round trip QoS 0 p50 <= 1.1x raw, alternated",
      values: perRun("lat-q0-mix", "p50us", "wasmqtt", "raw"),
      meets: (v) => v <= 1.1,
      unit: "x",
    },
    {
      target: "IndexedDB >= 0.5x memory",
      values: pairedValues(results["persist-idb"]?.wasmqtt, results["persist-mem"]?.wasmqtt, "rate"),
      meets: (v) => v >= 0.5,
      unit: "x",
    },
    {
      target: `resume + drain ${resumeN.toLocaleString("en-US")} < 2 s`,
      values: (results.resume?.wasmqtt ?? []).filter((r) => r.ok).map((r) => r.ms),
      meets: (v) => v < 2000,
      unit: " ms",
    },
    { target: "size < 60 KB gzip", values: sizes?.wasmqtt ? [sizes.wasmqtt.gzip] : [], meets: (v) => v < 60000, unit: " B" },
  ];
}

/** A target's value as the report prints it. */
export const showValue = (v, unit) => (unit === "x" ? `${v.toFixed(2)}x` : `${Math.round(v).toLocaleString("en-US")}${unit}`);
