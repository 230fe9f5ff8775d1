// The wasmqtt JavaScript API (shared/api.md) in headless Chromium against a real mosquitto 2,
// with a fault-injecting proxy in front of it. Every wait is on an event with a timeout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, launchBrowser, openReadyPage, proxy } from "./harness.mjs";

let browser;
let page;

before(async () => {
  browser = await launchBrowser();
  page = await openReadyPage(browser, "/tests/browser/pages/client.html");
});

after(async () => {
  await browser?.close();
});

/** Runs `fn` in the page with the test environment as its argument. */
function inPage(fn, arg = {}) {
  return page.evaluate(fn, { env, ...arg });
}

for (const protocolVersion of [4, 5]) {
  test(`v${protocolVersion}: connect resolves after CONNACK and reports it`, async () => {
    const r = await inPage(async ({ env, protocolVersion }) => {
      const c = await wasmqtt.connect(env.wsUrl, { protocolVersion });
      const out = { connected: c.connected, connack: c.connack };
      await c.end();
      out.afterEnd = c.connected;
      out.publishAfterEnd = await t.settle(c.publish("x/y", "z"));
      return out;
    }, { protocolVersion });
    assert.equal(r.connected, true);
    assert.equal(r.connack.reasonCode, 0);
    assert.equal(r.connack.sessionPresent, false);
    assert.equal(r.afterEnd, false);
    assert.equal(r.publishAfterEnd.code, "Closed");
  });

  test(`v${protocolVersion}: publish/subscribe to itself at QoS 0, 1, 2 with binary and empty payloads`, async () => {
    const r = await inPage(async ({ env, protocolVersion }) => {
      const c = await wasmqtt.connect(env.wsUrl, { protocolVersion });
      const m = t.collect(c);
      const topic = t.uid("pubsub");
      const granted = await c.subscribe(`${topic}/#`, { qos: 2 });
      const binary = new Uint8Array([0, 1, 2, 255, 254, 0]);
      for (const qos of [0, 1, 2]) {
        await c.publish(`${topic}/q${qos}`, binary, { qos });
        await c.publish(`${topic}/q${qos}/empty`, new Uint8Array(0), { qos });
        await c.publish(`${topic}/q${qos}/text`, "héllo", { qos });
        await c.publish(`${topic}/q${qos}/buffer`, binary.buffer, { qos });
        await c.publish(`${topic}/q${qos}/view`, binary.subarray(1, 4), { qos });
        await c.publish(`${topic}/q${qos}/null`, null, { qos });
        await c.publish(`${topic}/q${qos}/ü`, "ü", { qos });
      }
      await m.wait(21);
      await c.end();
      return { granted, list: m.list };
    }, { protocolVersion });
    assert.deepEqual(r.granted, [2]);
    const byTopic = Object.fromEntries(r.list.map((x) => [x.topic.split("/").slice(3).join("/"), x]));
    for (const qos of [0, 1, 2]) {
      assert.deepEqual(byTopic[`q${qos}`].payload, [0, 1, 2, 255, 254, 0]);
      assert.equal(byTopic[`q${qos}`].packet.qos, qos);
      assert.deepEqual(byTopic[`q${qos}/empty`].payload, []);
      assert.equal(byTopic[`q${qos}/text`].text, "héllo");
      assert.deepEqual(byTopic[`q${qos}/buffer`].payload, [0, 1, 2, 255, 254, 0]);
      assert.deepEqual(byTopic[`q${qos}/view`].payload, [1, 2, 255]);
      assert.deepEqual(byTopic[`q${qos}/null`].payload, []);
      assert.equal(byTopic[`q${qos}/ü`].text, "ü");
    }
    assert.equal(r.list.length, 21, "no duplicates");
  });
}

// mosquitto 2.0.11's WebSocket listener sends large messages at about 40 KB/s (its issue
// #2252; over TCP the same message takes milliseconds), so the frames here stay small.
test("received frames of growing and shrinking size arrive intact, also after the wasm memory grew", async () => {
  const r = await inPage(async ({ env }) => {
    const c = await wasmqtt.connect(env.wsUrl);
    const m = t.collect(c);
    const topic = t.uid("sizes");
    await c.subscribe(topic, { qos: 1 });
    const payload = (n, seed) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);
    const sizes = [3, 20000, 5, 9000, 0, 30000];
    for (const [k, n] of sizes.entries()) {
      // Halfway, 8 MB sent elsewhere makes the wasm memory grow (sending large is fast).
      if (k === 3) await c.publish(t.uid("elsewhere"), new Uint8Array(8 << 20), { qos: 0 });
      await c.publish(topic, payload(n, k), { qos: 1 });
    }
    await m.wait(sizes.length, 20000);
    await c.end();
    return sizes.map((n, k) => {
      const got = m.list[k].payload;
      const want = payload(n, k);
      return got.length === n && got.every((b, i) => b === want[i]);
    });
  });
  assert.deepEqual(r, [true, true, true, true, true, true]);
});

test("every received payload keeps its own bytes, also where small ones share a pooled buffer", async () => {
  const r = await inPage(async ({ env }) => {
    const c = await wasmqtt.connect(env.wsUrl);
    const topic = t.uid("pool");
    await c.subscribe(topic, { qos: 0 });
    // Sizes on both sides of the pool's bounds (65 B .. 1 KB pooled in 8 KB buffers), more than
    // enough of them to fill several pool buffers.
    const sizes = [0, 1, 64, 65, 300, 1023, 1024, 1025, 700, 2000];
    const want = [];
    for (let k = 0; k < 60; k++) want.push(Uint8Array.from({ length: sizes[k % sizes.length] }, (_, i) => (k * 7 + i) & 255));
    const got = [];
    c.on("message", (_topic, payload) => got.push(payload)); // the objects themselves
    for (const p of want) c.publish(topic, p);
    await t.waitFor(() => got.length >= want.length, 10000, "all 60 messages");
    await c.end();
    const same = (k) => got[k].length === want[k].length && got[k].every((b, i) => b === want[k][i]);
    const intact = got.every((_, k) => same(k));
    // Writing into one payload changes no other.
    for (const p of got) p.fill(0xee);
    const own = got.every((p) => p.every((b) => b === 0xee));
    for (let k = 0; k < got.length; k++) got[k].set(want[k]);
    return { intact, own, untouchedByOthers: got.every((_, k) => same(k)), pooled: got.filter((p) => p.buffer.byteLength > p.length).length };
  });
  assert.equal(r.intact, true, "each payload holds what was sent");
  assert.equal(r.own, true);
  assert.equal(r.untouchedByOthers, true, "no two payloads share bytes");
  assert.ok(r.pooled > 0, "the pooled path was taken");
});

