//! Property tests: every valid packet of either version survives
//! encode → decode unchanged with the consumed length equal to the encoded
//! length, decoding arbitrary (or mutated) bytes never panics, and a
//! decoder that reuses given-back messages decodes as a fresh one does.
//!
//! The strategies generate only valid values: under 3.1.1 properties are
//! empty and reason codes 0 (except CONNACK / SUBACK return codes); under
//! MQTT 5 each packet gets only the properties table 2-4 allows and reason
//! codes from its table. The allowed sets are written out here again, from
//! the specification, independently of the codec's own tables.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use wasmqtt::codec::{
    decode, encode, properties::id, validate_topic_filter, Auth, ConnAck, Connect, DecodeError,
    Decoder, Disconnect, Packet, PacketType, Properties, PropertyValues, ProtocolVersion, PubResp,
    Publish, QoS, RetainHandling, SubAck, Subscribe, Subscription, SubscriptionOptions, TopicError,
    UnsubAck, Unsubscribe, Will,
};

use ProtocolVersion::{V311, V5};

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _/é€]{0,10}"
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

fn flag() -> impl Strategy<Value = Option<u8>> {
    option::of(0u8..=1)
}

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

fn topic_name() -> impl Strategy<Value = String> {
    "[a-z0-9/_ é$]{1,16}"
}

fn topic_filter() -> impl Strategy<Value = String> {
    let level = prop_oneof![Just("+".to_owned()), "[a-z0-9é]{0,4}"];
    (option::of("[a-z]{1,4}"), vec(level, 1..4), any::<bool>())
        .prop_map(|(share, levels, hash)| {
            let mut f = levels.join("/");
            if hash {
                f.push_str(if f.is_empty() { "#" } else { "/#" });
            }
            match share {
                Some(name) => format!("$share/{name}/{f}"),
                None => f,
            }
        })
        .prop_filter("valid filter", |f| validate_topic_filter(f).is_ok())
}

/// Any combination of properties with valid values; `keep` then trims it to
/// the set a packet allows.
fn any_properties() -> impl Strategy<Value = Properties> {
    let message = (
        flag(),
        option::of(any::<u32>()),
        option::of(text()),
        option::of(text()),
        option::of(bytes(8)),
        vec(1u32..=268_435_455, 0..3),
        option::of(any::<u32>()),
        option::of(text()),
        option::of(any::<u16>()),
    );
    let auth = (
        option::of(text()),
        option::of(bytes(8)),
        flag(),
        option::of(any::<u32>()),
        flag(),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(1u16..),
    );
    let limits = (
        option::of(any::<u16>()),
        option::of(1u16..),
        flag(),
        flag(),
        vec((text(), text()), 0..3),
        option::of(1u32..),
        flag(),
        flag(),
        flag(),
    );
    (message, auth, limits).prop_map(|(m, a, l)| {
        Properties::from(PropertyValues {
            payload_format_indicator: m.0,
            message_expiry_interval: m.1,
            content_type: m.2,
            response_topic: m.3,
            correlation_data: m.4,
            subscription_identifiers: m.5,
            session_expiry_interval: m.6,
            assigned_client_identifier: m.7,
            server_keep_alive: m.8,
            authentication_method: a.0,
            authentication_data: a.1,
            request_problem_information: a.2,
            will_delay_interval: a.3,
            request_response_information: a.4,
            response_information: a.5,
            server_reference: a.6,
            reason_string: a.7,
            receive_maximum: a.8,
            topic_alias_maximum: l.0,
            topic_alias: l.1,
            maximum_qos: l.2,
            retain_available: l.3,
            user_properties: l.4,
            maximum_packet_size: l.5,
            wildcard_subscription_available: l.6,
            subscription_identifiers_available: l.7,
            shared_subscription_available: l.8,
        })
    })
}

