//! Synchronous journals in `localStorage`, beside IndexedDB.
//!
//! Chromium drops committed IndexedDB transactions still queued behind a
//! running one when a page unloads. `localStorage` writes are durable when
//! the call returns, so where it exists (pages, not workers):
//! - [`IncomingJournal`] is the authority on which incoming QoS 2 ids were
//!   delivered and not yet released (else a resent PUBLISH is delivered
//!   twice after a reload);
//! - [`OutgoingJournal`] keeps each new message, and each QoS 2 state
//!   change, until the IndexedDB transaction that carries it has committed
//!   (else a message published just before a reload is lost).

use js_sys::{Array, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Storage;

use crate::codec::text::{concat, push_dec};
use crate::session::{PersistOp, SessionState};

use super::record::{decode_message, decode_record, message_record, state_record};
use crate::transport::vec_from_js;

/// The incoming QoS 2 ids of one session, mirrored into `localStorage`.
pub(crate) struct IncomingJournal {
    storage: Storage,
    key: String,
    ids: Vec<u16>,
}

impl IncomingJournal {
    /// The journal for the session stored in database `name`, with the ids
    /// it holds; `None` where `localStorage` is unavailable. `ids` is `None`
    /// when this session has no journal yet (the store's ids then stand).
    pub(crate) fn open(name: &str) -> Option<(IncomingJournal, Option<Vec<u16>>)> {
        let storage = local_storage()?;
        let key = concat(&[name, ":incoming-qos2"]);
        let ids = journal_ids(&storage, &key).map(|ids| {
            let mut out = Vec::new();
            for id in ids.iter() {
                if let Some(id) = id.as_f64() {
                    out.push(id as u16);
                }
            }
            out
        });
        let journal = IncomingJournal {
            storage,
            key,
            ids: ids.clone().unwrap_or_default(),
        };
        Some((journal, ids))
    }

    /// Starts journaling from `ids` (the state the session resumes with).
    pub(crate) fn reset(&mut self, ids: &[u16]) {
        self.ids = ids.to_vec();
        let _ = self.save();
    }

    /// Applies an operation on incoming ids; others are ignored. True when
    /// it was one and is now durable here.
    pub(crate) fn apply(&mut self, op: &PersistOp) -> bool {
        match op {
            PersistOp::PutIncoming { packet_id } => {
                if !self.ids.contains(packet_id) {
                    self.ids.push(*packet_id);
                }
            }
            PersistOp::DeleteIncoming { packet_id } => self.ids.retain(|id| id != packet_id),
            PersistOp::ClearIncoming => self.ids.clear(),
            _ => return false,
        }
        self.save()
    }

    /// Writes the ids; false if storage refused (full or denied), which
    /// leaves IndexedDB as the record.
    fn save(&self) -> bool {
        // push_dec, not to_string: no core::fmt number formatting in the wasm.
        let mut text = String::new();
        for id in &self.ids {
            if !text.is_empty() {
                text.push(',');
            }
            push_dec(&mut text, u64::from(*id));
        }
        if self.storage.set_item(&self.key, &text).is_ok() {
            return true;
        }
        // The item still holds an older list, which the next load would
        // prefer to the store's: without it the store's ids stand.
        let _ = self.storage.remove_item(&self.key);
        false
    }
}

/// New messages and QoS 2 state changes whose IndexedDB write has not
/// committed yet. The records made since the last save share one
/// `localStorage` item (the driver saves before sending what they guard);
/// the items of a batch are removed once its transaction has committed.
/// (`localStorage` calls cost tens of microseconds each, so a set and a
/// remove per message were most of the cost of an IndexedDB-backed publish;
/// rewriting one growing item per batch every task cost as much again once
/// the batch grew.)
pub(crate) struct OutgoingJournal {
    storage: Storage,
    prefix: String,
    /// Number of the next item; above every item found at load.
    next: u64,
    /// Records made since the last save, oldest first, as Latin-1 bytes
    /// (each byte is one character of the stored string).
    text: Vec<u8>,
    /// Items saved since the batch began.
    saved: Vec<String>,
    /// Items found at load, removed with the first batch (which rewrites
    /// what they hold to the store).
    found: Vec<String>,
}

/// One record: `seq,length,` then `length` characters: the store's record
/// ([`encode_record`]) of a message, or of a later state (head only), each
/// byte one character (code points 0..=255, what `localStorage` can hold).
fn push_record(out: &mut Vec<u8>, seq: u64, record: &[u8]) {
    let mut head = String::new();
    push_dec(&mut head, seq);
    head.push(',');
    push_dec(&mut head, record.len() as u64);
    head.push(',');
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(record);
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/js/support.js")]
extern "C" {
    /// `storage.setItem(key, bytes as Latin-1)`; throws what `setItem` throws.
    #[wasm_bindgen(js_name = setItemLatin1, catch)]
    fn set_item_latin1(storage: &Storage, key: &str, bytes: &[u8]) -> Result<(), JsValue>;
    /// `globalThis.localStorage`; `None` where there is none or it is denied.
    #[wasm_bindgen(js_name = localStorageIfAny)]
    fn local_storage() -> Option<Storage>;
    /// The ids stored under `key` (see support.js); `None` when there is no item.
    #[wasm_bindgen(js_name = journalIds)]
    fn journal_ids(storage: &Storage, key: &str) -> Option<Array>;
    /// The items under `prefix`, parsed (see support.js).
    #[wasm_bindgen(js_name = journalLoad)]
    fn journal_load(storage: &Storage, prefix: &str) -> Array;
}

impl OutgoingJournal {
    /// The journal of database `name`; `None` without `localStorage`.
    pub(crate) fn open(name: &str) -> Option<OutgoingJournal> {
        Some(OutgoingJournal {
            storage: local_storage()?,
            prefix: concat(&[name, ":out:"]),
            next: 0,
            text: Vec::new(),
            saved: Vec::new(),
            found: Vec::new(),
        })
    }

    /// Adds `op` to the batch being gathered if it guards bytes; true if it
    /// did. It is durable once [`OutgoingJournal::save`] has succeeded.
    pub(crate) fn record(&mut self, op: &PersistOp) -> bool {
        let (seq, record) = match op {
            PersistOp::PutMessage(m) => (m.seq, message_record(m)),
            PersistOp::SetMessageState {
                seq,
                packet_id,
                state,
                attempts,
                ..
            } if op.guards_transmit() => (*seq, state_record(*state, *packet_id, *attempts)),
            _ => return false,
        };
        let Ok(record) = record else {
            return false;
        };
        push_record(&mut self.text, seq, &record);
        true
    }

    /// Stores the records made since the last save as one new item; false
    /// if storage refused (full or denied): those records are then durable
    /// only once the store has them.
    pub(crate) fn save(&mut self) -> bool {
        if self.text.is_empty() {
            return true;
        }
        let mut key = self.prefix.clone();
        push_dec(&mut key, self.next);
        if set_item_latin1(&self.storage, &key, &self.text).is_err() {
            return false;
        }
        self.next += 1;
        self.saved.push(key);
        self.text.clear();
        true
    }

    /// Ends the batch (it is being written to the store) and returns the
    /// items to remove once that write has ended. Records not saved go
    /// with the batch only.
    pub(crate) fn seal(&mut self) -> Vec<String> {
        let mut keys = std::mem::take(&mut self.found);
        keys.append(&mut self.saved);
        self.text.clear();
        keys
    }

    /// Forgets items whose transaction has ended.
    pub(crate) fn remove(&self, keys: &[String]) {
        for key in keys {
            let _ = self.storage.remove_item(key);
        }
    }

    /// Adds to `state` what only the journal has (messages and newer QoS 2
    /// states) and returns the operations that write it to the store; the
    /// items stay until the first batch (which carries those operations)
    /// has committed.
    pub(crate) fn merge_into(&mut self, state: &mut SessionState) -> Vec<PersistOp> {
        // The items are read and split into records in JS: parsing the
        // strings here cost about 2 KB of gzip in the wasm.
        let loaded = journal_load(&self.storage, &self.prefix);
        self.next = loaded.get(0).as_f64().unwrap_or(0.0) as u64;
        let mut replay = Vec::new();
        // Oldest first, so a later state of a message wins.
        let mut i = 2;
        while i + 1 < loaded.length() {
            let (seq, bytes) = (loaded.get(i).as_f64(), loaded.get(i + 1));
            i += 2;
            let (Some(seq), Ok(bytes)) = (seq, bytes.dyn_into::<Uint8Array>()) else {
                continue;
            };
            let seq = seq as u64;
            let bytes = vec_from_js(&bytes);
            let Ok((head, message)) = decode_record(&bytes) else {
                continue;
            };
            let message = (!message.is_empty())
                .then(|| decode_message(message).ok())
                .flatten();
            match message {
                Some(message) if state.messages.iter().all(|m| m.seq != seq) => {
                    let m = head.stored(seq, message);
                    replay.push(PersistOp::PutMessage(Box::new(m.clone())));
                    state.messages.push(m);
                }
                Some(_) => {}
                None => {
                    if let Some(m) = state.messages.iter_mut().find(|m| m.seq == seq) {
                        m.state = head.state;
                        m.packet_id = head.packet_id;
                        m.attempts = head.attempts;
                        replay.push(PersistOp::SetMessageState {
                            seq,
                            packet_id: head.packet_id,
                            state: head.state,
                            attempts: head.attempts,
                            qos: m.message.qos,
                        });
                    }
                }
            }
        }
        let mut keys = Vec::new();
        for k in Array::from(&loaded.get(1)).iter() {
            if let Some(k) = k.as_string() {
                keys.push(k);
            }
        }
        if replay.is_empty() {
            // Items that name nothing still pending (their writes committed).
            self.remove(&keys);
        } else {
            self.found = keys;
        }
        replay
    }
}
