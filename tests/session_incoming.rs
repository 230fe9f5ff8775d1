//! Incoming QoS 0/1/2, PUBREL for unknown ids, topic aliases, Receive
//! Maximum and Maximum Packet Size in the broker-to-client direction.

mod common;

use common::*;
use wasmqtt::codec::{
    DecodeError, Packet, PacketType, Properties, ProtocolVersion, PubResp, Publish, QoS,
};
use wasmqtt::session::{CloseReason, Output, ProtocolError, Session};

fn publish(topic: &str, payload: &[u8], qos: QoS, id: u16) -> Publish {
    Publish {
        dup: false,
        qos,
        retain: false,
        topic: topic.into(),
        packet_id: id,
        payload: payload.to_vec(),
        properties: Properties::default(),
    }
}

/// The DISCONNECT reason the client sent just before its Close output.
fn disconnect_before_close(p: &Pair) -> Option<u8> {
    let close_at = p.log.iter().position(|o| matches!(o, Output::Close(_)))?;
    p.log[..close_at].iter().rev().find_map(|o| match o {
        Output::Transmit(b) => {
            decode_all(b, ProtocolVersion::V5)
                .into_iter()
                .find_map(|pk| match pk {
                    Packet::Disconnect(d) => Some(d.reason_code),
                    _ => None,
                })
        }
        _ => None,
    })
}

#[test]
fn incoming_qos_0_1_2_are_delivered_and_acknowledged() {
    for v in VERSIONS {
        let mut p = connected(config(v, "in"), Properties::default());
        p.subscribe("in/#", QoS::ExactlyOnce);
        p.broker.publish("in/0", b"zero", QoS::AtMostOnce);
        p.broker.publish("in/1", b"one", QoS::AtLeastOnce);
        p.broker.publish("in/2", b"two", QoS::ExactlyOnce);
        p.drive();
        let got: Vec<(String, Vec<u8>, QoS)> = p
            .messages()
            .into_iter()
            .map(|m| (m.topic, m.payload, m.qos))
            .collect();
        assert_eq!(
            got,
            vec![
                ("in/0".into(), b"zero".to_vec(), QoS::AtMostOnce),
                ("in/1".into(), b"one".to_vec(), QoS::AtLeastOnce),
                ("in/2".into(), b"two".to_vec(), QoS::ExactlyOnce),
            ],
            "{v:?}"
        );
        assert_eq!(p.sent_of(PacketType::PubAck).len(), 1);
        assert_eq!(p.sent_of(PacketType::PubRec).len(), 1);
        assert_eq!(p.sent_of(PacketType::PubComp).len(), 1);
        assert_eq!(
            p.broker.session("in").unwrap().outflight_len(),
            0,
            "broker done"
        );
        assert!(p.session.export_state().incoming_qos2.is_empty());
        p.assert_clean();
    }
}

#[test]
fn incoming_qos2_is_delivered_once_however_many_dups_precede_pubrel() {
    for v in VERSIONS {
        let mut p = connected(config(v, "dup"), Properties::default());
        p.subscribe("d/#", QoS::ExactlyOnce);
        p.broker.dup_publish = 5;
        for i in 0..10 {
            p.broker
                .publish("d/x", format!("m{i}").as_bytes(), QoS::ExactlyOnce);
        }
        p.drive();
        assert_eq!(p.messages().len(), 10, "{v:?}: each exactly once");
        for (_, n) in p.message_counts() {
            assert_eq!(n, 1);
        }
        assert_eq!(
            p.sent_of(PacketType::PubRec).len(),
            60,
            "every copy answered"
        );
        // A repeated PUBREC is answered with PUBREL, each PUBREL with PUBCOMP.
        let pubrels = p
            .broker
            .sent
            .iter()
            .filter(|x| matches!(x, Packet::PubRel(_)))
            .count();
        assert_eq!(p.sent_of(PacketType::PubComp).len(), pubrels);
        // QoS 1 duplicates are allowed through (at least once).
        p.broker.dup_publish = 2;
        p.broker.publish("d/y", b"q1", QoS::AtLeastOnce);
        p.drive();
        assert_eq!(p.message_counts()[&b"q1".to_vec()], 3);
        p.assert_clean();
    }
}