/// Clears every property whose identifier is not in `allowed`.
fn keep(mut p: Properties, allowed: &[u8]) -> Properties {
    let has = |i: u8| allowed.contains(&i);
    macro_rules! clear {
        ($($id:ident => $field:ident),* $(,)?) => {
            $(if !has(id::$id) { p.$field = Default::default(); })*
        };
    }
    clear!(
        PAYLOAD_FORMAT_INDICATOR => payload_format_indicator,
        MESSAGE_EXPIRY_INTERVAL => message_expiry_interval,
        CONTENT_TYPE => content_type,
        RESPONSE_TOPIC => response_topic,
        CORRELATION_DATA => correlation_data,
        SUBSCRIPTION_IDENTIFIER => subscription_identifiers,
        SESSION_EXPIRY_INTERVAL => session_expiry_interval,
        ASSIGNED_CLIENT_IDENTIFIER => assigned_client_identifier,
        SERVER_KEEP_ALIVE => server_keep_alive,
        AUTHENTICATION_METHOD => authentication_method,
        AUTHENTICATION_DATA => authentication_data,
        REQUEST_PROBLEM_INFORMATION => request_problem_information,
        WILL_DELAY_INTERVAL => will_delay_interval,
        REQUEST_RESPONSE_INFORMATION => request_response_information,
        RESPONSE_INFORMATION => response_information,
        SERVER_REFERENCE => server_reference,
        REASON_STRING => reason_string,
        RECEIVE_MAXIMUM => receive_maximum,
        TOPIC_ALIAS_MAXIMUM => topic_alias_maximum,
        TOPIC_ALIAS => topic_alias,
        MAXIMUM_QOS => maximum_qos,
        RETAIN_AVAILABLE => retain_available,
        USER_PROPERTY => user_properties,
        MAXIMUM_PACKET_SIZE => maximum_packet_size,
        WILDCARD_SUBSCRIPTION_AVAILABLE => wildcard_subscription_available,
        SUBSCRIPTION_IDENTIFIERS_AVAILABLE => subscription_identifiers_available,
        SHARED_SUBSCRIPTION_AVAILABLE => shared_subscription_available,
    );
    p
}

// MQTT 5.0 table 2-4, per packet.
const CONNECT: &[u8] = &[0x11, 0x15, 0x16, 0x17, 0x19, 0x21, 0x22, 0x26, 0x27];
const WILL: &[u8] = &[0x01, 0x02, 0x03, 0x08, 0x09, 0x18, 0x26];
const CONNACK: &[u8] = &[
    0x11, 0x12, 0x13, 0x15, 0x16, 0x1A, 0x1C, 0x1F, 0x21, 0x22, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29,
    0x2A,
];
const PUBLISH: &[u8] = &[0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x23, 0x26];
const ACK: &[u8] = &[0x1F, 0x26];
const SUBSCRIBE: &[u8] = &[0x0B, 0x26];
const UNSUBSCRIBE: &[u8] = &[0x26];
const DISCONNECT: &[u8] = &[0x11, 0x1C, 0x1F, 0x26];
const AUTH: &[u8] = &[0x15, 0x16, 0x1F, 0x26];

