//! The JavaScript API driven from Rust inside headless Chromium (wasm-bindgen-test), against
//! the mosquitto that scripts/test.sh starts: the same calls a page makes, through the same
//! exported functions. The broader API suite is tests/browser/client.test.mjs.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const WS_URL: Option<&str> = option_env!("WASMQTT_TEST_WS_URL");

fn broker() -> &'static str {
    WS_URL.unwrap_or_else(|| {
        panic!("WASMQTT_TEST_WS_URL was not set at compile time: run scripts/test.sh")
    })
}

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Calls `target[method](...args)` and awaits the promise it returns.
async fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = get(target, method).dyn_into()?;
    let args: Array = args.iter().collect();
    let p: Promise = f.apply(target, &args)?.dyn_into()?;
    JsFuture::from(p).await
}

/// Resolves with the first `message` event's (topic, payload), or rejects after `ms`.
fn next_message(client: &JsValue, ms: i32) -> JsFuture {
    let client = client.clone();
    let promise = Promise::new(&mut |resolve, reject| {
        let listener = Closure::once_into_js(move |topic: JsValue, payload: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &Array::of2(&topic, &payload));
        });
        let on: Function = get(&client, "on").unchecked_into();
        let _ = on.call2(&client, &JsValue::from_str("message"), &listener);
        let fail = Closure::once_into_js(move || {
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str("no message in time"));
        });
        let set_timeout: Function = get(&js_sys::global(), "setTimeout").unchecked_into();
        let _ = set_timeout.call2(&JsValue::NULL, &fail, &JsValue::from(ms));
    });
    JsFuture::from(promise)
}

async fn connect(version: u8) -> JsValue {
    let options = obj(&[("protocolVersion", JsValue::from(version))]);
    JsFuture::from(wasmqtt::js::connect(broker(), options))
        .await
        .expect("connect resolves")
}

#[wasm_bindgen_test]
async fn connect_reports_connack_in_both_versions() {
    for version in [4u8, 5] {
        let client = connect(version).await;
        assert_eq!(get(&client, "connected"), JsValue::TRUE);
        let connack = get(&client, "connack");
        assert_eq!(get(&connack, "reasonCode").as_f64(), Some(0.0));
        call(&client, "end", &[]).await.expect("end");
        assert_eq!(get(&client, "connected"), JsValue::FALSE);
    }
}

#[wasm_bindgen_test]
async fn qos2_round_trip_delivers_binary_payload_once() {
    let client = connect(5).await;
    let topic = format!("wasmqtt-test/web-client/{}", js_sys::Math::random());
    let granted = call(
        &client,
        "subscribe",
        &[JsValue::from_str(&topic), obj(&[("qos", 2.into())])],
    )
    .await
    .expect("subscribe");
    assert_eq!(Array::from(&granted).get(0).as_f64(), Some(2.0));
    let message = next_message(&client, 5000);
    let payload = Uint8Array::from(&[0u8, 255, 1, 254][..]);
    call(
        &client,
        "publish",
        &[
            JsValue::from_str(&topic),
            payload.into(),
            obj(&[("qos", 2.into())]),
        ],
    )
    .await
    .expect("publish resolves on PUBCOMP");
    let got = Array::from(&message.await.expect("message arrives"));
    assert_eq!(got.get(0).as_string().as_deref(), Some(topic.as_str()));
    assert_eq!(Uint8Array::new(&got.get(1)).to_vec(), vec![0, 255, 1, 254]);
    call(&client, "end", &[]).await.expect("end");
}

#[wasm_bindgen_test]
async fn invalid_topic_rejects_with_mqtt_error_code() {
    let client = connect(4).await;
    let err = call(
        &client,
        "publish",
        &[
            JsValue::from_str("a/+/b"),
            JsValue::from_str("x"),
            JsValue::UNDEFINED,
        ],
    )
    .await
    .expect_err("wildcard topic is refused");
    assert!(err.is_instance_of::<js_sys::Error>(), "an Error subclass");
    assert_eq!(
        get(&err, "code").as_string().as_deref(),
        Some("InvalidTopic")
    );
    call(&client, "end", &[]).await.expect("end");
}
