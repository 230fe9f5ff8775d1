//! `connect()` options: every name of shared/api.md, checked for type and
//! range, with an error that names the option.

use wasm_bindgen::{JsCast, JsValue};

use crate::client::{ClientOptions, Persistence, ReconnectPolicy};
use crate::codec::text::{concat, push_dec, push_quoted};
use crate::codec::{ProtocolVersion, QoS, Will, MAX_VARINT};
use crate::session::SessionConfig;

use super::convert::{bytes, get, integer, keys, properties_from_js, PropertyUse};

/// Parsed options: the session's configuration and the driver's.
pub(crate) struct Parsed {
    pub(crate) session: SessionConfig,
    pub(crate) client: ClientOptions,
    /// Messages held for a `message` listener at most.
    pub(crate) max_held: usize,
}

const KNOWN: &[&str] = &[
    "clientId",
    "protocolVersion",
    "clean",
    "sessionExpiryInterval",
    "keepalive",
    "username",
    "password",
    "will",
    "connectTimeout",
    "reconnect",
    "resubscribe",
    "persistence",
    "maxInflight",
    "maxQueued",
    "maxPacketSize",
    "properties",
    "lock",
];

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

fn random_client_id() -> String {
    let n = (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
    let mut id = String::from("wasmqtt_");
    for shift in (0..8).rev() {
        id.push(char::from(
            b"0123456789abcdef"[(n >> (shift * 4)) as usize & 0xf],
        ));
    }
    id
}

/// Parses `options` (an object, `undefined` or `null`) for `url`.
pub(crate) fn parse(
    url: &str,
    options: &JsValue,
    fail_first_connect: bool,
) -> Result<Parsed, String> {
    if !(options.is_undefined() || options.is_null() || options.is_object()) {
        return Err("options must be an object".into());
    }
    for key in keys(options) {
        if !KNOWN.contains(&key.as_str()) {
            return Err(concat(&["unknown option `", &key, "`"]));
        }
    }
    let opt = |name: &str| {
        let v = get(options, name);
        if v.is_undefined() {
            None
        } else {
            Some(v)
        }
    };
    let bad = |name: &str, what: &str| concat(&["option `", name, "` must be ", what]);
    let boolean = |name: &str, default: bool| match opt(name) {
        None => Ok(default),
        Some(v) => v.as_bool().ok_or_else(|| bad(name, "a boolean")),
    };
    let number = |name: &str, min: u32, max: u32, default: u32| match opt(name) {
        None => Ok(default),
        Some(v) => integer(&v, max).filter(|n| *n >= min).ok_or_else(|| {
            let mut what = String::from("an integer from ");
            push_dec(&mut what, u64::from(min));
            what.push_str(" to ");
            push_dec(&mut what, u64::from(max));
            bad(name, &what)
        }),
    };

    let protocol = match number("protocolVersion", 4, 5, 4)? {
        5 => ProtocolVersion::V5,
        _ => ProtocolVersion::V311,
    };
    let clean = boolean("clean", true)?;
    let client_id = match opt("clientId") {
        None => None,
        Some(v) => Some(v.as_string().ok_or_else(|| bad("clientId", "a string"))?),
    };
    if !clean && client_id.as_deref().map_or(true, str::is_empty) {
        return Err("option `clientId` must be a non-empty string when `clean` is false".into());
    }
    let client_id = client_id.unwrap_or_else(random_client_id);
    let mut session = SessionConfig::new(protocol, client_id);
    session.clean_start = clean;
    session.keep_alive = number("keepalive", 0, 65_535, 60)? as u16;
    session.username = match opt("username") {
        None => None,
        Some(v) => Some(v.as_string().ok_or_else(|| bad("username", "a string"))?),
    };
    session.password = match opt("password") {
        None => None,
        Some(v) if v.is_string() || v.is_instance_of::<js_sys::Uint8Array>() => bytes(&v),
        Some(_) => return Err(bad("password", "a string or Uint8Array")),
    };
    if let Some(v) = opt("will") {
        session.will = Some(parse_will(&v, protocol)?);
    }
    let connect_timeout = number("connectTimeout", 1, u32::MAX, 30_000)?;
    session.connect_timeout_ms = u64::from(connect_timeout);
    session.resubscribe = boolean("resubscribe", true)?;
    session.max_inflight = match opt("maxInflight") {
        None => None,
        Some(_) => Some(number("maxInflight", 1, 65_535, 0)? as u16),
    };
    session.max_queued = number("maxQueued", 0, u32::MAX, 10_000)? as usize;
    session.max_packet_size = number("maxPacketSize", 16, MAX_VARINT, MAX_VARINT)?;
    if protocol == ProtocolVersion::V5 {
        session.properties = properties_from_js(&get(options, "properties"), PropertyUse::Connect)
            .map_err(|e| concat(&["option `properties`: ", &e]))?;
        if let Some(n) = opt("sessionExpiryInterval") {
            let n =
                integer(&n, u32::MAX).ok_or_else(|| bad("sessionExpiryInterval", "an integer"))?;
            session.properties.session_expiry_interval = Some(n);
        }
    } else if opt("properties").is_some() {
        return Err("option `properties` needs protocolVersion 5".into());
    }

    let reconnect = match opt("reconnect") {
        None => Some(ReconnectPolicy::default()),
        Some(v) if v.as_bool() == Some(false) => None,
        Some(v) if v.as_bool() == Some(true) => Some(ReconnectPolicy::default()),
        Some(v) if v.is_object() => Some(parse_reconnect(&v)?),
        Some(_) => {
            return Err(bad(
                "reconnect",
                "false or { initialDelay, maxDelay, jitter }",
            ))
        }
    };
    let persistence = match opt("persistence") {
        None if clean => Persistence::Memory,
        None => Persistence::IndexedDb,
        Some(v) => match v.as_string().as_deref() {
            Some("memory") => Persistence::Memory,
            Some("indexeddb") => Persistence::IndexedDb,
            Some("auto") => Persistence::IndexedDbOrMemory,
            _ => return Err(bad("persistence", "\"indexeddb\", \"memory\" or \"auto\"")),
        },
    };
    let lock_wait = match opt("lock") {
        None => true,
        Some(v) => match v.as_string().as_deref() {
            Some("wait") => true,
            Some("fail") => false,
            _ => return Err(bad("lock", "\"wait\" or \"fail\"")),
        },
    };
    Ok(Parsed {
        max_held: session.max_queued,
        session,
        client: ClientOptions {
            url: url.to_string(),
            connect_timeout_ms: u64::from(connect_timeout),
            reconnect,
            fail_first_connect,
            persistence,
            lock_wait,
        },
    })
}

fn parse_reconnect(v: &JsValue) -> Result<ReconnectPolicy, String> {
    let mut p = ReconnectPolicy::default();
    for key in keys(v) {
        let value = get(v, &key);
        let bad = || concat(&["option `reconnect.", &key, "` is out of range"]);
        match key.as_str() {
            "initialDelay" => p.initial_delay_ms = integer(&value, u32::MAX).ok_or_else(bad)?,
            "maxDelay" => p.max_delay_ms = integer(&value, u32::MAX).ok_or_else(bad)?,
            "jitter" => {
                p.jitter = value
                    .as_f64()
                    .filter(|j| (0.0..=1.0).contains(j))
                    .ok_or_else(bad)?
            }
            _ => return Err(concat(&["unknown option `reconnect.", &key, "`"])),
        }
    }
    if p.max_delay_ms < p.initial_delay_ms {
        return Err("option `reconnect.maxDelay` must be at least `initialDelay`".into());
    }
    Ok(p)
}

fn parse_will(v: &JsValue, protocol: ProtocolVersion) -> Result<Will, String> {
    if !v.is_object() {
        return Err("option `will` must be an object".into());
    }
    for key in keys(v) {
        if !["topic", "payload", "qos", "retain", "properties"].contains(&key.as_str()) {
            return Err(concat(&["unknown option `will.", &key, "`"]));
        }
    }
    let topic = get(v, "topic")
        .as_string()
        .ok_or("option `will.topic` must be a string")?;
    crate::codec::validate_topic_name(&topic)
        .map_err(|e| concat(&["option `will.topic`: ", e.as_str()]))?;
    let payload =
        bytes(&get(v, "payload")).ok_or("option `will.payload` must be a string or Uint8Array")?;
    let qos_value = get(v, "qos");
    let qos = if qos_value.is_undefined() {
        QoS::AtMostOnce
    } else {
        integer(&qos_value, 2)
            .and_then(|n| QoS::from_u8(n as u8))
            .ok_or("option `will.qos` must be 0, 1 or 2")?
    };
    let retain_value = get(v, "retain");
    let retain = if retain_value.is_undefined() {
        false
    } else {
        retain_value
            .as_bool()
            .ok_or("option `will.retain` must be a boolean")?
    };
    let properties = if protocol == ProtocolVersion::V5 {
        properties_from_js(&get(v, "properties"), PropertyUse::Will)
            .map_err(|e| concat(&["option `will.properties`: ", &e]))?
    } else {
        Default::default()
    };
    Ok(Will {
        topic,
        payload,
        qos,
        retain,
        properties,
    })
}
