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
  // Once: the request also rejects after the lock was held (stolen, say).
  let told = false;
  const tell = (v) => {
    if (!told) {
      told = true;
      done(v);
    }
  };
  locks
    .request(name, { ifAvailable: !wait }, (lock) => {
      if (!lock) return tell(null);
      return new Promise((release) => tell(release));
    })
    .catch(() => tell(undefined));
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
  // A grown memory has a new buffer; views of the old one, detached, have length 0. (Reading
  // `memory.buffer` each time cost about 0.5 us per message in a profile.)
  if (memoryBytes.length === 0) memoryBytes = new Uint8Array(memory.buffer);
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
// One binary frame of the `len` bytes at `at`, in one call. send() copies what it is given, so
// frames up to 64 KB go through one reused buffer: measured per call in Chromium (one send per
// task), a fresh copy (slice) cost 3-7 us more, and a view of a large wasm memory was slower
// too. A socket still connecting or already closed throws; such bytes are dropped, as the
// session sends only on an open socket and a close event follows otherwise.
const sendBuffer = new Uint8Array(1 << 16);
export function sendBytes(ws, at, len) {
  const src = wasmBytes().subarray(at, at + len);
  try {
    if (len > sendBuffer.length) ws.send(src.slice());
    else {
      sendBuffer.set(src);
      ws.send(sendBuffer.subarray(0, len));
    }
  } catch {}
}

// A socket's events to the wasm through one function, onEvent(len, code): code -4 the socket
// opened, -3 it closed, -1 asks for room for a frame of len bytes (returns its address, kept
// until a larger frame comes), a time (Date.now(), >= 0) hands over the frame of len bytes
// copied there, -2 says a burst is through (below; len: how many frames were held). Reading
// the event and copying here spares the wasm several calls per frame.
//
// Handling a frame returns bits: 1 when the client answers it and wants to be told (code -2)
// once the frames already queued behind it are handled, in a task posted now (it then sends the
// answers of the whole burst in one frame: mosquitto sends one packet per frame); 2 when the
// frames arriving until then are to be held and handed over in one go just before: one by one,
// each would find the wasm's code and data evicted by the browser's work since the previous one.
// Held frames are frames not yet handled, as if still queued in the browser: the close is told
// after them, and a socket detached (its handlers cleared) drops them.
const BATCH = 1 << 16;
const BATCH_FRAMES = 16; // codec/decode.rs's SPARES
export function onSocket(ws, onEvent) {
  let at = 0;
  let room = 0;
  let held = null; // frames waiting for the burst's end, or null while frames pass through
  const attached = () => ws.onmessage === onMessage;
  // The address of room for len bytes in the wasm's memory.
  const roomFor = (len) => {
    if (len > room) {
      at = onEvent(len, -1);
      room = len;
    }
    return at;
  };
  const handed = (len) => {
    const r = onEvent(len, Date.now());
    if (r & 1) postTask(burstEnd);
    if (r & 2 && held === null) held = [];
  };
  const handle = (data) => {
    const len = data.byteLength;
    const to = roomFor(len); // first: making room may grow the memory
    wasmBytes().set(new Uint8Array(data), to);
    handed(len);
  };
  // The held frames to the wasm (while it is in a burst, as their answers join its flush),
  // joined into frames of up to BATCH bytes (a larger one alone) and BATCH_FRAMES frames: MQTT's
  // bytes are a stream, so where the frames were split does not matter to the wasm, and each
  // handling has a cost of its own (1,000 held 64-byte PUBLISH frames: 2.3 ms one by one, 1.8 ms
  // joined by 16). The wasm decodes a frame's PUBLISHes before delivering them, into 16 spare
  // allocations: beyond those, each message would allocate anew (1.9 ms joined by 64 KB).
  const handOver = () => {
    const frames = held;
    let i = 0;
    while (frames !== null && i < frames.length && attached()) {
      let len = 0;
      let n = i;
      do len += frames[n++].byteLength;
      while (n < frames.length && n - i < BATCH_FRAMES && len + frames[n].byteLength <= BATCH);
      let o = roomFor(len);
      const m = wasmBytes();
      for (; i < n; o += frames[i++].byteLength) m.set(new Uint8Array(frames[i]), o);
      handed(len);
    }
    held = null;
  };
  const burstEnd = () => {
    const n = held === null ? 0 : held.length;
    handOver();
    if (attached()) onEvent(n, -2);
  };
  function onMessage(e) {
    const data = e.data; // a getter into the browser: read once
    if (data instanceof ArrayBuffer) {
      if (held !== null) held.push(data);
      else handle(data);
    }
  }
  ws.onopen = () => onEvent(0, -4);
  ws.onmessage = onMessage;
  ws.onclose = () => {
    handOver();
    if (attached()) onEvent(0, -3);
  };
}

