//! CONNECT / CONNACK, keep alive, timeouts, refusals.

mod common;

use common::*;
use wasmqtt::codec::{Packet, PacketType, Properties, PropertyValues, ProtocolVersion, QoS, Will};
use wasmqtt::session::{CloseReason, Event, Output};

#[test]
fn connect_carries_clean_start_credentials_will_and_session_expiry() {
    for v in VERSIONS {
        for clean in [true, false] {
            let mut c = config(v, "dash-1");
            c.clean_start = clean;
            c.keep_alive = 45;
            c.username = Some("alice".into());
            c.password = Some(vec![0, 1, 2, 0xFF]);
            let mut will_props = Properties::default();
            if v == ProtocolVersion::V5 {
                c.properties.session_expiry_interval = Some(600);
                will_props.will_delay_interval = Some(5);
            }
            c.will = Some(Will {
                topic: "status/dash-1".into(),
                payload: b"offline".to_vec(),
                qos: QoS::AtLeastOnce,
                retain: true,
                properties: will_props.clone(),
            });
            let p = connected(c, Properties::default());
            let got = &p.broker.connects[0];
            assert_eq!(got.protocol, v);
            assert_eq!(got.clean_start, clean, "{v:?}");
            assert_eq!(got.keep_alive, 45);
            assert_eq!(got.client_id, "dash-1");
            assert_eq!(got.username.as_deref(), Some("alice"));
            assert_eq!(got.password.as_deref(), Some(&[0u8, 1, 2, 0xFF][..]));
            let will = got.will.as_ref().expect("will sent");
            assert_eq!(will.topic, "status/dash-1");
            assert_eq!(will.payload, b"offline");
            assert_eq!(will.qos, QoS::AtLeastOnce);
            assert!(will.retain);
            match v {
                ProtocolVersion::V5 => {
                    assert_eq!(got.properties.session_expiry_interval, Some(600));
                    assert_eq!(will.properties.will_delay_interval, Some(5));
                }
                ProtocolVersion::V311 => assert!(got.properties.is_empty()),
            }
            assert_eq!(p.connected_events().len(), 1);
            assert!(p.session.is_connected());
        }
    }
}

#[test]
fn will_is_published_on_link_loss_but_not_after_disconnect() {
    for v in VERSIONS {
        let mut c = config(v, "w");
        c.will = Some(Will {
            topic: "status/w".into(),
            payload: b"gone".to_vec(),
            qos: QoS::AtMostOnce,
            retain: false,
            properties: Properties::default(),
        });
        let mut p = connected(c, Properties::default());
        p.drop_link();
        assert_eq!(
            p.broker.wills.len(),
            1,
            "{v:?}: link loss publishes the will"
        );
        p.connect();
        p.session.disconnect(p.now);
        p.drive();
        assert_eq!(
            p.broker.wills.len(),
            1,
            "{v:?}: DISCONNECT discards the will"
        );
        assert_eq!(p.broker.client_disconnects.len(), 1);
        assert_eq!(p.broker.client_disconnects[0].reason_code, 0);
    }
}

#[test]
fn pingreq_after_keep_alive_of_silence_and_not_before() {
    for v in VERSIONS {
        let mut c = config(v, "ka");
        c.keep_alive = 10;
        let mut p = connected(c, Properties::default());
        let t0 = p.now;
        p.advance(9_999);
        assert!(
            p.sent_of(PacketType::PingReq).is_empty(),
            "{v:?}: no PINGREQ before 10 s"
        );
        p.advance(1);
        assert_eq!(
            p.sent_of(PacketType::PingReq).len(),
            1,
            "{v:?}: PINGREQ at 10 s"
        );
        // Sending alone does not postpone the ping: the broker has been silent
        // since the PINGRESP at 10 s, and a client that only sends into a dead
        // link must still find out.
        p.advance(5_000);
        p.publish("a", b"x", QoS::AtMostOnce).unwrap();
        assert_eq!(p.now, t0 + 15_000);
        p.advance(4_999);
        assert_eq!(
            p.sent_of(PacketType::PingReq).len(),
            1,
            "{v:?}: no PINGREQ before 10 s of silence from the broker"
        );
        p.advance(1);
        assert_eq!(
            p.sent_of(PacketType::PingReq).len(),
            2,
            "{v:?}: PINGREQ after 10 s without receiving, though we sent"
        );
        // Answered pings keep the connection up for a long time.
        p.advance(600_000);
        assert!(p.session.is_connected());
        assert!(p.closes.is_empty());
        assert!(p.sent_of(PacketType::PingReq).len() >= 60);
    }
}