// MQTT 5.0 reason code tables, per packet.
const RC_CONNACK: &[u8] = &[
    0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
    0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
];
const RC_PUBACK: &[u8] = &[0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
const RC_PUBREL: &[u8] = &[0x00, 0x92];
const RC_SUBACK: &[u8] = &[
    0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
];
const RC_UNSUBACK: &[u8] = &[0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91];
const RC_DISCONNECT: &[u8] = &[
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95,
    0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2,
];
const RC_AUTH: &[u8] = &[0x00, 0x18, 0x19];

fn props(v: ProtocolVersion, allowed: &'static [u8]) -> BoxedStrategy<Properties> {
    match v {
        V311 => Just(Properties::default()).boxed(),
        V5 => prop_oneof![
            Just(Properties::default()),
            any_properties().prop_map(move |p| keep(p, allowed)),
        ]
        .boxed(),
    }
}

fn reason(v: ProtocolVersion, codes: &'static [u8]) -> BoxedStrategy<u8> {
    match v {
        V311 => Just(0).boxed(),
        V5 => prop::sample::select(codes).boxed(),
    }
}

fn connect(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let will = (
        topic_name(),
        bytes(16),
        qos(),
        any::<bool>(),
        props(v, WILL),
    )
        .prop_map(|(topic, payload, qos, retain, properties)| Will {
            topic,
            payload,
            qos,
            retain,
            properties,
        });
    (
        any::<bool>(),
        any::<u16>(),
        text(),
        option::of(will),
        option::of(text()),
        option::of(bytes(8)),
        props(v, CONNECT),
    )
        .prop_map(
            move |(clean_start, keep_alive, client_id, will, username, password, properties)| {
                // 3.1.1 forbids a password without a user name.
                let password = if v == V311 && username.is_none() {
                    None
                } else {
                    password
                };
                Packet::Connect(Box::new(Connect {
                    protocol: v,
                    clean_start,
                    keep_alive,
                    client_id,
                    will,
                    username,
                    password,
                    properties,
                }))
            },
        )
}

fn connack(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let code = match v {
        V311 => (0u8..=5).boxed(),
        V5 => prop::sample::select(RC_CONNACK).boxed(),
    };
    (any::<bool>(), code, props(v, CONNACK)).prop_map(
        |(session_present, reason_code, properties)| {
            Packet::ConnAck(ConnAck {
                session_present: session_present && reason_code == 0,
                reason_code,
                properties,
            })
        },
    )
}

fn publish(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (
        any::<bool>(),
        qos(),
        any::<bool>(),
        topic_name(),
        1u16..,
        bytes(64),
        props(v, PUBLISH),
        any::<bool>(),
    )
        .prop_map(
            move |(dup, qos, retain, topic, id, payload, mut properties, aliased)| {
                // MQTT 5: an empty topic name stands for a topic alias.
                let topic = if v == V5 && aliased {
                    properties.topic_alias.get_or_insert(1);
                    String::new()
                } else {
                    topic
                };
                let at_most_once = qos == QoS::AtMostOnce;
                Packet::Publish(Publish {
                    dup: dup && !at_most_once,
                    qos,
                    retain,
                    topic,
                    packet_id: if at_most_once { 0 } else { id },
                    payload,
                    properties,
                })
            },
        )
}

fn pub_resp(v: ProtocolVersion, kind: PacketType) -> impl Strategy<Value = Packet> {
    let codes = match kind {
        PacketType::PubAck | PacketType::PubRec => RC_PUBACK,
        _ => RC_PUBREL,
    };
    (1u16.., reason(v, codes), props(v, ACK)).prop_map(
        move |(packet_id, reason_code, properties)| {
            let r = PubResp {
                packet_id,
                reason_code,
                properties,
            };
            match kind {
                PacketType::PubAck => Packet::PubAck(r),
                PacketType::PubRec => Packet::PubRec(r),
                PacketType::PubRel => Packet::PubRel(r),
                _ => Packet::PubComp(r),
            }
        },
    )
}

fn subscription(v: ProtocolVersion) -> impl Strategy<Value = Subscription> {
    let rh = prop_oneof![
        Just(RetainHandling::SendAtSubscribe),
        Just(RetainHandling::SendIfNew),
        Just(RetainHandling::DoNotSend)
    ];
    (topic_filter(), qos(), any::<bool>(), any::<bool>(), rh).prop_map(
        move |(filter, qos, no_local, rap, retain_handling)| {
            let options = if v == V311 {
                SubscriptionOptions {
                    qos,
                    ..SubscriptionOptions::default()
                }
            } else {
                SubscriptionOptions {
                    qos,
                    // [MQTT-3.8.3-4]: no No Local on shared subscriptions.
                    no_local: no_local && !filter.starts_with("$share/"),
                    retain_as_published: rap,
                    retain_handling,
                }
            };
            Subscription { filter, options }
        },
    )
}

fn subscribe(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (1u16.., vec(subscription(v), 1..4), props(v, SUBSCRIBE)).prop_map(
        |(packet_id, subscriptions, mut properties)| {
            properties.subscription_identifiers.truncate(1);
            Packet::Subscribe(Subscribe {
                packet_id,
                subscriptions,
                properties,
            })
        },
    )
}

fn suback(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let codes: &'static [u8] = if v == V5 { RC_SUBACK } else { &[0, 1, 2, 0x80] };
    (
        1u16..,
        vec(prop::sample::select(codes), 1..5),
        props(v, ACK),
    )
        .prop_map(|(packet_id, reason_codes, properties)| {
            Packet::SubAck(SubAck {
                packet_id,
                reason_codes,
                properties,
            })
        })
}

fn unsubscribe(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (1u16.., vec(topic_filter(), 1..4), props(v, UNSUBSCRIBE)).prop_map(
        |(packet_id, filters, properties)| {
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                filters,
                properties,
            })
        },
    )
}

fn unsuback(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let count = if v == V5 { 1..5 } else { 0..1 };
    (
        1u16..,
        vec(prop::sample::select(RC_UNSUBACK), count),
        props(v, ACK),
    )
        .prop_map(|(packet_id, reason_codes, properties)| {
            Packet::UnsubAck(UnsubAck {
                packet_id,
                reason_codes,
                properties,
            })
        })
}

fn disconnect(v: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (reason(v, RC_DISCONNECT), props(v, DISCONNECT)).prop_map(|(reason_code, properties)| {
        Packet::Disconnect(Disconnect {
            reason_code,
            properties,
        })
    })
}

fn auth() -> impl Strategy<Value = Packet> {
    (prop::sample::select(RC_AUTH), props(V5, AUTH)).prop_map(|(reason_code, properties)| {
        Packet::Auth(Auth {
            reason_code,
            properties,
        })
    })
}

fn packet(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    let common = prop_oneof![
        connect(v),
        connack(v),
        publish(v),
        pub_resp(v, PacketType::PubAck),
        pub_resp(v, PacketType::PubRec),
        pub_resp(v, PacketType::PubRel),
        pub_resp(v, PacketType::PubComp),
        subscribe(v),
        suback(v),
        unsubscribe(v),
        unsuback(v),
        Just(Packet::PingReq),
        Just(Packet::PingResp),
        disconnect(v),
    ];
    match v {
        V311 => common.boxed(),
        V5 => prop_oneof![14 => common, 1 => auth()].boxed(),
    }
}