// Runs f in a microtask, as a reaction to a settled promise: Blink's queueMicrotask cost
// 1.6-2.7 us a call in a chain of them here, a promise reaction 0.1 us. (f must not throw: its
// exception would be an unhandled rejection instead of an error event.)
const settled = Promise.resolve();
export function microtask(f) {
  settled.then(f);
}

// Runs f in a task of its own, after the tasks already queued (a MessageChannel post: a
// setTimeout(0) chain is clamped to 4 ms). One channel for all: tasks run in posting order.
const tasks = [];
let taskPort = null;
function postTask(f) {
  if (taskPort === null) {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => tasks.shift()();
    taskPort = channel.port2;
  }
  tasks.push(f);
  taskPort.postMessage(null);
}

// A request's `qos` option: 0 when absent; throws an MqttError (InvalidQos) for anything but
// 0, 1 or 2.
const qosOption = (o) => {
  const q = isObj(o) ? o.qos : undefined;
  if (q === undefined || q === 0 || q === 1 || q === 2) return q | 0;
  throw new MqttError("InvalidQos", "qos must be 0, 1 or 2");
};

// publish()'s three arguments read in one call (from Rust, the type checks, the string, the
// payload's length and copy and each option each cost a call). The topic's and the payload's
// bytes wait here for takePublish. Returns qos | retain << 2 | (properties given) << 3 | topic
// length << 4 | payload length * 2^21 (exact: 49 bits); or -1 for a topic that is not a string
// or longer than MQTT allows, a payload of the wrong type, a bad qos, or a payload that cannot
// fit in a packet of `max` bytes (counting no topic: an alias may replace it), so that a huge
// payload is refused before it is copied into the wasm memory (`max` is at most 268435455: the
// payload's length fits its 28 bits); its MqttError then waits for argError(). (Returned, not
// thrown: a throwing import costs a wrapper function and an `arguments` object per call.)
// The last topic's bytes are kept: a dashboard publishes to few topics.
const NO_BYTES = new Uint8Array(0);
let lastTopic = "";
let topicBytes = NO_BYTES;
let payloadBytes = NO_BYTES;
let argFailure;
export function publishArgs(topic, payload, o, max) {
  try {
    if (typeof topic !== "string") throw new MqttError("InvalidTopic", "topic must be a string");
    const p = bytes(payload);
    if (p === null) throw new MqttError("InvalidOptions", "payload must be a string or Uint8Array");
    const qos = qosOption(o);
    // Remaining length: topic length field, packet id, payload; then its varint and the first byte.
    const rest = 2 + (qos > 0 ? 2 : 0) + p.length;
    const size = 2 + rest + (rest > 127) + (rest > 16383) + (rest > 2097151);
    if (size > max) {
      throw new MqttError("PacketTooLarge", `packet of at least ${size} bytes exceeds maximum packet size ${max}`);
    }
    const flags = isObj(o) ? qos | (o.retain === true ? 4 : 0) | (o.properties !== undefined ? 8 : 0) : qos;
    if (topic !== lastTopic) {
      const t = utf8.encode(topic);
      if (t.length > 65535) throw new MqttError("InvalidTopic", "invalid topic: topic longer than 65535 bytes");
      topicBytes = t;
      lastTopic = topic;
    }
    payloadBytes = p;
    return flags + topicBytes.length * 16 + p.length * 2097152;
  } catch (e) {
    argFailure = e;
    return -1;
  }
}
// The MqttError of the last publishArgs that returned -1.
export function argError() {
  const e = argFailure;
  argFailure = undefined;
  return e;
}
// Copies the bytes publishArgs read to `topicAt` and `payloadAt`.
export function takePublish(topicAt, payloadAt) {
  const m = wasmBytes();
  m.set(topicBytes, topicAt);
  m.set(payloadBytes, payloadAt);
  payloadBytes = NO_BYTES;
}

