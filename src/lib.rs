//! wasmqtt: an MQTT 3.1.1 / 5.0 client for web pages.
//!
//! Layers, each knowing only those below it:
//! - [`codec`]: the wire format, pure.
//! - [`session`]: the sans-IO protocol engine (QoS flows, packet ids,
//!   inflight window, keep alive, resume), driven by inputs with the current
//!   time and drained of outputs.
//! - [`client`]: error codes and options; in the browser, the driver that
//!   runs a session over a WebSocket with timers and reconnects.
//! - `transport` (browser): the WebSocket.
//! - `js` (browser): the JavaScript API of shared/api.md.

/// The wasm build's global allocator (the logic is unit-tested natively).
#[cfg(any(test, target_arch = "wasm32"))]
mod allocator;
pub mod client;
pub mod codec;
mod heapsort;
pub mod session;
pub mod store;

/// The JavaScript API; public only so browser tests written in Rust can
/// call it as JavaScript does.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod js;
#[cfg(target_arch = "wasm32")]
mod transport;
