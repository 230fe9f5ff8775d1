//! MQTT 5 properties (MQTT 5.0 section 2.2.2).
//!
//! One struct, [`PropertyValues`], holds every property; each packet type
//! allows a subset, which the decoder enforces. Packets carry them as
//! [`Properties`], a pointer-sized handle that allocates only once a
//! property is set: most packets have none, and under MQTT 3.1.1 they are
//! always empty.

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Property identifiers (MQTT 5.0 table 2-4).
pub mod id {
    /// Byte
    pub const PAYLOAD_FORMAT_INDICATOR: u8 = 0x01;
    /// Four byte integer
    pub const MESSAGE_EXPIRY_INTERVAL: u8 = 0x02;
    /// UTF-8 string
    pub const CONTENT_TYPE: u8 = 0x03;
    /// UTF-8 string
    pub const RESPONSE_TOPIC: u8 = 0x08;
    /// Binary data
    pub const CORRELATION_DATA: u8 = 0x09;
    /// Variable byte integer
    pub const SUBSCRIPTION_IDENTIFIER: u8 = 0x0B;
    /// Four byte integer
    pub const SESSION_EXPIRY_INTERVAL: u8 = 0x11;
    /// UTF-8 string
    pub const ASSIGNED_CLIENT_IDENTIFIER: u8 = 0x12;
    /// Two byte integer
    pub const SERVER_KEEP_ALIVE: u8 = 0x13;
    /// UTF-8 string
    pub const AUTHENTICATION_METHOD: u8 = 0x15;
    /// Binary data
    pub const AUTHENTICATION_DATA: u8 = 0x16;
    /// Byte
    pub const REQUEST_PROBLEM_INFORMATION: u8 = 0x17;
    /// Four byte integer
    pub const WILL_DELAY_INTERVAL: u8 = 0x18;
    /// Byte
    pub const REQUEST_RESPONSE_INFORMATION: u8 = 0x19;
    /// UTF-8 string
    pub const RESPONSE_INFORMATION: u8 = 0x1A;
    /// UTF-8 string
    pub const SERVER_REFERENCE: u8 = 0x1C;
    /// UTF-8 string
    pub const REASON_STRING: u8 = 0x1F;
    /// Two byte integer
    pub const RECEIVE_MAXIMUM: u8 = 0x21;
    /// Two byte integer
    pub const TOPIC_ALIAS_MAXIMUM: u8 = 0x22;
    /// Two byte integer
    pub const TOPIC_ALIAS: u8 = 0x23;
    /// Byte
    pub const MAXIMUM_QOS: u8 = 0x24;
    /// Byte
    pub const RETAIN_AVAILABLE: u8 = 0x25;
    /// UTF-8 string pair
    pub const USER_PROPERTY: u8 = 0x26;
    /// Four byte integer
    pub const MAXIMUM_PACKET_SIZE: u8 = 0x27;
    /// Byte
    pub const WILDCARD_SUBSCRIPTION_AVAILABLE: u8 = 0x28;
    /// Byte
    pub const SUBSCRIPTION_IDENTIFIERS_AVAILABLE: u8 = 0x29;
    /// Byte
    pub const SHARED_SUBSCRIPTION_AVAILABLE: u8 = 0x2A;
}

/// The mask of property `id` in a set of identifiers (a `u64`); none for
/// identifiers beyond 63, which are all unknown.
pub(crate) const fn bit(id: u8) -> u64 {
    if id < 64 {
        1u64 << id
    } else {
        0
    }
}

/// The properties whose values own heap memory.
const OWNED: u64 = bit(id::CONTENT_TYPE)
    | bit(id::RESPONSE_TOPIC)
    | bit(id::CORRELATION_DATA)
    | bit(id::SUBSCRIPTION_IDENTIFIER)
    | bit(id::ASSIGNED_CLIENT_IDENTIFIER)
    | bit(id::AUTHENTICATION_METHOD)
    | bit(id::AUTHENTICATION_DATA)
    | bit(id::RESPONSE_INFORMATION)
    | bit(id::SERVER_REFERENCE)
    | bit(id::REASON_STRING)
    | bit(id::USER_PROPERTY);

