//! Conversions between JavaScript values and the codec's types: payloads,
//! MQTT 5 properties (camelCase names as in MQTT.js), CONNACK and packet
//! descriptions.

use std::cell::RefCell;

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::codec::properties::id;
use crate::codec::text::concat;
use crate::codec::{ConnAck, Properties, Publish, MAX_VARINT};

thread_local! {
    /// The JS strings of the property names this layer reads and sets, made
    /// once each: decoding a key per access was a visible share of a
    /// publish call.
    /// Bounded, as names can also come from the application's objects.
    static KEYS: RefCell<Vec<(Box<str>, JsValue)>> = const { RefCell::new(Vec::new()) };
}

/// Names cached at most.
const KEYS_CACHED: usize = 64;

/// `name` as a JS string, from the cache.
pub(crate) fn key(name: &str) -> JsValue {
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if let Some((_, v)) = keys.iter().find(|(k, _)| &**k == name) {
            return v.clone();
        }
        let v = JsValue::from_str(name);
        if keys.len() < KEYS_CACHED {
            keys.push((name.into(), v.clone()));
        }
        v
    })
}

/// Reads `obj[name]`; `undefined` when absent or `obj` is not an object.
pub(crate) fn get(obj: &JsValue, name: &str) -> JsValue {
    if !obj.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, &key(name)).unwrap_or(JsValue::UNDEFINED)
}

fn set(obj: &Object, name: &str, value: JsValue) {
    // Setting a plain property on a fresh plain object cannot fail.
    let _ = Reflect::set(obj, &key(name), &value);
}

/// Own enumerable keys of a plain object.
pub(crate) fn keys(obj: &JsValue) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(o) = obj.dyn_ref::<Object>() {
        // A loop, not filter_map: less code in the wasm.
        for k in Object::keys(o).iter() {
            if let Some(k) = k.as_string() {
                out.push(k);
            }
        }
    }
    out
}

/// A string (as UTF-8) or a `Uint8Array` / `ArrayBuffer` (copied) as bytes;
/// `null`/`undefined` as empty. `None` for anything else.
pub(crate) fn bytes(value: &JsValue) -> Option<Vec<u8>> {
    if let Some(s) = value.as_string() {
        return Some(s.into_bytes());
    }
    if let Some(a) = value.dyn_ref::<Uint8Array>() {
        return Some(a.to_vec());
    }
    if let Some(b) = value.dyn_ref::<js_sys::ArrayBuffer>() {
        return Some(Uint8Array::new(b).to_vec());
    }
    if value.is_undefined() || value.is_null() {
        return Some(Vec::new());
    }
    None
}

/// A non-negative integer no larger than `max`.
pub(crate) fn integer(value: &JsValue, max: u32) -> Option<u32> {
    let n = value.as_f64()?;
    if n.fract() != 0.0 || n < 0.0 || n > f64::from(max) {
        return None;
    }
    Some(n as u32)
}

fn flag(value: &JsValue) -> Option<u8> {
    match value.as_bool() {
        Some(b) => Some(u8::from(b)),
        None => integer(value, 1).map(|n| n as u8),
    }
}

/// Which MQTT 5 properties a JavaScript object may set.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum PropertyUse {
    /// CONNECT (`properties` option).
    Connect,
    /// The will message.
    Will,
    /// PUBLISH.
    Publish,
    /// SUBSCRIBE.
    Subscribe,
    /// UNSUBSCRIBE.
    Unsubscribe,
}

impl PropertyUse {
    fn bit(self) -> u8 {
        1 << self as u8
    }
}

const CONNECT: u8 = 1 << PropertyUse::Connect as u8;
const WILL: u8 = 1 << PropertyUse::Will as u8;
const PUBLISH: u8 = 1 << PropertyUse::Publish as u8;
const SUBSCRIBE: u8 = 1 << PropertyUse::Subscribe as u8;

/// How a property's JavaScript value is read.
#[derive(Clone, Copy)]
enum Kind {
    /// An integer from `min` to `max`.
    Int(u32, u32),
    /// A boolean, or 0 / 1.
    Flag,
    /// A string.
    Text,
    /// A string or bytes.
    Bytes,
}

