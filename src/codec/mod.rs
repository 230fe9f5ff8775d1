//! MQTT 3.1.1 and 5.0 wire format: packets as values, strict decoding from a
//! byte buffer, encoding into one, and topic name / filter rules.
//!
//! Pure: no I/O, no clock, no allocation beyond the packets themselves.

mod decode;
mod encode;
mod error;
mod packet;
mod parse;
pub(crate) mod prop_codec;
pub mod properties;
pub mod reason;
pub(crate) mod text;
mod topic;
mod varint;
mod wire;

pub use decode::{decode, Decoder};
pub use encode::encode;
pub use error::{DecodeError, EncodeError};
pub use packet::*;
pub use properties::{Properties, PropertyValues};
pub use topic::{topic_matches, validate_topic_filter, validate_topic_name, TopicError};

/// The largest value a variable byte integer can hold, and so the largest
/// remaining length: 268,435,455.
pub const MAX_VARINT: u32 = 268_435_455;

/// The largest packet MQTT can express: fixed header (5 bytes) plus the
/// largest remaining length.
pub const MAX_PACKET_SIZE: u32 = MAX_VARINT + 5;