#[test]
fn receiving_only_still_pings_on_schedule() {
    for v in VERSIONS {
        let mut c = config(v, "rx");
        c.keep_alive = 10;
        let mut p = connected(c, Properties::default());
        p.subscribe("in/#", QoS::AtMostOnce);
        let start_pings = p.sent_of(PacketType::PingReq).len();
        for _ in 0..20 {
            p.advance(1_000);
            p.broker.publish("in/x", b"tick", QoS::AtMostOnce);
            p.drive();
        }
        assert!(
            p.sent_of(PacketType::PingReq).len() > start_pings,
            "{v:?}: the broker needs packets from us within the keep alive"
        );
    }
}

#[test]
fn no_pingresp_declares_the_connection_dead() {
    for v in VERSIONS {
        let mut c = config(v, "dead");
        c.keep_alive = 10;
        let mut p = connected(c, Properties::default());
        p.broker.answer_pings = false;
        p.advance(10_000);
        assert_eq!(p.sent_of(PacketType::PingReq).len(), 1);
        p.advance(9_999);
        assert!(p.closes.is_empty(), "{v:?}: still waiting for PINGRESP");
        p.advance(1);
        assert_eq!(p.closes, vec![CloseReason::KeepAliveTimeout], "{v:?}");
        assert!(!p.session.is_connected());
        assert_eq!(p.session.poll_timeout(), None, "no timer while down");
    }
}

#[test]
fn explicit_ping_timeout_is_used() {
    for v in VERSIONS {
        let mut c = config(v, "pt");
        c.keep_alive = 60;
        c.ping_timeout_ms = Some(2_000);
        let mut p = connected(c, Properties::default());
        p.broker.answer_pings = false;
        p.advance(60_000 + 1_999);
        assert!(p.closes.is_empty());
        p.advance(1);
        assert_eq!(p.closes, vec![CloseReason::KeepAliveTimeout]);
    }
}

#[test]
fn server_keep_alive_overrides_ours() {
    let mut c = config(ProtocolVersion::V5, "ska");
    c.keep_alive = 60;
    let props = Properties::from(PropertyValues {
        server_keep_alive: Some(5),
        ..PropertyValues::default()
    });
    let mut p = connected(c, props);
    p.advance(4_999);
    assert!(p.sent_of(PacketType::PingReq).is_empty());
    p.advance(1);
    assert_eq!(
        p.sent_of(PacketType::PingReq).len(),
        1,
        "PINGREQ after the server's 5 s"
    );
    // A server keep alive of 0 turns pings off.
    let mut c = config(ProtocolVersion::V5, "ska0");
    c.keep_alive = 10;
    let props = Properties::from(PropertyValues {
        server_keep_alive: Some(0),
        ..PropertyValues::default()
    });
    let mut p = connected(c, props);
    p.advance(120_000);
    assert!(p.sent_of(PacketType::PingReq).is_empty());
    assert!(p.session.is_connected());
}

#[test]
fn server_keep_alive_applies_per_connection() {
    let mut c = config(ProtocolVersion::V5, "ska2");
    c.keep_alive = 20;
    let props = Properties::from(PropertyValues {
        server_keep_alive: Some(5),
        ..PropertyValues::default()
    });
    let mut p = connected(c, props);
    p.broker.connack_props = Properties::default();
    p.reconnect();
    p.advance(19_999);
    assert!(
        p.sent_of(PacketType::PingReq).is_empty(),
        "our own keep alive again when the new CONNACK has none"
    );
    p.advance(1);
    assert_eq!(p.sent_of(PacketType::PingReq).len(), 1);
}

