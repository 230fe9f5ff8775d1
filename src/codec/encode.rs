//! Encoding of MQTT packets.
//!
//! Two passes: [`plan`] validates the packet and computes every length (the
//! remaining length and each property block), then [`write_body`] appends
//! the bytes and cannot fail. So on error nothing has been written, and the
//! only allocation is growing `out` once. Topic filters of SUBSCRIBE and
//! UNSUBSCRIBE are validated; PUBLISH and will topic names are only checked
//! for length and U+0000 (an MQTT 5 PUBLISH may have an empty topic with a
//! topic alias; the session validates names).

use super::error::EncodeError;
use super::packet::{
    Auth, ConnAck, Connect, Disconnect, Packet, PacketType, ProtocolVersion, PubResp, Publish, QoS,
    SubAck, Subscribe, SubscriptionOptions, UnsubAck, Unsubscribe,
};
use super::prop_codec::{self, PropContext};
use super::properties::Properties;
use super::topic::validate_topic_filter;
use super::wire::{self, put_bin, put_str, put_u16};
use super::{varint, MAX_VARINT};

/// Appends the wire form of `packet` under `version` to `out` and returns the
/// number of bytes appended. On error nothing is appended (`out` keeps its
/// length). Under 3.1.1 MQTT 5-only fields (properties, reason codes) are left
/// out. Uses the shortest legal forms (e.g. a PUBACK with reason 0 and no
/// properties is 4 bytes in MQTT 5 too). CONNECT is encoded in the version
/// its `protocol` field names.
///
/// Checks before writing anything: packet identifiers, string and binary
/// lengths, U+0000 in strings, at least one filter in SUBSCRIBE /
/// UNSUBSCRIBE and their validity as topic filters, the properties each
/// packet may carry (MQTT 5.0 table 2-4) and their value ranges, DUP only
/// above QoS 0, no 3.1.1 password without user name, no AUTH in 3.1.1.
/// PUBLISH and will topic names are checked only for length and U+0000.
/// Reason codes are written as given.
pub fn encode(
    packet: &Packet,
    version: ProtocolVersion,
    out: &mut Vec<u8>,
) -> Result<usize, EncodeError> {
    let plan = plan(packet, version)?;
    let remaining = u32::try_from(plan.body_len)
        .ok()
        .filter(|&len| len <= MAX_VARINT)
        .ok_or(EncodeError::ValueTooLarge)?;
    let total = 1 + varint::encoded_len(remaining) + plan.body_len;
    out.reserve(total);
    let start = out.len();
    out.push(plan.first_byte);
    varint::write(remaining, out);
    write_body(packet, version, &plan, out);
    debug_assert_eq!(
        out.len() - start,
        total,
        "planned and written lengths differ"
    );
    Ok(total)
}

/// What the first pass learned: everything the writer needs to know in
/// advance.
struct Plan {
    /// Packet type and flags.
    first_byte: u8,
    /// Remaining length.
    body_len: usize,
    /// Content length of the packet's property block (MQTT 5).
    props: usize,
    /// Content length of the will property block (MQTT 5 CONNECT).
    will_props: usize,
    /// How much of an acknowledgement's optional tail is written.
    tail: Tail,
}

/// The optional end of PUBACK-family, DISCONNECT and AUTH packets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// Nothing (reason 0, no properties; or MQTT 3.1.1).
    None,
    /// The reason code only.
    Reason,
    /// Reason code and property block.
    ReasonAndProps,
}

impl Plan {
    fn new(first_byte: u8, body_len: usize) -> Self {
        Plan {
            first_byte,
            body_len,
            props: 0,
            will_props: 0,
            tail: Tail::None,
        }
    }
}

