//! Reason codes (MQTT 5.0 §2.4, table 2-6) and the MQTT 3.1.1 CONNACK return
//! codes (MQTT 3.1.1 §3.2.2.3, table 3.1), with which packet may carry which.

use super::packet::PacketType;

/// 0x00: Success (CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK, AUTH).
pub const SUCCESS: u8 = 0x00;
/// 0x00: Normal disconnection (DISCONNECT).
pub const NORMAL_DISCONNECTION: u8 = 0x00;
/// 0x00: Granted QoS 0 (SUBACK).
pub const GRANTED_QOS_0: u8 = 0x00;
/// 0x01: Granted QoS 1 (SUBACK).
pub const GRANTED_QOS_1: u8 = 0x01;
/// 0x02: Granted QoS 2 (SUBACK).
pub const GRANTED_QOS_2: u8 = 0x02;
/// 0x04: Disconnect with Will Message (DISCONNECT from the client).
pub const DISCONNECT_WITH_WILL_MESSAGE: u8 = 0x04;
/// 0x10: No matching subscribers (PUBACK, PUBREC).
pub const NO_MATCHING_SUBSCRIBERS: u8 = 0x10;
/// 0x11: No subscription existed (UNSUBACK).
pub const NO_SUBSCRIPTION_EXISTED: u8 = 0x11;
/// 0x18: Continue authentication (AUTH).
pub const CONTINUE_AUTHENTICATION: u8 = 0x18;
/// 0x19: Re-authenticate (AUTH).
pub const RE_AUTHENTICATE: u8 = 0x19;
/// 0x80: Unspecified error.
pub const UNSPECIFIED_ERROR: u8 = 0x80;
/// 0x81: Malformed Packet.
pub const MALFORMED_PACKET: u8 = 0x81;
/// 0x82: Protocol Error.
pub const PROTOCOL_ERROR: u8 = 0x82;
/// 0x83: Implementation specific error.
pub const IMPLEMENTATION_SPECIFIC_ERROR: u8 = 0x83;
/// 0x84: Unsupported Protocol Version (CONNACK).
pub const UNSUPPORTED_PROTOCOL_VERSION: u8 = 0x84;
/// 0x85: Client Identifier not valid (CONNACK).
pub const CLIENT_IDENTIFIER_NOT_VALID: u8 = 0x85;
/// 0x86: Bad User Name or Password (CONNACK).
pub const BAD_USER_NAME_OR_PASSWORD: u8 = 0x86;
/// 0x87: Not authorized.
pub const NOT_AUTHORIZED: u8 = 0x87;
/// 0x88: Server unavailable (CONNACK).
pub const SERVER_UNAVAILABLE: u8 = 0x88;
/// 0x89: Server busy (CONNACK, DISCONNECT).
pub const SERVER_BUSY: u8 = 0x89;
/// 0x8A: Banned (CONNACK).
pub const BANNED: u8 = 0x8A;
/// 0x8B: Server shutting down (DISCONNECT).
pub const SERVER_SHUTTING_DOWN: u8 = 0x8B;
/// 0x8C: Bad authentication method (CONNACK, DISCONNECT).
pub const BAD_AUTHENTICATION_METHOD: u8 = 0x8C;
/// 0x8D: Keep Alive timeout (DISCONNECT).
pub const KEEP_ALIVE_TIMEOUT: u8 = 0x8D;
/// 0x8E: Session taken over (DISCONNECT).
pub const SESSION_TAKEN_OVER: u8 = 0x8E;
/// 0x8F: Topic Filter invalid (SUBACK, UNSUBACK, DISCONNECT).
pub const TOPIC_FILTER_INVALID: u8 = 0x8F;
/// 0x90: Topic Name invalid (CONNACK, PUBACK, PUBREC, DISCONNECT).
pub const TOPIC_NAME_INVALID: u8 = 0x90;
/// 0x91: Packet Identifier in use (PUBACK, PUBREC, SUBACK, UNSUBACK).
pub const PACKET_ID_IN_USE: u8 = 0x91;
/// 0x92: Packet Identifier not found (PUBREL, PUBCOMP).
pub const PACKET_ID_NOT_FOUND: u8 = 0x92;
/// 0x93: Receive Maximum exceeded (DISCONNECT).
pub const RECEIVE_MAXIMUM_EXCEEDED: u8 = 0x93;
/// 0x94: Topic Alias invalid (DISCONNECT).
pub const TOPIC_ALIAS_INVALID: u8 = 0x94;
/// 0x95: Packet too large (CONNACK, DISCONNECT).
pub const PACKET_TOO_LARGE: u8 = 0x95;
/// 0x96: Message rate too high (DISCONNECT).
pub const MESSAGE_RATE_TOO_HIGH: u8 = 0x96;
/// 0x97: Quota exceeded.
pub const QUOTA_EXCEEDED: u8 = 0x97;
/// 0x98: Administrative action (DISCONNECT).
pub const ADMINISTRATIVE_ACTION: u8 = 0x98;
/// 0x99: Payload format invalid.
pub const PAYLOAD_FORMAT_INVALID: u8 = 0x99;
/// 0x9A: Retain not supported (CONNACK, DISCONNECT).
pub const RETAIN_NOT_SUPPORTED: u8 = 0x9A;
/// 0x9B: QoS not supported (CONNACK, DISCONNECT).
pub const QOS_NOT_SUPPORTED: u8 = 0x9B;
/// 0x9C: Use another server (CONNACK, DISCONNECT).
pub const USE_ANOTHER_SERVER: u8 = 0x9C;
/// 0x9D: Server moved (CONNACK, DISCONNECT).
pub const SERVER_MOVED: u8 = 0x9D;
/// 0x9E: Shared Subscriptions not supported (SUBACK, DISCONNECT).
pub const SHARED_SUBSCRIPTIONS_NOT_SUPPORTED: u8 = 0x9E;
/// 0x9F: Connection rate exceeded (CONNACK, DISCONNECT).
pub const CONNECTION_RATE_EXCEEDED: u8 = 0x9F;
/// 0xA0: Maximum connect time (DISCONNECT).
pub const MAXIMUM_CONNECT_TIME: u8 = 0xA0;
/// 0xA1: Subscription Identifiers not supported (SUBACK, DISCONNECT).
pub const SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED: u8 = 0xA1;
/// 0xA2: Wildcard Subscriptions not supported (SUBACK, DISCONNECT).
pub const WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED: u8 = 0xA2;

