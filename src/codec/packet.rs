//! The MQTT control packets of 3.1.1 and 5.0 as plain values.
//!
//! One type serves both protocol versions: fields that exist only in MQTT 5
//! (reason codes on acknowledgements, properties) keep their neutral value
//! (`0`, empty) under 3.1.1, and the encoder leaves them out.

use serde::{Deserialize, Serialize};

use super::properties::Properties;

/// The protocol level carried in CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProtocolVersion {
    /// MQTT 3.1.1 (protocol level 4).
    V311,
    /// MQTT 5.0 (protocol level 5).
    V5,
}

impl ProtocolVersion {
    /// The protocol level byte of CONNECT.
    pub fn level(self) -> u8 {
        match self {
            ProtocolVersion::V311 => 4,
            ProtocolVersion::V5 => 5,
        }
    }

    /// The version for a protocol level byte, if it is one this crate speaks.
    pub fn from_level(level: u8) -> Option<Self> {
        match level {
            4 => Some(ProtocolVersion::V311),
            5 => Some(ProtocolVersion::V5),
            _ => None,
        }
    }
}

/// Quality of service of a message or subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum QoS {
    /// At most once: no acknowledgement.
    AtMostOnce = 0,
    /// At least once: PUBLISH, PUBACK.
    AtLeastOnce = 1,
    /// Exactly once: PUBLISH, PUBREC, PUBREL, PUBCOMP.
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS for its wire value; `None` for 3 and above.
    pub fn from_u8(value: u8) -> Option<Self> {
        match value {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }

    /// The wire value (0, 1 or 2).
    pub fn as_u8(self) -> u8 {
        self as u8
    }
}

/// The control packet type, the high nibble of the fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// 1
    Connect = 1,
    /// 2
    ConnAck = 2,
    /// 3
    Publish = 3,
    /// 4
    PubAck = 4,
    /// 5
    PubRec = 5,
    /// 6
    PubRel = 6,
    /// 7
    PubComp = 7,
    /// 8
    Subscribe = 8,
    /// 9
    SubAck = 9,
    /// 10
    Unsubscribe = 10,
    /// 11
    UnsubAck = 11,
    /// 12
    PingReq = 12,
    /// 13
    PingResp = 13,
    /// 14
    Disconnect = 14,
    /// 15, MQTT 5 only
    Auth = 15,
}

impl PacketType {
    /// The type's name, as `{:?}` writes it.
    pub fn name(self) -> &'static str {
        match self {
            PacketType::Connect => "Connect",
            PacketType::ConnAck => "ConnAck",
            PacketType::Publish => "Publish",
            PacketType::PubAck => "PubAck",
            PacketType::PubRec => "PubRec",
            PacketType::PubRel => "PubRel",
            PacketType::PubComp => "PubComp",
            PacketType::Subscribe => "Subscribe",
            PacketType::SubAck => "SubAck",
            PacketType::Unsubscribe => "Unsubscribe",
            PacketType::UnsubAck => "UnsubAck",
            PacketType::PingReq => "PingReq",
            PacketType::PingResp => "PingResp",
            PacketType::Disconnect => "Disconnect",
            PacketType::Auth => "Auth",
        }
    }
}

/// A Will message carried in CONNECT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Will {
    /// Topic name the broker publishes the will to.
    pub topic: String,
    /// Will payload.
    pub payload: Vec<u8>,
    /// QoS of the will message.
    pub qos: QoS,
    /// Whether the will is retained.
    pub retain: bool,
    /// MQTT 5 will properties (will delay interval, message expiry, ...).
    pub properties: Properties,
}

/// CONNECT (client to broker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connect {
    /// Protocol level to announce; also selects the encoding of the packet.
    pub protocol: ProtocolVersion,
    /// Clean Session (3.1.1) / Clean Start (5.0).
    pub clean_start: bool,
    /// Keep alive in seconds; 0 disables it.
    pub keep_alive: u16,
    /// Client identifier; may be empty to ask the broker to assign one.
    pub client_id: String,
    /// Optional will message.
    pub will: Option<Will>,
    /// Optional user name.
    pub username: Option<String>,
    /// Optional password (binary data).
    pub password: Option<Vec<u8>>,
    /// MQTT 5 CONNECT properties.
    pub properties: Properties,
}

/// CONNACK (broker to client).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConnAck {
    /// The broker kept state from an earlier connection.
    pub session_present: bool,
    /// 3.1.1 return code (0-5) or MQTT 5 reason code.
    pub reason_code: u8,
    /// MQTT 5 CONNACK properties.
    pub properties: Properties,
}

/// PUBLISH (both directions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publish {
    /// DUP flag: this may be a redelivery.
    pub dup: bool,
    /// Delivery QoS.
    pub qos: QoS,
    /// RETAIN flag.
    pub retain: bool,
    /// Topic name; may be empty in MQTT 5 when a topic alias stands for it.
    pub topic: String,
    /// Packet identifier; 0 for QoS 0 (and then not encoded).
    pub packet_id: u16,
    /// Application payload.
    pub payload: Vec<u8>,
    /// MQTT 5 PUBLISH properties.
    pub properties: Properties,
}

impl Publish {
    /// A QoS 0 message with no flags and packet id 0 holding `topic`,
    /// `payload` and `properties`: a spare whose allocations the decoder
    /// reuses.
    pub(crate) fn spare(topic: String, payload: Vec<u8>, properties: Properties) -> Publish {
        Publish {
            dup: false,
            qos: QoS::AtMostOnce,
            retain: false,
            topic,
            packet_id: 0,
            payload,
            properties,
        }
    }
}