/// Validates `packet` and computes its lengths.
fn plan(packet: &Packet, version: ProtocolVersion) -> Result<Plan, EncodeError> {
    let v5 = version == ProtocolVersion::V5;
    match packet {
        Packet::Connect(c) => plan_connect(c),
        Packet::ConnAck(c) => plan_connack(c, v5),
        Packet::Publish(p) => plan_publish(p, v5),
        Packet::PubAck(r) => plan_pub_resp(r, PacketType::PubAck, v5),
        Packet::PubRec(r) => plan_pub_resp(r, PacketType::PubRec, v5),
        Packet::PubRel(r) => plan_pub_resp(r, PacketType::PubRel, v5),
        Packet::PubComp(r) => plan_pub_resp(r, PacketType::PubComp, v5),
        Packet::Subscribe(s) => plan_subscribe(s, v5),
        Packet::SubAck(s) => plan_suback(s, v5),
        Packet::Unsubscribe(u) => plan_unsubscribe(u, v5),
        Packet::UnsubAck(u) => plan_unsuback(u, v5),
        Packet::PingReq => Ok(Plan::new(0xC0, 0)),
        Packet::PingResp => Ok(Plan::new(0xD0, 0)),
        Packet::Disconnect(d) => plan_disconnect(d, v5),
        Packet::Auth(a) => plan_auth(a, v5),
    }
}

/// Length of a property block in `ctx` under MQTT 5 (content, then whole).
fn props_len(props: &Properties, ctx: PropContext) -> Result<(usize, usize), EncodeError> {
    let content = prop_codec::content_len(props, ctx)?;
    Ok((content, prop_codec::block_len(content)))
}

fn non_zero(packet_id: u16) -> Result<(), EncodeError> {
    if packet_id == 0 {
        Err(EncodeError::ZeroPacketId)
    } else {
        Ok(())
    }
}

fn plan_connect(c: &Connect) -> Result<Plan, EncodeError> {
    let v5 = c.protocol == ProtocolVersion::V5;
    // Protocol name, level, flags, keep alive.
    let mut len = 6 + 1 + 1 + 2;
    let mut plan = Plan::new(0x10, 0);
    if v5 {
        let (content, block) = props_len(&c.properties, PropContext::Connect)?;
        plan.props = content;
        len += block;
    }
    len += wire::str_len(&c.client_id)?;
    if let Some(will) = &c.will {
        if v5 {
            let (content, block) = props_len(&will.properties, PropContext::Will)?;
            plan.will_props = content;
            len += block;
        }
        len += wire::str_len(&will.topic)? + wire::bin_len(&will.payload)?;
    }
    if let Some(username) = &c.username {
        len += wire::str_len(username)?;
    }
    if let Some(password) = &c.password {
        if !v5 && c.username.is_none() {
            return Err(EncodeError::PasswordWithoutUsername);
        }
        len += wire::bin_len(password)?;
    }
    plan.body_len = len;
    Ok(plan)
}

fn plan_connack(c: &ConnAck, v5: bool) -> Result<Plan, EncodeError> {
    let mut plan = Plan::new(0x20, 2);
    if v5 {
        let (content, block) = props_len(&c.properties, PropContext::ConnAck)?;
        plan.props = content;
        plan.body_len += block;
    }
    Ok(plan)
}

fn plan_publish(p: &Publish, v5: bool) -> Result<Plan, EncodeError> {
    let mut first = 0x30 | (p.qos.as_u8() << 1);
    if p.dup {
        if p.qos == QoS::AtMostOnce {
            return Err(EncodeError::DupWithQoS0);
        }
        first |= 0x08;
    }
    if p.retain {
        first |= 0x01;
    }
    let mut len = wire::str_len(&p.topic)? + p.payload.len();
    if p.qos != QoS::AtMostOnce {
        non_zero(p.packet_id)?;
        len += 2;
    }
    let mut plan = Plan::new(first, 0);
    if v5 {
        let (content, block) = props_len(&p.properties, PropContext::Publish)?;
        plan.props = content;
        len += block;
    }
    plan.body_len = len;
    Ok(plan)
}

