//! One test (at least) per validation error variant of `DecodeError`,
//! `EncodeError` and `TopicError`, each from the specification rule it
//! enforces.

use wasmqtt::codec::{
    decode, encode, Auth, Connect, DecodeError, EncodeError, Packet, PacketType, Properties,
    PropertyValues, ProtocolVersion, PubResp, Publish, QoS, Subscribe, Subscription,
    SubscriptionOptions, TopicError, Unsubscribe, Will,
};

use ProtocolVersion::{V311, V5};

fn err(bytes: &[u8], version: ProtocolVersion) -> DecodeError {
    match decode(bytes, version, usize::MAX) {
        Err(e) => e,
        Ok(other) => panic!("expected an error for {bytes:02x?}, got {other:?}"),
    }
}

fn enc_err(packet: &Packet, version: ProtocolVersion) -> EncodeError {
    let mut out = vec![1, 2, 3];
    let e = encode(packet, version, &mut out).expect_err("expected an encode error");
    assert_eq!(out, [1, 2, 3], "out must keep its length on error");
    e
}

fn connect(protocol: ProtocolVersion) -> Connect {
    Connect {
        protocol,
        clean_start: true,
        keep_alive: 0,
        client_id: "c".to_owned(),
        will: None,
        username: None,
        password: None,
        properties: Properties::default(),
    }
}

fn publish(topic: &str, qos: QoS, packet_id: u16) -> Publish {
    Publish {
        dup: false,
        qos,
        retain: false,
        topic: topic.to_owned(),
        packet_id,
        payload: Vec::new(),
        properties: Properties::default(),
    }
}

/// Prefix of a 3.1.1 CONNECT up to and including the flags byte.
fn connect_head(level: u8, flags: u8) -> Vec<u8> {
    vec![0x00, 0x04, b'M', b'Q', b'T', b'T', level, flags, 0x00, 0x00]
}

fn with_header(first: u8, body: &[u8]) -> Vec<u8> {
    assert!(body.len() < 128);
    let mut v = vec![first, body.len() as u8];
    v.extend_from_slice(body);
    v
}

// ---------------------------------------------------------------- DecodeError

/// MQTT 5.0 §1.5.5: at most four bytes.
#[test]
fn decode_malformed_varint() {
    for version in [V311, V5] {
        assert_eq!(
            err(&[0x30, 0x80, 0x80, 0x80, 0x80], version),
            DecodeError::MalformedVarInt
        );
        assert_eq!(
            err(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], version),
            DecodeError::MalformedVarInt
        );
    }
}

/// MQTT 5.0 §1.5.5 [MQTT-1.5.5-1]: shortest encoding, for the remaining
/// length and for varints inside the packet.
#[test]
fn decode_non_minimal_varint() {
    assert_eq!(err(&[0xC0, 0x80, 0x00], V5), DecodeError::NonMinimalVarInt);
    // Property length 0 written as 80 00.
    assert_eq!(
        err(&[0x40, 0x05, 0x00, 0x01, 0x00, 0x80, 0x00], V5),
        DecodeError::NonMinimalVarInt
    );
    // A 3.1.1 CONNECT may use a long remaining length; a 5.0 CONNECT may not.
    let mut body = connect_head(5, 0x02);
    body.extend_from_slice(&[0x00, 0x00, 0x00]);
    let mut bytes = vec![0x10, 0x80 | body.len() as u8, 0x00];
    bytes.extend_from_slice(&body);
    assert_eq!(err(&bytes, V311), DecodeError::NonMinimalVarInt);
}

/// The size limit applies as soon as the fixed header is complete.
#[test]
fn decode_packet_too_large() {
    // Announces 200 bytes of body; none of it has arrived.
    assert_eq!(
        decode(&[0x30, 0xC8, 0x01], V5, 100),
        Err(DecodeError::PacketTooLarge {
            size: 203,
            max: 100
        })
    );
    assert_eq!(decode(&[0x30, 0xC8, 0x01], V5, 203), Ok(None));
}