/// The MQTT 5 properties of one packet, read and written as the fields of
/// [`PropertyValues`] (through `Deref` / `DerefMut`).
///
/// Guarantees: an empty set is one null pointer and costs no allocation;
/// reading a field never allocates; the first write through `DerefMut`
/// allocates the values once. Equality, `Debug` and serde see only the
/// values, so an allocated set that is empty equals [`Properties::default`].
#[derive(Clone, Default)]
pub struct Properties(Option<Box<Slot>>);

/// The allocation behind a non-null [`Properties`].
#[derive(Clone)]
struct Slot {
    values: PropertyValues,
    /// Bit `id` is set for every property that may be set (a superset of
    /// those that are); [`ANY`] once the values were lent out for writing.
    /// Lets a recycled set whose decoded properties were all numbers (the
    /// usual PUBLISH) be cleared without looking at the fields that own
    /// memory, and an untouched one not at all.
    touched: u64,
}

/// [`Slot::touched`] when any property may be set.
const ANY: u64 = u64::MAX;

/// Read by [`Properties`] when nothing is set.
static EMPTY: PropertyValues = PropertyValues::EMPTY;

impl Properties {
    /// True when no property is set. Cheap: no allocation.
    pub fn is_empty(&self) -> bool {
        self.0.as_deref().map_or(true, |s| s.values.is_empty())
    }

    /// The same allocation with every property unset, for reuse: setting
    /// properties on it allocates nothing more than the values need.
    #[inline]
    pub(crate) fn cleared(mut self) -> Properties {
        if let Some(slot) = self.0.as_deref_mut() {
            if slot.touched != 0 {
                slot.clear();
            }
        }
        self
    }

    /// The values for the decoder to fill in, allocating them if need be,
    /// and the mask in which it must set bit `id` before writing property
    /// `id` (so [`Properties::cleared`] knows what to reset).
    #[inline]
    pub(crate) fn for_decoding(&mut self) -> (&mut PropertyValues, &mut u64) {
        let slot = self.0.get_or_insert_with(Slot::boxed_empty);
        (&mut slot.values, &mut slot.touched)
    }

    /// The values for changing, if any were ever set; unlike `DerefMut`
    /// this never allocates (for clearing a property).
    pub fn existing_mut(&mut self) -> Option<&mut PropertyValues> {
        self.0.as_deref_mut().map(Slot::lend)
    }
}

impl Slot {
    /// A new allocation with nothing set.
    fn boxed_empty() -> Box<Slot> {
        Box::new(Slot {
            values: PropertyValues::EMPTY,
            touched: 0,
        })
    }

    /// Unsets every property.
    fn clear(&mut self) {
        if std::mem::take(&mut self.touched) & OWNED == 0 {
            // Numbers only (the usual PUBLISH): nothing to free. Every
            // field is named, so a new one cannot be forgotten here.
            let PropertyValues {
                payload_format_indicator,
                message_expiry_interval,
                content_type: _,
                response_topic: _,
                correlation_data: _,
                subscription_identifiers: _,
                session_expiry_interval,
                assigned_client_identifier: _,
                server_keep_alive,
                authentication_method: _,
                authentication_data: _,
                request_problem_information,
                will_delay_interval,
                request_response_information,
                response_information: _,
                server_reference: _,
                reason_string: _,
                receive_maximum,
                topic_alias_maximum,
                topic_alias,
                maximum_qos,
                retain_available,
                user_properties: _,
                maximum_packet_size,
                wildcard_subscription_available,
                subscription_identifiers_available,
                shared_subscription_available,
            } = &mut self.values;
            *payload_format_indicator = None;
            *message_expiry_interval = None;
            *session_expiry_interval = None;
            *server_keep_alive = None;
            *request_problem_information = None;
            *will_delay_interval = None;
            *request_response_information = None;
            *receive_maximum = None;
            *topic_alias_maximum = None;
            *topic_alias = None;
            *maximum_qos = None;
            *retain_available = None;
            *maximum_packet_size = None;
            *wildcard_subscription_available = None;
            *subscription_identifiers_available = None;
            *shared_subscription_available = None;
        } else {
            // Strings, binary data or a vector, or values lent out by
            // `DerefMut`.
            self.values = PropertyValues::EMPTY;
        }
    }

