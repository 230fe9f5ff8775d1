#!/usr/bin/env node
// wasmqtt vs MQTT.js vs a raw-WebSocket ceiling, in one headless Chromium, against mosquitto.
//
//   node bench/run.mjs            full run: 5 runs, n = 20,000 (about 8 minutes on 2 cores)
//   node bench/run.mjs --quick    1 run, n = 5,000 (about 2 minutes)
//
// Options:
//   --runs N          runs per scenario and client (default 5, --quick 1)
//   --n N             messages per throughput scenario (default 20000, --quick 5000)
//   --lat-n N         round trips per latency scenario (default 2000, --quick 500)
//   --persist-n N     messages per run of the persist scenario (default 5000, --quick 2000)
//   --resume-n N      stored messages for the resume scenario (default 10000)
//   --inflight W      mosquitto max_inflight_messages and the QoS 1/2 window of every client (100)
//   --window0 W       QoS 0 window of outstanding publishes (1000)
//   --payload N       payload bytes per message (64; at least 4)
//   --warm N          before each measured pub/lat/recv job, the same page runs its client through
//                     N messages (latency: N/10 round trips) untimed, so that the figures are of a
//                     warm page, as a long-lived dashboard's; that warm-up's own figures are kept
//                     as `cold` (default 2000; 0: measure the fresh page, as before 2026-11-27)
//   --warm-b N        the warm-up of client "wasmqtt-b" only (default: --warm): with --pkg-b set
//                     to the same build, a paired measure of what the warm-up changes
//   --only a,b        scenarios to run (pub-q0,pub-q1,pub-q2,lat-q0,lat-q1,lat-q0-mix,recv-q0,recv-q1,
//                     persist,resume); lat-q0-mix: one job per run in which every client makes its
//                     round trips, alternated in blocks (runner.js latencyMix)
//   --block N         round trips per client and block in lat-q0-mix (default 200)
//   --clients a,b     clients to run (wasmqtt,mqttjs,raw)
//   --out FILE        results JSON (default bench/results.json for a full run, bench/results-partial.json
//                     with --only, --clients or --quick)
//   --pkg DIR         serve DIR as /pkg/ instead of the repo's pkg/ (e.g. a build with wasm names)
//   --pkg-b DIR       a second build to compare, run as client "wasmqtt-b" (served as /pkg-b/) next
//                     to "wasmqtt" in every run, in rotating order (see clientOrder): an A/B within one run,
//                     which the machine's drift between separate runs (up to 1.5x here) would swamp
//   --raw-touch KB    the raw client reads each 64-byte line of KB kilobytes of its own, in a random
//                     chain, on every frame it receives (default 0): what a per-frame working set
//                     of that size costs, to compare with the client's (bench/README.md, ninth round)
//   --raw-spin US     in the latency scenarios, the raw client keeps the page's thread busy for US
//                     microseconds after each send (default 0): what a client's work after its send
//                     costs the round trip on this machine (bench/README.md, fourteenth round)
//   --driver playwright   open the measured tab through playwright-core instead (the pitfall,
//                     for comparison only: Playwright copies every WebSocket frame to Node)
//   --check           exit with status 1 if any job failed or any client lost or duplicated a
//                     message (correctness only: no speed target is judged; used by the CI's smoke run)
//   --cpu             CPU time of every thread of Chromium and mosquitto between the page's start
//                     and end hooks (/proc/*/task/*/schedstat), printed per message and process
//   --profile         instead of the table: one run per client of pub-q0, pub-q1, recv-q0,
//                     recv-q1 and lat-q0 (or the --only list; persist and resume too) with the
//                     V8 sampling profiler (DevTools protocol over
//                     --remote-debugging-pipe, Profiler domain only); writes
//                     bench/profiles/*.cpuprofile and prints the top self-time functions
//   --trace           with --profile: Chromium's own trace instead of the sampler (categories
//                     toplevel, v8, blink): the time per message of each thread's tasks by kind,
//                     which shows the browser's work the sampler lumps as "(program)"; writes
//                     bench/profiles/*.trace.json
//
// How it works (bench/README.md has more): mosquitto (config printed) on loopback; an HTTP
// server on loopback serving the repository root (with COOP/COEP so that performance.now() has
// 5 us resolution) and a small job API; Chromium started as a plain child process with the
// runner page URL on its command line and a fresh profile. The page asks for a job, runs it,
// posts the result and reloads itself. No DevTools client is attached while measuring.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";
import { startBroker } from "../tests/browser/broker.mjs";
import { median, pairedValues, showValue, targetValues } from "./targets.mjs";
import { connectPacket, encodePublishes, indexedPayload, subscribePacket } from "./page/raw-client.js";
import { CHROMIUM, CHROMIUM_ARGS, launchBrowser, removeDir, tempProfileDir } from "../tests/browser/harness.mjs";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, "..");

// ------------------------------------------------------------------ options

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const quick = flag("--quick");
const profileMode = flag("--profile");
const warmN = Number(opt("--warm", quick ? 500 : 2000));
const cfg = {
  quick,
  runs: Number(opt("--runs", profileMode ? 1 : quick ? 1 : 5)),
  n: Number(opt("--n", quick ? 5000 : 20000)),
  latN: Number(opt("--lat-n", quick ? 500 : 2000)),
  persistN: Number(opt("--persist-n", quick ? 2000 : 5000)),
  resumeN: Number(opt("--resume-n", 10000)),
  inflight: Number(opt("--inflight", 100)),
  window0: Number(opt("--window0", 1000)),
  payload: Math.max(4, Number(opt("--payload", 64))),
  warm: warmN,
  warmB: Number(opt("--warm-b", warmN)),
  maxQueued: 100000,
  clients: opt("--clients", "wasmqtt,mqttjs,raw")
    .split(",")
    .flatMap((c) => (c === "wasmqtt" && flag("--pkg-b") ? [c, "wasmqtt-b"] : [c])),
  only: opt("--only", profileMode ? "pub-q0,pub-q1,recv-q0,recv-q1,lat-q0" : "pub-q0,pub-q1,pub-q2,lat-q0,lat-q1,lat-q0-mix,recv-q0,recv-q1,persist,resume").split(","),
  // bench/results.json is the published full run; a partial run (--only, --clients, --quick)
  // writes beside it unless --out says otherwise.
  out: path.resolve(
    opt(
      "--out",
      path.join(
        benchDir,
        profileMode ? "profiles/results.json" : flag("--only") || flag("--clients") || quick ? "results-partial.json" : "results.json",
      ),
    ),
  ),
  pkgDir: path.resolve(opt("--pkg", path.join(repoRoot, "pkg"))),
  pkgB: opt("--pkg-b", null) && path.resolve(opt("--pkg-b")),
  driver: opt("--driver", "plain"),
  rawMode: opt("--raw-mode", "task"),
  block: Number(opt("--block", 200)),
  rawTouchKb: Number(opt("--raw-touch", "0")),
  rawSpinUs: Number(opt("--raw-spin", "0")),
  counters: flag("--counters") || profileMode,
  cpu: flag("--cpu"),
  check: flag("--check"),
  trace: flag("--trace"),
  jobTimeoutMs: 180000,
};
const CLIENT_NAMES = { wasmqtt: "wasmqtt", "wasmqtt-b": "wasmqtt-b", mqttjs: "MQTT.js", raw: "raw" };

