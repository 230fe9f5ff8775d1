//! Packet bodies (variable header and payload) of MQTT 3.1.1 §3 and MQTT 5.0
//! §3, read strictly: every field is bounds-checked, every rule the
//! specification states for a receiver is enforced with its own error, and
//! the body must be consumed exactly.

use super::decode::Slots;
use super::error::DecodeError;
use super::packet::{
    Auth, ConnAck, Connect, Disconnect, Packet, PacketType, ProtocolVersion, PubResp, Publish, QoS,
    RetainHandling, SubAck, Subscribe, Subscription, SubscriptionOptions, UnsubAck, Unsubscribe,
    Will,
};
use super::prop_codec::{self, PropContext};
use super::properties::Properties;
use super::reason;
use super::topic::{validate_topic_filter, validate_topic_name, TopicError};
use super::wire::Reader;

/// Decodes the body of a packet whose fixed header was already checked.
/// `minimal_header` tells whether the remaining length was in its shortest
/// form, which MQTT 5 CONNECT requires. A `CLIENT` refuses the packets only
/// clients send, unread.
#[inline]
pub(crate) fn body<const CLIENT: bool>(
    kind: PacketType,
    flags: u8,
    body: &[u8],
    version: ProtocolVersion,
    minimal_header: bool,
    slots: &mut Slots,
) -> Result<(), DecodeError> {
    // PUBLISH, the packet that comes by the thousand, is decoded inline
    // (in the session's receive loop) and in place, into the last spare
    // (a Decoder keeps one): `publish` reads the body to its end.
    if kind == PacketType::Publish {
        let mut r = Reader::new(body);
        // No spare (`decode`): a new message, for the packet slot.
        let mut new = None;
        let p = match slots.spares.last_mut() {
            Some(p) => p,
            None => new.insert(Publish::spare(
                String::new(),
                Vec::new(),
                Properties::default(),
            )),
        };
        if let Err(e) = publish(&mut r, flags, version == ProtocolVersion::V5, p) {
            if new.is_none() {
                // Its properties may be half decoded: not a spare any more.
                slots.spares.pop();
            }
            return Err(e);
        }
        if let Some(p) = new {
            slots.packet = Some(Packet::Publish(p));
        }
        return Ok(());
    }
    slots.packet = Some(other_body::<CLIENT>(kind, body, version, minimal_header)?);
    Ok(())
}

/// [`body`] of every packet but PUBLISH.
#[inline(never)]
fn other_body<const CLIENT: bool>(
    kind: PacketType,
    body: &[u8],
    version: ProtocolVersion,
    minimal_header: bool,
) -> Result<Packet, DecodeError> {
    // Checked first, so a client's instance has no parser for them.
    if CLIENT
        && matches!(
            kind,
            PacketType::Connect
                | PacketType::Subscribe
                | PacketType::Unsubscribe
                | PacketType::PingReq
        )
    {
        return Err(DecodeError::UnexpectedPacket(kind));
    }
    let v5 = version == ProtocolVersion::V5;
    let mut r = Reader::new(body);
    let packet = match kind {
        // Decoded by `body`, which never passes one here.
        PacketType::Publish => return Err(DecodeError::InvalidPacketType(3)),
        PacketType::PubAck => Packet::PubAck(pub_resp(&mut r, kind, v5)?),
        PacketType::PubRec => Packet::PubRec(pub_resp(&mut r, kind, v5)?),
        PacketType::PubRel => Packet::PubRel(pub_resp(&mut r, kind, v5)?),
        PacketType::PubComp => Packet::PubComp(pub_resp(&mut r, kind, v5)?),
        PacketType::Connect => Packet::Connect(Box::new(connect(&mut r, minimal_header)?)),
        PacketType::ConnAck => Packet::ConnAck(connack(&mut r, v5)?),
        PacketType::Subscribe => Packet::Subscribe(subscribe(&mut r, v5)?),
        PacketType::SubAck => Packet::SubAck(suback(&mut r, v5)?),
        PacketType::Unsubscribe => Packet::Unsubscribe(unsubscribe(&mut r, v5)?),
        PacketType::UnsubAck => Packet::UnsubAck(unsuback(&mut r, v5)?),
        PacketType::PingReq => Packet::PingReq,
        PacketType::PingResp => Packet::PingResp,
        PacketType::Disconnect => Packet::Disconnect(disconnect(&mut r, v5)?),
        PacketType::Auth => Packet::Auth(auth(&mut r)?),
    };
    r.finish()?;
    Ok(packet)
}

