// wasmqtt in a dedicated Web Worker and in a SharedWorker (shared/api.md: "works in a page, a
// dedicated Web Worker and a SharedWorker"): the real package (pkg/) is imported by a module
// worker, which connects to mosquitto, subscribes, publishes to itself and reports back through
// postMessage / a MessagePort. Workers have no localStorage, so with persistence "indexeddb" the
// client runs on IndexedDB alone there (src/store/journal.rs). Every wait has a timeout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, launchBrowser, openPage } from "./harness.mjs";

let browser;
let page;

before(async () => {
  browser = await launchBrowser();
  page = await openPage(browser, "/tests/browser/pages/client.html");
  await page.waitForFunction(() => window.ready !== undefined, null, { timeout: 30000 });
  const ready = await page.evaluate(() => window.ready);
  assert.equal(ready.ok, true, JSON.stringify(ready));
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
 * Starts a new worker of `kind` ("dedicated" or "shared") from the page, hands it `params`
 * (see pages/worker-scenario.mjs) and resolves with its reply.
 */
function inWorker(kind, params) {
  return page.evaluate(
    ({ kind, params }) =>
      new Promise((resolve, reject) => {
        const fail = (why) => {
          clearTimeout(timer);
          reject(new Error(`${kind} worker: ${why}`));
        };
        const timer = setTimeout(() => fail("no reply"), params.timeoutMs + 30000);
        if (kind === "shared") {
          // A name per test: a fresh SharedWorker, not one left by an earlier test.
          const worker = new SharedWorker("/tests/browser/pages/client-shared-worker.mjs", { type: "module", name: params.topic });
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
