//! The session store in IndexedDB: one database per (broker URL, client
//! id), written with one readwrite transaction per batch of operations
//! (group commit), committed explicitly so a reload right after cannot lose
//! it. Completions are reported in write order (IndexedDB runs readwrite
//! transactions over the same stores in creation order).

use std::cell::RefCell;
use std::mem::ManuallyDrop;
use std::rc::Rc;

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Event, IdbDatabase, IdbFactory, IdbKeyRange, IdbOpenDbRequest, IdbRequest, IdbTransaction,
    IdbTransactionMode, IdbVersionChangeEvent,
};

use crate::codec::text::concat;
use crate::codec::{QoS, RetainHandling, Subscription, SubscriptionOptions};
use crate::session::{PersistOp, SessionState};

use super::record::{
    decode_chunk, decode_message, decode_record, encode_chunk, message_record, state_from_code,
    state_record, RecordHead,
};
use super::{Store, StoreError};

/// Schema version; `upgrade` brings any older database up to it.
const SCHEMA_VERSION: u32 = 1;

const MESSAGES: &str = "messages";
const STATES: &str = "states";
const INCOMING: &str = "incoming";
const SUBSCRIPTIONS: &str = "subscriptions";
const ALL_STORES: [&str; 4] = [MESSAGES, STATES, INCOMING, SUBSCRIPTIONS];

/// How a write ended.
pub(crate) enum WriteOutcome {
    /// Durable.
    Committed,
    /// Aborted (quota, I/O error): nothing of it is durable.
    Failed(StoreError),
}

/// An open session database.
pub(crate) struct IndexedDbStore {
    db: IdbDatabase,
    stores: Array,
    /// What the messages store holds, oldest first.
    chunks: Vec<Chunk>,
    /// The transactions' handlers, never dropped: a transaction still
    /// running when the client ends calls one later, and calling a dropped
    /// closure throws in the page (two small closures per client; they hold
    /// only a weak driver).
    _on_complete: ManuallyDrop<Closure<dyn FnMut(Event)>>,
    _on_abort: ManuallyDrop<Closure<dyn FnMut(Event)>>,
}

/// The database name for a (URL, client id) pair.
pub(crate) fn database_name(url: &str, client_id: &str) -> String {
    concat(&["wasmqtt:", url, ":", client_id])
}

