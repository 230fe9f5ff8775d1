//! Session stores: where the session's [`PersistOp`]s are made durable and
//! from where a [`SessionState`] is read back.
//!
//! [`MemoryStore`] keeps them in memory (tests, and the reference for what
//! a store must do); the browser's IndexedDB store lives in `indexeddb`.

mod memory;
pub mod record;

#[cfg(target_arch = "wasm32")]
pub(crate) mod indexeddb;
#[cfg(target_arch = "wasm32")]
pub(crate) mod journal;

use std::fmt;

pub use memory::MemoryStore;

use crate::codec::text::concat;
use crate::session::PersistOp;

/// Why the store could not load or write.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// No store is available (IndexedDB missing, as in some private modes).
    Unavailable(String),
    /// Opening or upgrading the database failed or was blocked by another tab.
    Open(String),
    /// A write failed (quota exceeded, transaction aborted).
    Write(String),
    /// A read failed or found data it cannot use.
    Read(String),
}

impl StoreError {
    /// The message `Display` writes, built without `core::fmt` (see
    /// codec::text).
    pub fn message(&self) -> String {
        let (prefix, m) = match self {
            StoreError::Unavailable(m) => ("session store unavailable: ", m),
            StoreError::Open(m) => ("cannot open session store: ", m),
            StoreError::Write(m) => ("session store write failed: ", m),
            StoreError::Read(m) => ("session store read failed: ", m),
        };
        concat(&[prefix, m])
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for StoreError {}

/// A place where persistence operations become durable.
pub trait Store {
    /// Makes `ops` durable as one atomic unit, in order. A store may finish
    /// later; it then reports completions in the order of the writes.
    fn write(&mut self, ops: &[PersistOp]) -> Result<(), StoreError>;
}
