//! Two small tables of the JavaScript layer, kept as vectors: promises
//! waiting for a request id, and listeners per event name. Both stay small
//! and are searched from where the next hit almost always is, and a vector
//! costs far less code in the shipped wasm than a hash map.

use std::collections::VecDeque;

use js_sys::Function;
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

/// Listener functions per event name, in the order added.
#[derive(Default)]
pub(crate) struct Listeners {
    events: Vec<(String, Vec<Function>)>,
}

impl Listeners {
    /// The listeners of `event` (empty if none).
    pub(crate) fn of(&self, event: &str) -> &[Function] {
        self.events
            .iter()
            .find(|(name, _)| name == event)
            .map_or(&[], |(_, list)| list.as_slice())
    }

    /// Adds `f` to `event`.
    pub(crate) fn add(&mut self, event: &str, f: Function) {
        match self.events.iter_mut().find(|(name, _)| name == event) {
            Some((_, list)) => list.push(f),
            None => self.events.push((event.to_string(), vec![f])),
        }
    }

    /// Removes the first registration of `f` from `event`.
    pub(crate) fn remove(&mut self, event: &str, f: &Function) {
        if let Some((_, list)) = self.events.iter_mut().find(|(name, _)| name == event) {
            let target = JsValue::from(f);
            if let Some(i) = list.iter().position(|g| JsValue::from(g) == target) {
                list.remove(i);
            }
        }
    }
}
