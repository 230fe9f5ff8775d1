//! The sans-IO MQTT client session: QoS 0/1/2 flows, packet ids, the
//! inflight window, keep alive, topic aliases, and resume after a reconnect
//! or a reload. No I/O, no clock, no browser: the driver feeds it events with
//! the current time and carries out its [`Output`]s (see [`Session`]).

mod aliases;
mod config;
mod engine;
mod error;
mod packet_ids;
mod types;

pub use config::{ResendPolicy, SessionConfig, DEFAULT_MAX_INFLIGHT_V311};
pub use engine::{sort_by_seq, Session};
pub use error::{CloseReason, ProtocolError, PublishError, RequestError};
pub use types::{Event, Message, MessageState, Output, PersistOp, SessionState, StoredMessage};