/// MQTT 5.0 §2.1.2: type 0 is reserved; AUTH (15) does not exist in 3.1.1.
#[test]
fn decode_invalid_packet_type() {
    assert_eq!(err(&[0x00, 0x00], V5), DecodeError::InvalidPacketType(0));
    assert_eq!(err(&[0x00], V311), DecodeError::InvalidPacketType(0));
    assert_eq!(err(&[0xF0, 0x00], V311), DecodeError::InvalidPacketType(15));
}

/// MQTT 5.0 §2.1.3 table 2-2, MQTT 3.1.1 §2.2.2; [MQTT-3.3.1-2] DUP at QoS 0.
#[test]
fn decode_invalid_flags() {
    let cases: &[(&[u8], PacketType, u8)] = &[
        (&[0x60, 0x02, 0x00, 0x01], PacketType::PubRel, 0),
        (&[0x80, 0x02, 0x00, 0x01], PacketType::Subscribe, 0),
        (&[0xA3, 0x02, 0x00, 0x01], PacketType::Unsubscribe, 3),
        (&[0x41, 0x02, 0x00, 0x01], PacketType::PubAck, 1),
        (&[0xC8, 0x00], PacketType::PingReq, 8),
        (&[0x38, 0x03, 0x00, 0x01, b't'], PacketType::Publish, 8),
    ];
    for &(bytes, packet_type, flags) in cases {
        for version in [V311, V5] {
            assert_eq!(
                err(bytes, version),
                DecodeError::InvalidFlags { packet_type, flags },
                "{bytes:02x?}"
            );
        }
    }
}

/// QoS 3 in PUBLISH flags, in the will QoS, in subscription options.
#[test]
fn decode_invalid_qos() {
    assert_eq!(
        err(&[0x36, 0x03, 0x00, 0x01, b't'], V5),
        DecodeError::InvalidQoS
    );
    let mut body = connect_head(4, 0x02 | 0x04 | 0x18);
    body.extend_from_slice(&[0x00, 0x01, b'c', 0x00, 0x01, b'w', 0x00, 0x00]);
    assert_eq!(
        err(&with_header(0x10, &body), V311),
        DecodeError::InvalidQoS
    );
    let sub = [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x03];
    assert_eq!(err(&sub, V311), DecodeError::InvalidQoS);
}

/// MQTT 5.0 §2.2.1 [MQTT-2.2.1-3]: packet identifiers are non-zero.
#[test]
fn decode_zero_packet_id() {
    let cases: &[&[u8]] = &[
        &[0x32, 0x05, 0x00, 0x01, b't', 0x00, 0x00],
        &[0x40, 0x02, 0x00, 0x00],
        &[0x50, 0x02, 0x00, 0x00],
        &[0x62, 0x02, 0x00, 0x00],
        &[0x70, 0x02, 0x00, 0x00],
        &[0x82, 0x06, 0x00, 0x00, 0x00, 0x01, b'a', 0x00],
        &[0x90, 0x03, 0x00, 0x00, 0x00],
        &[0xA2, 0x05, 0x00, 0x00, 0x00, 0x01, b'a'],
        &[0xB0, 0x02, 0x00, 0x00],
    ];
    for bytes in cases {
        assert_eq!(err(bytes, V311), DecodeError::ZeroPacketId, "{bytes:02x?}");
    }
}

/// A field that runs past the end of the packet, including a property
/// block whose length runs past it.
#[test]
fn decode_truncated() {
    assert_eq!(err(&[0x40, 0x01, 0x00], V311), DecodeError::Truncated);
    assert_eq!(
        err(&[0x30, 0x03, 0x00, 0x05, b'a'], V311),
        DecodeError::Truncated
    );
    // PUBACK property length 9 with 2 bytes left.
    assert_eq!(
        err(&[0x40, 0x06, 0x00, 0x01, 0x80, 0x09, 0x1F, 0x00], V5),
        DecodeError::Truncated
    );
    // A property value cut by the end of its block.
    assert_eq!(
        err(&[0x40, 0x07, 0x00, 0x01, 0x80, 0x02, 0x1F, 0x00, 0x01], V5),
        DecodeError::Truncated
    );
    // AUTH with a reason code but no property length (MQTT 5.0 §3.15.2.1).
    assert_eq!(err(&[0xF0, 0x01, 0x18], V5), DecodeError::Truncated);
    // SUBACK without any reason code.
    assert_eq!(err(&[0x90, 0x02, 0x00, 0x01], V311), DecodeError::Truncated);
    // MQTT 5 CONNACK without its property length.
    assert_eq!(err(&[0x20, 0x02, 0x00, 0x00], V5), DecodeError::Truncated);
}