// The `packet` argument of a `message` listener and the `connack` value, built in one call each:
// from Rust, each field set would cost a call and a key string. `props`: the property block the
// wasm encoded, or undefined.
const withProps = (o, props) => {
  if (props !== undefined) o.properties = propObject(props);
  return o;
};
// A received payload's copy. From 65 bytes to 1 KB, a view of its own bytes in a shared 8 KB
// buffer, as Node's Buffer pools small allocations: V8 makes typed arrays of up to 64 bytes in
// its heap, larger ones cost an ArrayBuffer each.
let pool = new Uint8Array(0);
let pooled = 0;
function payloadCopy(at, len) {
  if (len <= 64 || len > 1024) return bytesOut(at, len);
  if (pooled + len > pool.length) {
    pool = new Uint8Array(8192);
    pooled = 0;
  }
  const copy = pool.subarray(pooled, (pooled += len));
  copy.set(wasmBytes().subarray(at, at + len));
  return copy;
}
// A received message to the `message` listeners (EVENTS[6]) in one call from the wasm: the
// payload (`len` bytes at `at`, copied out before any listener runs) and the packet object
// (bits: qos | retain << 2 | dup << 3) are made here.
export function emitMessage(map, topic, at, len, bits, props) {
  const payload = payloadCopy(at, len);
  emit(map, 6, 3, topic, payload, withProps({ qos: bits & 3, retain: (bits & 4) > 0, dup: (bits & 8) > 0 }, props));
}
export function connackInfo(sessionPresent, reasonCode, props) {
  return withProps({ sessionPresent, reasonCode }, props);
}

// Promises the wasm settles by number: making one costs one call, where
// `new Promise` driven from Rust costs a closure and two function handles. The wasm makes a
// promise after the call it answers, so it may have been settled already (a QoS 0 publish sent
// at once): then its outcome waits here, and it is made settled.
const settlers = new Map();
// The last outcome that came first, kept apart from the table: it is nearly always the promise
// made next (the map's set, get and delete and an entry's array cost about 0.5 us a publish).
// -1: none (ids are u32).
let earlyId = -1;
let earlyHow = 0;
let earlyValue;

export function promiseNew(id) {
  let how, value;
  if (earlyId === id) {
    earlyId = -1;
    how = earlyHow;
    value = earlyValue;
    earlyValue = undefined;
  } else {
    const early = settlers.get(id);
    if (early === undefined) return new Promise((resolve, reject) => settlers.set(id, [resolve, reject]));
    settlers.delete(id);
    [how, value] = early;
  }
  return how === 0 ? Promise.resolve(value) : how === 1 ? Promise.reject(value) : new Promise(() => {});
}

