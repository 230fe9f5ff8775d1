//! Random interleavings of publishes in both directions, held and reordered
//! acks, connection drops at random packets, reconnects and page reloads;
//! once the link is stable again every accepted message completes exactly
//! once and QoS 2 is delivered exactly once at both ends.

mod common;

use std::collections::HashMap;

use common::*;
use proptest::prelude::*;
use wasmqtt::codec::{PacketType, Properties, PropertyValues, ProtocolVersion, QoS};
use wasmqtt::session::{Event, PublishError};

#[derive(Debug, Clone)]
enum Op {
    Publish(u8),
    Incoming(u8),
    Hold(bool),
    Release(u8, bool),
    ArmDrop { kind: u8, nth: u8, process: bool },
    DropNow,
    Reconnect,
    Advance(u16),
    Reload(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..3).prop_map(Op::Publish),
        3 => (0u8..3).prop_map(Op::Incoming),
        2 => any::<bool>().prop_map(Op::Hold),
        3 => (0u8..8, any::<bool>()).prop_map(|(n, s)| Op::Release(n, s)),
        2 => (0u8..8, 1u8..4, any::<bool>())
            .prop_map(|(kind, nth, process)| Op::ArmDrop { kind, nth, process }),
        1 => Just(Op::DropNow),
        2 => Just(Op::Reconnect),
        1 => (0u16..20_000).prop_map(Op::Advance),
        1 => any::<bool>().prop_map(Op::Reload),
    ]
}

fn drop_rule(kind: u8, nth: u8, process: bool) -> DropWhen {
    let nth = usize::from(nth);
    match kind {
        0 => DropWhen::Receive {
            packet: PacketType::Publish,
            nth,
            process,
        },
        1 => DropWhen::Receive {
            packet: PacketType::PubRel,
            nth,
            process,
        },
        2 => DropWhen::Receive {
            packet: PacketType::PubRec,
            nth,
            process,
        },
        3 => DropWhen::Receive {
            packet: PacketType::PubComp,
            nth,
            process,
        },
        4 => DropWhen::Receive {
            packet: PacketType::PubAck,
            nth,
            process,
        },
        5 => DropWhen::Send {
            packet: PacketType::Publish,
            nth,
        },
        6 => DropWhen::Send {
            packet: PacketType::PubRel,
            nth,
        },
        _ => DropWhen::AfterPackets(nth),
    }
}

