//! Wire form of MQTT 5 property blocks (MQTT 5.0 §2.2.2): a variable byte
//! integer length, then identifier / value pairs. Which properties a block
//! may hold depends on the packet (MQTT 5.0 table 2-4); that is enforced
//! both when decoding and when encoding, so what this crate encodes it also
//! accepts.

use std::convert::Infallible;

use super::error::{DecodeError, EncodeError};
use super::packet::PacketType;
use super::properties::{bit, id, Properties, PropertyValues};
use super::wire::{self, Reader};
use super::{varint, MAX_VARINT};

/// Where a property block sits; decides which properties it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PropContext {
    /// CONNECT properties.
    Connect,
    /// Will properties in the CONNECT payload.
    Will,
    /// CONNACK properties.
    ConnAck,
    /// PUBLISH properties.
    Publish,
    /// PUBACK, PUBREC, PUBREL or PUBCOMP properties.
    PubResp(PacketType),
    /// SUBSCRIBE properties.
    Subscribe,
    /// SUBACK properties.
    SubAck,
    /// UNSUBSCRIBE properties.
    Unsubscribe,
    /// UNSUBACK properties.
    UnsubAck,
    /// DISCONNECT properties.
    Disconnect,
    /// AUTH properties.
    Auth,
}

const USER: u64 = bit(id::USER_PROPERTY);
const REASON: u64 = bit(id::REASON_STRING);
const MESSAGE: u64 = bit(id::PAYLOAD_FORMAT_INDICATOR)
    | bit(id::MESSAGE_EXPIRY_INTERVAL)
    | bit(id::CONTENT_TYPE)
    | bit(id::RESPONSE_TOPIC)
    | bit(id::CORRELATION_DATA);
const AUTH: u64 = bit(id::AUTHENTICATION_METHOD) | bit(id::AUTHENTICATION_DATA);
const LIMITS: u64 =
    bit(id::RECEIVE_MAXIMUM) | bit(id::TOPIC_ALIAS_MAXIMUM) | bit(id::MAXIMUM_PACKET_SIZE);

const CONNECT: u64 = bit(id::SESSION_EXPIRY_INTERVAL)
    | AUTH
    | bit(id::REQUEST_PROBLEM_INFORMATION)
    | bit(id::REQUEST_RESPONSE_INFORMATION)
    | LIMITS
    | USER;
const WILL: u64 = MESSAGE | bit(id::WILL_DELAY_INTERVAL) | USER;
const CONNACK: u64 = bit(id::SESSION_EXPIRY_INTERVAL)
    | bit(id::ASSIGNED_CLIENT_IDENTIFIER)
    | bit(id::SERVER_KEEP_ALIVE)
    | AUTH
    | bit(id::RESPONSE_INFORMATION)
    | bit(id::SERVER_REFERENCE)
    | REASON
    | LIMITS
    | bit(id::MAXIMUM_QOS)
    | bit(id::RETAIN_AVAILABLE)
    | USER
    | bit(id::WILDCARD_SUBSCRIPTION_AVAILABLE)
    | bit(id::SUBSCRIPTION_IDENTIFIERS_AVAILABLE)
    | bit(id::SHARED_SUBSCRIPTION_AVAILABLE);
const PUBLISH: u64 = MESSAGE | bit(id::SUBSCRIPTION_IDENTIFIER) | bit(id::TOPIC_ALIAS) | USER;
const ACK: u64 = REASON | USER;
const SUBSCRIBE: u64 = bit(id::SUBSCRIPTION_IDENTIFIER) | USER;
const DISCONNECT: u64 =
    bit(id::SESSION_EXPIRY_INTERVAL) | bit(id::SERVER_REFERENCE) | REASON | USER;
const AUTH_PACKET: u64 = AUTH | REASON | USER;
/// Every property identifier MQTT 5 defines.
const KNOWN: u64 = CONNECT | WILL | CONNACK | PUBLISH | DISCONNECT;

impl PropContext {
    /// The packet type reported in errors (CONNECT for will properties).
    fn packet_type(self) -> PacketType {
        match self {
            PropContext::Connect | PropContext::Will => PacketType::Connect,
            PropContext::ConnAck => PacketType::ConnAck,
            PropContext::Publish => PacketType::Publish,
            PropContext::PubResp(t) => t,
            PropContext::Subscribe => PacketType::Subscribe,
            PropContext::SubAck => PacketType::SubAck,
            PropContext::Unsubscribe => PacketType::Unsubscribe,
            PropContext::UnsubAck => PacketType::UnsubAck,
            PropContext::Disconnect => PacketType::Disconnect,
            PropContext::Auth => PacketType::Auth,
        }
    }

