//! Byte-exact vectors for every packet type in MQTT 3.1.1 and MQTT 5.0,
//! worked out by hand from the specification text. Each vector is checked
//! both ways: `encode(packet) == bytes` and `decode(bytes) == packet`.
//!
//! `all_vectors()` is also the seed corpus of the fuzz target: run
//! `WASMQTT_WRITE_CORPUS=1 cargo test --test codec_vectors` to rewrite
//! `fuzz/corpus/decode/`.

use wasmqtt::codec::{
    decode, encode, Auth, ConnAck, Connect, Disconnect, Packet, Properties, PropertyValues,
    ProtocolVersion, PubResp, Publish, QoS, RetainHandling, SubAck, Subscribe, Subscription,
    SubscriptionOptions, UnsubAck, Unsubscribe, Will,
};

use ProtocolVersion::{V311, V5};

/// Name, version, packet, bytes.
type Vector = (&'static str, ProtocolVersion, Packet, Vec<u8>);

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn s(v: &str) -> String {
    v.to_owned()
}

fn user(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

fn ack(packet_id: u16, reason_code: u8, properties: Properties) -> PubResp {
    PubResp {
        packet_id,
        reason_code,
        properties,
    }
}

fn opts(qos: QoS) -> SubscriptionOptions {
    SubscriptionOptions {
        qos,
        ..SubscriptionOptions::default()
    }
}

fn v311_vectors() -> Vec<Vector> {
    vec![
        // MQTT 3.1.1 §3.1, figures 3.2-3.6: protocol name "MQTT", level 4,
        // flags 0x02 (clean session), keep alive 60, client id "a".
        (
            "v311_connect_min",
            V311,
            Packet::Connect(Box::new(Connect {
                protocol: V311,
                clean_start: true,
                keep_alive: 60,
                client_id: s("a"),
                will: None,
                username: None,
                password: None,
                properties: Properties::default(),
            })),
            vec![
                0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x01,
                b'a',
            ],
        ),
        // MQTT 3.1.1 §3.1.2.3 flags: user name 0x80 | password 0x40 | will
        // retain 0x20 | will QoS 1 0x08 | will 0x04 | clean 0x02 = 0xEE;
        // §3.1.3 payload order: client id, will topic, will message, user
        // name, password.
        (
            "v311_connect_full",
            V311,
            Packet::Connect(Box::new(Connect {
                protocol: V311,
                clean_start: true,
                keep_alive: 10,
                client_id: s("c1"),
                will: Some(Will {
                    topic: s("w"),
                    payload: b"bye".to_vec(),
                    qos: QoS::AtLeastOnce,
                    retain: true,
                    properties: Properties::default(),
                }),
                username: Some(s("u")),
                password: Some(b"p".to_vec()),
                properties: Properties::default(),
            })),
            cat(&[
                &[0x10, 0x1C],
                &[0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xEE, 0x00, 0x0A],
                &[0x00, 0x02, b'c', b'1'],
                &[0x00, 0x01, b'w'],
                &[0x00, 0x03, b'b', b'y', b'e'],
                &[0x00, 0x01, b'u'],
                &[0x00, 0x01, b'p'],
            ]),
        ),
        // MQTT 3.1.1 §3.2, figure 3.8: session present 1, return code 0.
        (
            "v311_connack_accepted",
            V311,
            Packet::ConnAck(ConnAck {
                session_present: true,
                reason_code: 0,
                properties: Properties::default(),
            }),
            vec![0x20, 0x02, 0x01, 0x00],
        ),
        // MQTT 3.1.1 §3.2.2.3, table 3.1: return code 5, not authorized.
        (
            "v311_connack_refused",
            V311,
            Packet::ConnAck(ConnAck {
                session_present: false,
                reason_code: 5,
                properties: Properties::default(),
            }),
            vec![0x20, 0x02, 0x00, 0x05],
        ),
        // MQTT 3.1.1 §3.3: QoS 0 has no packet identifier; payload is the rest.
        (
            "v311_publish_qos0",
            V311,
            Packet::Publish(Publish {
                dup: false,
                qos: QoS::AtMostOnce,
                retain: false,
                topic: s("a/b"),
                packet_id: 0,
                payload: b"hi".to_vec(),
                properties: Properties::default(),
            }),
            vec![0x30, 0x07, 0x00, 0x03, b'a', b'/', b'b', b'h', b'i'],
        ),
        // MQTT 3.1.1 §3.3.1, figure 3.10: DUP 0x08 | QoS 1 0x02 | RETAIN 0x01;
        // §3.3.2.2 packet identifier 10.
        (
            "v311_publish_qos1_dup_retain",
            V311,
            Packet::Publish(Publish {
                dup: true,
                qos: QoS::AtLeastOnce,
                retain: true,
                topic: s("a/b"),
                packet_id: 10,
                payload: b"x".to_vec(),
                properties: Properties::default(),
            }),
            vec![0x3B, 0x08, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x0A, b'x'],
        ),
        // MQTT 3.1.1 §3.3.1: QoS 2 0x04, empty payload allowed (§3.3.3).
        (
            "v311_publish_qos2_empty_payload",
            V311,
            Packet::Publish(Publish {
                dup: false,
                qos: QoS::ExactlyOnce,
                retain: false,
                topic: s("t"),
                packet_id: 0xFFFF,
                payload: Vec::new(),
                properties: Properties::default(),
            }),
            vec![0x34, 0x05, 0x00, 0x01, b't', 0xFF, 0xFF],
        ),
        // MQTT 3.1.1 §3.4, figure 3.12.
        (
            "v311_puback",
            V311,
            Packet::PubAck(ack(1, 0, Properties::default())),
            vec![0x40, 0x02, 0x00, 0x01],
        ),
        // MQTT 3.1.1 §3.5, figure 3.14.
        (
            "v311_pubrec",
            V311,
            Packet::PubRec(ack(2, 0, Properties::default())),
            vec![0x50, 0x02, 0x00, 0x02],
        ),
        // MQTT 3.1.1 §3.6, figure 3.16: PUBREL flags 0b0010.
        (
            "v311_pubrel",
            V311,
            Packet::PubRel(ack(3, 0, Properties::default())),
            vec![0x62, 0x02, 0x00, 0x03],
        ),
        // MQTT 3.1.1 §3.7, figure 3.18.
        (
            "v311_pubcomp",
            V311,
            Packet::PubComp(ack(4, 0, Properties::default())),
            vec![0x70, 0x02, 0x00, 0x04],
        ),
        // MQTT 3.1.1 §3.8, figures 3.20-3.22: flags 0b0010, packet id 1,
        // "a/+" requested QoS 1, "#" requested QoS 2.
        (
            "v311_subscribe",
            V311,
            Packet::Subscribe(Subscribe {
                packet_id: 1,
                subscriptions: vec![
                    Subscription {
                        filter: s("a/+"),
                        options: opts(QoS::AtLeastOnce),
                    },
                    Subscription {
                        filter: s("#"),
                        options: opts(QoS::ExactlyOnce),
                    },
                ],
                properties: Properties::default(),
            }),
            vec![
                0x82, 0x0C, 0x00, 0x01, 0x00, 0x03, b'a', b'/', b'+', 0x01, 0x00, 0x01, b'#', 0x02,
            ],
        ),
        // MQTT 3.1.1 §3.9, figures 3.24-3.26: return codes 1 and 0x80 (failure).
        (
            "v311_suback",
            V311,
            Packet::SubAck(SubAck {
                packet_id: 1,
                reason_codes: vec![0x01, 0x80],
                properties: Properties::default(),
            }),
            vec![0x90, 0x04, 0x00, 0x01, 0x01, 0x80],
        ),
        // MQTT 3.1.1 §3.10, figures 3.28-3.30.
        (
            "v311_unsubscribe",
            V311,
            Packet::Unsubscribe(Unsubscribe {
                packet_id: 2,
                filters: vec![s("a/b")],
                properties: Properties::default(),
            }),
            vec![0xA2, 0x07, 0x00, 0x02, 0x00, 0x03, b'a', b'/', b'b'],
        ),
        // MQTT 3.1.1 §3.11, figure 3.31: no payload.
        (
            "v311_unsuback",
            V311,
            Packet::UnsubAck(UnsubAck {
                packet_id: 2,
                reason_codes: Vec::new(),
                properties: Properties::default(),
            }),
            vec![0xB0, 0x02, 0x00, 0x02],
        ),
        // MQTT 3.1.1 §3.12, figure 3.33.
        ("v311_pingreq", V311, Packet::PingReq, vec![0xC0, 0x00]),
        // MQTT 3.1.1 §3.13, figure 3.34.
        ("v311_pingresp", V311, Packet::PingResp, vec![0xD0, 0x00]),
        // MQTT 3.1.1 §3.14, figure 3.35.
        (
            "v311_disconnect",
            V311,
            Packet::Disconnect(Disconnect::default()),
            vec![0xE0, 0x00],
        ),
    ]
}

fn v5_connect_full() -> Vector {
    let properties = Properties::from(PropertyValues {
        session_expiry_interval: Some(3600),
        authentication_method: Some(s("SCRAM")),
        authentication_data: Some(vec![1, 2]),
        request_problem_information: Some(0),
        request_response_information: Some(1),
        receive_maximum: Some(20),
        topic_alias_maximum: Some(10),
        user_properties: vec![user("k", "v")],
        maximum_packet_size: Some(65536),
        ..PropertyValues::default()
    });
    let will_properties = Properties::from(PropertyValues {
        payload_format_indicator: Some(1),
        message_expiry_interval: Some(120),
        content_type: Some(s("text/plain")),
        response_topic: Some(s("r")),
        correlation_data: Some(vec![0xAB]),
        will_delay_interval: Some(5),
        user_properties: vec![user("a", "b")],
        ..PropertyValues::default()
    });
    (
        "v5_connect_full",
        V5,
        Packet::Connect(Box::new(Connect {
            protocol: V5,
            clean_start: true,
            keep_alive: 30,
            client_id: s("cid"),
            will: Some(Will {
                topic: s("w/t"),
                payload: b"x".to_vec(),
                qos: QoS::ExactlyOnce,
                retain: false,
                properties: will_properties,
            }),
            username: Some(s("user")),
            password: Some(b"pw".to_vec()),
            properties,
        })),
        cat(&[
            // Remaining length 115.
            &[0x10, 0x73],
            // §3.1.2.1-3.1.2.10: name, level 5, flags user 0x80 | password
            // 0x40 | will QoS 2 0x10 | will 0x04 | clean start 0x02 = 0xD6,
            // keep alive 30.
            &[0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0xD6, 0x00, 0x1E],
            // §3.1.2.11: property length 40, then in identifier order.
            &[0x28],
            &[0x11, 0x00, 0x00, 0x0E, 0x10],
            &[0x15, 0x00, 0x05, b'S', b'C', b'R', b'A', b'M'],
            &[0x16, 0x00, 0x02, 0x01, 0x02],
            &[0x17, 0x00],
            &[0x19, 0x01],
            &[0x21, 0x00, 0x14],
            &[0x22, 0x00, 0x0A],
            &[0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v'],
            &[0x27, 0x00, 0x01, 0x00, 0x00],
            // §3.1.3.1 client identifier.
            &[0x00, 0x03, b'c', b'i', b'd'],
            // §3.1.3.2 will properties, length 40.
            &[0x28],
            &[0x01, 0x01],
            &[0x02, 0x00, 0x00, 0x00, 0x78],
            &[0x03, 0x00, 0x0A],
            b"text/plain",
            &[0x08, 0x00, 0x01, b'r'],
            &[0x09, 0x00, 0x01, 0xAB],
            &[0x18, 0x00, 0x00, 0x00, 0x05],
            &[0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'b'],
            // §3.1.3.3-3.1.3.6 will topic, will payload, user name, password.
            &[0x00, 0x03, b'w', b'/', b't'],
            &[0x00, 0x01, b'x'],
            &[0x00, 0x04, b'u', b's', b'e', b'r'],
            &[0x00, 0x02, b'p', b'w'],
        ]),
    )
}

fn v5_connack_full() -> Vector {
    let properties = Properties::from(PropertyValues {
        assigned_client_identifier: Some(s("id1")),
        server_keep_alive: Some(20),
        response_information: Some(s("ri")),
        server_reference: Some(s("s2")),
        reason_string: Some(s("ok")),
        receive_maximum: Some(100),
        topic_alias_maximum: Some(5),
        maximum_qos: Some(1),
        retain_available: Some(0),
        user_properties: vec![user("x", "y")],
        maximum_packet_size: Some(1_048_576),
        wildcard_subscription_available: Some(1),
        subscription_identifiers_available: Some(1),
        shared_subscription_available: Some(0),
        ..PropertyValues::default()
    });
    (
        "v5_connack_properties",
        V5,
        Packet::ConnAck(ConnAck {
            session_present: false,
            reason_code: 0,
            properties,
        }),
        cat(&[
            // MQTT 5.0 §3.2: remaining length 55: flags, reason, property
            // length 52, properties (§3.2.2.3) in identifier order.
            &[0x20, 0x37, 0x00, 0x00, 0x34],
            &[0x12, 0x00, 0x03, b'i', b'd', b'1'],
            &[0x13, 0x00, 0x14],
            &[0x1A, 0x00, 0x02, b'r', b'i'],
            &[0x1C, 0x00, 0x02, b's', b'2'],
            &[0x1F, 0x00, 0x02, b'o', b'k'],
            &[0x21, 0x00, 0x64],
            &[0x22, 0x00, 0x05],
            &[0x24, 0x01],
            &[0x25, 0x00],
            &[0x26, 0x00, 0x01, b'x', 0x00, 0x01, b'y'],
            &[0x27, 0x00, 0x10, 0x00, 0x00],
            &[0x28, 0x01],
            &[0x29, 0x01],
            &[0x2A, 0x00],
        ]),
    )
}

fn v5_publish_full() -> Vector {
    let properties = Properties::from(PropertyValues {
        payload_format_indicator: Some(1),
        message_expiry_interval: Some(60),
        content_type: Some(s("json")),
        response_topic: Some(s("resp")),
        correlation_data: Some(vec![1, 2, 3]),
        subscription_identifiers: vec![5, 300],
        topic_alias: Some(3),
        user_properties: vec![user("k", "v")],
        ..PropertyValues::default()
    });
    (
        "v5_publish_properties",
        V5,
        Packet::Publish(Publish {
            dup: false,
            qos: QoS::AtLeastOnce,
            retain: false,
            topic: s("t"),
            packet_id: 7,
            payload: b"{}".to_vec(),
            properties,
        }),
        cat(&[
            // MQTT 5.0 §3.3.1 QoS 1 = 0x32; remaining length 50.
            &[0x32, 0x32],
            // §3.3.2.1 topic, §3.3.2.2 packet id 7, §3.3.2.3 properties (42).
            &[0x00, 0x01, b't', 0x00, 0x07, 0x2A],
            &[0x01, 0x01],
            &[0x02, 0x00, 0x00, 0x00, 0x3C],
            &[0x03, 0x00, 0x04, b'j', b's', b'o', b'n'],
            &[0x08, 0x00, 0x04, b'r', b'e', b's', b'p'],
            &[0x09, 0x00, 0x03, 0x01, 0x02, 0x03],
            // §3.3.2.3.8 subscription identifiers 5 and 300 (varint AC 02).
            &[0x0B, 0x05],
            &[0x0B, 0xAC, 0x02],
            &[0x23, 0x00, 0x03],
            &[0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v'],
            // §3.3.3 payload.
            b"{}",
        ]),
    )
}

fn v5_vectors() -> Vec<Vector> {
    vec![
        // MQTT 5.0 §3.1.2, figure 3-5 style: level 5, clean start, keep alive
        // 60, property length 0, client id "a".
        (
            "v5_connect_min",
            V5,
            Packet::Connect(Box::new(Connect {
                protocol: V5,
                clean_start: true,
                keep_alive: 60,
                client_id: s("a"),
                will: None,
                username: None,
                password: None,
                properties: Properties::default(),
            })),
            vec![
                0x10, 0x0E, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3C, 0x00, 0x00,
                0x01, b'a',
            ],
        ),
        // MQTT 5.0 §3.1: CONNECT with every CONNECT property, will with
        // properties, user name and password.
        v5_connect_full(),
        // MQTT 5.0 §3.2.2.2: reason 0x87 Not authorized, property length 0.
        (
            "v5_connack_refused",
            V5,
            Packet::ConnAck(ConnAck {
                session_present: false,
                reason_code: 0x87,
                properties: Properties::default(),
            }),
            vec![0x20, 0x03, 0x00, 0x87, 0x00],
        ),
        // MQTT 5.0 §3.2: session present, success.
        (
            "v5_connack_session_present",
            V5,
            Packet::ConnAck(ConnAck {
                session_present: true,
                reason_code: 0,
                properties: Properties::default(),
            }),
            vec![0x20, 0x03, 0x01, 0x00, 0x00],
        ),
        // MQTT 5.0 §3.2.2.3: CONNACK carrying many properties.
        v5_connack_full(),
        // MQTT 5.0 §3.3.2, figure 3-9: QoS 0, property length 0.
        (
            "v5_publish_qos0",
            V5,
            Packet::Publish(Publish {
                dup: false,
                qos: QoS::AtMostOnce,
                retain: false,
                topic: s("a/b"),
                packet_id: 0,
                payload: b"hi".to_vec(),
                properties: Properties::default(),
            }),
            vec![0x30, 0x08, 0x00, 0x03, b'a', b'/', b'b', 0x00, b'h', b'i'],
        ),
        // MQTT 5.0 §3.3.2.3: PUBLISH with message properties, two
        // subscription identifiers, topic alias, user property.
        v5_publish_full(),
        // MQTT 5.0 §3.3.2.3.4: empty topic name with topic alias 1, QoS 2,
        // retain.
        (
            "v5_publish_alias_only",
            V5,
            Packet::Publish(Publish {
                dup: false,
                qos: QoS::ExactlyOnce,
                retain: true,
                topic: String::new(),
                packet_id: 9,
                payload: b"z".to_vec(),
                properties: Properties::from(PropertyValues {
                    topic_alias: Some(1),
                    ..PropertyValues::default()
                }),
            }),
            vec![
                0x35, 0x09, 0x00, 0x00, 0x00, 0x09, 0x03, 0x23, 0x00, 0x01, b'z',
            ],
        ),
        // MQTT 5.0 §3.4.2.1: reason 0 and no properties, remaining length 2.
        (
            "v5_puback_short",
            V5,
            Packet::PubAck(ack(1, 0, Properties::default())),
            vec![0x40, 0x02, 0x00, 0x01],
        ),
        // MQTT 5.0 §3.4.2.2.1: reason 0x10 without properties, length 3.
        (
            "v5_puback_reason_only",
            V5,
            Packet::PubAck(ack(1, 0x10, Properties::default())),
            vec![0x40, 0x03, 0x00, 0x01, 0x10],
        ),
        // MQTT 5.0 §3.4.2.2: reason 0x80, reason string and user property.
        (
            "v5_puback_properties",
            V5,
            Packet::PubAck(ack(
                1,
                0x80,
                Properties::from(PropertyValues {
                    reason_string: Some(s("no")),
                    user_properties: vec![user("a", "b")],
                    ..PropertyValues::default()
                }),
            )),
            vec![
                0x40, 0x10, 0x00, 0x01, 0x80, 0x0C, 0x1F, 0x00, 0x02, b'n', b'o', 0x26, 0x00, 0x01,
                b'a', 0x00, 0x01, b'b',
            ],
        ),
        // MQTT 5.0 §3.5: PUBREC, short form.
        (
            "v5_pubrec_short",
            V5,
            Packet::PubRec(ack(2, 0, Properties::default())),
            vec![0x50, 0x02, 0x00, 0x02],
        ),
        // MQTT 5.0 §3.5.2.1: PUBREC reason 0x97 Quota exceeded.
        (
            "v5_pubrec_reason",
            V5,
            Packet::PubRec(ack(2, 0x97, Properties::default())),
            vec![0x50, 0x03, 0x00, 0x02, 0x97],
        ),
        // MQTT 5.0 §3.6.2.1: PUBREL reason 0x92 Packet Identifier not found.
        (
            "v5_pubrel_reason",
            V5,
            Packet::PubRel(ack(3, 0x92, Properties::default())),
            vec![0x62, 0x03, 0x00, 0x03, 0x92],
        ),
        // MQTT 5.0 §3.6: PUBREL short form.
        (
            "v5_pubrel_short",
            V5,
            Packet::PubRel(ack(3, 0, Properties::default())),
            vec![0x62, 0x02, 0x00, 0x03],
        ),
        // MQTT 5.0 §3.7: PUBCOMP short form.
        (
            "v5_pubcomp_short",
            V5,
            Packet::PubComp(ack(4, 0, Properties::default())),
            vec![0x70, 0x02, 0x00, 0x04],
        ),
        // MQTT 5.0 §3.7.2.2: PUBCOMP 0x92 with reason string "nf".
        (
            "v5_pubcomp_properties",
            V5,
            Packet::PubComp(ack(
                4,
                0x92,
                Properties::from(PropertyValues {
                    reason_string: Some(s("nf")),
                    ..PropertyValues::default()
                }),
            )),
            vec![
                0x70, 0x09, 0x00, 0x04, 0x92, 0x05, 0x1F, 0x00, 0x02, b'n', b'f',
            ],
        ),
        // MQTT 5.0 §3.8, figure 3-21 options: "a/+" QoS 1 | No Local 0x04 |
        // Retain As Published 0x08 | Retain Handling 2 (0x20) = 0x2D;
        // "$share/g/x/#" QoS 2 | Retain Handling 1 (0x10) = 0x12;
        // §3.8.2.1 subscription identifier 1 and a user property.
        (
            "v5_subscribe_options",
            V5,
            Packet::Subscribe(Subscribe {
                packet_id: 10,
                subscriptions: vec![
                    Subscription {
                        filter: s("a/+"),
                        options: SubscriptionOptions {
                            qos: QoS::AtLeastOnce,
                            no_local: true,
                            retain_as_published: true,
                            retain_handling: RetainHandling::DoNotSend,
                        },
                    },
                    Subscription {
                        filter: s("$share/g/x/#"),
                        options: SubscriptionOptions {
                            qos: QoS::ExactlyOnce,
                            no_local: false,
                            retain_as_published: false,
                            retain_handling: RetainHandling::SendIfNew,
                        },
                    },
                ],
                properties: Properties::from(PropertyValues {
                    subscription_identifiers: vec![1],
                    user_properties: vec![user("a", "b")],
                    ..PropertyValues::default()
                }),
            }),
            cat(&[
                &[0x82, 0x21, 0x00, 0x0A],
                &[0x09, 0x0B, 0x01, 0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'b'],
                &[0x00, 0x03, b'a', b'/', b'+', 0x2D],
                &[0x00, 0x0C],
                b"$share/g/x/#",
                &[0x12],
            ]),
        ),
        // MQTT 5.0 §3.9.3: granted QoS 1, QoS 2, 0x87 Not authorized, 0xA2
        // Wildcard Subscriptions not supported; reason string "r".
        (
            "v5_suback",
            V5,
            Packet::SubAck(SubAck {
                packet_id: 10,
                reason_codes: vec![0x01, 0x02, 0x87, 0xA2],
                properties: Properties::from(PropertyValues {
                    reason_string: Some(s("r")),
                    ..PropertyValues::default()
                }),
            }),
            vec![
                0x90, 0x0B, 0x00, 0x0A, 0x04, 0x1F, 0x00, 0x01, b'r', 0x01, 0x02, 0x87, 0xA2,
            ],
        ),
        // MQTT 5.0 §3.10: two filters and a user property.
        (
            "v5_unsubscribe",
            V5,
            Packet::Unsubscribe(Unsubscribe {
                packet_id: 11,
                filters: vec![s("a/b"), s("c")],
                properties: Properties::from(PropertyValues {
                    user_properties: vec![user("a", "b")],
                    ..PropertyValues::default()
                }),
            }),
            cat(&[
                &[0xA2, 0x12, 0x00, 0x0B],
                &[0x07, 0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'b'],
                &[0x00, 0x03, b'a', b'/', b'b', 0x00, 0x01, b'c'],
            ]),
        ),
        // MQTT 5.0 §3.11.3: reason codes 0x00 and 0x11 No subscription existed.
        (
            "v5_unsuback",
            V5,
            Packet::UnsubAck(UnsubAck {
                packet_id: 11,
                reason_codes: vec![0x00, 0x11],
                properties: Properties::default(),
            }),
            vec![0xB0, 0x05, 0x00, 0x0B, 0x00, 0x00, 0x11],
        ),
        // MQTT 5.0 §3.12.
        ("v5_pingreq", V5, Packet::PingReq, vec![0xC0, 0x00]),
        // MQTT 5.0 §3.13.
        ("v5_pingresp", V5, Packet::PingResp, vec![0xD0, 0x00]),
        // MQTT 5.0 §3.14.2.1: reason 0 and no properties, remaining length 0.
        (
            "v5_disconnect_short",
            V5,
            Packet::Disconnect(Disconnect::default()),
            vec![0xE0, 0x00],
        ),
        // MQTT 5.0 §3.14.2.1: 0x04 Disconnect with Will Message, no properties.
        (
            "v5_disconnect_reason_only",
            V5,
            Packet::Disconnect(Disconnect {
                reason_code: 0x04,
                properties: Properties::default(),
            }),
            vec![0xE0, 0x01, 0x04],
        ),
        // MQTT 5.0 §3.14.2.2: 0x9C Use another server with session expiry,
        // server reference and reason string.
        (
            "v5_disconnect_properties",
            V5,
            Packet::Disconnect(Disconnect {
                reason_code: 0x9C,
                properties: Properties::from(PropertyValues {
                    session_expiry_interval: Some(0),
                    server_reference: Some(s("b2")),
                    reason_string: Some(s("bye")),
                    ..PropertyValues::default()
                }),
            }),
            vec![
                0xE0, 0x12, 0x9C, 0x10, 0x11, 0x00, 0x00, 0x00, 0x00, 0x1C, 0x00, 0x02, b'b', b'2',
                0x1F, 0x00, 0x03, b'b', b'y', b'e',
            ],
        ),
        // MQTT 5.0 §3.15.2.1: success and no properties, remaining length 0.
        (
            "v5_auth_short",
            V5,
            Packet::Auth(Auth::default()),
            vec![0xF0, 0x00],
        ),
        // MQTT 5.0 §3.15.2: 0x19 Re-authenticate; the property length
        // cannot be left out alone.
        (
            "v5_auth_reason",
            V5,
            Packet::Auth(Auth {
                reason_code: 0x19,
                properties: Properties::default(),
            }),
            vec![0xF0, 0x02, 0x19, 0x00],
        ),
        // MQTT 5.0 §3.15.2.2: 0x18 Continue authentication with method and data.
        (
            "v5_auth_properties",
            V5,
            Packet::Auth(Auth {
                reason_code: 0x18,
                properties: Properties::from(PropertyValues {
                    authentication_method: Some(s("SCRAM")),
                    authentication_data: Some(vec![0xDE, 0xAD]),
                    ..PropertyValues::default()
                }),
            }),
            vec![
                0xF0, 0x0F, 0x18, 0x0D, 0x15, 0x00, 0x05, b'S', b'C', b'R', b'A', b'M', 0x16, 0x00,
                0x02, 0xDE, 0xAD,
            ],
        ),
    ]
}

fn all_vectors() -> Vec<Vector> {
    let mut all = v311_vectors();
    all.extend(v5_vectors());
    all
}

fn check(name: &str, version: ProtocolVersion, packet: &Packet, bytes: &[u8]) {
    let mut out = vec![0xAA];
    let n = encode(packet, version, &mut out).unwrap_or_else(|e| panic!("{name}: encode: {e}"));
    assert_eq!(&out[1..], bytes, "{name}: encoding");
    assert_eq!(n, bytes.len(), "{name}: encoded length");
    let decoded = decode(bytes, version, usize::MAX).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        decoded,
        Some((packet.clone(), bytes.len())),
        "{name}: decoding"
    );
    // Every strict prefix is incomplete, never an error.
    for cut in 0..bytes.len() {
        assert_eq!(
            decode(&bytes[..cut], version, usize::MAX),
            Ok(None),
            "{name}: prefix {cut}"
        );
    }
}

#[test]
fn v311_vectors_round_trip() {
    for (name, version, packet, bytes) in v311_vectors() {
        check(name, version, &packet, &bytes);
    }
}

#[test]
fn v5_vectors_round_trip() {
    for (name, version, packet, bytes) in v5_vectors() {
        check(name, version, &packet, &bytes);
    }
}

#[test]
fn every_packet_type_in_both_versions() {
    use std::collections::HashSet;
    let all = all_vectors();
    for version in [V311, V5] {
        let types: HashSet<u8> = all
            .iter()
            .filter(|v| v.1 == version)
            .map(|v| v.2.packet_type() as u8)
            .collect();
        let expected = if version == V5 { 15 } else { 14 };
        assert_eq!(types.len(), expected, "{version:?}");
    }
}

/// Decoding under MQTT 5 what a 3.1.1 peer would send: CONNECT carries its
/// own level, so a 3.1.1 CONNECT decodes under either version argument.
#[test]
fn connect_level_overrides_version() {
    for (name, _, packet, bytes) in all_vectors() {
        if let Packet::Connect(c) = &packet {
            for version in [V311, V5] {
                let decoded = decode(&bytes, version, usize::MAX).unwrap();
                assert_eq!(decoded, Some((packet.clone(), bytes.len())), "{name}");
            }
            let mut out = Vec::new();
            let other = if c.protocol == V5 { V311 } else { V5 };
            encode(&packet, other, &mut out).unwrap();
            assert_eq!(out, bytes, "{name}: CONNECT encodes in its own level");
        }
    }
}

/// Under 3.1.1 the MQTT 5-only fields are left out.
#[test]
fn v311_leaves_out_v5_fields() {
    let mut out = Vec::new();
    let p = Packet::PubAck(ack(
        1,
        0x10,
        Properties::from(PropertyValues {
            reason_string: Some(s("x")),
            ..PropertyValues::default()
        }),
    ));
    encode(&p, V311, &mut out).unwrap();
    assert_eq!(out, [0x40, 0x02, 0x00, 0x01]);
}

/// MQTT 3.1.1 does not forbid a non-shortest remaining length.
#[test]
fn v311_accepts_non_minimal_remaining_length() {
    let bytes = [0x40, 0x82, 0x00, 0x00, 0x01];
    assert_eq!(
        decode(&bytes, V311, usize::MAX),
        Ok(Some((Packet::PubAck(ack(1, 0, Properties::default())), 5)))
    );
}

/// Writes the seed corpus of the fuzz target when `WASMQTT_WRITE_CORPUS` is
/// set: one file per vector, named after it.
#[test]
fn write_fuzz_corpus() {
    if std::env::var_os("WASMQTT_WRITE_CORPUS").is_none() {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decode");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, _, _, bytes) in all_vectors() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