fn packet_id(r: &mut Reader<'_>) -> Result<u16, DecodeError> {
    match r.u16()? {
        0 => Err(DecodeError::ZeroPacketId),
        id => Ok(id),
    }
}

/// Reads a property block into a fresh `Properties` under MQTT 5; empty
/// under 3.1.1.
fn read_properties(
    r: &mut Reader<'_>,
    ctx: PropContext,
    v5: bool,
) -> Result<Properties, DecodeError> {
    let mut props = Properties::default();
    if v5 {
        prop_codec::decode(r, ctx, &mut props)?;
    }
    Ok(props)
}

fn reason_code(r: &mut Reader<'_>, kind: PacketType) -> Result<u8, DecodeError> {
    let code = r.u8()?;
    if reason::is_allowed_v5(kind, code) {
        Ok(code)
    } else {
        Err(DecodeError::InvalidReasonCode(code))
    }
}

/// MQTT 5.0 §3.1, MQTT 3.1.1 §3.1.
fn connect(r: &mut Reader<'_>, minimal_header: bool) -> Result<Connect, DecodeError> {
    if r.binary()? != b"MQTT" {
        return Err(DecodeError::InvalidProtocolName);
    }
    let level = r.u8()?;
    let protocol =
        ProtocolVersion::from_level(level).ok_or(DecodeError::UnsupportedProtocolLevel(level))?;
    let v5 = protocol == ProtocolVersion::V5;
    if v5 && !minimal_header {
        return Err(DecodeError::NonMinimalVarInt);
    }
    let flags = r.u8()?;
    let has_will = flags & 0x04 != 0;
    let will_qos = (flags >> 3) & 0b11;
    let will_retain = flags & 0x20 != 0;
    let has_password = flags & 0x40 != 0;
    let has_username = flags & 0x80 != 0;
    // [MQTT-3.1.2-3] reserved bit; [MQTT-3.1.2-11/13/15] will fields without
    // a will; [MQTT-3.1.2-22] (3.1.1 only) password without user name.
    if flags & 0x01 != 0
        || (!has_will && (will_qos != 0 || will_retain))
        || (!v5 && has_password && !has_username)
    {
        return Err(DecodeError::InvalidConnectFlags);
    }
    let will_qos = QoS::from_u8(will_qos).ok_or(DecodeError::InvalidQoS)?;
    let keep_alive = r.u16()?;
    let properties = read_properties(r, PropContext::Connect, v5)?;
    let client_id = r.string()?;
    let will = if has_will {
        let properties = read_properties(r, PropContext::Will, v5)?;
        let topic = r.str()?;
        validate_topic_name(topic).map_err(DecodeError::InvalidTopic)?;
        Some(Will {
            topic: topic.to_owned(),
            payload: r.binary()?.to_vec(),
            qos: will_qos,
            retain: will_retain,
            properties,
        })
    } else {
        None
    };
    let username = if has_username {
        Some(r.string()?)
    } else {
        None
    };
    let password = if has_password {
        Some(r.binary()?.to_vec())
    } else {
        None
    };
    Ok(Connect {
        protocol,
        clean_start: flags & 0x02 != 0,
        keep_alive,
        client_id,
        will,
        username,
        password,
        properties,
    })
}

/// MQTT 5.0 §3.2, MQTT 3.1.1 §3.2.
fn connack(r: &mut Reader<'_>, v5: bool) -> Result<ConnAck, DecodeError> {
    let ack_flags = r.u8()?;
    if ack_flags & 0xFE != 0 {
        return Err(DecodeError::InvalidConnAckFlags);
    }
    let session_present = ack_flags & 0x01 != 0;
    let code = r.u8()?;
    let allowed = if v5 {
        reason::is_allowed_v5(PacketType::ConnAck, code)
    } else {
        reason::is_allowed_v311(PacketType::ConnAck, code)
    };
    if !allowed {
        return Err(DecodeError::InvalidReasonCode(code));
    }
    // [MQTT-3.2.2-4] (3.1.1), [MQTT-3.2.2-6] (5.0): a refusal has no session.
    if session_present && code != 0 {
        return Err(DecodeError::InvalidConnAckFlags);
    }
    Ok(ConnAck {
        session_present,
        reason_code: code,
        properties: read_properties(r, PropContext::ConnAck, v5)?,
    })
}