fn js_error(e: &JsValue) -> String {
    Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

/// Resolves with the request's result or rejects with its error.
fn request_done(request: &IdbRequest) -> JsFuture {
    let request = request.clone();
    let promise = Promise::new(&mut |resolve, reject| {
        let r = request.clone();
        let ok = Closure::once_into_js(move |_: Event| {
            let value = r.result().unwrap_or(JsValue::UNDEFINED);
            let _ = resolve.call1(&JsValue::UNDEFINED, &value);
        });
        let r = request.clone();
        let fail = Closure::once_into_js(move |_: Event| {
            let err = r
                .error()
                .ok()
                .flatten()
                .map(JsValue::from)
                .unwrap_or(JsValue::UNDEFINED);
            let _ = reject.call1(&JsValue::UNDEFINED, &err);
        });
        request.set_onsuccess(Some(ok.unchecked_ref()));
        request.set_onerror(Some(fail.unchecked_ref()));
    });
    JsFuture::from(promise)
}

fn factory() -> Result<IdbFactory, StoreError> {
    let global = js_sys::global();
    let value = Reflect::get(&global, &"indexedDB".into()).unwrap_or(JsValue::UNDEFINED);
    if value.is_undefined() || value.is_null() {
        return Err(StoreError::Unavailable(
            "indexedDB is not available here".into(),
        ));
    }
    value
        .dyn_into::<IdbFactory>()
        .map_err(|_| StoreError::Unavailable("indexedDB is not an IDBFactory".into()))
}

/// Creates or migrates the object stores.
fn upgrade(db: &IdbDatabase, old_version: u32) -> Result<(), JsValue> {
    if old_version < 1 {
        for name in ALL_STORES {
            db.create_object_store(name)?;
        }
    }
    Ok(())
}

async fn open_database(name: &str) -> Result<IdbDatabase, StoreError> {
    let request: IdbOpenDbRequest = factory()?
        .open_with_u32(name, SCHEMA_VERSION)
        .map_err(|e| StoreError::Open(js_error(&e)))?;
    let upgrade_failed: Rc<RefCell<Option<String>>> = Rc::default();
    let failed = upgrade_failed.clone();
    let req = request.clone();
    let on_upgrade =
        Closure::<dyn FnMut(IdbVersionChangeEvent)>::new(move |e: IdbVersionChangeEvent| {
            let old = e.old_version() as u32;
            let result = req
                .result()
                .and_then(|db| db.dyn_into::<IdbDatabase>())
                .and_then(|db| upgrade(&db, old));
            if let Err(err) = result {
                *failed.borrow_mut() = Some(js_error(&err));
            }
        });
    request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let blocked: Rc<RefCell<bool>> = Rc::default();
    let b = blocked.clone();
    let on_blocked = Closure::<dyn FnMut(Event)>::new(move |_: Event| *b.borrow_mut() = true);
    request.set_onblocked(Some(on_blocked.as_ref().unchecked_ref()));
    let result = request_done(&request).await;
    request.set_onupgradeneeded(None);
    request.set_onblocked(None);
    if let Some(msg) = upgrade_failed.borrow_mut().take() {
        return Err(StoreError::Open(concat(&["upgrade failed: ", &msg])));
    }
    let db = result.map_err(|e| {
        if *blocked.borrow() {
            StoreError::Open("upgrade blocked by another tab holding the database".into())
        } else {
            StoreError::Open(js_error(&e))
        }
    })?;
    db.dyn_into::<IdbDatabase>()
        .map_err(|_| StoreError::Open("open did not return a database".into()))
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn num(obj: &JsValue, key: &str) -> f64 {
    get(obj, key).as_f64().unwrap_or(0.0)
}

/// A state record ([`encode_record`] with no message), or an object with
/// named fields as the first releases wrote (still read, so an update loses
/// nothing).
fn read_head(v: &JsValue) -> Result<RecordHead, StoreError> {
    if let Some(bytes) = v.dyn_ref::<Uint8Array>() {
        return Ok(decode_record(&bytes.to_vec())?.0);
    }
    Ok(RecordHead {
        state: state_from_code(num(v, "state") as u8),
        packet_id: num(v, "packetId") as u16,
        attempts: num(v, "attempts") as u32,
        created_ms: num(v, "created") as u64,
    })
}

/// One value of the messages store: its key and the messages in it not
/// yet complete, with their records (to write it again when some complete).
struct Chunk {
    key: u64,
    live: Vec<(u64, Vec<u8>)>,
    /// Messages completed since it was written.
    changed: bool,
}

/// Messages per chunk: large enough that a value costs little per message,
/// small enough that writing one again as its messages complete is cheap.
const CHUNK_LEN: usize = 64;

async fn load(db: &IdbDatabase) -> Result<(SessionState, Vec<Chunk>), StoreError> {
    let stores = store_names();
    let read_err = |e: JsValue| StoreError::Read(js_error(&e));
    let tx = db
        .transaction_with_str_sequence_and_mode(&stores, IdbTransactionMode::Readonly)
        .map_err(read_err)?;
    // Every request is issued at once (they run in order in the
    // transaction), then awaited: no event-loop turn between them.
    let mut requests = Vec::with_capacity(8);
    for name in ALL_STORES {
        let store = tx.object_store(name).map_err(read_err)?;
        requests.push(store.get_all_keys().map_err(read_err)?);
        requests.push(store.get_all().map_err(read_err)?);
    }
    let mut results = Vec::with_capacity(8);
    for request in &requests {
        results.push(Array::from(&request_done(request).await.map_err(read_err)?));
    }
    let [msg_keys, msg_values, state_keys, state_values, incoming_keys, _, _, sub_values] =
        <[Array; 8]>::try_from(results).map_err(|_| StoreError::Read("short read".into()))?;

    let mut state = SessionState::default();
    let mut chunks = Vec::new();
    // Index loops, not zip: less code in the wasm (keys and values of one
    // getAll have the same length).
    for i in 0..msg_keys.length() {
        let (k, v) = (msg_keys.get(i), msg_values.get(i));
        let Some(key) = k.as_f64().map(|s| s as u64) else {
            continue;
        };
        let mut live = Vec::new();
        if let Some(bytes) = v.dyn_ref::<Uint8Array>() {
            let bytes = bytes.to_vec();
            for (seq, record) in decode_chunk(&bytes)? {
                let (head, publish) = decode_record(record)?;
                state
                    .messages
                    .push(head.stored(seq, decode_message(publish)?));
                live.push((seq, record.to_vec()));
            }
        } else {
            // One message per object, under its seq (the first releases).
            let packet = get(&v, "packet")
                .dyn_into::<Uint8Array>()
                .map_err(|_| StoreError::Read("stored message has no packet".into()))?;
            let message = decode_message(&packet.to_vec())?;
            state.messages.push(read_head(&v)?.stored(key, message));
            live.push((key, Vec::new()));
        }
        chunks.push(Chunk {
            key,
            live,
            changed: false,
        });
    }
    // Later states (QoS 2 only, so few) override those written with the
    // messages. (Session::with_state puts the messages in seq order.)
    for i in 0..state_keys.length() {
        let (k, v) = (state_keys.get(i), state_values.get(i));
        let seq = k.as_f64().map(|s| s as u64);
        if let Some(m) = state.messages.iter_mut().find(|m| Some(m.seq) == seq) {
            let later = read_head(&v)?;
            m.state = later.state;
            m.packet_id = later.packet_id;
            m.attempts = later.attempts;
        }
    }
    for k in incoming_keys.iter() {
        if let Some(id) = k.as_f64() {
            state.incoming_qos2.push(id as u16);
        }
    }
    for v in sub_values.iter() {
        let Some(filter) = get(&v, "filter").as_string() else {
            continue;
        };
        let retain_handling = match num(&v, "rh") as u8 {
            1 => RetainHandling::SendIfNew,
            2 => RetainHandling::DoNotSend,
            _ => RetainHandling::SendAtSubscribe,
        };
        state.subscriptions.push(Subscription {
            filter,
            options: SubscriptionOptions {
                qos: QoS::from_u8(num(&v, "qos") as u8).unwrap_or(QoS::AtMostOnce),
                no_local: get(&v, "nl").as_bool().unwrap_or(false),
                retain_as_published: get(&v, "rap").as_bool().unwrap_or(false),
                retain_handling,
            },
        });
    }
    Ok((state, chunks))
}

/// The names of every object store, as a JS array (what a transaction over
/// all of them takes).
fn store_names() -> Array {
    let names = Array::new();
    for name in ALL_STORES {
        names.push(&JsValue::from_str(name));
    }
    names
}

fn set(obj: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// `head` (and `message`) as a record.
/// A store error as the JS value a write reports.
fn js_err<T>(r: Result<T, StoreError>) -> Result<T, JsValue> {
    r.map_err(|e| JsValue::from_str(&e.message()))
}

/// `records` as one chunk value in a new JS byte array.
fn chunk_value(records: &[(u64, Vec<u8>)]) -> JsValue {
    let bytes = encode_chunk(records.iter().map(|(seq, r)| (*seq, r.as_slice())));
    Uint8Array::from(bytes.as_slice()).into()
}

impl IndexedDbStore {
    /// Opens (creating or upgrading) the database `name` and reads the
    /// session state in it. `on_outcome` hears how each later write ended,
    /// in write order.
    pub(crate) async fn open(
        name: &str,
        on_outcome: impl Fn(WriteOutcome) + Clone + 'static,
    ) -> Result<(IndexedDbStore, SessionState), StoreError> {
        let db = open_database(name).await?;
        let (state, chunks) = load(&db).await?;
        // Another tab upgrading the schema: step aside rather than block it.
        let closer = db.clone();
        let on_version = Closure::<dyn FnMut(Event)>::new(move |_: Event| closer.close());
        db.set_onversionchange(Some(on_version.as_ref().unchecked_ref()));
        on_version.forget();
        let ok = on_outcome.clone();
        let on_complete =
            Closure::<dyn FnMut(Event)>::new(move |_: Event| ok(WriteOutcome::Committed));
        let on_abort = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
            let why = e
                .target()
                .and_then(|t| t.dyn_into::<IdbTransaction>().ok())
                .and_then(|tx| tx.error())
                // Chromium's QuotaExceededError has an empty message: keep the name.
                .map(|err| concat(&[&err.name(), ": ", &err.message()]))
                .unwrap_or_else(|| "transaction aborted".into());
            on_outcome(WriteOutcome::Failed(StoreError::Write(why)));
        });
        let stores = store_names();
        Ok((
            IndexedDbStore {
                db,
                stores,
                chunks,
                _on_complete: ManuallyDrop::new(on_complete),
                _on_abort: ManuallyDrop::new(on_abort),
            },
            state,
        ))
    }

    /// Takes completed message `seq` out of its chunk.
    fn complete(&mut self, seq: u64) {
        for chunk in self.chunks.iter_mut() {
            if let Some(i) = chunk.live.iter().position(|(s, _)| *s == seq) {
                chunk.live.remove(i);
                chunk.changed = true;
                return;
            }
        }
    }

    fn put_ops(&mut self, tx: &IdbTransaction, ops: &[PersistOp]) -> Result<(), JsValue> {
        let store = |name: &str| tx.object_store(name);
        let (messages, states, incoming, subs) = (
            store(MESSAGES)?,
            store(STATES)?,
            store(INCOMING)?,
            store(SUBSCRIPTIONS)?,
        );
        let mut deleted = Vec::new();
        // New messages, written in chunks after the loop (a seq is stored
        // once: the session never puts a stored message again).
        let mut new: Vec<(u64, Vec<u8>)> = Vec::new();
        for op in ops {
            match op {
                PersistOp::PutMessage(m) => new.push((m.seq, js_err(message_record(m))?)),
                // QoS 1 state is not kept: after a reload such a message is
                // sent again with a new packet id, which at least once allows.
                PersistOp::SetMessageState {
                    qos: QoS::AtLeastOnce,
                    ..
                } => {}
                PersistOp::SetMessageState {
                    seq,
                    packet_id,
                    state,
                    attempts,
                    ..
                } => {
                    let record = js_err(state_record(*state, *packet_id, *attempts))?;
                    let v = Uint8Array::from(record.as_slice());
                    states.put_with_key(&v, &JsValue::from(*seq as f64))?;
                }
                PersistOp::DeleteMessage { seq } => {
                    deleted.push(*seq);
                    match new.iter().position(|(s, _)| s == seq) {
                        Some(i) => drop(new.remove(i)),
                        None => self.complete(*seq),
                    }
                }
                PersistOp::PutIncoming { packet_id } => {
                    incoming.put_with_key(&JsValue::from(1), &JsValue::from(*packet_id))?;
                }
                PersistOp::DeleteIncoming { packet_id } => {
                    incoming.delete(&JsValue::from(*packet_id))?;
                }
                PersistOp::ClearIncoming => {
                    incoming.clear()?;
                }
                PersistOp::PutSubscription(s) => {
                    let v = Object::new();
                    let o = &s.options;
                    set(&v, "filter", &JsValue::from_str(&s.filter));
                    set(&v, "qos", &JsValue::from(o.qos.as_u8()));
                    set(&v, "nl", &JsValue::from_bool(o.no_local));
                    set(&v, "rap", &JsValue::from_bool(o.retain_as_published));
                    set(&v, "rh", &JsValue::from(o.retain_handling as u8));
                    subs.put_with_key(&v, &JsValue::from_str(&s.filter))?;
                }
                PersistOp::DeleteSubscription { filter } => {
                    subs.delete(&JsValue::from_str(filter))?;
                }
            }
        }
        // Chunks with completed messages: written again without them, or
        // deleted when none is left.
        let mut i = 0;
        while i < self.chunks.len() {
            let chunk = &mut self.chunks[i];
            if chunk.changed {
                chunk.changed = false;
                let key = JsValue::from(chunk.key as f64);
                if chunk.live.is_empty() {
                    messages.delete(&key)?;
                    self.chunks.remove(i);
                    continue;
                }
                messages.put_with_key(&chunk_value(&chunk.live), &key)?;
            }
            i += 1;
        }
        for part in new.chunks(CHUNK_LEN) {
            let key = part[0].0;
            messages.put_with_key(&chunk_value(part), &JsValue::from(key as f64))?;
            self.chunks.push(Chunk {
                key,
                live: part.to_vec(),
                changed: false,
            });
        }
        // Later states of completed messages: one range delete per run of
        // consecutive seqs, as acks mostly come in order (out of order, a
        // run is merely shorter).
        let mut i = 0;
        while i < deleted.len() {
            let first = deleted[i];
            let mut last = first;
            while i + 1 < deleted.len() && deleted[i + 1] == last + 1 {
                i += 1;
                last = deleted[i];
            }
            i += 1;
            let range: JsValue = if first == last {
                JsValue::from(first as f64)
            } else {
                IdbKeyRange::bound(&JsValue::from(first as f64), &JsValue::from(last as f64))?
                    .into()
            };
            states.delete(&range)?;
        }
        Ok(())
    }

    /// Closes the database (after the client ends).
    pub(crate) fn close(&self) {
        self.db.close();
    }
}

impl Store for IndexedDbStore {
    /// Issues `ops` in one readwrite transaction and commits it; the outcome
    /// comes later through `on_outcome`. An error here means the outcome
    /// will not be reported.
    fn write(&mut self, ops: &[PersistOp]) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction_with_str_sequence_and_mode(&self.stores, IdbTransactionMode::Readwrite)
            .map_err(|e| StoreError::Write(js_error(&e)))?;
        tx.set_oncomplete(Some(self._on_complete.as_ref().unchecked_ref()));
        tx.set_onabort(Some(self._on_abort.as_ref().unchecked_ref()));
        if let Err(e) = self.put_ops(&tx, ops) {
            // A successful abort reports the failure through on_abort, in order.
            return match tx.abort() {
                Ok(()) => Ok(()),
                Err(_) => Err(StoreError::Write(js_error(&e))),
            };
        }
        // Without commit() a write issued just before a reload is often lost.
        // (web-sys marks it deprecated only because it is newer than the rest.)
        #[allow(deprecated)]
        let _ = tx.commit();
        Ok(())
    }
}