#[test]
fn qos2_id_is_free_again_after_pubrel() {
    // After PUBREL/PUBCOMP the broker may reuse the id for a new message,
    // which must be delivered.
    for v in VERSIONS {
        let mut p = connected(config(v, "reuse"), Properties::default());
        p.broker_send(Packet::Publish(publish("r", b"first", QoS::ExactlyOnce, 9)));
        p.broker_send(Packet::PubRel(PubResp {
            packet_id: 9,
            ..PubResp::default()
        }));
        p.broker_send(Packet::Publish(publish(
            "r",
            b"second",
            QoS::ExactlyOnce,
            9,
        )));
        let payloads: Vec<Vec<u8>> = p.messages().into_iter().map(|m| m.payload).collect();
        assert_eq!(
            payloads,
            vec![b"first".to_vec(), b"second".to_vec()],
            "{v:?}"
        );
    }
}

#[test]
fn pubrel_for_an_unknown_id_is_answered_with_pubcomp() {
    // Our PUBCOMP may have been lost with a connection; the broker then
    // legitimately sends PUBREL again for an id we have forgotten.
    for v in VERSIONS {
        let mut p = connected(config(v, "rel"), Properties::default());
        p.broker_send(Packet::PubRel(PubResp {
            packet_id: 777,
            ..PubResp::default()
        }));
        let comps = p.sent_of(PacketType::PubComp);
        assert_eq!(comps.len(), 1, "{v:?}");
        match &comps[0] {
            Packet::PubComp(c) => {
                assert_eq!(c.packet_id, 777);
                let expected = if v == ProtocolVersion::V5 { 0x92 } else { 0 };
                assert_eq!(c.reason_code, expected, "{v:?}");
            }
            other => panic!("{other:?}"),
        }
        assert!(p.closes.is_empty(), "{v:?}: not a protocol error");
        assert!(p.session.is_connected());
        assert!(p.messages().is_empty());
    }
}

#[test]
fn incoming_topic_aliases_are_resolved() {
    let mut c = config(ProtocolVersion::V5, "ialias");
    c.properties.topic_alias_maximum = Some(4);
    let mut p = connected(c, Properties::default());
    p.broker.alias_to_client = true;
    p.subscribe("x/#", QoS::AtLeastOnce);
    for (t, m) in [
        ("x/a", "1"),
        ("x/a", "2"),
        ("x/b", "3"),
        ("x/a", "4"),
        ("x/b", "5"),
    ] {
        p.broker.publish(t, m.as_bytes(), QoS::AtLeastOnce);
    }
    p.drive();
    // The wire really used aliases with empty topics.
    let empty = p
        .wire
        .iter()
        .filter(|(d, pk)| {
            *d == Dir::ToClient && matches!(pk, Packet::Publish(x) if x.topic.is_empty())
        })
        .count();
    assert_eq!(empty, 3);
    let got: Vec<(String, Vec<u8>)> = p
        .messages()
        .into_iter()
        .map(|m| (m.topic, m.payload))
        .collect();
    assert_eq!(
        got,
        vec![
            ("x/a".into(), b"1".to_vec()),
            ("x/a".into(), b"2".to_vec()),
            ("x/b".into(), b"3".to_vec()),
            ("x/a".into(), b"4".to_vec()),
            ("x/b".into(), b"5".to_vec()),
        ]
    );
    assert!(p.closes.is_empty());
}

/// A PUBLISH with Topic Alias 0, which the encoder refuses: built by hand.
fn publish_with_alias_zero() -> Vec<u8> {
    // PUBLISH QoS 0, topic "a", properties: topic alias (0x23) = 0.
    let body = [0x00, 0x01, b'a', 0x03, 0x23, 0x00, 0x00, b'x'];
    let mut v = vec![0x30, body.len() as u8];
    v.extend_from_slice(&body);
    v
}

