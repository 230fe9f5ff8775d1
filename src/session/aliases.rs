//! MQTT 5 topic aliases, per connection, both directions.

use super::error::ProtocolError;

/// Aliases we assign to topics we publish, up to the broker's Topic Alias
/// Maximum. Topics first seen after the table is full go without an alias.
#[derive(Debug, Default)]
pub(crate) struct OutgoingAliases {
    max: u16,
    /// Alias n is `topics[n - 1]`; tables are small (brokers allow tens).
    topics: Vec<String>,
}

/// How to send a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AliasUse {
    /// Full topic, no alias.
    None,
    /// Full topic plus this alias, which establishes it.
    Establish(u16),
    /// Empty topic plus this alias.
    Reuse(u16),
}

impl OutgoingAliases {
    /// Starts a connection whose broker accepts `max` aliases (0: none).
    pub(crate) fn reset(&mut self, max: u16) {
        self.max = max;
        self.topics.clear();
    }

    /// The alias treatment for the next PUBLISH to `topic`; a new alias
    /// counts as established only after [`OutgoingAliases::establish`].
    pub(crate) fn lookup(&self, topic: &str) -> AliasUse {
        if self.max == 0 {
            return AliasUse::None;
        }
        if let Some(i) = self.topics.iter().position(|t| t == topic) {
            // i < max <= u16::MAX.
            return AliasUse::Reuse((i + 1) as u16);
        }
        let next = self.topics.len();
        if next >= usize::from(self.max) {
            return AliasUse::None;
        }
        // next < max <= u16::MAX, so next + 1 fits.
        AliasUse::Establish((next + 1) as u16)
    }

    /// Records that `alias` now stands for `topic` on this connection (the
    /// PUBLISH carrying both was sent).
    pub(crate) fn establish(&mut self, topic: &str, alias: u16) {
        if usize::from(alias) == self.topics.len() + 1 {
            self.topics.push(topic.to_owned());
        }
    }
}

/// Aliases the broker assigns to topics it sends us, up to our Topic Alias
/// Maximum.
#[derive(Debug, Default)]
pub(crate) struct IncomingAliases {
    max: u16,
    /// Alias n is `topics[n - 1]`; empty where not yet set.
    topics: Vec<String>,
}

impl IncomingAliases {
    /// Starts a connection where we announced `max` aliases.
    pub(crate) fn reset(&mut self, max: u16) {
        self.max = max;
        self.topics.clear();
    }

    /// The topic of an incoming PUBLISH with `alias`: records the mapping
    /// when `topic` is non-empty, looks it up when empty.
    pub(crate) fn resolve(&mut self, alias: u16, topic: &mut String) -> Result<(), ProtocolError> {
        if alias == 0 || alias > self.max {
            return Err(ProtocolError::TopicAliasInvalid(alias));
        }
        let i = usize::from(alias) - 1;
        if topic.is_empty() {
            match self.topics.get(i) {
                Some(known) if !known.is_empty() => topic.clone_from(known),
                _ => return Err(ProtocolError::TopicAliasInvalid(alias)),
            }
        } else {
            if self.topics.len() <= i {
                self.topics.resize(i + 1, String::new());
            }
            self.topics[i].clone_from(topic);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outgoing_assigns_until_full_then_sends_plain() {
        let mut a = OutgoingAliases::default();
        a.reset(2);
        assert_eq!(a.lookup("a"), AliasUse::Establish(1));
        assert_eq!(
            a.lookup("a"),
            AliasUse::Establish(1),
            "not established until sent"
        );
        a.establish("a", 1);
        assert_eq!(a.lookup("a"), AliasUse::Reuse(1));
        a.establish("b", 2);
        assert_eq!(a.lookup("c"), AliasUse::None);
        a.reset(0);
        assert_eq!(a.lookup("a"), AliasUse::None);
    }

    #[test]
    fn incoming_rejects_zero_above_max_and_unknown() {
        let mut a = IncomingAliases::default();
        a.reset(3);
        let mut t = String::new();
        assert_eq!(
            a.resolve(0, &mut t),
            Err(ProtocolError::TopicAliasInvalid(0))
        );
        assert_eq!(
            a.resolve(4, &mut t),
            Err(ProtocolError::TopicAliasInvalid(4))
        );
        assert_eq!(
            a.resolve(1, &mut t),
            Err(ProtocolError::TopicAliasInvalid(1))
        );
        let mut named = "x/y".to_string();
        assert_eq!(a.resolve(1, &mut named), Ok(()));
        assert_eq!(a.resolve(1, &mut t), Ok(()));
        assert_eq!(t, "x/y");
    }
}
