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

use wasm_bindgen::{JsCast, JsValue};
use web_sys::Storage;

use crate::codec::text::{concat, parse_dec, push_dec};
use crate::session::{PersistOp, SessionState};

use super::record::{
    decode_message, decode_record, message_record, state_from_code, state_record, RecordHead,
};

/// The incoming QoS 2 ids of one session, mirrored into `localStorage`.
pub(crate) struct IncomingJournal {
    storage: Storage,
    key: String,
    ids: Vec<u16>,
}

fn local_storage() -> Option<Storage> {
    // Reading the property throws where storage is denied (opaque origins).
    let value = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("localStorage")).ok()?;
    value.dyn_into::<Storage>().ok()
}

impl IncomingJournal {
    /// The journal for the session stored in database `name`, with the ids
    /// it holds; `None` where `localStorage` is unavailable. `ids` is `None`
    /// when this session has no journal yet (the store's ids then stand).
    pub(crate) fn open(name: &str) -> Option<(IncomingJournal, Option<Vec<u16>>)> {
        let storage = local_storage()?;
        let key = concat(&[name, ":incoming-qos2"]);
        let ids = match storage.get_item(&key) {
            Ok(Some(text)) => {
                let mut ids = Vec::new();
                for s in text.split(',') {
                    match parse_dec(s).and_then(|n| u16::try_from(n).ok()) {
                        Some(id) if id != 0 => ids.push(id),
                        _ => {}
                    }
                }
                Some(ids)
            }
            _ => None,
        };
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

/// A stored string of code points 0..=255 back as bytes (`None` if it
/// holds anything else).
fn text_to_bytes(text: &str) -> Option<Vec<u8>> {
    // A loop, not collect() into an Option: less code in the wasm.
    let mut bytes = Vec::with_capacity(text.len());
    for c in text.chars() {
        bytes.push(u8::try_from(u32::from(c)).ok()?);
    }
    Some(bytes)
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
}

/// The next number up to a comma in `text`, and what follows the comma.
fn field(text: &str) -> Option<(u64, &str)> {
    let (n, rest) = text.split_once(',')?;
    Some((parse_dec(n)?, rest))
}

/// The records of an item as (seq, head, message bytes if any). Items of
/// the first releases hold one record, `M,state,packetId,attempts,created,`
/// then the message, or `S,state,packetId,attempts`, under the seq's key.
fn parse_item(key_seq: u64, value: &str) -> Vec<(u64, RecordHead, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    if let Some(old) = value.strip_prefix(['M', 'S']) {
        let mut parts = old.trim_start_matches(',').splitn(5, ',');
        let mut num = || parts.next().and_then(parse_dec).unwrap_or(0);
        let head = RecordHead {
            state: state_from_code(num() as u8),
            packet_id: num() as u16,
            attempts: num() as u32,
            created_ms: num(),
        };
        let message = match value.starts_with('M') {
            true => match parts.next().and_then(text_to_bytes) {
                Some(bytes) => Some(bytes),
                None => return out,
            },
            false => None,
        };
        out.push((key_seq, head, message));
        return out;
    }
    let mut rest = value;
    while let Some((seq, after)) = field(rest) {
        let Some((len, after)) = field(after) else {
            break;
        };
        // Code points 0..=255 are at most two bytes each in UTF-8.
        let mut end = 0;
        for (taken, (i, c)) in after.char_indices().enumerate() {
            if taken as u64 == len {
                break;
            }
            end = i + c.len_utf8();
        }
        // `split_at_checked`, not indexing: a str index can panic, which
        // links core's slice-error formatting into the wasm (about 3 KB).
        let Some((text, after)) = after.split_at_checked(end) else {
            break;
        };
        let Some(bytes) = text_to_bytes(text).filter(|b| b.len() as u64 == len) else {
            break;
        };
        rest = after;
        if let Ok((head, message)) = decode_record(&bytes) {
            out.push((seq, head, (!message.is_empty()).then(|| message.to_vec())));
        }
    }
    out
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
        let len = self.storage.length().unwrap_or(0);
        // A loop, not filter_map chains: less code in the wasm.
        let mut items: Vec<(u64, String)> = Vec::new();
        for i in 0..len {
            let Ok(Some(k)) = self.storage.key(i) else {
                continue;
            };
            if let Some(n) = k.strip_prefix(&self.prefix).and_then(parse_dec) {
                items.push((n, k));
            }
        }
        // Oldest first, so a later state of a message wins.
        crate::heapsort::sort_by_key(&mut items, |(n, _)| *n);
        let mut replay = Vec::new();
        for (n, key) in &items {
            self.next = self.next.max(n + 1);
            let Ok(Some(value)) = self.storage.get_item(key) else {
                continue;
            };
            for (seq, head, message) in parse_item(*n, &value) {
                let message = message.and_then(|b| decode_message(&b).ok());
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
        }
        let mut keys = Vec::with_capacity(items.len());
        for (_, k) in items {
            keys.push(k);
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