    /// The values for writing through a public path: from now on any
    /// property may be set.
    fn lend(&mut self) -> &mut PropertyValues {
        self.touched = ANY;
        &mut self.values
    }
}

impl Deref for Properties {
    type Target = PropertyValues;

    fn deref(&self) -> &PropertyValues {
        self.0.as_deref().map_or(&EMPTY, |s| &s.values)
    }
}

impl DerefMut for Properties {
    fn deref_mut(&mut self) -> &mut PropertyValues {
        self.0.get_or_insert_with(Slot::boxed_empty).lend()
    }
}

impl From<PropertyValues> for Properties {
    /// Boxes `values`, or nothing when they are empty.
    fn from(values: PropertyValues) -> Self {
        if values.is_empty() {
            Properties(None)
        } else {
            Properties(Some(Box::new(Slot {
                values,
                touched: ANY,
            })))
        }
    }
}

impl PartialEq for Properties {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Properties {}

impl fmt::Debug for Properties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl Serialize for Properties {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Properties {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        PropertyValues::deserialize(deserializer).map(Properties::from)
    }
}

/// Every MQTT 5 property; `None` / empty means absent.
///
/// Boolean-valued properties (payload format indicator, request problem
/// information, request response information, maximum QoS, retain available,
/// the three "... available" flags) hold their byte; the decoder accepts only
/// the values the specification allows (0 or 1; maximum QoS 0 or 1).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PropertyValues {
    /// 0x01
    pub payload_format_indicator: Option<u8>,
    /// 0x02, seconds
    pub message_expiry_interval: Option<u32>,
    /// 0x03
    pub content_type: Option<String>,
    /// 0x08
    pub response_topic: Option<String>,
    /// 0x09
    pub correlation_data: Option<Vec<u8>>,
    /// 0x0B; several allowed in PUBLISH, at most one in SUBSCRIBE; each 1..=268_435_455
    pub subscription_identifiers: Vec<u32>,
    /// 0x11, seconds
    pub session_expiry_interval: Option<u32>,
    /// 0x12
    pub assigned_client_identifier: Option<String>,
    /// 0x13, seconds
    pub server_keep_alive: Option<u16>,
    /// 0x15
    pub authentication_method: Option<String>,
    /// 0x16
    pub authentication_data: Option<Vec<u8>>,
    /// 0x17
    pub request_problem_information: Option<u8>,
    /// 0x18, seconds
    pub will_delay_interval: Option<u32>,
    /// 0x19
    pub request_response_information: Option<u8>,
    /// 0x1A
    pub response_information: Option<String>,
    /// 0x1C
    pub server_reference: Option<String>,
    /// 0x1F
    pub reason_string: Option<String>,
    /// 0x21, non-zero
    pub receive_maximum: Option<u16>,
    /// 0x22
    pub topic_alias_maximum: Option<u16>,
    /// 0x23, non-zero
    pub topic_alias: Option<u16>,
    /// 0x24, 0 or 1
    pub maximum_qos: Option<u8>,
    /// 0x25
    pub retain_available: Option<u8>,
    /// 0x26, in order; the same name may repeat
    pub user_properties: Vec<(String, String)>,
    /// 0x27, non-zero
    pub maximum_packet_size: Option<u32>,
    /// 0x28
    pub wildcard_subscription_available: Option<u8>,
    /// 0x29
    pub subscription_identifiers_available: Option<u8>,
    /// 0x2A
    pub shared_subscription_available: Option<u8>,
}

