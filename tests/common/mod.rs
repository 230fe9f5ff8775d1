//! Deterministic test rig for the sans-IO session, in the style of
//! quinn-proto's `Pair`: a scripted in-memory MQTT broker, a simulated clock
//! and a driver loop that moves bytes between them until both are quiet.
//!
//! The broker models a real broker's session (per client id, kept across
//! connections when the client asks for it): subscriptions, its own
//! in-flight QoS 1/2 messages to the client, and incoming QoS 2 ids awaiting
//! PUBREL (Method B receiver semantics, so a duplicate the client wrongly
//! sends as new would be visible as a second delivery). It can be scripted
//! to hold back or drop acks, drop the connection at a chosen packet, send
//! duplicates, shape its CONNACK and break the protocol.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use wasmqtt::codec::{
    decode, encode, topic_matches, ConnAck, Connect, Disconnect, Packet, PacketType, Properties,
    ProtocolVersion, PubResp, Publish, QoS, SubAck, Subscription, SubscriptionOptions, UnsubAck,
    Will,
};
use wasmqtt::session::{
    CloseReason, Event, Message, MessageState, Output, PersistOp, PublishError, Session,
    SessionConfig, SessionState, StoredMessage,
};

pub const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V311, ProtocolVersion::V5];

/// A small deterministic generator (xorshift64*), so tests need no crate.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// A session configuration for tests: keep alive off unless a test turns it
/// on, so time only matters where a test says so.
pub fn config(version: ProtocolVersion, client_id: &str) -> SessionConfig {
    let mut c = SessionConfig::new(version, client_id);
    c.keep_alive = 0;
    c
}

/// A configuration for a persistent session (clean start off; MQTT 5
/// session expiry so the broker keeps it).
pub fn persistent(version: ProtocolVersion, client_id: &str) -> SessionConfig {
    let mut c = config(version, client_id);
    c.clean_start = false;
    if version == ProtocolVersion::V5 {
        c.properties.session_expiry_interval = Some(3600);
    }
    c
}

pub fn msg(topic: &str, payload: &[u8], qos: QoS) -> Message {
    Message {
        topic: topic.to_owned(),
        payload: payload.to_vec(),
        qos,
        retain: false,
        properties: Properties::default(),
    }
}

pub fn qos_of(n: u8) -> QoS {
    QoS::from_u8(n).expect("qos 0..=2")
}

/// Decodes every whole packet in `bytes` (stops at the first error).
pub fn decode_all(bytes: &[u8], version: ProtocolVersion) -> Vec<Packet> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match decode(&bytes[at..], version, usize::MAX) {
            Ok(Some((p, n))) => {
                out.push(p);
                at += n;
            }
            _ => break,
        }
    }
    out
}

pub fn encode_one(p: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let mut out = Vec::new();
    encode(p, version, &mut out).expect("test packet encodes");
    out
}

// ===================================================================
// The broker
// ===================================================================

/// What the broker does with its acknowledgements of the client's
/// outgoing flow (PUBACK, PUBREC, PUBCOMP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckMode {
    Normal,
    /// Keep them until [`Broker::release_held`]; lost if the link drops.
    Hold,
    /// Never send them (the broker's state still advances).
    Drop,
}

/// When the broker kills the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropWhen {
    /// The `nth` (1-based, counted from when the rule is set) packet of this
    /// type arrives from the client. With `process` the broker acts on it
    /// but its answers are lost; without, the packet itself is lost.
    Receive {
        packet: PacketType,
        nth: usize,
        process: bool,
    },
    /// The broker is about to send its `nth` packet of this type: that
    /// packet is lost and the connection dies.
    Send { packet: PacketType, nth: usize },
    /// After the `n`th client packet (any type) was processed and answered.
    AfterPackets(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutState {
    /// QoS 1 PUBLISH sent, PUBACK due.
    Ack,
    /// QoS 2 PUBLISH sent, PUBREC due.
    Rec,
    /// PUBREL sent, PUBCOMP due.
    Comp,
}

/// The broker's state for one client id.
#[derive(Debug, Default, Clone)]
pub struct BrokerSession {
    pub subscriptions: BTreeMap<String, QoS>,
    /// Its QoS 1/2 messages to the client, in order of sending.
    outflight: Vec<(u16, Publish, OutState)>,
    /// Messages waiting for the client to connect (or for its window).
    pending: VecDeque<Publish>,
    /// Incoming QoS 2 ids between PUBREC and PUBREL.
    pub incoming_qos2: BTreeSet<u16>,
    next_id: u16,
    /// Kept after the connection ends.
    persistent: bool,
}

impl BrokerSession {
    pub fn outflight_len(&self) -> usize {
        self.outflight.len()
    }
    fn allocate(&mut self) -> u16 {
        loop {
            self.next_id = if self.next_id == u16::MAX {
                1
            } else {
                self.next_id + 1
            };
            let id = self.next_id;
            if !self.outflight.iter().any(|(i, _, _)| *i == id) {
                return id;
            }
        }
    }
}

/// A message the broker accepted from the client: what a subscriber on `#`
/// elsewhere would receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: QoS,
    pub retain: bool,
}

#[derive(Debug)]
struct Conn {
    buf: Vec<u8>,
    version: ProtocolVersion,
    client_id: Option<String>,
    /// Client to broker topic aliases.
    aliases: HashMap<u16, String>,
    /// Broker to client topic aliases.
    out_aliases: HashMap<String, u16>,
    /// Client's Topic Alias Maximum and Receive Maximum (MQTT 5 CONNECT).
    client_alias_max: u16,
    client_receive_max: usize,
    /// Client QoS 1/2 publishes of this connection whose final ack
    /// (PUBACK / PUBCOMP) the broker has not sent yet.
    unacked: BTreeSet<u16>,
    will: Option<Will>,
    graceful: bool,
    receive_counts: HashMap<PacketType, usize>,
    send_counts: HashMap<PacketType, usize>,
    packets: usize,
}

