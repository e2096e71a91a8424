//! Serde for [`GroupAttributes`] (feature `serde`): written as the raw number, read from the
//! number or from a list of the flags' names (`["enabled", "deny_only"]`).
#![forbid(unsafe_code)]

use super::GroupAttributes;
use crate::names::names;
use core::fmt;
use serde::de::{Error, SeqAccess, Unexpected, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One `SE_GROUP_*` flag by name: the snake case of its constant, `deny_only` for
/// `SE_GROUP_USE_FOR_DENY_ONLY`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum AttributeName {
    Mandatory,
    EnabledByDefault,
    Enabled,
    Owner,
    DenyOnly,
    Integrity,
    IntegrityEnabled,
    Resource,
    LogonId,
}

names! { AttributeName, "group attribute";
    Mandatory => "mandatory", EnabledByDefault => "enabled_by_default", Enabled => "enabled",
    Owner => "owner", DenyOnly => "deny_only", Integrity => "integrity",
    IntegrityEnabled => "integrity_enabled", Resource => "resource", LogonId => "logon_id",
}

impl AttributeName {
    /// The flag the name stands for (`logon_id` is both bits of `0xC0000000`).
    const fn flag(self) -> GroupAttributes {
        match self {
            AttributeName::Mandatory => GroupAttributes::MANDATORY,
            AttributeName::EnabledByDefault => GroupAttributes::ENABLED_BY_DEFAULT,
            AttributeName::Enabled => GroupAttributes::ENABLED,
            AttributeName::Owner => GroupAttributes::OWNER,
            AttributeName::DenyOnly => GroupAttributes::USE_FOR_DENY_ONLY,
            AttributeName::Integrity => GroupAttributes::INTEGRITY,
            AttributeName::IntegrityEnabled => GroupAttributes::INTEGRITY_ENABLED,
            AttributeName::Resource => GroupAttributes::RESOURCE,
            AttributeName::LogonId => GroupAttributes::LOGON_ID,
        }
    }
}

/// The raw number, unknown bits included: the format is ours, not `bitflags`'s.
impl Serialize for GroupAttributes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.bits())
    }
}

/// A number (unknown bits kept), or in a self-describing format such as JSON also a list of
/// names, each at most once: `["mandatory", "enabled_by_default", "enabled"]` is `7`.
impl<'de> Deserialize<'de> for GroupAttributes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<GroupAttributes, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_any(NumberOrNames)
        } else {
            u32::deserialize(deserializer).map(GroupAttributes::from_bits_retain)
        }
    }
}

struct NumberOrNames;

impl<'de> Visitor<'de> for NumberOrNames {
    type Value = GroupAttributes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a u32 or a list of group attribute names")
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<GroupAttributes, E> {
        u32::try_from(v)
            .map(GroupAttributes::from_bits_retain)
            .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<GroupAttributes, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<GroupAttributes, A::Error> {
        let mut attributes = GroupAttributes::empty();
        while let Some(name) = seq.next_element::<AttributeName>()? {
            if attributes.intersects(name.flag()) {
                return Err(A::Error::custom(format_args!(
                    "group attribute \"{name}\" is named twice"
                )));
            }
            attributes |= name.flag();
        }
        Ok(attributes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_name_is_one_flag_and_together_they_are_every_flag() {
        let mut all = GroupAttributes::empty();
        for name in AttributeName::ALL {
            assert!(!all.intersects(name.flag()), "{name}");
            assert_eq!(name.name().parse(), Ok(*name));
            all |= name.flag();
        }
        assert_eq!(all, GroupAttributes::all());
    }
}
