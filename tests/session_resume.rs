//! Resume after a reconnect or a page reload: resend order and pipelining,
//! the no-session policy, connection loss at every step of the QoS 1 and
//! QoS 2 handshakes in both directions, completeness of the Persist stream
//! and write-ahead ordering.

mod common;

use common::*;
use wasmqtt::codec::{Packet, PacketType, Properties, ProtocolVersion, PubResp, Publish, QoS};
use wasmqtt::session::{Event, Output, PersistOp, PublishError, ResendPolicy, SessionConfig};

#[derive(Debug, Clone, Copy)]
enum Restart {
    Reconnect,
    ReloadFromStore,
    ReloadFromExport,
}

const RESTARTS: [Restart; 3] = [
    Restart::Reconnect,
    Restart::ReloadFromStore,
    Restart::ReloadFromExport,
];

fn durable(v: ProtocolVersion, id: &str) -> SessionConfig {
    let mut c = persistent(v, id);
    c.durable = true;
    c
}

fn restart(p: &mut Pair, how: Restart, cfg: &SessionConfig) {
    match how {
        Restart::Reconnect => p.drop_link(),
        Restart::ReloadFromStore => p.reload(cfg.clone(), true),
        Restart::ReloadFromExport => p.reload(cfg.clone(), false),
    }
    p.connect();
}

/// Index in the log of the first Transmit after the latest Connected event
/// at or after `from`, decoded.
fn first_batch_after_connack(p: &Pair, from: usize) -> Vec<Packet> {
    let at = p.log[from..]
        .iter()
        .position(|o| matches!(o, Output::Event(Event::Connected(_))))
        .expect("connected")
        + from;
    p.log[at..]
        .iter()
        .find_map(|o| match o {
            Output::Transmit(b) => Some(decode_all(b, p.session.config().protocol)),
            _ => None,
        })
        .expect("a transmit after CONNACK")
}

fn pubrec_for(ids: &[u16]) -> impl Fn(&Packet) -> bool + '_ {
    move |pk| matches!(pk, Packet::PubRec(a) if ids.contains(&a.packet_id))
}

#[test]
fn resume_resends_in_order_with_dup_and_pubrel_all_in_the_first_batch() {
    for v in VERSIONS {
        for how in RESTARTS {
            let cfg = durable(v, "resume");
            let mut p = Pair::new(cfg.clone());
            p.connect();
            p.broker.ack_mode = AckMode::Hold;
            let spec = [
                (b"m1", QoS::AtLeastOnce),
                (b"m2", QoS::ExactlyOnce),
                (b"m3", QoS::ExactlyOnce),
                (b"m4", QoS::AtLeastOnce),
                (b"m5", QoS::ExactlyOnce),
            ];
            let mut seqs = Vec::new();
            for (payload, q) in spec {
                seqs.push(p.publish("r", payload, q).unwrap());
            }
            let first: Vec<Publish> = p.sent_publishes();
            let ids: Vec<u16> = first.iter().map(|x| x.packet_id).collect();
            // PUBREC arrives for m2 and m5 only; their PUBCOMPs are held.
            p.broker.release_matching(pubrec_for(&[ids[1], ids[4]]));
            p.drive();
            assert_eq!(p.sent_of(PacketType::PubRel).len(), 2);
            let mark = p.log.len();
            restart(&mut p, how, &cfg);
            assert!(p.connected_events().last().unwrap().session_present);
            let batch = first_batch_after_connack(&p, mark);
            let expected = vec![
                ("PUBLISH", ids[0]),
                ("PUBREL", ids[1]),
                ("PUBLISH", ids[2]),
                ("PUBLISH", ids[3]),
                ("PUBREL", ids[4]),
            ];
            let got: Vec<(&str, u16)> = batch
                .iter()
                .map(|pk| match pk {
                    Packet::Publish(x) => {
                        assert!(x.dup, "{v:?} {how:?}: resent PUBLISH has DUP");
                        ("PUBLISH", x.packet_id)
                    }
                    Packet::PubRel(r) => ("PUBREL", r.packet_id),
                    other => panic!("{v:?} {how:?}: unexpected {other:?}"),
                })
                .collect();
            assert_eq!(
                got, expected,
                "{v:?} {how:?}: all resends pipelined, in order"
            );
            // Payloads kept.
            for pk in &batch {
                if let Packet::Publish(x) = pk {
                    let orig = first.iter().find(|o| o.packet_id == x.packet_id).unwrap();
                    assert_eq!(orig.payload, x.payload);
                    assert_eq!(orig.qos, x.qos);
                }
            }
            p.broker.ack_mode = AckMode::Normal;
            p.broker.release_held(None);
            p.drive();
            for s in &seqs {
                assert_eq!(p.done(*s), 1, "{v:?} {how:?}");
            }
            for (payload, q) in spec {
                let n = p.broker.delivery_counts()[&payload.to_vec()];
                if q == QoS::ExactlyOnce {
                    assert_eq!(n, 1, "{v:?} {how:?}");
                } else {
                    assert!(n >= 1, "{v:?} {how:?}: QoS 1 may arrive twice");
                }
            }
            assert_eq!(p.session.pending_messages(), 0);
            assert!(p.store.messages.is_empty());
            p.assert_clean();
            p.assert_write_ahead();
        }
    }
}

