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
// Resolves with a function that releases the lock, or null when `wait` is
// false and another holder has it. Without the Web Locks API it resolves
// with a no-op release.
export function acquireLock(name, wait) {
  const locks = globalThis.navigator && globalThis.navigator.locks;
  if (!locks) return Promise.resolve(() => {});
  return new Promise((resolve, reject) => {
    locks
      .request(name, { ifAvailable: !wait }, (lock) => {
        if (!lock) {
          resolve(null);
          return undefined;
        }
        return new Promise((release) => resolve(release));
      })
      .catch(reject);
  });
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
