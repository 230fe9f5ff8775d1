// The built package (pkg/, after wasm-opt) instantiates in Chromium, in a page and in a worker.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import mqtt from "mqtt";
import { env, launchBrowser, openPage, tempProfileDir, removeDir } from "./harness.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test("pkg/wasmqtt.js init() instantiates the optimized module in a page and a worker", async () => {
  const page = await openPage(browser, "/tests/browser/pages/smoke.html");
  await page.waitForFunction(() => window.__smoke !== undefined, null, { timeout: 20000 });
  const result = await page.evaluate(() => window.__smoke);
  assert.equal(result.ok, true, `smoke page failed: ${JSON.stringify(result)}\n${page.consoleLines.join("\n")}`);
  assert.deepEqual(page.pageErrors, []);
  // The page fetched exactly the module in pkg/ (what build-pkg.sh optimized), as wasm.
  const served = await page.evaluate(async () => {
    const res = await fetch("/pkg/wasmqtt_bg.wasm");
    return { type: res.headers.get("content-type"), size: (await res.arrayBuffer()).byteLength };
  });
  assert.equal(served.type, "application/wasm");
  assert.equal(served.size, fs.statSync(new URL("../../pkg/wasmqtt_bg.wasm", import.meta.url)).size);
});

test("www/index.html (the demo page) loads the package and shows a message published over TCP", async () => {
  const topic = `smoke-demo/${process.pid}`;
  const url = `/www/index.html?broker=${encodeURIComponent(env.wsUrl)}&filter=${encodeURIComponent(`${topic}/#`)}`;
  const page = await openPage(browser, url);
  await page.waitForFunction(() => window.wasmqttReady !== undefined, null, { timeout: 30000 });
  const ready = await page.evaluate(() => window.wasmqttReady);
  assert.equal(ready.ok, true, `www/index.html: ${JSON.stringify(ready)}\n${page.consoleLines.join("\n")}`);
  // An independent MQTT.js client over TCP publishes; the page's table shows the value.
  // Retained, since the page may report ready before its SUBSCRIBE is acknowledged.
  const observer = await mqtt.connectAsync(env.tcpUrl, { reconnectPeriod: 0 });
  try {
    await observer.publishAsync(`${topic}/t1`, "21.5", { qos: 1, retain: true });
    await page.waitForFunction((t) => document.body.innerText.includes(t), `${topic}/t1`, { timeout: 10000 });
    assert.match(await page.evaluate(() => document.body.innerText), /21\.5/);
  } finally {
    await observer.publishAsync(`${topic}/t1`, "", { qos: 1, retain: true }); // clear it
    await observer.endAsync();
  }
});

test("a persistent profile keeps IndexedDB across a browser restart (harness check)", async () => {
  const dir = tempProfileDir();
  try {
    const idb = (mode) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open("wasmqtt-harness-check", 1);
        open.onupgradeneeded = () => open.result.createObjectStore("kv");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction("kv", mode === "write" ? "readwrite" : "readonly");
          const store = tx.objectStore("kv");
          const req = mode === "write" ? store.put("kept", "k") : store.get("k");
          tx.oncomplete = () => resolve(req.result ?? null);
          tx.onerror = () => reject(tx.error);
          if (mode === "write") tx.commit();
        };
      });
    let b = await launchBrowser({ userDataDir: dir });
    let page = await openPage(b, "/tests/browser/pages/smoke.html");
    await page.evaluate(idb, "write");
    await b.close();
    b = await launchBrowser({ userDataDir: dir });
    page = await openPage(b, "/tests/browser/pages/smoke.html");
    assert.equal(await page.evaluate(idb, "read"), "kept");
    await b.close();
  } finally {
    removeDir(dir);
  }
});
