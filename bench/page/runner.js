// The measured page. It asks the harness (bench/run.mjs) for one job over HTTP, runs it, posts
// the result back and reloads itself for the next job (a fresh document per job). Nothing
// drives this tab through the DevTools protocol (see bench/README.md, "The pitfall").
//
// A job: { id, client: "wasmqtt" | "mqttjs" | "raw", scenario, url, topic, clientId, qos, n,
//          window, window0, ... }. Scenarios: pubSelf, latency, recv, idbProbe, resumeStore,
//          resumeDrain.
import { RawClient, encodePublishes, indexedPayload } from "./raw-client.js";

const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(path, body) {
  const res = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  return res.json();
}

let currentJob = null;

// Optional counters (--counters / --profile): WebSocket frames and bytes each way, for every
// client alike (a wrapper on send() and one extra message listener per socket), and the times
// of each send() call and frame arrival, for the round-trip split (splitRoundTrips); also the
// tasks a client schedules (MessagePort posts, queueMicrotask, setTimeout) and the time from a
// frame's arrival to the end of the client's handling of it.
const counters = { framesOut: 0, bytesOut: 0, framesIn: 0, bytesIn: 0, posts: 0, postUs: 0, handlingUs: 0, queueMicrotask: 0, setTimeout: 0, clearTimeout: 0 };
const frameTimes = { sent: [], arrived: [], inSend: [] };
function installCounters() {
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    const t = now();
    frameTimes.sent.push(t);
    counters.framesOut++;
    counters.bytesOut += data.byteLength ?? data.length ?? 0;
    send.call(this, data);
    frameTimes.inSend.push(now() - t);
  };
  // MessagePort posts: the macrotask (flush) scheduling of wasmqtt and the raw client.
  const post = MessagePort.prototype.postMessage;
  MessagePort.prototype.postMessage = function (...a) {
    counters.posts++;
    const t = now();
    post.apply(this, a);
    counters.postUs += now() - t;
  };
  for (const name of ["queueMicrotask", "setTimeout", "clearTimeout"]) {
    const f = globalThis[name];
    globalThis[name] = function (...a) {
      counters[name]++;
      return f.apply(this, a);
    };
  }
  const Native = WebSocket;
  globalThis.WebSocket = class extends Native {
    constructor(...a) {
      super(...a);
      let arrived = -1;
      // Added at the socket's first frame, so after the client's own listener (set before any
      // frame): from here to there is the client's handling of a frame with the microtasks it
      // ran, in wall time (a thread preempted meanwhile counts too).
      const handled = () => (counters.handlingUs += (now() - arrived) * 1000);
      this.addEventListener("message", (e) => {
        if (arrived < 0) this.addEventListener("message", handled);
        frameTimes.arrived.push((arrived = now()));
        counters.framesIn++;
        counters.bytesIn += e.data.byteLength ?? 0;
      });
    }
  };
}
function resetCounters() {
  for (const k of Object.keys(counters)) counters[k] = 0;
  for (const k of Object.keys(frameTimes)) frameTimes[k].length = 0;
}
/** The untimed messages (round trips) a job makes before its timed ones, on the same client. */
const warmOf = (job) => (job.warm > 0 && !job.warming ? job.warm : 0);
/** Tells the harness `name` (start/end of the measured section, ready) and waits for its reply. */
const hook = (name, extra = {}) => (currentJob.warming ? Promise.resolve() : api("/api/hook", { id: currentJob.id, name, ...extra }));

window.addEventListener("error", (e) => api("/api/log", { line: `page error: ${e.message}` }));
window.addEventListener("unhandledrejection", (e) =>
  api("/api/log", { line: `unhandled rejection: ${e.reason?.stack ?? e.reason}` }),
);

// ------------------------------------------------------------------ payloads

/** job.payload (64) bytes: the message index big-endian in the first 4, then filler. */
const payloadOf = (i) => indexedPayload(i, currentJob.payload);
const indexAt = (d, o) => ((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]) >>> 0;

/**
 * Counts unique / duplicate indices; `done` fires once `target` (at first all n) were seen,
 * with tLast the time of the last of them.
 */