#[derive(Debug)]
pub struct Broker {
    pub sessions: HashMap<String, BrokerSession>,
    conn: Option<Conn>,
    out: Vec<u8>,
    drop_requested: bool,
    drop_rule: Option<DropWhen>,
    drop_counter: usize,
    held: Vec<Packet>,
    assigned: u32,

    // ----- script -----
    pub ack_mode: AckMode,
    /// Send every PUBACK / PUBREC twice.
    pub dup_acks: bool,
    /// Extra DUP copies of every QoS 1/2 PUBLISH sent to the client.
    pub dup_publish: usize,
    /// Forces Session Present (true keeps, false discards the session).
    pub session_present_override: Option<bool>,
    /// Refuse CONNECT with this code.
    pub refuse: Option<u8>,
    /// CONNACK properties (MQTT 5).
    pub connack_props: Properties,
    pub answer_pings: bool,
    /// Topic aliases on PUBLISH to the client (MQTT 5, within its maximum).
    pub alias_to_client: bool,
    /// Ignore the client's Receive Maximum when sending to it.
    pub ignore_client_receive_max: bool,
    /// PUBACK / PUBREC reason code per topic (MQTT 5).
    pub reject_topics: HashMap<String, u8>,
    /// SUBACK codes instead of the granted QoS.
    pub suback_codes: Option<Vec<u8>>,
    /// Do not answer CONNECT at all.
    pub mute_connack: bool,
    /// Record the client's packets but act on none of them.
    pub mute: bool,
    /// Ignore the client's PUBRECs (as if each were lost).
    pub ignore_pubrec: bool,

    // ----- observations -----
    pub received: Vec<Packet>,
    pub sent: Vec<Packet>,
    pub connects: Vec<Connect>,
    pub delivered: Vec<Delivery>,
    pub violations: Vec<String>,
    pub max_unacked_seen: usize,
    pub wills: Vec<Will>,
    pub client_disconnects: Vec<Disconnect>,
    pub connections: usize,
}

impl Default for Broker {
    fn default() -> Self {
        Self::new()
    }
}

impl Broker {
    pub fn new() -> Self {
        Broker {
            sessions: HashMap::new(),
            conn: None,
            out: Vec::new(),
            drop_requested: false,
            drop_rule: None,
            drop_counter: 0,
            held: Vec::new(),
            assigned: 0,
            ack_mode: AckMode::Normal,
            dup_acks: false,
            dup_publish: 0,
            session_present_override: None,
            refuse: None,
            connack_props: Properties::default(),
            answer_pings: true,
            alias_to_client: false,
            ignore_client_receive_max: false,
            reject_topics: HashMap::new(),
            suback_codes: None,
            mute_connack: false,
            mute: false,
            ignore_pubrec: false,
            received: Vec::new(),
            sent: Vec::new(),
            connects: Vec::new(),
            delivered: Vec::new(),
            violations: Vec::new(),
            max_unacked_seen: 0,
            wills: Vec::new(),
            client_disconnects: Vec::new(),
            connections: 0,
        }
    }

    pub fn set_drop(&mut self, rule: DropWhen) {
        self.drop_rule = Some(rule);
        self.drop_counter = 0;
    }

    pub fn clear_drop(&mut self) {
        self.drop_rule = None;
    }

    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    fn version(&self) -> ProtocolVersion {
        self.conn
            .as_ref()
            .map_or(ProtocolVersion::V5, |c| c.version)
    }

    fn session_mut(&mut self) -> Option<&mut BrokerSession> {
        let id = self.conn.as_ref()?.client_id.clone()?;
        self.sessions.get_mut(&id)
    }

    pub fn session(&self, client_id: &str) -> Option<&BrokerSession> {
        self.sessions.get(client_id)
    }

    /// Delivered payloads counted: how often the broker accepted each one.
    pub fn delivery_counts(&self) -> HashMap<Vec<u8>, usize> {
        let mut m = HashMap::new();
        for d in &self.delivered {
            *m.entry(d.payload.clone()).or_insert(0) += 1;
        }
        m
    }

    /// Packets of one type received from the client so far.
    pub fn received_of(&self, t: PacketType) -> Vec<&Packet> {
        self.received
            .iter()
            .filter(|p| p.packet_type() == t)
            .collect()
    }

    /// A new transport connection was accepted.
    pub fn accept(&mut self) {
        self.connections += 1;
        self.drop_requested = false;
        self.held.clear();
        self.out.clear();
        self.conn = Some(Conn {
            buf: Vec::new(),
            version: ProtocolVersion::V5,
            client_id: None,
            aliases: HashMap::new(),
            out_aliases: HashMap::new(),
            client_alias_max: 0,
            client_receive_max: usize::from(u16::MAX),
            unacked: BTreeSet::new(),
            will: None,
            graceful: false,
            receive_counts: HashMap::new(),
            send_counts: HashMap::new(),
            packets: 0,
        });
    }

    /// The transport closed (either side).
    pub fn link_closed(&mut self) {
        self.held.clear();
        self.out.clear();
        self.drop_requested = false;
        let Some(conn) = self.conn.take() else {
            return;
        };
        if !conn.graceful {
            if let Some(w) = conn.will {
                self.wills.push(w);
            }
        }
        if let Some(id) = conn.client_id {
            if self.sessions.get(&id).is_some_and(|s| !s.persistent) {
                self.sessions.remove(&id);
            }
        }
    }

    /// The bytes to send to the client, and whether the link must drop
    /// after them.
    pub fn take_output(&mut self) -> (Vec<u8>, bool) {
        (std::mem::take(&mut self.out), self.drop_requested)
    }