    /// Bit `id` is set for every property identifier allowed here.
    fn allowed(self) -> u64 {
        match self {
            PropContext::Connect => CONNECT,
            PropContext::Will => WILL,
            PropContext::ConnAck => CONNACK,
            PropContext::Publish => PUBLISH,
            PropContext::PubResp(_) | PropContext::SubAck | PropContext::UnsubAck => ACK,
            PropContext::Subscribe => SUBSCRIBE,
            PropContext::Unsubscribe => USER,
            PropContext::Disconnect => DISCONNECT,
            PropContext::Auth => AUTH_PACKET,
        }
    }

    /// Bit `id` is set for every property that may appear more than once here.
    fn repeatable(self) -> u64 {
        if self == PropContext::Publish {
            USER | bit(id::SUBSCRIPTION_IDENTIFIER)
        } else {
            USER
        }
    }
}

/// Reads a property block (length prefix included) into `props`, which
/// should start empty. Enforces the allowed set of `ctx`, single occurrence
/// of single-valued properties and the value ranges of the specification.
#[inline]
pub(crate) fn decode(
    r: &mut Reader<'_>,
    ctx: PropContext,
    props: &mut Properties,
) -> Result<(), DecodeError> {
    let len = r.varint(true)?;
    let mut block = r.take(usize::try_from(len).map_err(|_| DecodeError::Truncated)?)?;
    if block.is_empty() {
        return Ok(());
    }
    let (values, touched) = props.for_decoding();
    let allowed = ctx.allowed();
    // Identifiers that may still come: a single-valued property leaves the
    // set once read, so one test per property covers unknown, not allowed
    // and duplicate alike; `rejected` then tells which it was.
    let mut open = allowed;
    let once = allowed & !ctx.repeatable();
    while !block.is_empty() {
        let pid = block.u8()?;
        let mask = bit(pid);
        if open & mask == 0 {
            return Err(rejected(ctx, pid));
        }
        open &= !(mask & once);
        *touched |= mask;
        decode_value(&mut block, pid, values)?;
    }
    Ok(())
}

/// Why property `pid` may not come next in a block in `ctx`: unknown, not
/// allowed there, or already read.
#[cold]
fn rejected(ctx: PropContext, pid: u8) -> DecodeError {
    let mask = bit(pid);
    if KNOWN & mask == 0 {
        DecodeError::UnknownProperty(pid)
    } else if ctx.allowed() & mask == 0 {
        DecodeError::PropertyNotAllowed {
            id: pid,
            packet_type: ctx.packet_type(),
        }
    } else {
        DecodeError::DuplicateProperty(pid)
    }
}

/// Reads the value of property `pid` and stores it. The fixed-size values
/// are read here; the others (which allocate) in [`decode_owned`], kept out
/// of line so the common one-byte or integer properties of a PUBLISH do
/// not pay for their register pressure.
#[inline]
fn decode_value(r: &mut Reader<'_>, pid: u8, p: &mut PropertyValues) -> Result<(), DecodeError> {
    match pid {
        id::PAYLOAD_FORMAT_INDICATOR => p.payload_format_indicator = Some(flag(r, pid)?),
        id::MESSAGE_EXPIRY_INTERVAL => p.message_expiry_interval = Some(r.u32()?),
        id::SESSION_EXPIRY_INTERVAL => p.session_expiry_interval = Some(r.u32()?),
        id::SERVER_KEEP_ALIVE => p.server_keep_alive = Some(r.u16()?),
        id::REQUEST_PROBLEM_INFORMATION => p.request_problem_information = Some(flag(r, pid)?),
        id::WILL_DELAY_INTERVAL => p.will_delay_interval = Some(r.u32()?),
        id::REQUEST_RESPONSE_INFORMATION => p.request_response_information = Some(flag(r, pid)?),
        id::RECEIVE_MAXIMUM => p.receive_maximum = Some(non_zero_u16(r, pid)?),
        id::TOPIC_ALIAS_MAXIMUM => p.topic_alias_maximum = Some(r.u16()?),
        id::TOPIC_ALIAS => p.topic_alias = Some(non_zero_u16(r, pid)?),
        id::MAXIMUM_QOS => p.maximum_qos = Some(flag(r, pid)?),
        id::RETAIN_AVAILABLE => p.retain_available = Some(flag(r, pid)?),
        id::MAXIMUM_PACKET_SIZE => {
            let value = r.u32()?;
            if value == 0 {
                return Err(DecodeError::InvalidPropertyValue(pid));
            }
            p.maximum_packet_size = Some(value);
        }
        id::WILDCARD_SUBSCRIPTION_AVAILABLE => {
            p.wildcard_subscription_available = Some(flag(r, pid)?)
        }
        id::SUBSCRIPTION_IDENTIFIERS_AVAILABLE => {
            p.subscription_identifiers_available = Some(flag(r, pid)?)
        }
        id::SHARED_SUBSCRIPTION_AVAILABLE => p.shared_subscription_available = Some(flag(r, pid)?),
        _ => return decode_owned(r, pid, p),
    }
    Ok(())
}