#[test]
fn invalid_incoming_topic_alias_closes_with_disconnect_0x94() {
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("alias 0", publish_with_alias_zero(), 0),
        (
            "above our maximum",
            {
                let mut x = publish("a", b"x", QoS::AtMostOnce, 0);
                x.properties.topic_alias = Some(5);
                encode_one(&Packet::Publish(x), ProtocolVersion::V5)
            },
            5,
        ),
        (
            "never established",
            {
                let mut x = publish("", b"x", QoS::AtMostOnce, 0);
                x.properties.topic_alias = Some(2);
                encode_one(&Packet::Publish(x), ProtocolVersion::V5)
            },
            2,
        ),
    ];
    for (what, bytes, alias) in cases {
        let mut c = persistent(ProtocolVersion::V5, "badalias");
        c.properties.topic_alias_maximum = Some(4);
        let mut p = connected(c, Properties::default());
        p.broker_send_raw(&bytes);
        match &p.closes[..] {
            [CloseReason::Protocol(ProtocolError::TopicAliasInvalid(a))] => {
                assert_eq!(*a, alias, "{what}");
                assert_eq!(disconnect_before_close(&p), Some(0x94), "{what}");
            }
            other => panic!("{what}: {other:?}"),
        }
        assert_eq!(
            p.broker.client_disconnects.len(),
            1,
            "{what}: the broker got the DISCONNECT"
        );
        assert!(p.messages().is_empty());
        assert!(!p.session.is_connected());
    }
}

#[test]
fn our_receive_maximum_is_announced_and_enforced() {
    let mut c = config(ProtocolVersion::V5, "rmax");
    c.properties.receive_maximum = Some(2);
    let mut p = connected(c.clone(), Properties::default());
    assert_eq!(p.broker.connects[0].properties.receive_maximum, Some(2));
    // A broker that honours it: never more than 2 at a time, all arrive.
    p.subscribe("r/#", QoS::ExactlyOnce);
    p.broker.ack_mode = AckMode::Normal;
    for i in 0..10 {
        p.broker
            .publish("r/x", format!("{i}").as_bytes(), QoS::ExactlyOnce);
    }
    p.drive();
    assert_eq!(p.messages().len(), 10);
    assert!(p.closes.is_empty());
    // A broker that ignores it: the third unreleased QoS 2 PUBLISH is a
    // protocol error.
    let mut p = connected(c, Properties::default());
    p.broker.mute = true; // no PUBREL ever
    for id in 1..=2 {
        p.broker_send(Packet::Publish(publish("r", b"x", QoS::ExactlyOnce, id)));
    }
    assert!(p.closes.is_empty());
    p.broker_send(Packet::Publish(publish("r", b"x", QoS::ExactlyOnce, 3)));
    assert_eq!(
        p.closes,
        vec![CloseReason::Protocol(ProtocolError::ReceiveMaximumExceeded)]
    );
    assert_eq!(disconnect_before_close(&p), Some(0x93));
    assert_eq!(p.messages().len(), 2, "the excess message is not delivered");
}

#[test]
fn incoming_packet_too_large_closes() {
    for v in VERSIONS {
        let mut c = config(v, "imax");
        c.max_packet_size = 200;
        let mut p = connected(c, Properties::default());
        if v == ProtocolVersion::V5 {
            assert_eq!(
                p.broker.connects[0].properties.maximum_packet_size,
                Some(200),
                "announced in CONNECT"
            );
        }
        p.subscribe("big/#", QoS::AtLeastOnce);
        p.broker.publish("big/1", &[0u8; 150], QoS::AtLeastOnce);
        p.drive();
        assert_eq!(p.messages().len(), 1, "{v:?}: under the limit is fine");
        p.broker.publish("big/2", &[0u8; 500], QoS::AtLeastOnce);
        p.drive();
        match &p.closes[..] {
            [CloseReason::Protocol(ProtocolError::Decode(DecodeError::PacketTooLarge {
                max,
                ..
            }))] => assert_eq!(*max, 200),
            other => panic!("{v:?}: {other:?}"),
        }
        if v == ProtocolVersion::V5 {
            assert_eq!(disconnect_before_close(&p), Some(0x95));
        }
        assert_eq!(p.messages().len(), 1);
    }
}

#[test]
fn unsubscribe_stops_delivery() {
    for v in VERSIONS {
        let mut p = connected(config(v, "unsub"), Properties::default());
        let sid = p.subscribe("u/#", QoS::AtLeastOnce);
        assert!(p.events.iter().any(|e| matches!(
            e,
            wasmqtt::session::Event::Subscribed { id, reason_codes } if *id == sid && reason_codes == &vec![1]
        )));
        p.broker.publish("u/1", b"a", QoS::AtLeastOnce);
        p.drive();
        let uid = p
            .session
            .unsubscribe(vec!["u/#".into()], Properties::default(), p.now)
            .unwrap();
        p.drive();
        assert!(p.events.iter().any(|e| matches!(
            e,
            wasmqtt::session::Event::Unsubscribed { id, .. } if *id == uid
        )));
        assert_eq!(p.session.subscriptions().count(), 0);
        p.broker.publish("u/1", b"b", QoS::AtLeastOnce);
        p.drive();
        assert_eq!(p.messages().len(), 1, "{v:?}");
    }
}