/// MQTT 5.0 §3.3, MQTT 3.1.1 §3.3, into `p` (whose properties are empty),
/// reusing its allocations. The fixed header flags were checked.
#[inline]
fn publish(r: &mut Reader<'_>, flags: u8, v5: bool, p: &mut Publish) -> Result<(), DecodeError> {
    let qos = QoS::from_u8((flags >> 1) & 0b11).ok_or(DecodeError::InvalidQoS)?;
    let (topic, wildcard) = r.str_scanned()?;
    if wildcard {
        return Err(DecodeError::InvalidTopic(TopicError::WildcardInName));
    }
    let packet_id = if qos == QoS::AtMostOnce {
        0
    } else {
        packet_id(r)?
    };
    if v5 {
        prop_codec::decode(r, PropContext::Publish, &mut p.properties)?;
    }
    // MQTT 5 allows an empty topic when a topic alias stands for it.
    if topic.is_empty() && p.properties.topic_alias.is_none() {
        return Err(DecodeError::InvalidTopic(TopicError::Empty));
    }
    p.topic.clear();
    p.topic.push_str(topic);
    p.payload.clear();
    p.payload.extend_from_slice(r.rest());
    p.dup = flags & 0b1000 != 0;
    p.qos = qos;
    p.retain = flags & 0b0001 != 0;
    p.packet_id = packet_id;
    Ok(())
}

/// PUBACK, PUBREC, PUBREL, PUBCOMP: MQTT 5.0 §3.4-3.7, MQTT 3.1.1 §3.4-3.7.
/// In MQTT 5 a remaining length of 2 means reason 0, of 3 no properties.
fn pub_resp(r: &mut Reader<'_>, kind: PacketType, v5: bool) -> Result<PubResp, DecodeError> {
    let mut resp = PubResp {
        packet_id: packet_id(r)?,
        ..PubResp::default()
    };
    if v5 && !r.is_empty() {
        resp.reason_code = reason_code(r, kind)?;
        if !r.is_empty() {
            prop_codec::decode(r, PropContext::PubResp(kind), &mut resp.properties)?;
        }
    }
    Ok(resp)
}

/// Subscription options byte: MQTT 5.0 §3.8.3.1, MQTT 3.1.1 §3.8.3.
fn subscription_options(
    byte: u8,
    filter: &str,
    v5: bool,
) -> Result<SubscriptionOptions, DecodeError> {
    let reserved = if v5 { 0xC0 } else { 0xFC };
    if byte & reserved != 0 {
        return Err(DecodeError::InvalidSubscriptionOptions);
    }
    let qos = QoS::from_u8(byte & 0b11).ok_or(DecodeError::InvalidQoS)?;
    let no_local = byte & 0x04 != 0;
    let retain_handling = match (byte >> 4) & 0b11 {
        0 => RetainHandling::SendAtSubscribe,
        1 => RetainHandling::SendIfNew,
        2 => RetainHandling::DoNotSend,
        _ => return Err(DecodeError::InvalidSubscriptionOptions),
    };
    // [MQTT-3.8.3-4]: No Local on a shared subscription is a protocol error.
    if no_local && filter.starts_with("$share/") {
        return Err(DecodeError::InvalidSubscriptionOptions);
    }
    Ok(SubscriptionOptions {
        qos,
        no_local,
        retain_as_published: byte & 0x08 != 0,
        retain_handling,
    })
}