/// [`decode_value`] for the properties whose values are strings, binary
/// data or repeatable.
#[inline(never)]
fn decode_owned(r: &mut Reader<'_>, pid: u8, p: &mut PropertyValues) -> Result<(), DecodeError> {
    match pid {
        id::CONTENT_TYPE => p.content_type = Some(r.string()?),
        id::RESPONSE_TOPIC => p.response_topic = Some(r.string()?),
        id::CORRELATION_DATA => p.correlation_data = Some(r.binary()?.to_vec()),
        id::SUBSCRIPTION_IDENTIFIER => {
            let value = r.varint(true)?;
            if value == 0 {
                return Err(DecodeError::InvalidPropertyValue(pid));
            }
            p.subscription_identifiers.push(value);
        }
        id::ASSIGNED_CLIENT_IDENTIFIER => p.assigned_client_identifier = Some(r.string()?),
        id::AUTHENTICATION_METHOD => p.authentication_method = Some(r.string()?),
        id::AUTHENTICATION_DATA => p.authentication_data = Some(r.binary()?.to_vec()),
        id::RESPONSE_INFORMATION => p.response_information = Some(r.string()?),
        id::SERVER_REFERENCE => p.server_reference = Some(r.string()?),
        id::REASON_STRING => p.reason_string = Some(r.string()?),
        id::USER_PROPERTY => {
            let key = r.string()?;
            let value = r.string()?;
            p.user_properties.push((key, value));
        }
        _ => return Err(DecodeError::UnknownProperty(pid)),
    }
    Ok(())
}

/// A byte property whose only legal values are 0 and 1.
fn flag(r: &mut Reader<'_>, pid: u8) -> Result<u8, DecodeError> {
    let value = r.u8()?;
    if value > 1 {
        return Err(DecodeError::InvalidPropertyValue(pid));
    }
    Ok(value)
}

/// A two byte integer property that must not be 0.
fn non_zero_u16(r: &mut Reader<'_>, pid: u8) -> Result<u16, DecodeError> {
    let value = r.u16()?;
    if value == 0 {
        return Err(DecodeError::InvalidPropertyValue(pid));
    }
    Ok(value)
}

/// Checks `props` for a block in `ctx` and returns the length of its
/// identifier / value pairs (without the length prefix; 0 when empty).
pub(crate) fn content_len(props: &Properties, ctx: PropContext) -> Result<usize, EncodeError> {
    if props.is_empty() {
        return Ok(0);
    }
    if ctx == PropContext::Subscribe && props.subscription_identifiers.len() > 1 {
        return Err(EncodeError::DuplicateProperty(id::SUBSCRIPTION_IDENTIFIER));
    }
    let mut measure = Measure {
        ctx,
        allowed: ctx.allowed(),
        len: 0,
    };
    visit(props, &mut measure)?;
    if measure.len > MAX_VARINT as usize {
        return Err(EncodeError::ValueTooLarge);
    }
    Ok(measure.len)
}

/// Size of a whole property block whose content is `content_len` bytes.
pub(crate) fn block_len(content_len: usize) -> usize {
    varint::encoded_len(u32::try_from(content_len).unwrap_or(u32::MAX)) + content_len
}

