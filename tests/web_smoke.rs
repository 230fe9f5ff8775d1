//! Pipeline smoke test for the in-browser test setup: headless Chromium (wasm-bindgen-test-runner
//! + chromedriver) reaches the test broker over a WebSocket with subprotocol "mqtt".
//!
//! Run through `scripts/test.sh` (or with the variables it exports): the broker URLs are
//! compiled in from `WASMQTT_TEST_WS_URL` / `WASMQTT_TEST_AUTH_WS_URL` with `option_env!`.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{BinaryType, MessageEvent, WebSocket};

wasm_bindgen_test_configure!(run_in_browser);

const WS_URL: Option<&str> = option_env!("WASMQTT_TEST_WS_URL");
const AUTH_WS_URL: Option<&str> = option_env!("WASMQTT_TEST_AUTH_WS_URL");

fn url(value: Option<&'static str>, name: &str) -> &'static str {
    value.unwrap_or_else(|| {
        panic!("{name} was not set when this test was compiled: run scripts/test.sh, which starts the brokers")
    })
}

/// A hand-encoded MQTT 3.1.1 CONNECT: clean session, keep alive 60 s, optional username/password.
fn connect_packet(client_id: &str, credentials: Option<(&str, &str)>) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    let mut flags = 0x02; // clean session
    if credentials.is_some() {
        flags |= 0x80 | 0x40;
    }
    let mut body = Vec::new();
    string(&mut body, "MQTT");
    body.push(4); // protocol level 3.1.1
    body.push(flags);
    body.extend_from_slice(&60u16.to_be_bytes());
    string(&mut body, client_id);
    if let Some((user, password)) = credentials {
        string(&mut body, user);
        string(&mut body, password);
    }
    assert!(body.len() < 128, "one-byte remaining length only");
    let mut packet = vec![0x10, body.len() as u8];
    packet.extend_from_slice(&body);
    packet
}

/// Opens a WebSocket (subprotocol "mqtt"), sends `packet` once open and resolves with the first
/// `want` bytes received; fails on a socket error, a close, or after `timeout_ms`.
async fn exchange(
    url: &str,
    packet: Vec<u8>,
    want: usize,
    timeout_ms: u32,
) -> Result<Vec<u8>, JsValue> {
    let ws = WebSocket::new_with_str(url, "mqtt")?;
    ws.set_binary_type(BinaryType::Arraybuffer);

    let received = Rc::new(RefCell::new(Vec::<u8>::new()));
    let mut keep = None; // closures live until the promise settles
    let mut timer = None;
    let promise = Promise::new(&mut |resolve, reject| {
        let onopen = {
            let ws = ws.clone();
            let reject = reject.clone();
            let packet = packet.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |_| {
                if let Err(e) = ws.send_with_u8_array(&packet) {
                    let _ = reject.call1(&JsValue::NULL, &e);
                }
            })
        };
        let onmessage = {
            let received = received.clone();
            let resolve = resolve.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
                let bytes = Uint8Array::new(&ev.data()).to_vec();
                let mut buf = received.borrow_mut();
                buf.extend_from_slice(&bytes);
                if buf.len() >= want {
                    let _ = resolve.call0(&JsValue::NULL);
                }
            })
        };
        let onerror = {
            let reject = reject.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |_| {
                let _ = reject.call1(&JsValue::NULL, &JsValue::from_str("WebSocket error event"));
            })
        };
        let onclose = {
            let reject = reject.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |_| {
                let _ = reject.call1(
                    &JsValue::NULL,
                    &JsValue::from_str("WebSocket closed before the reply"),
                );
            })
        };
        ws.set_onopen(Some(onopen.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        ws.set_onerror(Some(onerror.as_ref().unchecked_ref()));
        ws.set_onclose(Some(onclose.as_ref().unchecked_ref()));
        let reject = reject.clone();
        timer = Some(gloo_timers::callback::Timeout::new(timeout_ms, move || {
            let _ = reject.call1(
                &JsValue::NULL,
                &JsValue::from_str("timed out waiting for the broker"),
            );
        }));
        keep = Some((onopen, onmessage, onerror, onclose));
    });
    let result = JsFuture::from(promise).await;
    drop(timer);
    ws.set_onopen(None);
    ws.set_onmessage(None);
    ws.set_onerror(None);
    ws.set_onclose(None);
    drop(keep);
    if ws.ready_state() == WebSocket::OPEN {
        let _ = ws.send_with_u8_array(&[0xE0, 0x00]); // DISCONNECT
    }
    let _ = ws.close();
    result?;
    let bytes = received.borrow()[..want].to_vec();
    Ok(bytes)
}

#[wasm_bindgen_test]
async fn websocket_connect_gets_connack() {
    let url = url(WS_URL, "WASMQTT_TEST_WS_URL");
    let connack = exchange(url, connect_packet("wasmqtt-web-smoke", None), 4, 5000)
        .await
        .unwrap_or_else(|e| panic!("no CONNACK from {url}: {e:?}"));
    assert_eq!(
        connack,
        [0x20, 0x02, 0x00, 0x00],
        "CONNACK accepted, no session present"
    );
}

#[wasm_bindgen_test]
async fn bad_credentials_get_connack_not_authorized() {
    let url = url(AUTH_WS_URL, "WASMQTT_TEST_AUTH_WS_URL");
    let packet = connect_packet(
        "wasmqtt-web-smoke-auth",
        Some(("wasmqtt", "not-the-password")),
    );
    let connack = exchange(url, packet, 4, 5000)
        .await
        .unwrap_or_else(|e| panic!("no CONNACK from {url}: {e:?}"));
    // 3.1.1 return code 5: not authorized (mosquitto's answer to a wrong password).
    assert_eq!(connack, [0x20, 0x02, 0x00, 0x05]);
}