#[test]
fn assigned_client_identifier_is_used_on_reconnect() {
    let mut c = persistent(ProtocolVersion::V5, "");
    c.keep_alive = 0;
    let mut p = Pair::new(c);
    p.broker.connack_props.assigned_client_identifier = Some("srv-42".into());
    p.connect();
    assert_eq!(p.session.client_id(), "srv-42");
    p.broker.connack_props = Properties::default();
    p.reconnect();
    assert_eq!(p.broker.connects[1].client_id, "srv-42");
    assert!(
        p.connected_events()[1].session_present,
        "the broker found the session of the assigned id"
    );
}

#[test]
fn connect_timeout_closes() {
    for v in VERSIONS {
        let mut c = config(v, "ct");
        c.connect_timeout_ms = 5_000;
        let mut p = Pair::new(c);
        p.broker.mute_connack = true;
        p.connect();
        assert_eq!(p.session.poll_timeout(), Some(p.now + 5_000));
        p.advance(4_999);
        assert!(p.closes.is_empty());
        p.advance(1);
        assert_eq!(p.closes, vec![CloseReason::ConnectTimeout], "{v:?}");
        assert!(p.connected_events().is_empty());
        // The next attempt works.
        p.broker.mute_connack = false;
        p.connect();
        assert!(p.session.is_connected());
    }
}

#[test]
fn refused_connack_closes_with_its_code() {
    for (v, code) in [(ProtocolVersion::V311, 5u8), (ProtocolVersion::V5, 0x87)] {
        let mut p = Pair::new(config(v, "r"));
        p.session
            .publish(msg("q", b"kept", QoS::AtLeastOnce), p.now)
            .unwrap();
        p.broker.refuse = Some(code);
        p.connect();
        assert_eq!(p.closes.len(), 1);
        match &p.closes[0] {
            CloseReason::Refused { reason_code, .. } => assert_eq!(*reason_code, code, "{v:?}"),
            other => panic!("{v:?}: expected Refused, got {other:?}"),
        }
        assert!(!p.session.is_connected());
        assert!(p.connected_events().is_empty());
        assert!(
            p.sent_publishes().is_empty(),
            "nothing sent on a refused connection"
        );
        // The refused attempt lost nothing.
        p.broker.refuse = None;
        p.connect();
        assert_eq!(p.done(1), 1, "{v:?}");
    }
}

#[test]
fn v311_any_nonzero_return_code_is_a_refusal() {
    let mut p = Pair::new(config(ProtocolVersion::V311, "r1"));
    p.broker.refuse = Some(2);
    p.connect();
    assert!(matches!(
        p.closes.as_slice(),
        [CloseReason::Refused { reason_code: 2, .. }]
    ));
}

#[test]
fn bytes_split_anywhere_still_decode() {
    // CONNACK and a PUBLISH delivered one byte at a time.
    for v in VERSIONS {
        let mut p = Pair::new(config(v, "split"));
        p.broker.mute_connack = true;
        p.connect();
        let mut bytes = encode_one(&Packet::ConnAck(Default::default()), v);
        bytes.extend(encode_one(
            &Packet::Publish(wasmqtt::codec::Publish {
                dup: false,
                qos: QoS::AtMostOnce,
                retain: false,
                topic: "s/1".into(),
                packet_id: 0,
                payload: b"hi".to_vec(),
                properties: Properties::default(),
            }),
            v,
        ));
        for b in bytes {
            p.session.handle_bytes(&[b], p.now);
        }
        p.drive();
        assert!(p.session.is_connected());
        assert_eq!(p.messages().len(), 1);
        assert!(p
            .log
            .iter()
            .any(|o| matches!(o, Output::Event(Event::Connected(_)))));
    }
}