/// MQTT 3.1.1 CONNACK 0x00: Connection Accepted.
pub const V311_CONNECTION_ACCEPTED: u8 = 0x00;
/// MQTT 3.1.1 CONNACK 0x01: unacceptable protocol version.
pub const V311_UNACCEPTABLE_PROTOCOL_VERSION: u8 = 0x01;
/// MQTT 3.1.1 CONNACK 0x02: identifier rejected.
pub const V311_IDENTIFIER_REJECTED: u8 = 0x02;
/// MQTT 3.1.1 CONNACK 0x03: server unavailable.
pub const V311_SERVER_UNAVAILABLE: u8 = 0x03;
/// MQTT 3.1.1 CONNACK 0x04: bad user name or password.
pub const V311_BAD_USER_NAME_OR_PASSWORD: u8 = 0x04;
/// MQTT 3.1.1 CONNACK 0x05: not authorized.
pub const V311_NOT_AUTHORIZED: u8 = 0x05;
/// MQTT 3.1.1 SUBACK 0x80: Failure.
pub const V311_SUBACK_FAILURE: u8 = 0x80;

/// The MQTT 5 name of a reason code (table 2-6), e.g. `"Packet too large"`
/// for 0x95. Codes shared by several meanings give them all (0x00 is
/// `"Success / Normal disconnection / Granted QoS 0"`). Codes that MQTT 5 does
/// not define give `"Unknown reason code"`. For MQTT 3.1.1 CONNACK return
/// codes use [`describe_v311_connack`]. Never panics.
pub fn describe(code: u8) -> &'static str {
    match code {
        0x00 => "Success / Normal disconnection / Granted QoS 0",
        0x01 => "Granted QoS 1",
        0x02 => "Granted QoS 2",
        0x04 => "Disconnect with Will Message",
        0x10 => "No matching subscribers",
        0x11 => "No subscription existed",
        0x18 => "Continue authentication",
        0x19 => "Re-authenticate",
        0x80 => "Unspecified error",
        0x81 => "Malformed Packet",
        0x82 => "Protocol Error",
        0x83 => "Implementation specific error",
        0x84 => "Unsupported Protocol Version",
        0x85 => "Client Identifier not valid",
        0x86 => "Bad User Name or Password",
        0x87 => "Not authorized",
        0x88 => "Server unavailable",
        0x89 => "Server busy",
        0x8A => "Banned",
        0x8B => "Server shutting down",
        0x8C => "Bad authentication method",
        0x8D => "Keep Alive timeout",
        0x8E => "Session taken over",
        0x8F => "Topic Filter invalid",
        0x90 => "Topic Name invalid",
        0x91 => "Packet Identifier in use",
        0x92 => "Packet Identifier not found",
        0x93 => "Receive Maximum exceeded",
        0x94 => "Topic Alias invalid",
        0x95 => "Packet too large",
        0x96 => "Message rate too high",
        0x97 => "Quota exceeded",
        0x98 => "Administrative action",
        0x99 => "Payload format invalid",
        0x9A => "Retain not supported",
        0x9B => "QoS not supported",
        0x9C => "Use another server",
        0x9D => "Server moved",
        0x9E => "Shared Subscriptions not supported",
        0x9F => "Connection rate exceeded",
        0xA0 => "Maximum connect time",
        0xA1 => "Subscription Identifiers not supported",
        0xA2 => "Wildcard Subscriptions not supported",
        _ => "Unknown reason code",
    }
}