/// Appends a property block; `content_len` comes from [`content_len`] for
/// the same properties, which also validated them.
pub(crate) fn write(props: &Properties, content_len: usize, out: &mut Vec<u8>) {
    varint::write(u32::try_from(content_len).unwrap_or(MAX_VARINT), out);
    if content_len > 0 {
        match visit(props, &mut Write { out }) {
            Ok(()) => {}
            Err(never) => match never {},
        }
    }
}

/// `props` as a whole block (length prefix included) for `ctx`; empty when
/// there are none or they do not fit `ctx`. The JavaScript layer hands
/// received properties to JS this way (support.js builds the objects).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by src/js
pub(crate) fn to_block(props: &Properties, ctx: PropContext) -> Vec<u8> {
    let mut out = Vec::new();
    if let Ok(len @ 1..) = content_len(props, ctx) {
        write(props, len, &mut out);
    }
    out
}

/// The properties of a whole block (length prefix included) for `ctx`;
/// an empty `block` holds none. The JavaScript layer gets the application's
/// properties this way (support.js encodes the objects).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by src/js
pub(crate) fn from_block(block: &[u8], ctx: PropContext) -> Result<Properties, DecodeError> {
    let mut props = Properties::default();
    if !block.is_empty() {
        decode(&mut Reader::new(block), ctx, &mut props)?;
    }
    Ok(props)
}

/// One callback per property value kind; [`visit`] calls them in
/// identifier order for every property that is set.
trait Visitor {
    type Error;
    fn byte(&mut self, id: u8, value: u8) -> Result<(), Self::Error>;
    fn two(&mut self, id: u8, value: u16) -> Result<(), Self::Error>;
    fn four(&mut self, id: u8, value: u32) -> Result<(), Self::Error>;
    fn varint(&mut self, id: u8, value: u32) -> Result<(), Self::Error>;
    fn string(&mut self, id: u8, value: &str) -> Result<(), Self::Error>;
    fn binary(&mut self, id: u8, value: &[u8]) -> Result<(), Self::Error>;
    fn pair(&mut self, id: u8, key: &str, value: &str) -> Result<(), Self::Error>;
}

/// Walks every set property in identifier order: the single source of the
/// encoding order, shared by measuring and writing.
fn visit<V: Visitor>(p: &PropertyValues, v: &mut V) -> Result<(), V::Error> {
    if let Some(x) = p.payload_format_indicator {
        v.byte(id::PAYLOAD_FORMAT_INDICATOR, x)?;
    }
    if let Some(x) = p.message_expiry_interval {
        v.four(id::MESSAGE_EXPIRY_INTERVAL, x)?;
    }
    if let Some(x) = &p.content_type {
        v.string(id::CONTENT_TYPE, x)?;
    }
    if let Some(x) = &p.response_topic {
        v.string(id::RESPONSE_TOPIC, x)?;
    }
    if let Some(x) = &p.correlation_data {
        v.binary(id::CORRELATION_DATA, x)?;
    }
    for &x in &p.subscription_identifiers {
        v.varint(id::SUBSCRIPTION_IDENTIFIER, x)?;
    }
    if let Some(x) = p.session_expiry_interval {
        v.four(id::SESSION_EXPIRY_INTERVAL, x)?;
    }
    if let Some(x) = &p.assigned_client_identifier {
        v.string(id::ASSIGNED_CLIENT_IDENTIFIER, x)?;
    }
    if let Some(x) = p.server_keep_alive {
        v.two(id::SERVER_KEEP_ALIVE, x)?;
    }
    if let Some(x) = &p.authentication_method {
        v.string(id::AUTHENTICATION_METHOD, x)?;
    }
    if let Some(x) = &p.authentication_data {
        v.binary(id::AUTHENTICATION_DATA, x)?;
    }
    if let Some(x) = p.request_problem_information {
        v.byte(id::REQUEST_PROBLEM_INFORMATION, x)?;
    }
    if let Some(x) = p.will_delay_interval {
        v.four(id::WILL_DELAY_INTERVAL, x)?;
    }
    if let Some(x) = p.request_response_information {
        v.byte(id::REQUEST_RESPONSE_INFORMATION, x)?;
    }
    if let Some(x) = &p.response_information {
        v.string(id::RESPONSE_INFORMATION, x)?;
    }
    if let Some(x) = &p.server_reference {
        v.string(id::SERVER_REFERENCE, x)?;
    }
    if let Some(x) = &p.reason_string {
        v.string(id::REASON_STRING, x)?;
    }
    if let Some(x) = p.receive_maximum {
        v.two(id::RECEIVE_MAXIMUM, x)?;
    }
    if let Some(x) = p.topic_alias_maximum {
        v.two(id::TOPIC_ALIAS_MAXIMUM, x)?;
    }
    if let Some(x) = p.topic_alias {
        v.two(id::TOPIC_ALIAS, x)?;
    }
    if let Some(x) = p.maximum_qos {
        v.byte(id::MAXIMUM_QOS, x)?;
    }
    if let Some(x) = p.retain_available {
        v.byte(id::RETAIN_AVAILABLE, x)?;
    }
    for (key, value) in &p.user_properties {
        v.pair(id::USER_PROPERTY, key, value)?;
    }
    if let Some(x) = p.maximum_packet_size {
        v.four(id::MAXIMUM_PACKET_SIZE, x)?;
    }
    if let Some(x) = p.wildcard_subscription_available {
        v.byte(id::WILDCARD_SUBSCRIPTION_AVAILABLE, x)?;
    }
    if let Some(x) = p.subscription_identifiers_available {
        v.byte(id::SUBSCRIPTION_IDENTIFIERS_AVAILABLE, x)?;
    }
    if let Some(x) = p.shared_subscription_available {
        v.byte(id::SHARED_SUBSCRIPTION_AVAILABLE, x)?;
    }
    Ok(())
}

