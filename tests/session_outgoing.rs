//! Outgoing QoS 0/1/2: packet ids, the inflight window, acks, reason codes,
//! topic aliases and the maximum packet size.

mod common;

use common::*;
use wasmqtt::codec::{
    Packet, PacketType, Properties, PropertyValues, ProtocolVersion, PubResp, QoS,
};
use wasmqtt::session::{PublishError, DEFAULT_MAX_INFLIGHT_V311};

fn ack(id: u16) -> PubResp {
    PubResp {
        packet_id: id,
        reason_code: 0,
        properties: Properties::default(),
    }
}

#[test]
fn qos0_is_sent_and_done_at_once() {
    for v in VERSIONS {
        let mut p = connected(config(v, "q0"), Properties::default());
        let id = p.publish("t/0", b"zero", QoS::AtMostOnce).unwrap();
        assert_eq!(p.done(id), 1);
        let sent = p.sent_publishes();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].qos, QoS::AtMostOnce);
        assert_eq!(sent[0].packet_id, 0);
        assert_eq!(p.broker.delivered.len(), 1);
        assert_eq!(p.session.pending_messages(), 0);
    }
}

#[test]
fn qos1_completes_on_puback() {
    for v in VERSIONS {
        let mut p = connected(config(v, "q1"), Properties::default());
        p.broker.ack_mode = AckMode::Hold;
        let id = p.publish("t/1", b"one", QoS::AtLeastOnce).unwrap();
        assert_eq!(p.done(id), 0, "{v:?}: not done before PUBACK");
        assert_eq!(p.session.pending_messages(), 1);
        let sent = p.sent_publishes();
        assert_eq!(sent.len(), 1);
        assert_ne!(sent[0].packet_id, 0);
        assert!(!sent[0].dup);
        p.broker.release_held(None);
        p.drive();
        assert_eq!(p.done(id), 1, "{v:?}");
        assert_eq!(p.session.pending_messages(), 0);
        p.assert_clean();
    }
}

#[test]
fn qos2_runs_the_four_packet_handshake() {
    for v in VERSIONS {
        let mut p = connected(config(v, "q2"), Properties::default());
        let id = p.publish("t/2", b"two", QoS::ExactlyOnce).unwrap();
        let flow: Vec<PacketType> = p
            .wire
            .iter()
            .map(|(_, pk)| pk.packet_type())
            .filter(|t| !matches!(t, PacketType::Connect | PacketType::ConnAck))
            .collect();
        assert_eq!(
            flow,
            vec![
                PacketType::Publish,
                PacketType::PubRec,
                PacketType::PubRel,
                PacketType::PubComp
            ],
            "{v:?}"
        );
        assert_eq!(p.done(id), 1);
        assert_eq!(p.broker.delivered.len(), 1);
        assert_eq!(p.session.pending_messages(), 0);
        p.assert_clean();
    }
}

#[test]
fn qos2_is_not_done_at_pubrec() {
    for v in VERSIONS {
        let mut p = connected(config(v, "q2h"), Properties::default());
        p.broker.ack_mode = AckMode::Hold;
        let id = p.publish("t/2", b"two", QoS::ExactlyOnce).unwrap();
        p.broker.release_held(None); // PUBREC
        p.drive();
        assert_eq!(p.sent_of(PacketType::PubRel).len(), 1);
        assert_eq!(p.done(id), 0, "{v:?}: PUBCOMP outstanding");
        p.broker.release_held(None); // PUBCOMP
        p.drive();
        assert_eq!(p.done(id), 1);
    }
}

/// Publishes `n` messages with acks held and checks the broker never sees
/// more than `window` unacknowledged, and that all complete in order.
fn check_window(mut p: Pair, window: usize, n: usize, seed: u64) {
    let mut rng = Rng::new(seed);
    p.broker.ack_mode = AckMode::Hold;
    let mut ids = Vec::new();
    for i in 0..n {
        let q = if i % 2 == 0 {
            QoS::AtLeastOnce
        } else {
            QoS::ExactlyOnce
        };
        ids.push(
            p.publish("w", format!("m{i}").as_bytes(), q)
                .expect("accepted"),
        );
    }
    assert_eq!(
        p.sent_publishes().len(),
        window.min(n),
        "the rest waits for the window"
    );
    assert_eq!(p.session.inflight_window(), window);
    while p.done_counts().len() < n {
        let k = 1 + rng.below(window);
        p.broker.release_some(k, &mut rng);
        p.drive();
        assert!(
            p.broker.max_unacked_seen <= window,
            "broker saw {} unacked, window {window}",
            p.broker.max_unacked_seen
        );
    }
    assert_eq!(p.broker.max_unacked_seen, window.min(n));
    for id in &ids {
        assert_eq!(p.done(*id), 1);
    }
    // First transmissions keep the order of acceptance.
    let order: Vec<Vec<u8>> = p
        .broker
        .delivered
        .iter()
        .map(|d| d.payload.clone())
        .collect();
    let expected: Vec<Vec<u8>> = (0..n).map(|i| format!("m{i}").into_bytes()).collect();
    assert_eq!(order, expected);
    p.assert_clean();
}

