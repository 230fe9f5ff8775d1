//! `MqttError`: a JavaScript `Error` subclass (defined in support.js so
//! that `instanceof Error` holds) built from a [`ClientError`].

use wasm_bindgen::prelude::*;

use crate::client::{ClientError, ErrorCode};

#[wasm_bindgen(module = "/src/js/support.js")]
extern "C" {
    #[wasm_bindgen(js_name = MqttError)]
    type JsMqttError;

    #[wasm_bindgen(constructor, js_class = "MqttError")]
    fn new(code: &str, message: &str, reason_code: JsValue) -> JsMqttError;
}

/// The JavaScript `MqttError` for `e`.
pub(crate) fn to_js(e: &ClientError) -> JsValue {
    let reason = e.reason_code.map_or(JsValue::UNDEFINED, JsValue::from);
    JsMqttError::new(e.code.as_str(), &e.message, reason).into()
}

/// An `MqttError` with `code` and `message`.
pub(crate) fn error(code: ErrorCode, message: impl Into<String>) -> JsValue {
    to_js(&ClientError::new(code, message))
}

/// A rejected promise carrying `e`.
pub(crate) fn rejected(e: JsValue) -> js_sys::Promise {
    js_sys::Promise::reject(&e)
}