/// Bytes left inside a packet after its last field.
#[test]
fn decode_trailing_bytes() {
    assert_eq!(err(&[0xC0, 0x01, 0x00], V311), DecodeError::TrailingBytes);
    assert_eq!(err(&[0xD0, 0x01, 0x00], V5), DecodeError::TrailingBytes);
    assert_eq!(
        err(&[0x40, 0x03, 0x00, 0x01, 0x00], V311),
        DecodeError::TrailingBytes
    );
    assert_eq!(err(&[0xE0, 0x01, 0x00], V311), DecodeError::TrailingBytes);
    assert_eq!(
        err(&[0xB0, 0x03, 0x00, 0x01, 0x00], V311),
        DecodeError::TrailingBytes
    );
    assert_eq!(
        err(&[0x20, 0x03, 0x00, 0x00, 0x00], V311),
        DecodeError::TrailingBytes
    );
    assert_eq!(
        err(&[0x40, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00], V5),
        DecodeError::TrailingBytes
    );
}

/// MQTT 5.0 §1.5.4 [MQTT-1.5.4-1]: well-formed UTF-8.
#[test]
fn decode_invalid_utf8() {
    assert_eq!(
        err(&[0x30, 0x04, 0x00, 0x02, 0xC3, 0x28], V311),
        DecodeError::InvalidUtf8
    );
    // A UTF-16 surrogate encoded in UTF-8 (ED A0 80) is not valid UTF-8.
    assert_eq!(
        err(&[0x30, 0x05, 0x00, 0x03, 0xED, 0xA0, 0x80], V311),
        DecodeError::InvalidUtf8
    );
}

/// MQTT 5.0 §1.5.4 [MQTT-1.5.4-2]: no U+0000.
#[test]
fn decode_null_character() {
    assert_eq!(
        err(&[0x30, 0x04, 0x00, 0x02, b'a', 0x00], V311),
        DecodeError::NullCharacter
    );
}

/// MQTT 3.1.1 §3.1.2.1: the protocol name is "MQTT" ("MQIsdp" is 3.1).
#[test]
fn decode_invalid_protocol_name() {
    let body = [
        0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 0x03, 0x02, 0x00, 0x00,
    ];
    assert_eq!(
        err(&with_header(0x10, &body), V311),
        DecodeError::InvalidProtocolName
    );
}

/// MQTT 5.0 §3.1.2.2: level 5 (4 for 3.1.1).
#[test]
fn decode_unsupported_protocol_level() {
    let mut body = connect_head(3, 0x02);
    body.extend_from_slice(&[0x00, 0x01, b'c']);
    assert_eq!(
        err(&with_header(0x10, &body), V311),
        DecodeError::UnsupportedProtocolLevel(3)
    );
}

/// MQTT 5.0 §3.1.2.3 reserved bit, will QoS / retain without will;
/// MQTT 3.1.1 [MQTT-3.1.2-22] password without user name.
#[test]
fn decode_invalid_connect_flags() {
    for flags in [0x03, 0x02 | 0x08, 0x02 | 0x20] {
        let mut body = connect_head(4, flags);
        body.extend_from_slice(&[0x00, 0x01, b'c']);
        assert_eq!(
            err(&with_header(0x10, &body), V311),
            DecodeError::InvalidConnectFlags
        );
    }
    let mut body = connect_head(4, 0x42);
    body.extend_from_slice(&[0x00, 0x01, b'c', 0x00, 0x01, b'p']);
    assert_eq!(
        err(&with_header(0x10, &body), V311),
        DecodeError::InvalidConnectFlags
    );
    // MQTT 5 allows a password without a user name.
    let mut body = connect_head(5, 0x42);
    body.extend_from_slice(&[0x00, 0x00, 0x01, b'c', 0x00, 0x01, b'p']);
    let packet = decode(&with_header(0x10, &body), V5, usize::MAX)
        .unwrap()
        .unwrap()
        .0;
    let Packet::Connect(c) = packet else { panic!() };
    assert_eq!(c.password.as_deref(), Some(&b"p"[..]));
    assert_eq!(c.username, None);
}

