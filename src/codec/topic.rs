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

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            TopicError::Empty => "empty topic",
            TopicError::TooLong => "topic longer than 65535 bytes",
            TopicError::NullCharacter => "topic contains U+0000",
            TopicError::WildcardInName => "wildcard in topic name",
            TopicError::InvalidMultiLevelWildcard => "'#' must be alone in the last level",
            TopicError::InvalidSingleLevelWildcard => "'+' must be alone in its level",
            TopicError::InvalidSharedSubscription => "invalid shared subscription",
        };
        f.write_str(text)
    }
}

impl std::error::Error for TopicError {}

/// Checks a topic name for PUBLISH: non-empty, at most 65,535 bytes, no
/// U+0000, no wildcard.
pub fn validate_topic_name(name: &str) -> Result<(), TopicError> {
    let _ = name;
    unimplemented!()
}

/// Checks a topic filter for SUBSCRIBE / UNSUBSCRIBE: non-empty, at most
/// 65,535 bytes, no U+0000, `#` only alone in the last level, `+` only alone
/// in its level; `$share/{name}/{filter}` needs a share name without
/// wildcards and a valid filter.
pub fn validate_topic_filter(filter: &str) -> Result<(), TopicError> {
    let _ = filter;
    unimplemented!()
}

/// Whether topic `name` matches `filter` (both assumed valid). Wildcards at
/// the first level do not match names starting with `$`; a `$share/{name}/`
/// prefix on the filter is ignored for matching.
pub fn topic_matches(filter: &str, name: &str) -> bool {
    let _ = (filter, name);
    unimplemented!()
}
