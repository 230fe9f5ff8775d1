//! Two small tables of the JavaScript layer, kept as vectors: promises
//! waiting for a request id, and the JS strings of recent topics. Both stay
//! small and are searched from where the next hit almost always is, and a
//! vector costs far less code in the shipped wasm than a hash map.

use std::collections::VecDeque;
use wasm_bindgen::JsValue;

/// Values waiting for an id from an increasing sequence, oldest first.
pub(crate) struct Pending<T> {
    entries: VecDeque<(u64, T)>,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending {
            entries: VecDeque::new(),
        }
    }
}

impl<T> Pending<T> {
    /// Records `value` for `id` (ids normally arrive in increasing order).
    pub(crate) fn insert(&mut self, id: u64, value: T) {
        match self.entries.back() {
            Some((last, _)) if *last > id => {
                let i = self.entries.partition_point(|(k, _)| *k < id);
                self.entries.insert(i, (id, value));
            }
            _ => self.entries.push_back((id, value)),
        }
    }

    /// Takes the value for `id`, if any (completions mostly come in order).
    pub(crate) fn take(&mut self, id: u64) -> Option<T> {
        let i = self.entries.binary_search_by_key(&id, |(k, _)| *k).ok()?;
        self.entries.remove(i).map(|(_, v)| v)
    }

    /// Takes every value, oldest first.
    pub(crate) fn take_all(&mut self) -> impl Iterator<Item = T> {
        std::mem::take(&mut self.entries)
            .into_iter()
            .map(|(_, v)| v)
    }
}

/// Topics kept as JavaScript strings.
const TOPIC_CACHE_SIZE: usize = 32;

/// JavaScript strings of recently received topics. A dashboard receives the
/// same few topics over and over, and making a JS string from UTF-8 costs
/// more than the rest of a delivery; a hit costs a compare of a few short
/// strings.
#[derive(Default)]
pub(crate) struct TopicCache {
    entries: Vec<(String, JsValue)>,
    /// The entry replaced next once the cache is full (oldest insert).
    next: usize,
}

impl TopicCache {
    /// `topic` as a JavaScript string.
    pub(crate) fn get(&mut self, topic: &str) -> JsValue {
        if let Some((_, v)) = self.entries.iter().find(|(t, _)| t == topic) {
            return v.clone();
        }
        let v = JsValue::from_str(topic);
        let entry = (topic.to_owned(), v.clone());
        if self.entries.len() < TOPIC_CACHE_SIZE {
            self.entries.push(entry);
        } else if let Some(slot) = self.entries.get_mut(self.next) {
            *slot = entry;
            self.next = (self.next + 1) % TOPIC_CACHE_SIZE;
        }
        v
    }
}
