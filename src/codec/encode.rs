//! Encoding of MQTT packets.

use super::error::EncodeError;
use super::packet::{Packet, ProtocolVersion};

/// Appends the wire form of `packet` under `version` to `out` and returns the
/// number of bytes appended. On error nothing is appended (`out` keeps its
/// length). Under 3.1.1 MQTT 5-only fields (properties, reason codes) are left
/// out. Uses the shortest legal forms (e.g. a PUBACK with reason 0 and no
/// properties is 4 bytes in MQTT 5 too).
pub fn encode(
    packet: &Packet,
    version: ProtocolVersion,
    out: &mut Vec<u8>,
) -> Result<usize, EncodeError> {
    let _ = (packet, version, out);
    unimplemented!()
}