const log = (...a) => console.log(...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const uid = () => Math.random().toString(16).slice(2, 10);

// ------------------------------------------------------------------ pkg/ and sizes

/** Waits until pkg/ has its files and their sizes are stable (another engineer may be rebuilding). */
async function waitForPkg(dir) {
  const files = ["wasmqtt.js", "wasmqtt_bg.wasm"].map((f) => path.join(dir, f));
  for (let attempt = 0; attempt < 30; attempt++) {
    const sizes = () => files.map((f) => (fs.existsSync(f) ? fs.statSync(f).size : -1)).join(",");
    const a = sizes();
    if (!a.includes("-1")) {
      await sleep(1000);
      if (sizes() === a) return;
    } else await sleep(2000);
  }
  throw new Error(`${dir} is missing or keeps changing: build it with scripts/build-pkg.sh`);
}

function listFiles(dir, pred) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? listFiles(p, pred) : pred(p) ? [p] : [];
  });
}

function sizeOf(files) {
  const bufs = files.map((f) => fs.readFileSync(f));
  const raw = bufs.reduce((a, b) => a + b.length, 0);
  // Each file compressed on its own, as a server would send them.
  const gzip = bufs.reduce((a, b) => a + zlib.gzipSync(b, { level: 9 }).length, 0);
  return { raw, gzip, files: files.map((f) => path.relative(repoRoot, f)) };
}

function sizes() {
  const wasmqtt = (pkg) =>
    sizeOf([
      path.join(pkg, "wasmqtt.js"),
      ...listFiles(path.join(pkg, "snippets"), (p) => p.endsWith(".js")),
      path.join(pkg, "wasmqtt_bg.wasm"),
    ]);
  return {
    wasmqtt: wasmqtt(cfg.pkgDir),
    ...(cfg.pkgB ? { "wasmqtt-b": wasmqtt(cfg.pkgB) } : {}),
    mqttjs: sizeOf([path.join(repoRoot, "node_modules/mqtt/dist/mqtt.esm.js")]),
    raw: sizeOf([path.join(benchDir, "page/raw-client.js")]),
  };
}

// ------------------------------------------------------------------ HTTP: static files + job API

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
};

class Harness {
  constructor() {
    this.pending = null; // { job, taken, resolve, onHook }
    this.waiters = []; // GET /api/job responses waiting for a job
    this.profiler = null;
  }

  serveFile(req, res, rel) {
    let base = repoRoot;
    if (rel.startsWith("/pkg/")) {
      base = cfg.pkgDir;
      rel = rel.slice(4);
    } else if (rel.startsWith("/pkg-b/") && cfg.pkgB) {
      base = cfg.pkgB;
      rel = rel.slice(6);
    }
    const file = path.resolve(base, "." + rel);
    if (!file.startsWith(base + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
      "cache-control": "no-store",
      // Cross-origin isolation: performance.now() at 5 us instead of 100 us resolution.
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    });
    fs.createReadStream(file).pipe(res);
  }

  async start() {
    this.server = http.createServer(async (req, res) => {
      const url = new URL(req.url, "http://x");
      if (!url.pathname.startsWith("/api/")) return this.serveFile(req, res, decodeURIComponent(url.pathname));
      let body = "";
      for await (const chunk of req) body += chunk;
      const msg = body ? JSON.parse(body) : {};
      const reply = (obj) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(obj));
      switch (url.pathname) {
        case "/api/job": {
          if (this.pending && !this.pending.taken) {
            this.pending.taken = true;
            return reply(this.pending.job);
          }
          const w = { res, reply, timer: setTimeout(() => ((this.waiters = this.waiters.filter((x) => x !== w)), reply({ type: "wait" })), 20000) };
          this.waiters.push(w);
          return;
        }
        case "/api/result": {
          const p = this.pending;
          reply({});
          if (p && p.job.id === msg.id) {
            this.pending = null;
            p.resolve(msg.result);
          }
          return;
        }
        case "/api/hook": {
          const p = this.pending;
          try {
            if (p && p.job.id === msg.id) await p.onHook(msg.name, msg);
          } catch (err) {
            log(`  hook ${msg.name} failed: ${err.message}`);
          }
          return reply({});
        }
        case "/api/log":
          log(`  [page] ${msg.line}`);
          return reply({});
        default:
          res.writeHead(404).end();
      }
    });
    await new Promise((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
  }

  offer(job) {
    // A waiter whose page went away (reload, browser restart) cannot take the job.
    this.waiters = this.waiters.filter((w) => !w.res.destroyed && !w.res.socket?.destroyed);
    if (this.waiters.length) {
      const w = this.waiters.shift();
      clearTimeout(w.timer);
      this.pending.taken = true;
      w.reply(job);
    }
  }

  /** Runs one job in the page; resolves with its result. */
  run(job, onHook = async () => {}) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.pending?.job === job) this.pending = null;
        resolve({ ok: false, error: `timeout after ${cfg.jobTimeoutMs} ms`, timeout: true });
      }, cfg.jobTimeoutMs);
      this.pending = {
        job,
        taken: false,
        onHook,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      this.offer(job);
    });
  }

  exitPage() {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reply({ type: "exit" });
    }
  }

  close() {
    this.server.closeAllConnections?.();
    this.server.close();
  }
}

// ------------------------------------------------------------------ Chromium

/** Minimal DevTools protocol client over --remote-debugging-pipe (fd 3 in, fd 4 out). */
class PipeCdp {
  constructor(proc) {
    this.w = proc.stdio[3];
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = new Map();
    let buf = "";
    proc.stdio[4].on("data", (d) => {
      buf += d.toString("utf8");
      let i;
      while ((i = buf.indexOf("\0")) >= 0) {
        const m = JSON.parse(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (!m.id && m.method) this.listeners.get(m.method)?.(m.params);
        const p = m.id && this.pending.get(m.id);
        if (p) {
          this.pending.delete(m.id);
          m.error ? p.reject(new Error(`${p.method}: ${m.error.message}`)) : p.resolve(m.result);
        }
      }
    });
  }
  /** Calls `f(params)` for each event `method` (one listener per event). */
  on(method, f) {
    this.listeners.set(method, f);
  }
  send(method, params = {}, sessionId) {
    const id = this.nextId++;
    this.w.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + "\0");
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, method }));
  }
}