test("a publish is sent within the call; the publishes after it in the same task share one frame; 'delivered' follows on/off", async () => {
  const r = await inPage(async ({ env }) => {
    const c = await wasmqtt.connect(env.wsUrl);
    const m = t.collect(c);
    const topic = t.uid("frames");
    await c.subscribe(topic, { qos: 0 });
    const recorder = t.recordFrames();
    const frames = recorder.list;
    try {
      const first = c.publish(topic, "first");
      const inCall = frames.length;
      const rest = [];
      for (let i = 0; i < 10; i++) rest.push(c.publish(topic, `m${i}`));
      const sameTask = frames.length;
      await Promise.all([first, ...rest]);
      const afterTask = frames.length;
      const ids = [];
      const onDelivered = (id) => ids.push(id);
      c.on("delivered", onDelivered);
      await c.publish(topic, "x", { qos: 1 });
      c.off("delivered", onDelivered);
      await c.publish(topic, "y", { qos: 1 });
      await m.wait(13);
      return { inCall, sameTask, afterTask, ids, texts: m.list.map((x) => x.text) };
    } finally {
      recorder.restore();
      await c.end();
    }
  });
  assert.equal(r.inCall, 1, "the first publish of the task is sent within publish()");
  assert.equal(r.sameTask, 1, "the ones after it wait for the end of the task");
  assert.equal(r.afterTask, 2, "and leave together in one frame");
  assert.equal(r.ids.length, 1, "one 'delivered' while listening, none after off()");
  assert.deepEqual(r.texts, ["first", ...Array.from({ length: 10 }, (_, i) => `m${i}`), "x", "y"]);
});

test("a command sent at once queues no task of its own: the next, in a later task with nothing received between, leaves at the end of its task", async () => {
  const r = await inPage(async ({ env }) => {
    const c = await wasmqtt.connect(env.wsUrl);
    // Nobody subscribes to it: no frame comes back between the publishes.
    const topic = t.uid("unheard");
    const recorder = t.recordFrames();
    const frames = recorder.list;
    const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));
    // The CONNACK's quiet burst ends in a posted task, whose flush counts as one: let it pass
    // (posted messages run in order).
    await new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = resolve;
      channel.port2.postMessage(null);
    });
    try {
      const counts = [];
      for (const text of ["a", "b", "c"]) {
        const before = frames.length;
        const p = c.publish(topic, text);
        const inCall = frames.length - before;
        await p;
        counts.push([inCall, frames.length - before]);
        await nextTask();
      }
      return counts;
    } finally {
      recorder.restore();
      await c.end();
    }
  });
  assert.deepEqual(r[0], [1, 1], "the first is sent within publish()");
  assert.deepEqual(r[1], [0, 1], "the next, with nothing received since, at the end of its task");
  assert.deepEqual(r[2], [1, 1], "after that end-of-task send, within the call again");
});

test("a QoS 1 publish made on receipt, with nothing else in flight, is sent within the call, with the receipt's PUBACK", async () => {
  const r = await inPage(async ({ env }) => {
    const c = await wasmqtt.connect(env.wsUrl);
    const other = await wasmqtt.connect(env.wsUrl);
    const request = t.uid("req");
    const reply = t.uid("rep");
    await c.subscribe(request, { qos: 1 });
    const recorder = t.recordFrames();
    const frames = recorder.list;
    try {
      let before = -1;
      let inCall = -1;
      let replied;
      const handled = new Promise((resolve) => {
        c.on("message", () => {
          before = frames.length;
          replied = c.publish(reply, "pong", { qos: 1 });
          inCall = frames.length;
          resolve();
        });
      });
      await other.publish(request, "ping", { qos: 1 });
      await handled;
      await replied;
      return { sent: inCall - before, bytes: frames[before], replyTopic: reply.length };
    } finally {
      recorder.restore();
      await c.end();
      await other.end();
    }
  });
  assert.equal(r.sent, 1, "the reply leaves within publish(), not after the receipt's macrotask");
  // PUBACK (4 bytes) + PUBLISH: header 2, topic 2 + n, packet id 2, payload 4.
  assert.equal(r.bytes, 4 + 2 + 2 + r.replyTopic + 2 + 4, "one frame: the pending PUBACK and the reply");
});

test("publishes made on receipt of each message of a burst share the burst's frames", async () => {
  await proxy("/reset");
  try {
    const r = await inPage(async ({ env }) => {
      const c = await wasmqtt.connect(env.proxyWsUrl, { keepalive: 0, reconnect: false });
      const other = await wasmqtt.connect(env.wsUrl);
      const burst = t.uid("burst");
      const echo = t.uid("echo");
      const n = 50;
      await c.subscribe(burst, { qos: 1 });
      let recorder = null;
      const replies = [];
      const all = new Promise((resolve) => {
        c.on("message", () => {
          // From here on only c sends.
          recorder ??= t.recordFrames();
          replies.push(c.publish(echo, "seen"));
          if (replies.length === n) resolve();
        });
      });
      try {
        await t.holdBurst(env.proxyUrl, other, burst, Array.from({ length: n }, (_, i) => `m${i}`));
        await t.proxy(env.proxyUrl, "/mode/pass");
        await all;
        await Promise.all(replies);
        await t.waitFor(() => recorder.list.reduce((a, b) => a + b, 0) >= n * 4, 5000, "every PUBACK sent");
        return { frames: recorder.list.length, bytes: recorder.list.reduce((a, b) => a + b, 0) };
      } finally {
        recorder?.restore();
        await c.end();
        await other.end();
      }
    });
    // 50 PUBACKs (4 B) and 50 QoS 0 PUBLISHes: one frame per message would be 50 or more.
    assert.ok(r.frames < 25, `the answers to a burst share frames: ${r.frames} frames for 50 messages`);
  } finally {
    await proxy("/reset");
  }
});

