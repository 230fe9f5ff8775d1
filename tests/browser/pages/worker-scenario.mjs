// A publish/subscribe round trip with wasmqtt, run inside a worker (dedicated or shared) by
// pages/client-worker.mjs and pages/client-shared-worker.mjs for tests/browser/workers.test.mjs.
// Uses only the worker's global scope. Every wait is on an event with a timeout.
import init, { connect, createClient } from "/pkg/wasmqtt.js";

let ready;

/**
 * Connects with `options`, subscribes to `${topic}/#` at QoS 2, publishes one message to itself
 * per entry of `qos`, waits for all of them to come back, then ends the client. Resolves with
 * what a test asserts on; rejects (with the MqttError's code) when a step fails or times out.
 */
export async function roundTrip({ url, topic, options = {}, qos = [1], timeoutMs = 30000 }) {
  ready ??= init();
  await ready;
  const client = await connect(url, options);
  const errors = [];
  client.on("error", (e) => errors.push({ code: e?.code, message: String(e?.message ?? e) }));
  const messages = [];
  const all = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms with ${messages.length} of ${qos.length} messages`)),
      timeoutMs,
    );
    client.on("message", (t, payload, packet) => {
      messages.push({ topic: t, text: new TextDecoder().decode(payload), qos: packet.qos });
      if (messages.length >= qos.length) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const granted = await client.subscribe(`${topic}/#`, { qos: 2 });
  for (const q of qos) await client.publish(`${topic}/q${q}`, `from a worker at QoS ${q}`, { qos: q });
  await all;
  const connected = client.connected;
  const outbox = client.outbox().length;
  await client.end();
  const databases = typeof indexedDB.databases === "function" ? (await indexedDB.databases()).map((d) => d.name) : null;
  return {
    scope: self.constructor.name,
    hasLocalStorage: typeof localStorage !== "undefined",
    granted,
    messages,
    errors,
    connected,
    outbox,
    ended: client.ended,
    connectedAfterEnd: client.connected,
    databases,
  };
}

/** The next `name` event of `client`, with its arguments; rejects after `ms`. */
function once(client, name, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${name}' event in ${ms} ms`)), ms);
    const f = (...args) => {
      clearTimeout(timer);
      client.off(name, f);
      resolve(args);
    };
    client.on(name, f);
  });
}

/**
 * With the broker unreachable (`url` refuses connections): starts a client, waits until it has
 * read its store and failed a first attempt, publishes one message at `qos[0]` and returns at
 * once, without awaiting the publish promise, so the caller can terminate the worker.
 */
async function publishOffline({ url, topic, options = {}, qos = [1], timeoutMs = 30000 }) {
  ready ??= init();
  await ready;
  const client = createClient(url, options);
  await once(client, "error", timeoutMs);
  client.publish(`${topic}/q${qos[0]}`, "published before the worker ended", { qos: qos[0] }).catch(() => {});
  return { outbox: client.outbox().map((m) => m.topic) };
}

/** Starts a client on the stored session and waits until an outgoing message completes. */
async function resume({ url, options = {}, timeoutMs = 30000 }) {
  ready ??= init();
  await ready;
  const client = createClient(url, options);
  const errors = [];
  client.on("error", (e) => errors.push({ code: e?.code, message: String(e?.message ?? e) }));
  await once(client, "delivered", timeoutMs);
  const outbox = client.outbox().length;
  await client.end();
  return { errors, outbox };
}

const ops = { roundTrip, publishOffline, resume };

/** The outcome of `ops[params.op ?? "roundTrip"](params)` as a structured-cloneable reply. */
export async function reply(params) {
  try {
    return { ok: true, result: await ops[params.op ?? "roundTrip"](params) };
  } catch (e) {
    return { ok: false, error: String(e?.stack ?? e), code: e?.code };
  }
}
