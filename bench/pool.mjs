// Pools the runs of several benchmark result files (run.mjs --out) per target of issue 5.
//
// One full run judges each target on the median of 5 per-run ratios, and here the per-run ratio
// of the same build swings by 0.1-0.3 between runs: a target whose true ratio lies near its
// threshold is met in one full run and missed in the next. Pooled, the runs of several files
// give the ratio's median with a 95% confidence interval (bootstrap, seeded: the same files give
// the same figures), and say per target whether the interval lies on one side of the threshold.
//
// Usage: node bench/pool.mjs <results.json> [<results.json> ...]
// Pool only files of the same build (the table lists each file's wasm hash) and harness.
import { readFileSync } from "node:fs";
import { median, showValue, targetValues } from "./targets.mjs";

const files = process.argv.slice(2);
if (!files.length) {
  console.error("usage: node bench/pool.mjs <results.json> [<results.json> ...]");
  process.exit(2);
}

// mulberry32: a small seeded generator, so that the intervals are reproducible.
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The 2.5% and 97.5% points of the median of `values` resampled 4,000 times. */
function medianInterval(values) {
  const next = rng(12345);
  const meds = [];
  for (let t = 0; t < 4000; t++) meds.push(median(values.map(() => values[Math.floor(next() * values.length)])));
  meds.sort((a, b) => a - b);
  return [meds[Math.floor(0.025 * meds.length)], meds[Math.ceil(0.975 * meds.length) - 1]];
}

// Below this many runs a ratio's interval is too wide, or (one run) empty, to judge it by.
const MIN_RUNS = 10;

const pooled = new Map();
const builds = new Set();
console.log("file: build (wasm sha256), runs; per target the file's median");
for (const f of files) {
  const r = JSON.parse(readFileSync(f, "utf8"));
  const build = `${r.environment?.wasmqttCommit ?? "?"} (${(r.environment?.pkgWasmSha256 ?? "?").slice(0, 8)})`;
  builds.add(r.environment?.pkgWasmSha256);
  const cells = [];
  for (const t of targetValues(r.raw ?? {}, r.config?.resumeN ?? 10000, r.sizes)) {
    if (!t.values.length) continue;
    if (!pooled.has(t.target)) pooled.set(t.target, { ...t, values: [] });
    pooled.get(t.target).values.push(...t.values);
    cells.push(`${t.target.replace(/ [<>]=? [^,]*/, "")} ${showValue(median(t.values), t.unit)}`);
  }
  console.log(`  ${f}: ${build}, ${r.config?.runs ?? "?"} runs; ${cells.join("; ")}`);
}
if (builds.size > 1) console.log(`  note: ${builds.size} different builds pooled`);

console.log("\nPooled: median of all runs' values [95% interval of the median], runs that meet the target, verdict");
for (const { target, values, meets, unit } of pooled.values()) {
  const [lo, hi] = medianInterval(values);
  const met = values.filter(meets).length;
  const verdict =
    values.length < MIN_RUNS && unit === "x"
      ? `too few runs to judge (fewer than ${MIN_RUNS})`
      : meets(lo) && meets(hi)
        ? "met"
        : !meets(lo) && !meets(hi)
          ? "missed"
          : "undecided (the interval spans the threshold)";
  console.log(
    `  ${target.padEnd(46)} ${showValue(median(values), unit).padStart(9)} [${showValue(lo, unit)}-${showValue(hi, unit)}]  ${met} of ${values.length}  ${verdict}`,
  );
}