async function launchChromium(pageUrl) {
  if (cfg.driver === "playwright") {
    // The pitfall, on purpose: a Playwright-controlled page (Network domain enabled).
    const ctx = await launchBrowser();
    const page = await ctx.newPage();
    await page.goto(pageUrl);
    return { close: () => ctx.close() };
  }
  const dir = tempProfileDir();
  const args = [
    ...CHROMIUM_ARGS,
    `--user-data-dir=${dir}`,
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--disable-extensions",
    ...(profileMode ? ["--remote-debugging-pipe"] : []),
    ...(process.env.WASMQTT_BENCH_CHROMIUM_ARGS ?? "").split(" ").filter(Boolean),
    pageUrl,
  ];
  const proc = spawn(CHROMIUM, args, {
    stdio: ["ignore", "ignore", process.env.WASMQTT_BENCH_VERBOSE ? "inherit" : "ignore", "pipe", "pipe"],
  });
  const cdp = profileMode ? new PipeCdp(proc) : null;
  return {
    proc,
    cdp,
    async close() {
      try {
        process.kill(proc.pid, "SIGTERM");
      } catch {}
      await Promise.race([new Promise((r) => proc.once("exit", r)), sleep(5000)]);
      try {
        process.kill(proc.pid, "SIGKILL");
      } catch {}
      removeDir(dir);
    },
  };
}

/** Profiler session on the runner page: attached once, Profiler domain only (no Network). */
async function profilerSession(cdp) {
  for (let i = 0; i < 50; i++) {
    const { targetInfos } = await cdp.send("Target.getTargets");
    const t = targetInfos.find((x) => x.type === "page" && x.url.includes("/bench/page/runner.html"));
    if (t) {
      const { sessionId } = await cdp.send("Target.attachToTarget", { targetId: t.targetId, flatten: true });
      return sessionId;
    }
    await sleep(100);
  }
  throw new Error("runner page target not found");
}

// ------------------------------------------------------------------ external publisher (TCP)

/** A raw MQTT 3.1.1 TCP client: CONNECT, then whatever it is told to write. */
async function tcpClient(port, clientId) {
  const sock = net.connect({ host: "127.0.0.1", port });
  sock.setNoDelay(true);
  await new Promise((resolve, reject) => {
    sock.once("connect", resolve);
    sock.once("error", reject);
  });
  const connack = new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const onData = (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4) {
        sock.off("data", onData);
        sock.on("data", () => {}); // PUBACKs and the like: drained and ignored
        resolve(got[3]);
      }
    };
    sock.on("data", onData);
  });
  sock.write(connectPacket(clientId, 60));
  const rc = await connack;
  if (rc !== 0) throw new Error(`publisher CONNACK ${rc}`);
  return {
    write: (b) => new Promise((r) => sock.write(b, r)),
    close() {
      sock.end(Buffer.from([0xe0, 0]));
    },
  };
}

/** A subscriber over TCP that counts PUBLISH packets on `topic` (QoS 0 subscription). */
async function tcpCounter(port, topic) {
  const sock = net.connect({ host: "127.0.0.1", port });
  await new Promise((resolve, reject) => {
    sock.once("connect", resolve);
    sock.once("error", reject);
  });
  const state = { count: 0, tLast: 0, subacked: false };
  let buf = Buffer.alloc(0);
  let onSuback;
  const subacked = new Promise((r) => (onSuback = r));
  sock.on("data", (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    let p = 0;
    for (;;) {
      if (p + 2 > buf.length) break;
      let q = p + 1;
      let rl = 0;
      let mul = 1;
      let b;
      let ok = true;
      do {
        if (q >= buf.length) {
          ok = false;
          break;
        }
        b = buf[q++];
        rl += (b & 127) * mul;
        mul *= 128;
      } while (b & 128);
      if (!ok || q + rl > buf.length) break;
      const type = buf[p] >> 4;
      if (type === 3) {
        state.count++;
        state.tLast = performance.now();
      } else if (type === 9) onSuback();
      p = q + rl;
    }
    buf = buf.subarray(p);
  });
  sock.write(connectPacket(`bench-observer-${uid()}`, 60));
  sock.write(subscribePacket(1, topic, 0));
  await subacked;
  return { state, close: () => sock.destroy() };
}

// ------------------------------------------------------------------ scenarios

const ITEMS = {
  "pub-q0": { title: "publish to self, QoS 0", scenario: "pubSelf", qos: 0, metric: "rate", unit: "msg/s", better: "higher" },
  "pub-q1": { title: "publish to self, QoS 1", scenario: "pubSelf", qos: 1, metric: "rate", unit: "msg/s", better: "higher" },
  "pub-q2": { title: "publish to self, QoS 2", scenario: "pubSelf", qos: 2, metric: "rate", unit: "msg/s", better: "higher" },
  "lat-q0": { title: "round trip QoS 0", scenario: "latency", qos: 0, metric: ["p50us", "p99us"], unit: "us", better: "lower" },
  "lat-q1": { title: "round trip QoS 1", scenario: "latency", qos: 1, metric: ["p50us", "p99us"], unit: "us", better: "lower" },
  // All clients in one job, their round trips alternated in blocks (runner.js latencyMix).
  "lat-q0-mix": { title: "round trip QoS 0, alternated", scenario: "latencyMix", qos: 0, metric: ["p50us", "p99us"], unit: "us", better: "lower", mix: true },
  "recv-q0": { title: "receive only, QoS 0", scenario: "recv", qos: 0, metric: "rate", unit: "msg/s", better: "higher" },
  "recv-q1": { title: "receive only, QoS 1", scenario: "recv", qos: 1, metric: "rate", unit: "msg/s", better: "higher" },
};

let broker;
let resumeBroker;
let harness;
let browser;
const notes = [];
const results = {}; // key -> client -> [result]
let jobSeq = 0;

function record(key, client, r) {
  ((results[key] ??= {})[client] ??= []).push(r);
}

function describe(r) {
  if (!r.ok) return `FAILED: ${String(r.error).split("\n")[0]}`;
  const parts = [];
  if (r.rate !== undefined) parts.push(`${Math.round(r.rate)} msg/s`);
  if (r.p50us !== undefined) parts.push(`p50 ${Math.round(r.p50us)} us, p99 ${Math.round(r.p99us)} us${r.slowByTenth ? ` (over p99 by tenth of the run: ${r.slowByTenth.join(" ")})` : ""}`);
  if (r.ms !== undefined) parts.push(`${Math.round(r.ms)} ms`);
  if (r.cold?.ok) parts.push(`cold page ${r.cold.rate !== undefined ? `${Math.round(r.cold.rate)} msg/s` : `p50 ${Math.round(r.cold.p50us)} us`} over the first ${r.cold.received ?? r.cold.n}`);
  if (r.lost) parts.push(`lost ${r.lost}`);
  if (r.dup) parts.push(`dup ${r.dup}`);
  if (r.errors) parts.push(`errors ${r.errors} (${r.firstError})`);
  if (r.counters) parts.push(`frames in/out ${r.counters.framesIn}/${r.counters.framesOut}, bytes out ${r.counters.bytesOut}, port posts ${r.counters.posts} (${r.counters.posts ? (r.counters.postUs / r.counters.posts).toFixed(1) : 0} us each), microtasks queued ${r.counters.queueMicrotask}, timers set ${r.counters.setTimeout}, handling ${(r.counters.handlingUs / Math.max(1, r.counters.framesIn)).toFixed(1)} us per frame in`);
  if (r.split) {
    const us = (x) => `${Math.round(x.p50us)} / ${x.meanus.toFixed(1)} / ${Math.round(x.p99us)}`;
    parts.push(`split p50 / mean / p99 us: publish->send ${us(r.split.beforeSend)}, send->frame ${us(r.split.network)}, frame->handler ${us(r.split.afterFrame)}, in send() ${us(r.split.inSend)}`);
  }
  else if (r.frames !== undefined) parts.push(`${r.frames} frames in, ${r.sends} out`);
  return parts.join(", ");
}

