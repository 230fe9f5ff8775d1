// Helpers the test pages share (client.html, durable.mjs, bench/page/builds.html), exposed as `window.t`.
// Every wait has a timeout and resolves on an event or a condition, never after a fixed sleep.
import { MqttError } from "/pkg/wasmqtt.js";
import { pollUntil } from "../poll.mjs";

export const t = {
  /**
   * `build.connect(url, options)` (build: a loaded wasmqtt module) with the client's WebSocket
   * in hand, for a test that reads or stubs it: `{ client, ws }`.
   */
  async connectWithSocket(build, url, options) {
    const sockets = [];
    const Native = WebSocket;
    globalThis.WebSocket = class extends Native {
      constructor(...a) {
        super(...a);
        sockets.push(this);
      }
    };
    try {
      const client = await build.connect(url, options);
      return { client, ws: sockets[0] };
    } finally {
      globalThis.WebSocket = Native;
    }
  },
  /** Resolves when pred() is truthy (checked every few ms), rejects after ms. */
  waitFor(pred, ms = 5000, what = "condition") {
    return pollUntil(pred, { ms, what, every: 2 });
  },
  /** The next `name` event of `client`, with its arguments. */
  once(client, name, ms = 5000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        client.off(name, f);
        reject(new Error(`no '${name}' event in ${ms} ms`));
      }, ms);
      const f = (...args) => {
        clearTimeout(timer);
        client.off(name, f);
        resolve(args);
      };
      client.on(name, f);
    });
  },
  /** Collects messages of `client`: { list, wait(n, ms) }. */
  collect(client) {
    const list = [];
    client.on("message", (topic, payload, packet) =>
      list.push({ topic, payload: Array.from(payload), text: new TextDecoder().decode(payload), packet }),
    );
    return { list, wait: (n, ms = 5000) => t.waitFor(() => list.length >= n, ms, `${n} messages (have ${list.length})`) };
  },
  /**
   * Records the byte length of every WebSocket frame the page sends from now on, in `list`,
   * until `restore()`.
   */
  recordFrames() {
    const list = [];
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) {
      list.push(data.byteLength);
      return send.call(this, data);
    };
    return { list, restore: () => (WebSocket.prototype.send = send) };
  },
  /** A topic prefix no other test uses. */
  uid(name = "t") {
    return `wasmqtt-test/${name}/${Math.random().toString(16).slice(2, 10)}`;
  },
  /** The settled state of a promise: { ok, value } or { ok: false, code, reasonCode, message, isMqttError, isError }. */
  async settle(promise) {
    try {
      return { ok: true, value: await promise };
    } catch (e) {
      return {
        ok: false,
        code: e?.code,
        reasonCode: e?.reasonCode,
        message: String(e?.message ?? e),
        isMqttError: e instanceof MqttError,
        isError: e instanceof Error,
      };
    }
  },
  /** Calls the fault proxy's control endpoint. */
  async proxy(controlUrl, route) {
    const r = await fetch(new URL(route, controlUrl));
    return r.json();
  },
  /**
   * Has `publisher` publish each of `payloads` (strings) at QoS 1 to `topic` while the proxy at
   * `controlUrl` holds what the broker sends its clients; returns once all of it is held (for
   * one subscriber behind the proxy, subscribed at `qos`). The subscribers behind the proxy get
   * it in one write, a burst however the broker spaced it, when the proxy leaves the hold mode.
   */
  async holdBurst(controlUrl, publisher, topic, payloads, qos = 1) {
    await t.proxy(controlUrl, "/mode/hold");
    await Promise.all(payloads.map((p) => publisher.publish(topic, p, { qos: 1 })));
    // Each in a WebSocket frame: 2 B header; PUBLISH 2 B fixed header, topic and its length,
    // packet id (QoS 1 and 2), payload (ASCII here).
    const id = qos > 0 ? 2 : 0;
    const bytes = payloads.reduce((sum, p) => sum + 2 + 2 + 2 + topic.length + id + p.length, 0);
    for (const since = performance.now(); (await t.proxy(controlUrl, "/stats")).held < bytes; ) {
      if (performance.now() - since > 5000) throw new Error(`timed out waiting for ${bytes} B held`);
    }
  },
};
