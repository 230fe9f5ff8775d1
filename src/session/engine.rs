//! The sans-IO MQTT session: feed it what happened, drain what to do.

use std::collections::VecDeque;

use crate::codec::{
    encode, properties, reason, validate_topic_filter, validate_topic_name, ConnAck, Connect,
    DecodeError, Decoder, Disconnect, Packet, PacketType, Properties, ProtocolVersion, PubResp,
    Publish, QoS, SubAck, Subscribe, Subscription, UnsubAck, Unsubscribe, MAX_VARINT,
};

use super::aliases::{AliasUse, IncomingAliases, OutgoingAliases};
use super::config::{ResendPolicy, SessionConfig, DEFAULT_MAX_INFLIGHT_V311};
use super::error::{CloseReason, ProtocolError, PublishError, RequestError};
use super::packet_ids::{IdSet, PacketIds};
use super::types::{Event, Message, MessageState, Output, PersistOp, SessionState, StoredMessage};

/// Filters per SUBSCRIBE when subscribing again after a lost session.
const RESUBSCRIBE_CHUNK: usize = 64;

/// The largest buffer [`Session::recycle_transmit`] keeps.
const MAX_SPARE_TX: usize = 64 * 1024;

/// Longest wait for PINGRESP when the keep alive is long.
const MAX_PING_TIMEOUT_MS: u64 = 30_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// No connection.
    Down,
    /// CONNECT sent; CONNACK is due by the deadline.
    Connecting { deadline: u64 },
    /// CONNACK received.
    Up,
}

/// An outgoing message and whether the store has a copy of it.
#[derive(Debug)]
struct Outgoing {
    stored: StoredMessage,
    persisted: bool,
}

/// A SUBSCRIBE or UNSUBSCRIBE on its way.
#[derive(Debug)]
struct Request {
    /// Application request id; `None` for a resubscribe the session made.
    id: Option<u64>,
    kind: RequestKind,
}

#[derive(Debug)]
enum RequestKind {
    Subscribe(Vec<Subscription>, Properties),
    Unsubscribe(Vec<String>, Properties),
}

/// The MQTT client session engine. No I/O, no clock: the driver reports
/// connection events, received bytes, expired timers and application
/// commands, each with the current time in milliseconds, and after each call
/// drains [`Session::poll_output`] until it returns `None`, then arms a timer
/// for [`Session::poll_timeout`].
///
/// Guarantees: an accepted QoS 1/2 message stays in the session until it is
/// acknowledged or fails with an event; with `durable` set, a
/// [`PersistOp`] naming it precedes the first bytes that carry it; an
/// incoming QoS 2 message is delivered once however often the broker sends
/// it; no input, however malformed, panics.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    link: Link,
    ended: bool,
    decoder: Decoder,
    out: VecDeque<Output>,
    tx: Vec<u8>,
    /// An empty buffer given back by [`Session::recycle_transmit`]; the
    /// next transmit buffer after `tx` is handed out.
    spare_tx: Vec<u8>,
    scratch: Vec<u8>,

    next_seq: u64,
    queue: VecDeque<Outgoing>,
    /// In `seq` order.
    inflight: VecDeque<Outgoing>,
    ids: PacketIds,
    next_request: u64,
    pending_requests: VecDeque<Request>,
    /// In the order sent, with their packet ids.
    sent_requests: Vec<(u16, Request)>,
    /// One entry per filter, in the order first made.
    subscriptions: Vec<Subscription>,
    incoming_qos2: IdSet,

    connack: Option<ConnAck>,
    window: usize,
    broker_max_packet: usize,
    out_aliases: OutgoingAliases,
    in_aliases: IncomingAliases,
    in_receive_max: usize,
    keep_alive_ms: u64,
    last_sent: u64,
    last_received: u64,
    ping_sent_at: Option<u64>,
}

impl Session {
    /// A session with no stored state.
    pub fn new(config: SessionConfig) -> Self {
        let decoder = Decoder::new(config.protocol, config.max_packet_size as usize);
        Session {
            link: Link::Down,
            ended: false,
            decoder,
            out: VecDeque::new(),
            tx: Vec::new(),
            spare_tx: Vec::new(),
            scratch: Vec::new(),
            next_seq: 1,
            queue: VecDeque::new(),
            inflight: VecDeque::new(),
            ids: PacketIds::default(),
            next_request: 1,
            pending_requests: VecDeque::new(),
            sent_requests: Vec::new(),
            subscriptions: Vec::new(),
            incoming_qos2: IdSet::default(),
            connack: None,
            window: 0,
            broker_max_packet: usize::MAX,
            out_aliases: OutgoingAliases::default(),
            in_aliases: IncomingAliases::default(),
            in_receive_max: usize::from(u16::MAX),
            keep_alive_ms: u64::from(config.keep_alive) * 1000,
            last_sent: 0,
            last_received: 0,
            ping_sent_at: None,
            config,
        }
    }

    /// A session resuming `state` (as exported by [`Session::export_state`],
    /// typically read back from a store after a page reload). Messages keep
    /// their order, packet ids and handshake state; where two in-flight
    /// messages name one packet id, a QoS 2 one keeps it and the other goes
    /// back to the queue as a new message (for QoS 1 a repeat is allowed).
    pub fn with_state(config: SessionConfig, state: SessionState) -> Self {
        let mut session = Session::new(config);
        let mut messages = state.messages;
        sort_by_seq(&mut messages);
        // QoS 2 messages claim their ids first: the broker may hold one of
        // them by its id, while a QoS 1 message may go again under a new id.
        let mut in_flight = vec![false; messages.len()];
        for qos in [QoS::ExactlyOnce, QoS::AtLeastOnce] {
            for (i, m) in messages.iter().enumerate() {
                if m.message.qos == qos && m.state != MessageState::Queued {
                    in_flight[i] = session.ids.claim(m.packet_id);
                }
            }
        }
        for (mut stored, in_flight) in messages.into_iter().zip(in_flight) {
            session.next_seq = session.next_seq.max(stored.seq.saturating_add(1));
            if in_flight {
                session.inflight.push_back(Outgoing {
                    stored,
                    persisted: true,
                });
            } else {
                stored.state = MessageState::Queued;
                stored.packet_id = 0;
                session.queue.push_back(Outgoing {
                    stored,
                    persisted: true,
                });
            }
        }
        for id in state.incoming_qos2 {
            session.incoming_qos2.insert(id);
        }
        for sub in state.subscriptions {
            session.put_subscription(sub);
        }
        session
    }