    /// Bytes from the client.
    pub fn receive(&mut self, bytes: &[u8]) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if self.drop_requested {
            return;
        }
        conn.buf.extend_from_slice(bytes);
        loop {
            let Some(conn) = self.conn.as_mut() else {
                return;
            };
            let max = self
                .connack_props
                .maximum_packet_size
                .map_or(usize::MAX, |m| m as usize);
            let (packet, size) = match decode(&conn.buf, conn.version, usize::MAX) {
                Ok(Some(x)) => x,
                Ok(None) => return,
                Err(e) => {
                    self.violations
                        .push(format!("client sent malformed bytes: {e}"));
                    self.drop_requested = true;
                    return;
                }
            };
            conn.buf.drain(..size);
            conn.packets += 1;
            let ty = packet.packet_type();
            *conn.receive_counts.entry(ty).or_insert(0) += 1;
            let nth_of_type = conn.receive_counts[&ty];
            if size > max {
                self.violations.push(format!(
                    "client sent a {size} byte {ty:?} above our maximum {max}"
                ));
            }
            self.received.push(packet.clone());
            // Receive-side drop rules.
            let mut lose_answers = false;
            if let Some(DropWhen::Receive {
                packet: t,
                nth,
                process,
            }) = self.drop_rule
            {
                if t == ty {
                    self.drop_counter += 1;
                    if self.drop_counter >= nth {
                        self.drop_rule = None;
                        if !process {
                            self.drop_requested = true;
                            return;
                        }
                        lose_answers = true;
                    }
                }
            }
            let _ = nth_of_type;
            let mark = self.out.len();
            if !self.mute {
                self.handle(packet);
            }
            if lose_answers {
                self.out.truncate(mark);
                self.drop_requested = true;
            }
            if let Some(DropWhen::AfterPackets(n)) = self.drop_rule {
                self.drop_counter += 1;
                if self.drop_counter >= n {
                    self.drop_rule = None;
                    self.drop_requested = true;
                }
            }
            if self.drop_requested {
                return;
            }
        }
    }

    /// Sends a packet to the client (subject to send-side drop rules).
    pub fn send(&mut self, packet: Packet) {
        if self.drop_requested {
            return;
        }
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let ty = packet.packet_type();
        *conn.send_counts.entry(ty).or_insert(0) += 1;
        if let Some(DropWhen::Send { packet: t, nth }) = self.drop_rule {
            if t == ty {
                self.drop_counter += 1;
                if self.drop_counter >= nth {
                    self.drop_rule = None;
                    self.drop_requested = true;
                    return;
                }
            }
        }
        match &packet {
            Packet::PubAck(a) | Packet::PubComp(a) => {
                conn.unacked.remove(&a.packet_id);
            }
            Packet::PubRec(a) if a.reason_code >= 0x80 => {
                conn.unacked.remove(&a.packet_id);
            }
            _ => {}
        }
        let version = conn.version;
        if encode(&packet, version, &mut self.out).is_err() {
            self.violations
                .push(format!("broker could not encode {packet:?}"));
        }
        self.sent.push(packet);
    }

    /// Raw bytes to the client (malformed packets).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        if self.conn.is_some() && !self.drop_requested {
            self.out.extend_from_slice(bytes);
        }
    }

    fn send_ack(&mut self, packet: Packet) {
        match self.ack_mode {
            AckMode::Normal => {
                let dup = self.dup_acks && !matches!(packet, Packet::PubComp(_));
                if dup {
                    self.send(packet.clone());
                }
                self.send(packet);
            }
            AckMode::Hold => self.held.push(packet),
            AckMode::Drop => {}
        }
    }

    /// Sends the held acks: in order, or shuffled by `rng`.
    pub fn release_held(&mut self, rng: Option<&mut Rng>) {
        let mut held = std::mem::take(&mut self.held);
        if let Some(rng) = rng {
            rng.shuffle(&mut held);
        }
        for p in held {
            if self.dup_acks && !matches!(p, Packet::PubComp(_)) {
                self.send(p.clone());
            }
            self.send(p);
        }
    }

    /// Releases up to `n` held acks, chosen at random.
    pub fn release_some(&mut self, n: usize, rng: &mut Rng) {
        for _ in 0..n {
            if self.held.is_empty() {
                return;
            }
            let i = rng.below(self.held.len());
            let p = self.held.remove(i);
            self.send(p);
        }
    }

    /// Sends the held acks that `keep` selects, in order.
    pub fn release_matching(&mut self, keep: impl Fn(&Packet) -> bool) {
        let held = std::mem::take(&mut self.held);
        let (now, later): (Vec<Packet>, Vec<Packet>) = held.into_iter().partition(|p| keep(p));
        self.held = later;
        for p in now {
            self.send(p);
        }
    }

    pub fn held_len(&self) -> usize {
        self.held.len()
    }

    fn handle(&mut self, packet: Packet) {
        let connected = self.conn.as_ref().is_some_and(|c| c.client_id.is_some());
        match packet {
            Packet::Connect(c) => {
                if connected {
                    self.violations.push("second CONNECT".into());
                    self.drop_requested = true;
                } else {
                    self.on_connect(*c);
                }
            }
            _ if !connected => {
                self.violations
                    .push(format!("{:?} before CONNECT", packet.packet_type()));
                self.drop_requested = true;
            }
            Packet::Publish(p) => self.on_publish(p),
            Packet::PubAck(a) => {
                if let Some(s) = self.session_mut() {
                    if let Some(i) = s
                        .outflight
                        .iter()
                        .position(|(id, _, st)| *id == a.packet_id && *st == OutState::Ack)
                    {
                        s.outflight.remove(i);
                    }
                }
                self.pump_pending();
            }
            Packet::PubRec(_) if self.ignore_pubrec => {}
            Packet::PubRec(a) => {
                let known = self.session_mut().is_some_and(|s| {
                    match s
                        .outflight
                        .iter_mut()
                        .find(|(id, _, st)| *id == a.packet_id && *st != OutState::Ack)
                    {
                        Some(entry) => {
                            entry.2 = OutState::Comp;
                            true
                        }
                        None => false,
                    }
                });
                let code = if known || self.version() == ProtocolVersion::V311 {
                    0
                } else {
                    0x92
                };
                self.send(Packet::PubRel(PubResp {
                    packet_id: a.packet_id,
                    reason_code: code,
                    properties: Properties::default(),
                }));
            }
            Packet::PubComp(a) => {
                if let Some(s) = self.session_mut() {
                    if let Some(i) = s
                        .outflight
                        .iter()
                        .position(|(id, _, st)| *id == a.packet_id && *st == OutState::Comp)
                    {
                        s.outflight.remove(i);
                    }
                }
                self.pump_pending();
            }
            Packet::PubRel(r) => {
                let known = self
                    .session_mut()
                    .is_some_and(|s| s.incoming_qos2.remove(&r.packet_id));
                if let Some(c) = self.conn.as_mut() {
                    c.unacked.insert(r.packet_id);
                }
                let code = if known || self.version() == ProtocolVersion::V311 {
                    0
                } else {
                    0x92
                };
                self.send_ack(Packet::PubComp(PubResp {
                    packet_id: r.packet_id,
                    reason_code: code,
                    properties: Properties::default(),
                }));
            }
            Packet::Subscribe(s) => {
                let mut codes = Vec::new();
                for sub in &s.subscriptions {
                    codes.push(sub.options.qos.as_u8());
                }
                if let Some(forced) = &self.suback_codes {
                    codes.clone_from(forced);
                }
                if let Some(bs) = self.session_mut() {
                    for (sub, code) in s.subscriptions.iter().zip(&codes) {
                        if *code < 0x80 {
                            bs.subscriptions.insert(sub.filter.clone(), sub.options.qos);
                        }
                    }
                }
                self.send(Packet::SubAck(SubAck {
                    packet_id: s.packet_id,
                    reason_codes: codes,
                    properties: Properties::default(),
                }));
            }
            Packet::Unsubscribe(u) => {
                let mut codes = Vec::new();
                if let Some(bs) = self.session_mut() {
                    for f in &u.filters {
                        codes.push(if bs.subscriptions.remove(f).is_some() {
                            0
                        } else {
                            0x11
                        });
                    }
                }
                if self.version() == ProtocolVersion::V311 {
                    codes.clear();
                }
                self.send(Packet::UnsubAck(UnsubAck {
                    packet_id: u.packet_id,
                    reason_codes: codes,
                    properties: Properties::default(),
                }));
            }
            Packet::PingReq => {
                if self.answer_pings {
                    self.send(Packet::PingResp);
                }
            }
            Packet::Disconnect(d) => {
                if let Some(c) = self.conn.as_mut() {
                    // Reason 0x04 asks for the will; any other is graceful.
                    c.graceful = d.reason_code != 0x04;
                }
                self.client_disconnects.push(d);
                self.drop_requested = true;
            }
            other => {
                self.violations
                    .push(format!("client sent {:?}", other.packet_type()));
                self.drop_requested = true;
            }
        }
    }

    fn on_connect(&mut self, c: Connect) {
        self.connects.push(c.clone());
        let version = c.protocol;
        if let Some(conn) = self.conn.as_mut() {
            conn.version = version;
            conn.will = c.will.clone();
            if version == ProtocolVersion::V5 {
                conn.client_alias_max = c.properties.topic_alias_maximum.unwrap_or(0);
                conn.client_receive_max =
                    usize::from(c.properties.receive_maximum.unwrap_or(u16::MAX));
            }
        }
        if self.mute_connack {
            return;
        }
        if let Some(code) = self.refuse {
            self.send(Packet::ConnAck(ConnAck {
                session_present: false,
                reason_code: code,
                properties: Properties::default(),
            }));
            return;
        }
        let mut props = self.connack_props.clone();
        let mut id = c.client_id.clone();
        if id.is_empty() {
            id = match &props.assigned_client_identifier {
                Some(a) => a.clone(),
                None => {
                    self.assigned += 1;
                    format!("auto-{}", self.assigned)
                }
            };
            if version == ProtocolVersion::V5 {
                props.assigned_client_identifier = Some(id.clone());
            }
        } else if version == ProtocolVersion::V5 {
            // Only an empty client id gets one assigned, unless scripted.
        }
        let persistent = match version {
            ProtocolVersion::V311 => !c.clean_start,
            ProtocolVersion::V5 => c.properties.session_expiry_interval.unwrap_or(0) > 0,
        };
        if c.clean_start {
            self.sessions.remove(&id);
        }
        let mut present = self.sessions.contains_key(&id);
        if let Some(forced) = self.session_present_override {
            if !forced {
                self.sessions.remove(&id);
            }
            present = forced;
        }
        let session = self.sessions.entry(id.clone()).or_default();
        session.persistent = persistent;
        if let Some(conn) = self.conn.as_mut() {
            conn.client_id = Some(id);
        }
        self.send(Packet::ConnAck(ConnAck {
            session_present: present,
            reason_code: 0,
            properties: props,
        }));
        if present {
            // Resend in-flight messages: PUBLISH with DUP, or PUBREL.
            let outflight = self
                .session_mut()
                .map(|s| s.outflight.clone())
                .unwrap_or_default();
            for (id, mut p, st) in outflight {
                match st {
                    OutState::Ack | OutState::Rec => {
                        p.dup = true;
                        self.send_publish(p);
                    }
                    OutState::Comp => self.send(Packet::PubRel(PubResp {
                        packet_id: id,
                        reason_code: 0,
                        properties: Properties::default(),
                    })),
                }
            }
        }
        self.pump_pending();
    }

    fn on_publish(&mut self, mut p: Publish) {
        let version = self.version();
        if let Some(alias) = p.properties.topic_alias {
            let max = self.connack_props.topic_alias_maximum.unwrap_or(0);
            if version == ProtocolVersion::V311 || alias == 0 || alias > max {
                self.violations
                    .push(format!("topic alias {alias} beyond our maximum {max}"));
            }
            if let Some(conn) = self.conn.as_mut() {
                if p.topic.is_empty() {
                    match conn.aliases.get(&alias) {
                        Some(t) => p.topic.clone_from(t),
                        None => self.violations.push(format!("unknown topic alias {alias}")),
                    }
                } else {
                    conn.aliases.insert(alias, p.topic.clone());
                }
            }
            p.properties.topic_alias = None;
        }
        let reason = self.reject_topics.get(&p.topic).copied().unwrap_or(0);
        let reason = if version == ProtocolVersion::V5 {
            reason
        } else {
            0
        };
        match p.qos {
            QoS::AtMostOnce => self.accept_message(&p),
            QoS::AtLeastOnce => {
                self.count_unacked(p.packet_id, p.dup);
                if reason < 0x80 {
                    self.accept_message(&p);
                }
                self.send_ack(Packet::PubAck(PubResp {
                    packet_id: p.packet_id,
                    reason_code: reason,
                    properties: Properties::default(),
                }));
            }
            QoS::ExactlyOnce => {
                let known = self
                    .session_mut()
                    .is_some_and(|s| s.incoming_qos2.contains(&p.packet_id));
                if known {
                    if !p.dup {
                        self.violations.push(format!(
                            "new QoS 2 PUBLISH (DUP=0) reuses id {} awaiting PUBREL: a real \
                             broker drops it as a duplicate",
                            p.packet_id
                        ));
                    }
                    if let Some(c) = self.conn.as_mut() {
                        c.unacked.insert(p.packet_id);
                    }
                } else {
                    self.count_unacked(p.packet_id, p.dup);
                    if reason < 0x80 {
                        if let Some(s) = self.session_mut() {
                            s.incoming_qos2.insert(p.packet_id);
                        }
                        self.accept_message(&p);
                    }
                }
                self.send_ack(Packet::PubRec(PubResp {
                    packet_id: p.packet_id,
                    reason_code: reason,
                    properties: Properties::default(),
                }));
            }
        }
    }

    fn count_unacked(&mut self, id: u16, dup: bool) {
        let Some(c) = self.conn.as_mut() else {
            return;
        };
        // Receive Maximum is an MQTT 5 property: a 3.1.1 client never sees it.
        let window = match c.version {
            ProtocolVersion::V5 => self.connack_props.receive_maximum.unwrap_or(u16::MAX),
            ProtocolVersion::V311 => u16::MAX,
        };
        let window = usize::from(window);
        if !c.unacked.insert(id) && !dup {
            self.violations.push(format!(
                "packet id {id} reused while its message is unacknowledged"
            ));
        }
        let n = c.unacked.len();
        self.max_unacked_seen = self.max_unacked_seen.max(n);
        if n > window {
            self.violations.push(format!(
                "{n} unacknowledged QoS 1/2 messages, above Receive Maximum {window}"
            ));
        }
    }

    /// A message accepted from the client: recorded and routed to the
    /// subscriptions that match (the client's own included).
    fn accept_message(&mut self, p: &Publish) {
        self.delivered.push(Delivery {
            topic: p.topic.clone(),
            payload: p.payload.clone(),
            qos: p.qos,
            retain: p.retain,
        });
        self.route(&p.topic, &p.payload, p.qos);
    }

    /// An external publisher's message: routed to every matching session.
    pub fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS) {
        self.route(topic, payload, qos);
    }

    fn route(&mut self, topic: &str, payload: &[u8], qos: QoS) {
        let mut ids: Vec<String> = self.sessions.keys().cloned().collect();
        ids.sort();
        for id in ids {
            let Some(s) = self.sessions.get_mut(&id) else {
                continue;
            };
            let granted = s
                .subscriptions
                .iter()
                .filter(|(f, _)| topic_matches(f, topic))
                .map(|(_, q)| *q)
                .max();
            let Some(granted) = granted else {
                continue;
            };
            let q = granted.min(qos);
            let p = Publish {
                dup: false,
                qos: q,
                retain: false,
                topic: topic.to_owned(),
                packet_id: 0,
                payload: payload.to_vec(),
                properties: Properties::default(),
            };
            let online = self
                .conn
                .as_ref()
                .is_some_and(|c| c.client_id.as_deref() == Some(id.as_str()));
            if q == QoS::AtMostOnce {
                if online {
                    self.send_publish(p);
                }
            } else if let Some(s) = self.sessions.get_mut(&id) {
                s.pending.push_back(p);
                if online {
                    self.pump_pending();
                }
            }
        }
    }

    /// Sends pending QoS 1/2 messages to the connected client within its
    /// Receive Maximum.
    fn pump_pending(&mut self) {
        let Some(conn) = self.conn.as_ref() else {
            return;
        };
        if conn.client_id.is_none() {
            return;
        }
        let limit = if self.ignore_client_receive_max {
            usize::MAX
        } else {
            conn.client_receive_max
        };
        loop {
            if self.drop_requested {
                return;
            }
            let Some(s) = self.session_mut() else {
                return;
            };
            if s.outflight.len() >= limit {
                return;
            }
            let Some(mut p) = s.pending.pop_front() else {
                return;
            };
            p.packet_id = s.allocate();
            let st = if p.qos == QoS::AtLeastOnce {
                OutState::Ack
            } else {
                OutState::Rec
            };
            s.outflight.push((p.packet_id, p.clone(), st));
            let extra = self.dup_publish;
            self.send_publish(p.clone());
            for _ in 0..extra {
                let mut d = p.clone();
                d.dup = true;
                self.send_publish(d);
            }
        }
    }

    /// Sends a PUBLISH to the client, with a topic alias when scripted.
    fn send_publish(&mut self, mut p: Publish) {
        if self.alias_to_client {
            if let Some(c) = self.conn.as_mut() {
                if c.version == ProtocolVersion::V5 && c.client_alias_max > 0 {
                    if let Some(&a) = c.out_aliases.get(&p.topic) {
                        p.properties.topic_alias = Some(a);
                        p.topic.clear();
                    } else if c.out_aliases.len() < usize::from(c.client_alias_max) {
                        let a = c.out_aliases.len() as u16 + 1;
                        c.out_aliases.insert(p.topic.clone(), a);
                        p.properties.topic_alias = Some(a);
                    }
                }
            }
        }
        self.send(Packet::Publish(p));
    }
}