/// The properties a JavaScript object may set: name, identifier, value,
/// where allowed. One table instead of code per property keeps the wasm small.
const SETTABLE: &[(&str, u8, Kind, u8)] = &[
    (
        "sessionExpiryInterval",
        id::SESSION_EXPIRY_INTERVAL,
        Kind::Int(0, u32::MAX),
        CONNECT,
    ),
    (
        "receiveMaximum",
        id::RECEIVE_MAXIMUM,
        Kind::Int(1, 65_535),
        CONNECT,
    ),
    (
        "maximumPacketSize",
        id::MAXIMUM_PACKET_SIZE,
        Kind::Int(1, MAX_VARINT),
        CONNECT,
    ),
    (
        "topicAliasMaximum",
        id::TOPIC_ALIAS_MAXIMUM,
        Kind::Int(0, 65_535),
        CONNECT,
    ),
    (
        "requestResponseInformation",
        id::REQUEST_RESPONSE_INFORMATION,
        Kind::Flag,
        CONNECT,
    ),
    (
        "requestProblemInformation",
        id::REQUEST_PROBLEM_INFORMATION,
        Kind::Flag,
        CONNECT,
    ),
    (
        "authenticationMethod",
        id::AUTHENTICATION_METHOD,
        Kind::Text,
        CONNECT,
    ),
    (
        "authenticationData",
        id::AUTHENTICATION_DATA,
        Kind::Bytes,
        CONNECT,
    ),
    (
        "willDelayInterval",
        id::WILL_DELAY_INTERVAL,
        Kind::Int(0, u32::MAX),
        WILL,
    ),
    (
        "payloadFormatIndicator",
        id::PAYLOAD_FORMAT_INDICATOR,
        Kind::Flag,
        WILL | PUBLISH,
    ),
    (
        "messageExpiryInterval",
        id::MESSAGE_EXPIRY_INTERVAL,
        Kind::Int(0, u32::MAX),
        WILL | PUBLISH,
    ),
    ("contentType", id::CONTENT_TYPE, Kind::Text, WILL | PUBLISH),
    (
        "responseTopic",
        id::RESPONSE_TOPIC,
        Kind::Text,
        WILL | PUBLISH,
    ),
    (
        "correlationData",
        id::CORRELATION_DATA,
        Kind::Bytes,
        WILL | PUBLISH,
    ),
    (
        "subscriptionIdentifier",
        id::SUBSCRIPTION_IDENTIFIER,
        Kind::Int(1, MAX_VARINT),
        PUBLISH | SUBSCRIBE,
    ),
    ("topicAlias", id::TOPIC_ALIAS, Kind::Int(1, 65_535), PUBLISH),
];

/// Stores numeric property `pid` (its range already checked).
fn set_number(p: &mut Properties, pid: u8, n: u32) {
    match pid {
        id::SESSION_EXPIRY_INTERVAL => p.session_expiry_interval = Some(n),
        id::RECEIVE_MAXIMUM => p.receive_maximum = Some(n as u16),
        id::MAXIMUM_PACKET_SIZE => p.maximum_packet_size = Some(n),
        id::TOPIC_ALIAS_MAXIMUM => p.topic_alias_maximum = Some(n as u16),
        id::REQUEST_RESPONSE_INFORMATION => p.request_response_information = Some(n as u8),
        id::REQUEST_PROBLEM_INFORMATION => p.request_problem_information = Some(n as u8),
        id::WILL_DELAY_INTERVAL => p.will_delay_interval = Some(n),
        id::PAYLOAD_FORMAT_INDICATOR => p.payload_format_indicator = Some(n as u8),
        id::MESSAGE_EXPIRY_INTERVAL => p.message_expiry_interval = Some(n),
        id::SUBSCRIPTION_IDENTIFIER => p.subscription_identifiers = vec![n],
        _ => p.topic_alias = Some(n as u16),
    }
}

/// Parses an MQTT.js-style properties object. The error names the property.
pub(crate) fn properties_from_js(
    value: &JsValue,
    usage: PropertyUse,
) -> Result<Properties, String> {
    let mut p = Properties::default();
    if value.is_undefined() || value.is_null() {
        return Ok(p);
    }
    if !value.is_object() {
        return Err("properties must be an object".into());
    }
    for key in keys(value) {
        let v = get(value, &key);
        let bad = || concat(&["property `", &key, "` has an invalid value"]);
        if key == "userProperties" {
            p.user_properties = user_properties(&v).ok_or_else(bad)?;
            continue;
        }
        let Some(&(_, pid, kind, _)) = SETTABLE
            .iter()
            .find(|(name, _, _, uses)| *name == key && uses & usage.bit() != 0)
        else {
            return Err(concat(&["unknown or misplaced property `", &key, "`"]));
        };
        match kind {
            Kind::Int(min, max) => {
                let n = integer(&v, max).filter(|n| *n >= min).ok_or_else(bad)?;
                set_number(&mut p, pid, n);
            }
            Kind::Flag => set_number(&mut p, pid, u32::from(flag(&v).ok_or_else(bad)?)),
            Kind::Text => {
                let s = Some(v.as_string().ok_or_else(bad)?);
                match pid {
                    id::AUTHENTICATION_METHOD => p.authentication_method = s,
                    id::CONTENT_TYPE => p.content_type = s,
                    _ => p.response_topic = s,
                }
            }
            Kind::Bytes => {
                let b = Some(bytes(&v).ok_or_else(bad)?);
                match pid {
                    id::AUTHENTICATION_DATA => p.authentication_data = b,
                    _ => p.correlation_data = b,
                }
            }
        }
    }
    Ok(p)
}

