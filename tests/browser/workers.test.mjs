// wasmqtt in a dedicated Web Worker and in a SharedWorker (shared/api.md: "works in a page, a
// dedicated Web Worker and a SharedWorker"): the real package (pkg/) is imported by a module
// worker, which connects to mosquitto, subscribes, publishes to itself and reports back through
// postMessage / a MessagePort. Workers have no localStorage, so with persistence "indexeddb" the
// client runs on IndexedDB alone there (src/store/journal.rs): a message published while the
// broker is unreachable must still be sent by the next worker after the first one has ended.
// Every wait has a timeout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { env, launchBrowser, openPage, openReadyPage, proxy } from "./harness.mjs";

let browser;
let page;

before(async () => {
  browser = await launchBrowser();
  page = await openReadyPage(browser, "/tests/browser/pages/client.html", 30000);
});

after(async () => {
  await browser?.close();
});

const uid = (name) => `wasmqtt-test/${name}/${Math.random().toString(16).slice(2, 10)}`;

const scopes = {
  dedicated: "DedicatedWorkerGlobalScope",
  shared: "SharedWorkerGlobalScope",
};

/**
 * Starts a new worker of `kind` ("dedicated" or "shared") from `from` (the shared page by
 * default), hands it `params` (see pages/worker-scenario.mjs) and resolves with its reply.
 * A dedicated worker is terminated once it replied; a shared one lives until its page closes.
 */
function inWorker(kind, params, from = page) {
  return from.evaluate(
    ({ kind, params }) =>
      new Promise((resolve, reject) => {
        const fail = (why) => {
          clearTimeout(timer);
          reject(new Error(`${kind} worker: ${why}`));
        };
        const timer = setTimeout(() => fail("no reply"), params.timeoutMs + 30000);
        if (kind === "shared") {
          // A name per test: a fresh SharedWorker, not one left by an earlier test.
          const worker = new SharedWorker("/tests/browser/pages/client-shared-worker.mjs", { type: "module", name: params.name ?? params.topic });
          worker.onerror = (ev) => fail(ev.message ?? "error event");
          worker.port.onmessage = (ev) => {
            clearTimeout(timer);
            worker.port.close();
            resolve(ev.data);
          };
          worker.port.postMessage(params);
        } else {
          const worker = new Worker("/tests/browser/pages/client-worker.mjs", { type: "module" });
          worker.onerror = (ev) => fail(ev.message ?? "error event");
          worker.onmessage = (ev) => {
            clearTimeout(timer);
            worker.terminate();
            resolve(ev.data);
          };
          worker.postMessage(params);
        }
      }),
    { kind, params },
  );
}

/** Runs the round trip in a worker and checks what every variant must show. */
async function roundTrip(kind, { name, options, qos }) {
  const topic = uid(name);
  const reply = await inWorker(kind, { url: env.wsUrl, topic, options, qos, timeoutMs: 30000 });
  assert.equal(reply.ok, true, `${JSON.stringify(reply)}\n${page.consoleLines.join("\n")}`);
  const r = reply.result;
  assert.equal(r.scope, scopes[kind], "ran in the intended kind of worker");
  assert.equal(r.hasLocalStorage, false);
  assert.deepEqual(r.granted, [2]);
  const got = [...r.messages].sort((a, b) => a.qos - b.qos);
  assert.deepEqual(
    got,
    qos.map((q) => ({ topic: `${topic}/q${q}`, text: `from a worker at QoS ${q}`, qos: q })),
    "each message came back once, with its content and QoS",
  );
  assert.deepEqual(r.errors, [], "no error event");
  assert.equal(r.connected, true);
  assert.equal(r.outbox, 0, "nothing left in the outbox once the promises resolved");
  assert.equal(r.ended, true);
  assert.equal(r.connectedAfterEnd, false);
  assert.deepEqual(page.pageErrors, []);
  return r;
}

for (const kind of ["dedicated", "shared"]) {
  test(`${kind} worker: connect, subscribe, publish QoS 1 to itself and receive it`, async () => {
    await roundTrip(kind, { name: `${kind}-worker`, options: { protocolVersion: 5 }, qos: [1] });
  });

  test(`${kind} worker: persistence "indexeddb" without localStorage: QoS 1 and 2 to itself, no error`, async () => {
    const clientId = `${kind}-idb-${Math.random().toString(16).slice(2, 10)}`;
    const r = await roundTrip(kind, {
      name: `${kind}-worker-idb`,
      options: { clientId, clean: false, persistence: "indexeddb" },
      qos: [1, 2],
    });
    // The session really lived in IndexedDB (persistence "indexeddb" has no memory fallback).
    assert.ok(r.databases.includes(`wasmqtt:${env.wsUrl}:${clientId}`), JSON.stringify(r.databases));
  });
}

for (const kind of ["dedicated", "shared"]) {
  test(`${kind} worker: a QoS 1 message published offline with "indexeddb" is sent by the next worker after the first one ended`, async () => {
    const topic = uid(`${kind}-worker-resume`);
    const clientId = `${kind}-resume-${Math.random().toString(16).slice(2, 10)}`;
    const options = { clientId, clean: false, persistence: "indexeddb", reconnect: { initialDelay: 50, maxDelay: 200, jitter: 0 } };
    const observer = await mqtt.connectAsync(env.tcpUrl, { reconnectPeriod: 0 });
    let other;
    let timer;
    try {
      await observer.subscribeAsync(`${topic}/#`, { qos: 1 });
      const received = new Promise((resolve, reject) => {
        timer = setTimeout(() => reject(new Error("the observer got no message in 60 s")), 60000);
        observer.on("message", (t, payload) => {
          clearTimeout(timer);
          resolve({ topic: t, text: payload.toString() });
        });
      });
      await proxy("/mode/refuse");
      // The first worker belongs to a page of its own, so closing that page ends a SharedWorker.
      other = await openPage(browser, "/tests/browser/pages/client.html");
      const first = await inWorker(kind, { op: "publishOffline", url: env.proxyWsUrl, topic, options, qos: [1], timeoutMs: 30000 }, other);
      assert.equal(first.ok, true, JSON.stringify(first));
      assert.deepEqual(first.result.outbox, [`${topic}/q1`]);
      await other.close();
      await proxy("/mode/pass");
      const second = await inWorker(kind, { op: "resume", url: env.proxyWsUrl, name: `${topic}/resume`, options, timeoutMs: 30000 });
      assert.equal(second.ok, true, JSON.stringify(second));
      assert.deepEqual(second.result.errors, []);
      assert.equal(second.result.outbox, 0);
      assert.deepEqual(await received, { topic: `${topic}/q1`, text: "published before the worker ended" });
    } finally {
      clearTimeout(timer);
      await other?.close();
      await proxy("/reset");
      await observer.endAsync();
    }
  });
}
