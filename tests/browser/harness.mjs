// Helpers for tests/browser/*.test.mjs (run by tests/browser/run.mjs with node:test).
//
//   import { env, launchBrowser, openPage } from "./harness.mjs";
//   const browser = await launchBrowser();            // fresh profile, removed on close
//   const page = await openPage(browser, "/tests/browser/pages/smoke.html");
//   ...
//   await browser.close();
//
//   // A profile that outlives the browser (IndexedDB across a browser restart):
//   const dir = tempProfileDir();
//   let b = await launchBrowser({ userDataDir: dir }); ... await b.close();
//   b = await launchBrowser({ userDataDir: dir }); ...   await b.close(); removeDir(dir);
//
// `env` holds the URLs run.mjs (or scripts/test.sh) exported: wsUrl, tcpUrl, proxyWsUrl,
// proxyUrl (control), authWsUrl, authTcpUrl, authUser, authPassword, staticUrl, deniedFilter.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.WASMQTT_CHROMIUM || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

const e = process.env;
export const env = {
  wsUrl: e.WASMQTT_TEST_WS_URL,
  tcpUrl: e.WASMQTT_TEST_TCP_URL,
  proxyWsUrl: e.WASMQTT_TEST_PROXY_WS_URL,
  proxyUrl: e.WASMQTT_TEST_PROXY_URL,
  authWsUrl: e.WASMQTT_TEST_AUTH_WS_URL,
  authTcpUrl: e.WASMQTT_TEST_AUTH_TCP_URL,
  authUser: e.WASMQTT_TEST_AUTH_USER,
  authPassword: e.WASMQTT_TEST_AUTH_PASSWORD,
  staticUrl: e.WASMQTT_TEST_STATIC_URL,
  deniedFilter: e.WASMQTT_TEST_DENIED_FILTER,
};

export function tempProfileDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), "wasmqtt-chromium-"));
}

export function removeDir(dir) {
  // Chromium may still be writing into its profile for a moment after close (ENOTEMPTY).
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  } catch (err) {
    console.warn(`harness: could not remove ${dir}: ${err.message}`);
  }
}

/**
 * Launches Debian's Chromium headless through playwright-core (no browser download).
 * Without `userDataDir` the profile is a fresh temp dir removed by close(); with one, the
 * profile is kept (reuse it in a later launch to test what survives a browser restart).
 * Returns the playwright BrowserContext with close() wrapped.
 */
export async function launchBrowser({ userDataDir, args = [], ...options } = {}) {
  const fresh = !userDataDir;
  const dir = userDataDir ?? tempProfileDir();
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...args],
    ...options,
  });
  const close = context.close.bind(context);
  context.close = async () => {
    await close().catch(() => {});
    if (fresh) removeDir(dir);
  };
  context.userDataDir = dir;
  return context;
}

/**
 * Opens `urlPath` (relative to the static server, e.g. "/www/index.html") in a new page.
 * Console messages and uncaught page errors are collected in page.consoleLines / page.pageErrors
 * (and echoed when WASMQTT_TEST_VERBOSE is set).
 */
export async function openPage(context, urlPath, { waitUntil = "load" } = {}) {
  if (!env.staticUrl) throw new Error("WASMQTT_TEST_STATIC_URL is not set: run tests through tests/browser/run.mjs");
  const page = await context.newPage();
  page.consoleLines = [];
  page.pageErrors = [];
  page.on("console", (m) => {
    const line = `[${m.type()}] ${m.text()}`;
    page.consoleLines.push(line);
    if (process.env.WASMQTT_TEST_VERBOSE) console.log(`page: ${line}`);
  });
  page.on("pageerror", (err) => {
    page.pageErrors.push(err);
    if (process.env.WASMQTT_TEST_VERBOSE) console.log(`page error: ${err}`);
  });
  await page.goto(new URL(urlPath, env.staticUrl).href, { waitUntil });
  return page;
}

/**
 * openPage, then waits until the page's script has set `window.ready` and throws unless it is
 * `{ ok: true }` (the test pages set it once the wasm module has loaded).
 */
export async function openReadyPage(context, urlPath, timeout = 20000) {
  const page = await openPage(context, urlPath);
  await waitReady(page, timeout);
  return page;
}

/** Waits until `page` has set `window.ready` (also after a reload); throws unless it is `{ ok: true }`. */
export async function waitReady(page, timeout = 20000) {
  await page.waitForFunction(() => window.ready !== undefined, null, { timeout });
  const ready = await page.evaluate(() => window.ready);
  if (ready?.ok !== true) throw new Error(`${page.url()} is not ready: ${JSON.stringify(ready)}`);
}

/** Calls the fault-injecting proxy's control endpoint, e.g. proxy("/mode/blackhole"). */
export async function proxy(route) {
  if (!env.proxyUrl) throw new Error("WASMQTT_TEST_PROXY_URL is not set");
  const res = await fetch(new URL(route, env.proxyUrl));
  const body = await res.json();
  if (!res.ok) throw new Error(`proxy ${route}: ${body.error ?? res.status}`);
  return body;
}