/// MQTT 5.0 §3.8, MQTT 3.1.1 §3.8.
fn subscribe(r: &mut Reader<'_>, v5: bool) -> Result<Subscribe, DecodeError> {
    let packet_id = packet_id(r)?;
    let properties = read_properties(r, PropContext::Subscribe, v5)?;
    if r.is_empty() {
        return Err(DecodeError::NoTopicFilters);
    }
    let mut subscriptions = Vec::new();
    while !r.is_empty() {
        let filter = r.str()?;
        validate_topic_filter(filter).map_err(DecodeError::InvalidTopic)?;
        let options = subscription_options(r.u8()?, filter, v5)?;
        subscriptions.push(Subscription {
            filter: filter.to_owned(),
            options,
        });
    }
    Ok(Subscribe {
        packet_id,
        subscriptions,
        properties,
    })
}

/// Reads the reason code list that ends SUBACK / UNSUBACK: at least one,
/// each allowed for `kind` in `v5` or 3.1.1.
fn reason_codes(r: &mut Reader<'_>, kind: PacketType, v5: bool) -> Result<Vec<u8>, DecodeError> {
    let codes = r.rest();
    if codes.is_empty() {
        return Err(DecodeError::Truncated);
    }
    let allowed = if v5 {
        reason::is_allowed_v5
    } else {
        reason::is_allowed_v311
    };
    if let Some(&bad) = codes.iter().find(|&&code| !allowed(kind, code)) {
        return Err(DecodeError::InvalidReasonCode(bad));
    }
    Ok(codes.to_vec())
}

/// MQTT 5.0 §3.9, MQTT 3.1.1 §3.9.
fn suback(r: &mut Reader<'_>, v5: bool) -> Result<SubAck, DecodeError> {
    let packet_id = packet_id(r)?;
    let properties = read_properties(r, PropContext::SubAck, v5)?;
    Ok(SubAck {
        packet_id,
        reason_codes: reason_codes(r, PacketType::SubAck, v5)?,
        properties,
    })
}

/// MQTT 5.0 §3.10, MQTT 3.1.1 §3.10.
fn unsubscribe(r: &mut Reader<'_>, v5: bool) -> Result<Unsubscribe, DecodeError> {
    let packet_id = packet_id(r)?;
    let properties = read_properties(r, PropContext::Unsubscribe, v5)?;
    if r.is_empty() {
        return Err(DecodeError::NoTopicFilters);
    }
    let mut filters = Vec::new();
    while !r.is_empty() {
        let filter = r.str()?;
        validate_topic_filter(filter).map_err(DecodeError::InvalidTopic)?;
        filters.push(filter.to_owned());
    }
    Ok(Unsubscribe {
        packet_id,
        filters,
        properties,
    })
}

/// MQTT 5.0 §3.11, MQTT 3.1.1 §3.11 (no payload in 3.1.1).
fn unsuback(r: &mut Reader<'_>, v5: bool) -> Result<UnsubAck, DecodeError> {
    let packet_id = packet_id(r)?;
    if !v5 {
        return Ok(UnsubAck {
            packet_id,
            reason_codes: Vec::new(),
            properties: Properties::default(),
        });
    }
    let properties = read_properties(r, PropContext::UnsubAck, v5)?;
    Ok(UnsubAck {
        packet_id,
        reason_codes: reason_codes(r, PacketType::UnsubAck, v5)?,
        properties,
    })
}

/// MQTT 5.0 §3.14 (remaining length 0: reason 0; 1: no properties),
/// MQTT 3.1.1 §3.14 (no variable header).
fn disconnect(r: &mut Reader<'_>, v5: bool) -> Result<Disconnect, DecodeError> {
    let mut d = Disconnect::default();
    if v5 && !r.is_empty() {
        d.reason_code = reason_code(r, PacketType::Disconnect)?;
        if !r.is_empty() {
            prop_codec::decode(r, PropContext::Disconnect, &mut d.properties)?;
        }
    }
    Ok(d)
}

/// MQTT 5.0 §3.15: remaining length 0 means reason 0 and no properties;
/// otherwise the reason code and the property length are both present.
fn auth(r: &mut Reader<'_>) -> Result<Auth, DecodeError> {
    let mut a = Auth::default();
    if !r.is_empty() {
        a.reason_code = reason_code(r, PacketType::Auth)?;
        prop_codec::decode(r, PropContext::Auth, &mut a.properties)?;
    }
    Ok(a)
}