/// Plans the optional reason code / properties tail shared by the
/// acknowledgements, DISCONNECT and AUTH: the shortest form that keeps
/// everything set. `reason_alone_ok` is false for AUTH, whose property
/// length may only be left out together with the reason code.
fn plan_tail(
    plan: &mut Plan,
    reason_code: u8,
    props: &Properties,
    ctx: PropContext,
    reason_alone_ok: bool,
) -> Result<(), EncodeError> {
    let (content, block) = props_len(props, ctx)?;
    plan.props = content;
    plan.tail = if content == 0 && reason_code == 0 {
        Tail::None
    } else if content == 0 && reason_alone_ok {
        Tail::Reason
    } else {
        Tail::ReasonAndProps
    };
    plan.body_len += match plan.tail {
        Tail::None => 0,
        Tail::Reason => 1,
        Tail::ReasonAndProps => 1 + block,
    };
    Ok(())
}

fn plan_pub_resp(r: &PubResp, kind: PacketType, v5: bool) -> Result<Plan, EncodeError> {
    non_zero(r.packet_id)?;
    let flags = if kind == PacketType::PubRel {
        0x02
    } else {
        0x00
    };
    let mut plan = Plan::new(((kind as u8) << 4) | flags, 2);
    if v5 {
        plan_tail(
            &mut plan,
            r.reason_code,
            &r.properties,
            PropContext::PubResp(kind),
            true,
        )?;
    }
    Ok(plan)
}

fn options_byte(o: &SubscriptionOptions, v5: bool) -> u8 {
    let mut byte = o.qos.as_u8();
    if v5 {
        byte |= u8::from(o.no_local) << 2;
        byte |= u8::from(o.retain_as_published) << 3;
        byte |= (o.retain_handling as u8) << 4;
    }
    byte
}

fn plan_subscribe(s: &Subscribe, v5: bool) -> Result<Plan, EncodeError> {
    non_zero(s.packet_id)?;
    if s.subscriptions.is_empty() {
        return Err(EncodeError::NoTopicFilters);
    }
    let mut plan = Plan::new(0x82, 2);
    if v5 {
        let (content, block) = props_len(&s.properties, PropContext::Subscribe)?;
        plan.props = content;
        plan.body_len += block;
    }
    for sub in &s.subscriptions {
        plan.body_len += wire::str_len(&sub.filter)? + 1;
        validate_topic_filter(&sub.filter).map_err(EncodeError::InvalidTopic)?;
    }
    Ok(plan)
}

fn plan_suback(s: &SubAck, v5: bool) -> Result<Plan, EncodeError> {
    non_zero(s.packet_id)?;
    let mut plan = Plan::new(0x90, 2 + s.reason_codes.len());
    if v5 {
        let (content, block) = props_len(&s.properties, PropContext::SubAck)?;
        plan.props = content;
        plan.body_len += block;
    }
    Ok(plan)
}

fn plan_unsubscribe(u: &Unsubscribe, v5: bool) -> Result<Plan, EncodeError> {
    non_zero(u.packet_id)?;
    if u.filters.is_empty() {
        return Err(EncodeError::NoTopicFilters);
    }
    let mut plan = Plan::new(0xA2, 2);
    if v5 {
        let (content, block) = props_len(&u.properties, PropContext::Unsubscribe)?;
        plan.props = content;
        plan.body_len += block;
    }
    for filter in &u.filters {
        plan.body_len += wire::str_len(filter)?;
        validate_topic_filter(filter).map_err(EncodeError::InvalidTopic)?;
    }
    Ok(plan)
}

fn plan_unsuback(u: &UnsubAck, v5: bool) -> Result<Plan, EncodeError> {
    non_zero(u.packet_id)?;
    let mut plan = Plan::new(0xB0, 2);
    if v5 {
        let (content, block) = props_len(&u.properties, PropContext::UnsubAck)?;
        plan.props = content;
        plan.body_len += block + u.reason_codes.len();
    }
    Ok(plan)
}

fn plan_disconnect(d: &Disconnect, v5: bool) -> Result<Plan, EncodeError> {
    let mut plan = Plan::new(0xE0, 0);
    if v5 {
        plan_tail(
            &mut plan,
            d.reason_code,
            &d.properties,
            PropContext::Disconnect,
            true,
        )?;
    }
    Ok(plan)
}

fn plan_auth(a: &Auth, v5: bool) -> Result<Plan, EncodeError> {
    if !v5 {
        return Err(EncodeError::UnsupportedInVersion(PacketType::Auth));
    }
    let mut plan = Plan::new(0xF0, 0);
    plan_tail(
        &mut plan,
        a.reason_code,
        &a.properties,
        PropContext::Auth,
        false,
    )?;
    Ok(plan)
}

