//! `connect()` options. support.js checks every name of shared/api.md for
//! type and range (with an error that names the option) and hands back one
//! normalized array: read from here, each option cost an import call, a key
//! string and its checks in the wasm.

use js_sys::Array;
use wasm_bindgen::prelude::*;

use crate::client::{ClientOptions, ErrorCode, Persistence, ReconnectPolicy};
use crate::codec::prop_codec::PropContext;
use crate::codec::text::{concat, push_quoted};
use crate::codec::{ProtocolVersion, QoS, Will};
use crate::session::SessionConfig;

use super::convert::{bytes, properties};
use super::error::error;

#[wasm_bindgen(module = "/src/js/support.js")]
extern "C" {
    /// The options checked and normalized (the layout is in support.js);
    /// throws an `MqttError` (InvalidOptions).
    #[wasm_bindgen(js_name = parseOptions, catch)]
    fn parse_options(options: &JsValue) -> Result<Array, JsValue>;
}

/// Parsed options: the session's configuration and the driver's.
pub(crate) struct Parsed {
    pub(crate) session: SessionConfig,
    pub(crate) client: ClientOptions,
    /// Messages held for a `message` listener at most.
    pub(crate) max_held: usize,
}

/// Checks `url` is ws:// or wss:// with a host.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("ws://")
        .or_else(|| url.strip_prefix("wss://"))
        .ok_or_else(|| quoted("URL must start with ws:// or wss://: ", url))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(quoted("URL has no valid host: ", url));
    }
    Ok(())
}

/// `prefix` and `value` quoted as `{:?}` writes it.
pub(crate) fn quoted(prefix: &str, value: &str) -> String {
    let mut s = String::from(prefix);
    push_quoted(&mut s, value);
    s
}

/// How many numbers lead parseOptions' array.
const NUMBERS: usize = 16;

/// Parses `options` (an object, `undefined` or `null`) for `url`; the error
/// is an `MqttError`.
pub(crate) fn parse(
    url: &str,
    options: &JsValue,
    fail_first_connect: bool,
) -> Result<Parsed, JsValue> {
    let a = parse_options(options)?;
    let mut n = [0.0; NUMBERS];
    for (i, x) in n.iter_mut().enumerate() {
        *x = a.get(i as u32).as_f64().unwrap_or(0.0);
    }
    let at = |i: usize| a.get((NUMBERS + i) as u32);
    let protocol = if n[0] == 5.0 {
        ProtocolVersion::V5
    } else {
        ProtocolVersion::V311
    };
    let mut session = SessionConfig::new(protocol, at(0).as_string().unwrap_or_default());
    session.clean_start = n[1] != 0.0;
    session.keep_alive = n[2] as u16;
    session.connect_timeout_ms = n[3] as u64;
    session.resubscribe = n[4] != 0.0;
    session.max_inflight = Some(n[5] as u16).filter(|m| *m > 0);
    session.max_queued = n[6] as usize;
    session.max_packet_size = n[7] as u32;
    session.username = at(1).as_string();
    let password = at(2);
    if !password.is_undefined() {
        session.password = bytes(&password);
    }
    session.properties = properties(&at(3), PropContext::Connect)?;
    if let Some(topic) = at(4).as_string() {
        crate::codec::validate_topic_name(&topic).map_err(|e| {
            error(
                ErrorCode::InvalidOptions,
                concat(&["option `will.topic`: ", e.as_str()]),
            )
        })?;
        session.will = Some(Will {
            topic,
            payload: bytes(&at(5)).unwrap_or_default(),
            qos: QoS::from_u8(n[14] as u8).unwrap_or(QoS::AtMostOnce),
            retain: n[15] != 0.0,
            properties: properties(&at(6), PropContext::Will)?,
        });
    }
    let reconnect = (n[8] != 0.0).then(|| ReconnectPolicy {
        initial_delay_ms: n[9] as u32,
        max_delay_ms: n[10] as u32,
        jitter: n[11],
    });
    let persistence = match n[12] as u8 {
        0 => Persistence::Memory,
        1 => Persistence::IndexedDb,
        _ => Persistence::IndexedDbOrMemory,
    };
    Ok(Parsed {
        max_held: session.max_queued,
        client: ClientOptions {
            url: url.to_string(),
            connect_timeout_ms: session.connect_timeout_ms,
            reconnect,
            fail_first_connect,
            persistence,
            lock_wait: n[13] != 0.0,
        },
        session,
    })
}