#[test]
fn v311_default_window_is_20() {
    let p = connected(config(ProtocolVersion::V311, "w311"), Properties::default());
    assert_eq!(usize::from(DEFAULT_MAX_INFLIGHT_V311), 20);
    check_window(p, 20, 60, 1);
}

#[test]
fn window_is_min_of_max_inflight_and_receive_maximum() {
    let cases: [(ProtocolVersion, Option<u16>, Option<u16>, usize); 6] = [
        (ProtocolVersion::V5, None, Some(7), 7),
        (ProtocolVersion::V5, Some(3), Some(7), 3),
        (ProtocolVersion::V5, Some(10), Some(4), 4),
        (ProtocolVersion::V5, Some(12), None, 12),
        (ProtocolVersion::V311, Some(5), None, 5),
        (ProtocolVersion::V311, Some(30), None, 30),
    ];
    for (i, (v, max_inflight, receive_max, window)) in cases.into_iter().enumerate() {
        let mut c = config(v, "w");
        c.max_inflight = max_inflight;
        let props = Properties::from(PropertyValues {
            receive_maximum: receive_max,
            ..PropertyValues::default()
        });
        let p = connected(c, props);
        check_window(p, window, 3 * window + 1, i as u64 + 10);
    }
}

#[test]
fn v5_default_window_is_the_brokers_receive_maximum() {
    let props = Properties::from(PropertyValues {
        receive_maximum: Some(50),
        ..PropertyValues::default()
    });
    let p = connected(config(ProtocolVersion::V5, "w5"), props);
    check_window(p, 50, 120, 3);
}

#[test]
fn packet_ids_are_never_reused_while_in_flight_under_random_ack_order() {
    for v in VERSIONS {
        let mut c = config(v, "stress");
        c.max_inflight = Some(200);
        let props = Properties::from(PropertyValues {
            receive_maximum: Some(200),
            ..PropertyValues::default()
        });
        let mut p = connected(c, props);
        p.broker.ack_mode = AckMode::Hold;
        let mut rng = Rng::new(42);
        let n = 5_000;
        let mut ids = Vec::new();
        let mut qos2 = 0;
        for i in 0..n {
            let q = if rng.chance(50) {
                qos2 += 1;
                QoS::ExactlyOnce
            } else {
                QoS::AtLeastOnce
            };
            ids.push(p.publish("s", format!("{i}").as_bytes(), q).unwrap());
            if rng.chance(30) {
                let k = rng.below(60);
                p.broker.release_some(k, &mut rng);
                p.drive();
            }
        }
        let mut rounds = 0;
        while p.done_counts().len() < n {
            let k = 1 + rng.below(100);
            p.broker.release_some(k, &mut rng);
            p.drive();
            rounds += 1;
            assert!(rounds < 100_000, "stalled");
        }
        for id in ids {
            assert_eq!(p.done(id), 1, "{v:?}: message {id} completes exactly once");
        }
        assert_eq!(p.broker.delivered.len(), n, "each delivered once");
        assert!(p.broker.max_unacked_seen <= 200);
        assert!(qos2 > 1_000);
        // Many ids went around: more messages than the window.
        let distinct: std::collections::HashSet<u16> =
            p.sent_publishes().iter().map(|x| x.packet_id).collect();
        assert!(distinct.len() > 200);
        p.assert_clean();
        assert_eq!(p.session.pending_messages(), 0);
    }
}

#[test]
fn packet_ids_wrap_past_65535() {
    for v in VERSIONS {
        let mut p = connected(config(v, "wrap"), Properties::default());
        let mut seen_max = 0u16;
        for i in 0..70_000u32 {
            let id = p
                .session
                .publish(msg("w", &i.to_be_bytes(), QoS::AtLeastOnce), p.now)
                .unwrap();
            p.drive();
            assert_eq!(p.done(id), 1);
            if let Some((_, Packet::Publish(last))) = p
                .wire
                .iter()
                .rev()
                .find(|(_, x)| matches!(x, Packet::Publish(_)))
            {
                seen_max = seen_max.max(last.packet_id);
            }
            p.events.clear();
            p.log.clear();
            p.wire.clear();
            p.broker.received.clear();
            p.broker.sent.clear();
            p.broker.delivered.clear();
        }
        assert_eq!(seen_max, u16::MAX);
        p.assert_clean();
    }
}