async function restartBrowser() {
  await browser?.close();
  browser = await launchChromium(`${harness.url}/bench/page/runner.html`);
  if (browser.cdp) browser.session = await profilerSession(browser.cdp);
}

/**
 * The clients in the order of run `run`: the list rotated by one place per run (wasmqtt, MQTT.js,
 * raw; then MQTT.js, raw, wasmqtt; ...), so that each client takes each place in turn. An A/A
 * run (one build as wasmqtt and wasmqtt-b) showed the second of two adjacent jobs about 5%
 * slower in round-trip p50: a fixed order would hand one client that edge in every run.
 */
function clientOrder(run) {
  const k = cfg.clients.length;
  return cfg.clients.map((_, i) => cfg.clients[(i + run - 1) % k]);
}

/** Runs a job, restarting the browser after a timeout. */
async function runJob(job, onHook) {
  job.id = ++jobSeq;
  const r = await harness.run(job, onHook);
  if (r.timeout) {
    log(`  job ${job.id} (${job.client} ${job.scenario}) timed out: restarting the browser`);
    await restartBrowser();
  }
  return r;
}

function baseJob(client, extra) {
  return {
    client,
    url: broker.wsUrl,
    topic: `bench/${uid()}/t`,
    clientId: `bench-${client}-${uid()}`,
    window: cfg.inflight,
    window0: cfg.window0,
    payload: cfg.payload,
    rawMode: cfg.rawMode,
    rawTouchKb: cfg.rawTouchKb,
    rawSpinUs: cfg.rawSpinUs,
    counters: cfg.counters,
    warm: client === "wasmqtt-b" ? cfg.warmB : cfg.warm,
    ...extra,
  };
}

/** Calls each of `hooks` in turn. */
const chainHooks = (...hooks) => async (name, msg) => {
  for (const h of hooks) await h(name, msg);
};

/** Every descendant of `root` (itself included), from the parent pids in /proc. */
function processTree(root) {
  const children = new Map();
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      (children.get(ppid) ?? children.set(ppid, []).get(ppid)).push(Number(d));
    } catch {} // exited meanwhile
  }
  const out = [];
  const walk = (pid) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** What a Chromium process is, from its --type (and, for utilities, the service it runs). */
function processKind(pid) {
  try {
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split(/[\0 ]/); // Chromium retitles: spaces
    const type = args.find((a) => a.startsWith("--type="))?.slice(7);
    if (!type) return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "mosquitto" ? "mosquitto" : "browser";
    const sub = args.find((a) => a.startsWith("--utility-sub-type="))?.slice(19);
    return sub ? sub.replace(/^.*\.mojom\./, "") : type;
  } catch {
    return "gone";
  }
}

/** Nanoseconds on a CPU of every thread of `pids`, keyed "kind/thread name" (summed over pids). */
function cpuSnapshot(pids) {
  const out = new Map();
  for (const pid of pids) {
    const kind = processKind(pid);
    let tids = [];
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {}
    for (const tid of tids) {
      try {
        const ns = Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
        const name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim().replace(/\d+$/, "");
        const key = `${kind}/${name}`;
        out.set(key, (out.get(key) ?? 0) + ns);
      } catch {}
    }
  }
  return out;
}

/**
 * With --cpu: the CPU time each process and thread of Chromium and mosquitto spent between the
 * page's start and end hooks, as `job.cpu` (us per message, largest first). Two cores are shared
 * by all of them, so a client's cost shows in the broker's and the browser's threads too.
 */
function cpuHooks(job) {
  if (!cfg.cpu) return async () => {};
  let before;
  const pids = () => [...processTree(browser.proc.pid), broker.pid];
  return async (name) => {
    if (name === "start") before = cpuSnapshot(pids());
    else if (name === "end" && before) {
      const after = cpuSnapshot(pids());
      const perMsg = [...after]
        .map(([k, ns]) => [k, (ns - (before.get(k) ?? 0)) / job.n / 1000])
        .filter(([, us]) => us >= 0.5)
        .sort((a, b) => b[1] - a[1]);
      job.cpu = Object.fromEntries(perMsg);
    }
  };
}

/** Profiling hooks: start/stop the V8 sampling profiler around the measured section. */
function profileHooks(label, n) {
  if (!profileMode) return async () => {};
  const { cdp, session } = browser;
  if (cfg.trace) return traceHooks(cdp, label, n);
  return async (name) => {
    if (name === "start") {
      await cdp.send("Profiler.enable", {}, session);
      await cdp.send("Profiler.setSamplingInterval", { interval: 100 }, session);
      await cdp.send("Profiler.start", {}, session);
    } else if (name === "end") {
      const { profile } = await cdp.send("Profiler.stop", {}, session);
      const dir = path.join(benchDir, "profiles");
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${label}.cpuprofile`), JSON.stringify(profile));
      summarizeProfile(label, profile);
    }
  };
}

/**
 * With --profile --trace: Chromium's trace (categories toplevel, v8, v8.gc, blink) between the start and
 * end hooks instead of the sampling profiler, summed per thread and per top-level task kind (the
 * task's posting site): which tasks run, how often per message and for how long, including the
 * browser's own work that the sampling profiler shows only as "(program)".
 */
function traceHooks(cdp, label, n) {
  const events = [];
  let complete;
  cdp.on("Tracing.dataCollected", (p) => events.push(...p.value));
  cdp.on("Tracing.tracingComplete", () => complete?.());
  return async (name) => {
    if (name === "start") {
      events.length = 0;
      await cdp.send("Tracing.start", { traceConfig: { includedCategories: ["toplevel", "v8", "disabled-by-default-v8.gc", "blink"], recordMode: "recordAsMuchAsPossible" }, transferMode: "ReportEvents" });
    } else if (name === "end") {
      const done = new Promise((r) => (complete = r));
      await cdp.send("Tracing.end");
      await done;
      const dir = path.join(benchDir, "profiles");
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${label}.trace.json`), JSON.stringify(events));
      summarizeTrace(label, events, n);
    }
  };
}