#[test]
fn without_session_present_messages_are_republished_as_new_and_incoming_state_resets() {
    for v in VERSIONS {
        for how in RESTARTS {
            let cfg = durable(v, "nosess");
            let mut p = Pair::new(cfg.clone());
            p.connect();
            p.subscribe("in/#", QoS::ExactlyOnce);
            p.broker.ack_mode = AckMode::Hold;
            let s1 = p.publish("o", b"m1", QoS::AtLeastOnce).unwrap();
            let s2 = p.publish("o", b"m2", QoS::ExactlyOnce).unwrap();
            let s3 = p.publish("o", b"m3", QoS::ExactlyOnce).unwrap();
            let old: Vec<u16> = p.sent_publishes().iter().map(|x| x.packet_id).collect();
            p.broker.release_matching(pubrec_for(&[old[2]]));
            p.drive();
            // An incoming QoS 2 message whose PUBREL is lost with the link.
            p.broker.set_drop(DropWhen::Send {
                packet: PacketType::PubRel,
                nth: 1,
            });
            p.broker.publish("in/x", b"inc", QoS::ExactlyOnce);
            p.drive();
            assert!(!p.link_up);
            let in_id = p.session.export_state().incoming_qos2;
            assert_eq!(in_id.len(), 1);
            assert_eq!(p.store.incoming.len(), 1);
            let in_id = in_id[0];

            p.broker.session_present_override = Some(false);
            p.broker.ack_mode = AckMode::Normal;
            let mark_wire = p.wire.len();
            restart(&mut p, how, &cfg);
            p.broker.session_present_override = None;
            assert!(!p.connected_events().last().unwrap().session_present);
            assert_eq!(
                p.done(s3),
                1,
                "{v:?} {how:?}: PUBREC meant the broker had it"
            );
            assert_eq!(p.done(s1), 1, "{v:?} {how:?}");
            assert_eq!(p.done(s2), 1, "{v:?} {how:?}");
            let resent: Vec<Publish> = p.wire[mark_wire..]
                .iter()
                .filter_map(|(d, pk)| match (d, pk) {
                    (Dir::ToBroker, Packet::Publish(x)) => Some(x.clone()),
                    _ => None,
                })
                .collect();
            let payloads: Vec<&[u8]> = resent.iter().map(|x| x.payload.as_slice()).collect();
            assert_eq!(payloads, vec![&b"m1"[..], b"m2"], "{v:?} {how:?}: in order");
            for x in &resent {
                assert!(!x.dup, "{v:?} {how:?}: a new message has DUP=0");
                assert!(
                    !old.contains(&x.packet_id),
                    "{v:?} {how:?}: a new packet id"
                );
            }
            // No PUBREL for m3 on the new session.
            assert!(p.wire[mark_wire..]
                .iter()
                .all(|(_, pk)| !matches!(pk, Packet::PubRel(_))
                    || matches!(pk, Packet::PubRel(r) if r.packet_id != old[2])));
            // Incoming state was reset, in memory and in the store.
            assert!(p.session.export_state().incoming_qos2.is_empty());
            assert!(
                p.store.incoming.is_empty(),
                "{v:?} {how:?}: ClearIncoming persisted"
            );
            // Resubscribed, because the broker forgot the subscription.
            let subs_after = p.wire[mark_wire..]
                .iter()
                .filter(|(d, pk)| *d == Dir::ToBroker && matches!(pk, Packet::Subscribe(_)))
                .count();
            assert_eq!(subs_after, 1, "{v:?} {how:?}");
            assert!(p
                .broker
                .session("nosess")
                .unwrap()
                .subscriptions
                .contains_key("in/#"));
            // The old incoming id now names a new message: delivered.
            p.broker_send(Packet::Publish(Publish {
                dup: false,
                qos: QoS::ExactlyOnce,
                retain: false,
                topic: "in/x".into(),
                packet_id: in_id,
                payload: b"new".to_vec(),
                properties: Properties::default(),
            }));
            assert_eq!(
                p.message_counts().get(b"new".as_slice()),
                Some(&1),
                "{v:?} {how:?}"
            );
            assert_eq!(p.session.pending_messages(), 0);
            assert!(p.store.messages.is_empty());
            assert!(p.id_violations.is_empty(), "{:?}", p.id_violations);
            p.assert_write_ahead();
        }
    }
}

