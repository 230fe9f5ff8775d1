//! Broker protocol violations close the connection with a clear error, and
//! the session state survives for the next connection.

mod common;

use common::*;
use wasmqtt::codec::{
    ConnAck, Connect, DecodeError, Packet, PacketType, Properties, ProtocolVersion, Publish, QoS,
    Subscribe, Subscription, SubscriptionOptions,
};
use wasmqtt::session::{CloseReason, Output, ProtocolError};

enum Violation {
    Packet(Box<Packet>),
    Raw(Vec<u8>),
}

fn violations(v: ProtocolVersion) -> Vec<(&'static str, Violation, ProtocolError, u8)> {
    let mut list = vec![
        (
            "second CONNACK",
            Violation::Packet(Box::new(Packet::ConnAck(ConnAck::default()))),
            ProtocolError::UnexpectedPacket(PacketType::ConnAck),
            0x82,
        ),
        (
            "PINGREQ to the client",
            Violation::Packet(Box::new(Packet::PingReq)),
            ProtocolError::UnexpectedPacket(PacketType::PingReq),
            0x82,
        ),
        (
            "SUBSCRIBE to the client",
            Violation::Packet(Box::new(Packet::Subscribe(Subscribe {
                packet_id: 3,
                subscriptions: vec![Subscription {
                    filter: "x".into(),
                    options: SubscriptionOptions::default(),
                }],
                properties: Properties::default(),
            }))),
            ProtocolError::UnexpectedPacket(PacketType::Subscribe),
            0x82,
        ),
        (
            "CONNECT to the client",
            Violation::Packet(Box::new(Packet::Connect(Box::new(Connect {
                protocol: v,
                clean_start: true,
                keep_alive: 0,
                client_id: "evil".into(),
                will: None,
                username: None,
                password: None,
                properties: Properties::default(),
            })))),
            ProtocolError::UnexpectedPacket(PacketType::Connect),
            0x82,
        ),
        (
            // A packet only clients send is refused unread: even broken.
            "CONNECT with a broken body to the client",
            Violation::Raw(vec![0x10, 0x02, 0xff, 0xff]),
            ProtocolError::UnexpectedPacket(PacketType::Connect),
            0x82,
        ),
        (
            "UNSUBSCRIBE with no filter to the client",
            Violation::Raw(vec![0xa2, 0x02, 0x00, 0x01]),
            ProtocolError::UnexpectedPacket(PacketType::Unsubscribe),
            0x82,
        ),
        (
            "packet type 0",
            Violation::Raw(vec![0x00, 0x00]),
            ProtocolError::Decode(DecodeError::InvalidPacketType(0)),
            0x81,
        ),
        (
            "PUBLISH with QoS 3",
            Violation::Raw(vec![0x36, 0x05, 0x00, 0x01, b'a', 0x00, 0x01]),
            ProtocolError::Decode(DecodeError::InvalidQoS),
            0x81,
        ),
        (
            "PUBACK cut short",
            Violation::Raw(vec![0x40, 0x01, 0x00]),
            // Truncated or malformed: the exact variant is the codec's call.
            ProtocolError::Decode(DecodeError::Truncated),
            0x81,
        ),
    ];
    if v == ProtocolVersion::V5 {
        let mut p = Publish {
            dup: false,
            qos: QoS::AtMostOnce,
            retain: false,
            topic: "a".into(),
            packet_id: 0,
            payload: b"x".to_vec(),
            properties: Properties::default(),
        };
        p.properties.topic_alias = Some(9);
        list.push((
            "topic alias above our maximum",
            Violation::Packet(Box::new(Packet::Publish(p))),
            ProtocolError::TopicAliasInvalid(9),
            0x94,
        ));
    }
    list
}

