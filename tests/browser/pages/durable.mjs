// Page side of tests/browser/durable.test.mjs. Everything a test must find again after a reload
// lives in localStorage, written synchronously in the same task as the client call it records.
import init, * as wasmqtt from "/pkg/wasmqtt.js";
import { t } from "./test-helpers.mjs";

const FAST = { initialDelay: 50, maxDelay: 300, jitter: 0 };

const num = (key) => Number(localStorage.getItem(key) ?? 0);

/** Messages in a value of the "messages" store (see dbCount). */
function messagesIn(v) {
  if (!(v instanceof Uint8Array)) return 1;
  const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
  let n = 0;
  for (let at = 1; at + 12 <= v.length; at += 12 + view.getUint32(at + 8)) n++;
  return n;
}

const d = {
  FAST,

  /**
   * Publishes `total` numbered messages ("1", "2", ...) to `topic`, at most `window` promises
   * outstanding, continuing after the last number handed to publish (localStorage[key]).
   * Resolves once connected; progress is in window.pub.
   */
  async publisher({ url, clientId, topic, qos, total, window: win = 50, key, options = {} }) {
    const st = (window.pub = { handed: num(key), resolved: 0, errors: [], rejected: [], done: false, connects: 0, pending: 0 });
    // The test pauses the hand-over (once `at` numbers are handed over) while it changes the
    // proxy, so that the page cannot finish in between.
    let gate = null;
    let pauseAt = 0;
    let release = () => {};
    st.pause = (at = 0) => {
      pauseAt = at;
      gate ??= new Promise((r) => (release = r));
    };
    st.resume = () => {
      gate = null;
      release();
    };
    const from = num(key);
    const c = await wasmqtt.connect(url, { clientId, clean: false, reconnect: FAST, ...options });
    window.client = c;
    st.connects = 1;
    c.on("connect", () => st.connects++);
    c.on("error", (e) => {
      st.errors.push(e.code);
      if (e.code !== "ConnectionLost") localStorage.setItem(`${key}:errors`, `${localStorage.getItem(`${key}:errors`) ?? ""}${e.code}: ${e.message}\n`);
    });
    (async () => {
      const pending = new Set();
      let n = num(key);
      while (n < total) {
        while (pending.size >= win) await Promise.race(pending);
        while (gate && n >= pauseAt) await gate;
        n += 1;
        const p = c.publish(topic, String(n), { qos });
        localStorage.setItem(key, String(n)); // handed over: the client must deliver it now
        st.handed = n;
        const me = n;
        const q = p.then(
          () => st.resolved++,
          (e) => {
            // Kept across reloads: a rejection in an earlier page life counts too.
            const r = [me, e?.code ?? String(e), String(e?.message ?? "")];
            st.rejected.push(r);
            localStorage.setItem(`${key}:rejected`, JSON.stringify([...JSON.parse(localStorage.getItem(`${key}:rejected`) ?? "[]"), r]));
          },
        );
        const done = q.finally(() => {
          pending.delete(done);
          st.pending = pending.size;
        });
        pending.add(done);
        st.pending = pending.size;
      }
      await Promise.all(pending);
      st.done = true;
    })();
    return { sessionPresent: c.connack.sessionPresent, from };
  },

  /**
   * Counts each number received on `topic` in localStorage (key:n:N) synchronously in the
   * handler; subscribes only on the first load (the session keeps the subscription).
   */
  async receiver({ url, clientId, topic, key, options = {} }) {
    const st = (window.recv = { connects: 0, errors: [] });
    const c = wasmqtt.createClient(url, { clientId, clean: false, reconnect: FAST, ...options });
    window.client = c;
    c.on("message", (_topic, payload) => {
      const text = new TextDecoder().decode(payload);
      const k = `${key}:n:${text}`;
      const count = num(k) + 1;
      localStorage.setItem(k, String(count));
      if (count === 1) localStorage.setItem(`${key}:distinct`, String(num(`${key}:distinct`) + 1));
      localStorage.setItem(`${key}:total`, String(num(`${key}:total`) + 1));
    });
    c.on("connect", () => st.connects++);
    c.on("error", (e) => st.errors.push(e.code));
    if (!localStorage.getItem(`${key}:subscribed`)) {
      const granted = await c.subscribe(topic, { qos: 2 });
      localStorage.setItem(`${key}:subscribed`, "1");
      return { granted };
    }
    await t.once(c, "connect", 10000);
    return { granted: null };
  },

  /** The receiver's counts: [count of 1, count of 2, ...] and the "end" marker count. */
  received(key, total) {
    const counts = [];
    for (let n = 1; n <= total; n++) counts.push(num(`${key}:n:${n}`));
    return { counts, end: num(`${key}:n:end`), distinct: num(`${key}:distinct`) };
  },

  /**
   * Records in an object store of the session database (which the client must have opened); in
   * "messages", the messages: a value there is a chunk of several (src/store/record.rs: format
   * byte 2, then seq (8 bytes), length (4 bytes) and record per message) or, as the first
   * releases wrote, an object holding one.
   */
  dbCount(url, clientId, store = "messages") {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(`wasmqtt:${url}:${clientId}`);
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        const db = req.result;
        try {
          const os = db.transaction(store, "readonly").objectStore(store);
          const r = store === "messages" ? os.getAll() : os.count();
          r.onsuccess = () => {
            db.close();
            resolve(store === "messages" ? r.result.reduce((n, v) => n + messagesIn(v), 0) : r.result);
          };
          r.onerror = () => {
            db.close();
            reject(r.error);
          };
        } catch (e) {
          db.close();
          reject(e);
        }
      };
    });
  },

  /** QoS 1 publish throughput: `count` messages of `size` bytes, `window` outstanding (0: all at once). */
  async throughput({ url, persistence, count, size, window: win, protocolVersion = 5 }) {
    const clientId = `tp-${persistence}-${Math.random().toString(16).slice(2, 10)}`;
    const c = await wasmqtt.connect(url, { clientId, clean: false, persistence, protocolVersion, maxQueued: count + 10 });
    const topic = `wasmqtt-test/tp/${clientId}`;
    const payload = new Uint8Array(size).fill(97);
    const started = performance.now();
    if (!win) {
      const all = [];
      for (let i = 0; i < count; i++) all.push(c.publish(topic, payload, { qos: 1 }));
      await Promise.all(all);
    } else {
      let inFlight = 0;
      let sent = 0;
      await new Promise((resolve, reject) => {
        const more = () => {
          while (inFlight < win && sent < count) {
            inFlight++;
            sent++;
            c.publish(topic, payload, { qos: 1 }).then(() => {
              inFlight--;
              if (sent === count && inFlight === 0) resolve();
              else more();
            }, reject);
          }
        };
        more();
      });
    }
    const ms = performance.now() - started;
    await c.end();
    return { persistence, count, size, window: win, ms, perSecond: (count / ms) * 1000 };
  },
};

try {
  await init();
  window.wasmqtt = wasmqtt;
  window.t = t;
  window.d = d;
  window.ready = { ok: true };
} catch (e) {
  window.ready = { ok: false, error: String(e) };
}
