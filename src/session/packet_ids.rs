//! Packet identifier allocation: an id is never handed out while it is in
//! use by an unacknowledged PUBLISH, SUBSCRIBE or UNSUBSCRIBE.

use std::collections::BTreeMap;

/// What a packet id is in use for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PacketIdOwner {
    /// An outgoing QoS 1/2 message, by `seq`.
    Message(u64),
    /// A SUBSCRIBE or UNSUBSCRIBE awaiting its acknowledgement.
    Request,
}

/// The ids in use and a cursor that walks 1..=65535 round-robin, so a
/// just-released id is not reused at once (a late duplicate ack for it can
/// then not be mistaken for the new owner's).
#[derive(Debug, Default)]
pub(crate) struct PacketIds {
    used: BTreeMap<u16, PacketIdOwner>,
    last: u16,
}

impl PacketIds {
    /// A free id, now owned by `owner`; `None` only if all 65,535 are in use.
    pub(crate) fn allocate(&mut self, owner: PacketIdOwner) -> Option<u16> {
        if self.used.len() >= usize::from(u16::MAX) {
            return None;
        }
        let mut candidate = self.last;
        loop {
            candidate = if candidate == u16::MAX {
                1
            } else {
                candidate + 1
            };
            if let std::collections::btree_map::Entry::Vacant(slot) = self.used.entry(candidate) {
                slot.insert(owner);
                self.last = candidate;
                return Some(candidate);
            }
        }
    }

    /// Marks `id` as owned (when state is imported). Returns false if it was
    /// already in use or is 0.
    pub(crate) fn claim(&mut self, id: u16, owner: PacketIdOwner) -> bool {
        if id == 0 || self.used.contains_key(&id) {
            return false;
        }
        self.used.insert(id, owner);
        self.last = self.last.max(id);
        true
    }

    /// Who owns `id`, if anyone.
    pub(crate) fn owner(&self, id: u16) -> Option<PacketIdOwner> {
        self.used.get(&id).copied()
    }

    /// Frees `id`.
    pub(crate) fn release(&mut self, id: u16) {
        self.used.remove(&id);
    }

    /// Number of ids in use.
    #[cfg(test)]
    pub(crate) fn in_use(&self) -> usize {
        self.used.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_hands_out_an_id_in_use_and_wraps_past_65535() {
        let mut ids = PacketIds::default();
        let first = ids.allocate(PacketIdOwner::Request);
        assert_eq!(first, Some(1));
        for _ in 2..=u16::MAX {
            assert!(ids.allocate(PacketIdOwner::Message(0)).is_some());
        }
        assert_eq!(ids.in_use(), 65_535);
        assert_eq!(ids.allocate(PacketIdOwner::Request), None);
        ids.release(7);
        assert_eq!(ids.allocate(PacketIdOwner::Request), Some(7));
        assert_eq!(ids.allocate(PacketIdOwner::Request), None);
    }

    #[test]
    fn released_ids_are_not_reused_immediately() {
        let mut ids = PacketIds::default();
        let a = ids.allocate(PacketIdOwner::Request).unwrap_or(0);
        ids.release(a);
        let b = ids.allocate(PacketIdOwner::Request).unwrap_or(0);
        assert_ne!(a, b);
        assert!(!ids.claim(b, PacketIdOwner::Request));
        assert!(!ids.claim(0, PacketIdOwner::Request));
    }
}
