//! The session store in IndexedDB: one database per (broker URL, client
//! id), written with one readwrite transaction per batch of operations
//! (group commit), committed explicitly so a reload right after cannot lose
//! it. Completions are reported in write order (IndexedDB runs readwrite
//! transactions over the same stores in creation order).

use std::mem::ManuallyDrop;

use js_sys::{Array, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use crate::codec::text::concat;
use crate::codec::{QoS, RetainHandling, Subscription, SubscriptionOptions};
use crate::session::{PersistOp, SessionState};
use crate::transport::{js_bytes, vec_from_js};

use super::record::{
    decode_chunk, decode_message, decode_record, encode_chunk, message_record, state_record,
};
use super::{Store, StoreError};

// IndexedDB itself is driven from support.js: from Rust every request, event
// handler and future cost an import, a closure or a state machine (about 4 KB
// of gzip in all).
#[wasm_bindgen(module = "/src/js/support.js")]
extern "C" {
    #[wasm_bindgen(js_name = idbOpen)]
    fn idb_open(name: &str, done: JsValue);
    #[wasm_bindgen(js_name = idbBegin)]
    fn idb_begin(db: &JsValue, on_complete: &JsValue, on_abort: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = idbOp)]
    fn idb_op(tx: &JsValue, op: u8, store: u8, key: f64, value: &JsValue, last: Option<f64>);
    #[wasm_bindgen(js_name = idbSubscription)]
    fn idb_subscription(
        tx: &JsValue,
        filter: &str,
        put: bool,
        qos: u8,
        nl: bool,
        rap: bool,
        rh: u8,
    );
    #[wasm_bindgen(js_name = idbCommit)]
    fn idb_commit(tx: &JsValue) -> Option<String>;
}

/// The object stores, by their index in support.js's `STORES` (the
/// subscriptions store has its own call).
const MESSAGES: u8 = 0;
const STATES: u8 = 1;
const INCOMING: u8 = 2;

/// `idbOp` operations.
const PUT: u8 = 0;
const DELETE: u8 = 1;
const CLEAR: u8 = 2;
/// Aborts the transaction (`value`: why).
const ABORT: u8 = 3;

/// How a write ended.
pub(crate) enum WriteOutcome {
    /// Durable.
    Committed,
    /// Aborted (quota, I/O error): nothing of it is durable.
    Failed(StoreError),
}

/// An open session database.
pub(crate) struct IndexedDbStore {
    db: JsValue,
    /// What the messages store holds, oldest first.
    chunks: Vec<Chunk>,
    /// The transactions' handlers, never dropped: a transaction still
    /// running when the client ends calls one later, and calling a dropped
    /// closure throws in the page (two small closures per client; they hold
    /// only a weak driver).
    on_complete: ManuallyDrop<Closure<dyn FnMut()>>,
    on_abort: ManuallyDrop<Closure<dyn FnMut(String)>>,
}

