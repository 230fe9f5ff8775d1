//! Topic names, filters and matching (MQTT 5.0 §4.7, MQTT 3.1.1 §4.7),
//! including every example of §4.7.1 and §4.7.2.

use wasmqtt::codec::{topic_matches, validate_topic_filter, validate_topic_name, TopicError};

#[test]
fn topic_error_empty() {
    assert_eq!(validate_topic_name(""), Err(TopicError::Empty));
    assert_eq!(validate_topic_filter(""), Err(TopicError::Empty));
}

#[test]
fn topic_error_too_long() {
    let long = "a".repeat(65_536);
    assert_eq!(validate_topic_name(&long), Err(TopicError::TooLong));
    assert_eq!(validate_topic_filter(&long), Err(TopicError::TooLong));
    assert_eq!(validate_topic_name(&long[1..]), Ok(()));
}

#[test]
fn topic_error_null_character() {
    assert_eq!(validate_topic_name("a\0"), Err(TopicError::NullCharacter));
    assert_eq!(
        validate_topic_filter("\0/#"),
        Err(TopicError::NullCharacter)
    );
}

/// [MQTT-4.7.0-1]: wildcards must not be used in a topic name.
#[test]
fn topic_error_wildcard_in_name() {
    for name in ["+", "#", "a/+/b", "a/#", "a+b"] {
        assert_eq!(
            validate_topic_name(name),
            Err(TopicError::WildcardInName),
            "{name}"
        );
    }
}

/// §4.7.1.2: `#` alone and last.
#[test]
fn topic_error_multi_level_wildcard() {
    for filter in ["sport/tennis#", "sport/tennis/#/ranking", "#/a", "a#", "##"] {
        assert_eq!(
            validate_topic_filter(filter),
            Err(TopicError::InvalidMultiLevelWildcard),
            "{filter}"
        );
    }
}

/// §4.7.1.3: `+` alone in its level.
#[test]
fn topic_error_single_level_wildcard() {
    for filter in ["sport+", "sport/+tennis", "++", "a/b+/c"] {
        assert_eq!(
            validate_topic_filter(filter),
            Err(TopicError::InvalidSingleLevelWildcard),
            "{filter}"
        );
    }
}

/// MQTT 5.0 §4.8.2: `$share/{ShareName}/{filter}`, share name non-empty and
/// without wildcards, filter present.
#[test]
fn topic_error_shared_subscription() {
    for filter in [
        "$share/",
        "$share/g",
        "$share//a",
        "$share/g/",
        "$share/+/a",
        "$share/g#/a",
    ] {
        assert_eq!(
            validate_topic_filter(filter),
            Err(TopicError::InvalidSharedSubscription),
            "{filter}"
        );
    }
    assert_eq!(validate_topic_filter("$share/g/a/+/#"), Ok(()));
    assert_eq!(
        validate_topic_filter("$share/g/a#"),
        Err(TopicError::InvalidMultiLevelWildcard)
    );
}

/// §4.7.1: valid filters from the specification text.
#[test]
fn valid_filters() {
    for filter in [
        "sport/tennis/player1/#",
        "sport/#",
        "#",
        "+",
        "+/tennis/#",
        "sport/+/player1",
        "/+",
        "+/+",
        "$SYS/#",
        "a//b",
        "/",
        "$share",
    ] {
        assert_eq!(validate_topic_filter(filter), Ok(()), "{filter}");
    }
    for name in [
        "/",
        "a//b",
        "$SYS/monitor/Clients",
        " ",
        "sport/tennis/player1",
    ] {
        assert_eq!(validate_topic_name(name), Ok(()), "{name}");
    }
}

/// §4.7.1.2: "sport/tennis/player1/#" matches ... and `#` matches the parent.
#[test]
fn multi_level_wildcard_examples() {
    let f = "sport/tennis/player1/#";
    assert!(topic_matches(f, "sport/tennis/player1"));
    assert!(topic_matches(f, "sport/tennis/player1/ranking"));
    assert!(topic_matches(f, "sport/tennis/player1/score/wimbledon"));
    assert!(!topic_matches(f, "sport/tennis/player2"));
    assert!(topic_matches("sport/#", "sport"));
    assert!(topic_matches("#", "sport/tennis"));
    assert!(topic_matches("#", "/"));
}

/// §4.7.1.3: `+` matches exactly one level, which may be empty.
#[test]
fn single_level_wildcard_examples() {
    assert!(topic_matches("sport/tennis/+", "sport/tennis/player1"));
    assert!(topic_matches("sport/tennis/+", "sport/tennis/player2"));
    assert!(!topic_matches(
        "sport/tennis/+",
        "sport/tennis/player1/ranking"
    ));
    assert!(!topic_matches("sport/+", "sport"));
    assert!(topic_matches("sport/+", "sport/"));
    assert!(topic_matches("+/+", "/finance"));
    assert!(topic_matches("/+", "/finance"));
    assert!(!topic_matches("+", "/finance"));
    assert!(topic_matches("+/tennis/#", "sport/tennis"));
    assert!(topic_matches("sport/+/player1", "sport/tennis/player1"));
}

/// §4.7.2: topics starting with `$` and first-level wildcards.
#[test]
fn dollar_topics() {
    assert!(!topic_matches("#", "$SYS/monitor/Clients"));
    assert!(!topic_matches("+/monitor/Clients", "$SYS/monitor/Clients"));
    assert!(topic_matches("$SYS/#", "$SYS/monitor/Clients"));
    assert!(topic_matches("$SYS/monitor/+", "$SYS/monitor/Clients"));
}

/// §4.7: matching is exact, case-sensitive, level by level.
#[test]
fn exact_and_case_sensitive() {
    assert!(topic_matches("a/b", "a/b"));
    assert!(!topic_matches("a/b", "a/B"));
    assert!(!topic_matches("a/b", "a/b/"));
    assert!(!topic_matches("a/b", "a"));
    assert!(topic_matches("a//b", "a//b"));
    assert!(!topic_matches("ACCOUNTS", "Accounts"));
}

/// MQTT 5.0 §4.8.2: the `$share/{ShareName}/` prefix is ignored.
#[test]
fn shared_prefix_is_ignored() {
    assert!(topic_matches("$share/g/sport/#", "sport/tennis"));
    assert!(topic_matches("$share/g/+", "x"));
    assert!(!topic_matches("$share/g/+", "$SYS"));
    assert!(!topic_matches("$share/g/a", "$share/g/a"));
}