function summarizeTrace(label, events, n) {
  const threads = new Map();
  for (const e of events) if (e.ph === "M" && e.name === "thread_name") threads.set(`${e.pid}:${e.tid}`, e.args.name);
  // Top-level tasks: complete events of category toplevel; their kind is the posting site.
  const per = new Map();
  const threadTotal = new Map();
  const inner = new Map();
  const tally = (map, key, e) => {
    const o = map.get(key) ?? map.set(key, { count: 0, us: 0 }).get(key);
    o.count++;
    o.us += e.dur ?? 0;
  };
  for (const e of events) {
    if (e.ph !== "X") continue;
    const th = threads.get(`${e.pid}:${e.tid}`) ?? `${e.pid}:${e.tid}`;
    if (e.cat.includes("toplevel")) {
      const src = e.args?.src_func ?? e.args?.src?.function ?? e.args?.src_file ?? "";
      tally(per, `${th.padEnd(22)} ${e.name} ${src}`, e);
      threadTotal.set(th, (threadTotal.get(th) ?? 0) + (e.dur ?? 0));
    } else if (th === "CrRendererMain") tally(inner, e.name, e); // V8 and Blink events inside the tasks
  }
  const printTally = (map) => {
    for (const [k, o] of [...map].sort((a, b) => b[1].us - a[1].us).slice(0, 25)) log(`    ${(o.count / n).toFixed(3).padStart(8)} ${(o.us / n).toFixed(1).padStart(7)}  ${k}`);
  };
  log(`\n  trace ${label}: ${events.length} events; top-level task time per message (us) by thread:`);
  for (const [th, us] of [...threadTotal].sort((a, b) => b[1] - a[1]).slice(0, 8)) log(`    ${(us / n).toFixed(1).padStart(7)}  ${th}`);
  log(`  top-level tasks (per message: count, us):`);
  printTally(per);
  log(`  renderer main thread, named events (per message: count, us; nested events overlap):`);
  printTally(inner);
  framesAfterPostedTask(events);
}

/**
 * The page's frame tasks (Blink's `PostDispatchNextMessageFromPipe`, one received WebSocket frame
 * each) by their place after the last task the client posted itself (a `MessagePort` task,
 * `Notify`: a burst's end, or the raw client's reaction): mean time, the JavaScript in it
 * (`v8.callFunction`: the client's handler, its microtasks and the counters' listeners) and the
 * rest (the browser's own work). If a client's work made the browser's per-frame work dearer, the
 * two clients would differ at the same place; the last rows are the steady state.
 */
function framesAfterPostedTask(events) {
  const calls = new Map();
  for (const e of events) if (e.name === "v8.callFunction") calls.set(`${e.pid}:${e.tid}`, (calls.get(`${e.pid}:${e.tid}`) ?? 0) + 1);
  const page = [...calls].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (page === undefined) return;
  const mine = events.filter((e) => e.ph === "X" && `${e.pid}:${e.tid}` === page).sort((a, b) => a.ts - b.ts);
  const js = mine.filter((e) => e.name === "v8.callFunction");
  const places = ["1", "2", "3", "4-8", "9-64", "65+"];
  const rows = new Map(places.map((k) => [k, { count: 0, us: 0, js: 0 }]));
  let since = -1; // no posted task seen yet
  let j = 0;
  for (const t of mine) {
    if (!t.cat.includes("toplevel") || t.name !== "ThreadControllerImpl::RunTask") continue;
    const src = t.args?.src_func;
    if (src === "Notify") since = 0;
    if (src !== "PostDispatchNextMessageFromPipe" || since < 0) continue;
    since++;
    const row = rows.get(since <= 3 ? String(since) : since <= 8 ? "4-8" : since <= 64 ? "9-64" : "65+");
    while (j < js.length && js[j].ts < t.ts) j++;
    for (let k = j; k < js.length && js[k].ts < t.ts + t.dur; k++) row.js += js[k].dur;
    row.count++;
    row.us += t.dur;
  }
  log(`  frame tasks by place after the client's last posted task (count; mean us: all / JavaScript / the rest):`);
  for (const [k, r] of rows) {
    if (r.count) log(`    ${k.padStart(5)} ${String(r.count).padStart(7)} ${(r.us / r.count).toFixed(1).padStart(7)} ${(r.js / r.count).toFixed(1).padStart(7)} ${((r.us - r.js) / r.count).toFixed(1).padStart(7)}`);
  }
}

function summarizeProfile(label, profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const cats = new Map();
  const total = profile.samples.length;
  for (const id of profile.samples) {
    const n = byId.get(id);
    const f = n.callFrame;
    const file = f.url ? f.url.replace(/^.*\//, "") : "";
    const name = `${f.functionName || "(anonymous)"} ${file}${f.url && !f.url.startsWith("wasm") ? `:${f.lineNumber + 1}` : ""}`;
    self.set(name, (self.get(name) ?? 0) + 1);
    let cat;
    if (f.url.startsWith("wasm://")) cat = "wasm";
    else if (file) cat = file;
    else cat = f.functionName || "(native)";
    cats.set(cat, (cats.get(cat) ?? 0) + 1);
  }
  const pct = (c) => `${((100 * c) / total).toFixed(1).padStart(5)}%`;
  log(`\n  profile ${label}: ${total} samples (100 us), self time by category:`);
  for (const [k, c] of [...cats].sort((a, b) => b[1] - a[1]).slice(0, 10)) log(`    ${pct(c)}  ${k}`);
  log(`  top functions (self):`);
  for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 22)) log(`    ${pct(c)}  ${k}`);
}

async function runItem(key, client) {
  const it = ITEMS[key];
  const n = it.scenario === "latency" ? cfg.latN : cfg.n;
  const job = baseJob(client, { scenario: it.scenario, qos: it.qos, n });
  const label = `${client}-${key}`;
  const prof = chainHooks(profileHooks(label, n), cpuHooks(job));
  let onHook = prof;
  let pub;
  if (it.scenario === "recv") {
    // n pre-encoded PUBLISHes, payload = 4-byte index + filler.
    const packets = encodePublishes(job.topic, it.qos, n, (i) => indexedPayload(i, cfg.payload)).buf;
    pub = await tcpClient(broker.tcpPort, `bench-pub-${uid()}`);
    onHook = async (name, msg) => {
      await prof(name, msg);
      if (name === "ready") pub.write(packets); // not awaited: the page is counting
    };
  }
  const r = await runJob(job, onHook);
  pub?.close();
  if (job.cpu) r.cpu = job.cpu;
  record(key, client, r);
  log(`  ${key.padEnd(8)} ${CLIENT_NAMES[client].padEnd(8)} ${describe(r)}`);
  if (r.cpu) log(`           CPU us/msg: ${Object.entries(r.cpu).map(([k, us]) => `${k} ${us.toFixed(1)}`).join(", ")}`);
}

