//! How a stored message is written: its MQTT 5 PUBLISH encoding (topic,
//! payload, QoS, retain, properties in one compact byte string the codec
//! already validates) plus its handshake state as small integers.

use crate::codec::{decode, encode, Packet, ProtocolVersion, Publish, QoS, MAX_PACKET_SIZE};
use crate::session::{Message, MessageState};

use super::StoreError;

/// The message as bytes (an MQTT 5 PUBLISH).
pub fn encode_message(m: &Message) -> Result<Vec<u8>, StoreError> {
    let packet = Packet::Publish(Publish {
        dup: false,
        qos: m.qos,
        retain: m.retain,
        topic: m.topic.clone(),
        packet_id: if m.qos == QoS::AtMostOnce { 0 } else { 1 },
        payload: m.payload.clone(),
        properties: m.properties.clone(),
    });
    let mut out = Vec::with_capacity(m.payload.len() + m.topic.len() + 16);
    encode(&packet, ProtocolVersion::V5, &mut out).map_err(|e| StoreError::Write(e.to_string()))?;
    Ok(out)
}

/// The message from bytes written by [`encode_message`].
pub fn decode_message(bytes: &[u8]) -> Result<Message, StoreError> {
    match decode(bytes, ProtocolVersion::V5, MAX_PACKET_SIZE as usize) {
        Ok(Some((Packet::Publish(p), used))) if used == bytes.len() => Ok(Message {
            topic: p.topic,
            payload: p.payload,
            qos: p.qos,
            retain: p.retain,
            properties: p.properties,
        }),
        Ok(_) => Err(StoreError::Read("stored message is not one PUBLISH".into())),
        Err(e) => Err(StoreError::Read(format!("stored message: {e}"))),
    }
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
