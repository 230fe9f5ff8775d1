//! How a stored message is written: its MQTT 5 PUBLISH encoding (topic,
//! payload, QoS, retain, properties in one compact byte string the codec
//! already validates) plus its handshake state as small integers.
//!
//! In IndexedDB a message is one byte string, [`encode_record`]: a fixed
//! head with the state, then the PUBLISH. A byte string is structured-cloned
//! and read back far faster than an object with named fields (measured: the
//! field lookups of 10,000 such objects cost more than the rest of a resume).
//! The messages one transaction stores go in chunks, [`encode_chunk`], one
//! IndexedDB value each: each value costs the browser about as much as a
//! whole chunk's bytes (measured in this Chromium: 200 us per message
//! written one value each in transactions of 50, 34 us as one value).

use crate::codec::{encode, Decoder, Packet, ProtocolVersion, Publish, QoS, MAX_PACKET_SIZE};
use crate::session::{Message, MessageState, StoredMessage};

use super::StoreError;

/// The message as bytes (an MQTT 5 PUBLISH).
pub fn encode_message(m: &Message) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(m.payload.len() + m.topic.len() + 16);
    encode_message_into(m, &mut out)?;
    Ok(out)
}

/// Appends the message as an MQTT 5 PUBLISH to `out`.
fn encode_message_into(m: &Message, out: &mut Vec<u8>) -> Result<(), StoreError> {
    let packet = Packet::Publish(Publish {
        dup: false,
        qos: m.qos,
        retain: m.retain,
        topic: m.topic.clone(),
        packet_id: if m.qos == QoS::AtMostOnce { 0 } else { 1 },
        payload: m.payload.clone(),
        properties: m.properties.clone(),
    });
    encode(&packet, ProtocolVersion::V5, out).map_err(|e| {
        let mut m = String::new();
        e.describe(&mut m);
        StoreError::Write(m)
    })?;
    Ok(())
}

/// The message from bytes written by [`encode_message`].
pub fn decode_message(bytes: &[u8]) -> Result<Message, StoreError> {
    // The session's decoder, not `decode`: the wasm then holds one path
    // from bytes to a PUBLISH.
    let mut decoder = Decoder::new(ProtocolVersion::V5, MAX_PACKET_SIZE as usize);
    let mut input = bytes;
    let publish = match decoder.next_from(&mut input) {
        // Decoded, all of it: a PUBLISH stays in the decoder's spare, any
        // other packet comes out of take_packet.
        Ok(Some(())) if input.is_empty() => match decoder.take_packet() {
            None => decoder.take_publish(),
            Some(_) => None,
        },
        Ok(_) => None,
        Err(e) => {
            let mut m = String::from("stored message: ");
            e.describe(&mut m);
            return Err(StoreError::Read(m));
        }
    };
    match publish {
        Some(p) => Ok(Message {
            topic: p.topic,
            payload: p.payload,
            qos: p.qos,
            retain: p.retain,
            properties: p.properties,
        }),
        None => Err(StoreError::Read("stored message is not one PUBLISH".into())),
    }
}

/// First byte of a record: the layout of what follows (a later layout gets
/// a new number, and records of this one stay readable).
const RECORD_FORMAT: u8 = 1;

/// Bytes before the PUBLISH in a record: format, state, packet id (2),
/// attempts (4), creation time (8), big-endian.
const HEAD_LEN: usize = 16;

/// The handshake state of a stored message, as a record holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHead {
    /// Handshake state.
    pub state: MessageState,
    /// Packet id (0 while queued).
    pub packet_id: u16,
    /// Times the PUBLISH was written to a connection.
    pub attempts: u32,
    /// Time of acceptance (0 in a record that holds only a state).
    pub created_ms: u64,
}

impl RecordHead {
    /// Message `seq` with this state.
    pub fn stored(self, seq: u64, message: Message) -> StoredMessage {
        StoredMessage {
            seq,
            message,
            packet_id: self.packet_id,
            state: self.state,
            attempts: self.attempts,
            created_ms: self.created_ms,
        }
    }
}

/// The record of a new stored message (its state and the message).
pub fn message_record(m: &StoredMessage) -> Result<Vec<u8>, StoreError> {
    let head = RecordHead {
        state: m.state,
        packet_id: m.packet_id,
        attempts: m.attempts,
        created_ms: m.created_ms,
    };
    encode_record(&head, Some(&m.message))
}

/// The record of a later state of a stored message (head only).
pub fn state_record(
    state: MessageState,
    packet_id: u16,
    attempts: u32,
) -> Result<Vec<u8>, StoreError> {
    let head = RecordHead {
        state,
        packet_id,
        attempts,
        created_ms: 0,
    };
    encode_record(&head, None)
}

/// A record: `head`, then `message` as an MQTT 5 PUBLISH if given (a
/// record with no message holds a later state of a stored one).
pub fn encode_record(head: &RecordHead, message: Option<&Message>) -> Result<Vec<u8>, StoreError> {
    let extra = message.map_or(0, |m| m.payload.len() + m.topic.len() + 16);
    let mut out = Vec::with_capacity(HEAD_LEN + extra);
    out.push(RECORD_FORMAT);
    out.push(state_code(head.state));
    out.extend_from_slice(&head.packet_id.to_be_bytes());
    out.extend_from_slice(&head.attempts.to_be_bytes());
    out.extend_from_slice(&head.created_ms.to_be_bytes());
    if let Some(m) = message {
        encode_message_into(m, &mut out)?;
    }
    Ok(out)
}

