// The client's own CPU per received frame, without the network: a connected wasmqtt client's
// WebSocket `message` handler is called in a loop with synthetic frames (QoS 0 PUBLISH, 64-byte
// payload, to a subscribed topic; each is delivered to a counting listener), beside the raw
// client's work on the same frame (a view, the header, the payload's first byte). Once warm, and
// with the CPU caches thrashed before each frame (reads of 0.25, 4 and 48 MB), as the browser's
// own per-frame work does between a live client's frames. Prints us per frame; asserts nothing.
//
//   node tests/browser/run.mjs bench/frame-cost.test.mjs
import { test, before, after } from "node:test";
import { env, launchBrowser, openReadyPage } from "../tests/browser/harness.mjs";

let browser;
let page;

before(async () => {
  browser = await launchBrowser();
  page = await openReadyPage(browser, "/tests/browser/pages/client.html");
});

after(async () => {
  await browser?.close();
});

test("CPU per received frame: wasmqtt's handler against the raw client's parse", async () => {
  const r = await page.evaluate(
    async ({ env }) => {
      const sockets = [];
      const Native = WebSocket;
      globalThis.WebSocket = class extends Native {
        constructor(...a) {
          super(...a);
          sockets.push(this);
        }
      };
      const c = await wasmqtt.connect(env.wsUrl);
      globalThis.WebSocket = Native;
      const topic = t.uid("frame-cost");
      await c.subscribe(topic, { qos: 0 });
      let got = 0;
      let sum = 0;
      c.on("message", (_t, p) => {
        got++;
        sum += p[0];
      });
      const ws = sockets[0];
      const name = new TextEncoder().encode(topic);
      const frame = new Uint8Array(4 + name.length + 64);
      frame.set([0x30, 2 + name.length + 64, 0, name.length]);
      frame.set(name, 4);
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
        const w = us(performance.now() - t0, N);
        t0 = performance.now();
        for (let i = 0; i < N; i++) sum += rawParse(events[i]);
        warm.push({ wasmqtt: w, raw: us(performance.now() - t0, N) });
      }
      // Thrashed: before each frame, a read of `mb` MB (stride 64) evicts the L1 (0.25 MB), the
      // L2 (4 MB; 1 MB per core here) or the shared L3 too (48 MB; 32 MB here).
      const cold = [];
      for (const [mb, M] of [[0.25, 2000], [4, 2000], [48, 200]]) {
        const junk = new Uint8Array(mb * (1 << 20));
        const evict = () => {
          for (let j = 0; j < junk.length; j += 64) junk[j]++;
        };
        let tw = 0;
        let tr = 0;
        let tNone = 0;
        for (let i = 0; i < M; i++) {
          evict();
          let a = performance.now();
          ws.onmessage(events[i]);
          tw += performance.now() - a;
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
      await c.end();
      return { delivered: got, warm, cold, checksum: sum };
    },
    { env },
  );
  console.log(`frames delivered: ${r.delivered}`);
  console.log(`warm, us per frame (5 rounds of 20,000): ${r.warm.map((x) => `wasmqtt ${x.wasmqtt} / raw ${x.raw}`).join(", ")}`);
  console.log(`caches thrashed before each frame, us per frame: ${r.cold.map((x) => `${x.mb} MB read: wasmqtt ${x.wasmqtt} / raw ${x.raw}`).join(", ")}`);
});