    /// Everything a fresh engine needs to resume this session.
    pub fn export_state(&self) -> SessionState {
        SessionState {
            messages: self.outbox(),
            incoming_qos2: self.incoming_qos2.iter().collect(),
            subscriptions: self.subscriptions.clone(),
        }
    }

    /// Outgoing messages not yet complete, in acceptance order, with their
    /// state (the outbox).
    pub fn outbox(&self) -> Vec<StoredMessage> {
        // Loops, not chain/map/collect: less code in the wasm.
        let mut all = Vec::with_capacity(self.inflight.len() + self.queue.len());
        for o in &self.inflight {
            all.push(o.stored.clone());
        }
        for o in &self.queue {
            all.push(o.stored.clone());
        }
        sort_by_seq(&mut all);
        all
    }

    /// Number of outgoing messages accepted and not yet complete.
    pub fn pending_messages(&self) -> usize {
        self.inflight.len() + self.queue.len()
    }

    /// True between a successful CONNACK and the end of that connection.
    pub fn is_connected(&self) -> bool {
        self.link == Link::Up
    }

    /// True after [`Session::disconnect`].
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// The latest successful CONNACK.
    pub fn connack(&self) -> Option<&ConnAck> {
        self.connack.as_ref()
    }

    /// The client identifier in use (the broker's assigned one, if any).
    pub fn client_id(&self) -> &str {
        &self.config.client_id
    }

    /// The configuration in force.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The subscriptions the broker has acknowledged.
    pub fn subscriptions(&self) -> impl Iterator<Item = &Subscription> {
        self.subscriptions.iter()
    }

    /// The outgoing QoS 1/2 window of the current connection.
    pub fn inflight_window(&self) -> usize {
        self.window
    }

    // ----- inputs -------------------------------------------------------

    /// The transport is open: sends CONNECT and waits for CONNACK.
    pub fn handle_connected(&mut self, now: u64) {
        if self.ended {
            return;
        }
        self.reset_link();
        let connect = self.connect_packet();
        self.link = Link::Connecting {
            deadline: now.saturating_add(self.config.connect_timeout_ms),
        };
        // CONNECT of a valid config always encodes; if a caller-made field is
        // too long, the broker never hears from us and the connect times out.
        let _ = encode(
            &Packet::Connect(Box::new(connect)),
            self.config.protocol,
            &mut self.tx,
        );
        self.last_sent = now;
        self.last_received = now;
    }

