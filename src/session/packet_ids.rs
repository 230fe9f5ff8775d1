//! Packet identifier sets: which of the 65,535 ids are in use, as a bitset
//! (8 KiB, O(1) for every operation, and far less code in the shipped wasm
//! than a tree or hash map).

/// A set of packet ids (1..=65535).
#[derive(Debug, Default, Clone)]
pub(crate) struct IdSet {
    /// Allocated on first insert: a session that never uses ids costs nothing.
    words: Vec<u64>,
    len: usize,
}

impl IdSet {
    fn slot(id: u16) -> (usize, u64) {
        (usize::from(id) / 64, 1u64 << (id % 64))
    }

    /// Whether `id` is in the set.
    pub(crate) fn contains(&self, id: u16) -> bool {
        let (w, bit) = Self::slot(id);
        self.words.get(w).is_some_and(|word| word & bit != 0)
    }

    /// Adds `id`; false if it was there already.
    pub(crate) fn insert(&mut self, id: u16) -> bool {
        if self.words.is_empty() {
            self.words = vec![0; 1024];
        }
        let (w, bit) = Self::slot(id);
        let word = &mut self.words[w];
        if *word & bit != 0 {
            return false;
        }
        *word |= bit;
        self.len += 1;
        true
    }

    /// Removes `id`; false if it was not there.
    pub(crate) fn remove(&mut self, id: u16) -> bool {
        let (w, bit) = Self::slot(id);
        match self.words.get_mut(w) {
            Some(word) if *word & bit != 0 => {
                *word &= !bit;
                self.len -= 1;
                true
            }
            _ => false,
        }
    }

    /// Number of ids in the set.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether the set is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Empties the set.
    pub(crate) fn clear(&mut self) {
        self.words.iter_mut().for_each(|w| *w = 0);
        self.len = 0;
    }

    /// The ids in ascending order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        (1..=u16::MAX).filter(move |id| self.contains(*id))
    }
}

/// Ids in use by unacknowledged PUBLISH, SUBSCRIBE and UNSUBSCRIBE packets,
/// and a cursor that walks 1..=65535 round-robin, so a just-released id is
/// not reused at once (a late duplicate ack for it then cannot be mistaken
/// for the new owner's).
#[derive(Debug, Default)]
pub(crate) struct PacketIds {
    used: IdSet,
    last: u16,
}

impl PacketIds {
    /// A free id, now in use; `None` only if all 65,535 are in use.
    pub(crate) fn allocate(&mut self) -> Option<u16> {
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
            if self.used.insert(candidate) {
                self.last = candidate;
                return Some(candidate);
            }
        }
    }

    /// Marks `id` as in use (when state is imported). False if it already
    /// was, or is 0.
    pub(crate) fn claim(&mut self, id: u16) -> bool {
        if id == 0 || !self.used.insert(id) {
            return false;
        }
        self.last = self.last.max(id);
        true
    }

    /// Frees `id`.
    pub(crate) fn release(&mut self, id: u16) {
        self.used.remove(id);
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
        assert_eq!(ids.allocate(), Some(1));
        for _ in 2..=u16::MAX {
            assert!(ids.allocate().is_some());
        }
        assert_eq!(ids.in_use(), 65_535);
        assert_eq!(ids.allocate(), None);
        ids.release(7);
        assert_eq!(ids.allocate(), Some(7));
        assert_eq!(ids.allocate(), None);
    }

    #[test]
    fn released_ids_are_not_reused_immediately() {
        let mut ids = PacketIds::default();
        let a = ids.allocate().unwrap_or(0);
        ids.release(a);
        let b = ids.allocate().unwrap_or(0);
        assert_ne!(a, b);
        assert!(!ids.claim(b));
        assert!(!ids.claim(0));
    }

    #[test]
    fn id_set_counts_and_lists_in_order() {
        let mut s = IdSet::default();
        assert!(!s.contains(5) && s.is_empty());
        assert!(s.insert(65535) && s.insert(5) && !s.insert(5));
        assert_eq!(s.len(), 2);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![5, 65535]);
        assert!(s.remove(5) && !s.remove(5));
        s.clear();
        assert!(s.is_empty() && !s.contains(65535));
    }
}
