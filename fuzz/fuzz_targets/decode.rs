//! Fuzz target: decode arbitrary bytes under both protocol versions (with a
//! packet size limit and without); every packet that decodes must encode,
//! and decoding that encoding must give the same packet back. The check
//! itself lives in `tests/codec_fuzz_corpus.rs`, which also replays the
//! committed corpus on stable Rust under `cargo test`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/codec_fuzz_corpus.rs"]
#[allow(dead_code)]
mod check;

fuzz_target!(|data: &[u8]| {
    check::check_input(data);
});
