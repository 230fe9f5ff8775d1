//! Conversions between JavaScript values and the codec's types: payloads,
//! MQTT 5 properties, CONNACK and packet descriptions. Properties cross as
//! wire-format property blocks: support.js turns them into and from the
//! MQTT.js-style objects (camelCase names), the codec reads and writes the
//! blocks.

use std::cell::RefCell;

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::client::ErrorCode;
use crate::codec::prop_codec::{from_block, to_block, PropContext};
use crate::codec::{ConnAck, Properties, Publish};

use super::error::error;
use crate::transport::vec_from_js;

thread_local! {
    /// The JS strings of the names this layer hands out, made once each.
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

/// A copy of a `Uint8Array` (what support.js makes of every byte-valued
/// argument); `None` for anything else.
pub(crate) fn bytes(value: &JsValue) -> Option<Vec<u8>> {
    value.dyn_ref::<Uint8Array>().map(vec_from_js)
}

/// Which request's properties support.js's `requestProps` reads (its
/// `where` bits).
#[derive(Clone, Copy)]
pub(crate) enum Request {
    /// PUBLISH.
    Publish = 4,
    /// SUBSCRIBE.
    Subscribe = 8,
    /// UNSUBSCRIBE.
    Unsubscribe = 16,
}

#[wasm_bindgen(module = "/src/js/support.js")]
extern "C" {
    #[wasm_bindgen(js_name = connackInfo)]
    fn connack_info(session_present: bool, reason_code: u8, properties: JsValue) -> JsValue;
    /// The property block of `options.properties`; throws an `MqttError`
    /// (InvalidOptions) naming a bad property.
    #[wasm_bindgen(js_name = requestProps, catch)]
    fn request_props(options: &JsValue, usage: u8) -> Result<JsValue, JsValue>;
}

/// The properties of a block support.js made (`undefined`: none).
pub(crate) fn properties(block: &JsValue, ctx: PropContext) -> Result<Properties, JsValue> {
    // support.js checks what the codec does: a refusal here is a bug there.
    from_block(&bytes(block).unwrap_or_default(), ctx)
        .map_err(|_| error(ErrorCode::InvalidOptions, "invalid properties"))
}

/// The properties in a request's `options`.
pub(crate) fn request_properties(
    options: &JsValue,
    request: Request,
) -> Result<Properties, JsValue> {
    let ctx = match request {
        Request::Publish => PropContext::Publish,
        Request::Subscribe => PropContext::Subscribe,
        Request::Unsubscribe => PropContext::Unsubscribe,
    };
    properties(&request_props(options, request as u8)?, ctx)
}

/// Received properties as the block support.js turns into an object;
/// `undefined` when there are none.
fn properties_to_js(p: &Properties, ctx: PropContext) -> JsValue {
    let block = to_block(p, ctx);
    if block.is_empty() {
        return JsValue::UNDEFINED;
    }
    crate::transport::js_bytes(&block).into()
}

/// `{ sessionPresent, reasonCode, properties? }`.
pub(crate) fn connack_to_js(ack: &ConnAck) -> JsValue {
    connack_info(
        ack.session_present,
        ack.reason_code,
        properties_to_js(&ack.properties, PropContext::ConnAck),
    )
}

/// A received message's properties as a block for support.js's
/// `emitMessage`; `undefined` when there are none.
pub(crate) fn message_properties(p: &Publish) -> JsValue {
    properties_to_js(&p.properties, PropContext::Publish)
}