fn run(v: ProtocolVersion, window: u16, ops: Vec<Op>, seed: u64) {
    let mut rng = common::Rng::new(seed);
    let mut cfg = persistent(v, "prop");
    cfg.durable = true;
    cfg.keep_alive = 5;
    cfg.max_inflight = Some(window);
    let mut p = Pair::new(cfg.clone());
    p.broker.connack_props = Properties::from(PropertyValues {
        receive_maximum: Some(window.saturating_add(3)),
        ..PropertyValues::default()
    });
    p.connect();
    p.subscribe("t/#", QoS::ExactlyOnce);
    // (seq, qos, payload) accepted from the application.
    let mut accepted: Vec<(u64, QoS, Vec<u8>)> = Vec::new();
    // Messages the "outside" published to the client.
    let mut incoming: Vec<(Vec<u8>, QoS)> = Vec::new();
    let mut n = 0u32;
    // Seqs are unique among live messages only: after a reload the counter
    // restarts above the stored ones. So PublishDone is attributed to the
    // message that holds the seq when the event arrives.
    let mut live: HashMap<u64, Vec<u8>> = HashMap::new();
    let mut done: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut seen = 0;
    let mut attribute = |p: &Pair, live: &mut HashMap<u64, Vec<u8>>, seen: &mut usize| {
        for e in &p.events[*seen..] {
            if let Event::PublishDone { id } = e {
                let payload = live
                    .remove(id)
                    .unwrap_or_else(|| panic!("PublishDone for seq {id}, which nobody holds"));
                *done.entry(payload).or_insert(0) += 1;
            }
        }
        *seen = p.events.len();
    };
    for op in ops {
        match op {
            Op::Publish(q) => {
                let q = qos_of(q);
                let payload = format!("out{n}").into_bytes();
                n += 1;
                match p.publish("t/out", &payload, q) {
                    Ok(seq) => {
                        let clash = live.insert(seq, payload.clone());
                        assert!(clash.is_none(), "seq {seq} given to two live messages");
                        accepted.push((seq, q, payload));
                    }
                    Err(PublishError::QueueFull) => {}
                    Err(e) => panic!("publish refused: {e:?}"),
                }
            }
            Op::Incoming(q) => {
                let q = qos_of(q);
                let payload = format!("in{n}").into_bytes();
                n += 1;
                p.broker.publish("t/in", &payload, q);
                incoming.push((payload, q));
                p.drive();
            }
            Op::Hold(h) => {
                p.broker.ack_mode = if h { AckMode::Hold } else { AckMode::Normal };
            }
            Op::Release(k, shuffle) => {
                if shuffle {
                    p.broker.release_some(usize::from(k), &mut rng);
                } else {
                    p.broker.release_held(None);
                }
                p.drive();
            }
            Op::ArmDrop { kind, nth, process } => p.broker.set_drop(drop_rule(kind, nth, process)),
            Op::DropNow => p.drop_link(),
            Op::Reconnect => {
                if p.link_up {
                    p.reconnect();
                } else {
                    p.connect();
                }
            }
            Op::Advance(ms) => p.advance(u64::from(ms)),
            Op::Reload(from_store) => p.reload(cfg.clone(), from_store),
        }
        attribute(&p, &mut live, &mut seen);
        // Never: a clash of packet ids, a second QoS 2 delivery.
        p.assert_clean();
        for (payload, c) in p.broker.delivery_counts() {
            let q2 = accepted
                .iter()
                .any(|(_, q, pl)| *q == QoS::ExactlyOnce && *pl == payload);
            assert!(
                !(q2 && c > 1),
                "QoS 2 {payload:?} delivered {c} times at the broker"
            );
        }
    }

    // Stable link from here on.
    p.broker.clear_drop();
    p.broker.ack_mode = AckMode::Normal;
    p.broker.release_held(None);
    if !p.link_up {
        p.connect();
    }
    p.drive();
    p.advance(30_000);
    assert!(p.link_up && p.session.is_connected(), "stable link");

    attribute(&p, &mut live, &mut seen);
    assert!(p.failures().is_empty(), "failures: {:?}", p.failures());
    let broker = p.broker.delivery_counts();
    let client = p.message_counts();
    for (seq, q, payload) in &accepted {
        assert_eq!(
            done.get(payload),
            Some(&1),
            "seq {seq} ({q:?}) {payload:?} completes exactly once"
        );
        let b = broker.get(payload).copied().unwrap_or(0);
        let c = client.get(payload).copied().unwrap_or(0);
        match q {
            QoS::ExactlyOnce => {
                assert_eq!(b, 1, "{payload:?} at the broker");
                assert_eq!(c, 1, "{payload:?} back at the client");
            }
            QoS::AtLeastOnce => {
                assert!(b >= 1, "{payload:?} lost at the broker");
                assert!(c >= 1, "{payload:?} lost on the way back");
            }
            QoS::AtMostOnce => {}
        }
    }
    for (payload, q) in &incoming {
        let c = client.get(payload).copied().unwrap_or(0);
        match q {
            QoS::ExactlyOnce => assert_eq!(c, 1, "incoming {payload:?}"),
            QoS::AtLeastOnce => assert!(c >= 1, "incoming {payload:?} lost"),
            QoS::AtMostOnce => {}
        }
    }
    assert_eq!(p.session.pending_messages(), 0);
    assert!(
        p.store.messages.is_empty(),
        "store still holds {:?}",
        p.store.messages
    );
    assert!(p.store.incoming.is_empty());
    assert!(p.session.export_state().incoming_qos2.is_empty());
    let bs = p.broker.session("prop").expect("broker session");
    assert_eq!(bs.outflight_len(), 0);
    assert!(bs.incoming_qos2.is_empty());
    p.assert_clean();
    p.assert_write_ahead();
}

// 256 cases by default; PROPTEST_CASES=20000 for a longer hunt.
proptest! {
    #[test]
    fn random_interleavings_keep_every_promise(
        v5 in any::<bool>(),
        window in 1u16..12,
        ops in proptest::collection::vec(op(), 1..80),
        seed in any::<u64>(),
    ) {
        let v = if v5 { ProtocolVersion::V5 } else { ProtocolVersion::V311 };
        run(v, window, ops, seed);
    }
}
