//! Values that cross the session's boundary: what the application asks for,
//! what the driver must do, and the durable state.

use serde::{Deserialize, Serialize};

use crate::codec::{ConnAck, Properties, QoS, Subscription};

use super::error::{CloseReason, PublishError, RequestError};

/// An application message to publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Topic name (no wildcards).
    pub topic: String,
    /// Payload bytes.
    pub payload: Vec<u8>,
    /// Delivery QoS.
    pub qos: QoS,
    /// RETAIN flag.
    pub retain: bool,
    /// MQTT 5 PUBLISH properties (a topic alias given here is ignored: the
    /// session assigns aliases itself).
    pub properties: Properties,
}

/// Where an outgoing message is in its handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageState {
    /// Accepted, not yet sent (offline, or waiting for a place in the
    /// inflight window). Has no packet id yet.
    Queued,
    /// PUBLISH sent with its packet id; waiting for PUBACK (QoS 1) or PUBREC
    /// (QoS 2).
    Sent,
    /// QoS 2: PUBREC received; PUBREL is owed to the broker.
    Received,
    /// QoS 2: PUBREL sent; waiting for PUBCOMP.
    Released,
}

/// An outgoing message with its handshake state: the unit of the outbox and
/// of persistence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMessage {
    /// Order of acceptance; unique for the life of the stored session. Also
    /// the id by which the application's request is completed.
    pub seq: u64,
    /// The message.
    pub message: Message,
    /// Packet id while in flight; 0 while queued.
    pub packet_id: u16,
    /// Handshake state.
    pub state: MessageState,
    /// Times the PUBLISH has been written to a connection.
    pub attempts: u32,
    /// Time of acceptance, in the session's milliseconds.
    pub created_ms: u64,
}

/// Everything needed to resume a session in a fresh engine (after a page
/// reload): plain values, serde-serializable.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SessionState {
    /// Outgoing messages not yet complete, in `seq` order.
    pub messages: Vec<StoredMessage>,
    /// Incoming QoS 2 packet ids between PUBREC and PUBREL.
    pub incoming_qos2: Vec<u16>,
    /// Subscriptions the broker acknowledged.
    pub subscriptions: Vec<Subscription>,
}

/// A change for the store. Those for which [`PersistOp::guards_transmit`]
/// holds must be durable before the next [`Output::Transmit`] that follows
/// them is sent; the others may be written later (losing them in a crash
/// only repeats work the protocol tolerates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersistOp {
    /// Store (insert or replace) a whole outgoing message.
    PutMessage(Box<StoredMessage>),
    /// Update the handshake state and packet id of a stored message.
    SetMessageState {
        /// Which message.
        seq: u64,
        /// Its packet id (0 when queued).
        packet_id: u16,
        /// Its new state.
        state: MessageState,
        /// Its attempt count.
        attempts: u32,
        /// Its QoS (whether the new packet id must be durable before the
        /// PUBLISH that carries it: only for QoS 2, where a different id on
        /// resume would be a new message to the broker).
        qos: QoS,
    },
    /// The message is complete (or failed): forget it.
    DeleteMessage {
        /// Which message.
        seq: u64,
    },
    /// An incoming QoS 2 packet id was received (PUBREC about to be sent).
    PutIncoming {
        /// The packet id.
        packet_id: u16,
    },
    /// An incoming QoS 2 packet id was released (PUBCOMP about to be sent).
    DeleteIncoming {
        /// The packet id.
        packet_id: u16,
    },
    /// The broker kept no session: every incoming QoS 2 id is forgotten.
    ClearIncoming,
    /// A subscription was acknowledged (insert or replace by filter).
    PutSubscription(Subscription),
    /// A subscription was removed.
    DeleteSubscription {
        /// Its filter.
        filter: String,
    },
}

impl PersistOp {
    /// Whether the bytes that follow this operation may leave only once it
    /// is durable: a new message (write-ahead), a QoS 2 packet id or PUBREC
    /// state, and incoming QoS 2 ids (their loss would deliver twice, or
    /// drop a new message that reuses a released id). Deleting a completed
    /// message, QoS 1 state and subscriptions need no such wait.
    pub fn guards_transmit(&self) -> bool {
        match self {
            PersistOp::PutMessage(_)
            | PersistOp::PutIncoming { .. }
            | PersistOp::DeleteIncoming { .. }
            | PersistOp::ClearIncoming => true,
            PersistOp::SetMessageState { state, qos, .. } => {
                *qos == QoS::ExactlyOnce && *state != MessageState::Queued
            }
            PersistOp::DeleteMessage { .. }
            | PersistOp::PutSubscription(_)
            | PersistOp::DeleteSubscription { .. } => false,
        }
    }
}

/// What the application learns from the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// CONNACK with success: the connection is usable.
    Connected(ConnAck),
    /// An incoming application message (topic alias already resolved),
    /// delivered once per QoS 2 message.
    Message(crate::codec::Publish),
    /// A publish finished: QoS 0 handed over (or queued), QoS 1 acknowledged
    /// by PUBACK, QoS 2 by PUBCOMP.
    PublishDone {
        /// The `seq` returned by [`super::Session::publish`].
        id: u64,
    },
    /// A publish failed and was dropped.
    PublishFailed {
        /// The `seq` returned by [`super::Session::publish`].
        id: u64,
        /// Why.
        error: PublishError,
    },
    /// SUBACK: one granted QoS or failure code per filter.
    Subscribed {
        /// The id returned by [`super::Session::subscribe`].
        id: u64,
        /// Reason codes in filter order.
        reason_codes: Vec<u8>,
    },
    /// UNSUBACK (MQTT 5 reason codes; empty under 3.1.1).
    Unsubscribed {
        /// The id returned by [`super::Session::unsubscribe`].
        id: u64,
        /// Reason codes in filter order.
        reason_codes: Vec<u8>,
    },
    /// A subscribe or unsubscribe request failed before an answer.
    RequestFailed {
        /// Its id.
        id: u64,
        /// Why.
        error: RequestError,
    },
}

/// What the driver must do next, in order.
// Events carry a whole PUBLISH; boxing it would cost an allocation per
// received message for a move or two saved.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Make this durable before sending any later `Transmit`.
    Persist(PersistOp),
    /// Write these bytes to the connection (one or more whole packets).
    Transmit(Vec<u8>),
    /// Tell the application.
    Event(Event),
    /// Close the connection; the session is already disconnected and keeps
    /// its state for the next connection.
    Close(CloseReason),
}