#[test]
fn fail_policy_fails_in_flight_messages_when_the_session_is_lost() {
    for v in VERSIONS {
        let mut c = durable(v, "failpol");
        c.resend_policy = ResendPolicy::Fail;
        let mut p = Pair::new(c);
        p.connect();
        p.broker.ack_mode = AckMode::Hold;
        let s1 = p.publish("o", b"m1", QoS::AtLeastOnce).unwrap();
        p.drop_link();
        let s2 = p.publish("o", b"queued", QoS::AtLeastOnce).unwrap();
        p.broker.session_present_override = Some(false);
        p.broker.ack_mode = AckMode::Normal;
        p.connect();
        assert_eq!(
            p.failures(),
            vec![(s1, PublishError::SessionLost)],
            "{v:?}: only the message that was in flight"
        );
        assert_eq!(p.done(s2), 1, "{v:?}: never sent, so sent now");
        assert!(p.store.messages.is_empty());
    }
}

#[test]
fn resubscribe_only_when_the_broker_kept_no_session() {
    for v in VERSIONS {
        // Session kept: no SUBSCRIBE again, delivery continues.
        let mut p = Pair::new(persistent(v, "keep"));
        p.connect();
        p.subscribe("k/#", QoS::AtLeastOnce);
        p.reconnect();
        assert_eq!(p.sent_of(PacketType::Subscribe).len(), 1, "{v:?}");
        p.broker.publish("k/1", b"a", QoS::AtLeastOnce);
        p.drive();
        assert_eq!(p.messages().len(), 1);
        // Clean start: SUBSCRIBE again after each connect.
        let mut p = Pair::new(config(v, "clean"));
        p.connect();
        p.subscribe("k/#", QoS::AtLeastOnce);
        p.reconnect();
        assert_eq!(p.sent_of(PacketType::Subscribe).len(), 2, "{v:?}");
        assert!(
            !p.events
                .iter()
                .filter(|e| matches!(e, Event::Subscribed { .. }))
                .skip(1)
                .any(|_| true),
            "a resubscribe is not reported as a new request"
        );
        p.broker.publish("k/1", b"a", QoS::AtLeastOnce);
        p.drive();
        assert_eq!(p.messages().len(), 1);
        // Resubscribe turned off.
        let mut c = config(v, "nores");
        c.resubscribe = false;
        let mut p = Pair::new(c);
        p.connect();
        p.subscribe("k/#", QoS::AtLeastOnce);
        p.reconnect();
        assert_eq!(p.sent_of(PacketType::Subscribe).len(), 1, "{v:?}");
    }
}

#[test]
fn unanswered_subscribe_is_sent_again_on_the_next_connection() {
    for v in VERSIONS {
        let mut p = Pair::new(persistent(v, "subagain"));
        p.connect();
        p.broker.mute = true;
        let sid = p.subscribe("s/#", QoS::AtLeastOnce);
        p.broker.mute = false;
        p.reconnect();
        assert_eq!(p.sent_of(PacketType::Subscribe).len(), 2, "{v:?}");
        assert!(p
            .events
            .iter()
            .any(|e| matches!(e, Event::Subscribed { id, .. } if *id == sid)));
        p.assert_clean();
    }
}