#[test]
fn duplicate_and_unknown_acks_are_ignored() {
    for v in VERSIONS {
        let mut p = connected(config(v, "dupack"), Properties::default());
        p.broker.dup_acks = true;
        let mut ids = Vec::new();
        for i in 0..50 {
            let q = if i % 2 == 0 {
                QoS::AtLeastOnce
            } else {
                QoS::ExactlyOnce
            };
            ids.push(p.publish("d", format!("{i}").as_bytes(), q).unwrap());
        }
        for id in &ids {
            assert_eq!(
                p.done(*id),
                1,
                "{v:?}: duplicate acks complete nothing twice"
            );
        }
        // Acks for ids nobody uses.
        p.broker_send(Packet::PubAck(ack(999)));
        p.broker_send(Packet::PubRec(ack(998)));
        p.broker_send(Packet::PubComp(ack(997)));
        assert!(p.closes.is_empty(), "{v:?}: unknown acks do not close");
        assert!(p.session.is_connected());
        assert_eq!(p.done_counts().len(), 50);
        assert!(p.failures().is_empty());
        // The wrong kind of ack for a message in flight changes nothing.
        p.broker.dup_acks = false;
        p.broker.ack_mode = AckMode::Hold;
        let q2 = p.publish("d", b"q2", QoS::ExactlyOnce).unwrap();
        let q1 = p.publish("d", b"q1", QoS::AtLeastOnce).unwrap();
        let sent = p.sent_publishes();
        let id2 = sent[sent.len() - 2].packet_id;
        let id1 = sent[sent.len() - 1].packet_id;
        p.broker_send(Packet::PubAck(ack(id2)));
        p.broker_send(Packet::PubComp(ack(id2)));
        p.broker_send(Packet::PubRec(ack(id1)));
        p.broker_send(Packet::PubComp(ack(id1)));
        assert_eq!(
            p.done(q2),
            0,
            "{v:?}: PUBACK/PUBCOMP cannot finish a QoS 2 PUBLISH"
        );
        assert_eq!(
            p.done(q1),
            0,
            "{v:?}: PUBREC/PUBCOMP cannot finish a QoS 1 PUBLISH"
        );
        p.broker.release_held(None);
        p.drive();
        p.broker.release_held(None);
        p.drive();
        assert_eq!(p.done(q2), 1);
        assert_eq!(p.done(q1), 1);
        assert_eq!(p.session.pending_messages(), 0);
        // Still healthy.
        p.broker.ack_mode = AckMode::Normal;
        let last = p.publish("d", b"after", QoS::ExactlyOnce).unwrap();
        assert_eq!(p.done(last), 1);
    }
}

#[test]
fn failure_reason_codes_fail_only_that_message() {
    let mut p = connected(config(ProtocolVersion::V5, "rej"), Properties::default());
    p.broker.reject_topics.insert("bad".into(), 0x87);
    let ok1 = p.publish("good", b"a", QoS::AtLeastOnce).unwrap();
    let bad1 = p.publish("bad", b"b", QoS::AtLeastOnce).unwrap();
    let bad2 = p.publish("bad", b"c", QoS::ExactlyOnce).unwrap();
    let ok2 = p.publish("good", b"d", QoS::ExactlyOnce).unwrap();
    assert_eq!(p.done(ok1), 1);
    assert_eq!(p.done(ok2), 1);
    assert_eq!(p.done(bad1), 0);
    assert_eq!(p.done(bad2), 0);
    let failures = p.failures();
    assert_eq!(failures.len(), 2);
    for (id, e) in failures {
        assert!(id == bad1 || id == bad2);
        assert!(
            matches!(
                e,
                PublishError::Rejected {
                    reason_code: 0x87,
                    ..
                }
            ),
            "{e:?}"
        );
    }
    // No PUBREL for the refused QoS 2 message: only ok2's.
    assert_eq!(p.sent_of(PacketType::PubRel).len(), 1);
    assert_eq!(p.session.pending_messages(), 0);
    // Reason codes below 0x80 (no matching subscribers) are success.
    p.broker.reject_topics.insert("nosub".into(), 0x10);
    let ok3 = p.publish("nosub", b"e", QoS::AtLeastOnce).unwrap();
    assert_eq!(p.done(ok3), 1);
    p.assert_clean();
}