/// MQTT 5.0 §3.2.2.1: bits 7-1 reserved; session present must be 0 with a
/// non-zero reason code [MQTT-3.2.2-6] (3.1.1: [MQTT-3.2.2-4]).
#[test]
fn decode_invalid_connack_flags() {
    assert_eq!(
        err(&[0x20, 0x02, 0x02, 0x00], V311),
        DecodeError::InvalidConnAckFlags
    );
    assert_eq!(
        err(&[0x20, 0x03, 0x80, 0x00, 0x00], V5),
        DecodeError::InvalidConnAckFlags
    );
    assert_eq!(
        err(&[0x20, 0x02, 0x01, 0x05], V311),
        DecodeError::InvalidConnAckFlags
    );
    assert_eq!(
        err(&[0x20, 0x03, 0x01, 0x87, 0x00], V5),
        DecodeError::InvalidConnAckFlags
    );
}

/// MQTT 5.0 §2.2.2.2: identifiers outside table 2-4.
#[test]
fn decode_unknown_property() {
    for id in [0x00, 0x05, 0x2B, 0x7F, 0x80, 0xFF] {
        let bytes = [0x40, 0x06, 0x00, 0x01, 0x00, 0x02, id, 0x00];
        assert_eq!(err(&bytes, V5), DecodeError::UnknownProperty(id));
    }
}

/// MQTT 5.0 §2.2.2.2: single-valued properties appear at most once; at
/// most one subscription identifier in SUBSCRIBE (§3.8.2.1.2).
#[test]
fn decode_duplicate_property() {
    let bytes = [
        0x40, 0x0C, 0x00, 0x01, 0x00, 0x08, 0x1F, 0x00, 0x01, b'a', 0x1F, 0x00, 0x01, b'b',
    ];
    assert_eq!(err(&bytes, V5), DecodeError::DuplicateProperty(0x1F));
    let sub = [
        0x82, 0x0A, 0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B, 0x02, 0x00, 0x01, b'a', 0x00,
    ];
    let mut sub = sub.to_vec();
    sub[1] = (sub.len() - 2) as u8;
    assert_eq!(err(&sub, V5), DecodeError::DuplicateProperty(0x0B));
    // ...while PUBLISH may carry several, and user properties may repeat.
    let publish = [
        0x30, 0x15, 0x00, 0x01, b't', 0x10, 0x0B, 0x01, 0x0B, 0x02, 0x26, 0x00, 0x01, b'a', 0x00,
        0x00, 0x26, 0x00, 0x01, b'a', 0x00, 0x00, b'p',
    ];
    let Packet::Publish(p) = decode(&publish, V5, usize::MAX).unwrap().unwrap().0 else {
        panic!()
    };
    assert_eq!(p.properties.subscription_identifiers, [1, 2]);
    assert_eq!(p.properties.user_properties.len(), 2);
}

/// MQTT 5.0 table 2-4: which packet may carry which property.
#[test]
fn decode_property_not_allowed() {
    // Topic alias in PUBACK.
    let bytes = [0x40, 0x07, 0x00, 0x01, 0x00, 0x03, 0x23, 0x00, 0x01];
    assert_eq!(
        err(&bytes, V5),
        DecodeError::PropertyNotAllowed {
            id: 0x23,
            packet_type: PacketType::PubAck
        }
    );
    // Will delay interval in CONNECT properties (it belongs to the will).
    let mut body = connect_head(5, 0x02);
    body.extend_from_slice(&[0x05, 0x18, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, b'c']);
    assert_eq!(
        err(&with_header(0x10, &body), V5),
        DecodeError::PropertyNotAllowed {
            id: 0x18,
            packet_type: PacketType::Connect
        }
    );
}

