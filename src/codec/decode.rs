//! Strict, incremental decoding of MQTT packets from a byte buffer.

use super::error::DecodeError;
use super::packet::{Packet, ProtocolVersion};

/// Decodes the first packet in `buf`.
///
/// Returns `Ok(None)` when `buf` holds only part of a packet (more bytes are
/// needed), `Ok(Some((packet, consumed)))` when a whole packet was decoded from
/// the first `consumed` bytes, and an error when the bytes can never form a
/// valid packet. A packet whose fixed header announces more than
/// `max_packet_size` bytes in total is rejected as soon as the header is read,
/// before its body arrives. CONNECT carries its own protocol level, which
/// overrides `version` for that packet. Never panics, whatever the input.
pub fn decode(
    buf: &[u8],
    version: ProtocolVersion,
    max_packet_size: usize,
) -> Result<Option<(Packet, usize)>, DecodeError> {
    let _ = (buf, version, max_packet_size);
    unimplemented!()
}

/// A byte buffer that yields packets as they complete: bytes are fed as they
/// arrive (a packet may span several feeds, a feed may hold several packets).
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    start: usize,
    version: ProtocolVersion,
    max_packet_size: usize,
}

impl Decoder {
    /// A decoder for `version` that rejects packets above `max_packet_size` bytes.
    pub fn new(version: ProtocolVersion, max_packet_size: usize) -> Self {
        Decoder {
            buf: Vec::new(),
            start: 0,
            version,
            max_packet_size,
        }
    }

    /// Appends received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        let _ = bytes;
        unimplemented!()
    }

    /// The next complete packet, `Ok(None)` if more bytes are needed. After an
    /// error the stream is unusable and the decoder should be cleared.
    pub fn next_packet(&mut self) -> Result<Option<Packet>, DecodeError> {
        unimplemented!()
    }

    /// Drops buffered bytes (on a new connection).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
    }

    /// Number of bytes buffered and not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Sets the protocol version for the following packets.
    pub fn set_version(&mut self, version: ProtocolVersion) {
        self.version = version;
    }

    /// Sets the maximum accepted packet size for the following packets.
    pub fn set_max_packet_size(&mut self, max: usize) {
        self.max_packet_size = max;
    }
}
