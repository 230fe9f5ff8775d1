//! Codec and session throughput, on stable, without a benchmark crate.
//!
//! `cargo bench --bench throughput` runs each figure for about a second;
//! `cargo bench --bench throughput -- --quick` for about a tenth of that.

use std::hint::black_box;
use std::time::{Duration, Instant};

use wasmqtt::codec::{decode, encode, Decoder, Packet, Properties, ProtocolVersion, Publish, QoS};
use wasmqtt::session::{Event, Message, Output, Session, SessionConfig};

const TOPIC: &str = "sensors/building-7/floor-3/room-12/temperature";

/// Runs `f` for about `target` in five rounds of growing batches and
/// returns the calls and time of the fastest round: on a shared machine the
/// best round is the least disturbed one.
fn measure(target: Duration, mut f: impl FnMut()) -> (u64, Duration) {
    // Warm up caches and the allocator.
    for _ in 0..1_000 {
        f();
    }
    let round = target / 5;
    let mut best: Option<(u64, Duration)> = None;
    for _ in 0..5 {
        let start = Instant::now();
        let mut iters = 0u64;
        let mut batch = 64u64;
        let elapsed = loop {
            for _ in 0..batch {
                f();
            }
            iters += batch;
            let elapsed = start.elapsed();
            if elapsed >= round {
                break elapsed;
            }
            batch = (batch * 2).min(1 << 16);
        };
        let rate = iters as f64 / elapsed.as_secs_f64();
        if best.map_or(true, |(i, e)| rate > i as f64 / e.as_secs_f64()) {
            best = Some((iters, elapsed));
        }
    }
    best.expect("five rounds")
}

struct Row {
    what: &'static str,
    version: &'static str,
    payload: usize,
    per_sec: f64,
    mb_per_sec: Option<f64>,
    ns: f64,
}

fn row(
    what: &'static str,
    version: ProtocolVersion,
    payload: usize,
    bytes_per_op: Option<usize>,
    (iters, elapsed): (u64, Duration),
) -> Row {
    let secs = elapsed.as_secs_f64();
    let per_sec = iters as f64 / secs;
    Row {
        what,
        version: match version {
            ProtocolVersion::V311 => "3.1.1",
            ProtocolVersion::V5 => "5.0",
        },
        payload,
        per_sec,
        mb_per_sec: bytes_per_op.map(|b| per_sec * b as f64 / 1e6),
        ns: secs * 1e9 / iters as f64,
    }
}

fn publish(version: ProtocolVersion, payload: usize) -> Publish {
    let mut properties = Properties::default();
    if version == ProtocolVersion::V5 {
        properties.payload_format_indicator = Some(0);
    }
    Publish {
        dup: false,
        qos: QoS::AtLeastOnce,
        retain: false,
        topic: TOPIC.to_owned(),
        packet_id: 4_242,
        payload: vec![0xA5; payload],
        properties,
    }
}

fn encode_bench(version: ProtocolVersion, payload: usize, target: Duration) -> Row {
    let packet = Packet::Publish(publish(version, payload));
    let mut out = Vec::with_capacity(payload + 128);
    let size = encode(&packet, version, &mut out).expect("encodes");
    let m = measure(target, || {
        out.clear();
        let n = encode(black_box(&packet), version, &mut out).expect("encodes");
        black_box(n);
    });
    row("encode PUBLISH QoS 1", version, payload, Some(size), m)
}

fn decode_bench(version: ProtocolVersion, payload: usize, target: Duration) -> Row {
    let mut bytes = Vec::new();
    encode(
        &Packet::Publish(publish(version, payload)),
        version,
        &mut bytes,
    )
    .expect("encodes");
    let size = bytes.len();
    let m = measure(target, || {
        let r = decode(black_box(&bytes), version, usize::MAX).expect("decodes");
        black_box(r);
    });
    row("decode PUBLISH QoS 1", version, payload, Some(size), m)
}

/// A session that has seen CONNECT / CONNACK and drained its outputs.
fn connected_session(version: ProtocolVersion) -> Session {
    let mut config = SessionConfig::new(version, "bench");
    config.keep_alive = 0;
    let mut session = Session::new(config);
    session.handle_connected(0);
    let mut connack = Vec::new();
    encode(&Packet::ConnAck(Default::default()), version, &mut connack).expect("encodes");
    session.handle_bytes(&connack, 0);
    while session.poll_output().is_some() {}
    assert!(session.is_connected());
    session
}

/// Incoming QoS 1 PUBLISHes one at a time: decode, deliver the message,
/// send the PUBACK.
struct Dispatch {
    session: Session,
    frames: Vec<Vec<u8>>,
    next: usize,
}

impl Dispatch {
    fn new(version: ProtocolVersion) -> Self {
        // Distinct packet ids, as a broker would send.
        let frames = (1..=1024u16)
            .map(|id| {
                let mut p = publish(version, 64);
                p.packet_id = id;
                let mut b = Vec::new();
                encode(&Packet::Publish(p), version, &mut b).expect("encodes");
                b
            })
            .collect();
        Dispatch {
            session: connected_session(version),
            frames,
            next: 0,
        }
    }