// ===================================================================
// The store the driver keeps from Persist ops
// ===================================================================

#[derive(Debug, Default, Clone)]
pub struct Store {
    pub messages: BTreeMap<u64, StoredMessage>,
    pub incoming: BTreeSet<u16>,
    pub subscriptions: BTreeMap<String, Subscription>,
    pub errors: Vec<String>,
}

impl Store {
    pub fn apply(&mut self, op: &PersistOp) {
        match op {
            PersistOp::PutMessage(m) => {
                self.messages.insert(m.seq, (**m).clone());
            }
            PersistOp::SetMessageState {
                seq,
                packet_id,
                state,
                attempts,
                ..
            } => match self.messages.get_mut(seq) {
                Some(m) => {
                    m.packet_id = *packet_id;
                    m.state = *state;
                    m.attempts = *attempts;
                }
                None => self
                    .errors
                    .push(format!("SetMessageState for seq {seq} never stored")),
            },
            PersistOp::DeleteMessage { seq } => {
                if self.messages.remove(seq).is_none() {
                    self.errors
                        .push(format!("DeleteMessage for seq {seq} never stored"));
                }
            }
            PersistOp::PutIncoming { packet_id } => {
                self.incoming.insert(*packet_id);
            }
            PersistOp::DeleteIncoming { packet_id } => {
                self.incoming.remove(packet_id);
            }
            PersistOp::ClearIncoming => self.incoming.clear(),
            PersistOp::PutSubscription(s) => {
                self.subscriptions.insert(s.filter.clone(), s.clone());
            }
            PersistOp::DeleteSubscription { filter } => {
                self.subscriptions.remove(filter);
            }
        }
    }

