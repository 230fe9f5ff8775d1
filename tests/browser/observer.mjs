// An independent MQTT client on the Node side (MQTT.js over TCP) that watches what the broker
// really forwards, for tests/browser/durable.test.mjs. Payloads are decimal numbers.
//
//   import { startObserver } from "./observer.mjs";
//   const o = await startObserver({ url: env.tcpUrl, topic: "wasmqtt-test/x/#" });
//   await o.waitFor(() => o.distinct() >= 1000, 30000, "all numbers");
//   o.counts   // Map number -> times received
//   o.order    // numbers in arrival order
//   await o.publish(topic, "7", { qos: 2 });
//   await o.close();
//
// Options: url, topic (filter; optional), qos (2), clientId + clean (false keeps a persistent
// session across a broker restart: it then reconnects every 100 ms).
import mqtt from "mqtt";
import { pollUntil } from "./poll.mjs";

export class Observer {
  constructor(client) {
    this.client = client;
    this.counts = new Map();
    this.order = [];
    this.other = []; // payloads that are not numbers
    this.connects = 0;
    client.on("connect", () => this.connects++);
    client.on("message", (topic, payload) => {
      const text = payload.toString();
      const n = /^\d+$/.test(text) ? Number(text) : NaN;
      if (Number.isNaN(n)) {
        this.other.push({ topic, text });
        return;
      }
      this.counts.set(n, (this.counts.get(n) ?? 0) + 1);
      this.order.push(n);
    });
  }

  /** Number of distinct numbers received. */
  distinct() {
    return this.counts.size;
  }

  /** Numbers in 1..total never received, and those received more than once. */
  check(total) {
    const missing = [];
    const duplicated = [];
    for (let n = 1; n <= total; n++) {
      const c = this.counts.get(n) ?? 0;
      if (c === 0) missing.push(n);
      else if (c > 1) duplicated.push([n, c]);
    }
    return { missing, duplicated, received: this.order.length };
  }

  /** Resolves when pred() is truthy (checked every 10 ms), rejects after ms. */
  waitFor(pred, ms, what = "condition") {
    return pollUntil(pred, { ms, what, prefix: "observer: " });
  }

  publish(topic, payload, opts = {}) {
    return new Promise((resolve, reject) => {
      this.client.publish(topic, payload, opts, (err) => (err ? reject(err) : resolve()));
    });
  }

  reset() {
    this.counts.clear();
    this.order.length = 0;
    this.other.length = 0;
  }

  async close() {
    await new Promise((resolve) => this.client.end(true, {}, resolve));
  }
}

export async function startObserver({ url, topic, qos = 2, clientId, clean = true, timeoutMs = 10000 }) {
  const client = mqtt.connect(url, {
    clientId: clientId ?? `observer-${Math.random().toString(16).slice(2, 10)}`,
    clean,
    protocolVersion: 4,
    reconnectPeriod: 100,
    connectTimeout: 5000,
    resubscribe: true,
  });
  const o = new Observer(client);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("observer: no CONNACK")), timeoutMs);
    client.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    client.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  if (topic) {
    await new Promise((resolve, reject) =>
      client.subscribe(topic, { qos }, (err, granted) =>
        err ? reject(err) : granted?.[0]?.qos >= 0x80 ? reject(new Error(`observer: SUBACK ${granted[0].qos}`)) : resolve(),
      ),
    );
  }
  return o;
}