/// Appends the variable header and payload; `plan` was made for the same
/// packet and version, so every length is known and checked.
fn write_body(packet: &Packet, version: ProtocolVersion, plan: &Plan, out: &mut Vec<u8>) {
    let v5 = version == ProtocolVersion::V5;
    match packet {
        Packet::Connect(c) => write_connect(c, plan, out),
        Packet::ConnAck(c) => {
            out.push(u8::from(c.session_present));
            out.push(c.reason_code);
            if v5 {
                prop_codec::write(&c.properties, plan.props, out);
            }
        }
        Packet::Publish(p) => {
            put_str(out, &p.topic);
            if p.qos != QoS::AtMostOnce {
                put_u16(out, p.packet_id);
            }
            if v5 {
                prop_codec::write(&p.properties, plan.props, out);
            }
            out.extend_from_slice(&p.payload);
        }
        Packet::PubAck(r) | Packet::PubRec(r) | Packet::PubRel(r) | Packet::PubComp(r) => {
            put_u16(out, r.packet_id);
            write_tail(r.reason_code, &r.properties, plan, out);
        }
        Packet::Subscribe(s) => {
            put_u16(out, s.packet_id);
            if v5 {
                prop_codec::write(&s.properties, plan.props, out);
            }
            for sub in &s.subscriptions {
                put_str(out, &sub.filter);
                out.push(options_byte(&sub.options, v5));
            }
        }
        Packet::SubAck(s) => {
            put_u16(out, s.packet_id);
            if v5 {
                prop_codec::write(&s.properties, plan.props, out);
            }
            out.extend_from_slice(&s.reason_codes);
        }
        Packet::Unsubscribe(u) => {
            put_u16(out, u.packet_id);
            if v5 {
                prop_codec::write(&u.properties, plan.props, out);
            }
            for filter in &u.filters {
                put_str(out, filter);
            }
        }
        Packet::UnsubAck(u) => {
            put_u16(out, u.packet_id);
            if v5 {
                prop_codec::write(&u.properties, plan.props, out);
                out.extend_from_slice(&u.reason_codes);
            }
        }
        Packet::PingReq | Packet::PingResp => {}
        Packet::Disconnect(d) => write_tail(d.reason_code, &d.properties, plan, out),
        Packet::Auth(a) => write_tail(a.reason_code, &a.properties, plan, out),
    }
}

fn write_tail(reason_code: u8, props: &Properties, plan: &Plan, out: &mut Vec<u8>) {
    match plan.tail {
        Tail::None => {}
        Tail::Reason => out.push(reason_code),
        Tail::ReasonAndProps => {
            out.push(reason_code);
            prop_codec::write(props, plan.props, out);
        }
    }
}

fn write_connect(c: &Connect, plan: &Plan, out: &mut Vec<u8>) {
    let v5 = c.protocol == ProtocolVersion::V5;
    out.extend_from_slice(&[0x00, 0x04, b'M', b'Q', b'T', b'T', c.protocol.level()]);
    let mut flags = 0u8;
    if c.clean_start {
        flags |= 0x02;
    }
    if let Some(will) = &c.will {
        flags |= 0x04 | (will.qos.as_u8() << 3);
        if will.retain {
            flags |= 0x20;
        }
    }
    if c.password.is_some() {
        flags |= 0x40;
    }
    if c.username.is_some() {
        flags |= 0x80;
    }
    out.push(flags);
    put_u16(out, c.keep_alive);
    if v5 {
        prop_codec::write(&c.properties, plan.props, out);
    }
    put_str(out, &c.client_id);
    if let Some(will) = &c.will {
        if v5 {
            prop_codec::write(&will.properties, plan.will_props, out);
        }
        put_str(out, &will.topic);
        put_bin(out, &will.payload);
    }
    if let Some(username) = &c.username {
        put_str(out, username);
    }
    if let Some(password) = &c.password {
        put_bin(out, password);
    }
}
