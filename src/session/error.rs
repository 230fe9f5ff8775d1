//! Session errors: why a request was refused, why a message failed, why a
//! connection was closed.

use std::fmt;

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

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublishError::InvalidTopic(e) => write!(f, "invalid topic: {e}"),
            PublishError::QueueFull => write!(f, "offline queue is full"),
            PublishError::PacketTooLarge { size, max } => {
                write!(
                    f,
                    "packet of {size} bytes exceeds maximum packet size {max}"
                )
            }
            PublishError::Closed => write!(f, "client is closed"),
            PublishError::Rejected {
                reason_code,
                reason_string,
            } => {
                write!(
                    f,
                    "broker rejected the message with reason code {reason_code:#04x}"
                )?;
                if let Some(s) = reason_string {
                    write!(f, ": {s}")?;
                }
                Ok(())
            }
            PublishError::SessionLost => write!(f, "broker lost the session"),
            PublishError::Encode(e) => write!(f, "cannot encode: {e}"),
        }
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

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::InvalidTopic(e) => write!(f, "invalid topic filter: {e}"),
            RequestError::NoFilters => write!(f, "no topic filter given"),
            RequestError::Closed => write!(f, "client is closed"),
            RequestError::PacketTooLarge { size, max } => {
                write!(
                    f,
                    "packet of {size} bytes exceeds maximum packet size {max}"
                )
            }
            RequestError::Encode(e) => write!(f, "cannot encode: {e}"),
        }
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

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::Decode(e) => write!(f, "malformed packet from broker: {e}"),
            ProtocolError::UnexpectedPacket(t) => write!(f, "unexpected {t:?} from broker"),
            ProtocolError::TopicAliasInvalid(a) => write!(f, "invalid topic alias {a}"),
            ProtocolError::ReceiveMaximumExceeded => {
                write!(f, "broker exceeded our receive maximum")
            }
            ProtocolError::InvalidQoS => write!(f, "PUBLISH with a QoS we cannot accept"),
            ProtocolError::SessionPresentOnCleanStart => {
                write!(f, "CONNACK has Session Present after a clean start")
            }
        }
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

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::Protocol(e) => write!(f, "protocol error: {e}"),
            CloseReason::ConnectTimeout => write!(f, "no CONNACK within the connect timeout"),
            CloseReason::KeepAliveTimeout => write!(f, "no PINGRESP: connection is dead"),
            CloseReason::Refused { reason_code, .. } => {
                write!(f, "connection refused with code {reason_code:#04x}")
            }
            CloseReason::ServerDisconnect { reason_code, .. } => {
                write!(f, "broker disconnected with reason code {reason_code:#04x}")
            }
            CloseReason::Requested => write!(f, "disconnected by the application"),
        }
    }
}
