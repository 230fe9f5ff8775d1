//! Session errors: why a request was refused, why a message failed, why a
//! connection was closed.

use std::fmt;

use crate::codec::text::{push_dec, push_hex};
use crate::codec::{DecodeError, PacketType, Properties, TopicError};

/// Why a publish was refused at once or failed later.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublishError {
    /// The topic name breaks the topic rules.
    InvalidTopic(TopicError),
    /// The offline queue holds `max_queued` messages already.
    QueueFull,
    /// The encoded PUBLISH exceeds the maximum packet size (ours or the
    /// broker's).
    PacketTooLarge {
        /// Encoded size.
        size: usize,
        /// Limit in force.
        max: usize,
    },
    /// The session was closed by the application.
    Closed,
    /// The broker answered with a reason code >= 0x80 (MQTT 5).
    Rejected {
        /// PUBACK / PUBREC reason code.
        reason_code: u8,
        /// Reason string, if the broker sent one.
        reason_string: Option<String>,
    },
    /// The broker kept no session and the resend policy is
    /// [`super::ResendPolicy::Fail`].
    SessionLost,
    /// A field could not be encoded (e.g. a string over 65,535 bytes).
    Encode(crate::codec::EncodeError),
}

impl PublishError {
    /// Appends the message (what `Display` writes) to `out`.
    pub fn describe(&self, out: &mut String) {
        match self {
            PublishError::InvalidTopic(e) => {
                out.push_str("invalid topic: ");
                out.push_str(e.as_str());
            }
            PublishError::QueueFull => out.push_str("offline queue is full"),
            PublishError::PacketTooLarge { size, max } => too_large(out, *size, *max),
            PublishError::Closed => out.push_str("client is closed"),
            PublishError::Rejected {
                reason_code,
                reason_string,
            } => {
                out.push_str("broker rejected the message with reason code ");
                push_hex(out, u32::from(*reason_code), 2);
                if let Some(s) = reason_string {
                    out.push_str(": ");
                    out.push_str(s);
                }
            }
            PublishError::SessionLost => out.push_str("broker lost the session"),
            PublishError::Encode(e) => {
                out.push_str("cannot encode: ");
                e.describe(out);
            }
        }
    }
}

/// "packet of N bytes exceeds maximum packet size M".
fn too_large(out: &mut String, size: usize, max: usize) {
    out.push_str("packet of ");
    push_dec(out, size as u64);
    out.push_str(" bytes exceeds maximum packet size ");
    push_dec(out, max as u64);
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.describe(&mut s);
        f.write_str(&s)
    }
}

impl std::error::Error for PublishError {}

/// Why a subscribe or unsubscribe request was refused or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// A filter breaks the topic filter rules.
    InvalidTopic(TopicError),
    /// No filter given.
    NoFilters,
    /// The session was closed by the application.
    Closed,
    /// The request could not be encoded or exceeds the maximum packet size.
    PacketTooLarge {
        /// Encoded size.
        size: usize,
        /// Limit in force.
        max: usize,
    },
    /// A field could not be encoded.
    Encode(crate::codec::EncodeError),
}

impl RequestError {
    /// Appends the message (what `Display` writes) to `out`.
    pub fn describe(&self, out: &mut String) {
        match self {
            RequestError::InvalidTopic(e) => {
                out.push_str("invalid topic filter: ");
                out.push_str(e.as_str());
            }
            RequestError::NoFilters => out.push_str("no topic filter given"),
            RequestError::Closed => out.push_str("client is closed"),
            RequestError::PacketTooLarge { size, max } => too_large(out, *size, *max),
            RequestError::Encode(e) => {
                out.push_str("cannot encode: ");
                e.describe(out);
            }
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.describe(&mut s);
        f.write_str(&s)
    }
}

impl std::error::Error for RequestError {}

/// A broker behaviour that breaks the protocol; the connection is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The bytes did not decode.
    Decode(DecodeError),
    /// A packet a client never receives (CONNECT, SUBSCRIBE, PINGREQ, ...) or
    /// one that is out of place (anything before CONNACK, a second CONNACK).
    UnexpectedPacket(PacketType),
    /// A topic alias of 0, above our Topic Alias Maximum, or unknown.
    TopicAliasInvalid(u16),
    /// More incoming QoS 2 messages in flight than our Receive Maximum.
    ReceiveMaximumExceeded,
    /// CONNACK with Session Present although we asked for a clean start.
    SessionPresentOnCleanStart,
    /// A PUBLISH with a QoS above the subscription allows is not checked; a
    /// PUBLISH whose QoS is above the Maximum QoS we can handle is.
    InvalidQoS,
}