/// One outgoing message, the link dies at `rule`, the client comes back by
/// `how`, and the message must complete exactly once without duplicates at
/// QoS 2 (at the broker's subscribers and back at the client, which
/// subscribes to its own topic).
fn outgoing_step(v: ProtocolVersion, qos: QoS, rule: DropWhen, how: Restart) {
    let ctx = format!("{v:?} {qos:?} {rule:?} {how:?}");
    let cfg = durable(v, "ostep");
    let mut p = Pair::new(cfg.clone());
    p.connect();
    p.subscribe("loop/#", QoS::ExactlyOnce);
    p.broker.set_drop(rule);
    let seq = p.publish("loop/x", b"payload", qos).unwrap();
    assert!(!p.link_up, "{ctx}: the rule fired");
    restart(&mut p, how, &cfg);
    assert!(
        p.connected_events().last().unwrap().session_present,
        "{ctx}"
    );
    p.advance(1_000);
    assert_eq!(p.done(seq), 1, "{ctx}: completes exactly once");
    assert!(p.failures().is_empty(), "{ctx}");
    let at_broker = p.broker.delivery_counts()[&b"payload".to_vec()];
    let at_client = p.message_counts()[&b"payload".to_vec()];
    if qos == QoS::ExactlyOnce {
        assert_eq!(at_broker, 1, "{ctx}: once at the broker's subscribers");
        assert_eq!(at_client, 1, "{ctx}: once back at the client");
    } else {
        assert!(at_broker >= 1 && at_client >= 1, "{ctx}");
    }
    assert_eq!(p.session.pending_messages(), 0, "{ctx}");
    let bs = p.broker.session("ostep").unwrap();
    assert!(
        bs.incoming_qos2.is_empty(),
        "{ctx}: broker awaits no PUBREL"
    );
    assert_eq!(bs.outflight_len(), 0, "{ctx}: broker's own flow finished");
    assert!(p.session.export_state().incoming_qos2.is_empty(), "{ctx}");
    assert!(p.store.messages.is_empty(), "{ctx}: store emptied");
    p.assert_clean();
    p.assert_write_ahead();
}

#[test]
fn outgoing_qos1_survives_loss_at_every_step() {
    let rules = [
        DropWhen::Receive {
            packet: PacketType::Publish,
            nth: 1,
            process: false,
        },
        DropWhen::Receive {
            packet: PacketType::Publish,
            nth: 1,
            process: true,
        },
        DropWhen::Send {
            packet: PacketType::PubAck,
            nth: 1,
        },
    ];
    for v in VERSIONS {
        for rule in rules {
            for how in RESTARTS {
                outgoing_step(v, QoS::AtLeastOnce, rule, how);
            }
        }
    }
}

#[test]
fn outgoing_qos2_survives_loss_at_every_step() {
    let rules = [
        // PUBLISH lost.
        DropWhen::Receive {
            packet: PacketType::Publish,
            nth: 1,
            process: false,
        },
        // PUBREC lost.
        DropWhen::Receive {
            packet: PacketType::Publish,
            nth: 1,
            process: true,
        },
        DropWhen::Send {
            packet: PacketType::PubRec,
            nth: 1,
        },
        // PUBREL lost.
        DropWhen::Receive {
            packet: PacketType::PubRel,
            nth: 1,
            process: false,
        },
        // PUBCOMP lost.
        DropWhen::Receive {
            packet: PacketType::PubRel,
            nth: 1,
            process: true,
        },
        DropWhen::Send {
            packet: PacketType::PubComp,
            nth: 1,
        },
    ];
    for v in VERSIONS {
        for rule in rules {
            for how in RESTARTS {
                outgoing_step(v, QoS::ExactlyOnce, rule, how);
            }
        }
    }
}

/// One incoming message from the broker, the link dies at `rule`, and the
/// application must see it exactly once at QoS 2 (at least once at QoS 1).
fn incoming_step(v: ProtocolVersion, qos: QoS, rule: DropWhen, how: Restart) {
    let ctx = format!("{v:?} {qos:?} {rule:?} {how:?}");
    let cfg = durable(v, "istep");
    let mut p = Pair::new(cfg.clone());
    p.connect();
    p.subscribe("in/#", QoS::ExactlyOnce);
    p.broker.set_drop(rule);
    p.broker.publish("in/x", b"incoming", qos);
    p.drive();
    assert!(!p.link_up, "{ctx}: the rule fired");
    restart(&mut p, how, &cfg);
    assert!(
        p.connected_events().last().unwrap().session_present,
        "{ctx}"
    );
    p.advance(1_000);
    let n = p
        .message_counts()
        .get(b"incoming".as_slice())
        .copied()
        .unwrap_or(0);
    if qos == QoS::ExactlyOnce {
        assert_eq!(n, 1, "{ctx}: exactly once");
    } else {
        assert!(n >= 1, "{ctx}: at least once");
    }
    let bs = p.broker.session("istep").unwrap();
    assert_eq!(bs.outflight_len(), 0, "{ctx}: the broker's flow finished");
    assert!(p.session.export_state().incoming_qos2.is_empty(), "{ctx}");
    assert!(p.store.incoming.is_empty(), "{ctx}");
    p.assert_clean();
    p.assert_write_ahead();
}

