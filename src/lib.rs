//! wasmqtt: an MQTT 3.1.1 / 5.0 client for web pages.
//!
//! Layers, each knowing only those below it:
//! - [`codec`]: the wire format, pure.
//! - [`session`]: the sans-IO protocol engine (QoS flows, packet ids,
//!   inflight window, keep alive, resume), driven by inputs with the current
//!   time and drained of outputs.

pub mod codec;
pub mod session;