test("a burst the broker sends right before the connection closes is delivered whole, in order, before the close (QoS 1 and 0); the next connection's answers still leave", async () => {
  await proxy("/reset");
  try {
    const r = await inPage(async ({ env }) => {
      const reconnect = { initialDelay: 50, maxDelay: 200, jitter: 0 };
      const c = await wasmqtt.connect(env.proxyWsUrl, { keepalive: 0, reconnect });
      const other = await wasmqtt.connect(env.wsUrl);
      const topic = t.uid("burst-close");
      const events = [];
      let connects = 0;
      c.on("connect", () => connects++);
      c.on("close", () => events.push("close"));
      c.on("message", (_t, p) => {
        events.push(new TextDecoder().decode(p));
        // A slow listener (a dashboard redrawing): the rest of the burst and the close are
        // queued in the page before the client's first frame is through.
        for (const t0 = performance.now(); events.length === 1 && performance.now() - t0 < 100; );
      });
      const out = {};
      try {
        // QoS 1 (answered frames) and QoS 0 (frames needing no answer, held as a stream).
        for (const qos of [1, 0]) {
          await c.subscribe(topic, { qos });
          await t.holdBurst(env.proxyUrl, other, topic, Array.from({ length: 50 }, (_, i) => `a${i}`), qos);
          // All 50 frames, then the end of the stream, in one write.
          await t.proxy(env.proxyUrl, "/end");
          const connected = connects + 1;
          await t.waitFor(() => connects === connected, 5000, "reconnected");
          out[`first${qos}`] = events.splice(0);
          await c.subscribe(topic, { qos });
          // At QoS 1 more than the broker's 100 in flight: all arrive only if c acknowledges them.
          const n = 150;
          const acks = [];
          for (let i = 0; i < n; i++) acks.push(other.publish(topic, `b${i}`, { qos: 1 }));
          await t.waitFor(() => events.length >= n, 5000, `the second burst (${events.length} of ${n})`).catch(() => {});
          out[`second${qos}`] = events.splice(0).length;
          // Acknowledged before `other` ends: its end() would reject the rest, unhandled here,
          // and the page error would land in a later test.
          await Promise.all(acks);
        }
        return out;
      } finally {
        await c.end();
        await other.end();
      }
    });
    const first = Array.from({ length: 50 }, (_, i) => `a${i}`).concat(["close"]);
    assert.deepEqual(r, { first1: first, second1: 150, first0: first, second0: 150 });
  } finally {
    await proxy("/reset");
  }
});