    /// Bytes arrived on the transport.
    pub fn handle_bytes(&mut self, bytes: &[u8], now: u64) {
        if self.link == Link::Down {
            return;
        }
        let mut input = bytes;
        // Checked here, the common end (everything decoded) costs no call.
        while !input.is_empty() || self.decoder.buffered() > 0 {
            match self.decoder.next_from(&mut input) {
                Ok(Some(())) => {
                    self.ping_sent_at = None;
                    self.last_received = now;
                    let handled = match self.decoder.take_packet() {
                        Some(packet) => self.handle_packet(packet, now),
                        None if self.link == Link::Up => self.on_publish(now),
                        None => {
                            // A PUBLISH while connecting.
                            self.decoder.take_publish();
                            Err(ProtocolError::UnexpectedPacket(PacketType::Publish))
                        }
                    };
                    if let Err(e) = handled {
                        self.close(CloseReason::Protocol(e));
                        return;
                    }
                    if self.link == Link::Down {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    let error = match e {
                        // The codec refuses Topic Alias 0 as a property value;
                        // MQTT 5 names it Topic Alias invalid (DISCONNECT 0x94).
                        DecodeError::InvalidPropertyValue(properties::id::TOPIC_ALIAS) => {
                            ProtocolError::TopicAliasInvalid(0)
                        }
                        // (The decoder refuses these before reading them.)
                        DecodeError::UnexpectedPacket(t) => ProtocolError::UnexpectedPacket(t),
                        e => ProtocolError::Decode(e),
                    };
                    self.close(CloseReason::Protocol(error));
                    return;
                }
            }
        }
    }

    /// The transport closed (or failed). Idempotent. State is kept for the
    /// next connection.
    pub fn handle_closed(&mut self, _now: u64) {
        if self.link != Link::Down {
            self.link = Link::Down;
            self.drop_unsent_bytes();
        }
    }

    /// A timer expired: the connect timeout, a keep alive ping, or a ping
    /// timeout. Harmless to call early or often.
    pub fn handle_timeout(&mut self, now: u64) {
        match self.link {
            Link::Down => {}
            Link::Connecting { deadline } => {
                if now >= deadline {
                    self.close(CloseReason::ConnectTimeout);
                }
            }
            Link::Up => {
                if let Some(sent) = self.ping_sent_at {
                    if now >= sent.saturating_add(self.ping_timeout_ms()) {
                        self.close(CloseReason::KeepAliveTimeout);
                    }
                } else if self.keep_alive_ms > 0
                    && now >= self.idle_since().saturating_add(self.keep_alive_ms)
                {
                    self.send_packet(&Packet::PingReq, now);
                    self.ping_sent_at = Some(now);
                }
            }
        }
    }

    /// When [`Session::handle_timeout`] should be called next, if ever.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.link {
            Link::Down => None,
            Link::Connecting { deadline } => Some(deadline),
            Link::Up => match self.ping_sent_at {
                Some(sent) => Some(sent.saturating_add(self.ping_timeout_ms())),
                None if self.keep_alive_ms > 0 => {
                    Some(self.idle_since().saturating_add(self.keep_alive_ms))
                }
                None => None,
            },
        }
    }

    /// The next thing for the driver to do, in order.
    pub fn poll_output(&mut self) -> Option<Output> {
        if let Some(o) = self.out.pop_front() {
            return Some(o);
        }
        if self.tx.is_empty() {
            None
        } else {
            Some(self.take_transmit())
        }
    }

    /// Gives back the buffer of an [`Output::Transmit`] once its bytes are
    /// sent or copied: a later transmit reuses its memory instead of
    /// allocating (one allocation fewer per acknowledgement). Optional; the
    /// content is ignored, and a buffer of more than 64 KiB capacity is
    /// dropped so an occasional large message is not kept.
    pub fn recycle_transmit(&mut self, mut buf: Vec<u8>) {
        if buf.capacity() > self.spare_tx.capacity() && buf.capacity() <= MAX_SPARE_TX {
            buf.clear();
            self.spare_tx = buf;
        }
    }

    /// Gives back a message of an [`Event::Message`] once the application
    /// is done with it: the next received messages reuse its topic,
    /// payload and property-set allocations instead of allocating. Optional.
    pub fn recycle_message(&mut self, message: Publish) {
        self.decoder.recycle_publish(message);
    }

    // ----- commands -----------------------------------------------------

    /// Accepts a message for delivery and returns its id (its `seq`), which
    /// a later [`Event::PublishDone`] or [`Event::PublishFailed`] names.
    /// QoS 0 completes at once (sent or queued); QoS 1/2 on acknowledgement.
    /// While offline, or while the inflight window is full, the message
    /// waits in order (at most `max_queued` of them).
    pub fn publish(&mut self, mut message: Message, now: u64) -> Result<u64, PublishError> {
        if self.ended {
            return Err(PublishError::Closed);
        }
        validate_topic_name(&message.topic).map_err(PublishError::InvalidTopic)?;
        if let Some(values) = message.properties.existing_mut() {
            values.topic_alias = None;
        }
        if self.config.protocol == ProtocolVersion::V311 {
            message.properties = Properties::default();
        }
        let seq = self.next_seq;
        let mut stored = StoredMessage {
            seq,
            message,
            packet_id: 0,
            state: MessageState::Queued,
            attempts: 0,
            created_ms: now,
        };
        let sendable_now = self.link == Link::Up
            && self.queue.is_empty()
            && (stored.message.qos == QoS::AtMostOnce || self.inflight.len() < self.window);
        if sendable_now {
            // Encode with its real packet id first, so a too large message is
            // refused before anything is stored or sent.
            let packet_id = if stored.message.qos == QoS::AtMostOnce {
                0
            } else {
                match self.ids.allocate() {
                    Some(id) => id,
                    None => return self.enqueue(stored),
                }
            };
            stored.packet_id = packet_id;
            if let Err(e) = self.encode_publish(&mut stored, false, true) {
                if packet_id != 0 {
                    self.ids.release(packet_id);
                }
                return Err(e);
            }
            self.next_seq += 1;
            if stored.message.qos == QoS::AtMostOnce {
                self.flush_scratch(now);
                self.push(Output::Event(Event::PublishDone { id: seq }));
                return Ok(seq);
            }
            stored.state = MessageState::Sent;
            stored.attempts = 1;
            let persisted = self.config.durable;
            if persisted {
                self.push(Output::Persist(PersistOp::PutMessage(Box::new(
                    stored.clone(),
                ))));
            }
            self.flush_scratch(now);
            self.inflight_push(Outgoing { stored, persisted });
            Ok(seq)
        } else {
            self.enqueue(stored)
        }
    }

    /// Subscribes to `subscriptions` (at least one, valid filters). The
    /// returned id is named by the [`Event::Subscribed`] that carries the
    /// SUBACK's reason codes. Sent now if connected, else after connecting.
    pub fn subscribe(
        &mut self,
        subscriptions: Vec<Subscription>,
        properties: Properties,
        now: u64,
    ) -> Result<u64, RequestError> {
        if self.ended {
            return Err(RequestError::Closed);
        }
        if subscriptions.is_empty() {
            return Err(RequestError::NoFilters);
        }
        for s in &subscriptions {
            validate_topic_filter(&s.filter).map_err(RequestError::InvalidTopic)?;
        }
        self.request(RequestKind::Subscribe(subscriptions, properties), now)
    }

    /// Unsubscribes from `filters` (at least one, valid). The returned id is
    /// named by the [`Event::Unsubscribed`] of the UNSUBACK.
    pub fn unsubscribe(
        &mut self,
        filters: Vec<String>,
        properties: Properties,
        now: u64,
    ) -> Result<u64, RequestError> {
        if self.ended {
            return Err(RequestError::Closed);
        }
        if filters.is_empty() {
            return Err(RequestError::NoFilters);
        }
        for f in &filters {
            validate_topic_filter(f).map_err(RequestError::InvalidTopic)?;
        }
        self.request(RequestKind::Unsubscribe(filters, properties), now)
    }

    /// Ends the session for this client: sends DISCONNECT (reason 0, so no
    /// will) if connected and asks the driver to close. Later commands fail
    /// with `Closed`; unacknowledged messages stay in the state (and store)
    /// for a later session with the same client id.
    pub fn disconnect(&mut self, now: u64) {
        if self.ended {
            return;
        }
        self.ended = true;
        if self.link == Link::Up {
            self.send_packet(&Packet::Disconnect(Disconnect::default()), now);
        }
        if self.link != Link::Down {
            self.link = Link::Down;
            self.push(Output::Close(CloseReason::Requested));
        }
        let sent = std::mem::take(&mut self.sent_requests);
        let mut requests = std::mem::take(&mut self.pending_requests);
        for (_, r) in sent {
            requests.push_back(r);
        }
        for request in requests {
            if let Some(id) = request.id {
                self.push(Output::Event(Event::RequestFailed {
                    id,
                    error: RequestError::Closed,
                }));
            }
        }
    }

    // ----- internals: outgoing ------------------------------------------

    fn enqueue(&mut self, mut stored: StoredMessage) -> Result<u64, PublishError> {
        if self.queue.len() >= self.config.max_queued {
            return Err(PublishError::QueueFull);
        }
        // Check the size with a placeholder id: an alias could only shrink it.
        let packet_id = stored.packet_id;
        if stored.message.qos != QoS::AtMostOnce {
            stored.packet_id = 1;
        }
        let checked = self.encode_publish(&mut stored, false, false);
        stored.packet_id = packet_id;
        self.scratch.clear();
        checked?;
        let seq = stored.seq;
        self.next_seq += 1;
        let qos0 = stored.message.qos == QoS::AtMostOnce;
        // A QoS 0 message is persisted only while offline: online it waits
        // behind the window for a moment, and QoS 0 promises no more.
        let persisted = self.config.durable && (!qos0 || self.link != Link::Up);
        if persisted {
            self.push(Output::Persist(PersistOp::PutMessage(Box::new(
                stored.clone(),
            ))));
        }
        self.queue.push_back(Outgoing { stored, persisted });
        if qos0 {
            self.push(Output::Event(Event::PublishDone { id: seq }));
        }
        Ok(seq)
    }

    /// Sends queued messages while connected and the window allows.
    fn pump(&mut self, now: u64) {
        while self.link == Link::Up {
            let Some(head) = self.queue.front() else {
                break;
            };
            let qos0 = head.stored.message.qos == QoS::AtMostOnce;
            if !qos0 && self.inflight.len() >= self.window {
                break;
            }
            let Some(mut entry) = self.queue.pop_front() else {
                break;
            };
            let seq = entry.stored.seq;
            if !qos0 {
                match self.ids.allocate() {
                    Some(id) => entry.stored.packet_id = id,
                    None => {
                        self.queue.push_front(entry);
                        break;
                    }
                }
            }
            if let Err(error) = self.encode_publish(&mut entry.stored, false, true) {
                // Too large for this broker (its limit may have shrunk).
                self.ids.release(entry.stored.packet_id);
                self.finish_failed(entry, error);
                continue;
            }
            if qos0 {
                if entry.persisted {
                    self.push(Output::Persist(PersistOp::DeleteMessage { seq }));
                }
                self.flush_scratch(now);
                continue;
            }
            entry.stored.state = MessageState::Sent;
            entry.stored.attempts = entry.stored.attempts.saturating_add(1);
            if self.config.durable {
                let op = if entry.persisted {
                    PersistOp::SetMessageState {
                        seq,
                        packet_id: entry.stored.packet_id,
                        state: MessageState::Sent,
                        attempts: entry.stored.attempts,
                        qos: entry.stored.message.qos,
                    }
                } else {
                    PersistOp::PutMessage(Box::new(entry.stored.clone()))
                };
                entry.persisted = true;
                self.push(Output::Persist(op));
            }
            self.flush_scratch(now);
            self.inflight_push(entry);
        }
    }

    /// Encodes `stored` as a PUBLISH into `scratch` (replacing its content)
    /// and checks the size. With `sending`, a topic alias is used when the
    /// broker allows, and a new one is recorded once the packet is ready.
    fn encode_publish(
        &mut self,
        stored: &mut StoredMessage,
        dup: bool,
        sending: bool,
    ) -> Result<(), PublishError> {
        let alias = if sending && self.link == Link::Up && self.config.auto_topic_alias {
            self.out_aliases.lookup(&stored.message.topic)
        } else {
            AliasUse::None
        };
        // Move the fields into a packet and back: no copy of the payload.
        let m = &mut stored.message;
        let mut packet = Packet::Publish(Publish {
            dup,
            qos: m.qos,
            retain: m.retain,
            topic: std::mem::take(&mut m.topic),
            packet_id: stored.packet_id,
            payload: std::mem::take(&mut m.payload),
            properties: std::mem::take(&mut m.properties),
        });
        let mut full_topic = None;
        if let Packet::Publish(p) = &mut packet {
            match alias {
                AliasUse::None => {}
                AliasUse::Establish(a) => p.properties.topic_alias = Some(a),
                AliasUse::Reuse(a) => {
                    p.properties.topic_alias = Some(a);
                    full_topic = Some(std::mem::take(&mut p.topic));
                }
            }
        }
        self.scratch.clear();
        let result = encode(&packet, self.config.protocol, &mut self.scratch);
        if let Packet::Publish(p) = packet {
            m.topic = full_topic.unwrap_or(p.topic);
            m.payload = p.payload;
            m.properties = p.properties;
            if let Some(values) = m.properties.existing_mut() {
                values.topic_alias = None;
            }
        }
        let size = result.map_err(PublishError::Encode)?;
        let max = self.max_outgoing_packet();
        if size > max {
            self.scratch.clear();
            return Err(PublishError::PacketTooLarge { size, max });
        }
        if let AliasUse::Establish(a) = alias {
            self.out_aliases.establish(&m.topic, a);
        }
        Ok(())
    }

    /// Moves the encoded packet in `scratch` to the transmit buffer.
    fn flush_scratch(&mut self, now: u64) {
        self.tx.extend_from_slice(&self.scratch);
        self.scratch.clear();
        self.last_sent = now;
    }

    /// The largest packet that may be sent now, in bytes: the configured
    /// maximum, or the broker's if it announced a smaller one.
    pub fn max_outgoing_packet(&self) -> usize {
        (self.config.max_packet_size as usize).min(self.broker_max_packet)
    }

    fn send_packet(&mut self, packet: &Packet, now: u64) {
        // Acks, pings and DISCONNECT are a few bytes and always encode.
        if encode(packet, self.config.protocol, &mut self.tx).is_ok() {
            self.last_sent = now;
        }
    }

    fn push(&mut self, output: Output) {
        if !self.tx.is_empty() {
            let transmit = self.take_transmit();
            self.out.push_back(transmit);
        }
        self.out.push_back(output);
    }

    /// The pending bytes as an output; the spare buffer, if any, takes their place.
    fn take_transmit(&mut self) -> Output {
        let spare = std::mem::take(&mut self.spare_tx);
        Output::Transmit(std::mem::replace(&mut self.tx, spare))
    }

    fn finish_done(&mut self, entry: Outgoing) {
        let seq = entry.stored.seq;
        if entry.persisted {
            self.push(Output::Persist(PersistOp::DeleteMessage { seq }));
        }
        self.push(Output::Event(Event::PublishDone { id: seq }));
    }

    fn finish_failed(&mut self, entry: Outgoing, error: PublishError) {
        let seq = entry.stored.seq;
        if entry.persisted {
            self.push(Output::Persist(PersistOp::DeleteMessage { seq }));
        }
        self.push(Output::Event(Event::PublishFailed { id: seq, error }));
    }

    /// Removes the in-flight message that owns `packet_id` if its QoS and
    /// state match; `None` for an unknown or duplicate acknowledgement.
    fn take_inflight(
        &mut self,
        packet_id: u16,
        qos: QoS,
        states: &[MessageState],
    ) -> Option<Outgoing> {
        let i = self.inflight_position(packet_id)?;
        let entry = &self.inflight[i];
        if entry.stored.message.qos != qos || !states.contains(&entry.stored.state) {
            return None;
        }
        self.ids.release(packet_id);
        self.inflight.remove(i)
    }

    /// Where the in-flight message with `packet_id` is. Acknowledgements
    /// mostly come in order, so the search from the front is short.
    fn inflight_position(&self, packet_id: u16) -> Option<usize> {
        self.inflight
            .iter()
            .position(|e| e.stored.packet_id == packet_id)
    }

    /// Adds an in-flight message, keeping `seq` order (new ones are almost
    /// always the newest).
    fn inflight_push(&mut self, entry: Outgoing) {
        let seq = entry.stored.seq;
        match self.inflight.back() {
            Some(last) if last.stored.seq > seq => {
                let i = self.inflight.partition_point(|e| e.stored.seq < seq);
                self.inflight.insert(i, entry);
            }
            _ => self.inflight.push_back(entry),
        }
    }

    /// Adds or replaces the subscription with this filter.
    fn put_subscription(&mut self, sub: Subscription) {
        match self
            .subscriptions
            .iter_mut()
            .find(|s| s.filter == sub.filter)
        {
            Some(existing) => *existing = sub,
            None => self.subscriptions.push(sub),
        }
    }

    // ----- internals: requests ------------------------------------------

    fn request(&mut self, kind: RequestKind, now: u64) -> Result<u64, RequestError> {
        let id = self.next_request;
        // Refuse a request that can never be sent, before queueing it.
        let probe = self.request_packet(&kind, 1);
        self.scratch.clear();
        let size = encode(&probe, self.config.protocol, &mut self.scratch)
            .map_err(RequestError::Encode)?;
        self.scratch.clear();
        let max = self.max_outgoing_packet();
        if size > max {
            return Err(RequestError::PacketTooLarge { size, max });
        }
        self.next_request += 1;
        self.pending_requests
            .push_back(Request { id: Some(id), kind });
        self.send_requests(now);
        Ok(id)
    }

    fn request_packet(&self, kind: &RequestKind, packet_id: u16) -> Packet {
        match kind {
            RequestKind::Subscribe(subscriptions, properties) => Packet::Subscribe(Subscribe {
                packet_id,
                subscriptions: subscriptions.clone(),
                properties: self.v5_only(properties),
            }),
            RequestKind::Unsubscribe(filters, properties) => Packet::Unsubscribe(Unsubscribe {
                packet_id,
                filters: filters.clone(),
                properties: self.v5_only(properties),
            }),
        }
    }

    fn v5_only(&self, properties: &Properties) -> Properties {
        match self.config.protocol {
            ProtocolVersion::V5 => properties.clone(),
            ProtocolVersion::V311 => Properties::default(),
        }
    }

    fn send_requests(&mut self, now: u64) {
        while self.link == Link::Up {
            let Some(request) = self.pending_requests.pop_front() else {
                break;
            };
            let Some(packet_id) = self.ids.allocate() else {
                self.pending_requests.push_front(request);
                break;
            };
            let packet = self.request_packet(&request.kind, packet_id);
            let max = self.max_outgoing_packet();
            let before = self.tx.len();
            match encode(&packet, self.config.protocol, &mut self.tx) {
                Ok(size) if size <= max => {
                    self.last_sent = now;
                    self.sent_requests.push((packet_id, request));
                }
                result => {
                    self.tx.truncate(before);
                    self.ids.release(packet_id);
                    let error = match result {
                        Ok(size) => RequestError::PacketTooLarge { size, max },
                        Err(e) => RequestError::Encode(e),
                    };
                    if let Some(id) = request.id {
                        self.push(Output::Event(Event::RequestFailed { id, error }));
                    }
                }
            }
        }
    }

    fn on_suback(&mut self, ack: SubAck) {
        let Some(request) = self.take_request(ack.packet_id) else {
            return;
        };
        if let RequestKind::Subscribe(subscriptions, _) = request.kind {
            for (sub, code) in subscriptions.into_iter().zip(ack.reason_codes.iter()) {
                if *code < 0x80 {
                    if self.config.durable {
                        self.push(Output::Persist(PersistOp::PutSubscription(sub.clone())));
                    }
                    self.put_subscription(sub);
                }
            }
        }
        if let Some(id) = request.id {
            self.push(Output::Event(Event::Subscribed {
                id,
                reason_codes: ack.reason_codes,
            }));
        }
    }

    fn on_unsuback(&mut self, ack: UnsubAck) {
        let Some(request) = self.take_request(ack.packet_id) else {
            return;
        };
        if let RequestKind::Unsubscribe(filters, _) = request.kind {
            for filter in filters {
                let Some(i) = self.subscriptions.iter().position(|s| s.filter == filter) else {
                    continue;
                };
                self.subscriptions.remove(i);
                if self.config.durable {
                    self.push(Output::Persist(PersistOp::DeleteSubscription { filter }));
                }
            }
        }
        if let Some(id) = request.id {
            self.push(Output::Event(Event::Unsubscribed {
                id,
                reason_codes: ack.reason_codes,
            }));
        }
    }

    fn take_request(&mut self, packet_id: u16) -> Option<Request> {
        let i = self
            .sent_requests
            .iter()
            .position(|(id, _)| *id == packet_id)?;
        let (_, request) = self.sent_requests.remove(i);
        self.ids.release(packet_id);
        Some(request)
    }

    // ----- internals: connection ----------------------------------------

    fn connect_packet(&self) -> Connect {
        let c = &self.config;
        let mut properties = Properties::default();
        if c.protocol == ProtocolVersion::V5 {
            properties = c.properties.clone();
            if c.max_packet_size < MAX_VARINT && properties.maximum_packet_size.is_none() {
                properties.maximum_packet_size = Some(c.max_packet_size);
            }
        }
        let mut will = c.will.clone();
        if c.protocol == ProtocolVersion::V311 {
            if let Some(w) = will.as_mut() {
                w.properties = Properties::default();
            }
        }
        Connect {
            protocol: c.protocol,
            clean_start: c.clean_start,
            keep_alive: c.keep_alive,
            client_id: c.client_id.clone(),
            will,
            username: c.username.clone(),
            password: c.password.clone(),
            properties,
        }
    }

    /// Forgets everything tied to one connection.
    fn reset_link(&mut self) {
        self.link = Link::Down;
        self.decoder.clear();
        self.decoder.set_version(self.config.protocol);
        self.decoder
            .set_max_packet_size(self.config.max_packet_size as usize);
        self.drop_unsent_bytes();
        self.ping_sent_at = None;
        self.keep_alive_ms = u64::from(self.config.keep_alive) * 1000;
        self.out_aliases.reset(0);
        let (alias_max, receive_max) = match self.config.protocol {
            ProtocolVersion::V5 => (
                self.config.properties.topic_alias_maximum.unwrap_or(0),
                self.config.properties.receive_maximum.unwrap_or(u16::MAX),
            ),
            ProtocolVersion::V311 => (0, u16::MAX),
        };
        self.in_aliases.reset(alias_max);
        self.in_receive_max = usize::from(receive_max);
        // Requests that got no answer are asked again on the next connection.
        let unanswered = std::mem::take(&mut self.sent_requests);
        for (packet_id, request) in unanswered.into_iter().rev() {
            self.ids.release(packet_id);
            self.pending_requests.push_front(request);
        }
    }

    /// Bytes not yet handed to the driver belong to a dead connection.
    fn drop_unsent_bytes(&mut self) {
        self.tx.clear();
        self.out.retain(|o| !matches!(o, Output::Transmit(_)));
    }

    /// Start of the longer silence, sending or receiving: a client that only
    /// sends (into a dead link) pings as surely as one that only receives.
    fn idle_since(&self) -> u64 {
        self.last_sent.min(self.last_received)
    }

    fn ping_timeout_ms(&self) -> u64 {
        self.config
            .ping_timeout_ms
            .unwrap_or_else(|| self.keep_alive_ms.clamp(1, MAX_PING_TIMEOUT_MS))
    }

    fn close(&mut self, reason: CloseReason) {
        self.drop_unsent_bytes();
        if let (CloseReason::Protocol(e), Link::Up, ProtocolVersion::V5) =
            (&reason, self.link, self.config.protocol)
        {
            let packet = Packet::Disconnect(Disconnect {
                reason_code: e.reason_code(),
                properties: Properties::default(),
            });
            let _ = encode(&packet, self.config.protocol, &mut self.tx);
        }
        self.link = Link::Down;
        self.push(Output::Close(reason));
    }

    fn on_connack(&mut self, ack: ConnAck, now: u64) {
        let refused = match self.config.protocol {
            ProtocolVersion::V311 => ack.reason_code != 0,
            ProtocolVersion::V5 => ack.reason_code >= 0x80,
        };
        if refused {
            self.close(CloseReason::Refused {
                reason_code: ack.reason_code,
                properties: Box::new(ack.properties),
            });
            return;
        }
        self.link = Link::Up;
        let p = &ack.properties;
        let broker_receive_max = usize::from(p.receive_maximum.unwrap_or(u16::MAX));
        self.window = match (self.config.max_inflight, self.config.protocol) {
            (Some(n), _) => usize::from(n),
            (None, ProtocolVersion::V5) => broker_receive_max,
            (None, ProtocolVersion::V311) => usize::from(DEFAULT_MAX_INFLIGHT_V311),
        }
        .min(broker_receive_max)
        .max(1);
        self.broker_max_packet = p.maximum_packet_size.map_or(usize::MAX, |m| m as usize);
        if self.config.auto_topic_alias {
            self.out_aliases.reset(p.topic_alias_maximum.unwrap_or(0));
        }
        if let Some(ka) = p.server_keep_alive {
            self.keep_alive_ms = u64::from(ka) * 1000;
        }
        if let Some(id) = &p.assigned_client_identifier {
            self.config.client_id.clone_from(id);
        }
        if ack.session_present && self.config.clean_start {
            // [MQTT-3.2.2-4]: the broker must not keep a session we asked to start clean.
            self.close(CloseReason::Protocol(
                ProtocolError::SessionPresentOnCleanStart,
            ));
            return;
        }
        let session_present = ack.session_present;
        self.connack = Some(ack.clone());
        self.push(Output::Event(Event::Connected(ack)));
        if session_present {
            self.resume(now);
        } else {
            self.restart(now);
        }
        self.send_requests(now);
        self.pump(now);
    }

    /// The broker kept our session: resend every unacknowledged PUBLISH (DUP)
    /// and owed PUBREL, in original order, all at once.
    fn resume(&mut self, now: u64) {
        let all = std::mem::take(&mut self.inflight);
        let mut kept = VecDeque::with_capacity(all.len());
        for mut entry in all {
            let packet_id = entry.stored.packet_id;
            match entry.stored.state {
                MessageState::Sent | MessageState::Queued => {
                    match self.encode_publish(&mut entry.stored, true, true) {
                        Ok(()) => {
                            self.flush_scratch(now);
                            entry.stored.attempts = entry.stored.attempts.saturating_add(1);
                            kept.push_back(entry);
                        }
                        // The broker now allows less than when it was sent.
                        Err(error) => {
                            self.ids.release(packet_id);
                            self.finish_failed(entry, error);
                        }
                    }
                }
                MessageState::Received | MessageState::Released => {
                    self.send_pubrel(packet_id, 0, now);
                    entry.stored.state = MessageState::Released;
                    kept.push_back(entry);
                }
            }
        }
        self.inflight = kept;
    }

    /// The broker kept no session: incoming QoS 2 state is void, in-flight
    /// messages follow the resend policy, subscriptions are made again.
    fn restart(&mut self, now: u64) {
        let _ = now;
        if !self.incoming_qos2.is_empty() {
            self.incoming_qos2.clear();
            if self.config.durable {
                self.push(Output::Persist(PersistOp::ClearIncoming));
            }
        }
        let inflight = std::mem::take(&mut self.inflight);
        let mut requeue = Vec::new();
        for mut entry in inflight {
            self.ids.release(entry.stored.packet_id);
            match (entry.stored.state, self.config.resend_policy) {
                // The broker accepted a QoS 2 message once it sent PUBREC.
                (MessageState::Received | MessageState::Released, _) => self.finish_done(entry),
                (_, ResendPolicy::Fail) => self.finish_failed(entry, PublishError::SessionLost),
                (_, ResendPolicy::Republish) => {
                    entry.stored.state = MessageState::Queued;
                    entry.stored.packet_id = 0;
                    if entry.persisted {
                        self.push(Output::Persist(PersistOp::SetMessageState {
                            seq: entry.stored.seq,
                            packet_id: 0,
                            state: MessageState::Queued,
                            attempts: entry.stored.attempts,
                            qos: entry.stored.message.qos,
                        }));
                    }
                    requeue.push(entry);
                }
            }
        }
        for entry in requeue.into_iter().rev() {
            self.queue.push_front(entry);
        }
        if self.config.resubscribe && !self.subscriptions.is_empty() {
            for chunk in self.subscriptions.chunks(RESUBSCRIBE_CHUNK).rev() {
                self.pending_requests.push_front(Request {
                    id: None,
                    kind: RequestKind::Subscribe(chunk.to_vec(), Properties::default()),
                });
            }
        }
    }

    fn send_pubrel(&mut self, packet_id: u16, reason_code: u8, now: u64) {
        self.send_ack(PacketType::PubRel, packet_id, reason_code, now);
    }

    /// PUBACK, PUBREC, PUBREL or PUBCOMP. The common case (success, no
    /// properties) is the same four bytes in both versions (MQTT 5 §3.4.2.1:
    /// reason and properties may be omitted), written directly: this is on
    /// the receive hot path.
    fn send_ack(&mut self, kind: PacketType, packet_id: u16, reason_code: u8, now: u64) {
        if reason_code == reason::SUCCESS {
            let flags = if kind == PacketType::PubRel { 0x02 } else { 0 };
            let [hi, lo] = packet_id.to_be_bytes();
            self.tx
                .extend_from_slice(&[((kind as u8) << 4) | flags, 2, hi, lo]);
            self.last_sent = now;
            return;
        }
        let ack = PubResp {
            packet_id,
            reason_code,
            properties: Properties::default(),
        };
        let packet = match kind {
            PacketType::PubAck => Packet::PubAck(ack),
            PacketType::PubRec => Packet::PubRec(ack),
            PacketType::PubRel => Packet::PubRel(ack),
            _ => Packet::PubComp(ack),
        };
        self.send_packet(&packet, now);
    }

    // ----- internals: incoming ------------------------------------------

    // Not inlined into handle_bytes: the received-PUBLISH path stays small.
    #[inline(never)]
    fn handle_packet(&mut self, packet: Packet, now: u64) -> Result<(), ProtocolError> {
        if let Link::Connecting { .. } = self.link {
            return match packet {
                Packet::ConnAck(ack) => {
                    self.on_connack(ack, now);
                    Ok(())
                }
                other => Err(ProtocolError::UnexpectedPacket(other.packet_type())),
            };
        }
        match packet {
            // handle_bytes hands every PUBLISH to on_publish while the link
            // is up, and calls this only while it is not down.
            Packet::Publish(_) => return Err(ProtocolError::UnexpectedPacket(PacketType::Publish)),
            Packet::PubAck(ack) => {
                if let Some(entry) =
                    self.take_inflight(ack.packet_id, QoS::AtLeastOnce, &[MessageState::Sent])
                {
                    self.complete(entry, &ack);
                    self.pump(now);
                }
            }
            Packet::PubRec(ack) => self.on_pubrec(ack, now),
            Packet::PubComp(ack) => {
                let states = [MessageState::Received, MessageState::Released];
                if let Some(entry) = self.take_inflight(ack.packet_id, QoS::ExactlyOnce, &states) {
                    // PUBREC already meant acceptance; a PUBCOMP reason code
                    // (0x92) only says the broker forgot the id.
                    self.finish_done(entry);
                    self.pump(now);
                }
            }
            Packet::PubRel(rel) => {
                let code = if self.incoming_qos2.remove(rel.packet_id) {
                    if self.config.durable {
                        self.push(Output::Persist(PersistOp::DeleteIncoming {
                            packet_id: rel.packet_id,
                        }));
                    }
                    reason::SUCCESS
                } else {
                    // Our PUBCOMP may have been lost with a connection: answer
                    // again, as the specification asks, rather than fail.
                    reason::PACKET_ID_NOT_FOUND
                };
                let code = if self.config.protocol == ProtocolVersion::V5 {
                    code
                } else {
                    0
                };
                self.send_ack(PacketType::PubComp, rel.packet_id, code, now);
            }
            Packet::SubAck(ack) => {
                self.on_suback(ack);
                self.pump(now);
            }
            Packet::UnsubAck(ack) => {
                self.on_unsuback(ack);
                self.pump(now);
            }
            Packet::PingResp => {}
            Packet::Disconnect(d) => {
                self.close(CloseReason::ServerDisconnect {
                    reason_code: d.reason_code,
                    properties: Box::new(d.properties),
                });
            }
            other => return Err(ProtocolError::UnexpectedPacket(other.packet_type())),
        }
        Ok(())
    }

    fn complete(&mut self, entry: Outgoing, ack: &PubResp) {
        if ack.reason_code >= 0x80 {
            let error = PublishError::Rejected {
                reason_code: ack.reason_code,
                reason_string: ack.properties.reason_string.clone(),
            };
            self.finish_failed(entry, error);
        } else {
            self.finish_done(entry);
        }
    }

    fn on_pubrec(&mut self, ack: PubResp, now: u64) {
        let Some(i) = self.inflight_position(ack.packet_id) else {
            if self.config.protocol == ProtocolVersion::V5 {
                self.send_pubrel(ack.packet_id, reason::PACKET_ID_NOT_FOUND, now);
            }
            return;
        };
        let entry = &mut self.inflight[i];
        let seq = entry.stored.seq;
        if entry.stored.message.qos != QoS::ExactlyOnce {
            return;
        }
        let state = entry.stored.state;
        match state {
            MessageState::Sent if ack.reason_code >= 0x80 => {
                if let Some(entry) =
                    self.take_inflight(ack.packet_id, QoS::ExactlyOnce, &[MessageState::Sent])
                {
                    self.complete(entry, &ack);
                    self.pump(now);
                }
            }
            MessageState::Sent | MessageState::Queued => {
                entry.stored.state = MessageState::Released;
                let (persisted, attempts) = (entry.persisted, entry.stored.attempts);
                if persisted {
                    self.push(Output::Persist(PersistOp::SetMessageState {
                        seq,
                        packet_id: ack.packet_id,
                        state: MessageState::Received,
                        attempts,
                        qos: QoS::ExactlyOnce,
                    }));
                }
                self.send_pubrel(ack.packet_id, 0, now);
            }
            // A repeated PUBREC: the PUBREL may have been lost.
            MessageState::Received | MessageState::Released => {
                entry.stored.state = MessageState::Released;
                self.send_pubrel(ack.packet_id, 0, now);
            }
        }
    }

    /// The PUBLISH the decoder just decoded, left in place there until it
    /// is delivered: it is moved once, into the output queue.
    // Inlined into handle_bytes, its one caller. QoS 2 is handled out of
    // line.
    #[inline(always)]
    fn on_publish(&mut self, now: u64) -> Result<(), ProtocolError> {
        let Some(p) = self.decoder.decoded_publish() else {
            return Ok(());
        };
        if let Some(alias) = p.properties.topic_alias {
            if let Err(e) = self.in_aliases.resolve(alias, &mut p.topic) {
                self.decoder.take_publish();
                return Err(e);
            }
        }
        let (qos, packet_id) = (p.qos, p.packet_id);
        if qos == QoS::ExactlyOnce {
            return match self.decoder.take_publish() {
                Some(p) => self.on_publish_qos2(p, now),
                None => Ok(()),
            };
        }
        if let Some(p) = self.decoder.take_publish() {
            self.push(Output::Event(Event::Message(p)));
        }
        if qos == QoS::AtLeastOnce {
            self.send_ack(PacketType::PubAck, packet_id, 0, now);
        }
        Ok(())
    }

    /// A QoS 2 PUBLISH: delivered once per packet id until PUBREL, always
    /// answered with PUBREC.
    #[inline(never)]
    fn on_publish_qos2(&mut self, p: Publish, now: u64) -> Result<(), ProtocolError> {
        let packet_id = p.packet_id;
        if !self.incoming_qos2.contains(packet_id) {
            if self.incoming_qos2.len() >= self.in_receive_max {
                return Err(ProtocolError::ReceiveMaximumExceeded);
            }
            self.incoming_qos2.insert(packet_id);
            if self.config.durable {
                self.push(Output::Persist(PersistOp::PutIncoming { packet_id }));
            }
            self.push(Output::Event(Event::Message(p)));
        }
        self.send_ack(PacketType::PubRec, packet_id, 0, now);
        Ok(())
    }
}

/// Sorts messages into acceptance order (`seq`). One function for every
/// caller, store included, so the wasm has one copy of the sort. Unstable
/// is exact here: seqs are unique.
pub fn sort_by_seq(messages: &mut [StoredMessage]) {
    crate::heapsort::sort_by_key(messages, |m| m.seq);
}