fn versioned_packet() -> impl Strategy<Value = (ProtocolVersion, Packet)> {
    prop_oneof![
        packet(V311).prop_map(|p| (V311, p)),
        packet(V5).prop_map(|p| (V5, p)),
    ]
}

/// Decodes `bytes`; whatever decodes must re-encode and decode to itself.
fn decode_and_recheck(bytes: &[u8], version: ProtocolVersion, max: usize) {
    let mut rest = bytes;
    while let Ok(Some((packet, used))) = decode(rest, version, max) {
        assert!(used > 0 && used <= rest.len());
        let v = match &packet {
            Packet::Connect(c) => c.protocol,
            _ => version,
        };
        let mut out = Vec::new();
        let n = encode(&packet, v, &mut out).expect("a decoded packet encodes");
        assert_eq!(n, out.len());
        assert_eq!(decode(&out, v, usize::MAX), Ok(Some((packet, out.len()))));
        rest = &rest[used..];
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn round_trip((version, packet) in versioned_packet()) {
        let mut out = vec![0xEE; 3];
        let n = encode(&packet, version, &mut out).unwrap();
        prop_assert_eq!(n, out.len() - 3);
        let decoded = decode(&out[3..], version, usize::MAX).unwrap();
        prop_assert_eq!(decoded, Some((packet.clone(), n)));
        // With one more packet behind it, only this one is consumed.
        out.extend_from_slice(&[0xC0, 0x00]);
        let decoded = decode(&out[3..], version, usize::MAX).unwrap();
        prop_assert_eq!(decoded, Some((packet, n)));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..128), max in 0usize..300) {
        for version in [V311, V5] {
            let _ = decode(&bytes, version, max);
            decode_and_recheck(&bytes, version, usize::MAX);
        }
    }

    /// PUBLISHes decoded into recycled messages carry nothing of the
    /// messages before them, whatever those held, including values the
    /// application wrote into them before giving them back.
    #[test]
    fn recycled_messages_carry_nothing_over(
        packets in vec((publish(V5), any::<bool>()), 1..12),
    ) {
        let mut decoder = Decoder::new(V5, usize::MAX);
        for (packet, scribble) in packets {
            let mut out = Vec::new();
            encode(&packet, V5, &mut out).unwrap();
            let mut input = &out[..];
            let decoded = decoder.next_packet_from(&mut input).unwrap();
            prop_assert_eq!(decoded.as_ref(), Some(&packet));
            if let Some(Packet::Publish(mut m)) = decoded {
                if scribble {
                    m.properties.reason_string = Some("old".into());
                    m.properties.session_expiry_interval = Some(7);
                    m.properties.user_properties.push(("k".into(), "v".into()));
                }
                decoder.recycle(m.topic, m.payload, m.properties);
            }
        }
    }

    /// The word-at-a-time topic scan answers as reading byte by byte does,
    /// whatever the neighbours of the bytes it must tell apart.
    #[test]
    fn topic_scan_matches_a_byte_by_byte_reading(
        topic in vec(
            prop_oneof![
                6 => Just(b'a'),
                1 => prop::sample::select(vec![
                    0x00u8, 0x01, 0x22, 0x23, 0x24, 0x2A, 0x2B, 0x2C, 0x7F, 0x80, 0xC3, 0xA9, 0xFF,
                ]),
            ],
            0..40,
        ),
    ) {
        let mut bytes = vec![0x30, (2 + topic.len()) as u8, 0x00, topic.len() as u8];
        bytes.extend_from_slice(&topic);
        let expected = if topic.contains(&0) {
            Err(DecodeError::NullCharacter)
        } else if std::str::from_utf8(&topic).is_err() {
            Err(DecodeError::InvalidUtf8)
        } else if topic.iter().any(|&b| b == b'+' || b == b'#') {
            Err(DecodeError::InvalidTopic(TopicError::WildcardInName))
        } else if topic.is_empty() {
            Err(DecodeError::InvalidTopic(TopicError::Empty))
        } else {
            Ok(topic.clone())
        };
        let got = match decode(&bytes, V311, usize::MAX) {
            Ok(Some((Packet::Publish(p), _))) => Ok(p.topic.into_bytes()),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e),
        };
        prop_assert_eq!(got, expected);
    }

    /// Valid packets with a few bytes changed: deep paths of the decoder.
    #[test]
    fn mutated_packets_never_panic(
        (version, packet) in versioned_packet(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut out = Vec::new();
        encode(&packet, version, &mut out).unwrap();
        for (at, byte) in edits {
            let i = at.index(out.len());
            out[i] = byte;
        }
        let end = 1 + cut.index(out.len());
        for v in [V311, V5] {
            decode_and_recheck(&out[..end], v, usize::MAX);
            decode_and_recheck(&out, v, 64);
        }
    }
}
