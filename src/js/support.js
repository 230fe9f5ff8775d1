// The few pieces of wasmqtt written in JavaScript: one snippet file, so a
// page fetches one extra module, not one per piece.

// The error class of every wasmqtt rejection and `error` event.
export class MqttError extends Error {
  constructor(code, message, reasonCode) {
    super(message);
    this.name = "MqttError";
    this.code = code;
    if (reasonCode !== undefined && reasonCode !== null) this.reasonCode = reasonCode;
  }
}

// Web Locks: one tab or worker at a time holds a (URL, client id) session.
// Calls done(release) once the lock is held, done(null) when `wait` is false
// and another holder has it, done(undefined) when locking failed. Without the
// Web Locks API, done gets a no-op release.
export function acquireLock(name, wait, done) {
  const locks = globalThis.navigator && globalThis.navigator.locks;
  if (!locks) return done(() => {});
  locks
    .request(name, { ifAvailable: !wait }, (lock) => {
      if (!lock) return done(null);
      return new Promise(done);
    })
    .catch(() => done(undefined));
}

// The session store in IndexedDB: the database, its transactions and requests
// are driven from here (the wasm sees the store's contents and, per write, one
// call per operation): from Rust, every IndexedDB call and event handler cost
// an import, a closure or a future.
const STORES = ["messages", "states", "incoming", "subscriptions"];
const errorText = (e) => (e && (e.message || e.name)) || String(e || "unknown error");

// Opens (creating or upgrading) database `name` and reads it whole. Calls
// done(db, reads): reads are the keys and values of "messages", the keys and
// values of "states", the keys of "incoming", and per subscription its filter
// and qos | nl << 2 | rap << 3 | rh << 4. On failure done(null, kind, message),
// kind 0: no IndexedDB here, 1: open or upgrade failed, 2: the read failed.
export function idbOpen(name, done) {
  const factory = globalThis.indexedDB;
  if (!factory) return done(null, 0, "indexedDB is not available here");
  let request, blocked, failed;
  try {
    request = factory.open(name, 1);
  } catch (e) {
    return done(null, 1, errorText(e));
  }
  request.onupgradeneeded = (e) => {
    try {
      if (e.oldVersion < 1) for (const s of STORES) request.result.createObjectStore(s);
    } catch (err) {
      failed = "upgrade failed: " + errorText(err);
    }
  };
  request.onblocked = () => (blocked = 1);
  request.onerror = () =>
    done(null, 1, failed || (blocked ? "upgrade blocked by another tab holding the database" : errorText(request.error)));
  request.onsuccess = () => {
    const db = request.result;
    if (failed) {
      db.close();
      return done(null, 1, failed);
    }
    // Another tab upgrading the schema: step aside rather than block it.
    db.onversionchange = () => db.close();
    const fail = (e) => {
      db.close();
      done(null, 2, errorText(e));
    };
    try {
      const tx = db.transaction(STORES, "readonly");
      const reads = [];
      for (const s of STORES) {
        const store = tx.objectStore(s);
        reads.push(store.getAllKeys(), store.getAll());
      }
      tx.onabort = () => fail(tx.error);
      tx.oncomplete = () => {
        const r = reads.map((q) => q.result);
        const subs = r.pop();
        r[6] = subs.map((v) => v.filter);
        r[7] = subs.map((v) => (v.qos & 3) | (v.nl ? 4 : 0) | (v.rap ? 8 : 0) | ((v.rh & 3) << 4));
        done(db, r);
      };
    } catch (e) {
      fail(e);
    }
  };
}

// A readwrite transaction over every store, or the error text when none can be
// made. Its end calls onComplete() or onAbort(why).
export function idbBegin(db, onComplete, onAbort) {
  try {
    const tx = db.transaction(STORES, "readwrite");
    tx.oncomplete = onComplete;
    // Chromium's QuotaExceededError has an empty message: keep the name.
    tx.onabort = () => onAbort(tx.error ? tx.error.name + ": " + tx.error.message : "transaction aborted");
    return tx;
  } catch (e) {
    return errorText(e);
  }
}

// One operation in `tx` on STORES[store]: op 0 puts `value` under `key`, 1
// deletes `key` (through `last` when given), 2 clears, 3 aborts (`value`: why). A failing operation
// aborts the transaction, whose onabort then reports it.
export function idbOp(tx, op, store, key, value, last) {
  if (tx.failed !== undefined) return;
  try {
    const s = tx.objectStore(STORES[store]);
    if (op === 0) s.put(value, key);
    else if (op === 1) s.delete(last === undefined ? key : IDBKeyRange.bound(key, last));
    else if (op === 2) s.clear();
    else throw value;
  } catch (e) {
    tx.failed = errorText(e);
    try {
      tx.abort();
      tx.failed = "";
    } catch (_) {}
  }
}

// Puts a subscription, stored as { filter, qos, nl, rap, rh }, or deletes it.
export function idbSubscription(tx, filter, put, qos, nl, rap, rh) {
  idbOp(tx, put ? 0 : 1, 3, filter, { filter, qos, nl, rap, rh });
}