/**
 * One job for all clients: cfg.latN round trips each, alternated in blocks of cfg.block in one
 * page, recorded per client as that run's result (so the per-run ratios pair within the job).
 */
async function runMix(key, run) {
  const it = ITEMS[key];
  const mix = clientOrder(run);
  const job = baseJob("mix", { scenario: it.scenario, qos: it.qos, n: cfg.latN, mix, block: cfg.block, warm: cfg.warm });
  const r = await runJob(job, profileHooks(`mix-${key}`, cfg.latN * mix.length));
  for (const c of mix) {
    const cr = r.ok ? r.clients[c] : r;
    record(key, c, cr);
    log(`  ${key.padEnd(8)} ${CLIENT_NAMES[c].padEnd(8)} ${describe(cr)}`);
  }
}

async function idbProbe() {
  const r = await runJob(baseJob("wasmqtt", { scenario: "idbProbe", n: 20 }));
  if (!r.ok) return { available: false, note: `probe failed: ${r.error}` };
  if (r.created.length === 0)
    return {
      available: false,
      note: 'persistence: "indexeddb" is accepted but wrote no IndexedDB database (indexedDB.databases() unchanged after 20 acknowledged QoS 1 publishes with clean: false): it behaves like "memory" in this build',
    };
  return { available: true, databases: r.created };
}

async function runPersist(idb) {
  for (const persistence of ["memory", "indexeddb"]) {
    const key = `persist-${persistence === "memory" ? "mem" : "idb"}`;
    if (persistence === "indexeddb" && !idb.available) {
      record(key, "wasmqtt", { ok: false, unavailable: true, error: "not available" });
      log(`  ${key} wasmqtt  not available`);
      continue;
    }
    // Smaller n than pub-q1: at ~250 msg/s, 20,000 IndexedDB-backed messages take 80 s per run.
    const job = baseJob("wasmqtt", { scenario: "pubSelfPersist", qos: 1, n: cfg.persistN, persistence });
    const r = await runJob(job, profileHooks(`wasmqtt-${key}`, job.n));
    if (r.ok && persistence === "indexeddb" && r.idbCreated.length === 0) {
      r.warning = "no IndexedDB database was created by this run";
    }
    record(key, "wasmqtt", r);
    log(`  ${key.padEnd(8)} wasmqtt  ${describe(r)}${r.warning ? ` (${r.warning})` : ""}`);
  }
}

async function runResume(idb) {
  const key = "resume";
  if (!idb.available) {
    record(key, "wasmqtt", { ok: false, unavailable: true, error: "not available" });
    log(`  resume   wasmqtt  skipped: not available (${idb.note})`);
    return;
  }
  // Phase 1: broker down, n QoS 1 publishes queued (stored), then the page reloads.
  await resumeBroker.stop();
  const job = baseJob("wasmqtt", { url: resumeBroker.wsUrl, n: cfg.resumeN });
  const stored = await runJob({ ...job, scenario: "resumeStore" });
  if (!stored.ok || stored.stored === 0 || stored.idbCreated.length === 0) {
    const note = !stored.ok ? stored.error : stored.stored === 0 ? "outbox() empty after queuing messages offline" : "no IndexedDB database after queuing messages offline";
    record(key, "wasmqtt", { ok: false, unavailable: true, error: `not available: ${note}` });
    log(`  resume   wasmqtt  skipped: ${note}`);
    return;
  }
  // Phase 2 (the page has reloaded): broker up, an observer on the topic, the page connects
  // and waits until every restored message is acknowledged.
  await resumeBroker.start();
  const obs = await tcpCounter(resumeBroker.tcpPort, job.topic);
  const r = await runJob({ ...job, scenario: "resumeDrain" }, profileHooks("wasmqtt-resume", job.n));
  const deadline = Date.now() + 3000;
  while (obs.state.count < cfg.resumeN && Date.now() < deadline) await sleep(50);
  obs.close();
  await resumeBroker.stop();
  const res = { ...r, stored: stored.stored, storeCallMs: stored.callMs, observed: obs.state.count, ms: r.drainMs };
  if (r.ok && !(r.restored > 0)) {
    res.ok = false;
    res.unavailable = true;
    res.error = `not available: after the reload the client reports ${r.restored} stored messages (outbox())`;
  } else if (r.ok && !r.drained) {
    res.ok = false;
    res.error = `not drained: ${r.delivered}/${r.restored} acknowledged after ${Math.round(r.drainMs)} ms (capped at 30 s; ${Math.round((r.delivered / r.drainMs) * 1000)} msg/s)`;
  }
  record(key, "wasmqtt", res);
  if (r.counters) log(`  resume   counters: frames in/out ${r.counters.framesIn}/${r.counters.framesOut}`);
  log(`  resume   wasmqtt  ${res.ok ? `${Math.round(r.drainMs)} ms from connect() to the last ack (CONNACK after ${Math.round(r.connectMs)} ms); restored ${r.restored}/${stored.stored} stored, broker delivered ${obs.state.count}` : res.error}`);
}

// ------------------------------------------------------------------ report

/** Median, min and max of `vals`; null for none. */
function spread(vals) {
  return vals.length ? { median: median(vals), min: Math.min(...vals), max: Math.max(...vals), values: vals } : null;
}

function stats(list, metric) {
  return spread((list ?? []).filter((r) => r.ok).map((r) => r[metric]));
}

/** a / b within each run (targets.mjs's pairedValues), as a spread. */
function pairedRatios(a, b, metric) {
  return spread(pairedValues(a, b, metric));
}

const fmt = (v) => (v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(v >= 10 ? 1 : 2));
const cell = (s) => (s ? `${fmt(s.median)} [${fmt(s.min)}-${fmt(s.max)}]` : "n/a");

/** The summary row of scenario `key` (a latency scenario's is its p50 row). */
const summaryRow = (summary, key) => summary[key] ?? summary[`${key}-p50us`];

/**
 * With --cpu: per scenario and client, the median over runs of the CPU time per message of the
 * page's main thread (where the client runs) and of all threads together (browser, network
 * service, mosquitto), saved in the scenario's row as `cpu`.
 */
function cpuReport(summary) {
  log("CPU per message, median of runs (us): page main thread / all processes");
  for (const key of Object.keys(ITEMS)) {
    // A mixed job's CPU time is all its clients' together.
    if (!results[key] || ITEMS[key].mix) continue;
    const row = summaryRow(summary, key);
    const cells = [];
    row.cpu = {};
    for (const c of cfg.clients) {
      const runs = (results[key][c] ?? []).filter((r) => r.cpu);
      if (!runs.length) continue;
      const main = spread(runs.map((r) => r.cpu["renderer/chromium"] ?? 0));
      const all = spread(runs.map((r) => Object.values(r.cpu).reduce((a, b) => a + b, 0)));
      row.cpu[c] = { main, all };
      cells.push(`${CLIENT_NAMES[c]} ${fmt(main.median)} / ${fmt(all.median)}`);
    }
    log(`  ${key.padEnd(8)} ${cells.join(", ")}`);
  }
}