impl ProtocolError {
    /// The MQTT 5 DISCONNECT reason code that names this error.
    pub fn reason_code(&self) -> u8 {
        match self {
            ProtocolError::Decode(DecodeError::PacketTooLarge { .. }) => 0x95,
            ProtocolError::Decode(_) => 0x81,
            ProtocolError::UnexpectedPacket(_)
            | ProtocolError::InvalidQoS
            | ProtocolError::SessionPresentOnCleanStart => 0x82,
            ProtocolError::TopicAliasInvalid(_) => 0x94,
            ProtocolError::ReceiveMaximumExceeded => 0x93,
        }
    }
}

impl ProtocolError {
    /// Appends the message (what `Display` writes) to `out`.
    pub fn describe(&self, out: &mut String) {
        match self {
            ProtocolError::Decode(e) => {
                out.push_str("malformed packet from broker: ");
                e.describe(out);
            }
            ProtocolError::UnexpectedPacket(t) => {
                out.push_str("unexpected ");
                out.push_str(t.name());
                out.push_str(" from broker");
            }
            ProtocolError::TopicAliasInvalid(a) => {
                out.push_str("invalid topic alias ");
                push_dec(out, u64::from(*a));
            }
            ProtocolError::ReceiveMaximumExceeded => {
                out.push_str("broker exceeded our receive maximum")
            }
            ProtocolError::InvalidQoS => out.push_str("PUBLISH with a QoS we cannot accept"),
            ProtocolError::SessionPresentOnCleanStart => {
                out.push_str("CONNACK has Session Present after a clean start")
            }
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.describe(&mut s);
        f.write_str(&s)
    }
}

impl std::error::Error for ProtocolError {}

/// Why the session closed a connection (see [`super::Output::Close`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The broker broke the protocol.
    Protocol(ProtocolError),
    /// No CONNACK within the connect timeout.
    ConnectTimeout,
    /// No PINGRESP (or any packet) in time after PINGREQ.
    KeepAliveTimeout,
    /// CONNACK refused the connection.
    Refused {
        /// 3.1.1 return code or MQTT 5 reason code.
        reason_code: u8,
        /// MQTT 5 CONNACK properties (reason string, server reference).
        properties: Box<Properties>,
    },
    /// The broker sent DISCONNECT (MQTT 5).
    ServerDisconnect {
        /// Its reason code.
        reason_code: u8,
        /// Its properties.
        properties: Box<Properties>,
    },
    /// The application asked to disconnect; DISCONNECT was sent.
    Requested,
}

impl CloseReason {
    /// Appends the message (what `Display` writes) to `out`.
    pub fn describe(&self, out: &mut String) {
        match self {
            CloseReason::Protocol(e) => {
                out.push_str("protocol error: ");
                e.describe(out);
            }
            CloseReason::ConnectTimeout => out.push_str("no CONNACK within the connect timeout"),
            CloseReason::KeepAliveTimeout => out.push_str("no PINGRESP: connection is dead"),
            CloseReason::Refused { reason_code, .. } => {
                out.push_str("connection refused with code ");
                push_hex(out, u32::from(*reason_code), 2);
            }
            CloseReason::ServerDisconnect { reason_code, .. } => {
                out.push_str("broker disconnected with reason code ");
                push_hex(out, u32::from(*reason_code), 2);
            }
            CloseReason::Requested => out.push_str("disconnected by the application"),
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.describe(&mut s);
        f.write_str(&s)
    }
}
