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

use crate::session::{PersistOp, SessionState, StoredMessage};

use super::record::{decode_message, encode_message, state_code, state_from_code};

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
        let key = format!("{name}:incoming-qos2");
        let ids = match storage.get_item(&key) {
            Ok(Some(text)) => Some(
                text.split(',')
                    .filter_map(|s| s.parse::<u16>().ok())
                    .filter(|id| *id != 0)
                    .collect(),
            ),
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
        let text: Vec<String> = self.ids.iter().map(u16::to_string).collect();
        self.storage.set_item(&self.key, &text.join(",")).is_ok()
    }
}

/// New messages and QoS 2 state changes whose IndexedDB write has not
/// committed yet, one `localStorage` item each.
pub(crate) struct OutgoingJournal {
    storage: Storage,
    prefix: String,
}

/// Bytes as a string of code points 0..=255 (what `localStorage` can hold).
fn bytes_to_text(bytes: &[u8]) -> String {
    bytes.iter().map(|b| char::from(*b)).collect()
}

fn text_to_bytes(text: &str) -> Option<Vec<u8>> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

impl OutgoingJournal {
    /// The journal of database `name`; `None` without `localStorage`.
    pub(crate) fn open(name: &str) -> Option<OutgoingJournal> {
        Some(OutgoingJournal {
            storage: local_storage()?,
            prefix: format!("{name}:out:"),
        })
    }

    /// Records `op` if it guards bytes; returns the item's key to remove
    /// once the transaction carrying `op` has committed.
    pub(crate) fn record(&self, op: &PersistOp) -> Option<String> {
        let (seq, value) = match op {
            PersistOp::PutMessage(m) => {
                let bytes = encode_message(&m.message).ok()?;
                let head = format!(
                    "M,{},{},{},{},",
                    state_code(m.state),
                    m.packet_id,
                    m.attempts,
                    m.created_ms
                );
                (m.seq, head + &bytes_to_text(&bytes))
            }
            PersistOp::SetMessageState {
                seq,
                packet_id,
                state,
                attempts,
                ..
            } if op.guards_transmit() => (
                *seq,
                format!("S,{},{},{}", state_code(*state), packet_id, attempts),
            ),
            _ => return None,
        };
        let key = format!("{}{seq}", self.prefix);
        // Full or denied storage: IndexedDB alone, as in a worker.
        self.storage.set_item(&key, &value).ok()?;
        Some(key)
    }

    /// Forgets items whose transaction has ended.
    pub(crate) fn remove(&self, keys: &[String]) {
        for key in keys {
            let _ = self.storage.remove_item(key);
        }
    }

    /// Adds to `state` what only the journal has (messages and newer QoS 2
    /// states) and returns the operations that write it to the store; the
    /// journal items stay until those have committed (they are recorded
    /// again under the same keys).
    pub(crate) fn merge_into(&self, state: &mut SessionState) -> Vec<PersistOp> {
        let mut replay = Vec::new();
        let len = self.storage.length().unwrap_or(0);
        let keys: Vec<String> = (0..len)
            .filter_map(|i| self.storage.key(i).ok().flatten())
            .filter(|k| k.starts_with(&self.prefix))
            .collect();
        for key in &keys {
            let Some(seq) = key[self.prefix.len()..].parse::<u64>().ok() else {
                continue;
            };
            let Ok(Some(value)) = self.storage.get_item(key) else {
                continue;
            };
            let mut parts = value.splitn(6, ',');
            let kind = parts.next();
            let num = |p: Option<&str>| p.and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
            let st = state_from_code(num(parts.next()) as u8);
            let packet_id = num(parts.next()) as u16;
            let attempts = num(parts.next()) as u32;
            match kind {
                Some("M") => {
                    let created_ms = num(parts.next());
                    let Some(message) = parts
                        .next()
                        .and_then(text_to_bytes)
                        .and_then(|b| decode_message(&b).ok())
                    else {
                        continue;
                    };
                    if state.messages.iter().all(|m| m.seq != seq) {
                        let m = StoredMessage {
                            seq,
                            message,
                            packet_id,
                            state: st,
                            attempts,
                            created_ms,
                        };
                        replay.push(PersistOp::PutMessage(Box::new(m.clone())));
                        state.messages.push(m);
                    }
                }
                Some("S") => {
                    if let Some(m) = state.messages.iter_mut().find(|m| m.seq == seq) {
                        m.state = st;
                        m.packet_id = packet_id;
                        m.attempts = attempts;
                        replay.push(PersistOp::SetMessageState {
                            seq,
                            packet_id,
                            state: st,
                            attempts,
                            qos: m.message.qos,
                        });
                    }
                }
                _ => {}
            }
        }
        state.messages.sort_by_key(|m| m.seq);
        // Items that named nothing still stored (their message completed).
        let named: Vec<String> = replay
            .iter()
            .filter_map(|op| match op {
                PersistOp::PutMessage(m) => Some(m.seq),
                PersistOp::SetMessageState { seq, .. } => Some(*seq),
                _ => None,
            })
            .map(|seq| format!("{}{seq}", self.prefix))
            .collect();
        let stale: Vec<String> = keys.into_iter().filter(|k| !named.contains(k)).collect();
        self.remove(&stale);
        replay
    }
}