/// PUBACK, PUBREC, PUBREL or PUBCOMP: a packet id with an optional MQTT 5
/// reason code and properties.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PubResp {
    /// Packet identifier being acknowledged (non-zero).
    pub packet_id: u16,
    /// MQTT 5 reason code; 0 (success) under 3.1.1.
    pub reason_code: u8,
    /// MQTT 5 properties (reason string, user properties).
    pub properties: Properties,
}

/// What the broker does with retained messages when a subscription is made
/// (MQTT 5 subscription option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RetainHandling {
    /// Send retained messages at the time of the subscribe.
    #[default]
    SendAtSubscribe = 0,
    /// Send them only if the subscription did not exist.
    SendIfNew = 1,
    /// Do not send retained messages.
    DoNotSend = 2,
}

/// Subscription options (QoS and, in MQTT 5, No Local, Retain As Published,
/// Retain Handling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionOptions {
    /// Maximum QoS the client accepts on this subscription.
    pub qos: QoS,
    /// MQTT 5: do not receive own publications.
    pub no_local: bool,
    /// MQTT 5: keep the RETAIN flag as published.
    pub retain_as_published: bool,
    /// MQTT 5: retained message handling.
    pub retain_handling: RetainHandling,
}

impl Default for SubscriptionOptions {
    fn default() -> Self {
        SubscriptionOptions {
            qos: QoS::AtMostOnce,
            no_local: false,
            retain_as_published: false,
            retain_handling: RetainHandling::SendAtSubscribe,
        }
    }
}

/// One topic filter of a SUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// Topic filter (may contain wildcards).
    pub filter: String,
    /// Options for this filter.
    pub options: SubscriptionOptions,
}

/// SUBSCRIBE (client to broker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscribe {
    /// Packet identifier (non-zero).
    pub packet_id: u16,
    /// At least one filter.
    pub subscriptions: Vec<Subscription>,
    /// MQTT 5 properties (subscription identifier, user properties).
    pub properties: Properties,
}

/// SUBACK (broker to client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubAck {
    /// Packet identifier of the SUBSCRIBE.
    pub packet_id: u16,
    /// One per filter: granted QoS (0-2) or a failure code (>= 0x80).
    pub reason_codes: Vec<u8>,
    /// MQTT 5 properties.
    pub properties: Properties,
}

/// UNSUBSCRIBE (client to broker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unsubscribe {
    /// Packet identifier (non-zero).
    pub packet_id: u16,
    /// At least one filter.
    pub filters: Vec<String>,
    /// MQTT 5 properties.
    pub properties: Properties,
}

/// UNSUBACK (broker to client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsubAck {
    /// Packet identifier of the UNSUBSCRIBE.
    pub packet_id: u16,
    /// MQTT 5: one reason code per filter; empty under 3.1.1.
    pub reason_codes: Vec<u8>,
    /// MQTT 5 properties.
    pub properties: Properties,
}

/// DISCONNECT (both directions in MQTT 5).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Disconnect {
    /// MQTT 5 reason code; 0 under 3.1.1.
    pub reason_code: u8,
    /// MQTT 5 properties.
    pub properties: Properties,
}

/// AUTH (MQTT 5 only).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Auth {
    /// Reason code (0x00, 0x18 or 0x19).
    pub reason_code: u8,
    /// Authentication method and data, reason string, user properties.
    pub properties: Properties,
}

/// Any MQTT control packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Packet {
    /// CONNECT
    Connect(Box<Connect>),
    /// CONNACK
    ConnAck(ConnAck),
    /// PUBLISH
    Publish(Publish),
    /// PUBACK
    PubAck(PubResp),
    /// PUBREC
    PubRec(PubResp),
    /// PUBREL
    PubRel(PubResp),
    /// PUBCOMP
    PubComp(PubResp),
    /// SUBSCRIBE
    Subscribe(Subscribe),
    /// SUBACK
    SubAck(SubAck),
    /// UNSUBSCRIBE
    Unsubscribe(Unsubscribe),
    /// UNSUBACK
    UnsubAck(UnsubAck),
    /// PINGREQ
    PingReq,
    /// PINGRESP
    PingResp,
    /// DISCONNECT
    Disconnect(Disconnect),
    /// AUTH (MQTT 5 only)
    Auth(Auth),
}

impl Packet {
    /// The control packet type of this packet.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Connect(_) => PacketType::Connect,
            Packet::ConnAck(_) => PacketType::ConnAck,
            Packet::Publish(_) => PacketType::Publish,
            Packet::PubAck(_) => PacketType::PubAck,
            Packet::PubRec(_) => PacketType::PubRec,
            Packet::PubRel(_) => PacketType::PubRel,
            Packet::PubComp(_) => PacketType::PubComp,
            Packet::Subscribe(_) => PacketType::Subscribe,
            Packet::SubAck(_) => PacketType::SubAck,
            Packet::Unsubscribe(_) => PacketType::Unsubscribe,
            Packet::UnsubAck(_) => PacketType::UnsubAck,
            Packet::PingReq => PacketType::PingReq,
            Packet::PingResp => PacketType::PingResp,
            Packet::Disconnect(_) => PacketType::Disconnect,
            Packet::Auth(_) => PacketType::Auth,
        }
    }
}
