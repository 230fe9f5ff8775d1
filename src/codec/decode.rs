//! Strict, incremental decoding of MQTT packets from a byte buffer: the
//! fixed header (type, flags, remaining length, size limit) is judged here,
//! the packet body in [`super::parse`].

use super::error::DecodeError;
use super::packet::{Packet, PacketType, ProtocolVersion, Publish};
use super::properties::Properties;
use super::{parse, varint};

/// Decodes the first packet in `buf`.
///
/// Returns `Ok(None)` when `buf` holds only part of a packet (more bytes are
/// needed), `Ok(Some((packet, consumed)))` when a whole packet was decoded from
/// the first `consumed` bytes, and an error when the bytes can never form a
/// valid packet. A packet whose fixed header announces more than
/// `max_packet_size` bytes in total is rejected as soon as the header is read,
/// before its body arrives. CONNECT carries its own protocol level, which
/// overrides `version` for that packet. Never panics, whatever the input.
///
/// A packet is returned only if it obeys every rule the specification sets
/// for a receiver that can be checked on the packet alone: fixed header
/// flags, QoS, packet identifiers, UTF-8 strings without U+0000, field
/// lengths (nothing truncated, nothing left over), CONNECT / CONNACK flags,
/// reason codes allowed for the packet and version, properties allowed for
/// the packet, not repeated and in range, topic names without wildcards
/// (empty only with an MQTT 5 topic alias), valid topic filters and
/// subscription options, at least one filter in SUBSCRIBE / UNSUBSCRIBE and
/// at least one reason code in SUBACK / MQTT 5 UNSUBACK. Each broken rule has
/// its own [`DecodeError`]. So a decoded packet always encodes again, to a
/// form that decodes to the same packet.
pub fn decode(
    buf: &[u8],
    version: ProtocolVersion,
    max_packet_size: usize,
) -> Result<Option<(Packet, usize)>, DecodeError> {
    let mut slots = Slots::default();
    let size = decode_reusing::<false>(buf, version, max_packet_size, &mut slots)?;
    Ok(size.and_then(|size| Some((slots.take()?, size))))
}

/// Where [`decode_reusing`] decodes to. A PUBLISH stays where it was
/// decoded, in place of the last spare, until it is taken: moving it
/// through the layers of results on its way to the session's output queue
/// cost more than decoding it.
#[derive(Debug, Default)]
pub(crate) struct Slots {
    /// Delivered messages (properties cleared), whose allocations the
    /// next PUBLISHes reuse; a decoded PUBLISH is the last one.
    pub(crate) spares: Vec<Publish>,
    /// A decoded packet other than PUBLISH, or a PUBLISH when there was
    /// no spare; `None` after a PUBLISH decoded into the last spare.
    pub(crate) packet: Option<Packet>,
}

impl Slots {
    /// Makes sure there is a spare for the next PUBLISH to be decoded
    /// into, so that it stays there (a Decoder always calls this first).
    #[inline]
    fn keep_a_spare(&mut self) {
        if self.spares.is_empty() {
            self.spares.push(Publish::spare(
                String::new(),
                Vec::new(),
                Properties::default(),
            ));
        }
    }

    /// Takes the packet just decoded (always there).
    fn take(&mut self) -> Option<Packet> {
        match self.packet.take() {
            Some(packet) => Some(packet),
            None => self.spares.pop().map(Packet::Publish),
        }
    }
}

/// [`decode`] into `slots`: a PUBLISH into the last spare (pushing an
/// empty one if there is none), so reusing its allocations. Returns the
/// size of the packet decoded.
#[inline]
fn decode_reusing<const CLIENT: bool>(
    buf: &[u8],
    version: ProtocolVersion,
    max_packet_size: usize,
    slots: &mut Slots,
) -> Result<Option<usize>, DecodeError> {
    let Some((&first, rest)) = buf.split_first() else {
        return Ok(None);
    };
    let kind = packet_type(first >> 4, version)?;
    let flags = first & 0x0F;
    check_flags(kind, flags)?;
    let Some((remaining, len_bytes)) = varint::read(rest)? else {
        return Ok(None);
    };
    let minimal_header = varint::is_minimal(remaining, len_bytes);
    // CONNECT's own level decides; it is checked once the body is read.
    if version == ProtocolVersion::V5 && kind != PacketType::Connect && !minimal_header {
        return Err(DecodeError::NonMinimalVarInt);
    }
    let header_len = 1 + len_bytes;
    let size = header_len.saturating_add(usize::try_from(remaining).unwrap_or(usize::MAX));
    if size > max_packet_size {
        return Err(DecodeError::PacketTooLarge {
            size,
            max: max_packet_size,
        });
    }
    let Some(body) = buf.get(header_len..size) else {
        return Ok(None);
    };
    parse::body::<CLIENT>(kind, flags, body, version, minimal_header, slots)?;
    Ok(Some(size))
}

