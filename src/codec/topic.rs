//! Topic names, topic filters, and matching a name against a filter
//! (MQTT 5.0 section 4.7, MQTT 3.1.1 section 4.7).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a topic name or filter is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TopicError {
    /// Empty string.
    Empty,
    /// Longer than 65,535 bytes of UTF-8.
    TooLong,
    /// Contains U+0000.
    NullCharacter,
    /// A topic name (not a filter) contains `+` or `#`.
    WildcardInName,
    /// `#` not alone in its level or not the last level.
    InvalidMultiLevelWildcard,
    /// `+` not alone in its level.
    InvalidSingleLevelWildcard,
    /// `$share/` without a valid share name and filter.
    InvalidSharedSubscription,
}

impl TopicError {
    /// The message (what `Display` writes).
    pub fn as_str(self) -> &'static str {
        match self {
            TopicError::Empty => "empty topic",
            TopicError::TooLong => "topic longer than 65535 bytes",
            TopicError::NullCharacter => "topic contains U+0000",
            TopicError::WildcardInName => "wildcard in topic name",
            TopicError::InvalidMultiLevelWildcard => "'#' must be alone in the last level",
            TopicError::InvalidSingleLevelWildcard => "'+' must be alone in its level",
            TopicError::InvalidSharedSubscription => "invalid shared subscription",
        }
    }
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for TopicError {}

/// Longest topic in bytes: a UTF-8 string field holds at most 65,535.
const MAX_TOPIC_LEN: usize = u16::MAX as usize;

/// Prefix of a shared subscription filter (MQTT 5.0 §4.8.2).
const SHARE_PREFIX: &str = "$share/";

/// Checks a topic name for PUBLISH: non-empty, at most 65,535 bytes, no
/// U+0000, no wildcard. `Ok(())` guarantees that the name can be published
/// as is (MQTT 5.0 §4.7.3, [MQTT-4.7.0-1], [MQTT-4.7.3-1], [MQTT-4.7.3-2]).
pub fn validate_topic_name(name: &str) -> Result<(), TopicError> {
    check_common(name)?;
    if name.bytes().any(|b| b == b'+' || b == b'#') {
        return Err(TopicError::WildcardInName);
    }
    Ok(())
}

/// Checks a topic filter for SUBSCRIBE / UNSUBSCRIBE: non-empty, at most
/// 65,535 bytes, no U+0000, `#` only alone in the last level, `+` only alone
/// in its level; `$share/{name}/{filter}` needs a share name without
/// wildcards and a valid filter.
pub fn validate_topic_filter(filter: &str) -> Result<(), TopicError> {
    check_common(filter)?;
    let levels = match filter.strip_prefix(SHARE_PREFIX) {
        Some(rest) => {
            let (share_name, inner) = rest
                .split_once('/')
                .ok_or(TopicError::InvalidSharedSubscription)?;
            if share_name.is_empty() || share_name.contains(['+', '#']) || inner.is_empty() {
                return Err(TopicError::InvalidSharedSubscription);
            }
            inner
        }
        None => filter,
    };
    let mut iter = levels.split('/').peekable();
    while let Some(level) = iter.next() {
        if level.contains('#') && (level != "#" || iter.peek().is_some()) {
            return Err(TopicError::InvalidMultiLevelWildcard);
        }
        if level.contains('+') && level != "+" {
            return Err(TopicError::InvalidSingleLevelWildcard);
        }
    }
    Ok(())
}

/// Rules shared by names and filters: non-empty, length, no U+0000.
fn check_common(topic: &str) -> Result<(), TopicError> {
    if topic.is_empty() {
        return Err(TopicError::Empty);
    }
    if topic.len() > MAX_TOPIC_LEN {
        return Err(TopicError::TooLong);
    }
    if topic.as_bytes().contains(&0) {
        return Err(TopicError::NullCharacter);
    }
    Ok(())
}

/// Whether topic `name` matches `filter` (both assumed valid). Wildcards at
/// the first level do not match names starting with `$`; a `$share/{name}/`
/// prefix on the filter is ignored for matching. `#` also matches the parent
/// level (`sport/#` matches `sport`) and `+` matches an empty level
/// (MQTT 5.0 §4.7.1). Never panics, whatever the arguments.
pub fn topic_matches(filter: &str, name: &str) -> bool {
    let filter = match filter.strip_prefix(SHARE_PREFIX) {
        Some(rest) => match rest.split_once('/') {
            Some((_, inner)) => inner,
            None => return false,
        },
        None => filter,
    };
    if name.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut filter_levels = filter.split('/');
    let mut name_levels = name.split('/');
    loop {
        match (filter_levels.next(), name_levels.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(f), Some(n)) if f == n => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}
