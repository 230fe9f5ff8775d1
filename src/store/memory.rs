//! A store in memory: applies each operation to a [`SessionState`] at once.

use std::collections::{BTreeMap, BTreeSet};

use crate::codec::Subscription;
use crate::session::{PersistOp, SessionState, StoredMessage};

use super::{Store, StoreError};

/// Session state kept in memory; `state()` is what a reload would read.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    messages: BTreeMap<u64, StoredMessage>,
    incoming: BTreeSet<u16>,
    subscriptions: BTreeMap<String, Subscription>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one operation.
    pub fn apply(&mut self, op: &PersistOp) {
        match op {
            PersistOp::PutMessage(m) => {
                self.messages.insert(m.seq, (**m).clone());
            }
            PersistOp::SetMessageState {
                seq,
                packet_id,
                state,
                attempts,
                ..
            } => {
                if let Some(m) = self.messages.get_mut(seq) {
                    m.packet_id = *packet_id;
                    m.state = *state;
                    m.attempts = *attempts;
                }
            }
            PersistOp::DeleteMessage { seq } => {
                self.messages.remove(seq);
            }
            PersistOp::PutIncoming { packet_id } => {
                self.incoming.insert(*packet_id);
            }
            PersistOp::DeleteIncoming { packet_id } => {
                self.incoming.remove(packet_id);
            }
            PersistOp::ClearIncoming => self.incoming.clear(),
            PersistOp::PutSubscription(s) => {
                self.subscriptions.insert(s.filter.clone(), s.clone());
            }
            PersistOp::DeleteSubscription { filter } => {
                self.subscriptions.remove(filter);
            }
        }
    }

    /// The stored state, as a fresh session would load it.
    pub fn state(&self) -> SessionState {
        SessionState {
            messages: self.messages.values().cloned().collect(),
            incoming_qos2: self.incoming.iter().copied().collect(),
            subscriptions: self.subscriptions.values().cloned().collect(),
        }
    }
}

impl Store for MemoryStore {
    fn write(&mut self, ops: &[PersistOp]) -> Result<(), StoreError> {
        for op in ops {
            self.apply(op);
        }
        Ok(())
    }
}