/// MQTT 5.0 §3.1.2.11 / §3.2.2.3 / §3.3.2.3: value ranges.
#[test]
fn decode_invalid_property_value() {
    let cases: &[(&[u8], u8)] = &[
        // CONNACK receive maximum 0.
        (&[0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00], 0x21),
        // CONNACK maximum QoS 2.
        (&[0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02], 0x24),
        // CONNACK retain available 2.
        (&[0x20, 0x05, 0x00, 0x00, 0x02, 0x25, 0x02], 0x25),
        // CONNACK maximum packet size 0.
        (
            &[0x20, 0x08, 0x00, 0x00, 0x05, 0x27, 0x00, 0x00, 0x00, 0x00],
            0x27,
        ),
        // PUBLISH topic alias 0.
        (
            &[0x30, 0x07, 0x00, 0x01, b't', 0x03, 0x23, 0x00, 0x00],
            0x23,
        ),
        // PUBLISH payload format indicator 2.
        (&[0x30, 0x06, 0x00, 0x01, b't', 0x02, 0x01, 0x02], 0x01),
        // PUBLISH subscription identifier 0.
        (&[0x30, 0x06, 0x00, 0x01, b't', 0x02, 0x0B, 0x00], 0x0B),
    ];
    for &(bytes, id) in cases {
        assert_eq!(
            err(bytes, V5),
            DecodeError::InvalidPropertyValue(id),
            "{bytes:02x?}"
        );
    }
}

/// MQTT 5.0 reason code tables per packet; MQTT 3.1.1 CONNACK 0-5 and
/// SUBACK 0, 1, 2, 0x80.
#[test]
fn decode_invalid_reason_code() {
    assert_eq!(
        err(&[0x20, 0x02, 0x00, 0x06], V311),
        DecodeError::InvalidReasonCode(6)
    );
    assert_eq!(
        err(&[0x90, 0x03, 0x00, 0x01, 0x03], V311),
        DecodeError::InvalidReasonCode(3)
    );
    assert_eq!(
        err(&[0x90, 0x03, 0x00, 0x01, 0x87], V311),
        DecodeError::InvalidReasonCode(0x87)
    );
    assert_eq!(
        err(&[0x20, 0x03, 0x00, 0x04, 0x00], V5),
        DecodeError::InvalidReasonCode(0x04)
    );
    assert_eq!(
        err(&[0x40, 0x03, 0x00, 0x01, 0x92], V5),
        DecodeError::InvalidReasonCode(0x92)
    );
    assert_eq!(
        err(&[0x62, 0x03, 0x00, 0x01, 0x10], V5),
        DecodeError::InvalidReasonCode(0x10)
    );
    assert_eq!(
        err(&[0x90, 0x04, 0x00, 0x01, 0x00, 0x11], V5),
        DecodeError::InvalidReasonCode(0x11)
    );
    assert_eq!(
        err(&[0xB0, 0x04, 0x00, 0x01, 0x00, 0x01], V5),
        DecodeError::InvalidReasonCode(0x01)
    );
    assert_eq!(
        err(&[0xE0, 0x01, 0x01], V5),
        DecodeError::InvalidReasonCode(0x01)
    );
    assert_eq!(
        err(&[0xF0, 0x02, 0x01, 0x00], V5),
        DecodeError::InvalidReasonCode(0x01)
    );
}

/// MQTT 5.0 [MQTT-3.8.3-2], [MQTT-3.10.3-2]: at least one filter.
#[test]
fn decode_no_topic_filters() {
    assert_eq!(
        err(&[0x82, 0x02, 0x00, 0x01], V311),
        DecodeError::NoTopicFilters
    );
    assert_eq!(
        err(&[0x82, 0x03, 0x00, 0x01, 0x00], V5),
        DecodeError::NoTopicFilters
    );
    assert_eq!(
        err(&[0xA2, 0x02, 0x00, 0x01], V311),
        DecodeError::NoTopicFilters
    );
    assert_eq!(
        err(&[0xA2, 0x03, 0x00, 0x01, 0x00], V5),
        DecodeError::NoTopicFilters
    );
}