    pub fn to_state(&self) -> SessionState {
        SessionState {
            messages: self.messages.values().cloned().collect(),
            incoming_qos2: self.incoming.iter().copied().collect(),
            subscriptions: self.subscriptions.values().cloned().collect(),
        }
    }
}

/// A state with the details that need not be durable evened out: the
/// attempt count, and PUBREC received vs PUBREL sent (both mean "PUBREL
/// owed"). QoS 0 messages are not persisted while online, so left out.
pub fn normalize(mut s: SessionState) -> SessionState {
    s.messages.retain(|m| m.message.qos != QoS::AtMostOnce);
    for m in &mut s.messages {
        m.attempts = 0;
        if m.state == MessageState::Released {
            m.state = MessageState::Received;
        }
    }
    s.messages.sort_by_key(|m| m.seq);
    s.incoming_qos2.sort_unstable();
    s.subscriptions.sort_by(|a, b| a.filter.cmp(&b.filter));
    s
}

// ===================================================================
// The driver
// ===================================================================

/// Which way a logged packet went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    ToBroker,
    ToClient,
}

#[derive(Debug)]
pub struct Pair {
    pub session: Session,
    pub broker: Broker,
    pub now: u64,
    pub link_up: bool,
    /// Every output the session produced, in order.
    pub log: Vec<Output>,
    pub events: Vec<Event>,
    /// PublishDone count per id (kept even when `events` is cleared).
    pub done_map: HashMap<u64, usize>,
    pub closes: Vec<CloseReason>,
    pub store: Store,
    /// Packets that crossed the link (decoded), with their direction.
    pub wire: Vec<(Dir, Packet)>,
    /// Packet ids the client holds for a QoS 1/2 PUBLISH (by payload) or a
    /// request, as seen on the wire; a clash is recorded in `id_violations`.
    client_ids: HashMap<u16, Option<Vec<u8>>>,
    pub id_violations: Vec<String>,
    to_broker: VecDeque<Vec<u8>>,
    to_client: VecDeque<Vec<u8>>,
    version: ProtocolVersion,
}