#[test]
fn failed_subscription_is_reported_and_not_remembered() {
    for v in VERSIONS {
        let mut p = connected(config(v, "subfail"), Properties::default());
        p.broker.suback_codes = Some(vec![0x80]);
        let sid = p.subscribe("deny/#", QoS::AtLeastOnce);
        assert!(p.events.iter().any(|e| matches!(
            e,
            wasmqtt::session::Event::Subscribed { id, reason_codes } if *id == sid && reason_codes == &vec![0x80]
        )));
        assert_eq!(p.session.subscriptions().count(), 0, "{v:?}");
    }
}

/// A bare session after CONNACK, its outputs drained.
fn bare_session(v: ProtocolVersion, client_id: &str) -> Session {
    let mut session = Session::new(config(v, client_id));
    session.handle_connected(0);
    session.handle_bytes(&encode_one(&Packet::ConnAck(Default::default()), v), 0);
    while session.poll_output().is_some() {}
    session
}

#[test]
fn recycled_transmit_buffers_are_reused_and_their_content_ignored() {
    for v in VERSIONS {
        let mut session = bare_session(v, "recycle");
        let mut buffers = std::collections::HashSet::new();
        for id in 1..=10u16 {
            let frame = encode_one(
                &Packet::Publish(publish("r/1", b"x", QoS::AtLeastOnce, id)),
                v,
            );
            session.handle_bytes(&frame, 1);
            let mut acks = Vec::new();
            while let Some(out) = session.poll_output() {
                if let Output::Transmit(mut b) = out {
                    acks.push(b.clone());
                    buffers.insert(b.as_ptr());
                    b.extend_from_slice(b"junk");
                    session.recycle_transmit(b);
                }
            }
            let [hi, lo] = id.to_be_bytes();
            assert_eq!(acks, vec![vec![0x40, 2, hi, lo]], "{v:?}");
        }
        // Two buffers take turns: the one being filled and the one given back.
        assert!(buffers.len() <= 2, "{v:?}: {} buffers", buffers.len());
    }
}

#[test]
fn recycled_messages_lend_their_allocations_and_none_of_their_content() {
    for v in VERSIONS {
        let mut session = bare_session(v, "recycle-msg");
        // Long, short, empty and long again: a reused buffer keeps no tail.
        let sent: Vec<(String, Vec<u8>)> = [
            ("a/long/topic/name", vec![7u8; 300]),
            ("b", b"xy".to_vec()),
            ("c/d", Vec::new()),
            ("a/long/topic/name/again", vec![9u8; 40]),
        ]
        .into_iter()
        .map(|(t, p)| (t.to_string(), p))
        .collect();
        let mut reused = 0;
        let mut last_payload_ptr = None;
        for (i, (topic, payload)) in sent.iter().enumerate() {
            let id = i as u16 + 1;
            let frame = encode_one(
                &Packet::Publish(publish(topic, payload, QoS::AtLeastOnce, id)),
                v,
            );
            session.handle_bytes(&frame, 1);
            let mut got = Vec::new();
            while let Some(out) = session.poll_output() {
                if let Output::Event(wasmqtt::session::Event::Message(m)) = out {
                    got.push((m.topic.clone(), m.payload.clone()));
                    if last_payload_ptr == Some(m.payload.as_ptr()) {
                        reused += 1;
                    }
                    let mut spare = m;
                    spare.topic.push_str("junk");
                    spare.payload.extend_from_slice(b"junk");
                    last_payload_ptr = Some(spare.payload.as_ptr());
                    session.recycle_message(spare);
                }
            }
            assert_eq!(
                got,
                vec![(topic.clone(), payload.clone())],
                "{v:?} message {id}"
            );
        }
        // The empty payload has no heap buffer to compare; the others reuse.
        assert!(reused >= 2, "{v:?}: {reused} reused");
    }
}