/// Validates each property for its block and adds up the encoded length.
struct Measure {
    ctx: PropContext,
    allowed: u64,
    len: usize,
}

impl Measure {
    fn check(&self, pid: u8) -> Result<(), EncodeError> {
        if self.allowed & bit(pid) == 0 {
            return Err(EncodeError::PropertyNotAllowed {
                id: pid,
                packet_type: self.ctx.packet_type(),
            });
        }
        Ok(())
    }
}

impl Visitor for Measure {
    type Error = EncodeError;

    fn byte(&mut self, pid: u8, value: u8) -> Result<(), EncodeError> {
        self.check(pid)?;
        // Every byte property of MQTT 5 is 0 or 1 (maximum QoS included).
        if value > 1 {
            return Err(EncodeError::InvalidPropertyValue(pid));
        }
        self.len += 2;
        Ok(())
    }

    fn two(&mut self, pid: u8, value: u16) -> Result<(), EncodeError> {
        self.check(pid)?;
        if value == 0 && (pid == id::RECEIVE_MAXIMUM || pid == id::TOPIC_ALIAS) {
            return Err(EncodeError::InvalidPropertyValue(pid));
        }
        self.len += 3;
        Ok(())
    }

    fn four(&mut self, pid: u8, value: u32) -> Result<(), EncodeError> {
        self.check(pid)?;
        if value == 0 && pid == id::MAXIMUM_PACKET_SIZE {
            return Err(EncodeError::InvalidPropertyValue(pid));
        }
        self.len += 5;
        Ok(())
    }

    fn varint(&mut self, pid: u8, value: u32) -> Result<(), EncodeError> {
        self.check(pid)?;
        if value == 0 {
            return Err(EncodeError::InvalidPropertyValue(pid));
        }
        if value > MAX_VARINT {
            return Err(EncodeError::ValueTooLarge);
        }
        self.len += 1 + varint::encoded_len(value);
        Ok(())
    }

    fn string(&mut self, pid: u8, value: &str) -> Result<(), EncodeError> {
        self.check(pid)?;
        self.len += 1 + wire::str_len(value)?;
        Ok(())
    }

    fn binary(&mut self, pid: u8, value: &[u8]) -> Result<(), EncodeError> {
        self.check(pid)?;
        self.len += 1 + wire::bin_len(value)?;
        Ok(())
    }

    fn pair(&mut self, pid: u8, key: &str, value: &str) -> Result<(), EncodeError> {
        self.check(pid)?;
        self.len += 1 + wire::str_len(key)? + wire::str_len(value)?;
        Ok(())
    }
}

/// Appends each property; never fails (validation happened in [`Measure`]).
struct Write<'a> {
    out: &'a mut Vec<u8>,
}

