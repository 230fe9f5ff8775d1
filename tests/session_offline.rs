//! Offline use: publish and subscribe before a connection, the queue limit,
//! and the end of a session.

mod common;

use common::*;
use wasmqtt::codec::{Packet, PacketType, Properties, QoS, Subscription, SubscriptionOptions};
use wasmqtt::session::{CloseReason, Event, PublishError, RequestError};

#[test]
fn offline_publishes_queue_and_go_out_in_order_after_connect() {
    for v in VERSIONS {
        let mut p = Pair::new(config(v, "off"));
        let mut seqs = Vec::new();
        for i in 0..30u8 {
            let q = qos_of(i % 3);
            let seq = p.publish("o", &[i], q).unwrap();
            seqs.push((seq, q));
        }
        assert!(
            p.wire.is_empty(),
            "{v:?}: nothing on the wire while offline"
        );
        for (seq, q) in &seqs {
            let expected = usize::from(*q == QoS::AtMostOnce);
            assert_eq!(p.done(*seq), expected, "{v:?}: QoS 0 is done once queued");
        }
        assert_eq!(p.session.pending_messages(), 30);
        p.connect();
        let order: Vec<u8> = p.broker.delivered.iter().map(|d| d.payload[0]).collect();
        assert_eq!(
            order,
            (0..30).collect::<Vec<u8>>(),
            "{v:?}: in order, QoS 0 too"
        );
        for (seq, _) in &seqs {
            assert_eq!(p.done(*seq), 1);
        }
        assert_eq!(p.session.pending_messages(), 0);
        p.assert_clean();
    }
}

#[test]
fn queue_limit_is_enforced() {
    for v in VERSIONS {
        let mut c = config(v, "full");
        c.max_queued = 5;
        c.max_inflight = Some(10);
        let mut p = Pair::new(c);
        for i in 0..5u8 {
            p.publish("q", &[i], qos_of(i % 3)).unwrap();
        }
        for q in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            assert_eq!(
                p.publish("q", b"x", q),
                Err(PublishError::QueueFull),
                "{v:?} {q:?}"
            );
        }
        p.connect();
        assert_eq!(p.broker.delivered.len(), 5);
        // Online, behind a full window, the limit holds as well.
        p.broker.ack_mode = AckMode::Hold;
        let window = p.session.inflight_window();
        for i in 0..window + 5 {
            p.publish("q", format!("{i}").as_bytes(), QoS::AtLeastOnce)
                .unwrap();
        }
        assert_eq!(
            p.publish("q", b"y", QoS::AtLeastOnce),
            Err(PublishError::QueueFull)
        );
    }
}

#[test]
fn offline_subscribe_is_sent_after_connect() {
    for v in VERSIONS {
        let mut p = Pair::new(config(v, "osub"));
        let sid = p
            .session
            .subscribe(
                vec![
                    Subscription {
                        filter: "a/#".into(),
                        options: SubscriptionOptions {
                            qos: QoS::AtLeastOnce,
                            ..SubscriptionOptions::default()
                        },
                    },
                    Subscription {
                        filter: "b/+".into(),
                        options: SubscriptionOptions {
                            qos: QoS::ExactlyOnce,
                            ..SubscriptionOptions::default()
                        },
                    },
                ],
                Properties::default(),
                p.now,
            )
            .unwrap();
        assert!(p.wire.is_empty());
        p.connect();
        assert_eq!(p.sent_of(PacketType::Subscribe).len(), 1);
        assert!(p.events.iter().any(|e| matches!(
            e,
            Event::Subscribed { id, reason_codes } if *id == sid && reason_codes == &vec![1, 2]
        )));
        p.broker.publish("b/1", b"x", QoS::ExactlyOnce);
        p.drive();
        assert_eq!(p.messages().len(), 1, "{v:?}");
        // Bad requests are refused before anything is queued.
        assert!(matches!(
            p.session.subscribe(vec![], Properties::default(), p.now),
            Err(RequestError::NoFilters)
        ));
        assert!(matches!(
            p.session.subscribe(
                vec![Subscription {
                    filter: "a/#/b".into(),
                    options: SubscriptionOptions::default(),
                }],
                Properties::default(),
                p.now
            ),
            Err(RequestError::InvalidTopic(_))
        ));
    }
}

#[test]
fn disconnect_sends_disconnect_and_later_calls_fail_with_closed() {
    for v in VERSIONS {
        let mut p = Pair::new(persistent(v, "bye"));
        p.connect();
        p.broker.ack_mode = AckMode::Hold;
        p.publish("o", b"unacked", QoS::AtLeastOnce).unwrap();
        p.broker.mute = true;
        let pending_sub = p.subscribe("s", QoS::AtMostOnce);
        p.broker.mute = false;
        p.session.disconnect(p.now);
        p.drive();
        let disconnects = p.sent_of(PacketType::Disconnect);
        assert_eq!(disconnects.len(), 1, "{v:?}");
        if let Packet::Disconnect(d) = &disconnects[0] {
            assert_eq!(d.reason_code, 0, "normal disconnection: no will");
        }
        assert_eq!(p.closes, vec![CloseReason::Requested]);
        assert!(p.events.iter().any(|e| matches!(
            e,
            Event::RequestFailed { id, error: RequestError::Closed } if *id == pending_sub
        )));
        assert!(p.session.is_ended());
        assert_eq!(
            p.publish("o", b"late", QoS::AtMostOnce),
            Err(PublishError::Closed)
        );
        assert!(matches!(
            p.session.subscribe(
                vec![Subscription {
                    filter: "s".into(),
                    options: SubscriptionOptions::default()
                }],
                Properties::default(),
                p.now
            ),
            Err(RequestError::Closed)
        ));
        assert!(matches!(
            p.session
                .unsubscribe(vec!["s".into()], Properties::default(), p.now),
            Err(RequestError::Closed)
        ));
        // A later transport connection does nothing.
        let wire = p.wire.len();
        p.connect();
        assert_eq!(p.wire.len(), wire, "{v:?}: no CONNECT after disconnect()");
        // The unacked message stays in the state for a later session.
        assert_eq!(p.session.export_state().messages.len(), 1);
    }
}