impl PropertyValues {
    /// No property set, as a constant (what [`Properties`] reads when empty).
    pub const EMPTY: PropertyValues = PropertyValues {
        payload_format_indicator: None,
        message_expiry_interval: None,
        content_type: None,
        response_topic: None,
        correlation_data: None,
        subscription_identifiers: Vec::new(),
        session_expiry_interval: None,
        assigned_client_identifier: None,
        server_keep_alive: None,
        authentication_method: None,
        authentication_data: None,
        request_problem_information: None,
        will_delay_interval: None,
        request_response_information: None,
        response_information: None,
        server_reference: None,
        reason_string: None,
        receive_maximum: None,
        topic_alias_maximum: None,
        topic_alias: None,
        maximum_qos: None,
        retain_available: None,
        user_properties: Vec::new(),
        maximum_packet_size: None,
        wildcard_subscription_available: None,
        subscription_identifiers_available: None,
        shared_subscription_available: None,
    };

    /// True when no property is set. Cheap: field checks only, no allocation.
    pub fn is_empty(&self) -> bool {
        // Destructured so that a new field cannot be forgotten here.
        let PropertyValues {
            payload_format_indicator,
            message_expiry_interval,
            content_type,
            response_topic,
            correlation_data,
            subscription_identifiers,
            session_expiry_interval,
            assigned_client_identifier,
            server_keep_alive,
            authentication_method,
            authentication_data,
            request_problem_information,
            will_delay_interval,
            request_response_information,
            response_information,
            server_reference,
            reason_string,
            receive_maximum,
            topic_alias_maximum,
            topic_alias,
            maximum_qos,
            retain_available,
            user_properties,
            maximum_packet_size,
            wildcard_subscription_available,
            subscription_identifiers_available,
            shared_subscription_available,
        } = self;
        payload_format_indicator.is_none()
            && message_expiry_interval.is_none()
            && content_type.is_none()
            && response_topic.is_none()
            && correlation_data.is_none()
            && subscription_identifiers.is_empty()
            && session_expiry_interval.is_none()
            && assigned_client_identifier.is_none()
            && server_keep_alive.is_none()
            && authentication_method.is_none()
            && authentication_data.is_none()
            && request_problem_information.is_none()
            && will_delay_interval.is_none()
            && request_response_information.is_none()
            && response_information.is_none()
            && server_reference.is_none()
            && reason_string.is_none()
            && receive_maximum.is_none()
            && topic_alias_maximum.is_none()
            && topic_alias.is_none()
            && maximum_qos.is_none()
            && retain_available.is_none()
            && user_properties.is_empty()
            && maximum_packet_size.is_none()
            && wildcard_subscription_available.is_none()
            && subscription_identifiers_available.is_none()
            && shared_subscription_available.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_properties_allocate_nothing_and_compare_by_value() {
        let mut p = Properties::default();
        assert!(p.is_empty() && p.topic_alias.is_none());
        assert!(p.existing_mut().is_none(), "reading allocated nothing");
        p.topic_alias = Some(3);
        assert!(!p.is_empty());
        if let Some(values) = p.existing_mut() {
            values.topic_alias = None;
        }
        // Allocated but empty: equal to the unallocated default.
        assert!(p.existing_mut().is_some() && p.is_empty());
        assert_eq!(p, Properties::default());
        assert_eq!(format!("{p:?}"), format!("{:?}", Properties::default()));
        assert!(Properties::from(PropertyValues::default())
            .existing_mut()
            .is_none());
        let mut q = Properties::from(PropertyValues {
            content_type: Some("a".into()),
            ..PropertyValues::default()
        });
        assert_eq!(q.content_type.as_deref(), Some("a"));
        assert!(q.existing_mut().is_some());
    }
}