impl Visitor for Write<'_> {
    type Error = Infallible;

    fn byte(&mut self, pid: u8, value: u8) -> Result<(), Infallible> {
        self.out.extend_from_slice(&[pid, value]);
        Ok(())
    }

    fn two(&mut self, pid: u8, value: u16) -> Result<(), Infallible> {
        self.out.push(pid);
        wire::put_u16(self.out, value);
        Ok(())
    }

    fn four(&mut self, pid: u8, value: u32) -> Result<(), Infallible> {
        self.out.push(pid);
        wire::put_u32(self.out, value);
        Ok(())
    }

    fn varint(&mut self, pid: u8, value: u32) -> Result<(), Infallible> {
        self.out.push(pid);
        varint::write(value, self.out);
        Ok(())
    }

    fn string(&mut self, pid: u8, value: &str) -> Result<(), Infallible> {
        self.out.push(pid);
        wire::put_str(self.out, value);
        Ok(())
    }

    fn binary(&mut self, pid: u8, value: &[u8]) -> Result<(), Infallible> {
        self.out.push(pid);
        wire::put_bin(self.out, value);
        Ok(())
    }

    fn pair(&mut self, pid: u8, key: &str, value: &str) -> Result<(), Infallible> {
        self.out.push(pid);
        wire::put_str(self.out, key);
        wire::put_str(self.out, value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid value of property `pid`, as it follows the identifier.
    fn value_of(pid: u8) -> &'static [u8] {
        match pid {
            id::MESSAGE_EXPIRY_INTERVAL
            | id::SESSION_EXPIRY_INTERVAL
            | id::WILL_DELAY_INTERVAL
            | id::MAXIMUM_PACKET_SIZE => &[0, 0, 0, 9],
            id::SERVER_KEEP_ALIVE
            | id::RECEIVE_MAXIMUM
            | id::TOPIC_ALIAS_MAXIMUM
            | id::TOPIC_ALIAS => &[0, 9],
            id::CONTENT_TYPE
            | id::RESPONSE_TOPIC
            | id::CORRELATION_DATA
            | id::ASSIGNED_CLIENT_IDENTIFIER
            | id::AUTHENTICATION_METHOD
            | id::AUTHENTICATION_DATA
            | id::RESPONSE_INFORMATION
            | id::SERVER_REFERENCE
            | id::REASON_STRING => &[0, 1, b'x'],
            id::SUBSCRIPTION_IDENTIFIER => &[9],
            id::USER_PROPERTY => &[0, 1, b'k', 0, 1, b'v'],
            // The byte properties.
            _ => &[1],
        }
    }

    /// Identifier / value pairs of a property block.
    type Pairs<'a> = &'a [(u8, &'a [u8])];

    /// Decodes a block holding `pairs` into `props`.
    fn decode_block(
        ctx: PropContext,
        pairs: Pairs<'_>,
        props: &mut Properties,
    ) -> Result<(), DecodeError> {
        let mut content = Vec::new();
        for (pid, value) in pairs {
            content.push(*pid);
            content.extend_from_slice(value);
        }
        let mut bytes = Vec::new();
        varint::write(u32::try_from(content.len()).unwrap_or(0), &mut bytes);
        bytes.extend_from_slice(&content);
        let mut r = Reader::new(&bytes);
        decode(&mut r, ctx, props)?;
        r.finish()
    }

    const CONTEXTS: [PropContext; 5] = [
        PropContext::Connect,
        PropContext::Will,
        PropContext::ConnAck,
        PropContext::Publish,
        PropContext::Disconnect,
    ];

    /// A recycled set is cleared by resetting only what the decoder wrote:
    /// for every property, decoding it and clearing leaves nothing behind,
    /// and the allocation is kept.
    #[test]
    fn every_decoded_property_is_cleared_for_reuse() {
        for pid in (0..64).filter(|&pid| KNOWN & bit(pid) != 0) {
            let ctx = CONTEXTS
                .into_iter()
                .find(|c| c.allowed() & bit(pid) != 0)
                .unwrap_or(PropContext::ConnAck);
            let mut props = Properties::default();
            // Twice over one allocation: the second decode starts from the
            // cleared set.
            for round in 0..2 {
                decode_block(ctx, &[(pid, value_of(pid))], &mut props)
                    .unwrap_or_else(|e| panic!("property {pid:#04x}: {e:?}"));
                assert!(!props.is_empty(), "property {pid:#04x} round {round}");
                let values: *const PropertyValues = &*props;
                props = props.cleared();
                assert!(props.is_empty(), "property {pid:#04x} round {round}");
                assert_eq!(*props, PropertyValues::EMPTY, "property {pid:#04x}");
                assert_eq!(&*props as *const PropertyValues, values, "kept");
            }
        }
    }

    /// Values written through `DerefMut` or `existing_mut` after decoding
    /// are cleared too, whichever they are.
    #[test]
    fn values_written_after_decoding_are_cleared_too() {
        for write_through_existing in [false, true] {
            let mut props = Properties::default();
            let pairs: Pairs<'_> = &[(id::PAYLOAD_FORMAT_INDICATOR, &[1])];
            decode_block(PropContext::Publish, pairs, &mut props).unwrap_or_default();
            let values = if write_through_existing {
                props.existing_mut()
            } else {
                Some(&mut *props)
            };
            if let Some(values) = values {
                values.reason_string = Some("old".into());
                values.server_keep_alive = Some(5);
            }
            props = props.cleared();
            assert_eq!(*props, PropertyValues::EMPTY);
            // And what is decoded next is all there is.
            decode_block(PropContext::Publish, pairs, &mut props).unwrap_or_default();
            assert_eq!(
                *props,
                PropertyValues {
                    payload_format_indicator: Some(1),
                    ..PropertyValues::default()
                }
            );
        }
    }

    /// One test per property decides unknown, not allowed and duplicate;
    /// each is still told apart, and repeatable properties may repeat.
    #[test]
    fn rejections_keep_their_kind() {
        let publish = PropContext::Publish;
        let cases: &[(Pairs<'_>, Option<DecodeError>)] = &[
            (
                &[(0x23, &[0, 1]), (0x23, &[0, 2])],
                Some(DecodeError::DuplicateProperty(0x23)),
            ),
            (
                &[(0x01, &[0]), (0x02, &[0, 0, 0, 1]), (0x01, &[1])],
                Some(DecodeError::DuplicateProperty(0x01)),
            ),
            (
                &[
                    (0x0B, &[1]),
                    (0x26, value_of(0x26)),
                    (0x0B, &[2]),
                    (0x26, value_of(0x26)),
                ],
                None,
            ),
            (
                &[(0x01, &[0]), (0x11, &[0, 0, 0, 1])],
                Some(DecodeError::PropertyNotAllowed {
                    id: 0x11,
                    packet_type: PacketType::Publish,
                }),
            ),
            (
                &[(0x01, &[0]), (0x40, &[0])],
                Some(DecodeError::UnknownProperty(0x40)),
            ),
            (
                &[(0x01, &[0]), (0xFF, &[0])],
                Some(DecodeError::UnknownProperty(0xFF)),
            ),
        ];
        for (pairs, want) in cases {
            let got = decode_block(publish, pairs, &mut Properties::default()).err();
            assert_eq!(&got, want, "{pairs:?}");
        }
        // A subscription identifier repeats only in PUBLISH.
        let twice: Pairs<'_> = &[(0x0B, &[1]), (0x0B, &[2])];
        assert_eq!(
            decode_block(PropContext::Subscribe, twice, &mut Properties::default()),
            Err(DecodeError::DuplicateProperty(0x0B))
        );
    }

    /// A block from [`to_block`] reads back the same through [`from_block`]
    /// (the JavaScript layer's path both ways), repeated properties
    /// included; no properties are an empty block, and an empty block none.
    #[test]
    fn blocks_round_trip() {
        let mut p = Properties::default();
        p.payload_format_indicator = Some(1);
        p.message_expiry_interval = Some(u32::MAX);
        p.content_type = Some("c".into());
        p.response_topic = Some("r/t".into());
        p.correlation_data = Some(vec![0, 255]);
        p.subscription_identifiers = vec![1, MAX_VARINT];
        p.topic_alias = Some(7);
        p.user_properties = vec![("k".into(), "a".into()), ("k".into(), "b".into())];
        let block = to_block(&p, PropContext::Publish);
        assert_eq!(from_block(&block, PropContext::Publish), Ok(p.clone()));
        // Not allowed there: nothing rather than a block the reader refuses.
        assert!(to_block(&p, PropContext::Subscribe).is_empty());
        assert!(to_block(&Properties::default(), PropContext::ConnAck).is_empty());
        assert_eq!(
            from_block(&[], PropContext::Connect),
            Ok(Properties::default())
        );
    }
}
