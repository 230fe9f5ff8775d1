//! The browser WebSocket as an MQTT transport: subprotocol `mqtt`, binary
//! frames as `ArrayBuffer`s. Events reach one handler; dropping the
//! transport detaches the handler and closes the socket.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

/// What happened on the socket.
pub(crate) enum TransportEvent {
    /// The socket is open.
    Open,
    /// One binary frame (a view of the received buffer, not yet copied).
    Data(js_sys::Uint8Array),
    /// The socket closed (after an error, too).
    Closed,
}

/// An open or opening WebSocket.
pub(crate) struct WebSocketTransport {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl WebSocketTransport {
    /// Starts opening a WebSocket to `url`; `handler` receives its events.
    /// Fails at once for a URL the browser rejects.
    pub(crate) fn open(
        url: &str,
        handler: impl Fn(TransportEvent) + Clone + 'static,
    ) -> Result<Self, String> {
        let ws = WebSocket::new_with_str(url, "mqtt").map_err(describe)?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let h = handler.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || h(TransportEvent::Open));
        let h = handler.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Ok(buf) = e.data().dyn_into::<js_sys::ArrayBuffer>() {
                h(TransportEvent::Data(js_sys::Uint8Array::new(&buf)));
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |_e: CloseEvent| {
            handler(TransportEvent::Closed)
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(WebSocketTransport {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Queues `bytes` as one binary frame. False if the socket is not open.
    pub(crate) fn send(&self, bytes: &[u8]) -> bool {
        self.ws.ready_state() == WebSocket::OPEN && self.ws.send_with_u8_array(bytes).is_ok()
    }

    /// Bytes queued in the browser and not yet written to the network.
    pub(crate) fn buffered_amount(&self) -> u32 {
        self.ws.buffered_amount()
    }
}

impl Drop for WebSocketTransport {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

fn describe(e: wasm_bindgen::JsValue) -> String {
    js_sys::Reflect::get(&e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| "invalid WebSocket URL".to_string())
}