/// The database name for a (URL, client id) pair.
pub(crate) fn database_name(url: &str, client_id: &str) -> String {
    concat(&["wasmqtt:", url, ":", client_id])
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

/// The session state in `reads` (see support.js's `idbOpen`), and the
/// messages store's chunks.
fn load(reads: &Array) -> Result<(SessionState, Vec<Chunk>), StoreError> {
    let read = |i: u32| Array::from(&reads.get(i));
    let (msg_keys, msg_values) = (read(0), read(1));
    let mut state = SessionState::default();
    let mut chunks = Vec::new();
    // Index loops, not zip: less code in the wasm (keys and values of one
    // getAll have the same length).
    for i in 0..msg_keys.length() {
        let (Some(key), Some(bytes)) = (
            msg_keys.get(i).as_f64(),
            msg_values.get(i).dyn_into::<Uint8Array>().ok(),
        ) else {
            continue;
        };
        let bytes = vec_from_js(&bytes);
        let mut live = Vec::new();
        for (seq, record) in decode_chunk(&bytes)? {
            let (head, publish) = decode_record(record)?;
            state
                .messages
                .push(head.stored(seq, decode_message(publish)?));
            live.push((seq, record.to_vec()));
        }
        chunks.push(Chunk {
            key: key as u64,
            live,
            changed: false,
        });
    }
    // Later states (QoS 2 only, so few) override those written with the
    // messages. (Session::with_state puts the messages in seq order.)
    let (state_keys, state_values) = (read(2), read(3));
    for i in 0..state_keys.length() {
        let seq = state_keys.get(i).as_f64().map(|s| s as u64);
        let Ok(bytes) = state_values.get(i).dyn_into::<Uint8Array>() else {
            continue;
        };
        if let Some(m) = state.messages.iter_mut().find(|m| Some(m.seq) == seq) {
            let later = decode_record(&vec_from_js(&bytes))?.0;
            m.state = later.state;
            m.packet_id = later.packet_id;
            m.attempts = later.attempts;
        }
    }
    for k in read(4).iter() {
        if let Some(id) = k.as_f64() {
            state.incoming_qos2.push(id as u16);
        }
    }
    let (filters, codes) = (read(6), read(7));
    for i in 0..filters.length() {
        let Some(filter) = filters.get(i).as_string() else {
            continue;
        };
        let code = codes.get(i).as_f64().unwrap_or(0.0) as u8;
        let retain_handling = match code >> 4 {
            1 => RetainHandling::SendIfNew,
            2 => RetainHandling::DoNotSend,
            _ => RetainHandling::SendAtSubscribe,
        };
        state.subscriptions.push(Subscription {
            filter,
            options: SubscriptionOptions {
                qos: QoS::from_u8(code & 3).unwrap_or(QoS::AtMostOnce),
                no_local: code & 4 != 0,
                retain_as_published: code & 8 != 0,
                retain_handling,
            },
        });
    }
    Ok((state, chunks))
}

/// `records` as one chunk value in a new JS byte array.
fn chunk_value(records: &[(u64, Vec<u8>)]) -> JsValue {
    let bytes = encode_chunk(records.iter().map(|(seq, r)| (*seq, r.as_slice())));
    js_bytes(&bytes).into()
}

impl IndexedDbStore {
    /// Opens (creating or upgrading) the database `name`, reads the session
    /// state in it and calls `done` with the store and the state.
    /// `on_outcome` hears how each later write ended, in write order.
    pub(crate) fn open(
        name: &str,
        on_outcome: impl Fn(WriteOutcome) + Clone + 'static,
        done: impl FnOnce(Result<(IndexedDbStore, SessionState), StoreError>) + 'static,
    ) {
        let opened = move |db: JsValue, reads: JsValue, message: JsValue| {
            if db.is_null() {
                let message = message.as_string().unwrap_or_default();
                return done(Err(match reads.as_f64() {
                    Some(0.0) => StoreError::Unavailable(message),
                    Some(1.0) => StoreError::Open(message),
                    _ => StoreError::Read(message),
                }));
            }
            let (state, chunks) = match load(&Array::from(&reads)) {
                Ok(loaded) => loaded,
                Err(e) => {
                    db.unchecked_ref::<Database>().close();
                    return done(Err(e));
                }
            };
            let ok = on_outcome.clone();
            let on_complete = Closure::<dyn FnMut()>::new(move || ok(WriteOutcome::Committed));
            let on_abort = Closure::<dyn FnMut(String)>::new(move |why: String| {
                on_outcome(WriteOutcome::Failed(StoreError::Write(why)))
            });
            done(Ok((
                IndexedDbStore {
                    db,
                    chunks,
                    on_complete: ManuallyDrop::new(on_complete),
                    on_abort: ManuallyDrop::new(on_abort),
                },
                state,
            )))
        };
        idb_open(name, Closure::once_into_js(opened));
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

    fn put_ops(&mut self, tx: &JsValue, ops: &[PersistOp]) -> Result<(), StoreError> {
        let op = |op: u8, store: u8, key: u64, value: &JsValue| {
            idb_op(tx, op, store, key as f64, value, None)
        };
        let none = JsValue::UNDEFINED;
        let mut deleted = Vec::new();
        // New messages, written in chunks after the loop (a seq is stored
        // once: the session never puts a stored message again).
        let mut new: Vec<(u64, Vec<u8>)> = Vec::new();
        for o in ops {
            match o {
                PersistOp::PutMessage(m) => new.push((m.seq, message_record(m)?)),
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
                    let record = state_record(*state, *packet_id, *attempts)?;
                    op(PUT, STATES, *seq, &js_bytes(&record));
                }
                PersistOp::DeleteMessage { seq } => {
                    deleted.push(*seq);
                    match new.iter().position(|(s, _)| s == seq) {
                        Some(i) => drop(new.remove(i)),
                        None => self.complete(*seq),
                    }
                }
                PersistOp::PutIncoming { packet_id } => {
                    op(PUT, INCOMING, u64::from(*packet_id), &JsValue::TRUE)
                }
                PersistOp::DeleteIncoming { packet_id } => {
                    op(DELETE, INCOMING, u64::from(*packet_id), &none)
                }
                PersistOp::ClearIncoming => op(CLEAR, INCOMING, 0, &none),
                PersistOp::PutSubscription(s) => {
                    let o = &s.options;
                    idb_subscription(
                        tx,
                        &s.filter,
                        true,
                        o.qos.as_u8(),
                        o.no_local,
                        o.retain_as_published,
                        o.retain_handling as u8,
                    );
                }
                PersistOp::DeleteSubscription { filter } => {
                    idb_subscription(tx, filter, false, 0, false, false, 0)
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
                if chunk.live.is_empty() {
                    op(DELETE, MESSAGES, chunk.key, &none);
                    self.chunks.remove(i);
                    continue;
                }
                op(PUT, MESSAGES, chunk.key, &chunk_value(&chunk.live));
            }
            i += 1;
        }
        for part in new.chunks(CHUNK_LEN) {
            let key = part[0].0;
            op(PUT, MESSAGES, key, &chunk_value(part));
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
            let last = (last != first).then_some(last as f64);
            idb_op(tx, DELETE, STATES, first as f64, &none, last);
        }
        Ok(())
    }

    /// Closes the database (after the client ends).
    pub(crate) fn close(&self) {
        self.db.unchecked_ref::<Database>().close();
    }
}

#[wasm_bindgen]
extern "C" {
    /// An `IDBDatabase`.
    type Database;
    #[wasm_bindgen(method)]
    fn close(this: &Database);
}

impl Store for IndexedDbStore {
    /// Issues `ops` in one readwrite transaction and commits it; the outcome
    /// comes later through `on_outcome`. An error here means the outcome
    /// will not be reported.
    fn write(&mut self, ops: &[PersistOp]) -> Result<(), StoreError> {
        let tx = idb_begin(&self.db, self.on_complete.as_ref(), self.on_abort.as_ref());
        if let Some(why) = tx.as_string() {
            return Err(StoreError::Write(why));
        }
        if let Err(e) = self.put_ops(&tx, ops) {
            // Aborts the transaction; its onabort reports the failure, in order.
            idb_op(&tx, ABORT, 0, 0.0, &e.message().into(), None);
        }
        match idb_commit(&tx) {
            Some(why) => Err(StoreError::Write(why)),
            None => Ok(()),
        }
    }
}
