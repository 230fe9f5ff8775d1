// The client's own CPU per call and per received frame, without the network: a connected
// wasmqtt client (bench/page/builds.html) whose socket sends nothing further gets synthetic
// frames through its WebSocket `message` handler.
//
// 1. Per received QoS 0 PUBLISH (64-byte payload, to a subscribed topic, each delivered to a
//    counting listener), beside the raw client's work on the same frame (a view, the header, the
//    payload's first byte): warm, and with the CPU caches thrashed before each frame (reads of
//    0.25, 4 and 48 MB), as the browser's own per-frame work does between a live client's frames.
// 2. Per QoS 0 and per QoS 1 publish() call (its promise and a `then`; the QoS 0 bytes leave in
//    the end-of-task flush, which is timed with the call), per PUBACK frame (settling it), per
//    QoS 0 PUBLISH frame in (after a quiet spell: held behind the first and handed over together,
//    as a live stream's) and per PINGRESP frame (what every frame costs: reading the event,
//    the call into the wasm, decoding, the session's step), warm, in rounds of 1,000 calls or
//    frames. With WASMQTT_PKG_B=<a directory under the repository holding another build>, that
//    build runs beside /pkg/ in the same page, rounds alternated: a paired comparison of two
//    builds that the network's noise does not drown. With FRAME_COST_EVICT_KB=<KB>, a read of
//    that many KB (stride 64) comes before each call and frame, and the time of as many reads
//    alone is subtracted: each then finds the caches as a live frame does after the browser's
//    own work (1024 evicts this machine's L2), so a change in what a frame touches shows.
//
// Prints us per frame or call; asserts nothing.
//
//   node tests/browser/run.mjs bench/frame-cost.test.mjs
//   cp -r pkg pkg-before; <change, build>; WASMQTT_PKG_B=pkg-before node tests/browser/run.mjs bench/frame-cost.test.mjs
//   FRAME_COST_EVICT_KB=1024 WASMQTT_PKG_B=pkg-before node tests/browser/run.mjs bench/frame-cost.test.mjs
import { test, before, after } from "node:test";
import { env, launchBrowser, openReadyPage } from "../tests/browser/harness.mjs";

const pkgB = process.env.WASMQTT_PKG_B;
const evictKB = Number(process.env.FRAME_COST_EVICT_KB ?? 0);
let browser;
let page;

before(async () => {
  browser = await launchBrowser();
  const query = pkgB ? `?b=/${pkgB.replace(/^\/+|\/+$/g, "")}/wasmqtt.js` : "";
  page = await openReadyPage(browser, `/bench/page/builds.html${query}`);
});

after(async () => {
  await browser?.close();
});

test("CPU per received frame: wasmqtt's handler against the raw client's parse", async () => {
  const r = await page.evaluate(
    async ({ env }) => {
      const topic = `frame-cost/${Math.random()}`;
      const { c, ws } = await rig(builds.W, env.wsUrl, topic);
      let got = 0;
      let sum = 0;
      c.on("message", (_t, p) => {
        got++;
        sum += p[0];
      });
      const frame = publishFrame(topic, 64);
      const N = 20000;
      const events = Array.from({ length: N }, () => new MessageEvent("message", { data: frame.buffer.slice(0) }));
      const rawParse = (e) => {
        const d = new Uint8Array(e.data);
        return d[4 + ((d[2] << 8) | d[3])] + d[1];
      };
      const us = (ms, n) => +((ms * 1000) / n).toFixed(2);
      const warm = [];
      for (let round = 0; round < 5; round++) {
        let t0 = performance.now();
        for (let i = 0; i < N; i++) ws.onmessage(events[i]);
        await tick(); // the frames held behind the first are handled in a task the client posted
        const w = us(performance.now() - t0, N);
        t0 = performance.now();
        for (let i = 0; i < N; i++) sum += rawParse(events[i]);
        warm.push({ wasmqtt: w, raw: us(performance.now() - t0, N) });
      }
      // Thrashed: before each frame, a read of `mb` MB (stride 64) evicts the L1 (0.25 MB), the
      // L2 (4 MB; 1 MB per core here) or the shared L3 too (48 MB; 32 MB here).
      const cold = [];
      for (const [mb, M] of [[0.25, 2000], [4, 2000], [48, 200]]) {
        const evict = evictor(mb * 1024);
        let tw = 0;
        let tr = 0;
        let tNone = 0;
        for (let i = 0; i < M; i++) {
          evict();
          let a = performance.now();
          ws.onmessage(events[i]);
          tw += performance.now() - a;
          // The burst a frame may open ends here, untimed: the next frame is handled alone too.
          await tick();
          evict();
          a = performance.now();
          sum += rawParse(events[i]);
          tr += performance.now() - a;
          evict();
          a = performance.now();
          tNone += performance.now() - a;
        }
        cold.push({ mb, wasmqtt: us(tw - tNone, M), raw: us(tr - tNone, M) });
      }
      await c.end(true);
      return { delivered: got, warm, cold, checksum: sum };
    },
    { env },
  );
  console.log(`frames delivered: ${r.delivered} (of ${5 * 20000 + 2000 + 2000 + 200})`);
  console.log(`warm, us per frame (5 rounds of 20,000): ${r.warm.map((x) => `wasmqtt ${x.wasmqtt} / raw ${x.raw}`).join(", ")}`);
  console.log(`caches thrashed before each frame, us per frame: ${r.cold.map((x) => `${x.mb} MB read: wasmqtt ${x.wasmqtt} / raw ${x.raw}`).join(", ")}`);
});

