//! The browser WebSocket as an MQTT transport: subprotocol `mqtt`, binary
//! frames as `ArrayBuffer`s. Events reach one handler; dropping the
//! transport detaches the handler and closes the socket.

use js_sys::Uint8Array;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, CloseEvent, WebSocket};

// Per frame, the browser's `message` event is read in JS (support.js), which
// also copies the frame into the transport's inbox in the wasm memory: a
// frame costs one call into the wasm and none out, where reading the event
// from Rust took six calls out and three JS handles.
#[wasm_bindgen(module = "/src/js/support.js")]
extern "C" {
    #[wasm_bindgen(js_name = useMemory)]
    fn use_memory(memory: &JsValue);
    #[wasm_bindgen(js_name = onFrames)]
    fn on_frames(ws: &WebSocket, on_frame: &Closure<dyn FnMut(u32, f64) -> u32>);
    #[wasm_bindgen(js_name = bytesIn)]
    fn bytes_in(src: &Uint8Array, at: u32, len: u32);
    #[wasm_bindgen(js_name = bytesOut)]
    fn bytes_out(at: u32, len: u32) -> Uint8Array;
    #[wasm_bindgen(js_name = sendBytes)]
    fn send_bytes(ws: &WebSocket, at: u32, len: u32);
}

/// Tells support.js where the wasm memory is, for [`js_bytes`] and
/// [`vec_from_js`]: called before either is used.
pub(crate) fn share_memory() {
    use_memory(&wasm_bindgen::memory());
}

/// A new `Uint8Array` holding a copy of `bytes` (after [`share_memory`]).
pub(crate) fn js_bytes(bytes: &[u8]) -> Uint8Array {
    bytes_out(bytes.as_ptr() as u32, bytes.len() as u32)
}

/// A copy of a JS byte array (after [`share_memory`]).
pub(crate) fn vec_from_js(src: &Uint8Array) -> Vec<u8> {
    let mut v = vec![0; src.length() as usize];
    // The JS side writes no more than `len` bytes at `at`: within `v`.
    bytes_in(src, v.as_mut_ptr() as u32, v.len() as u32);
    v
}

/// What happened on the socket.
pub(crate) enum TransportEvent<'a> {
    /// The socket is open.
    Open,
    /// One binary frame, and the time it arrived (ms since the epoch).
    Data(&'a [u8], f64),
    /// The socket closed (after an error, too).
    Closed,
}

/// An open or opening WebSocket.
pub(crate) struct WebSocketTransport {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_frame: Closure<dyn FnMut(u32, f64) -> u32>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl WebSocketTransport {
    /// Starts opening a WebSocket to `url`; `handler` receives its events.
    /// Fails at once for a URL the browser rejects.
    pub(crate) fn open(
        url: &str,
        handler: impl Fn(TransportEvent<'_>) + Clone + 'static,
    ) -> Result<Self, String> {
        let ws = WebSocket::new_with_str(url, "mqtt").map_err(describe)?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let h = handler.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || h(TransportEvent::Open));
        let h = handler.clone();
        // The frames are written into `inbox` by support.js: called with a
        // negative time, this makes room for `len` bytes and returns where;
        // then, with the frame's time, its `len` bytes are there. Never
        // reallocated otherwise, so the address holds between the calls.
        let mut inbox = Vec::new();
        let on_frame = Closure::<dyn FnMut(u32, f64) -> u32>::new(move |len: u32, at: f64| {
            let len = len as usize;
            if at < 0.0 {
                if inbox.len() < len {
                    inbox.resize(len, 0);
                }
                return inbox.as_mut_ptr() as u32;
            }
            if let Some(frame) = inbox.get(..len) {
                h(TransportEvent::Data(frame, at));
            }
            0
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |_e: CloseEvent| {
            handler(TransportEvent::Closed)
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_frames(&ws, &on_frame);
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(WebSocketTransport {
            ws,
            _on_open: on_open,
            _on_frame: on_frame,
            _on_close: on_close,
        })
    }

    /// Queues `bytes` as one binary frame. The session sends only after the
    /// socket opened; once it is closing, the browser drops the bytes and
    /// the close event follows.
    pub(crate) fn send(&self, bytes: &[u8]) {
        send_bytes(&self.ws, bytes.as_ptr() as u32, bytes.len() as u32);
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