/**
 * With --warm: per scenario and client, the median over runs of the untimed warm-up that ran
 * first in each job's fresh page (throughput over its first `warm` messages, or the p50 of its
 * first warm/10 round trips), saved in the scenario's row as `coldPage`.
 */
function coldReport(summary) {
  log(`Fresh page (each job's untimed warm-up: its first ${cfg.warm} messages, or ${Math.ceil(cfg.warm / 10)} round trips), median of runs:`);
  for (const key of Object.keys(ITEMS)) {
    const row = summaryRow(summary, key);
    if (!row || ITEMS[key].mix) continue;
    const m = ITEMS[key].scenario === "latency" ? "p50us" : "rate";
    row.coldPage = {};
    const cells = [];
    for (const c of cfg.clients) {
      const s = stats((results[key]?.[c] ?? []).map((r) => r.cold).filter(Boolean), m);
      if (!s) continue;
      row.coldPage[c] = s;
      cells.push(`${CLIENT_NAMES[c]} ${fmt(s.median)}`);
    }
    const what = m === "rate" ? `msg/s${ITEMS[key].scenario === "recv" ? " (its warm-up publishes to self)" : ""}` : "p50 us";
    log(`  ${key.padEnd(8)} ${what}: ${cells.join(", ")}`);
  }
}

/**
 * The targets of issue 5 (targets.mjs), each judged run by run: the ratio (or value) within
 * every run, its median, and in how many runs it was met. Returned for the results JSON.
 */
function targetReport(sz) {
  const out = [];
  log("\nTargets (issue 5), judged within each run: median of the runs' values, runs that meet it");
  for (const { target, values, meets, unit } of targetValues(results, cfg.resumeN, sz)) {
    if (!values.length) continue;
    const s = spread(values);
    const met = values.filter(meets).length;
    out.push({ target, median: s.median, min: s.min, max: s.max, runs: values.length, met, medianMeets: meets(s.median), values });
    const range = values.length > 1 ? ` [${showValue(s.min, unit)}-${showValue(s.max, unit)}]` : "";
    log(`  ${target.padEnd(46)} ${showValue(s.median, unit).padStart(9)}${range}  met in ${met} of ${values.length}${meets(s.median) ? "" : "  (median misses)"}`);
  }
  return out;
}

