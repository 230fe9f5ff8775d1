//! Driver options that are not the session's: where to connect, how long to
//! wait, how to retry.

/// Exponential backoff with jitter between reconnect attempts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReconnectPolicy {
    /// Delay before the first retry, in ms.
    pub initial_delay_ms: u32,
    /// Largest delay, in ms.
    pub max_delay_ms: u32,
    /// Fraction (0..=1) of each delay that is randomised away.
    pub jitter: f64,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            initial_delay_ms: 1000,
            max_delay_ms: 30_000,
            jitter: 0.5,
        }
    }
}

impl ReconnectPolicy {
    /// The delay before retry number `attempt` (0-based), given a uniform
    /// random number in [0, 1): `min(max, initial * 2^attempt)`, reduced by
    /// up to `jitter` of itself.
    pub fn delay_ms(&self, attempt: u32, random: f64) -> u32 {
        let base = u64::from(self.initial_delay_ms)
            .saturating_mul(1u64 << attempt.min(32))
            .min(u64::from(self.max_delay_ms));
        let jitter = self.jitter.clamp(0.0, 1.0) * random.clamp(0.0, 1.0);
        (base as f64 * (1.0 - jitter)).round() as u32
    }
}

/// Where session state is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// In the client's memory only.
    Memory,
    /// In IndexedDB, per (broker URL, client id).
    IndexedDb,
    /// In IndexedDB if it can be opened, else in memory (asked for with
    /// `persistence: "auto"`).
    IndexedDbOrMemory,
}

/// Everything the driver needs beyond the session configuration.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// ws:// or wss:// URL.
    pub url: String,
    /// Time from the start of an attempt to CONNACK, in ms.
    pub connect_timeout_ms: u64,
    /// `None`: do not reconnect.
    pub reconnect: Option<ReconnectPolicy>,
    /// `connect()`: the first failure ends the client instead of retrying.
    pub fail_first_connect: bool,
    /// Where session state lives.
    pub persistence: Persistence,
    /// When another tab holds the session: wait for it (true) or fail.
    pub lock_wait: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum_and_jitter_only_shortens() {
        let p = ReconnectPolicy {
            initial_delay_ms: 100,
            max_delay_ms: 1000,
            jitter: 0.5,
        };
        assert_eq!(p.delay_ms(0, 0.0), 100);
        assert_eq!(p.delay_ms(1, 0.0), 200);
        assert_eq!(p.delay_ms(3, 0.0), 800);
        assert_eq!(p.delay_ms(4, 0.0), 1000);
        assert_eq!(p.delay_ms(100, 0.0), 1000);
        assert_eq!(p.delay_ms(0, 0.999_999), 50);
        assert!(p.delay_ms(2, 0.5) >= 200 && p.delay_ms(2, 0.5) <= 400);
    }
}