test("end() with work still queued (publishes of the same task, IndexedDB writes running) leaves no error in the page", async () => {
  const before = page.pageErrors.length;
  const r = await inPage(async ({ env }) => {
    const clientId = t.uid("end-queued");
    const topic = t.uid("end-queued");
    const c = await wasmqtt.connect(env.wsUrl, { clientId, clean: false, persistence: "indexeddb" });
    // A window of QoS 1 publishes: when the last is acknowledged, deletes are still being
    // written (and a batch may wait for its interval) as end() runs.
    await new Promise((resolve) => {
      let sent = 0;
      let out = 0;
      const more = () => {
        while (out < 50 && sent < 500) {
          out++;
          sent++;
          c.publish(topic, String(sent), { qos: 1 }).then(() => {
            out--;
            if (sent === 500 && out === 0) resolve();
            else more();
          });
        }
      };
      more();
    });
    c.publish(topic, "last", { qos: 0 }).catch(() => {});
    await c.end();
    // A read of the same database is queued behind the client's writes: once it completes,
    // their completion handlers (and every task queued before) have run.
    const db = await new Promise((resolve, reject) => {
      const req = indexedDB.open(`wasmqtt:${env.wsUrl}:${clientId}`);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const stores = [...db.objectStoreNames];
    await new Promise((resolve) => {
      const tx = db.transaction(stores, "readonly");
      tx.objectStore(stores[0]).count();
      tx.oncomplete = resolve;
      tx.onabort = resolve;
    });
    db.close();
    await new Promise((resolve) => setTimeout(resolve, 0));
    return { stores };
  });
  assert.ok(r.stores.length > 0);
  const errors = page.pageErrors.slice(before).map(String);
  assert.deepEqual(errors, [], "no error thrown in the page after end()");
});

test("retained messages reach a later subscriber with retain set", async () => {
  const r = await inPage(async ({ env }) => {
    const topic = t.uid("retain");
    const a = await wasmqtt.connect(env.wsUrl);
    await a.publish(topic, "kept", { qos: 1, retain: true });
    const b = await wasmqtt.connect(env.wsUrl);
    const m = t.collect(b);
    await b.subscribe(topic, { qos: 1 });
    await m.wait(1);
    await a.publish(topic, "", { qos: 1, retain: true }); // clear it
    await a.end();
    await b.end();
    return m.list[0];
  });
  assert.equal(r.text, "kept");
  assert.equal(r.packet.retain, true);
});

test("the will is published when the socket drops, and not after end()", async () => {
  const r = await inPage(async ({ env }) => {
    const topic = t.uid("will");
    const watcher = await wasmqtt.connect(env.wsUrl);
    const m = t.collect(watcher);
    await watcher.subscribe(`${topic}/#`, { qos: 1 });
    // Client 1 ends gracefully: no will.
    const graceful = await wasmqtt.connect(env.wsUrl, { will: { topic: `${topic}/graceful`, payload: "gone", qos: 1 } });
    await graceful.end();
    // Client 2 goes through the proxy, which drops the connection: will.
    const dropped = await wasmqtt.connect(env.proxyWsUrl, { reconnect: false, will: { topic: `${topic}/dropped`, payload: "lost", qos: 1 } });
    const offline = t.once(dropped, "offline");
    await t.proxy(env.proxyUrl, "/drop");
    await offline;
    await m.wait(1);
    // A marker published after both proves the graceful will would have arrived by now.
    await watcher.publish(`${topic}/marker`, "m", { qos: 1 });
    await m.wait(2);
    await dropped.end();
    await watcher.end();
    return m.list.map((x) => [x.topic.split("/").pop(), x.text]);
  });
  assert.deepEqual(r, [["dropped", "lost"], ["marker", "m"]]);
});

test("unsubscribe stops delivery", async () => {
  const r = await inPage(async ({ env }) => {
    const topic = t.uid("unsub");
    const c = await wasmqtt.connect(env.wsUrl);
    const m = t.collect(c);
    await c.subscribe(`${topic}/a`, { qos: 1 });
    await c.subscribe(`${topic}/b`, { qos: 1 });
    await c.unsubscribe(`${topic}/a`);
    await c.publish(`${topic}/a`, "1", { qos: 1 });
    await c.publish(`${topic}/b`, "2", { qos: 1 });
    await m.wait(1);
    await c.end();
    return m.list.map((x) => x.text);
  });
  assert.deepEqual(r, ["2"]);
});

for (const protocolVersion of [4, 5]) {
  test(`v${protocolVersion}: a denied SUBSCRIBE resolves with the failure code`, async () => {
    const r = await inPage(async ({ env, protocolVersion }) => {
      const c = await wasmqtt.connect(env.wsUrl, { protocolVersion });
      const codes = await c.subscribe([env.deniedFilter, "allowed/x"], { qos: 1 });
      await c.end();
      return codes;
    }, { protocolVersion });
    assert.equal(r.length, 2);
    assert.ok(r[0] >= 0x80, `denied filter got ${r[0]}`);
    assert.equal(r[1], 1);
  });
}

test("$-topics are not matched by #", async () => {
  const r = await inPage(async ({ env }) => {
    const c = await wasmqtt.connect(env.wsUrl);
    const m = t.collect(c);
    const topic = t.uid("dollar");
    await c.subscribe("#", { qos: 0 });
    await c.subscribe(`${topic}`, { qos: 1 });
    // mosquitto publishes $SYS topics periodically; none may reach "#".
    await c.publish(topic, "marker", { qos: 1 });
    await m.wait(1);
    await c.unsubscribe("#");
    await c.end();
    return m.list.filter((x) => x.topic.startsWith("$")).length;
  });
  assert.equal(r, 0);
});

test("keep alive declares a blackholed link dead and reconnects when it heals", async () => {
  await proxy("/reset");
  try {
    const r = await inPage(async ({ env }) => {
      const c = await wasmqtt.connect(env.proxyWsUrl, { keepalive: 1, reconnect: { initialDelay: 100, maxDelay: 200, jitter: 0 } });
      const offline = t.once(c, "offline", 8000);
      const started = performance.now();
      await t.proxy(env.proxyUrl, "/mode/blackhole");
      await offline;
      const detectedMs = performance.now() - started;
      const errors = [];
      c.on("error", (e) => errors.push(e.code));
      const back = t.once(c, "connect", 10000);
      await t.proxy(env.proxyUrl, "/mode/pass");
      await back;
      const connected = c.connected;
      await c.end();
      return { detectedMs, connected };
    });
    assert.ok(r.detectedMs < 4000, `dead link found after ${r.detectedMs} ms`);
    assert.equal(r.connected, true);
  } finally {
    await proxy("/reset");
  }
});

test("a QoS 0 publish that leaves over 4 MB unsent in the socket settles only once it drained", async () => {
  await proxy("/reset");
  try {
    const r = await inPage(async ({ env }) => {
      const { client: c, ws } = await t.connectWithSocket(wasmqtt, env.proxyWsUrl, { keepalive: 0, reconnect: false });
      // The client checks the socket every 10 ms while it is congested: those checks are the
      // events to wait for, not a sleep.
      let checks = 0;
      const nativeSetTimeout = globalThis.setTimeout;
      globalThis.setTimeout = function (f, ms, ...a) {
        if (ms === 10) checks++;
        return nativeSetTimeout.call(this, f, ms, ...a);
      };
      try {
        // The proxy stops reading: the 32 MB back up into the browser.
        await t.proxy(env.proxyUrl, "/mode/stall");
        let settled = "pending";
        c.publish(t.uid("congested"), new Uint8Array(32 << 20), { qos: 0 }).then(
          () => (settled = "resolved"),
          (e) => (settled = e.code),
        );
        await t.waitFor(() => checks >= 5, 5000, "five drain checks");
        const stalled = { settled, unsent: ws.bufferedAmount };
        await t.proxy(env.proxyUrl, "/mode/pass");
        await t.waitFor(() => settled !== "pending", 30000, "the publish to settle");
        return { stalled, settled, unsentAfter: ws.bufferedAmount };
      } finally {
        globalThis.setTimeout = nativeSetTimeout;
        await c.end(true);
      }
    });
    assert.ok(r.stalled.unsent > 4 << 20, `${r.stalled.unsent} B unsent while stalled`);
    assert.equal(r.stalled.settled, "pending", "no settling while over 4 MB are unsent");
    assert.equal(r.settled, "resolved");
    assert.ok(r.unsentAfter <= 2 << 20, `${r.unsentAfter} B unsent when it settled`);
  } finally {
    await proxy("/reset");
  }
});

test("reconnects with backoff while the broker is down, resubscribes, and sends offline publishes in order", async () => {
  await proxy("/reset");
  try {
    const r = await inPage(async ({ env }) => {
      const topic = t.uid("offline");
      const c = await wasmqtt.connect(env.proxyWsUrl, { reconnect: { initialDelay: 50, maxDelay: 400, jitter: 0 } });
      const m = t.collect(c);
      await c.subscribe(`${topic}/#`, { qos: 1 });
      let reconnects = 0;
      c.on("reconnect", () => reconnects++);
      const offline = t.once(c, "offline");
      await t.proxy(env.proxyUrl, "/mode/refuse");
      await t.proxy(env.proxyUrl, "/drop");
      await offline;
      // Publishes while offline: queued, QoS 0 resolves at once, QoS 1/2 after reconnect.
      const pending = [];
      for (let i = 0; i < 30; i++) pending.push(c.publish(`${topic}/n`, String(i), { qos: i % 3 }));
      await t.waitFor(() => reconnects >= 3, 5000, "three reconnect attempts");
      const back = t.once(c, "connect", 10000);
      await t.proxy(env.proxyUrl, "/mode/pass");
      const [connack] = await back;
      await Promise.all(pending);
      await m.wait(30, 10000);
      await c.end();
      return { reconnects, sessionPresent: connack.sessionPresent, texts: m.list.map((x) => x.text) };
    });
    assert.ok(r.reconnects >= 3);
    assert.equal(r.sessionPresent, false);
    // The broker orders messages per QoS (MQTT 5 §4.6; mosquitto forwards QoS 2 at PUBREL).
    assert.equal(r.texts.length, 30, "resubscribed, all arrived");
    for (const qos of [0, 1, 2]) {
      const got = r.texts.filter((x) => Number(x) % 3 === qos);
      const want = Array.from({ length: 10 }, (_, i) => String(i * 3 + qos));
      assert.deepEqual(got, want, `QoS ${qos} messages in publish order`);
    }
  } finally {
    await proxy("/reset");
  }
});

test("invalid topics, QoS and options reject with the documented codes and send nothing", async () => {
  const r = await inPage(async ({ env }) => {
    const out = {};
    out.badUrl = await t.settle(wasmqtt.connect("http://127.0.0.1:1", {}));
    out.unknownOption = await t.settle(wasmqtt.connect(env.wsUrl, { keepAlive: 5 }));
    out.wrongType = await t.settle(wasmqtt.connect(env.wsUrl, { keepalive: "5" }));
    out.outOfRange = await t.settle(wasmqtt.connect(env.wsUrl, { keepalive: 70000 }));
    out.noClientId = await t.settle(wasmqtt.connect(env.wsUrl, { clean: false }));
    try { wasmqtt.createClient(env.wsUrl, { protocolVersion: 6 }); out.createThrows = null; }
    catch (e) { out.createThrows = { code: e.code, isMqttError: e instanceof wasmqtt.MqttError }; }
    const c = await wasmqtt.connect(env.wsUrl);
    const m = t.collect(c);
    await c.subscribe("#", { qos: 1 });
    out.wildcard = await t.settle(c.publish("a/+", "x"));
    out.empty = await t.settle(c.publish("", "x"));
    out.qos3 = await t.settle(c.publish("a/b", "x", { qos: 3 }));
    out.topicNotString = await t.settle(c.publish(7, "x"));
    out.longTopic = await t.settle(c.publish("a".repeat(65536), "x"));
    out.badPayload = await t.settle(c.publish("a/b", 7));
    out.badFilter = await t.settle(c.subscribe("a/#/b"));
    out.badSubQos = await t.settle(c.subscribe("a/b", { qos: 7 }));
    await c.publish("wasmqtt-test/marker", "m", { qos: 1 });
    await m.wait(1);
    out.received = m.list.map((x) => x.topic);
    await c.unsubscribe("#");
    await c.end();
    return out;
  });
  assert.equal(r.badUrl.code, "InvalidUrl");
  assert.equal(r.badUrl.isMqttError, true);
  assert.equal(r.badUrl.isError, true);
  assert.equal(r.unknownOption.code, "InvalidOptions");
  assert.match(r.unknownOption.message, /keepAlive/);
  assert.equal(r.wrongType.code, "InvalidOptions");
  assert.match(r.wrongType.message, /keepalive/);
  assert.equal(r.outOfRange.code, "InvalidOptions");
  assert.equal(r.noClientId.code, "InvalidOptions");
  assert.deepEqual(r.createThrows, { code: "InvalidOptions", isMqttError: true });
  assert.equal(r.wildcard.code, "InvalidTopic");
  assert.equal(r.empty.code, "InvalidTopic");
  assert.equal(r.qos3.code, "InvalidQos");
  assert.equal(r.topicNotString.code, "InvalidTopic");
  assert.equal(r.longTopic.code, "InvalidTopic");
  assert.equal(r.badPayload.code, "InvalidOptions");
  assert.equal(r.badFilter.code, "InvalidTopic");
  assert.equal(r.badSubQos.code, "InvalidQos");
  assert.deepEqual(r.received, ["wasmqtt-test/marker"], "nothing invalid was sent");
});

test("a message over maxPacketSize rejects PacketTooLarge and sends nothing; one at the limit arrives; a huge payload is refused uncopied", async () => {
  const r = await inPage(async ({ env }) => {
    const memory = (await (await import("/pkg/wasmqtt.js")).default()).memory;
    const c = await wasmqtt.connect(env.wsUrl, { maxPacketSize: 1000 });
    const m = t.collect(c);
    const topic = t.uid("max");
    await c.subscribe(topic, { qos: 1 });
    // 3.1.1 PUBLISH at QoS 1: 1 + 2 (remaining length) + 2 + topic + 2 (packet id) + payload.
    const atLimit = 1000 - 7 - topic.length;
    const over = await t.settle(c.publish(topic, new Uint8Array(atLimit + 1), { qos: 1 }));
    const before = memory.buffer.byteLength;
    const huge = await t.settle(c.publish(topic, new Uint8Array(64 << 20), { qos: 1 }));
    const grown = memory.buffer.byteLength - before;
    await c.publish(topic, new Uint8Array(atLimit), { qos: 1 });
    await m.wait(1);
    await c.end();
    return { over, huge, grown, received: m.list.map((x) => x.payload.length) };
  });
  assert.equal(r.over.code, "PacketTooLarge");
  assert.match(r.over.message, /exceeds maximum packet size 1000/);
  assert.equal(r.huge.code, "PacketTooLarge");
  assert.equal(r.grown, 0, "the refused payload was not copied into the wasm memory");
  assert.deepEqual(r.received, [r.received[0]]);
  assert.equal(r.received[0] > 900, true);
});

test("v5: the broker's Maximum Packet Size from CONNACK is the limit: a message over it rejects PacketTooLarge, a huge one uncopied", async () => {
  const r = await inPage(async ({ env }) => {
    const memory = (await (await import("/pkg/wasmqtt.js")).default()).memory;
    const c = await wasmqtt.connect(env.authWsUrl, { protocolVersion: 5, username: env.authUser, password: env.authPassword });
    const announced = c.connack.properties?.maximumPacketSize;
    const m = t.collect(c);
    const topic = t.uid("brokermax");
    await c.subscribe(topic, { qos: 1 });
    const over = await t.settle(c.publish(topic, new Uint8Array(2000), { qos: 1 }));
    const before = memory.buffer.byteLength;
    const huge = await t.settle(c.publish(topic, new Uint8Array(64 << 20), { qos: 1 }));
    const grown = memory.buffer.byteLength - before;
    await c.publish(topic, new Uint8Array(1500), { qos: 1 });
    await m.wait(1);
    const connected = c.connected;
    await c.end();
    return { announced, over, huge, grown, connected, received: m.list.map((x) => x.payload.length) };
  });
  assert.equal(r.announced, 2000, "mosquitto's max_packet_size, announced in CONNACK");
  assert.equal(r.over.code, "PacketTooLarge");
  assert.match(r.over.message, /exceeds maximum packet size 2000/);
  assert.equal(r.huge.code, "PacketTooLarge");
  assert.equal(r.grown, 0, "the refused payload was not copied into the wasm memory");
  assert.equal(r.connected, true, "nothing over the limit reached the broker (it would disconnect)");
  assert.deepEqual(r.received, [1500]);
});

for (const protocolVersion of [4, 5]) {
  test(`v${protocolVersion}: bad credentials reject ConnectionRefused with the reason code`, async () => {
    const r = await inPage(async ({ env, protocolVersion }) => {
      const bad = await t.settle(wasmqtt.connect(env.authWsUrl, { protocolVersion, username: env.authUser, password: "wrong" }));
      const good = await wasmqtt.connect(env.authWsUrl, { protocolVersion, username: env.authUser, password: new TextEncoder().encode(env.authPassword) });
      const ok = good.connected;
      await good.end();
      return { bad, ok };
    }, { protocolVersion });
    assert.equal(r.bad.code, "ConnectionRefused");
    assert.equal(r.bad.reasonCode, protocolVersion === 4 ? 5 : 0x87);
    assert.equal(r.ok, true);
  });
}

test("a closed port rejects within connectTimeout, a blackhole with Timeout", async () => {
  await proxy("/reset");
  try {
    const r = await inPage(async ({ env }) => {
      const started = performance.now();
      const closed = await t.settle(wasmqtt.connect("ws://127.0.0.1:9", { connectTimeout: 2000 }));
      const closedMs = performance.now() - started;
      await t.proxy(env.proxyUrl, "/mode/blackhole");
      const s2 = performance.now();
      const hole = await t.settle(wasmqtt.connect(env.proxyWsUrl, { connectTimeout: 500 }));
      const holeMs = performance.now() - s2;
      return { closed, closedMs, hole, holeMs };
    });
    assert.equal(r.closed.ok, false);
    assert.ok(["ConnectionLost", "Timeout"].includes(r.closed.code), r.closed.code);
    assert.ok(r.closedMs < 2500, `closed port took ${r.closedMs} ms`);
    assert.equal(r.hole.code, "Timeout");
    assert.ok(r.holeMs >= 450 && r.holeMs < 2000, `blackhole took ${r.holeMs} ms`);
  } finally {
    await proxy("/reset");
  }
});

test("messages that arrive before a message listener is attached are held for it", async () => {
  const r = await inPage(async ({ env }) => {
    const topic = t.uid("held");
    const sender = await wasmqtt.connect(env.wsUrl);
    const clientId = `held-${Math.random().toString(16).slice(2)}`;
    const first = await wasmqtt.connect(env.wsUrl, { clientId, clean: false, persistence: "memory" });
    await first.subscribe(topic, { qos: 1 });
    await first.end();
    for (let i = 0; i < 5; i++) await sender.publish(topic, String(i), { qos: 1 });
    const again = await wasmqtt.connect(env.wsUrl, { clientId, clean: false, persistence: "memory" });
    const sessionPresent = again.connack.sessionPresent;
    const m = t.collect(again); // attached after connect resolved
    await m.wait(5);
    await again.end();
    await sender.end();
    return { sessionPresent, texts: m.list.map((x) => x.text) };
  });
  assert.equal(r.sessionPresent, true);
  assert.deepEqual(r.texts, ["0", "1", "2", "3", "4"]);
});

test("createClient works offline-first: listeners before connecting, publish before the broker is reachable", async () => {
  await proxy("/reset");
  try {
    const r = await inPage(async ({ env }) => {
      await t.proxy(env.proxyUrl, "/mode/refuse");
      const topic = t.uid("offline-first");
      const c = wasmqtt.createClient(env.proxyWsUrl, { reconnect: { initialDelay: 50, maxDelay: 200, jitter: 0 } });
      const m = t.collect(c);
      const errors = [];
      c.on("error", (e) => errors.push(e.code));
      const sub = c.subscribe(topic, { qos: 1 });
      const pub = c.publish(topic, "early", { qos: 1 });
      await t.waitFor(() => errors.length >= 2, 5000, "failed attempts reported as errors");
      const connected = t.once(c, "connect", 5000);
      await t.proxy(env.proxyUrl, "/mode/pass");
      await connected;
      await sub;
      await pub;
      await m.wait(1);
      await c.end();
      return { errors: errors.slice(0, 2), texts: m.list.map((x) => x.text) };
    });
    assert.deepEqual(r.errors, ["ConnectionLost", "ConnectionLost"]);
    assert.deepEqual(r.texts, ["early"]);
  } finally {
    await proxy("/reset");
  }
});

// MQTT 5 properties cross the wasm boundary as wire-format blocks (support.js encodes the
// application's objects, the wasm's codec decodes them; received ones the other way): every
// settable property is sent and read back from the broker, and the errors of options and
// properties (checked in support.js) are pinned by their messages.

/** An InvalidOptions rejection as the tests below list them. */
const inv = (m) => `InvalidOptions: ${m}`;

test("v5: every PUBLISH property, repeated user properties and subscription identifiers make the round trip", async () => {
  const r = await inPage(async ({ env }) => {
    const topic = t.uid("props");
    const c = await wasmqtt.connect(env.wsUrl, { protocolVersion: 5 });
    const m = t.collect(c);
    // Two subscriptions match: the broker names both identifiers (in one PUBLISH or one each).
    await c.subscribe(`${topic}/#`, { qos: 1, properties: { subscriptionIdentifier: 7 } });
    await c.subscribe(`${topic}/+`, { qos: 1, properties: { subscriptionIdentifier: 268435455, userProperties: { s: "1" } } });
    const properties = {
      payloadFormatIndicator: true,
      messageExpiryInterval: 3600,
      contentType: "text/plain; charset=utf-8",
      responseTopic: `${topic}/reply`,
      correlationData: new Uint8Array([0, 1, 254, 255]),
      userProperties: { a: "1", b: ["x", "y", "é"], "": "" },
    };
    await c.publish(`${topic}/x`, "p", { qos: 1, properties });
    await c.publish(`${topic}/y`, "q", { qos: 1, properties: { payloadFormatIndicator: 0, correlationData: "text" } });
    await m.wait(2);
    // Several identifiers arrive as an array, one as a number; wait for what the broker sends.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await c.end();
    const list = m.list.map((x) => ({
      topic: x.topic.split("/").pop(),
      properties: {
        ...x.packet.properties,
        correlationData: x.packet.properties.correlationData && Array.from(x.packet.properties.correlationData),
        isBytes: x.packet.properties.correlationData instanceof Uint8Array,
      },
    }));
    return { topic, list };
  });
  const x = r.list.filter((m) => m.topic === "x");
  const ids = x.flatMap((m) => [].concat(m.properties.subscriptionIdentifier)).sort((a, b) => a - b);
  assert.deepEqual(ids, [7, 268435455]);
  for (const m of x) {
    const { subscriptionIdentifier, messageExpiryInterval, ...rest } = m.properties;
    assert.ok(messageExpiryInterval <= 3600 && messageExpiryInterval >= 3590, String(messageExpiryInterval));
    assert.deepEqual(rest, {
      payloadFormatIndicator: true,
      contentType: "text/plain; charset=utf-8",
      responseTopic: `${r.topic}/reply`,
      correlationData: [0, 1, 254, 255],
      userProperties: { a: "1", b: ["x", "y", "é"], "": "" },
      isBytes: true,
    });
  }
  const y = r.list.find((m) => m.topic === "y");
  assert.equal(y.properties.payloadFormatIndicator, false);
  assert.deepEqual(y.properties.correlationData, [...new TextEncoder().encode("text")]);
});

test("v5: CONNECT and will properties reach the broker; CONNACK properties come back typed", async () => {
  const r = await inPage(async ({ env }) => {
    const topic = t.uid("connect-props");
    const c = await wasmqtt.connect(env.wsUrl, {
      protocolVersion: 5,
      sessionExpiryInterval: 10,
      properties: {
        sessionExpiryInterval: 99,
        receiveMaximum: 50,
        maximumPacketSize: 1 << 20,
        topicAliasMaximum: 5,
        requestResponseInformation: 1,
        requestProblemInformation: false,
        userProperties: { who: ["me", "you"] },
      },
      will: {
        topic: `${topic}/will`,
        payload: "w",
        properties: {
          willDelayInterval: 0,
          payloadFormatIndicator: 1,
          messageExpiryInterval: 60,
          contentType: "c",
          responseTopic: "r",
          correlationData: new Uint8Array([9]).buffer,
          userProperties: { k: "v" },
        },
      },
    });
    const connack = c.connack;
    await c.end();
    // An authentication method mosquitto does not know: refused with 0x8C, so it was sent.
    const auth = await t.settle(
      wasmqtt.connect(env.wsUrl, { protocolVersion: 5, reconnect: false, properties: { authenticationMethod: "x", authenticationData: "d" } }),
    );
    return { connack, auth };
  });
  assert.equal(r.connack.reasonCode, 0);
  const p = r.connack.properties;
  assert.equal(typeof p, "object");
  for (const [k, v] of Object.entries(p)) {
    if (k.endsWith("Available")) assert.equal(typeof v, "boolean", k);
  }
  assert.equal(r.auth.code, "ConnectionRefused");
  assert.equal(r.auth.reasonCode, 0x8c);
});

test("bad options and properties throw InvalidOptions with the message naming them", async () => {
  const r = await inPage(async ({ env }) => {
    const cases = [
      "x",
      { keepAlive: 1 },
      { protocolVersion: 3 },
      { clean: 1 },
      { clientId: 5 },
      { clean: false, clientId: "" },
      { keepalive: 70000 },
      { keepalive: 1.5 },
      { username: null },
      { password: 5 },
      { password: new ArrayBuffer(1) },
      { will: null },
      { will: { topic: "a", x: 1 } },
      { will: { topic: 1 } },
      { will: { topic: "a/+" } },
      { will: { topic: "" } },
      { will: { topic: "a", payload: 5 } },
      { will: { topic: "a", qos: 3 } },
      { will: { topic: "a", retain: 1 } },
      { protocolVersion: 5, will: { topic: "a", properties: { topicAlias: 1 } } },
      { protocolVersion: 5, will: { topic: "a", properties: { willDelayInterval: -1 } } },
      { connectTimeout: 0 },
      { resubscribe: "no" },
      { maxInflight: 0 },
      { maxQueued: -1 },
      { maxPacketSize: 15 },
      { properties: {} },
      { protocolVersion: 5, properties: 5 },
      { protocolVersion: 5, properties: { foo: 1 } },
      { protocolVersion: 5, properties: { contentType: "x" } },
      { protocolVersion: 5, properties: { receiveMaximum: 0 } },
      { protocolVersion: 5, properties: { maximumPacketSize: 268435456 } },
      { protocolVersion: 5, properties: { requestProblemInformation: 2 } },
      { protocolVersion: 5, properties: { authenticationMethod: "a\0b" } },
      { protocolVersion: 5, properties: { authenticationData: 5 } },
      { protocolVersion: 5, properties: { userProperties: { a: 1 } } },
      { protocolVersion: 5, properties: { userProperties: { a: ["b", null] } } },
      { protocolVersion: 5, properties: { userProperties: "a" } },
      { protocolVersion: 5, sessionExpiryInterval: -1 },
      { reconnect: "x" },
      { reconnect: null },
      { reconnect: { foo: 1 } },
      { reconnect: { jitter: 2 } },
      { reconnect: { jitter: "0.5" } },
      { reconnect: { initialDelay: -1 } },
      { reconnect: { initialDelay: 50000 } },
      { persistence: "disk" },
      { lock: true },
    ];
    return cases.map((o) => {
      try {
        wasmqtt.createClient(env.wsUrl, o).end(true);
        return "accepted";
      } catch (e) {
        return `${e.code}: ${e.message}`;
      }
    });
  });
  assert.deepEqual(r, [
    inv("options must be an object"),
    inv("unknown option `keepAlive`"),
    inv("option `protocolVersion` must be an integer from 4 to 5"),
    inv("option `clean` must be a boolean"),
    inv("option `clientId` must be a string"),
    inv("option `clientId` must be a non-empty string when `clean` is false"),
    inv("option `keepalive` must be an integer from 0 to 65535"),
    inv("option `keepalive` must be an integer from 0 to 65535"),
    inv("option `username` must be a string"),
    inv("option `password` must be a string or Uint8Array"),
    inv("option `password` must be a string or Uint8Array"),
    inv("option `will` must be an object"),
    inv("unknown option `will.x`"),
    inv("option `will.topic` must be a string"),
    inv("option `will.topic`: wildcard in topic name"),
    inv("option `will.topic`: empty topic"),
    inv("option `will.payload` must be a string or Uint8Array"),
    inv("option `will.qos` must be 0, 1 or 2"),
    inv("option `will.retain` must be a boolean"),
    inv("option `will.properties`: unknown or misplaced property `topicAlias`"),
    inv("option `will.properties`: property `willDelayInterval` has an invalid value"),
    inv("option `connectTimeout` must be an integer from 1 to 4294967295"),
    inv("option `resubscribe` must be a boolean"),
    inv("option `maxInflight` must be an integer from 1 to 65535"),
    inv("option `maxQueued` must be an integer from 0 to 4294967295"),
    inv("option `maxPacketSize` must be an integer from 16 to 268435455"),
    inv("option `properties` needs protocolVersion 5"),
    inv("option `properties`: properties must be an object"),
    inv("option `properties`: unknown or misplaced property `foo`"),
    inv("option `properties`: unknown or misplaced property `contentType`"),
    inv("option `properties`: property `receiveMaximum` has an invalid value"),
    inv("option `properties`: property `maximumPacketSize` has an invalid value"),
    inv("option `properties`: property `requestProblemInformation` has an invalid value"),
    inv("option `properties`: property `authenticationMethod` has an invalid value"),
    inv("option `properties`: property `authenticationData` has an invalid value"),
    inv("option `properties`: property `userProperties` has an invalid value"),
    inv("option `properties`: property `userProperties` has an invalid value"),
    inv("option `properties`: property `userProperties` has an invalid value"),
    inv("option `sessionExpiryInterval` must be an integer"),
    inv("option `reconnect` must be false or { initialDelay, maxDelay, jitter }"),
    inv("option `reconnect` must be false or { initialDelay, maxDelay, jitter }"),
    inv("unknown option `reconnect.foo`"),
    inv("option `reconnect.jitter` is out of range"),
    inv("option `reconnect.jitter` is out of range"),
    inv("option `reconnect.initialDelay` is out of range"),
    inv("option `reconnect.maxDelay` must be at least `initialDelay`"),
    inv('option `persistence` must be "indexeddb", "memory" or "auto"'),
    inv('option `lock` must be "wait" or "fail"'),
  ]);
});

test("bad request options and properties reject with the documented codes and messages", async () => {
  const r = await inPage(async ({ env }) => {
    const c = await wasmqtt.connect(env.wsUrl, { protocolVersion: 5 });
    const calls = [
      () => c.publish("a/b", "x", { properties: { sessionExpiryInterval: 1 } }),
      () => c.publish("a/b", "x", { properties: { topicAlias: 0 } }),
      () => c.publish("a/b", "x", { properties: { messageExpiryInterval: 2 ** 32 } }),
      () => c.publish("a/b", "x", { properties: { contentType: 5 } }),
      () => c.publish("a/b", "x", { properties: { userProperties: { a: [["b"]] } } }),
      () => c.publish("a/b", "x", { properties: "x" }),
      () => c.subscribe("a/b", { properties: { subscriptionIdentifier: 0 } }),
      () => c.subscribe("a/b", { properties: { subscriptionIdentifier: 268435456 } }),
      () => c.subscribe("a/b", { properties: { contentType: "x" } }),
      () => c.subscribe("a/b", { rh: 3 }),
      () => c.subscribe("a/b", { qos: 1.5 }),
      () => c.subscribe("a/b", { qos: "1" }),
      () => c.unsubscribe("a/b", { properties: { subscriptionIdentifier: 1 } }),
      () => c.unsubscribe("a/b", { properties: null }),
    ];
    const out = [];
    for (const f of calls) {
      const s = await t.settle(f());
      out.push(s.ok ? "resolved" : `${s.code}: ${s.message}`);
    }
    // Subscription options reach the broker: rh 2 sends no retained message.
    const topic = t.uid("rh");
    await c.publish(topic, "kept", { qos: 1, retain: true });
    const m = t.collect(c);
    await c.subscribe(topic, { qos: 1, nl: true, rap: true, rh: 2 });
    await c.publish(topic, "own", { qos: 1 }); // nl: not delivered back
    await c.subscribe(`${topic}/+`, { qos: 1 });
    await c.publish(`${topic}/marker`, "m", { qos: 1 });
    await m.wait(1);
    await c.publish(topic, "", { qos: 1, retain: true });
    await c.end();
    out.push(m.list.map((x) => x.text));
    return out;
  });
  assert.deepEqual(r, [
    inv("unknown or misplaced property `sessionExpiryInterval`"),
    inv("property `topicAlias` has an invalid value"),
    inv("property `messageExpiryInterval` has an invalid value"),
    inv("property `contentType` has an invalid value"),
    inv("property `userProperties` has an invalid value"),
    inv("properties must be an object"),
    inv("property `subscriptionIdentifier` has an invalid value"),
    inv("property `subscriptionIdentifier` has an invalid value"),
    inv("unknown or misplaced property `contentType`"),
    inv("option `rh` must be 0, 1 or 2"),
    "InvalidQos: qos must be 0, 1 or 2",
    "InvalidQos: qos must be 0, 1 or 2",
    inv("unknown or misplaced property `subscriptionIdentifier`"),
    "resolved",
    ["m"],
  ]);
});
