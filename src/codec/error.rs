//! Codec errors: one variant per cause, so callers and tests can tell them apart.

use std::fmt;

use super::packet::PacketType;
use super::topic::TopicError;

/// Why bytes could not be decoded as an MQTT packet. Every one of these is a
/// Malformed Packet or Protocol Error in the specification's terms: the
/// connection must be closed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// A variable byte integer (remaining length, property length,
    /// subscription identifier) has a continuation bit on its fourth byte.
    MalformedVarInt,
    /// MQTT 5 requires the shortest encoding of a variable byte integer.
    NonMinimalVarInt,
    /// The packet (fixed header included) is larger than the allowed maximum.
    PacketTooLarge {
        /// Size of the whole packet in bytes.
        size: usize,
        /// The configured maximum.
        max: usize,
    },
    /// Packet type 0, or 15 (AUTH) under 3.1.1.
    InvalidPacketType(u8),
    /// The low nibble of the fixed header has reserved bits set wrongly.
    InvalidFlags {
        /// Which packet.
        packet_type: PacketType,
        /// The flags nibble received.
        flags: u8,
    },
    /// A QoS of 3 (in PUBLISH flags, a will, or subscription options).
    InvalidQoS,
    /// A packet identifier of 0 where one is required.
    ZeroPacketId,
    /// A field runs past the end of the packet.
    Truncated,
    /// Bytes remain inside the packet after its last field.
    TrailingBytes,
    /// A UTF-8 string field is not valid UTF-8.
    InvalidUtf8,
    /// A UTF-8 string field contains U+0000.
    NullCharacter,
    /// CONNECT protocol name is not "MQTT".
    InvalidProtocolName,
    /// CONNECT protocol level is neither 4 nor 5.
    UnsupportedProtocolLevel(u8),
    /// CONNECT flags are inconsistent (reserved bit, will QoS/retain without
    /// will, password without user name in 3.1.1).
    InvalidConnectFlags,
    /// CONNACK acknowledge flags have reserved bits set.
    InvalidConnAckFlags,
    /// A property identifier this crate does not know.
    UnknownProperty(u8),
    /// A property that may appear once appears twice.
    DuplicateProperty(u8),
    /// A property that this packet type may not carry.
    PropertyNotAllowed {
        /// Property identifier.
        id: u8,
        /// Packet it appeared in.
        packet_type: PacketType,
    },
    /// A property value out of its allowed range (e.g. receive maximum 0).
    InvalidPropertyValue(u8),
    /// A reason / return code that this packet may not carry.
    InvalidReasonCode(u8),
    /// SUBSCRIBE or UNSUBSCRIBE without any topic filter.
    NoTopicFilters,
    /// Subscription options with reserved bits set or retain handling 3.
    InvalidSubscriptionOptions,
    /// A topic name or filter that breaks the topic rules.
    InvalidTopic(TopicError),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::MalformedVarInt => write!(f, "malformed variable byte integer"),
            DecodeError::NonMinimalVarInt => {
                write!(f, "variable byte integer not in its shortest form")
            }
            DecodeError::PacketTooLarge { size, max } => {
                write!(f, "packet of {size} bytes exceeds maximum of {max}")
            }
            DecodeError::InvalidPacketType(t) => write!(f, "invalid packet type {t}"),
            DecodeError::InvalidFlags { packet_type, flags } => {
                write!(
                    f,
                    "invalid fixed header flags {flags:#x} for {packet_type:?}"
                )
            }
            DecodeError::InvalidQoS => write!(f, "invalid QoS 3"),
            DecodeError::ZeroPacketId => write!(f, "packet identifier 0"),
            DecodeError::Truncated => write!(f, "field truncated by end of packet"),
            DecodeError::TrailingBytes => write!(f, "unexpected bytes at end of packet"),
            DecodeError::InvalidUtf8 => write!(f, "string is not valid UTF-8"),
            DecodeError::NullCharacter => write!(f, "string contains U+0000"),
            DecodeError::InvalidProtocolName => write!(f, "protocol name is not MQTT"),
            DecodeError::UnsupportedProtocolLevel(l) => {
                write!(f, "unsupported protocol level {l}")
            }
            DecodeError::InvalidConnectFlags => write!(f, "invalid CONNECT flags"),
            DecodeError::InvalidConnAckFlags => write!(f, "invalid CONNACK flags"),
            DecodeError::UnknownProperty(id) => write!(f, "unknown property {id:#04x}"),
            DecodeError::DuplicateProperty(id) => write!(f, "duplicate property {id:#04x}"),
            DecodeError::PropertyNotAllowed { id, packet_type } => {
                write!(f, "property {id:#04x} not allowed in {packet_type:?}")
            }
            DecodeError::InvalidPropertyValue(id) => {
                write!(f, "invalid value for property {id:#04x}")
            }
            DecodeError::InvalidReasonCode(c) => write!(f, "invalid reason code {c:#04x}"),
            DecodeError::NoTopicFilters => write!(f, "no topic filters"),
            DecodeError::InvalidSubscriptionOptions => write!(f, "invalid subscription options"),
            DecodeError::InvalidTopic(e) => write!(f, "invalid topic: {e}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Why a packet value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// A string or binary field is longer than 65,535 bytes.
    FieldTooLong,
    /// A variable byte integer value above 268,435,455 (remaining length,
    /// subscription identifier).
    ValueTooLarge,
    /// A packet identifier of 0 where one is required.
    ZeroPacketId,
    /// The packet needs MQTT 5 (AUTH) but 3.1.1 was asked for.
    UnsupportedInVersion(PacketType),
    /// SUBSCRIBE or UNSUBSCRIBE without any topic filter.
    NoTopicFilters,
    /// A topic name or filter that breaks the topic rules.
    InvalidTopic(TopicError),
    /// A string contains U+0000.
    NullCharacter,
    /// A property that this packet type may not carry (MQTT 5.0 table 2-4).
    PropertyNotAllowed {
        /// Property identifier.
        id: u8,
        /// Packet it was set on (CONNECT for will properties).
        packet_type: PacketType,
    },
    /// A property value out of its allowed range (e.g. receive maximum 0,
    /// a boolean byte other than 0 or 1, subscription identifier 0).
    InvalidPropertyValue(u8),
    /// A property given more often than the packet allows (more than one
    /// subscription identifier in SUBSCRIBE).
    DuplicateProperty(u8),
    /// MQTT 3.1.1 CONNECT with a password but no user name [MQTT-3.1.2-22].
    PasswordWithoutUsername,
    /// PUBLISH with the DUP flag at QoS 0 [MQTT-3.3.1-2].
    DupWithQoS0,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::FieldTooLong => write!(f, "field longer than 65535 bytes"),
            EncodeError::ValueTooLarge => write!(f, "value above 268435455"),
            EncodeError::ZeroPacketId => write!(f, "packet identifier 0"),
            EncodeError::UnsupportedInVersion(t) => {
                write!(f, "{t:?} does not exist in MQTT 3.1.1")
            }
            EncodeError::NoTopicFilters => write!(f, "no topic filters"),
            EncodeError::InvalidTopic(e) => write!(f, "invalid topic: {e}"),
            EncodeError::NullCharacter => write!(f, "string contains U+0000"),
            EncodeError::PropertyNotAllowed { id, packet_type } => {
                write!(f, "property {id:#04x} not allowed in {packet_type:?}")
            }
            EncodeError::InvalidPropertyValue(id) => {
                write!(f, "invalid value for property {id:#04x}")
            }
            EncodeError::DuplicateProperty(id) => {
                write!(f, "property {id:#04x} given more than once")
            }
            EncodeError::PasswordWithoutUsername => {
                write!(f, "MQTT 3.1.1 password without user name")
            }
            EncodeError::DupWithQoS0 => write!(f, "DUP flag set on a QoS 0 PUBLISH"),
        }
    }
}

impl std::error::Error for EncodeError {}
