//! A synchronous journal of incoming QoS 2 packet ids in `localStorage`.
//!
//! Chromium drops committed IndexedDB transactions still queued behind a
//! running one when a page unloads, so an id written there just before a
//! reload can vanish and the broker's resent PUBLISH would be delivered a
//! second time. `localStorage` writes are durable when the call returns, so
//! where it exists (pages, not workers) this journal is the authority on
//! which incoming QoS 2 ids were delivered and not yet released.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::Storage;

use crate::session::PersistOp;

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
        self.save();
    }

    /// Applies an operation on incoming ids; others are ignored.
    pub(crate) fn apply(&mut self, op: &PersistOp) {
        match op {
            PersistOp::PutIncoming { packet_id } => {
                if !self.ids.contains(packet_id) {
                    self.ids.push(*packet_id);
                }
            }
            PersistOp::DeleteIncoming { packet_id } => self.ids.retain(|id| id != packet_id),
            PersistOp::ClearIncoming => self.ids.clear(),
            _ => return,
        }
        self.save();
    }

    fn save(&self) {
        let text: Vec<String> = self.ids.iter().map(u16::to_string).collect();
        // A full or denied storage leaves IndexedDB as the record.
        let _ = self.storage.set_item(&self.key, &text.join(","));
    }
}