/// The packet type for the high nibble of the first byte.
fn packet_type(nibble: u8, version: ProtocolVersion) -> Result<PacketType, DecodeError> {
    Ok(match nibble {
        1 => PacketType::Connect,
        2 => PacketType::ConnAck,
        3 => PacketType::Publish,
        4 => PacketType::PubAck,
        5 => PacketType::PubRec,
        6 => PacketType::PubRel,
        7 => PacketType::PubComp,
        8 => PacketType::Subscribe,
        9 => PacketType::SubAck,
        10 => PacketType::Unsubscribe,
        11 => PacketType::UnsubAck,
        12 => PacketType::PingReq,
        13 => PacketType::PingResp,
        14 => PacketType::Disconnect,
        15 if version == ProtocolVersion::V5 => PacketType::Auth,
        other => return Err(DecodeError::InvalidPacketType(other)),
    })
}

/// Checks the low nibble of the first byte (MQTT 5.0 §2.1.3, MQTT 3.1.1
/// §2.2.2): PUBREL, SUBSCRIBE and UNSUBSCRIBE need 0b0010, PUBLISH carries
/// DUP / QoS / RETAIN (QoS 3 and DUP at QoS 0 are rejected), all others 0.
fn check_flags(kind: PacketType, flags: u8) -> Result<(), DecodeError> {
    let ok = match kind {
        PacketType::Publish => {
            let qos = (flags >> 1) & 0b11;
            if qos == 3 {
                return Err(DecodeError::InvalidQoS);
            }
            // [MQTT-3.3.1-2]: DUP must be 0 for QoS 0.
            !(qos == 0 && flags & 0b1000 != 0)
        }
        PacketType::PubRel | PacketType::Subscribe | PacketType::Unsubscribe => flags == 0b0010,
        _ => flags == 0,
    };
    if ok {
        Ok(())
    } else {
        Err(DecodeError::InvalidFlags {
            packet_type: kind,
            flags,
        })
    }
}

/// Buffered bytes that are already decoded are dropped from the front of
/// the buffer once they are at least this many, or at least half of it.
const COMPACT_AT: usize = 4096;

/// A byte buffer that yields packets as they complete: bytes are fed as they
/// arrive (a packet may span several feeds, a feed may hold several packets).
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    start: usize,
    version: ProtocolVersion,
    max_packet_size: usize,
    /// Spare messages and the packet just decoded.
    slots: Slots,
}

/// Spare allocations kept at most, and the largest kept: enough for the
/// PUBLISHes of one received frame, without holding on to a large payload.
/// (support.js joins held frames 16 at a time to match: keep them in step.)
const SPARES: usize = 16;
const SPARE_MAX_BYTES: usize = 64 * 1024;

impl Decoder {
    /// A decoder for `version` that rejects packets above `max_packet_size` bytes.
    pub fn new(version: ProtocolVersion, max_packet_size: usize) -> Self {
        Decoder {
            buf: Vec::new(),
            start: 0,
            version,
            max_packet_size,
            slots: Slots::default(),
        }
    }

    /// Takes back the topic, payload and properties of a PUBLISH this
    /// decoder produced once the application is done with them: the next
    /// PUBLISHes reuse their allocations instead of allocating (a few are
    /// kept, none large).
    pub fn recycle(&mut self, topic: String, payload: Vec<u8>, properties: Properties) {
        self.recycle_publish(Publish::spare(topic, payload, properties));
    }

    /// [`Decoder::recycle`] of a whole PUBLISH: it is kept as it is (its
    /// properties cleared), and the next PUBLISH is decoded into it.
    #[inline]
    pub fn recycle_publish(&mut self, mut message: Publish) {
        let spares = &mut self.slots.spares;
        if spares.len() < SPARES
            && message.topic.capacity() <= SPARE_MAX_BYTES
            && message.payload.capacity() <= SPARE_MAX_BYTES
        {
            message.properties = message.properties.cleared();
            spares.push(message);
        }
    }

