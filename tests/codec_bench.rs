//! Rough timings of the hot paths, ignored by default. Run with
//! `cargo test --release --test codec_bench -- --ignored --nocapture`.

use std::hint::black_box;
use std::time::Instant;

use wasmqtt::codec::{decode, encode, Packet, Properties, ProtocolVersion, Publish, QoS};

/// A QoS 1 PUBLISH that is 64 bytes on the wire under MQTT 5.
fn publish_64() -> Packet {
    Packet::Publish(Publish {
        dup: false,
        qos: QoS::AtLeastOnce,
        retain: false,
        topic: "sensors/temperature/1".to_owned(),
        packet_id: 42,
        payload: vec![0x42; 36],
        properties: Properties::default(),
    })
}

/// Mean time of one call in the fastest of several batches: the minimum
/// filters out preemption by other processes on a shared machine.
fn time_ns(iterations: u32, mut f: impl FnMut()) -> f64 {
    const BATCHES: u32 = 40;
    let per_batch = (iterations / BATCHES).max(1);
    for _ in 0..per_batch {
        f();
    }
    let mut best = f64::MAX;
    for _ in 0..BATCHES {
        let start = Instant::now();
        for _ in 0..per_batch {
            f();
        }
        let ns = start.elapsed().as_nanos() as f64 / f64::from(per_batch);
        best = best.min(ns);
    }
    best
}

#[test]
#[ignore = "timing, run in release on demand"]
fn publish_64_bytes() {
    let packet = publish_64();
    for version in [ProtocolVersion::V5, ProtocolVersion::V311] {
        let mut out = Vec::with_capacity(128);
        encode(&packet, version, &mut out).unwrap();
        if version == ProtocolVersion::V5 {
            assert_eq!(out.len(), 64);
        }
        let wire = out.clone();
        let enc = time_ns(2_000_000, || {
            out.clear();
            black_box(encode(black_box(&packet), version, &mut out).unwrap());
        });
        let dec = time_ns(2_000_000, || {
            black_box(decode(black_box(&wire), version, usize::MAX).unwrap());
        });
        let dispatch = time_ns(2_000_000, || {
            let n = match decode(black_box(&wire), version, usize::MAX) {
                Ok(Some((Packet::Publish(p), _))) => p.payload.len() + usize::from(p.packet_id),
                Ok(Some((other, _))) => other.packet_type() as usize,
                _ => 0,
            };
            black_box(n);
        });
        println!(
            "{version:?} {}-byte QoS 1 PUBLISH: encode {enc:.1} ns, decode {dec:.1} ns, \
             decode+dispatch {dispatch:.1} ns",
            wire.len()
        );
    }
}

#[test]
#[ignore = "prints type sizes"]
fn sizes() {
    println!(
        "Packet {} Publish {} Properties {} DecodeError {}",
        std::mem::size_of::<Packet>(),
        std::mem::size_of::<Publish>(),
        std::mem::size_of::<Properties>(),
        std::mem::size_of::<wasmqtt::codec::DecodeError>()
    );
}

#[test]
#[ignore = "timing baseline: the two allocations a decoded PUBLISH needs"]
fn allocation_baseline() {
    let topic = "sensors/temperature/1";
    let payload = [0x42u8; 36];
    let ns = time_ns(2_000_000, || {
        let t = black_box(topic).to_owned();
        let p = black_box(&payload[..]).to_vec();
        black_box((t, p));
    });
    println!("baseline String + Vec allocate and free: {ns:.1} ns");
}

/// 10 million decodes of the 64-byte MQTT 5 PUBLISH and nothing else, for
/// `perf stat -e cycles:u,instructions:u` (stable on a busy machine).
#[test]
#[ignore = "for perf stat"]
fn decode_loop_10m() {
    let mut wire = Vec::new();
    encode(&publish_64(), ProtocolVersion::V5, &mut wire).unwrap();
    for _ in 0..10_000_000 {
        black_box(decode(black_box(&wire), ProtocolVersion::V5, usize::MAX).unwrap());
    }
}

/// 10 million encodes of the 64-byte MQTT 5 PUBLISH, for `perf stat`.
#[test]
#[ignore = "for perf stat"]
fn encode_loop_10m() {
    let packet = publish_64();
    let mut out = Vec::with_capacity(128);
    for _ in 0..10_000_000 {
        out.clear();
        black_box(encode(black_box(&packet), ProtocolVersion::V5, &mut out).unwrap());
    }
}

/// 10 million allocate-and-free of a topic String and payload Vec.
#[test]
#[ignore = "for perf stat"]
fn alloc_loop_10m() {
    let payload = [0x42u8; 36];
    for _ in 0..10_000_000 {
        let t = black_box("sensors/temperature/1").to_owned();
        let p = black_box(&payload[..]).to_vec();
        black_box((t, p));
    }
}