// how: 0 resolves, 1 rejects, 2 forgets (the promise stays pending). Each id is settled once.
export function promiseSettle(id, how, value) {
  const s = settlers.get(id);
  if (s === undefined) {
    if (earlyId < 0) {
      earlyId = id;
      earlyHow = how;
      earlyValue = value;
    } else settlers.set(id, [how, value]);
    return;
  }
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

// globalThis.localStorage, or null where there is none (workers) or it is denied (reading it
// throws for opaque origins).
export function localStorageIfAny() {
  try {
    return globalThis.localStorage || null;
  } catch (_) {
    return null;
  }
}

// The incoming QoS 2 ids stored under `key` as "id,id,...": the valid ones (1-65535), or
// undefined when there is no item.
export function journalIds(storage, key) {
  const v = storageGet(storage, key);
  return v === null ? undefined : v.split(",").filter((s) => /^\d+$/.test(s) && s > 0 && s < 65536).map(Number);
}

// storage.getItem, null where it throws (a storage denied after it was opened): a journal that
// cannot be read leaves IndexedDB as the record.
const storageGet = (storage, key) => {
  try {
    return storage.getItem(key);
  } catch (_) {
    return null;
  }
};

// The outgoing journal's items under `prefix` (see src/store/journal.rs), read for a resume:
// [the number after the last item, the items' keys, then per record its seq and its bytes], the
// items oldest first. An item holds records `seq,length,` + `length` characters of code points
// 0-255 (the bytes); a record that does not parse ends its item.
export function journalLoad(storage, prefix) {
  const items = [];
  for (let i = 0; i < storage.length; i++) {
    const k = storage.key(i);
    const n = k !== null && k.startsWith(prefix) ? k.slice(prefix.length) : "";
    if (/^\d+$/.test(n)) items.push([+n, k]);
  }
  items.sort((a, b) => a[0] - b[0]);
  const out = [items.length ? items[items.length - 1][0] + 1 : 0, items.map((x) => x[1])];
  for (const [, k] of items) {
    const v = storageGet(storage, k) || "";
    const head = /(\d+),(\d+),/y;
    for (let m; (m = head.exec(v)); ) {
      const len = +m[2];
      const text = v.substr(head.lastIndex, len);
      if (text.length !== len || /[^\0-\xff]/.test(text)) break;
      out.push(+m[1], Uint8Array.from(text, (c) => c.charCodeAt(0)));
      head.lastIndex += len;
    }
  }
  return out;
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

// Adds `f` to `event`, or removes its first registration; returns which EVENTS have listeners
// now (bit i: EVENTS[i]), so that the wasm makes no call for an event no one listens to.
export function listen(map, event, f, add) {
  const l = map.get(event) || [];
  const i = add ? -1 : l.indexOf(f);
  if (add) map.set(event, l.concat([f]));
  else if (i >= 0) map.set(event, l.slice(0, i).concat(l.slice(i + 1)));
  return EVENTS.reduce((bits, e, i) => (map.get(e)?.length ? bits | (1 << i) : bits), 0);
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

// MQTT 5 properties cross to and from the wasm as the wire-format property block (length, then
// identifier / value pairs), which the wasm's codec reads and writes anyway: building or reading
// the MQTT.js-style objects from Rust cost an import call and a key string per field.
//
// By identifier: [MQTT.js name, type, where, min, max]. type: 0 byte (a number), 1 byte (a
// boolean, set as a boolean or 0 / 1), 2 two-byte integer, 4 four-byte integer, 5 variable byte
// integer, 6 UTF-8 string, 7 binary data. where: the bits of the requests an application may set
// it in (1 CONNECT, 2 will, 4 PUBLISH, 8 SUBSCRIBE, 16 UNSUBSCRIBE; user properties: all); none
// for those only a broker sends. min: 0 unless given; max: the type's unless given.
const MAXV = 268435455;
const MAXU32 = 4294967295;
const PROPS = {
  1: ["payloadFormatIndicator", 1, 6],
  2: ["messageExpiryInterval", 4, 6],
  3: ["contentType", 6, 6],
  8: ["responseTopic", 6, 6],
  9: ["correlationData", 7, 6],
  11: ["subscriptionIdentifier", 5, 12, 1],
  17: ["sessionExpiryInterval", 4, 1],
  18: ["assignedClientIdentifier", 6],
  19: ["serverKeepAlive", 2],
  21: ["authenticationMethod", 6, 1],
  22: ["authenticationData", 7, 1],
  23: ["requestProblemInformation", 1, 1],
  24: ["willDelayInterval", 4, 2],
  25: ["requestResponseInformation", 1, 1],
  26: ["responseInformation", 6],
  28: ["serverReference", 6],
  31: ["reasonString", 6],
  33: ["receiveMaximum", 2, 1, 1],
  34: ["topicAliasMaximum", 2, 1],
  35: ["topicAlias", 2, 4, 1],
  36: ["maximumQoS", 0],
  37: ["retainAvailable", 1],
  39: ["maximumPacketSize", 4, 1, 1, MAXV],
  40: ["wildcardSubscriptionAvailable", 1],
  41: ["subscriptionIdentifiersAvailable", 1],
  42: ["sharedSubscriptionAvailable", 1],
};
const USER_PROPERTY = 38;
const utf8 = new TextEncoder();
const isObj = (v) => v !== null && typeof v === "object";
const isInt = (v, min, max) => Number.isInteger(v) && v >= min && v <= max;
// A string (as UTF-8) or bytes as a Uint8Array; null or undefined as empty; anything else null.
const bytes = (v) =>
  typeof v === "string"
    ? utf8.encode(v)
    : v instanceof Uint8Array
      ? v
      : v instanceof ArrayBuffer
        ? new Uint8Array(v)
        : v == null
          ? new Uint8Array(0)
          : null;
const varint = (out, n) => {
  do out.push(n > 127 ? (n & 127) | 128 : n);
  while ((n >>>= 7));
};

// The property block of the MQTT.js-style object `p` (undefined or null: none) for the request
// `where`. Throws `pre` and the message naming what is wrong.
function propBlock(p, where, pre) {
  const out = [];
  const num = (n, size) => {
    while (size--) out.push((n >>> (size * 8)) & 255);
  };
  const bin = (b) => {
    if (b === null || b.length > 65535) throw 0;
    num(b.length, 2);
    for (const x of b) out.push(x);
  };
  const str = (s) => {
    if (typeof s !== "string" || s.includes("\0")) throw 0;
    bin(utf8.encode(s));
  };
  if (p != null && !isObj(p)) throw pre + "properties must be an object";
  for (const k of p == null ? [] : Object.keys(p)) {
    const v = p[k];
    const id = Object.keys(PROPS).find((i) => PROPS[i][0] === k && PROPS[i][2] & where);
    if (k !== "userProperties" && id === undefined) {
      throw pre + "unknown or misplaced property `" + k + "`";
    }
    try {
      if (id === undefined) {
        if (!isObj(v)) throw 0;
        for (const name of Object.keys(v)) {
          for (const x of [].concat(v[name])) {
            out.push(USER_PROPERTY);
            str(name);
            str(x);
          }
        }
      } else {
        const [, type, , min = 0, max = [0, 1, 65535, 0, MAXU32, MAXV][type]] = PROPS[id];
        out.push(+id);
        if (type === 6) str(v);
        else if (type === 7) bin(bytes(v));
        else {
          const n = type === 1 && typeof v === "boolean" ? +v : v;
          if (!isInt(n, min, max)) throw 0;
          if (type === 5) varint(out, n);
          else num(n, type === 1 ? 1 : type);
        }
      }
    } catch {
      throw pre + "property `" + k + "` has an invalid value";
    }
  }
  const block = [];
  varint(block, out.length);
  return new Uint8Array(block.concat(out));
}

// The MQTT.js-style object of a property block the wasm encoded: a property given more than once
// (subscription identifiers, a repeated user property name) becomes an array of its values.
function propObject(b) {
  const o = {};
  const user = {};
  let i = 0;
  const num = (size) => {
    let n = 0;
    while (size--) n = n * 256 + b[i++];
    return n;
  };
  const vint = () => {
    let n = 0;
    for (let m = 1, x = 128; x & 128; m *= 128) n += ((x = b[i++]) & 127) * m;
    return n;
  };
  const bin = () => {
    const n = num(2);
    return b.slice(i, (i += n));
  };
  const str = () => utf8d.decode(bin());
  const add = (to, k, v) => {
    to[k] = Object.prototype.hasOwnProperty.call(to, k) ? [].concat(to[k], v) : v;
  };
  vint();
  while (i < b.length) {
    const id = b[i++];
    if (id === USER_PROPERTY) {
      add(user, str(), str());
      continue;
    }
    const e = PROPS[id];
    if (e === undefined) break;
    const t = e[1];
    add(o, e[0], t < 2 ? (t ? b[i++] === 1 : b[i++]) : t === 5 ? vint() : t === 6 ? str() : t === 7 ? bin() : num(t));
  }
  if (Object.keys(user).length) o.userProperties = user;
  return o;
}
const utf8d = new TextDecoder();

// Bad options throw a string naming the option; the wasm gets an MqttError (InvalidOptions).
const invalidOptions = (f) => {
  try {
    return f();
  } catch (e) {
    throw typeof e === "string" ? new MqttError("InvalidOptions", e) : e;
  }
};

// The property block of a request's options (`o.properties`) for `where` (see PROPS); throws an
// MqttError.
export function requestProps(o, where) {
  return invalidOptions(() => propBlock(isObj(o) ? o.properties : undefined, where, ""));
}

// subscribe()'s options as qos | nl << 2 | rap << 3 | rh << 4; throws an MqttError.
export function subscribeOptions(o) {
  const qos = qosOption(o);
  const get = (k) => (isObj(o) ? o[k] : undefined);
  const rh = get("rh");
  if (rh !== undefined && ![0, 1, 2].includes(rh)) throw new MqttError("InvalidOptions", "option `rh` must be 0, 1 or 2");
  return qos | ((get("nl") === true) << 2) | ((get("rap") === true) << 3) | (rh << 4);
}

const KNOWN = [
  "clientId",
  "protocolVersion",
  "clean",
  "sessionExpiryInterval",
  "keepalive",
  "username",
  "password",
  "will",
  "connectTimeout",
  "reconnect",
  "resubscribe",
  "persistence",
  "maxInflight",
  "maxQueued",
  "maxPacketSize",
  "properties",
  "lock",
];

// connect()'s options (shared/api.md) checked, with defaults, in one call. Returns [protocol
// version, clean, keepalive, connectTimeout, resubscribe, maxInflight (0: none), maxQueued,
// maxPacketSize, reconnect (0: off), initialDelay, maxDelay, jitter, persistence (0 memory,
// 1 indexeddb, 2 auto), lock (1: wait), will qos, will retain] (numbers), then client id,
// username, password (Uint8Array), CONNECT property block, will topic (undefined: no will), will
// payload (Uint8Array), will property block. Throws an MqttError (InvalidOptions) naming the
// option. The will topic's rules are checked in the wasm (its codec knows them).
export function parseOptions(o) {
  return invalidOptions(() => {
    if (o == null) o = {};
    if (!isObj(o)) throw "options must be an object";
    for (const k of Object.keys(o)) {
      if (!KNOWN.includes(k)) throw "unknown option `" + k + "`";
    }
    const bad = (k, what) => {
      throw "option `" + k + "` must be " + what;
    };
    const typed = (k, type, dflt) => {
      const v = o[k];
      if (v === undefined) return dflt;
      if (typeof v !== type) bad(k, "a " + type);
      return v;
    };
    const int = (k, min, max, dflt) => {
      const v = o[k];
      if (v === undefined) return dflt;
      if (!isInt(v, min, max)) bad(k, "an integer from " + min + " to " + max);
      return v;
    };
    const v5 = int("protocolVersion", 4, 5, 4) === 5;
    const clean = typed("clean", "boolean", true);
    let id = typed("clientId", "string");
    if (!clean && !id) bad("clientId", "a non-empty string when `clean` is false");
    if (id === undefined) {
      id = "wasmqtt_" + ((Math.random() * MAXU32) >>> 0).toString(16).padStart(8, "0");
    }
    const keepalive = int("keepalive", 0, 65535, 60);
    const username = typed("username", "string");
    let password = o.password;
    if (password !== undefined) {
      if (typeof password !== "string" && !(password instanceof Uint8Array)) {
        bad("password", "a string or Uint8Array");
      }
      password = bytes(password);
    }
    const will = o.will;
    let wt, wp, wq, wr, wb;
    if (will !== undefined) {
      if (!isObj(will)) bad("will", "an object");
      for (const k of Object.keys(will)) {
        if (!["topic", "payload", "qos", "retain", "properties"].includes(k)) {
          throw "unknown option `will." + k + "`";
        }
      }
      wt = will.topic;
      if (typeof wt !== "string") bad("will.topic", "a string");
      wp = bytes(will.payload);
      if (wp === null) bad("will.payload", "a string or Uint8Array");
      wq = will.qos;
      if (wq !== undefined && ![0, 1, 2].includes(wq)) bad("will.qos", "0, 1 or 2");
      wr = will.retain;
      if (wr !== undefined && typeof wr !== "boolean") bad("will.retain", "a boolean");
      if (v5) wb = propBlock(will.properties, 2, "option `will.properties`: ");
    }
    const connectTimeout = int("connectTimeout", 1, MAXU32, 30000);
    const resubscribe = typed("resubscribe", "boolean", true);
    const maxInflight = int("maxInflight", 1, 65535, 0);
    const maxQueued = int("maxQueued", 0, MAXU32, 10000);
    const maxPacketSize = int("maxPacketSize", 16, MAXV, MAXV);
    const props = o.properties;
    const pre = "option `properties`: ";
    let block;
    if (v5) {
      block = propBlock(props, 1, pre);
      const expiry = o.sessionExpiryInterval;
      if (expiry !== undefined) {
        if (!isInt(expiry, 0, MAXU32)) bad("sessionExpiryInterval", "an integer");
        block = propBlock({ ...props, sessionExpiryInterval: expiry }, 1, pre);
      }
    } else if (props !== undefined) {
      throw "option `properties` needs protocolVersion 5";
    }
    const r = o.reconnect;
    const reconnect = [1, 1000, 30000, 0.5];
    if (r === false) reconnect[0] = 0;
    else if (isObj(r)) {
      for (const k of Object.keys(r)) {
        const i = ["initialDelay", "maxDelay", "jitter"].indexOf(k) + 1;
        if (!i) throw "unknown option `reconnect." + k + "`";
        const v = r[k];
        if (i < 3 ? !isInt(v, 0, MAXU32) : !(typeof v === "number" && v >= 0 && v <= 1)) {
          throw "option `reconnect." + k + "` is out of range";
        }
        reconnect[i] = v;
      }
      if (reconnect[2] < reconnect[1]) bad("reconnect.maxDelay", "at least `initialDelay`");
    } else if (r !== undefined && r !== true) {
      bad("reconnect", "false or { initialDelay, maxDelay, jitter }");
    }
    const p = o.persistence;
    const persistence = p === undefined ? +!clean : ["memory", "indexeddb", "auto"].indexOf(p);
    if (persistence < 0) bad("persistence", '"indexeddb", "memory" or "auto"');
    const lock = o.lock === undefined ? 1 : ["fail", "wait"].indexOf(o.lock);
    if (lock < 0) bad("lock", '"wait" or "fail"');
    return [
      v5 ? 5 : 4,
      +clean,
      keepalive,
      connectTimeout,
      +resubscribe,
      maxInflight,
      maxQueued,
      maxPacketSize,
      ...reconnect,
      persistence,
      lock,
      wq | 0,
      +(wr === true),
      id,
      username,
      password,
      block,
      wt,
      wp,
      wb,
    ];
  });
}