#[test]
fn outgoing_topic_aliases_within_the_brokers_maximum() {
    let props = Properties::from(PropertyValues {
        topic_alias_maximum: Some(2),
        ..PropertyValues::default()
    });
    let mut p = connected(config(ProtocolVersion::V5, "alias"), props);
    for t in ["a/1", "a/1", "b/2", "b/2", "c/3", "c/3", "a/1"] {
        p.publish(t, t.as_bytes(), QoS::AtLeastOnce).unwrap();
    }
    let sent: Vec<(String, Option<u16>)> = p
        .sent_publishes()
        .into_iter()
        .map(|x| (x.topic, x.properties.topic_alias))
        .collect();
    assert_eq!(
        sent,
        vec![
            ("a/1".to_string(), Some(1)),
            (String::new(), Some(1)),
            ("b/2".to_string(), Some(2)),
            (String::new(), Some(2)),
            ("c/3".to_string(), None),
            ("c/3".to_string(), None),
            (String::new(), Some(1)),
        ]
    );
    let topics: Vec<&str> = p
        .broker
        .delivered
        .iter()
        .map(|d| d.topic.as_str())
        .collect();
    assert_eq!(topics, ["a/1", "a/1", "b/2", "b/2", "c/3", "c/3", "a/1"]);
    p.assert_clean();
    // A new connection starts a new alias table.
    p.reconnect();
    p.publish("a/1", b"x", QoS::AtMostOnce).unwrap();
    let last = p.sent_publishes().pop().unwrap();
    assert_eq!(
        last.topic, "a/1",
        "alias re-established on the new connection"
    );
    assert_eq!(last.properties.topic_alias, Some(1));
    p.assert_clean();
}

#[test]
fn no_topic_alias_without_the_brokers_permission() {
    for v in VERSIONS {
        let mut p = connected(config(v, "noalias"), Properties::default());
        p.publish("a", b"1", QoS::AtMostOnce).unwrap();
        p.publish("a", b"2", QoS::AtMostOnce).unwrap();
        for x in p.sent_publishes() {
            assert_eq!(x.topic, "a");
            assert_eq!(x.properties.topic_alias, None);
        }
    }
    let props = Properties::from(PropertyValues {
        topic_alias_maximum: Some(5),
        ..PropertyValues::default()
    });
    let mut c = config(ProtocolVersion::V5, "off");
    c.auto_topic_alias = false;
    let mut p = connected(c, props);
    p.publish("a", b"1", QoS::AtMostOnce).unwrap();
    p.publish("a", b"2", QoS::AtMostOnce).unwrap();
    assert!(p
        .sent_publishes()
        .iter()
        .all(|x| x.properties.topic_alias.is_none()));
}

#[test]
fn outgoing_packet_too_large_is_refused_and_nothing_is_sent() {
    // The broker's limit (MQTT 5 CONNACK Maximum Packet Size).
    let props = Properties::from(PropertyValues {
        maximum_packet_size: Some(100),
        ..PropertyValues::default()
    });
    let mut p = connected(config(ProtocolVersion::V5, "big"), props);
    assert_eq!(p.session.max_outgoing_packet(), 100, "the broker's limit");
    let before = p.wire.len();
    for q in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let r = p.publish("big", &[7u8; 200], q);
        assert!(
            matches!(r, Err(PublishError::PacketTooLarge { max: 100, .. })),
            "{r:?}"
        );
    }
    assert_eq!(p.wire.len(), before, "nothing sent");
    assert!(p.events.iter().all(|e| !matches!(
        e,
        wasmqtt::session::Event::PublishDone { .. } | wasmqtt::session::Event::PublishFailed { .. }
    )));
    assert_eq!(p.session.pending_messages(), 0);
    let ok = p.publish("big", &[7u8; 50], QoS::AtLeastOnce).unwrap();
    assert_eq!(p.done(ok), 1);
    p.assert_clean();
    // Our own limit, both versions, online and offline.
    for v in VERSIONS {
        let mut c = config(v, "own");
        c.max_packet_size = 100;
        let mut p = Pair::new(c);
        assert_eq!(p.session.max_outgoing_packet(), 100, "{v:?}: our own limit");
        let r = p.publish("big", &[1u8; 200], QoS::AtLeastOnce);
        assert!(
            matches!(r, Err(PublishError::PacketTooLarge { .. })),
            "{v:?} offline: {r:?}"
        );
        p.connect();
        let r = p.publish("big", &[1u8; 200], QoS::ExactlyOnce);
        assert!(
            matches!(r, Err(PublishError::PacketTooLarge { .. })),
            "{v:?} online: {r:?}"
        );
        assert!(p.sent_publishes().is_empty());
        assert_eq!(p.session.pending_messages(), 0);
    }
}

#[test]
fn invalid_topics_are_refused() {
    for v in VERSIONS {
        let mut p = connected(config(v, "topic"), Properties::default());
        for t in ["", "a/+", "a/#", "a\0b"] {
            let r = p.publish(t, b"x", QoS::AtLeastOnce);
            assert!(
                matches!(r, Err(PublishError::InvalidTopic(_))),
                "{t:?}: {r:?}"
            );
        }
        assert!(p.sent_publishes().is_empty());
    }
}