impl Pair {
    pub fn new(config: SessionConfig) -> Self {
        let version = config.protocol;
        Self::with_session(Session::new(config), Broker::new(), version)
    }

    pub fn with_session(session: Session, broker: Broker, version: ProtocolVersion) -> Self {
        Pair {
            session,
            broker,
            now: 1_000,
            link_up: false,
            log: Vec::new(),
            events: Vec::new(),
            done_map: HashMap::new(),
            closes: Vec::new(),
            store: Store::default(),
            wire: Vec::new(),
            client_ids: HashMap::new(),
            id_violations: Vec::new(),
            to_broker: VecDeque::new(),
            to_client: VecDeque::new(),
            version,
        }
    }

    /// Opens the transport and drives until quiet.
    pub fn connect(&mut self) {
        if self.link_up {
            self.drop_link();
        }
        self.link_up = true;
        self.broker.accept();
        // Request ids are given back by the session on a new connection.
        self.client_ids.retain(|_, v| v.is_some());
        self.session.handle_connected(self.now);
        self.drive();
    }

    /// The transport dies under both sides; bytes in flight are lost.
    pub fn drop_link(&mut self) {
        self.to_broker.clear();
        self.to_client.clear();
        if self.link_up {
            self.link_up = false;
            self.session.handle_closed(self.now);
            self.broker.link_closed();
        }
        self.drain_session();
        self.to_broker.clear();
    }