#[test]
fn incoming_qos1_survives_loss_at_every_step() {
    let rules = [
        DropWhen::Send {
            packet: PacketType::Publish,
            nth: 1,
        },
        DropWhen::Receive {
            packet: PacketType::PubAck,
            nth: 1,
            process: false,
        },
    ];
    for v in VERSIONS {
        for rule in rules {
            for how in RESTARTS {
                incoming_step(v, QoS::AtLeastOnce, rule, how);
            }
        }
    }
}

#[test]
fn incoming_qos2_survives_loss_at_every_step() {
    let rules = [
        // PUBLISH lost.
        DropWhen::Send {
            packet: PacketType::Publish,
            nth: 1,
        },
        // PUBREC lost.
        DropWhen::Receive {
            packet: PacketType::PubRec,
            nth: 1,
            process: false,
        },
        // PUBREL lost.
        DropWhen::Receive {
            packet: PacketType::PubRec,
            nth: 1,
            process: true,
        },
        DropWhen::Send {
            packet: PacketType::PubRel,
            nth: 1,
        },
        // PUBCOMP lost.
        DropWhen::Receive {
            packet: PacketType::PubComp,
            nth: 1,
            process: false,
        },
    ];
    for v in VERSIONS {
        for rule in rules {
            for how in RESTARTS {
                incoming_step(v, QoS::ExactlyOnce, rule, how);
            }
        }
    }
}

#[test]
fn reload_right_after_publish_loses_nothing() {
    for v in VERSIONS {
        for q in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
            for online in [true, false] {
                let cfg = durable(v, "rl");
                let mut p = Pair::new(cfg.clone());
                if online {
                    p.connect();
                }
                // publish() returns; the page dies before anything is sent.
                let seq = p.session.publish(msg("rl", b"precious", q), p.now).unwrap();
                p.reload(cfg.clone(), true);
                p.connect();
                assert_eq!(p.done(seq), 1, "{v:?} {q:?} online={online}");
                assert_eq!(p.broker.delivery_counts()[&b"precious".to_vec()], 1);
                assert!(p.store.messages.is_empty());
                p.assert_clean();
            }
        }
    }
}

#[test]
fn every_publish_is_persisted_before_its_first_transmission() {
    for v in VERSIONS {
        let mut p = Pair::new(durable(v, "wal"));
        // Offline, then online with a full window, then online directly.
        for i in 0..5 {
            p.publish("w", format!("off{i}").as_bytes(), qos_of(1 + (i % 2) as u8))
                .unwrap();
        }
        p.broker.connack_props.receive_maximum = Some(3);
        p.connect();
        p.broker.ack_mode = AckMode::Hold;
        for i in 0..10 {
            p.publish("w", format!("on{i}").as_bytes(), qos_of(1 + (i % 2) as u8))
                .unwrap();
        }
        while p.done_counts().len() < 15 {
            p.broker.release_held(None);
            p.drive();
        }
        // The first Persist for each message comes before its first bytes.
        let mut persisted = std::collections::HashSet::new();
        let mut sent = std::collections::HashSet::new();
        for o in &p.log {
            match o {
                Output::Persist(PersistOp::PutMessage(m)) => {
                    persisted.insert(m.message.payload.clone());
                }
                Output::Transmit(b) => {
                    for pk in decode_all(b, v) {
                        if let Packet::Publish(x) = pk {
                            assert!(
                                persisted.contains(&x.payload),
                                "{v:?}: {:?} sent before it was persisted",
                                String::from_utf8_lossy(&x.payload)
                            );
                            sent.insert(x.payload);
                        }
                    }
                }
                _ => {}
            }
        }
        assert_eq!(sent.len(), 15);
        p.assert_write_ahead();
        p.assert_clean();
    }
}

