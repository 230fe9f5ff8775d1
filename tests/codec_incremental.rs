//! Incremental decoding with `Decoder`: packets split across feeds, several
//! packets in one feed, a split inside the remaining length.

use wasmqtt::codec::{
    encode, DecodeError, Decoder, Packet, Properties, PropertyValues, ProtocolVersion, PubResp,
    Publish, QoS,
};

fn publish(payload_len: usize) -> Packet {
    Packet::Publish(Publish {
        dup: false,
        qos: QoS::AtLeastOnce,
        retain: false,
        topic: "sensors/1".to_owned(),
        packet_id: 7,
        payload: vec![0x5A; payload_len],
        properties: Properties::from(PropertyValues {
            user_properties: vec![("k".to_owned(), "v".to_owned())],
            ..PropertyValues::default()
        }),
    })
}

fn bytes(p: &Packet) -> Vec<u8> {
    let mut out = Vec::new();
    encode(p, ProtocolVersion::V5, &mut out).unwrap();
    out
}

#[test]
fn one_byte_at_a_time() {
    let packet = publish(300);
    let wire = bytes(&packet);
    let mut d = Decoder::new(ProtocolVersion::V5, 1 << 20);
    let (last, head) = wire.split_last().unwrap();
    for &b in head {
        d.feed(&[b]);
        assert_eq!(d.next_packet(), Ok(None));
    }
    assert_eq!(d.buffered(), wire.len() - 1);
    d.feed(&[*last]);
    assert_eq!(d.next_packet(), Ok(Some(packet)));
    assert_eq!(d.next_packet(), Ok(None));
    assert_eq!(d.buffered(), 0);
}

#[test]
fn several_packets_in_one_feed() {
    let packets = vec![
        publish(3),
        Packet::PubAck(PubResp {
            packet_id: 7,
            ..PubResp::default()
        }),
        Packet::PingResp,
        publish(200),
    ];
    let mut wire = Vec::new();
    for p in &packets {
        wire.extend(bytes(p));
    }
    let mut d = Decoder::new(ProtocolVersion::V5, 1 << 20);
    d.feed(&wire);
    for p in packets {
        assert_eq!(d.next_packet(), Ok(Some(p)));
    }
    assert_eq!(d.next_packet(), Ok(None));
}

/// Remaining length 300 takes two bytes (AC 02); feed the first alone.
#[test]
fn split_inside_remaining_length() {
    let packet = publish(300 - 2 - 9 - 2 - 8);
    let wire = bytes(&packet);
    assert_eq!(&wire[1..3], &[0xAC, 0x02]);
    let mut d = Decoder::new(ProtocolVersion::V5, 1 << 20);
    d.feed(&wire[..2]);
    assert_eq!(d.next_packet(), Ok(None));
    d.feed(&wire[2..3]);
    assert_eq!(d.next_packet(), Ok(None));
    d.feed(&wire[3..]);
    assert_eq!(d.next_packet(), Ok(Some(packet)));
}

/// Arbitrary chunking of a stream of packets yields the same packets, fed
/// and then decoded, or decoded from the input with `next_packet_from`,
/// which buffers only the bytes of an incomplete packet.
#[test]
fn any_chunking() {
    let packets: Vec<Packet> = (0..20).map(|i| publish(i * 37)).collect();
    let wire: Vec<u8> = packets.iter().flat_map(bytes).collect();
    for from_input in [false, true] {
        for chunk in [1, 2, 3, 7, 64, 1000, wire.len()] {
            let mut d = Decoder::new(ProtocolVersion::V5, 1 << 20);
            let mut got = Vec::new();
            for piece in wire.chunks(chunk) {
                let mut input = piece;
                if !from_input {
                    d.feed(piece);
                    input = &[];
                }
                while let Some(p) = d.next_packet_from(&mut input).unwrap() {
                    got.push(p);
                }
                assert!(input.is_empty(), "chunk {chunk}");
                if from_input {
                    assert!(d.buffered() < bytes(&packets[got.len().min(19)]).len());
                }
            }
            assert_eq!(got, packets, "chunk {chunk}");
            assert_eq!(d.buffered(), 0);
        }
    }
    // Errors are the same too: packets pass until one is above the limit.
    let mut d = Decoder::new(ProtocolVersion::V5, 100);
    let mut input = &wire[..];
    let mut passed = 0;
    let error = loop {
        match d.next_packet_from(&mut input) {
            Ok(Some(_)) => passed += 1,
            other => break other,
        }
    };
    assert!(passed > 0);
    assert!(matches!(
        error,
        Err(DecodeError::PacketTooLarge { max: 100, .. })
    ));
}

/// The size limit fires once the fixed header is in, before the body.
#[test]
fn too_large_before_body() {
    let wire = bytes(&publish(1000));
    let mut d = Decoder::new(ProtocolVersion::V5, 500);
    d.feed(&wire[..3]);
    assert!(matches!(
        d.next_packet(),
        Err(DecodeError::PacketTooLarge { max: 500, .. })
    ));
    d.clear();
    d.set_max_packet_size(2000);
    d.feed(&wire);
    assert_eq!(d.next_packet(), Ok(Some(publish(1000))));
}

/// The version can change between packets (after CONNACK).
#[test]
fn version_switch() {
    let mut d = Decoder::new(ProtocolVersion::V311, 1 << 20);
    d.feed(&[0xE0, 0x00, 0xE0, 0x01, 0x04]);
    assert!(matches!(d.next_packet(), Ok(Some(Packet::Disconnect(_)))));
    assert_eq!(d.next_packet(), Err(DecodeError::TrailingBytes));
    d.set_version(ProtocolVersion::V5);
    let Ok(Some(Packet::Disconnect(disc))) = d.next_packet() else {
        panic!()
    };
    assert_eq!(disc.reason_code, 0x04);
}

/// A PUBLISH whose properties fail half way (the second of two payload
/// format indicators) is decoded in place, into a spare: nothing of it is
/// left for the next PUBLISH once the decoder is cleared for a new stream.
#[test]
fn a_failed_publish_leaves_nothing_in_the_spares() {
    let mut decoder = Decoder::new(ProtocolVersion::V5, usize::MAX);
    decoder.recycle("old".to_owned(), vec![1, 2, 3], Properties::default());
    // QoS 0, topic "a", properties 0x01 = 1 twice, payload "x".
    let bad = [
        0x30, 0x09, 0x00, 0x01, b'a', 0x04, 0x01, 0x01, 0x01, 0x01, b'x',
    ];
    assert_eq!(
        decoder.next_packet_from(&mut &bad[..]),
        Err(DecodeError::DuplicateProperty(0x01))
    );
    decoder.clear();
    let good = Packet::Publish(Publish {
        dup: false,
        qos: QoS::AtMostOnce,
        retain: false,
        topic: "b".to_owned(),
        packet_id: 0,
        payload: b"y".to_vec(),
        properties: Properties::default(),
    });
    let mut bytes = Vec::new();
    encode(&good, ProtocolVersion::V5, &mut bytes).unwrap();
    assert_eq!(decoder.next_packet_from(&mut &bytes[..]), Ok(Some(good)));
}