function counter(n, done) {
  const seen = new Uint8Array(n);
  const c = {
    target: n,
    got: 0,
    dup: 0,
    bad: 0,
    tFirst: 0,
    tLast: 0,
    add(i) {
      if (i >= n) {
        c.bad++;
        return;
      }
      if (seen[i]) {
        c.dup++;
        return;
      }
      seen[i] = 1;
      if (c.got === 0) c.tFirst = now();
      if (++c.got === c.target) {
        c.tLast = now();
        done();
      }
    },
  };
  return c;
}

/** Resolves when `isDone()` or when `progress()` has not changed for stallMs. */
function until(isDone, progress, stallMs = 10000, capMs = Infinity) {
  return new Promise((resolve) => {
    let last = progress();
    let lastT = now();
    const start = lastT;
    const t = setInterval(() => {
      if (isDone()) {
        clearInterval(t);
        resolve(true);
        return;
      }
      if (now() - start > capMs) {
        clearInterval(t);
        resolve(false);
        return;
      }
      const p = progress();
      if (p !== last) {
        last = p;
        lastT = now();
      } else if (now() - lastT > stallMs) {
        clearInterval(t);
        resolve(false);
      }
    }, 50);
  });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/**
 * With counters: where round trip k's time goes. starts[k] is when the client was asked to
 * publish, handled[k] when the scenario saw the message. Splits at the first send() after the
 * start and the first frame that arrived after that: the client before sending (publish ->
 * send), the network and broker (send -> frame), the client after receiving (frame ->
 * handler). Medians and means in us (performance.now() is coarsened to 5 us here).
 */
function splitRoundTrips(starts, handled) {
  if (!currentJob.counters) return undefined;
  const { sent, arrived } = frameTimes;
  const parts = { beforeSend: [], network: [], afterFrame: [], inSend: [] };
  let si = 0;
  let ai = 0;
  for (let k = 0; k < starts.length; k++) {
    while (si < sent.length && sent[si] < starts[k]) si++;
    while (ai < arrived.length && arrived[ai] < sent[si]) ai++;
    if (si >= sent.length || ai >= arrived.length) break;
    parts.beforeSend.push(sent[si] - starts[k]);
    parts.network.push(arrived[ai] - sent[si]);
    parts.afterFrame.push(handled[k] - arrived[ai]);
    parts.inSend.push(frameTimes.inSend[si]);
  }
  return Object.fromEntries(Object.entries(parts).map(([name, v]) => [name, latencyStats(v)]));
}

function latencyStats(lat) {
  const s = Float64Array.from(lat).sort();
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  // Round trips per 10 us from 0 to 600 us (the last bin: 590 us and over). The p50 of a
  // distribution with two modes (bench/README, twelfth round) moves by a mode's width.
  const hist10us = new Array(60).fill(0);
  for (const v of s) hist10us[Math.min(59, Math.floor(v * 100))]++;
  return { p50us: percentile(s, 50) * 1000, p99us: percentile(s, 99) * 1000, meanus: mean * 1000, n: s.length, hist10us };
}
/**
 * How many round trips of each tenth of the run (in order) took longer than the run's p99:
 * a cold start shows as most of them in the first tenth.
 */
function slowByTenth(lat) {
  const p99 = percentile(Float64Array.from(lat).sort(), 99);
  const tenths = new Array(10).fill(0);
  lat.forEach((v, i) => v > p99 && tenths[Math.floor((i * 10) / lat.length)]++);
  return tenths;
}

// ------------------------------------------------------------------ API clients

const OPTS = [{ qos: 0 }, { qos: 1 }, { qos: 2 }];

const wasmqttModules = {};
// A client's build: /pkg/, or /pkg-b/ for the candidate client "wasmqtt-b" (run.mjs --pkg-b).
// Both may run in one page (the alternated round trips).
async function loadWasmqtt(client) {
  if (!wasmqttModules[client]) {
    const m = await import(client === "wasmqtt-b" ? "/pkg-b/wasmqtt.js" : "/pkg/wasmqtt.js");
    await m.default();
    wasmqttModules[client] = m;
  }
  return wasmqttModules[client];
}

const adapters = {
  "wasmqtt-b": (job, extra) => adapters.wasmqtt(job, extra),
  async wasmqtt(job, extra = {}) {
    const m = await loadWasmqtt(job.client);
    const c = await m.connect(job.url, {
      clientId: job.clientId,
      maxInflight: job.window,
      maxQueued: 100000,
      reconnect: false,
      ...extra,
    });
    let handler = () => {};
    c.on("message", (_t, p) => handler(p));
    return {
      raw: c,
      // The promise resolves with undefined, so `cb` takes both outcomes as they come, with no
      // closure per call (the MQTT.js adapter passes its callback on as is too).
      publish(topic, payload, qos, cb) {
        c.publish(topic, payload, OPTS[qos]).then(cb, cb);
      },
      publishAsync: (topic, payload, qos) => c.publish(topic, payload, OPTS[qos]),
      onMessage(f) {
        handler = f;
      },
      subscribe: (t, q) => c.subscribe(t, { qos: q }),
      end: () => c.end(),
    };
  },

  async mqttjs(job) {
    const mqtt = (await import("/node_modules/mqtt/dist/mqtt.esm.js")).default;
    const c = await new Promise((resolve, reject) => {
      const c = mqtt.connect(job.url, {
        clientId: job.clientId,
        protocolVersion: 4,
        clean: true,
        keepalive: 60,
        reconnectPeriod: 0,
        connectTimeout: 10000,
      });
      c.once("connect", () => resolve(c));
      c.once("error", reject);
    });
    let handler = () => {};
    c.on("message", (_t, p) => handler(p));
    return {
      raw: c,
      publish(topic, payload, qos, cb) {
        c.publish(topic, payload, OPTS[qos], cb);
      },
      publishAsync: (topic, payload, qos) => c.publishAsync(topic, payload, OPTS[qos]),
      onMessage(f) {
        handler = f;
      },
      subscribe: (t, q) => c.subscribeAsync(t, { qos: q }),
      end: () => c.endAsync(),
    };
  },
};

const apiScenarios = {
  /**
   * Publish n messages to a topic the client subscribes to, until the last is received.
   * At most `window` publishes are outstanding (a publish is outstanding until its callback /
   * promise settles): window0 (1000) at QoS 0, job.window (the broker's max_inflight) at QoS 1/2.
   */
  async pubSelf(job, extra) {
    return publishJob(job, await apiPublisher(job, warmOf(job) + job.n, extra));
  },

  /** n sequential round trips: publish one, wait for it (and its ack at QoS 1/2), repeat. */
  latency: (job) => latencyJob(job, apiRoundTrips),

  /** Subscribe, tell the harness (which publishes n messages over TCP), count until all arrive. */
  async recv(job) {
    const c = await adapters[job.client](job);
    const { n, qos } = job;
    let finished = false;
    const cnt = counter(n, () => (finished = true));
    c.onMessage((p) => cnt.add(indexAt(p, 0)));
    await c.subscribe(job.topic, qos);
    await hook("start");
    await hook("ready");
    await until(() => finished, () => cnt.got);
    await hook("end");
    await sleep(200);
    await c.end();
    const ms = (finished ? cnt.tLast : now()) - cnt.tFirst;
    return { ok: true, ms, rate: ((cnt.got - 1) / ms) * 1000, received: cnt.got, lost: n - cnt.got, dup: cnt.dup };
  },
};

// ------------------------------------------------------------------ wasmqtt-only scenarios

async function idbNames() {
  if (!indexedDB.databases) return [];
  return (await indexedDB.databases()).map((d) => d.name);
}

const wasmqttScenarios = {
  /** Does persistence: "indexeddb" write anything to IndexedDB? */
  async idbProbe(job) {
    const before = await idbNames();
    const c = await adapters.wasmqtt(job, { clean: false, persistence: "indexeddb" });
    await c.subscribe(job.topic, 1);
    const payloads = Array.from({ length: 20 }, (_, i) => payloadOf(i));
    await Promise.all(payloads.map((p) => c.publishAsync(job.topic, p, 1)));
    await c.end();
    await sleep(100);
    const after = await idbNames();
    return { ok: true, before, after, created: after.filter((x) => !before.includes(x)) };
  },

  /** QoS 1 pubSelf with persistence "indexeddb" (or "memory"), clean: false. */
  async pubSelfPersist(job) {
    const before = await idbNames();
    const r = await apiScenarios.pubSelf({ ...job, client: "wasmqtt", warm: 0 }, { clean: false, persistence: job.persistence });
    const after = await idbNames();
    return { ...r, idbCreated: after.filter((x) => !before.includes(x)), idbAll: after };
  },

  /** Broker down: queue n QoS 1 messages (durably, per the API), then the page reloads. */
  async resumeStore(job) {
    const m = await loadWasmqtt(job.client);
    const before = await idbNames();
    const c = m.createClient(job.url, {
      clientId: job.clientId,
      clean: false,
      persistence: "indexeddb",
      reconnect: false,
      maxInflight: job.window,
      maxQueued: job.n * 2,
    });
    c.on("error", () => {});
    let rejected = 0;
    const t0 = now();
    for (let i = 0; i < job.n; i++) c.publish(job.topic, payloadOf(i), OPTS[1]).catch(() => rejected++);
    const callMs = now() - t0;
    // The writes are committed within the task (api.md); outbox() shows them once the store is open.
    const outbox = () => (typeof c.outbox === "function" ? c.outbox().length : -1);
    await until(() => outbox() >= job.n, outbox, 3000); // (not timed)
    const stored = outbox();
    await sleep(300);
    const after = await idbNames();
    return { ok: true, callMs, stored, rejected, idbCreated: after.filter((x) => !before.includes(x)), idbAll: after };
  },

  /**
   * After the reload, with the broker up: connect, read how many messages the client restored
   * (outbox()), and time from the connect() call until the last of them is acknowledged
   * ('delivered' events; the outbox is empty).
   */
  async resumeDrain(job) {
    const m = await loadWasmqtt(job.client);
    await hook("start");
    const t0 = now();
    const c = await m.connect(job.url, {
      clientId: job.clientId,
      clean: false,
      persistence: "indexeddb",
      reconnect: false,
      maxInflight: job.window,
      maxQueued: job.n * 2,
    });
    // Nothing was acknowledged yet: this runs in the task that handled CONNACK.
    const tConn = now();
    let delivered = 0;
    c.on("delivered", () => delivered++);
    const restored = typeof c.outbox === "function" ? c.outbox().length : -1;
    let ok = true;
    let tDone = 0;
    // Watch the 'delivered' count, not outbox(): outbox() builds an object per stored message,
    // and polling it every 50 ms with 10,000 stored slowed the drain it measures.
    c.on("delivered", () => {
      if (delivered === restored) tDone = now();
    });
    // Capped at 30 s (the target is 2 s) to keep the full run bounded.
    if (restored > 0) ok = await until(() => delivered >= restored, () => delivered, 10000, 30000);
    if (!tDone) tDone = now();
    const left = c.outbox().length;
    await hook("end");
    await c.end();
    return { ok: true, drained: ok && left === 0, left, restored, delivered, connectMs: tConn - t0, drainMs: tDone - t0, sessionPresent: c.connack?.sessionPresent };
  },
};

// ------------------------------------------------------------------ raw ceiling

const rawScenarios = {
  async pubSelf(job) {
    return publishJob(job, await rawPublisher(job, warmOf(job) + job.n));
  },

  latency: (job) => latencyJob(job, rawRoundTrips),

  async recv(job) {
    const c = await RawClient.connect(job.url, job.clientId, job.rawTouchKb);
    c.mode = job.rawMode ?? "frame";
    const { n, qos } = job;
    let finished = false;
    const cnt = counter(n, () => (finished = true));
    c.onPublish = (d, o) => cnt.add(indexAt(d, o));
    await c.subscribe(job.topic, qos);
    await hook("start");
    await hook("ready");
    await until(() => finished, () => cnt.got);
    await hook("end");
    await sleep(200);
    c.end();
    const ms = (finished ? cnt.tLast : now()) - cnt.tFirst;
    return { ok: true, ms, rate: ((cnt.got - 1) / ms) * 1000, received: cnt.got, lost: n - cnt.got, dup: cnt.dup, frames: c.frames, sends: c.sends };
  },
};

// ------------------------------------------------------------------ publishing to self

/**
 * A client subscribed to its topic that publishes `size` messages to itself in runs:
 * `run(from, to)` publishes messages from..to-1 as fast as the client allows (API clients: up
 * to job.window0 / job.window publishes unsettled; the raw client: at QoS 0 the whole run as
 * one frame, else job.window not yet PUBACKed / PUBCOMPed) and resolves, once all of them
 * arrived (or nothing arrived for 10 s), with the time from its start to the last arrival (ms).
 * `idle(capMs)` resolves once every publish is settled (or nothing settled for capMs);
 * `stats()`: received, duplicated and the client's own counts.
 */
async function apiPublisher(job, size, extra) {
  const c = await adapters[job.client](job, extra);
  const { qos, topic } = job;
  const W = qos === 0 ? job.window0 : job.window;
  let runDone = null;
  const cnt = counter(size, () => runDone?.());
  c.onMessage((p) => cnt.add(indexAt(p, 0)));
  await c.subscribe(topic, qos);
  const payloads = Array.from({ length: size }, (_, i) => payloadOf(i));
  let i = 0;
  let stop = 0;
  let out = 0;
  let errors = 0;
  let firstError = null;
  let onIdle = null;
  const done = (err) => {
    out--;
    if (err) {
      errors++;
      firstError ??= String(err?.message ?? err);
    }
    pump();
    if (out === 0) onIdle?.();
  };
  const pump = () => {
    while (out < W && i < stop) {
      out++;
      c.publish(topic, payloads[i++], qos, done);
    }
  };
  return {
    run: (from, to) =>
      timedRun(cnt, to - from, (d) => (runDone = d), () => cnt.got + i, () => {
        i = from;
        stop = to;
        pump();
      }),
    idle: (capMs) => settledAll(() => out === 0, () => out, (f) => (onIdle = f), capMs),
    end: () => c.end(),
    stats: () => ({ received: cnt.got, dup: cnt.dup, bad: cnt.bad, errors, firstError, unsettled: out }),
  };
}

async function rawPublisher(job, size) {
  const c = await RawClient.connect(job.url, job.clientId, job.rawTouchKb);
  c.mode = job.rawMode ?? "frame";
  const { qos } = job;
  let runDone = null;
  const cnt = counter(size, () => runDone?.());
  await c.subscribe(job.topic, qos);
  const batch = encodePublishes(job.topic, qos, size, payloadOf);
  let sent = 0;
  let acked = 0;
  let stop = 0;
  let W = 0;
  let minBatch = 1;
  let onIdle = null;
  c.onPublish = (d, o) => cnt.add(indexAt(d, o));
  c.onAck = () => {
    if (++acked === sent) onIdle?.();
  };
  const settled = qos === 0 ? () => cnt.got : () => acked;
  const afterFrame = () => {
    const room = Math.min(stop, settled() + W) - sent;
    if (room >= minBatch || (room > 0 && sent + room === stop)) {
      c.sendBatch(batch, sent, sent + room);
      sent += room;
    }
  };
  const start = (from, to) => {
    // QoS 0: the whole run as one frame (measured fastest: a window of 300 / 3,000 / 20,000
    // messages in flight gave 8.9k / 11.2k / 19.9k msg/s). QoS 1/2: the acks and new publishes
    // due after a frame leave as one frame.
    W = qos === 0 ? to - from : job.window;
    minBatch = qos === 0 ? Math.max(1, W >> 2) : 1;
    stop = to;
    sent = Math.min(to, from + W);
    c.sendBatch(batch, from, sent);
    c.afterFrame = sent < to ? afterFrame : null;
  };
  return {
    run: (from, to) => timedRun(cnt, to - from, (d) => (runDone = d), () => cnt.got + acked, () => start(from, to)),
    idle: (capMs) => settledAll(() => qos === 0 || acked === sent, () => acked, (f) => (onIdle = f), capMs),
    end: async () => c.end(),
    stats: () => ({ received: cnt.got, dup: cnt.dup, bad: cnt.bad, frames: c.frames, sends: c.sends }),
  };
}

/**
 * Starts a run of `count` messages (`start()`) and resolves with the ms from its start to the
 * arrival of the last (cnt.tLast), or to now when `progress()` stalled for 10 s.
 */
async function timedRun(cnt, count, setDone, progress, start) {
  let finished = false;
  const all = new Promise((resolve) =>
    setDone(() => {
      finished = true;
      resolve();
    }),
  );
  cnt.target = cnt.got + count;
  const t0 = now();
  start();
  await Promise.race([all, until(() => finished, progress)]);
  setDone(null);
  return (finished ? cnt.tLast : now()) - t0;
}

/** Resolves at once when `isIdle()`, else at the `wake` the client calls or a stall of capMs. */
function settledAll(isIdle, progress, setWake, capMs) {
  if (isIdle()) return Promise.resolve(true);
  return Promise.race([new Promise((resolve) => setWake(() => resolve(true))), until(isIdle, progress, capMs)]).finally(() => setWake(null));
}

/**
 * The publish-to-self job on publisher `p` (of job.warm + job.n messages): job.warm messages
 * untimed (the fresh page's figure, `cold`), then job.n timed between the hooks, by the same
 * client and callbacks, as a long-lived page's.
 */
async function publishJob(job, p) {
  const warm = warmOf(job);
  let cold;
  let before = {};
  if (warm) {
    const ms = await p.run(0, warm);
    await p.idle(3000);
    before = p.stats();
    cold = { ok: true, ms, rate: (before.received / ms) * 1000, received: before.received };
    resetCounters();
  }
  await hook("start");
  const ms = await p.run(warm, warm + job.n);
  await hook("end");
  await p.idle(3000);
  await sleep(200); // late duplicates
  await p.end();
  const stats = p.stats();
  // The timed run's own counts (the raw client counts its frames and sends).
  for (const k of ["received", "frames", "sends"]) if (stats[k] !== undefined) stats[k] -= before[k] ?? 0;
  return { ok: true, ms, rate: (stats.received / ms) * 1000, ...stats, lost: job.n - stats.received, cold };
}

// ------------------------------------------------------------------ round trips

/**
 * A client's sequential round trips (publish message k, wait for it and, at QoS 1/2, its ack;
 * then k + 1), for `size` messages: `run(from, to)` makes round trips from..to-1 and resolves
 * after the last, recording in `lat`, `starts` and `handled` (ms). API clients await the
 * message and the publish's promise; the raw client reacts in its frame handler.
 */
async function apiRoundTrips(job, size) {
  const c = await adapters[job.client](job);
  const { qos } = job;
  let want = -1;
  let tRecv = 0;
  let wake = null;
  c.onMessage((p) => {
    if (indexAt(p, 0) === want) {
      tRecv = now();
      wake?.();
    }
  });
  await c.subscribe(job.topic, qos);
  const payloads = Array.from({ length: size }, (_, i) => payloadOf(i));
  const lat = new Float64Array(size);
  const starts = new Float64Array(size);
  const handled = new Float64Array(size);
  const run = async (from, to) => {
    for (let k = from; k < to; k++) {
      want = k;
      tRecv = 0;
      const received = new Promise((r) => (wake = r));
      const t0 = now();
      const acked = c.publishAsync(job.topic, payloads[k], qos);
      await Promise.all([received, acked]);
      lat[k] = tRecv - t0;
      starts[k] = t0;
      handled[k] = tRecv;
    }
  };
  return { run, lat, starts, handled, end: () => c.end() };
}

async function rawRoundTrips(job, size) {
  const c = await RawClient.connect(job.url, job.clientId, job.rawTouchKb);
  const { qos } = job;
  await c.subscribe(job.topic, qos);
  const batch = encodePublishes(job.topic, qos, size, payloadOf);
  const lat = new Float64Array(size);
  const starts = new Float64Array(size);
  const handled = new Float64Array(size);
  let k = 0;
  let stop = 0;
  let t0 = 0;
  let gotMsg = false;
  let gotAck = false;
  let resolveRun = null;
  const send = () => {
    gotMsg = false;
    gotAck = qos === 0;
    t0 = starts[k] = now();
    c.sendBatch(batch, k, k + 1);
  };
  const next = () => {
    if (!gotMsg || !gotAck) return;
    c.flush(); // the PUBACK for the incoming message leaves before the next PUBLISH
    if (++k === stop) return resolveRun();
    send();
    // --raw-spin: work after the send, as a client's own (its promise, its bookkeeping).
    if (job.rawSpinUs > 0) for (const end = now() + job.rawSpinUs / 1000; now() < end; );
  };
  c.onPublish = (d, o) => {
    if (indexAt(d, o) === k && k < stop) {
      handled[k] = now();
      lat[k] = handled[k] - t0;
      gotMsg = true;
    }
  };
  c.onAck = () => (gotAck = true);
  // Decide after the frame: its PUBACK for the incoming message goes out (flush) before the next publish.
  c.afterFrame = next;
  const run = (from, to) =>
    new Promise((resolve) => {
      resolveRun = resolve;
      k = from;
      stop = to;
      send();
    });
  return { run, lat, starts, handled, end: () => c.end() };
}

/**
 * The latency scenario: job.warm round trips untimed (the first tenth of them kept as the fresh
 * page's figure, `cold`), then job.n timed between the hooks, by the same client.
 */
async function latencyJob(job, roundTrips) {
  const warm = warmOf(job);
  const rt = await roundTrips(job, warm + job.n);
  let cold;
  if (warm) {
    await rt.run(0, warm);
    cold = { ok: true, ...latencyStats(rt.lat.subarray(0, Math.ceil(warm / 10))) };
    resetCounters();
  }
  await hook("start");
  await rt.run(warm, warm + job.n);
  await hook("end");
  await rt.end();
  return { ...latencyResult(rt, warm), isolated: self.crossOriginIsolated, cold };
}

/**
 * The statistics of round-trip loop `rt`'s round trips from `from` on. Its blocks run one at a
 * time, so the sends and frames after a round trip's start are its client's: the split pairs
 * them by time.
 */
function latencyResult(rt, from) {
  const lat = rt.lat.subarray(from);
  const split = splitRoundTrips(rt.starts.subarray(from), rt.handled.subarray(from));
  return { ok: true, ...latencyStats(lat), slowByTenth: slowByTenth(lat), split };
}

/**
 * Round trips of several clients in one page, alternated in blocks of job.block (each block
 * order rotated by one place), so that every client's round trips are spread over the same
 * seconds: the machine's drift between jobs (tens of us in the p50 here) falls on all alike.
 * Each client first makes job.warm round trips (untimed, alternated too), then job.n timed
 * ones. Returns per client the latency statistics of its timed round trips.
 */
async function latencyMix(job) {
  const loops = [];
  for (const client of job.mix) {
    const sub = { ...job, client, topic: `${job.topic}/${client}`, clientId: `${job.clientId}-${client}` };
    loops.push(await (client === "raw" ? rawRoundTrips : apiRoundTrips)(sub, job.warm + job.n));
  }
  const alternate = async (from, to) => {
    for (let b = 0, at = from; at < to; b++, at += job.block) {
      for (let i = 0; i < loops.length; i++) await loops[(i + b) % loops.length].run(at, Math.min(to, at + job.block));
    }
  };
  await alternate(0, job.warm);
  await hook("start");
  await alternate(job.warm, job.warm + job.n);
  await hook("end");
  for (const l of loops) await l.end();
  const clients = {};
  job.mix.forEach((client, i) => (clients[client] = latencyResult(loops[i], job.warm)));
  return { ok: true, clients };
}

// ------------------------------------------------------------------ main loop

/**
 * Before a receive job: job.warm messages published to self at its QoS (which runs the same
 * receive path), on a client, topic and connection of their own, untimed and unhooked, in this
 * page. Each job gets a fresh document, so without it every figure would include the JIT and
 * wasm tier-up of the first few thousand messages (see bench/README.md, "Warm pages"). Returns
 * the warm-up's result (the fresh page's figure). Publish and latency jobs warm the client they
 * measure instead (publishJob, latencyJob): a new client in a warm page runs callers whose
 * optimized code inlined the warm-up client's closures, and V8 deoptimizes them (eighteenth
 * round).
 */
async function warmUp(job) {
  if (!(job.warm > 0) || job.scenario !== "recv") return null;
  const w = { ...job, scenario: "pubSelf", n: job.warm, topic: `${job.topic}/warm`, clientId: `${job.clientId}-w`, warming: true };
  currentJob = w;
  try {
    return await scenarioFor(w)(w);
  } finally {
    currentJob = job;
    resetCounters();
  }
}

function scenarioFor(job) {
  if (job.scenario === "latencyMix") return latencyMix;
  if (job.client === "raw") return rawScenarios[job.scenario];
  if (job.client.startsWith("wasmqtt") && wasmqttScenarios[job.scenario]) return wasmqttScenarios[job.scenario];
  return apiScenarios[job.scenario];
}

async function main() {
  for (;;) {
    const job = await api("/api/job").catch(() => null);
    if (!job || job.type === "wait") {
      if (!job) await sleep(200);
      continue;
    }
    if (job.type === "exit") {
      document.title = "done";
      return;
    }
    currentJob = job;
    if (job.counters) installCounters();
    let result;
    try {
      const f = scenarioFor(job);
      if (!f) throw new Error(`no scenario ${job.scenario} for ${job.client}`);
      const cold = await warmUp(job);
      result = await f(job);
      if (cold) result.cold = cold;
      if (job.counters) result.counters = { ...counters };
    } catch (e) {
      result = { ok: false, error: String(e?.stack ?? e?.message ?? e) };
    }
    await api("/api/result", { id: job.id, result });
    location.reload();
    return;
  }
}

main();