#[test]
fn persist_stream_rebuilds_the_exported_state_at_every_step() {
    for v in VERSIONS {
        let mut rng = Rng::new(7 + v.level() as u64);
        let cfg = durable(v, "mirror");
        let mut p = Pair::new(cfg.clone());
        p.broker.connack_props.receive_maximum = Some(4);
        p.connect();
        p.subscribe("m/#", QoS::ExactlyOnce);
        let mut n = 0;
        for step in 0..400 {
            match rng.below(10) {
                0..=3 => {
                    let q = qos_of(rng.below(3) as u8);
                    let _ = p.publish("m/x", format!("p{n}").as_bytes(), q);
                    n += 1;
                }
                4 => {
                    p.broker.publish(
                        "m/y",
                        format!("b{n}").as_bytes(),
                        qos_of(rng.below(3) as u8),
                    );
                    n += 1;
                    p.drive();
                }
                5 => {
                    p.broker.ack_mode = if rng.chance(50) {
                        AckMode::Hold
                    } else {
                        AckMode::Normal
                    };
                }
                6 => {
                    let k = rng.below(4);
                    p.broker.release_some(k, &mut rng);
                    p.drive();
                }
                7 => {
                    let t = [
                        PacketType::Publish,
                        PacketType::PubRel,
                        PacketType::PubRec,
                        PacketType::PubComp,
                    ][rng.below(4)];
                    p.broker.set_drop(DropWhen::Receive {
                        packet: t,
                        nth: 1 + rng.below(3),
                        process: rng.chance(50),
                    });
                }
                8 => {
                    if !p.link_up {
                        if rng.chance(20) {
                            p.broker.session_present_override = Some(false);
                        }
                        p.connect();
                        p.broker.session_present_override = None;
                    } else if rng.chance(30) {
                        p.drop_link();
                    }
                }
                _ => {
                    if rng.chance(30) {
                        p.reload(cfg.clone(), rng.chance(50));
                    }
                }
            }
            assert_eq!(
                normalize(p.store.to_state()),
                normalize(p.session.export_state()),
                "{v:?} step {step}: the Persist stream and export_state() disagree"
            );
            assert!(p.store.errors.is_empty(), "{:?}", p.store.errors);
        }
        p.assert_write_ahead();
    }
}

#[test]
fn pubrel_after_reconnect_for_an_id_we_released_gets_pubcomp() {
    // Our PUBCOMP was lost with the link; the broker sends PUBREL again.
    for v in VERSIONS {
        let mut p = Pair::new(durable(v, "relagain"));
        p.connect();
        p.subscribe("in/#", QoS::ExactlyOnce);
        p.broker.set_drop(DropWhen::Receive {
            packet: PacketType::PubComp,
            nth: 1,
            process: false,
        });
        p.broker.publish("in/1", b"x", QoS::ExactlyOnce);
        p.drive();
        assert!(!p.link_up);
        assert!(p.session.export_state().incoming_qos2.is_empty());
        p.connect();
        let comps = p.sent_of(PacketType::PubComp);
        assert_eq!(comps.len(), 2, "{v:?}: answered again");
        if let Packet::PubComp(PubResp { reason_code, .. }) = comps[1] {
            let expected = if v == ProtocolVersion::V5 { 0x92 } else { 0 };
            assert_eq!(reason_code, expected);
        }
        assert_eq!(p.messages().len(), 1);
        assert!(p.closes.is_empty());
        assert_eq!(p.broker.session("relagain").unwrap().outflight_len(), 0);
    }
}

#[test]
fn a_qos2_message_keeps_its_packet_id_when_a_stale_qos1_record_names_it_too() {
    use wasmqtt::session::{
        Message, MessageState, Session, SessionConfig, SessionState, StoredMessage,
    };
    let stored = |seq, qos| StoredMessage {
        seq,
        message: Message {
            topic: "t".into(),
            payload: vec![1],
            qos,
            retain: false,
            properties: Default::default(),
        },
        packet_id: 5,
        state: MessageState::Sent,
        attempts: 1,
        created_ms: 0,
    };
    let state = SessionState {
        messages: vec![stored(1, QoS::AtLeastOnce), stored(2, QoS::ExactlyOnce)],
        ..SessionState::default()
    };
    let session = Session::with_state(SessionConfig::new(ProtocolVersion::V5, "c"), state);
    let outbox = session.outbox();
    assert_eq!(outbox.len(), 2);
    assert_eq!(
        (outbox[0].seq, outbox[0].packet_id, outbox[0].state),
        (1, 0, MessageState::Queued)
    );
    assert_eq!(
        (outbox[1].seq, outbox[1].packet_id, outbox[1].state),
        (2, 5, MessageState::Sent)
    );
}
