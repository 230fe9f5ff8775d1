//! Session configuration: what the application chose at connect time.

use crate::codec::{Properties, ProtocolVersion, Will, MAX_VARINT};

/// What happens to messages in flight when the broker answers CONNACK
/// without a session (Session Present = 0) although we had sent them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResendPolicy {
    /// Send them again as new messages (new packet id, DUP = 0), in their
    /// original order, so nothing accepted is lost. A QoS 2 message whose
    /// PUBREC had arrived was accepted by the broker and counts as delivered.
    #[default]
    Republish,
    /// Fail them with [`super::PublishError::SessionLost`].
    Fail,
}

/// The 3.1.1 default inflight window: mosquitto's default
/// `max_inflight_messages` (it drops QoS 2 messages beyond it from 3.1.1
/// clients after acknowledging them).
pub const DEFAULT_MAX_INFLIGHT_V311: u16 = 20;

/// Connection and session parameters.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// MQTT version spoken.
    pub protocol: ProtocolVersion,
    /// Client identifier; empty asks the broker to assign one (then the
    /// assigned one is used on reconnects).
    pub client_id: String,
    /// Clean Session / Clean Start on every connection.
    pub clean_start: bool,
    /// Keep alive in seconds; 0 disables it.
    pub keep_alive: u16,
    /// How long to wait for PINGRESP after PINGREQ, in ms; `None` uses the
    /// keep alive interval (capped at 30 s).
    pub ping_timeout_ms: Option<u64>,
    /// How long to wait for CONNACK, in ms.
    pub connect_timeout_ms: u64,
    /// User name.
    pub username: Option<String>,
    /// Password; kept in memory only, never in exported state.
    pub password: Option<Vec<u8>>,
    /// Will message.
    pub will: Option<Will>,
    /// MQTT 5 CONNECT properties (session expiry, receive maximum, topic
    /// alias maximum, user properties, ...).
    pub properties: Properties,
    /// Outgoing QoS 1/2 window; `None` uses the MQTT 5 broker's Receive
    /// Maximum, or [`DEFAULT_MAX_INFLIGHT_V311`] under 3.1.1. Never above the
    /// broker's Receive Maximum.
    pub max_inflight: Option<u16>,
    /// Messages waiting to be sent (offline, or behind a full window) at
    /// most; past it `publish` fails with `QueueFull`.
    pub max_queued: usize,
    /// Largest packet accepted from the broker and sent to it, in bytes.
    pub max_packet_size: u32,
    /// Subscribe again when the broker kept no session.
    pub resubscribe: bool,
    /// What to do with in-flight messages when the broker kept no session.
    pub resend_policy: ResendPolicy,
    /// Assign MQTT 5 topic aliases to outgoing messages when the broker
    /// allows them.
    pub auto_topic_alias: bool,
    /// Emit [`super::Output::Persist`] operations (for a durable store). With
    /// `false` the session's own memory is the only store.
    pub durable: bool,
}

impl SessionConfig {
    /// Defaults of shared/api.md for `protocol` and `client_id`.
    pub fn new(protocol: ProtocolVersion, client_id: impl Into<String>) -> Self {
        SessionConfig {
            protocol,
            client_id: client_id.into(),
            clean_start: true,
            keep_alive: 60,
            ping_timeout_ms: None,
            connect_timeout_ms: 30_000,
            username: None,
            password: None,
            will: None,
            properties: Properties::default(),
            max_inflight: None,
            max_queued: 10_000,
            max_packet_size: MAX_VARINT,
            resubscribe: true,
            resend_policy: ResendPolicy::default(),
            auto_topic_alias: true,
            durable: false,
        }
    }
}
