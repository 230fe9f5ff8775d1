//! The errors the client reports to the application: one code per cause, as
//! listed in shared/api.md, with the MQTT reason code where there is one.

use std::fmt;

use crate::session::{CloseReason, PublishError, RequestError};
use crate::store::StoreError;

/// The `code` of an `MqttError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The URL is not ws:// or wss://, or cannot be parsed.
    InvalidUrl,
    /// An option is unknown, of the wrong type or out of range.
    InvalidOptions,
    /// CONNACK refused the connection.
    ConnectionRefused,
    /// The connection failed or was lost.
    ConnectionLost,
    /// No CONNACK within `connectTimeout`.
    Timeout,
    /// A topic name or filter breaks the topic rules.
    InvalidTopic,
    /// QoS other than 0, 1, 2.
    InvalidQos,
    /// The offline queue is full.
    QueueFull,
    /// A packet exceeds the maximum packet size.
    PacketTooLarge,
    /// The client was ended.
    Closed,
    /// The broker refused a message (MQTT 5 reason code).
    PublishFailed,
    /// The broker broke the protocol.
    ProtocolError,
    /// The session store failed.
    StoreError,
    /// Another tab or worker holds this (URL, client id) session and the
    /// `lock` option is "fail".
    SessionLocked,
}

impl ErrorCode {
    /// The code's name as JavaScript sees it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidUrl => "InvalidUrl",
            ErrorCode::InvalidOptions => "InvalidOptions",
            ErrorCode::ConnectionRefused => "ConnectionRefused",
            ErrorCode::ConnectionLost => "ConnectionLost",
            ErrorCode::Timeout => "Timeout",
            ErrorCode::InvalidTopic => "InvalidTopic",
            ErrorCode::InvalidQos => "InvalidQos",
            ErrorCode::QueueFull => "QueueFull",
            ErrorCode::PacketTooLarge => "PacketTooLarge",
            ErrorCode::Closed => "Closed",
            ErrorCode::PublishFailed => "PublishFailed",
            ErrorCode::ProtocolError => "ProtocolError",
            ErrorCode::StoreError => "StoreError",
            ErrorCode::SessionLocked => "SessionLocked",
        }
    }
}

/// An error for the application: code, message, optional reason code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// A sentence for people.
    pub message: String,
    /// The MQTT reason / return code, where the broker gave one.
    pub reason_code: Option<u8>,
}

impl ClientError {
    /// An error without reason code.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ClientError {
            code,
            message: message.into(),
            reason_code: None,
        }
    }

    /// The error a publish call reports for `e`.
    pub fn from_publish(e: &PublishError) -> Self {
        let code = match e {
            PublishError::InvalidTopic(_) => ErrorCode::InvalidTopic,
            PublishError::QueueFull => ErrorCode::QueueFull,
            PublishError::PacketTooLarge { .. } | PublishError::Encode(_) => {
                ErrorCode::PacketTooLarge
            }
            PublishError::Closed => ErrorCode::Closed,
            PublishError::Rejected { .. } | PublishError::SessionLost => ErrorCode::PublishFailed,
        };
        let mut message = String::new();
        e.describe(&mut message);
        let mut err = ClientError::new(code, message);
        if let PublishError::Rejected { reason_code, .. } = e {
            err.reason_code = Some(*reason_code);
        }
        err
    }

    /// The error a subscribe / unsubscribe call reports for `e`.
    pub fn from_request(e: &RequestError) -> Self {
        let code = match e {
            RequestError::InvalidTopic(_) | RequestError::NoFilters => ErrorCode::InvalidTopic,
            RequestError::Closed => ErrorCode::Closed,
            RequestError::PacketTooLarge { .. } | RequestError::Encode(_) => {
                ErrorCode::PacketTooLarge
            }
        };
        let mut message = String::new();
        e.describe(&mut message);
        ClientError::new(code, message)
    }

    /// The error a store failure reports.
    pub fn from_store(e: &StoreError) -> Self {
        ClientError::new(ErrorCode::StoreError, e.message())
    }

    /// The error that ends a connection attempt or a connection.
    pub fn from_close(reason: &CloseReason) -> Self {
        let (code, reason_code) = match reason {
            CloseReason::Protocol(e) => (ErrorCode::ProtocolError, Some(e.reason_code())),
            CloseReason::ConnectTimeout => (ErrorCode::Timeout, None),
            CloseReason::KeepAliveTimeout => (ErrorCode::ConnectionLost, None),
            CloseReason::Refused { reason_code, .. } => {
                (ErrorCode::ConnectionRefused, Some(*reason_code))
            }
            CloseReason::ServerDisconnect { reason_code, .. } => {
                (ErrorCode::ConnectionLost, Some(*reason_code))
            }
            _ => (ErrorCode::ConnectionLost, None),
        };
        let mut message = String::new();
        reason.describe(&mut message);
        ClientError {
            code,
            message,
            reason_code,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ClientError {}
