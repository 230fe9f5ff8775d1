// The wasmqtt JavaScript API (shared/api.md) in headless Chromium against a real mosquitto 2,
// with a fault-injecting proxy in front of it. Every wait is on an event with a timeout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, launchBrowser, openPage, proxy } from "./harness.mjs";

let browser;
let page;

before(async () => {
  browser = await launchBrowser();
  page = await openPage(browser, "/tests/browser/pages/client.html");
  await page.waitForFunction(() => window.ready !== undefined, null, { timeout: 20000 });
  const ready = await page.evaluate(() => window.ready);
  assert.equal(ready.ok, true, JSON.stringify(ready));
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
      }
      await m.wait(9);
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
    }
    assert.equal(r.list.length, 9, "no duplicates");
  });
}

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
  assert.equal(r.badFilter.code, "InvalidTopic");
  assert.equal(r.badSubQos.code, "InvalidQos");
  assert.deepEqual(r.received, ["wasmqtt-test/marker"], "nothing invalid was sent");
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