/// MQTT 5.0 §3.8.3.1: reserved bits 6-7, retain handling 3, No Local on a
/// shared subscription [MQTT-3.8.3-4]; 3.1.1 §3.8.3.1: only QoS bits.
#[test]
fn decode_invalid_subscription_options() {
    let sub = |filter: &[u8], options: u8| {
        let mut body = vec![0x00, 0x01, 0x00, 0x00, filter.len() as u8];
        body.extend_from_slice(filter);
        body.push(options);
        with_header(0x82, &body)
    };
    let sub311 = |options: u8| with_header(0x82, &[0x00, 0x01, 0x00, 0x01, b'a', options]);
    assert_eq!(
        err(&sub(b"a", 0x40), V5),
        DecodeError::InvalidSubscriptionOptions
    );
    assert_eq!(
        err(&sub(b"a", 0x30), V5),
        DecodeError::InvalidSubscriptionOptions
    );
    assert_eq!(
        err(&sub(b"$share/g/a", 0x04), V5),
        DecodeError::InvalidSubscriptionOptions
    );
    assert_eq!(
        err(&sub311(0x04), V311),
        DecodeError::InvalidSubscriptionOptions
    );
    assert_eq!(
        err(&sub311(0x10), V311),
        DecodeError::InvalidSubscriptionOptions
    );
}

/// MQTT 5.0 §3.3.2.1 [MQTT-3.3.2-2] no wildcard in a topic name; empty topic
/// only with a topic alias (§3.3.2.3.4); filters checked in SUBSCRIBE and
/// UNSUBSCRIBE; the will topic is a topic name.
#[test]
fn decode_invalid_topic() {
    let wild = DecodeError::InvalidTopic(TopicError::WildcardInName);
    let empty = DecodeError::InvalidTopic(TopicError::Empty);
    assert_eq!(err(&[0x30, 0x05, 0x00, 0x03, b'a', b'/', b'+'], V311), wild);
    assert_eq!(err(&[0x30, 0x03, 0x00, 0x01, b'#'], V5), wild);
    assert_eq!(err(&[0x30, 0x02, 0x00, 0x00], V311), empty);
    assert_eq!(err(&[0x30, 0x03, 0x00, 0x00, 0x00], V5), empty);
    assert_eq!(
        err(
            &[0x82, 0x07, 0x00, 0x01, 0x00, 0x02, b'#', b'a', 0x00],
            V311
        ),
        DecodeError::InvalidTopic(TopicError::InvalidMultiLevelWildcard)
    );
    assert_eq!(
        err(&[0xA2, 0x06, 0x00, 0x01, 0x00, 0x02, b'a', b'+'], V311),
        DecodeError::InvalidTopic(TopicError::InvalidSingleLevelWildcard)
    );
    let mut body = connect_head(4, 0x06);
    body.extend_from_slice(&[0x00, 0x01, b'c', 0x00, 0x01, b'#', 0x00, 0x00]);
    assert_eq!(err(&with_header(0x10, &body), V311), wild);
}

/// Every byte value at every position of topics shorter and longer than the
/// eight-byte words the scan reads: only `+` and `#` are wildcards, only
/// 0x00 is U+0000, and a lone byte above 0x7F is not UTF-8.
#[test]
fn decode_topic_bytes_at_every_position() {
    for len in [1usize, 7, 8, 9, 16, 23] {
        for at in 0..len {
            for byte in 0..=255u8 {
                let mut topic = vec![b'a'; len];
                topic[at] = byte;
                let mut bytes = vec![0x30, (2 + len) as u8, 0x00, len as u8];
                bytes.extend_from_slice(&topic);
                let expected = match byte {
                    b'+' | b'#' => Some(DecodeError::InvalidTopic(TopicError::WildcardInName)),
                    0 => Some(DecodeError::NullCharacter),
                    0x80.. => Some(DecodeError::InvalidUtf8),
                    _ => None,
                };
                match expected {
                    Some(e) => assert_eq!(err(&bytes, V311), e, "{topic:02x?}"),
                    // ASCII topics skip UTF-8 validation: the text must still be exact.
                    None => match decode(&bytes, V311, usize::MAX) {
                        Ok(Some((Packet::Publish(p), _))) => {
                            assert_eq!(p.topic.as_bytes(), &topic[..], "{topic:02x?}")
                        }
                        other => panic!("{topic:02x?}: {other:?}"),
                    },
                }
            }
        }
    }
}