/// The meaning of an MQTT 3.1.1 CONNACK return code (0 to 5); other values
/// give `"Unknown return code"`. Never panics.
pub fn describe_v311_connack(code: u8) -> &'static str {
    match code {
        0 => "Connection Accepted",
        1 => "Connection Refused, unacceptable protocol version",
        2 => "Connection Refused, identifier rejected",
        3 => "Connection Refused, Server unavailable",
        4 => "Connection Refused, bad user name or password",
        5 => "Connection Refused, not authorized",
        _ => "Unknown return code",
    }
}

/// Whether MQTT 5 allows reason code `code` in a packet of type `packet_type`
/// (the reason code tables of MQTT 5.0 §3.2.2.2, §3.4.2.1, §3.5.2.1,
/// §3.6.2.1, §3.7.2.1, §3.9.3, §3.11.3, §3.14.2.1, §3.15.2.1). Packets that
/// carry no reason code (CONNECT, PUBLISH, SUBSCRIBE, UNSUBSCRIBE, PINGREQ,
/// PINGRESP) allow none.
pub fn is_allowed_v5(packet_type: PacketType, code: u8) -> bool {
    match packet_type {
        PacketType::ConnAck => matches!(
            code,
            0x00 | 0x80..=0x8A | 0x8C | 0x90 | 0x95 | 0x97 | 0x99..=0x9D | 0x9F
        ),
        PacketType::PubAck | PacketType::PubRec => {
            matches!(
                code,
                0x00 | 0x10 | 0x80 | 0x83 | 0x87 | 0x90 | 0x91 | 0x97 | 0x99
            )
        }
        PacketType::PubRel | PacketType::PubComp => matches!(code, 0x00 | 0x92),
        PacketType::SubAck => matches!(
            code,
            0x00 | 0x01 | 0x02 | 0x80 | 0x83 | 0x87 | 0x8F | 0x91 | 0x97 | 0x9E | 0xA1 | 0xA2
        ),
        PacketType::UnsubAck => matches!(code, 0x00 | 0x11 | 0x80 | 0x83 | 0x87 | 0x8F | 0x91),
        PacketType::Disconnect => matches!(
            code,
            0x00 | 0x04 | 0x80..=0x83 | 0x87 | 0x89 | 0x8B | 0x8D..=0x90 | 0x93..=0xA2
        ),
        PacketType::Auth => matches!(code, 0x00 | 0x18 | 0x19),
        _ => false,
    }
}

/// Whether MQTT 3.1.1 allows return code `code` in a packet of type
/// `packet_type`: CONNACK 0 to 5, SUBACK 0, 1, 2 or 0x80; nothing else
/// carries one.
pub fn is_allowed_v311(packet_type: PacketType, code: u8) -> bool {
    match packet_type {
        PacketType::ConnAck => code <= 5,
        PacketType::SubAck => matches!(code, 0x00 | 0x01 | 0x02 | 0x80),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions() {
        assert_eq!(describe(PACKET_TOO_LARGE), "Packet too large");
        assert_eq!(
            describe(RECEIVE_MAXIMUM_EXCEEDED),
            "Receive Maximum exceeded"
        );
        assert_eq!(describe(0x03), "Unknown reason code");
        assert_eq!(
            describe_v311_connack(V311_NOT_AUTHORIZED),
            "Connection Refused, not authorized"
        );
        assert_eq!(describe_v311_connack(6), "Unknown return code");
        for code in 0..=255u8 {
            assert!(!describe(code).is_empty());
        }
    }

    #[test]
    fn disconnect_range_matches_the_table() {
        let listed = [
            0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93,
            0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1,
            0xA2,
        ];
        for code in 0..=255u8 {
            assert_eq!(
                is_allowed_v5(PacketType::Disconnect, code),
                listed.contains(&code)
            );
        }
        let connack = [
            0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90,
            0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
        ];
        for code in 0..=255u8 {
            assert_eq!(
                is_allowed_v5(PacketType::ConnAck, code),
                connack.contains(&code)
            );
        }
    }
}