/// The head of a record written by [`encode_record`] and the PUBLISH bytes
/// after it (empty in a state record).
pub fn decode_record(bytes: &[u8]) -> Result<(RecordHead, &[u8]), StoreError> {
    let (head, rest) = match bytes.split_first_chunk::<HEAD_LEN>() {
        Some((head, rest)) if head[0] == RECORD_FORMAT => (head, rest),
        _ => {
            return Err(StoreError::Read(
                "stored record has an unknown layout".into(),
            ))
        }
    };
    let field =
        |from: usize, to: usize| head[from..to].iter().fold(0u64, |n, b| n << 8 | *b as u64);
    let head = RecordHead {
        state: state_from_code(head[1]),
        packet_id: field(2, 4) as u16,
        attempts: field(4, 8) as u32,
        created_ms: field(8, 16),
    };
    Ok((head, rest))
}

/// First byte of a chunk: several records, each as seq (8 bytes), length
/// (4 bytes), record.
const CHUNK_FORMAT: u8 = 2;

/// `records` (seq, [`encode_record`] bytes) as one chunk.
pub fn encode_chunk<'a>(records: impl Iterator<Item = (u64, &'a [u8])>) -> Vec<u8> {
    let mut out = vec![CHUNK_FORMAT];
    for (seq, record) in records {
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&(record.len() as u32).to_be_bytes());
        out.extend_from_slice(record);
    }
    out
}

/// The (seq, record) pairs of a chunk written by [`encode_chunk`].
pub fn decode_chunk(bytes: &[u8]) -> Result<Vec<(u64, &[u8])>, StoreError> {
    let bad = || StoreError::Read("stored chunk is damaged".into());
    let mut rest = match bytes.split_first() {
        Some((&CHUNK_FORMAT, rest)) => rest,
        _ => return Err(bad()),
    };
    let mut out = Vec::new();
    while let Some((seq, after)) = rest.split_first_chunk::<8>() {
        let (len, after) = after.split_first_chunk::<4>().ok_or_else(bad)?;
        let len = u32::from_be_bytes(*len) as usize;
        if after.len() < len {
            return Err(bad());
        }
        out.push((u64::from_be_bytes(*seq), &after[..len]));
        rest = &after[len..];
    }
    if !rest.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

/// The state as a small integer.
pub fn state_code(s: MessageState) -> u8 {
    match s {
        MessageState::Queued => 0,
        MessageState::Sent => 1,
        MessageState::Received => 2,
        MessageState::Released => 3,
    }
}

/// The state from [`state_code`]; unknown codes read as `Queued` (send again).
pub fn state_from_code(code: u8) -> MessageState {
    match code {
        1 => MessageState::Sent,
        2 => MessageState::Received,
        3 => MessageState::Released,
        _ => MessageState::Queued,
    }
}

/// The name of a message state as the outbox shows it.
pub fn state_name(s: MessageState) -> &'static str {
    match s {
        MessageState::Queued => "queued",
        MessageState::Sent => "sent",
        MessageState::Received => "received",
        MessageState::Released => "released",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Properties, PropertyValues};

    #[test]
    fn messages_round_trip_through_their_stored_bytes() {
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let m = Message {
                topic: "a/b".into(),
                payload: vec![0, 1, 2, 255],
                qos,
                retain: true,
                properties: Properties::from(PropertyValues {
                    content_type: Some("text/plain".into()),
                    user_properties: vec![("k".into(), "v".into())],
                    ..PropertyValues::default()
                }),
            };
            let bytes = encode_message(&m).unwrap_or_default();
            assert_eq!(decode_message(&bytes), Ok(m));
        }
        assert!(decode_message(&[0x30]).is_err());
        assert!(decode_message(&[]).is_err());
        // A whole packet, but not a PUBLISH (a PUBACK).
        assert_eq!(
            decode_message(&[0x40, 0x02, 0x00, 0x01]),
            Err(StoreError::Read("stored message is not one PUBLISH".into()))
        );
    }

    #[test]
    fn records_round_trip() {
        let m = Message {
            topic: "t".into(),
            payload: vec![1, 2, 3],
            qos: QoS::ExactlyOnce,
            retain: false,
            properties: Properties::default(),
        };
        let head = RecordHead {
            state: MessageState::Released,
            packet_id: 0xfeed,
            attempts: 70_000,
            created_ms: 1_700_000_000_123,
        };
        let bytes = encode_record(&head, Some(&m)).unwrap_or_default();
        let (h, rest) = decode_record(&bytes).unwrap_or((head, &[]));
        assert_eq!(h, head);
        assert_eq!(decode_message(rest), Ok(m));
        let bytes = encode_record(&head, None).unwrap_or_default();
        assert_eq!(decode_record(&bytes), Ok((head, &[][..])));
        assert!(decode_record(&bytes[..15]).is_err());
        assert!(decode_record(&[9; 20]).is_err());
    }

    #[test]
    fn chunks_round_trip() {
        let records: Vec<(u64, &[u8])> = vec![(7, &[1, 2, 3]), (9, &[]), (1 << 40, &[4])];
        let bytes = encode_chunk(records.iter().copied());
        assert_eq!(decode_chunk(&bytes), Ok(records));
        assert_eq!(decode_chunk(&[2]), Ok(vec![]));
        assert!(decode_chunk(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode_chunk(&bytes[..5]).is_err());
        assert!(decode_chunk(&[1, 0]).is_err());
    }

    #[test]
    fn state_codes_round_trip() {
        for s in [
            MessageState::Queued,
            MessageState::Sent,
            MessageState::Received,
            MessageState::Released,
        ] {
            assert_eq!(state_from_code(state_code(s)), s);
        }
        assert_eq!(state_from_code(9), MessageState::Queued);
    }
}
