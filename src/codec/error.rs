//! Codec errors: one variant per cause, so callers and tests can tell them apart.

use std::fmt;

use super::packet::PacketType;
use super::text::{push_dec, push_hex};
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
    /// A packet only a client sends (CONNECT, SUBSCRIBE, UNSUBSCRIBE,
    /// PINGREQ), received by a client.
    UnexpectedPacket(PacketType),
}

impl DecodeError {
    /// Appends the message (what `Display` writes) to `out`.
    pub(crate) fn describe(&self, out: &mut String) {
        let (text, value) = match self {
            DecodeError::MalformedVarInt => ("malformed variable byte integer", None),
            DecodeError::NonMinimalVarInt => {
                ("variable byte integer not in its shortest form", None)
            }
            DecodeError::PacketTooLarge { size, max } => {
                out.push_str("packet of ");
                push_dec(out, *size as u64);
                out.push_str(" bytes exceeds maximum of ");
                push_dec(out, *max as u64);
                return;
            }
            DecodeError::InvalidPacketType(t) => {
                out.push_str("invalid packet type ");
                push_dec(out, u64::from(*t));
                return;
            }
            DecodeError::InvalidFlags { packet_type, flags } => {
                out.push_str("invalid fixed header flags ");
                push_hex(out, u32::from(*flags), 1);
                out.push_str(" for ");
                out.push_str(packet_type.name());
                return;
            }
            DecodeError::InvalidQoS => ("invalid QoS 3", None),
            DecodeError::ZeroPacketId => ("packet identifier 0", None),
            DecodeError::Truncated => ("field truncated by end of packet", None),
            DecodeError::TrailingBytes => ("unexpected bytes at end of packet", None),
            DecodeError::InvalidUtf8 => ("string is not valid UTF-8", None),
            DecodeError::NullCharacter => ("string contains U+0000", None),
            DecodeError::InvalidProtocolName => ("protocol name is not MQTT", None),
            DecodeError::UnsupportedProtocolLevel(l) => {
                out.push_str("unsupported protocol level ");
                push_dec(out, u64::from(*l));
                return;
            }
            DecodeError::InvalidConnectFlags => ("invalid CONNECT flags", None),
            DecodeError::InvalidConnAckFlags => ("invalid CONNACK flags", None),
            DecodeError::UnknownProperty(id) => ("unknown property ", Some(*id)),
            DecodeError::DuplicateProperty(id) => ("duplicate property ", Some(*id)),
            DecodeError::PropertyNotAllowed { id, packet_type } => {
                property_not_allowed(out, *id, *packet_type);
                return;
            }
            DecodeError::InvalidPropertyValue(id) => ("invalid value for property ", Some(*id)),
            DecodeError::InvalidReasonCode(c) => ("invalid reason code ", Some(*c)),
            DecodeError::NoTopicFilters => ("no topic filters", None),
            DecodeError::InvalidSubscriptionOptions => ("invalid subscription options", None),
            DecodeError::InvalidTopic(e) => {
                out.push_str("invalid topic: ");
                out.push_str(e.as_str());
                return;
            }
            DecodeError::UnexpectedPacket(t) => {
                out.push_str("unexpected ");
                out.push_str(t.name());
                return;
            }
        };
        out.push_str(text);
        if let Some(v) = value {
            push_hex(out, u32::from(v), 2);
        }
    }
}

/// "property 0x.. not allowed in Type".
fn property_not_allowed(out: &mut String, id: u8, packet_type: PacketType) {
    out.push_str("property ");
    push_hex(out, u32::from(id), 2);
    out.push_str(" not allowed in ");
    out.push_str(packet_type.name());
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.describe(&mut s);
        f.write_str(&s)
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

impl EncodeError {
    /// Appends the message (what `Display` writes) to `out`.
    pub(crate) fn describe(&self, out: &mut String) {
        let text = match self {
            EncodeError::FieldTooLong => "field longer than 65535 bytes",
            EncodeError::ValueTooLarge => "value above 268435455",
            EncodeError::ZeroPacketId => "packet identifier 0",
            EncodeError::UnsupportedInVersion(t) => {
                out.push_str(t.name());
                " does not exist in MQTT 3.1.1"
            }
            EncodeError::NoTopicFilters => "no topic filters",
            EncodeError::InvalidTopic(e) => {
                out.push_str("invalid topic: ");
                e.as_str()
            }
            EncodeError::NullCharacter => "string contains U+0000",
            EncodeError::PropertyNotAllowed { id, packet_type } => {
                property_not_allowed(out, *id, *packet_type);
                ""
            }
            EncodeError::InvalidPropertyValue(id) => {
                out.push_str("invalid value for property ");
                push_hex(out, u32::from(*id), 2);
                ""
            }
            EncodeError::DuplicateProperty(id) => {
                out.push_str("property ");
                push_hex(out, u32::from(*id), 2);
                " given more than once"
            }
            EncodeError::PasswordWithoutUsername => "MQTT 3.1.1 password without user name",
            EncodeError::DupWithQoS0 => "DUP flag set on a QoS 0 PUBLISH",
        };
        out.push_str(text);
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.describe(&mut s);
        f.write_str(&s)
    }
}

impl std::error::Error for EncodeError {}