/// `{ name: value | [values] }` as ordered pairs.
fn user_properties(value: &JsValue) -> Option<Vec<(String, String)>> {
    if !value.is_object() {
        return None;
    }
    let mut out = Vec::new();
    for key in keys(value) {
        let v = get(value, &key);
        if Array::is_array(&v) {
            for item in Array::from(&v).iter() {
                out.push((key.clone(), item.as_string()?));
            }
        } else {
            out.push((key, v.as_string()?));
        }
    }
    Some(out)
}

/// The properties that are set, as an MQTT.js-style object; `undefined`
/// when none are.
pub(crate) fn properties_to_js(p: &Properties) -> JsValue {
    if p.is_empty() {
        return JsValue::UNDEFINED;
    }
    let o = Object::new();
    let num = |o: &Object, k: &str, v: Option<u32>| {
        if let Some(v) = v {
            set(o, k, JsValue::from(v));
        }
    };
    let text = |o: &Object, k: &str, v: &Option<String>| {
        if let Some(v) = v {
            set(o, k, JsValue::from_str(v));
        }
    };
    let boolean = |o: &Object, k: &str, v: Option<u8>| {
        if let Some(v) = v {
            set(o, k, JsValue::from_bool(v != 0));
        }
    };
    boolean(&o, "payloadFormatIndicator", p.payload_format_indicator);
    num(&o, "messageExpiryInterval", p.message_expiry_interval);
    text(&o, "contentType", &p.content_type);
    text(&o, "responseTopic", &p.response_topic);
    if let Some(d) = &p.correlation_data {
        set(&o, "correlationData", Uint8Array::from(d.as_slice()).into());
    }
    match p.subscription_identifiers.as_slice() {
        [] => {}
        [one] => set(&o, "subscriptionIdentifier", JsValue::from(*one)),
        many => {
            let a: Array = many.iter().map(|n| JsValue::from(*n)).collect();
            set(&o, "subscriptionIdentifier", a.into());
        }
    }
    num(&o, "sessionExpiryInterval", p.session_expiry_interval);
    text(
        &o,
        "assignedClientIdentifier",
        &p.assigned_client_identifier,
    );
    num(&o, "serverKeepAlive", p.server_keep_alive.map(u32::from));
    text(&o, "authenticationMethod", &p.authentication_method);
    if let Some(d) = &p.authentication_data {
        set(
            &o,
            "authenticationData",
            Uint8Array::from(d.as_slice()).into(),
        );
    }
    text(&o, "responseInformation", &p.response_information);
    text(&o, "serverReference", &p.server_reference);
    text(&o, "reasonString", &p.reason_string);
    num(&o, "receiveMaximum", p.receive_maximum.map(u32::from));
    num(
        &o,
        "topicAliasMaximum",
        p.topic_alias_maximum.map(u32::from),
    );
    num(&o, "topicAlias", p.topic_alias.map(u32::from));
    num(&o, "maximumQoS", p.maximum_qos.map(u32::from));
    boolean(&o, "retainAvailable", p.retain_available);
    num(&o, "maximumPacketSize", p.maximum_packet_size);
    boolean(
        &o,
        "wildcardSubscriptionAvailable",
        p.wildcard_subscription_available,
    );
    boolean(
        &o,
        "subscriptionIdentifiersAvailable",
        p.subscription_identifiers_available,
    );
    boolean(
        &o,
        "sharedSubscriptionAvailable",
        p.shared_subscription_available,
    );
    if !p.user_properties.is_empty() {
        let up = Object::new();
        for (k, v) in &p.user_properties {
            let key = JsValue::from_str(k);
            let existing = Reflect::get(&up, &key).unwrap_or(JsValue::UNDEFINED);
            let value = if existing.is_undefined() {
                JsValue::from_str(v)
            } else if Array::is_array(&existing) {
                Array::from(&existing).push(&JsValue::from_str(v));
                existing
            } else {
                Array::of2(&existing, &JsValue::from_str(v)).into()
            };
            let _ = Reflect::set(&up, &key, &value);
        }
        set(&o, "userProperties", up.into());
    }
    o.into()
}

/// `{ sessionPresent, reasonCode, properties? }`.
pub(crate) fn connack_to_js(ack: &ConnAck) -> JsValue {
    let o = Object::new();
    set(
        &o,
        "sessionPresent",
        JsValue::from_bool(ack.session_present),
    );
    set(&o, "reasonCode", JsValue::from(ack.reason_code));
    let props = properties_to_js(&ack.properties);
    if !props.is_undefined() {
        set(&o, "properties", props);
    }
    o.into()
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/js/support.js")]
extern "C" {
    #[wasm_bindgen(js_name = packetInfo)]
    fn packet_info(qos: u8, retain: bool, dup: bool, properties: JsValue) -> JsValue;
}

/// `{ qos, retain, dup, properties? }` for a received message.
pub(crate) fn packet_to_js(p: &Publish) -> JsValue {
    // One call into JS: setting each field from here would cost a call and
    // a key string per field, per message.
    packet_info(
        p.qos.as_u8(),
        p.retain,
        p.dup,
        properties_to_js(&p.properties),
    )
}