// Commits `tx` (without commit() a write issued just before a reload is often
// lost). Returns the error text when an operation failed and the transaction
// could not even be aborted (then no outcome will be reported).
export function idbCommit(tx) {
  if (tx.failed === undefined) {
    try {
      if (tx.commit) tx.commit();
    } catch (_) {}
  }
  return tx.failed || undefined;
}

// Bytes between JS and the wasm memory, one call and one allocation each (wasm-bindgen's own
// slice passing makes a view of the memory per call, and a copy out is a second array).
let memory = null;
let memoryBytes = new Uint8Array(0);
const wasmBytes = () => {
  // A grown memory has a new buffer (the old one is detached).
  if (memoryBytes.buffer !== memory.buffer) memoryBytes = new Uint8Array(memory.buffer);
  return memoryBytes;
};
export function useMemory(m) {
  memory = m;
}
export function bytesIn(src, at, len) {
  wasmBytes().set(src.length > len ? src.subarray(0, len) : src, at);
}
export function bytesOut(at, len) {
  return wasmBytes().slice(at, at + len);
}

// A socket's binary frames as onFrame(bytes, length, Date.now()): reading the event here
// spares the wasm several calls per frame.
export function onFrames(ws, onFrame) {
  ws.onmessage = (e) => {
    if (e.data instanceof ArrayBuffer) {
      const b = new Uint8Array(e.data);
      onFrame(b, b.length, Date.now());
    }
  };
}

// publish()'s options read in one call, as qos | retain << 2 | (properties given) << 3, where
// qos 3 stands for anything but 0, 1, 2 or absent (an error). Reading them from Rust took a call
// per option and per check.
export function publishOptions(o) {
  if (o === null || typeof o !== "object") return 0;
  const q = o.qos;
  const qos = q === undefined ? 0 : q === 0 || q === 1 || q === 2 ? q : 3;
  return qos | (o.retain === true ? 4 : 0) | (o.properties !== undefined ? 8 : 0);
}

// The `packet` argument of a `message` listener, built in one call: from
// Rust, each property set would cost a call and a key string.
export function packetInfo(qos, retain, dup, properties) {
  const p = { qos, retain, dup };
  if (properties !== undefined) p.properties = properties;
  return p;
}

// Promises the wasm settles by number: making one costs one call, where
// `new Promise` driven from Rust costs a closure and two function handles.
const settlers = new Map();

export function promiseNew(id) {
  return new Promise((resolve, reject) => settlers.set(id, [resolve, reject]));
}

// how: 0 resolves, 1 rejects, 2 forgets (the promise stays pending).
export function promiseSettle(id, how, value) {
  const s = settlers.get(id);
  if (s === undefined) return;
  settlers.delete(id);
  if (how < 2) s[how](value);
}

// One entry of `client.outbox()`, built in one call.
export function outboxEntry(id, topic, qos, retain, packetId, state, attempts, createdAt) {
  return { id, topic, qos, retain, packetId, state, attempts, createdAt };
}

// localStorage.setItem of bytes as a Latin-1 string (each byte one character): the journal's
// records are bytes, and decoding them as UTF-8 on the way out of the wasm cost more than
// building the string here.
export function setItemLatin1(storage, key, bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  }
  storage.setItem(key, s);
}

// Page lifecycle for the journal: calls onChange(hidden) when the page is being
// left or frozen (pagehide, freeze: hidden = true) and when it becomes hidden or
// visible (visibilitychange). Returns a function that stops watching, or null
// where there is no document (workers).
export function watchPage(onChange) {
  const doc = globalThis.document;
  if (!doc || !globalThis.addEventListener) return null;
  const hide = () => onChange(true);
  const vis = () => onChange(doc.visibilityState !== "visible");
  globalThis.addEventListener("pagehide", hide);
  doc.addEventListener("freeze", hide);
  doc.addEventListener("visibilitychange", vis);
  vis();
  return () => {
    globalThis.removeEventListener("pagehide", hide);
    doc.removeEventListener("freeze", hide);
    doc.removeEventListener("visibilitychange", vis);
  };
}

// Listeners, kept here (a Map per client: event name -> array): emitting then
// costs the wasm one call and no event-name string. Arrays are replaced, never
// changed in place, so an emit goes through the list as it was when it began
// (a listener may add or remove listeners). EVENTS: the names of mod.rs's
// `Event`, in its order (the wasm passes an event as its index).
const EVENTS = ["connect", "reconnect", "offline", "close", "error", "end", "message", "delivered"];

// Adds `f` to `event`, or removes its first registration; returns how many
// `message` listeners there are now.
export function listen(map, event, f, add) {
  const l = map.get(event) || [];
  const i = add ? -1 : l.indexOf(f);
  if (add) map.set(event, l.concat([f]));
  else if (i >= 0) map.set(event, l.slice(0, i).concat(l.slice(i + 1)));
  return (map.get("message") || []).length;
}

// Calls the listeners of EVENTS[code] with the first n of a, b, c. A throwing
// listener must not stop the client or the other listeners.
export function emit(map, code, n, a, b, c) {
  const l = map.get(EVENTS[code]);
  if (l === undefined) return;
  for (const f of l) {
    try {
      if (n === 0) f();
      else if (n === 1) f(a);
      else f(a, b, c);
    } catch (e) {
      console.error("wasmqtt: listener threw", e);
    }
  }
}