    /// Reconnects (dropping the current link if any).
    pub fn reconnect(&mut self) {
        self.drop_link();
        self.connect();
    }

    /// A page reload: the link dies, pending outputs are lost except the
    /// Persist ops already applied, and a fresh engine resumes from the
    /// store (`from_store`) or from `export_state()` of the old one.
    pub fn reload(&mut self, config: SessionConfig, from_store: bool) {
        self.to_broker.clear();
        self.to_client.clear();
        if self.link_up {
            self.link_up = false;
            self.broker.link_closed();
        }
        let state = if from_store {
            // Outputs not drained yet: the driver applied Persist ops first.
            while let Some(o) = self.session.poll_output() {
                if let Output::Persist(op) = &o {
                    self.store.apply(op);
                }
                self.log.push(o);
            }
            self.store.to_state()
        } else {
            // The driver's store is whatever was exported.
            let state = self.session.export_state();
            self.store = Store::default();
            for m in &state.messages {
                self.store.messages.insert(m.seq, m.clone());
            }
            self.store.incoming = state.incoming_qos2.iter().copied().collect();
            for s in &state.subscriptions {
                self.store.subscriptions.insert(s.filter.clone(), s.clone());
            }
            state
        };
        self.session = Session::with_state(config, state);
    }

    fn drain_session(&mut self) {
        while let Some(o) = self.session.poll_output() {
            match &o {
                Output::Transmit(bytes) => {
                    let packets = decode_all(bytes, self.version);
                    for p in packets {
                        self.check_client_packet(&p);
                        self.wire.push((Dir::ToBroker, p));
                    }
                    if self.link_up {
                        self.to_broker.push_back(bytes.clone());
                    }
                }
                Output::Persist(op) => self.store.apply(op),
                Output::Event(e) => {
                    if let Event::PublishDone { id } = e {
                        *self.done_map.entry(*id).or_insert(0) += 1;
                    }
                    // Give every delivered message back for reuse, as the
                    // browser driver does, with junk in it: later messages
                    // must not show any of it.
                    if let Event::Message(m) = e {
                        let (mut topic, mut payload) = (m.topic.clone(), m.payload.clone());
                        topic.push_str("junk");
                        payload.extend_from_slice(b"junk");
                        self.session.recycle_message(Publish {
                            topic,
                            payload,
                            ..m.clone()
                        });
                    }
                    self.events.push(e.clone());
                }
                Output::Close(reason) => {
                    self.closes.push(reason.clone());
                    // Bytes written before the close still go out.
                    self.log.push(o.clone());
                    if self.link_up {
                        while let Some(b) = self.to_broker.pop_front() {
                            self.broker.receive(&b);
                        }
                        self.link_up = false;
                        self.broker.link_closed();
                    }
                    self.to_client.clear();
                    continue;
                }
            }
            self.log.push(o);
        }
    }

    fn check_client_packet(&mut self, p: &Packet) {
        match p {
            Packet::Publish(pb) if pb.qos != QoS::AtMostOnce => {
                match self.client_ids.get(&pb.packet_id) {
                    Some(Some(payload)) if *payload != pb.payload => self.id_violations.push(
                        format!("packet id {} reused for another message", pb.packet_id),
                    ),
                    Some(None) => self.id_violations.push(format!(
                        "packet id {} used by a PUBLISH and a pending request",
                        pb.packet_id
                    )),
                    _ => {}
                }
                self.client_ids
                    .insert(pb.packet_id, Some(pb.payload.clone()));
            }
            Packet::Subscribe(s) => self.claim_request_id(s.packet_id),
            Packet::Unsubscribe(u) => self.claim_request_id(u.packet_id),
            _ => {}
        }
    }

    fn claim_request_id(&mut self, id: u16) {
        if self.client_ids.insert(id, None).is_some() {
            self.id_violations
                .push(format!("request packet id {id} already in use"));
        }
    }

    fn observe_to_client(&mut self, bytes: &[u8]) {
        for p in decode_all(bytes, self.version) {
            match &p {
                Packet::PubAck(a) | Packet::PubComp(a) => {
                    self.client_ids.remove(&a.packet_id);
                }
                Packet::PubRec(a) if a.reason_code >= 0x80 => {
                    self.client_ids.remove(&a.packet_id);
                }
                Packet::SubAck(a) => {
                    self.client_ids.remove(&a.packet_id);
                }
                Packet::UnsubAck(a) => {
                    self.client_ids.remove(&a.packet_id);
                }
                Packet::ConnAck(c) if !c.session_present => self.client_ids.clear(),
                _ => {}
            }
            self.wire.push((Dir::ToClient, p));
        }
    }

    /// Moves bytes both ways until neither side has anything to say.
    pub fn drive(&mut self) {
        for _ in 0..1_000_000 {
            self.drain_session();
            if !self.link_up {
                return;
            }
            let (out, drop) = self.broker.take_output();
            if !out.is_empty() {
                self.to_client.push_back(out);
            }
            if drop {
                // What the broker sent before the fatal packet arrives.
                while let Some(b) = self.to_client.pop_front() {
                    self.observe_to_client(&b);
                    self.session.handle_bytes(&b, self.now);
                }
                self.drop_link();
                return;
            }
            if let Some(b) = self.to_broker.pop_front() {
                self.broker.receive(&b);
            } else if let Some(b) = self.to_client.pop_front() {
                self.observe_to_client(&b);
                self.session.handle_bytes(&b, self.now);
            } else {
                return;
            }
        }
        panic!("drive() did not settle");
    }

