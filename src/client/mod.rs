//! The client core below the JavaScript surface: error codes, options, and
//! (in the browser) the driver that runs a session over a WebSocket.

#[cfg(target_arch = "wasm32")]
pub(crate) mod driver;
mod error;
mod options;

pub use error::{ClientError, ErrorCode};
pub use options::{ClientOptions, Persistence, ReconnectPolicy};