function report(sz, brokerConf, idb) {
  const rows = [];
  const summary = {};
  const metricRows = [];
  for (const key of Object.keys(ITEMS)) {
    if (!results[key]) continue;
    const it = ITEMS[key];
    for (const m of Array.isArray(it.metric) ? it.metric : [it.metric]) {
      const label = Array.isArray(it.metric) ? `${it.title} ${m.replace("us", "")} (${it.unit})` : `${it.title} (${it.unit})`;
      metricRows.push({ key, m, label, better: it.better });
    }
  }
  for (const { key, m, label, better } of metricRows) {
    const s = Object.fromEntries(cfg.clients.map((c) => [c, stats(results[key]?.[c], m)]));
    const ratio = (a, b) => (s[a] && s[b] ? s[a].median / s[b].median : null);
    const row = {
      label,
      better,
      ...Object.fromEntries(cfg.clients.map((c) => [c, s[c]])),
      wasmqttVsMqttjs: ratio("wasmqtt", "mqttjs"),
      wasmqttVsRaw: ratio("wasmqtt", "raw"),
      wasmqttVsRawPerRun: pairedRatios(results[key]?.wasmqtt, results[key]?.raw, m),
      mqttjsVsRaw: ratio("mqttjs", "raw"),
      bVsA: ratio("wasmqtt-b", "wasmqtt"),
      bVsAPerRun: pairedRatios(results[key]?.["wasmqtt-b"], results[key]?.wasmqtt, m),
      lost: Object.fromEntries(cfg.clients.map((c) => [c, (results[key]?.[c] ?? []).reduce((a, r) => a + (r.lost ?? 0), 0)])),
      dup: Object.fromEntries(cfg.clients.map((c) => [c, (results[key]?.[c] ?? []).reduce((a, r) => a + (r.dup ?? 0), 0)])),
      failed: Object.fromEntries(cfg.clients.map((c) => [c, (results[key]?.[c] ?? []).filter((r) => !r.ok).length])),
    };
    rows.push(row);
    summary[`${key}${m === "rate" ? "" : `-${m}`}`] = row;
  }

  const cols = cfg.clients;
  const W = [40, ...cols.map(() => 26), 10, 10, 12, 22];
  const line = (cells) => cells.map((c, i) => String(c).padEnd(W[i])).join(" ").trimEnd();
  log("\n" + "=".repeat(160));
  log(`Results: median [min-max] of ${cfg.runs} run(s); ratios are of medians (wasmqtt / X; higher is better for msg/s, lower for us);`);
  log(`"w/raw per run": wasmqtt / raw within each run, median [min-max]`);
  log(line(["scenario", ...cols.map((c) => CLIENT_NAMES[c]), "w/MQTT.js", "w/raw", "MQTT.js/raw", "w/raw per run"]));
  for (const r of rows) {
    const rt = (x) => (x == null ? "-" : `${x.toFixed(2)}x`);
    const perRun = r.wasmqttVsRawPerRun;
    const paired = perRun ? `${rt(perRun.median)} [${rt(perRun.min)}-${rt(perRun.max)}]` : "-";
    log(line([r.label, ...cols.map((c) => cell(r[c])), rt(r.wasmqttVsMqttjs), rt(r.wasmqttVsRaw), rt(r.mqttjsVsRaw), paired, ...(cfg.pkgB ? [`b/a ${rt(r.bVsA)}, per run ${r.bVsAPerRun ? `${rt(r.bVsAPerRun.median)} [${rt(r.bVsAPerRun.min)}-${rt(r.bVsAPerRun.max)}]` : "-"}`] : [])]));
  }
  const lossy = rows.filter((r) => cols.some((c) => r.lost[c] || r.dup[c] || r.failed[c]));
  if (lossy.length) {
    log("lost / duplicated / failed runs (sums over runs):");
    for (const r of lossy) log(`  ${r.label}: ${cols.map((c) => `${CLIENT_NAMES[c]} ${r.lost[c]}/${r.dup[c]}/${r.failed[c]}`).join(", ")}`);
  } else if (rows.length) log("lost / duplicated: none in any run");
  if (cfg.check && lossy.length) {
    log("check: FAILED (a run failed, or lost or duplicated messages)");
    process.exitCode = 1;
  }
  if (cfg.cpu) cpuReport(summary);
  if (cfg.warm > 0 && rows.length) coldReport(summary);

  // wasmqtt-only scenarios
  const extra = {};
  if (results["persist-mem"]) {
    const mem = stats(results["persist-mem"].wasmqtt, "rate");
    const idbS = stats(results["persist-idb"]?.wasmqtt, "rate");
    extra.persist = { memory: mem, indexeddb: idbS, ratio: mem && idbS ? idbS.median / mem.median : null, note: idb.available ? undefined : idb.note };
    log(`\nwasmqtt QoS 1 publish to self, clean: false, n ${cfg.persistN} (msg/s): memory ${cell(mem)}, indexeddb ${idb.available ? cell(idbS) : "not available"}${extra.persist.ratio ? `, idb/memory ${extra.persist.ratio.toFixed(2)}x` : ""}`);
    if (!idb.available) log(`  (${idb.note})`);
  }
  if (results.resume) {
    const rs = stats(results.resume.wasmqtt, "ms");
    extra.resume = { ms: rs, runs: results.resume.wasmqtt };
    const runs = results.resume.wasmqtt;
    const line = rs ? cell(rs) : runs.every((r) => r.unavailable) ? `not available (${runs[0].error}${idb.note ? `; ${idb.note}` : ""})` : "no run drained";
    log(`wasmqtt resume after reload, ${cfg.resumeN} stored QoS 1 messages, until the last is acknowledged (ms): ${line}`);
    for (const r of runs.filter((r) => !r.ok && !r.unavailable)) log(`  ${r.error}`);
  }
  log(`\nShipped size (glue JS + wasm; gzip -9 per file):`);
  for (const c of cols) log(`  ${CLIENT_NAMES[c].padEnd(8)} ${sz[c].raw.toLocaleString("en-US").padStart(9)} B raw, ${sz[c].gzip.toLocaleString("en-US").padStart(8)} B gzip   (${sz[c].files.join(" + ")})`);
  const targets = targetReport(sz);
  log("=".repeat(160));

  const out = {
    date: new Date().toISOString(),
    command: `node bench/run.mjs ${argv.join(" ")}`.trim(),
    config: cfg,
    environment: {
      chromium: safe(() => execFileSync(CHROMIUM, ["--version"], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim()),
      mosquitto: safe(() => spawnSync("mosquitto", ["-h"]).stdout.toString().split("\n")[0]),
      node: process.version,
      cpus: os.cpus().length,
      loadavgAtStart: loadAtStart,
      loadavgAtEnd: os.loadavg(),
      cpuModel: os.cpus()[0]?.model,
      wasmqttCommit: safe(() => execFileSync("git", ["-C", repoRoot, "rev-parse", "--short", "HEAD"]).toString().trim()),
      pkgWasmSha256: safe(() => execFileSync("sha256sum", [path.join(cfg.pkgDir, "wasmqtt_bg.wasm")]).toString().split(" ")[0]),
      mqttjs: JSON.parse(fs.readFileSync(path.join(repoRoot, "node_modules/mqtt/package.json"), "utf8")).version,
    },
    brokerConfig: brokerConf,
    sizes: sz,
    summary,
    targets,
    wasmqttOnly: extra,
    indexeddb: idb,
    notes,
    raw: results,
  };
  fs.mkdirSync(path.dirname(cfg.out), { recursive: true });
  fs.writeFileSync(cfg.out, JSON.stringify(out, null, 2) + "\n");
  log(`wrote ${path.relative(process.cwd(), cfg.out)}`);
}

function safe(f) {
  try {
    return f();
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ main

let loadAtStart;
async function main() {
  const t0 = Date.now();
  loadAtStart = os.loadavg();
  log(`load average ${loadAtStart.map((x) => x.toFixed(2)).join(" ")} on ${os.cpus().length} CPUs (other work on the machine skews absolute numbers; ratios within a run are interleaved)`);
  await waitForPkg(cfg.pkgDir);
  const sz = sizes();
  broker = await startBroker({ name: "bench", maxInflight: cfg.inflight, maxQueued: cfg.maxQueued, persistence: false });
  const brokerConf = fs.readFileSync(broker.configFile, "utf8");
  log(`mosquitto ${broker.wsUrl} (ws) ${broker.tcpUrl} (tcp), config ${broker.configFile}:`);
  log(brokerConf.replace(/^/gm, "  | ").trimEnd());
  if (cfg.only.includes("resume")) {
    resumeBroker = await startBroker({ name: "bench-resume", maxInflight: cfg.inflight, maxQueued: cfg.maxQueued, persistence: false });
    await resumeBroker.stop();
  }
  harness = new Harness();
  await harness.start();
  log(`harness ${harness.url}; chromium ${cfg.driver === "playwright" ? "through playwright-core (instrumented: the pitfall)" : "as a plain child process (no DevTools client while measuring)"}${profileMode ? " with --remote-debugging-pipe for the profiler" : ""}`);
  log(`runs ${cfg.runs}, n ${cfg.n}, latency n ${cfg.latN}, QoS 1/2 window ${cfg.inflight}, QoS 0 window ${cfg.window0}, clients ${cfg.clients.join(" ")}`);
  if (cfg.rawTouchKb > 0) log(`the raw client touches ${cfg.rawTouchKb} KB of its own per received frame (--raw-touch): not the ceiling`);
  if (cfg.rawSpinUs > 0) log(`the raw client's round trips keep its thread busy ${cfg.rawSpinUs} us after each send (--raw-spin): not the ceiling`);
  await restartBrowser();

  try {
    // Each client once, discarded: a client that cannot run fails here, before any figure.
    for (const c of cfg.clients) {
      const r = await runJob(baseJob(c, { scenario: "pubSelf", qos: 1, n: 1000, warm: 0 }));
      if (!r.ok) throw new Error(`the first job of ${c} failed: ${r.error}`);
    }
    const idb = cfg.only.includes("persist") || cfg.only.includes("resume") ? await idbProbe() : { available: false, note: "not run" };
    if (!idb.available && idb.note !== "not run") {
      notes.push(`indexeddb: ${idb.note}`);
      log(`IndexedDB probe: not available: ${idb.note}`);
    }
    for (let run = 1; run <= cfg.runs; run++) {
      log(`run ${run}/${cfg.runs}`);
      for (const key of Object.keys(ITEMS)) {
        if (!cfg.only.includes(key)) continue;
        if (ITEMS[key].mix) await runMix(key, run);
        else for (const c of clientOrder(run)) await runItem(key, c);
      }
      if (cfg.clients.includes("wasmqtt")) {
        if (cfg.only.includes("persist")) await runPersist(idb);
        if (cfg.only.includes("resume")) await runResume(idb);
      }
    }
    harness.exitPage();
    report(sz, brokerConf, idb);
  } finally {
    await browser?.close();
    harness.close();
    await broker.dispose();
    await resumeBroker?.dispose();
  }
  log(`total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

main().catch((err) => {
  console.error(`bench: ${err.stack ?? err}`);
  process.exit(1);
});
