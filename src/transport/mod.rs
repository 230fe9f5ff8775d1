//! The browser WebSocket as an MQTT transport: subprotocol `mqtt`, binary
//! frames as `ArrayBuffer`s. Events reach one handler; dropping the
//! transport detaches the handler and closes the socket.

use js_sys::Uint8Array;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use web_sys::{BinaryType, WebSocket};

// Per frame, the browser's `message` event is read in JS (support.js), which
// also copies the frame into the transport's inbox in the wasm memory: a
// frame costs one call into the wasm and none out, where reading the event
// from Rust took six calls out and three JS handles.
#[wasm_bindgen(module = "/src/js/support.js")]
extern "C" {
    #[wasm_bindgen(js_name = useMemory)]
    fn use_memory(memory: &JsValue);
    #[wasm_bindgen(js_name = onSocket)]
    fn on_socket(ws: &WebSocket, on_event: &Closure<dyn FnMut(u32, f64) -> u32>);
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
    /// One binary frame, and the time it is handled (ms since the epoch).
    Data(&'a [u8], f64),
    /// The frames that were queued when a [`Reply::ANSWERING`] frame was
    /// handled have all been handled since; `held` of them were held.
    BurstEnd { held: u32 },
    /// The socket closed (after an error, too), after its last frame.
    Closed,
}

/// What the handler of a frame asks of the transport (bits).
pub(crate) struct Reply;

impl Reply {
    /// Tell [`TransportEvent::BurstEnd`] after the frames queued now.
    pub(crate) const ANSWERING: u32 = 1;
    /// Hold the frames arriving until then, and hand them over in one go
    /// just before it: each would otherwise find the client's code and data
    /// evicted by the browser's work between two frames.
    pub(crate) const HOLD: u32 = 2;
}

/// An open or opening WebSocket.
pub(crate) struct WebSocketTransport {
    ws: WebSocket,
    _on_event: Closure<dyn FnMut(u32, f64) -> u32>,
}

impl WebSocketTransport {
    /// Starts opening a WebSocket to `url`; `handler` receives its events
    /// in order (frames as they arrived, the close after the last) and
    /// answers each frame with [`Reply`] bits. Fails at once for a URL the
    /// browser rejects.
    pub(crate) fn open(
        url: &str,
        handler: impl Fn(TransportEvent<'_>) -> u32 + 'static,
    ) -> Result<Self, String> {
        let ws = WebSocket::new_with_str(url, "mqtt").map_err(describe)?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        // support.js writes each frame into `inbox`: asked with code -1, this
        // makes room for `len` bytes and returns where; then, with the
        // frame's time as the code, its `len` bytes are there. Never
        // reallocated otherwise, so the address holds between the calls.
        let mut inbox = Vec::new();
        let on_event = Closure::<dyn FnMut(u32, f64) -> u32>::new(move |len: u32, code: f64| {
            let len = len as usize;
            let event = if code >= 0.0 {
                match inbox.get(..len) {
                    Some(frame) => TransportEvent::Data(frame, code),
                    None => return 0,
                }
            } else if code == -1.0 {
                if inbox.len() < len {
                    inbox.resize(len, 0);
                }
                return inbox.as_mut_ptr() as u32;
            } else if code == -2.0 {
                TransportEvent::BurstEnd { held: len as u32 }
            } else if code == -3.0 {
                TransportEvent::Closed
            } else {
                TransportEvent::Open
            };
            handler(event)
        });
        on_socket(&ws, &on_event);
        Ok(WebSocketTransport {
            ws,
            _on_event: on_event,
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
        // Detached: support.js drops the frames it holds and tells nothing more.
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
