//! The fuzz property, shared with `fuzz/fuzz_targets/decode.rs`, and a
//! stable-Rust replay of the committed seed corpus `fuzz/corpus/decode/`
//! (and of any crash inputs under `fuzz/artifacts/decode/`).

use wasmqtt::codec::{decode, encode, Packet, ProtocolVersion};

/// Packet size limits the input is decoded under.
const LIMITS: [usize; 2] = [usize::MAX, 256];

/// Decodes `data` as a stream of packets under each version and size limit.
/// Must never panic; every packet that decodes must encode, and the encoding
/// must decode to the same packet with the same length.
pub fn check_input(data: &[u8]) {
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        for max in LIMITS {
            let mut rest = data;
            while let Ok(Some((packet, used))) = decode(rest, version, max) {
                assert!(
                    used > 0 && used <= rest.len(),
                    "consumed {used} of {}",
                    rest.len()
                );
                assert!(used <= max, "packet of {used} bytes above the limit {max}");
                check_round_trip(&packet, version);
                rest = rest.get(used..).unwrap_or_default();
            }
        }
    }
}

fn check_round_trip(packet: &Packet, version: ProtocolVersion) {
    let version = match packet {
        Packet::Connect(c) => c.protocol,
        _ => version,
    };
    let mut out = Vec::new();
    let n = match encode(packet, version, &mut out) {
        Ok(n) => n,
        Err(e) => panic!("decoded packet does not encode: {e}: {packet:?}"),
    };
    assert_eq!(n, out.len());
    match decode(&out, version, usize::MAX) {
        Ok(Some((again, used))) => {
            assert_eq!(&again, packet, "re-decoded packet differs");
            assert_eq!(used, out.len());
        }
        other => panic!("encoding of {packet:?} decodes as {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn replay(dir: &Path) -> usize {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        let mut count = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                super::check_input(&std::fs::read(&path).unwrap());
                count += 1;
            }
        }
        count
    }

    #[test]
    fn replay_seed_corpus() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
        let seeds = replay(&root.join("corpus/decode"));
        assert!(seeds >= 40, "seed corpus has {seeds} files");
        replay(&root.join("artifacts/decode"));
    }

    #[test]
    fn corpus_inputs_decode_as_packets() {
        // Each seed file is one whole packet of one version.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decode");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let version = if name.starts_with("v5_") {
                wasmqtt::codec::ProtocolVersion::V5
            } else if name.starts_with("v311_") {
                wasmqtt::codec::ProtocolVersion::V311
            } else {
                continue;
            };
            let bytes = std::fs::read(&path).unwrap();
            let decoded = wasmqtt::codec::decode(&bytes, version, usize::MAX).unwrap();
            assert_eq!(decoded.map(|(_, n)| n), Some(bytes.len()), "{name}");
        }
    }
}