    /// Appends received bytes. Bytes already decoded are dropped from the
    /// buffer first when that is worth a move, so memory stays bounded by
    /// the undecoded bytes plus one feed.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.start > 0 && (self.start >= COMPACT_AT || self.start * 2 >= self.buf.len()) {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete packet, `Ok(None)` if more bytes are needed. After an
    /// error the stream is unusable and the decoder should be cleared.
    pub fn next_packet(&mut self) -> Result<Option<Packet>, DecodeError> {
        let decoded = self.next_buffered::<false>()?;
        Ok(decoded.and_then(|()| self.slots.take()))
    }

    /// [`Decoder::next_packet`], leaving the packet in the slots.
    fn next_buffered<const CLIENT: bool>(&mut self) -> Result<Option<()>, DecodeError> {
        self.slots.keep_a_spare();
        let pending = self.buf.get(self.start..).unwrap_or_default();
        match decode_reusing::<CLIENT>(
            pending,
            self.version,
            self.max_packet_size,
            &mut self.slots,
        )? {
            Some(consumed) => {
                self.start += consumed;
                if self.start >= self.buf.len() {
                    self.clear();
                }
                Ok(Some(()))
            }
            None => Ok(None),
        }
    }

    /// The next complete packet from the buffered bytes followed by `input`;
    /// what it takes from `input` is cut from its front. The same packets
    /// and errors as [`Decoder::feed`] of `input` and then
    /// [`Decoder::next_packet`], but while nothing is buffered, packets are
    /// decoded straight from `input` without a copy; only an incomplete
    /// packet's bytes are buffered. Returns `Ok(None)` once `input` is used
    /// up and more bytes are needed.
    pub fn next_packet_from(&mut self, input: &mut &[u8]) -> Result<Option<Packet>, DecodeError> {
        let decoded = self.next_in::<false>(input)?;
        Ok(decoded.and_then(|()| self.slots.take()))
    }

    /// [`Decoder::next_packet_from`] for a client, leaving the packet for
    /// [`Decoder::take_packet`] or, a PUBLISH, [`Decoder::take_publish`].
    /// A packet only clients send is refused with
    /// [`DecodeError::UnexpectedPacket`] before its body is read (so a
    /// client's build holds no CONNECT, SUBSCRIBE or UNSUBSCRIBE parser).
    // Inlined into its caller (the session's receive loop).
    #[inline]
    pub(crate) fn next_from(&mut self, input: &mut &[u8]) -> Result<Option<()>, DecodeError> {
        self.next_in::<true>(input)
    }

    /// [`Decoder::next_from`] or, unless `CLIENT`, for either side.
    #[inline]
    fn next_in<const CLIENT: bool>(
        &mut self,
        input: &mut &[u8],
    ) -> Result<Option<()>, DecodeError> {
        if self.buffered() == 0 {
            if input.is_empty() {
                return Ok(None);
            }
            self.slots.keep_a_spare();
            if let Some(used) = decode_reusing::<CLIENT>(
                input,
                self.version,
                self.max_packet_size,
                &mut self.slots,
            )? {
                *input = input.get(used..).unwrap_or_default();
                return Ok(Some(()));
            }
        }
        if !input.is_empty() {
            self.feed(input);
            *input = &[];
        }
        self.next_buffered::<CLIENT>()
    }

    /// The PUBLISH that [`Decoder::next_from`] just decoded, to take
    /// with [`Decoder::take_publish`]; until then, changes to it stay (so
    /// the next PUBLISH would reuse it with them, properties included).
    #[inline]
    pub(crate) fn decoded_publish(&mut self) -> Option<&mut Publish> {
        self.slots.spares.last_mut()
    }

    /// Takes the PUBLISH that [`Decoder::next_from`] just decoded.
    #[inline]
    pub(crate) fn take_publish(&mut self) -> Option<Publish> {
        self.slots.spares.pop()
    }

    /// Takes the packet other than PUBLISH that [`Decoder::next_from`]
    /// just decoded; `None` when it decoded a PUBLISH (always into a spare:
    /// the decoder keeps one).
    pub(crate) fn take_packet(&mut self) -> Option<Packet> {
        self.slots.packet.take()
    }

    /// Drops buffered bytes (on a new connection).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
    }

    /// Number of bytes buffered and not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len().saturating_sub(self.start)
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