// ---------------------------------------------------------------- EncodeError

#[test]
fn encode_field_too_long() {
    let long = "a".repeat(65_536);
    assert_eq!(
        enc_err(&Packet::Publish(publish(&long, QoS::AtMostOnce, 0)), V311),
        EncodeError::FieldTooLong
    );
    let mut c = connect(V5);
    c.password = Some(vec![0; 65_536]);
    assert_eq!(
        enc_err(&Packet::Connect(Box::new(c)), V5),
        EncodeError::FieldTooLong
    );
    // 65,535 bytes is still fine.
    let max = "a".repeat(65_535);
    let mut out = Vec::new();
    encode(
        &Packet::Publish(publish(&max, QoS::AtMostOnce, 0)),
        V311,
        &mut out,
    )
    .unwrap();
}

#[test]
fn encode_value_too_large() {
    let mut p = publish("t", QoS::AtMostOnce, 0);
    p.properties.subscription_identifiers = vec![268_435_456];
    assert_eq!(enc_err(&Packet::Publish(p), V5), EncodeError::ValueTooLarge);
    // A payload that makes the remaining length exceed 268,435,455.
    let mut p = publish("t", QoS::AtMostOnce, 0);
    p.payload = vec![0; 268_435_455];
    assert_eq!(
        enc_err(&Packet::Publish(p), V311),
        EncodeError::ValueTooLarge
    );
}

#[test]
fn encode_zero_packet_id() {
    let zero = EncodeError::ZeroPacketId;
    assert_eq!(
        enc_err(&Packet::Publish(publish("t", QoS::AtLeastOnce, 0)), V5),
        zero
    );
    assert_eq!(enc_err(&Packet::PubAck(PubResp::default()), V5), zero);
    assert_eq!(enc_err(&Packet::PubRel(PubResp::default()), V311), zero);
    let s = Subscribe {
        packet_id: 0,
        subscriptions: vec![Subscription {
            filter: "a".to_owned(),
            options: SubscriptionOptions::default(),
        }],
        properties: Properties::default(),
    };
    assert_eq!(enc_err(&Packet::Subscribe(s), V5), zero);
}

#[test]
fn encode_unsupported_in_version() {
    assert_eq!(
        enc_err(&Packet::Auth(Auth::default()), V311),
        EncodeError::UnsupportedInVersion(PacketType::Auth)
    );
}

#[test]
fn encode_no_topic_filters() {
    let s = Subscribe {
        packet_id: 1,
        subscriptions: Vec::new(),
        properties: Properties::default(),
    };
    assert_eq!(
        enc_err(&Packet::Subscribe(s), V5),
        EncodeError::NoTopicFilters
    );
    let u = Unsubscribe {
        packet_id: 1,
        filters: Vec::new(),
        properties: Properties::default(),
    };
    assert_eq!(
        enc_err(&Packet::Unsubscribe(u), V311),
        EncodeError::NoTopicFilters
    );
}

#[test]
fn encode_invalid_topic_filter() {
    let u = Unsubscribe {
        packet_id: 1,
        filters: vec!["a/#/b".to_owned()],
        properties: Properties::default(),
    };
    assert_eq!(
        enc_err(&Packet::Unsubscribe(u), V311),
        EncodeError::InvalidTopic(TopicError::InvalidMultiLevelWildcard)
    );
    // PUBLISH topics are not validated beyond length and U+0000: MQTT 5 may
    // send an empty topic with a topic alias.
    let mut p = publish("", QoS::AtMostOnce, 0);
    p.properties.topic_alias = Some(1);
    encode(&Packet::Publish(p), V5, &mut Vec::new()).unwrap();
}