#[test]
fn violations_close_with_a_clear_error_and_the_session_resumes() {
    for v in VERSIONS {
        for (what, violation, expected, code) in violations(v) {
            let ctx = format!("{v:?} {what}");
            let mut c = persistent(v, "viol");
            c.durable = true;
            if v == ProtocolVersion::V5 {
                c.properties.topic_alias_maximum = Some(2);
            }
            let mut p = Pair::new(c);
            p.connect();
            p.subscribe("in/#", QoS::ExactlyOnce);
            // Work in flight in both directions when the violation comes.
            p.broker.ack_mode = AckMode::Hold;
            let s1 = p.publish("o", b"q1", QoS::AtLeastOnce).unwrap();
            let s2 = p.publish("o", b"q2", QoS::ExactlyOnce).unwrap();
            p.broker.ignore_pubrec = true;
            p.broker.publish("in/x", b"inc", QoS::ExactlyOnce);
            p.drive();
            assert!(p.closes.is_empty(), "{ctx}");
            let before = p.session.export_state();
            assert!(!before.messages.is_empty(), "{ctx}: messages in flight");
            assert!(
                !before.incoming_qos2.is_empty(),
                "{ctx}: incoming QoS 2 pending"
            );

            let mark = p.log.len();
            match violation {
                Violation::Packet(pk) => p.broker.send(*pk),
                Violation::Raw(b) => p.broker.send_raw(&b),
            }
            // Deliver the violation but hold the broker's answers.
            p.drive();
            match (&p.closes[..], &expected) {
                (
                    [CloseReason::Protocol(ProtocolError::Decode(_))],
                    ProtocolError::Decode(DecodeError::Truncated),
                ) => {}
                ([CloseReason::Protocol(got)], _) => assert_eq!(got, &expected, "{ctx}"),
                (other, _) => panic!("{ctx}: {other:?}"),
            }
            assert!(!p.session.is_connected(), "{ctx}");
            // MQTT 5: a DISCONNECT with the reason goes out first.
            let disconnect = p.log[mark..].iter().find_map(|o| match o {
                Output::Transmit(b) => decode_all(b, v).into_iter().find_map(|x| match x {
                    Packet::Disconnect(d) => Some(d.reason_code),
                    _ => None,
                }),
                _ => None,
            });
            let close_at = p.log[mark..]
                .iter()
                .position(|o| matches!(o, Output::Close(_)))
                .unwrap();
            match v {
                ProtocolVersion::V5 => {
                    assert_eq!(disconnect, Some(code), "{ctx}");
                    let disc_at = p.log[mark..]
                        .iter()
                        .position(|o| matches!(o, Output::Transmit(_)))
                        .unwrap();
                    assert!(disc_at < close_at, "{ctx}: DISCONNECT before Close");
                }
                ProtocolVersion::V311 => assert_eq!(disconnect, None, "{ctx}"),
            }
            // State intact.
            assert_eq!(
                normalize(p.session.export_state()),
                normalize(before),
                "{ctx}: state survives the violation"
            );
            // The next connection resumes and everything completes.
            p.broker.ack_mode = AckMode::Normal;
            p.broker.ignore_pubrec = false;
            p.connect();
            p.drive();
            assert_eq!(p.done(s1), 1, "{ctx}");
            assert_eq!(p.done(s2), 1, "{ctx}");
            assert_eq!(p.message_counts()[&b"inc".to_vec()], 1, "{ctx}");
            assert_eq!(p.session.pending_messages(), 0);
            assert!(p.session.export_state().incoming_qos2.is_empty());
            assert_eq!(p.broker.delivery_counts()[&b"q2".to_vec()], 1, "{ctx}");
            assert!(p.id_violations.is_empty(), "{ctx}: {:?}", p.id_violations);
        }
    }
}

#[test]
fn packets_before_connack_are_violations() {
    for v in VERSIONS {
        for pk in [
            Packet::PingResp,
            Packet::Publish(Publish {
                dup: false,
                qos: QoS::AtMostOnce,
                retain: false,
                topic: "t".into(),
                packet_id: 0,
                payload: vec![],
                properties: Properties::default(),
            }),
        ] {
            let ty = pk.packet_type();
            let mut p = Pair::new(config(v, "early"));
            p.broker.mute_connack = true;
            p.connect();
            p.broker_send(pk);
            assert_eq!(
                p.closes,
                vec![CloseReason::Protocol(ProtocolError::UnexpectedPacket(ty))],
                "{v:?}"
            );
            assert!(p.messages().is_empty());
            assert!(p.connected_events().is_empty());
        }
    }
}

#[test]
fn server_disconnect_closes_and_keeps_state() {
    let mut c = persistent(ProtocolVersion::V5, "sdisc");
    c.durable = true;
    let mut p = Pair::new(c);
    p.connect();
    p.broker.ack_mode = AckMode::Hold;
    let s = p.publish("o", b"x", QoS::ExactlyOnce).unwrap();
    p.broker_send(Packet::Disconnect(wasmqtt::codec::Disconnect {
        reason_code: 0x8B,
        properties: Properties::default(),
    }));
    assert!(matches!(
        p.closes.as_slice(),
        [CloseReason::ServerDisconnect {
            reason_code: 0x8B,
            ..
        }]
    ));
    p.broker.ack_mode = AckMode::Normal;
    p.connect();
    assert_eq!(p.done(s), 1);
}

#[test]
fn garbage_never_panics() {
    // Random bytes after CONNACK, with state in flight: a close or nothing,
    // never a panic, and the session resumes afterwards.
    for v in VERSIONS {
        let mut rng = Rng::new(99);
        for round in 0..300 {
            let mut p = Pair::new(persistent(v, "fuzz"));
            p.connect();
            p.broker.ack_mode = AckMode::Hold;
            let s = p.publish("o", b"x", QoS::ExactlyOnce).unwrap();
            let len = rng.below(40);
            let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            p.broker_send_raw(&bytes);
            p.broker.ack_mode = AckMode::Normal;
            p.reconnect();
            assert_eq!(p.done(s), 1, "{v:?} round {round}: {bytes:?}");
        }
    }
}

#[test]
fn session_present_after_a_clean_start_is_a_violation() {
    use wasmqtt::session::{Session, SessionConfig};
    for v in [ProtocolVersion::V311, ProtocolVersion::V5] {
        let mut s = Session::new(SessionConfig::new(v, "clean"));
        s.handle_connected(0);
        while s.poll_output().is_some() {}
        let connack: &[u8] = match v {
            ProtocolVersion::V311 => &[0x20, 0x02, 0x01, 0x00],
            ProtocolVersion::V5 => &[0x20, 0x03, 0x01, 0x00, 0x00],
        };
        s.handle_bytes(connack, 1);
        let outputs: Vec<Output> = std::iter::from_fn(|| s.poll_output()).collect();
        assert!(
            outputs.contains(&Output::Close(CloseReason::Protocol(
                ProtocolError::SessionPresentOnCleanStart
            ))),
            "{v:?}: {outputs:?}"
        );
        assert!(!s.is_connected());
    }
}