    /// Lets `ms` of simulated time pass, firing the session's timers when
    /// they fall due and driving after each.
    pub fn advance(&mut self, ms: u64) {
        let target = self.now + ms;
        let mut guard = 0;
        loop {
            self.drive();
            match self.session.poll_timeout() {
                Some(t) if t <= target => {
                    guard += 1;
                    assert!(guard < 100_000, "poll_timeout() does not move on");
                    self.now = self.now.max(t);
                    self.session.handle_timeout(self.now);
                }
                _ => break,
            }
        }
        self.now = target;
        self.drive();
    }

    /// Publishes through the session and drives.
    pub fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS) -> Result<u64, PublishError> {
        let r = self.session.publish(msg(topic, payload, qos), self.now);
        self.drive();
        r
    }

    pub fn subscribe(&mut self, filter: &str, qos: QoS) -> u64 {
        let r = self
            .session
            .subscribe(
                vec![Subscription {
                    filter: filter.to_owned(),
                    options: SubscriptionOptions {
                        qos,
                        ..SubscriptionOptions::default()
                    },
                }],
                Properties::default(),
                self.now,
            )
            .expect("valid subscribe");
        self.drive();
        r
    }

    /// Sends a packet from the broker to the client and drives.
    pub fn broker_send(&mut self, p: Packet) {
        self.broker.send(p);
        self.drive();
    }

    pub fn broker_send_raw(&mut self, bytes: &[u8]) {
        self.broker.send_raw(bytes);
        self.drive();
    }

    // ----- observations -----

    pub fn done_counts(&self) -> &HashMap<u64, usize> {
        &self.done_map
    }

    pub fn done(&self, id: u64) -> usize {
        self.done_map.get(&id).copied().unwrap_or(0)
    }

    pub fn failures(&self) -> Vec<(u64, PublishError)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::PublishFailed { id, error } => Some((*id, error.clone())),
                _ => None,
            })
            .collect()
    }

    pub fn messages(&self) -> Vec<Publish> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Message(p) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn message_counts(&self) -> HashMap<Vec<u8>, usize> {
        let mut m = HashMap::new();
        for p in self.messages() {
            *m.entry(p.payload).or_insert(0) += 1;
        }
        m
    }

    pub fn connected_events(&self) -> Vec<ConnAck> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Connected(c) => Some(c.clone()),
                _ => None,
            })
            .collect()
    }

    /// Packets the client put on the wire, of one type.
    pub fn sent_of(&self, t: PacketType) -> Vec<Packet> {
        self.wire
            .iter()
            .filter(|(d, p)| *d == Dir::ToBroker && p.packet_type() == t)
            .map(|(_, p)| p.clone())
            .collect()
    }

    /// Client PUBLISHes put on the wire.
    pub fn sent_publishes(&self) -> Vec<Publish> {
        self.wire
            .iter()
            .filter_map(|(d, p)| match (d, p) {
                (Dir::ToBroker, Packet::Publish(p)) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }

    /// Decoded packets of each Transmit logged from index `from` on.
    pub fn transmits_since(&self, from: usize) -> Vec<Vec<Packet>> {
        self.log[from..]
            .iter()
            .filter_map(|o| match o {
                Output::Transmit(b) => Some(decode_all(b, self.version)),
                _ => None,
            })
            .collect()
    }

    /// Asserts that nothing went wrong at the protocol level.
    pub fn assert_clean(&self) {
        assert!(
            self.broker.violations.is_empty(),
            "broker saw violations: {:#?}",
            self.broker.violations
        );
        assert!(
            self.id_violations.is_empty(),
            "packet id clashes: {:#?}",
            self.id_violations
        );
        assert!(
            self.store.errors.is_empty(),
            "persist stream errors: {:#?}",
            self.store.errors
        );
    }

    /// Write-ahead: replaying the log, every QoS 1/2 PUBLISH, PUBREL and
    /// PUBREC leaves only when the store already says so.
    pub fn assert_write_ahead(&self) {
        let mut store = Store::default();
        for (i, o) in self.log.iter().enumerate() {
            match o {
                Output::Persist(op) => store.apply(op),
                Output::Transmit(b) => {
                    for p in decode_all(b, self.version) {
                        match &p {
                            Packet::Publish(pb) if pb.qos != QoS::AtMostOnce => {
                                let ok = store.messages.values().any(|m| {
                                    m.message.payload == pb.payload
                                        && m.packet_id == pb.packet_id
                                        && m.state != MessageState::Queued
                                });
                                assert!(
                                    ok,
                                    "output {i}: PUBLISH id {} payload {:?} sent before the \
                                     store held it with that id",
                                    pb.packet_id,
                                    String::from_utf8_lossy(&pb.payload)
                                );
                            }
                            Packet::PubRel(r) => {
                                let ok = store.messages.values().any(|m| {
                                    m.packet_id == r.packet_id
                                        && matches!(
                                            m.state,
                                            MessageState::Received | MessageState::Released
                                        )
                                });
                                assert!(
                                    ok,
                                    "output {i}: PUBREL {} sent before the store knew PUBREC",
                                    r.packet_id
                                );
                            }
                            Packet::PubRec(r) if r.reason_code < 0x80 => {
                                assert!(
                                    store.incoming.contains(&r.packet_id),
                                    "output {i}: PUBREC {} sent before PutIncoming",
                                    r.packet_id
                                );
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// A connected pair with the given CONNACK properties.
pub fn connected(config: SessionConfig, connack_props: Properties) -> Pair {
    let mut p = Pair::new(config);
    p.broker.connack_props = connack_props;
    p.connect();
    assert!(p.session.is_connected(), "CONNACK accepted");
    p
}