    fn step(&mut self) {
        let session = &mut self.session;
        session.handle_bytes(black_box(&self.frames[self.next & 1023]), 1);
        self.next += 1;
        let mut acked = false;
        while let Some(out) = session.poll_output() {
            match out {
                // Sent, then given back for reuse, as the browser driver does.
                Output::Transmit(b) => {
                    acked = !black_box(&b).is_empty();
                    session.recycle_transmit(b);
                }
                // Delivered (the browser copies topic and payload out to
                // JS), then given back for reuse, as the driver does.
                Output::Event(Event::Message(p)) => {
                    black_box(&p);
                    session.recycle_message(p);
                }
                other => {
                    black_box(other);
                }
            }
        }
        debug_assert!(acked);
    }
}

fn dispatch_bench(version: ProtocolVersion, target: Duration) -> Row {
    let mut d = Dispatch::new(version);
    let size = d.frames[0].len();
    let m = measure(target, || d.step());
    row("decode + dispatch (PUBACK out)", version, 64, Some(size), m)
}

/// publish() -> PUBLISH bytes out, PUBACK in -> PublishDone.
fn round_trip_bench(version: ProtocolVersion, target: Duration) -> Row {
    let mut session = connected_session(version);
    let payload = vec![0x5A; 64];
    let mut puback = Vec::with_capacity(8);
    let mut size = 0;
    let m = measure(target, || {
        let message = Message {
            topic: TOPIC.to_owned(),
            payload: payload.clone(),
            qos: QoS::AtLeastOnce,
            retain: false,
            properties: Properties::default(),
        };
        let seq = session.publish(message, 1).expect("accepted");
        let mut packet_id = 0;
        while let Some(out) = session.poll_output() {
            match out {
                Output::Transmit(b) => {
                    // Fixed header (2 bytes), topic length and topic, packet id.
                    let at = 2 + 2 + TOPIC.len();
                    packet_id = u16::from_be_bytes([b[at], b[at + 1]]);
                    size = b.len();
                    session.recycle_transmit(black_box(b));
                }
                other => {
                    black_box(other);
                }
            }
        }
        puback.clear();
        puback.extend_from_slice(&[0x40, 0x02]);
        puback.extend_from_slice(&packet_id.to_be_bytes());
        session.handle_bytes(&puback, 1);
        let mut done = false;
        while let Some(out) = session.poll_output() {
            if let Output::Event(Event::PublishDone { id }) = out {
                done = id == seq;
            }
        }
        assert!(done, "PUBACK completed the publish");
    });
    row("session round trip (QoS 1)", version, 64, Some(size), m)
}

/// Streaming decode of many packets from one buffer, as frames arrive.
fn stream_bench(version: ProtocolVersion, payload: usize, target: Duration) -> Row {
    let mut one = Vec::new();
    encode(
        &Packet::Publish(publish(version, payload)),
        version,
        &mut one,
    )
    .expect("encodes");
    let per_frame = 64;
    let frame: Vec<u8> = one
        .iter()
        .copied()
        .cycle()
        .take(one.len() * per_frame)
        .collect();
    let mut decoder = Decoder::new(version, usize::MAX);
    let (iters, elapsed) = measure(target, || {
        decoder.feed(black_box(&frame));
        let mut n = 0;
        while let Ok(Some(p)) = decoder.next_packet() {
            black_box(p);
            n += 1;
        }
        assert_eq!(n, per_frame);
    });
    row(
        "Decoder stream (64 per feed)",
        version,
        payload,
        Some(one.len()),
        (iters * per_frame as u64, elapsed),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `--dispatch-only 3.1.1|5.0 N`: N dispatch steps and nothing else, for
    // counting instructions (scripts/instructions.sh).
    if let Some(at) = args.iter().position(|a| a == "--dispatch-only") {
        let version = match args.get(at + 1).map(String::as_str) {
            Some("5.0") => ProtocolVersion::V5,
            _ => ProtocolVersion::V311,
        };
        let n = args.get(at + 2).and_then(|n| n.parse().ok()).unwrap_or(0);
        let mut d = Dispatch::new(version);
        for _ in 0..n {
            d.step();
        }
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let target = if quick {
        Duration::from_millis(100)
    } else {
        Duration::from_secs(1)
    };
    let mut rows = Vec::new();
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        for payload in [64, 4096] {
            rows.push(encode_bench(version, payload, target));
            rows.push(decode_bench(version, payload, target));
        }
        rows.push(stream_bench(version, 64, target));
        rows.push(dispatch_bench(version, target));
        rows.push(round_trip_bench(version, target));
    }
    println!(
        "\nwasmqtt throughput ({} per figure, best of 5 rounds; topic of {} bytes)\n",
        if quick { "~0.1 s" } else { "~1 s" },
        TOPIC.len()
    );
    println!(
        "{:<32} {:>7} {:>8} {:>14} {:>10} {:>10}",
        "operation", "version", "payload", "packets/s", "MB/s", "ns/packet"
    );
    println!("{}", "-".repeat(86));
    for r in rows {
        let mb = r.mb_per_sec.map_or("-".to_string(), |m| format!("{m:.1}"));
        println!(
            "{:<32} {:>7} {:>6} B {:>14.0} {:>10} {:>10.1}",
            r.what, r.version, r.payload, r.per_sec, mb, r.ns
        );
    }
    println!();
}