test("CPU per publish call, per PUBACK, per PUBLISH in and per PINGRESP (paired with WASMQTT_PKG_B)", async () => {
  const r = await page.evaluate(
    async ({ env, evictKB }) => {
      const K = 1000;
      const ROUNDS = evictKB ? 50 : 100;
      const evict = evictor(evictKB);
      // Runs f(x) for each x of `list`, each after an eviction (when asked for); returns the
      // time, without the evictions' (measured alone each time).
      const timed = (list, f) => {
        if (!evictKB) {
          const t0 = performance.now();
          for (const x of list) f(x);
          return performance.now() - t0;
        }
        let t0 = performance.now();
        for (let i = 0; i < list.length; i++) evict();
        const alone = performance.now() - t0;
        t0 = performance.now();
        for (const x of list) {
          evict();
          f(x);
        }
        return performance.now() - t0 - alone;
      };
      const eventOf = (bytes) => new MessageEvent("message", { data: new Uint8Array(bytes).buffer });
      async function bench(build) {
        const topic = `frame-cost/${Math.random()}`;
        const { c, ws, ids } = await rig(build, env.wsUrl, topic);
        let got = 0;
        c.on("message", () => got++);
        let settled = 0;
        const onSettled = () => settled++;
        const payload = new Uint8Array(64);
        const opts = { qos: 1 };
        const opts0 = { qos: 0 };
        const publishIn = eventOf(publishFrame(topic, 64));
        const publishes = Array(K).fill(publishIn);
        const pings = Array.from({ length: K }, () => eventOf([0xd0, 0]));
        // The client's handler, read once: reading `ws.onmessage` is a call into Blink, which
        // would count in each frame's time.
        const onFrame = ws.onmessage;
        // `ms` of calls, plus the macrotask boundary after them (whose own cost both builds pay
        // alike): the flush and the promise reactions run in microtasks after the calls, and frames
        // that arrive back to back are held and handled together in a task the client posts.
        const untilTick = async (ms) => {
          const t0 = performance.now();
          await tick();
          return ms + performance.now() - t0;
        };
        const frames = (list) => untilTick(timed(list, onFrame));
        const calls = Array(K).fill(0);
        const round = async () => {
          const publish0 = await untilTick(timed(calls, () => c.publish(topic, payload, opts0).then(onSettled, onSettled)));
          const publish = timed(calls, () => c.publish(topic, payload, opts).then(onSettled, onSettled));
          await tick();
          const acks = ids.splice(0).map((id) => eventOf([0x40, 2, id >> 8, id & 255]));
          const puback = (await frames(acks)) / acks.length;
          // A quiet spell first: the first frame after it opens a burst, and the rest are held and
          // handed over together, as the frames of a live stream are.
          await new Promise((resolve) => setTimeout(resolve, 11));
          const recv = await frames(publishes);
          const ping = await frames(pings);
          return [publish0 / K, publish / K, puback, recv / K, ping / K];
        };
        return { round, end: () => c.end(true), counts: () => ({ settled, got }) };
      }
      const runs = {};
      for (const k of Object.keys(builds)) if (k !== "W") runs[k] = await bench(builds[k]);
      const keys = Object.keys(runs);
      for (let i = 0; i < 10; i++) for (const k of keys) await runs[k].round();
      const samples = Object.fromEntries(keys.map((k) => [k, [[], [], [], [], []]]));
      for (let i = 0; i < ROUNDS; i++) {
        for (const k of i % 2 ? keys : [...keys].reverse()) {
          (await runs[k].round()).forEach((x, j) => samples[k][j].push(x * 1000));
        }
      }
      // performance.now() has 0.1 ms steps here: a round's time is a few steps, so the mean of
      // the rounds (without the slowest and fastest tenth) and not their median.
      const mean = (xs) => {
        const s = xs.sort((a, b) => a - b).slice(xs.length / 10, xs.length - xs.length / 10);
        return s.reduce((a, b) => a + b, 0) / s.length;
      };
      const out = {};
      for (const k of keys) {
        out[k] = { us: samples[k].map(mean), ...runs[k].counts() };
        await runs[k].end();
      }
      return out;
    },
    { env, evictKB },
  );
  const cols = ["publish QoS 0 (with its flush and reactions)", "publish QoS 1", "PUBACK in", "PUBLISH QoS 0 in", "PINGRESP in"];
  const fmt = (us) => us.map((x) => x.toFixed(3)).join(" / ");
  const rounds = evictKB ? "50 rounds of 1,000 (the middle 40)" : "100 rounds of 1,000 (the middle 80)";
  const cold = evictKB ? `, each after a ${evictKB} KB read` : "";
  console.log(`us per call or frame${cold}, mean of ${rounds}: ${cols.join(" / ")}`);
  if (!r.B) {
    console.log(`  pkg: ${fmt(r.A.us)} (settled ${r.A.settled}, delivered ${r.A.got})`);
    return;
  }
  for (const k of ["A", "B", "B2", "A2"]) console.log(`  load ${k} (${k.startsWith("A") ? "pkg" : pkgB}): ${fmt(r[k].us)}`);
  const both = (a, b) => r[a].us.map((x, i) => (x + r[b].us[i]) / 2);
  const [a, b] = [both("A", "A2"), both("B", "B2")];
  console.log(`  pkg / ${pkgB}, each the mean of its two loads: ${a.map((x, i) => `${(x / b[i]).toFixed(2)}x`).join(" / ")}`);
});