#[test]
fn encode_null_character() {
    let mut c = connect(V311);
    c.client_id = "a\0b".to_owned();
    assert_eq!(
        enc_err(&Packet::Connect(Box::new(c)), V311),
        EncodeError::NullCharacter
    );
    let mut p = publish("t", QoS::AtMostOnce, 0);
    p.properties.user_properties = vec![("k".to_owned(), "\0".to_owned())];
    assert_eq!(enc_err(&Packet::Publish(p), V5), EncodeError::NullCharacter);
}

#[test]
fn encode_property_not_allowed() {
    let resp = PubResp {
        packet_id: 1,
        reason_code: 0,
        properties: Properties::from(PropertyValues {
            topic_alias: Some(1),
            ..PropertyValues::default()
        }),
    };
    assert_eq!(
        enc_err(&Packet::PubAck(resp), V5),
        EncodeError::PropertyNotAllowed {
            id: 0x23,
            packet_type: PacketType::PubAck
        }
    );
    let mut c = connect(V5);
    c.will = Some(Will {
        topic: "w".to_owned(),
        payload: Vec::new(),
        qos: QoS::AtMostOnce,
        retain: false,
        properties: Properties::from(PropertyValues {
            session_expiry_interval: Some(1),
            ..PropertyValues::default()
        }),
    });
    assert_eq!(
        enc_err(&Packet::Connect(Box::new(c)), V5),
        EncodeError::PropertyNotAllowed {
            id: 0x11,
            packet_type: PacketType::Connect
        }
    );
}

#[test]
fn encode_invalid_property_value() {
    let mut c = connect(V5);
    c.properties.receive_maximum = Some(0);
    assert_eq!(
        enc_err(&Packet::Connect(Box::new(c)), V5),
        EncodeError::InvalidPropertyValue(0x21)
    );
    let mut p = publish("t", QoS::AtMostOnce, 0);
    p.properties.payload_format_indicator = Some(2);
    assert_eq!(
        enc_err(&Packet::Publish(p), V5),
        EncodeError::InvalidPropertyValue(0x01)
    );
    let mut p = publish("t", QoS::AtMostOnce, 0);
    p.properties.subscription_identifiers = vec![0];
    assert_eq!(
        enc_err(&Packet::Publish(p), V5),
        EncodeError::InvalidPropertyValue(0x0B)
    );
}

#[test]
fn encode_duplicate_property() {
    let s = Subscribe {
        packet_id: 1,
        subscriptions: vec![Subscription {
            filter: "a".to_owned(),
            options: SubscriptionOptions::default(),
        }],
        properties: Properties::from(PropertyValues {
            subscription_identifiers: vec![1, 2],
            ..PropertyValues::default()
        }),
    };
    assert_eq!(
        enc_err(&Packet::Subscribe(s), V5),
        EncodeError::DuplicateProperty(0x0B)
    );
}

#[test]
fn encode_password_without_username() {
    let mut c = connect(V311);
    c.password = Some(b"p".to_vec());
    assert_eq!(
        enc_err(&Packet::Connect(Box::new(c)), V311),
        EncodeError::PasswordWithoutUsername
    );
}

#[test]
fn encode_dup_with_qos0() {
    let mut p = publish("t", QoS::AtMostOnce, 0);
    p.dup = true;
    assert_eq!(enc_err(&Packet::Publish(p), V311), EncodeError::DupWithQoS0);
}

// ---------------------------------------------------------------- Display

#[test]
fn errors_display_something() {
    let d = DecodeError::PacketTooLarge { size: 10, max: 5 };
    assert_eq!(d.to_string(), "packet of 10 bytes exceeds maximum of 5");
    assert!(!EncodeError::DupWithQoS0.to_string().is_empty());
    assert!(!TopicError::InvalidSharedSubscription.to_string().is_empty());
}
