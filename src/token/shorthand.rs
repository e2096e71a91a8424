//! The oracle's `tokens` map (features `serde` and `alloc`): each token a JSON object, or a
//! well-known token's shorthand — `"local_system"`, `"local_service"`, `"network_service"`,
//! or a person's `{"standard_user": SID}`, `{"administrator": SID}`,
//! `{"filtered_administrator": SID}` — which stands for exactly what [`TokenInfo`]'s
//! constructor of that name builds.
#![forbid(unsafe_code)]

use super::TokenInfo;
use crate::sid::Sid;
use alloc::collections::BTreeMap;
use alloc::string::String;
use core::fmt;
use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeSeed, Error, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A service account's constructor.
type Service = fn() -> TokenInfo;

/// A person's constructor, from the user SID.
type Person = fn(Sid) -> TokenInfo;

/// The shorthands written as a string: the service accounts.
const SERVICES: [(&str, Service); 3] = [
    ("local_system", TokenInfo::local_system),
    ("local_service", TokenInfo::local_service),
    ("network_service", TokenInfo::network_service),
];

/// The shorthands written as `{NAME: SID}`: people, whose user SID they name.
const PEOPLE: [(&str, Person); 3] = [
    ("standard_user", TokenInfo::standard_user),
    ("administrator", TokenInfo::elevated_administrator),
    ("filtered_administrator", TokenInfo::filtered_administrator),
];

/// What an error lists as accepted.
const ACCEPTED: &str = "a token object {\"user\": SID, …}, \"local_system\", \"local_service\", \
     \"network_service\", {\"standard_user\": SID}, {\"administrator\": SID} or \
     {\"filtered_administrator\": SID}";

/// The fields of a token object, as [`TokenInfo`]'s serialized form names them (a unit test
/// checks them against it).
const FIELDS: [&str; 6] = [
    "user",
    "groups",
    "elevated",
    "integrity",
    "logon",
    "restricting_sids",
];

/// `#[serde(deserialize_with = "…")]` for a `tokens` map: a JSON object of tokens, each a
/// token object or a shorthand; a name given twice is refused, and an error names the token
/// (`tokens."alice": …`).
pub(crate) fn tokens<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, TokenInfo>, D::Error> {
    crate::strict::unique_map::<D, Entry>(d, "tokens", "a JSON object of tokens")
        .map(|map| map.into_iter().map(|(name, Entry(t))| (name, t)).collect())
}

/// One value of the `tokens` map.
struct Entry(TokenInfo);

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Entry, D::Error> {
        if d.is_human_readable() {
            d.deserialize_any(EntryVisitor).map(Entry)
        } else {
            <TokenInfo as Deserialize>::deserialize(d).map(Entry)
        }
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = TokenInfo;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object (a token) or a token shorthand")
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<TokenInfo, E> {
        if let Some((_, make)) = SERVICES.iter().find(|(name, _)| *name == v) {
            Ok(make())
        } else if PEOPLE.iter().any(|(name, _)| *name == v) {
            Err(E::custom(format_args!(
                "token shorthand {v:?} needs the user's SID: {{{v:?}: SID}}"
            )))
        } else {
            Err(E::custom(format_args!(
                "unknown token shorthand {v:?}; expected {ACCEPTED}"
            )))
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TokenInfo, A::Error> {
        let Some(first) = map.next_key::<String>()? else {
            // `{}`: the token object's own error (`missing field `user``).
            return <TokenInfo as Deserialize>::deserialize(MapAccessDeserializer::new(map));
        };
        if let Some((name, make)) = PEOPLE.iter().find(|(name, _)| *name == first) {
            let user: Sid = map.next_value()?;
            match map.next_key::<String>()? {
                Some(other) => Err(not_alone(name, &other)),
                None => Ok(make(user)),
            }
        } else if FIELDS.contains(&first.as_str()) {
            <TokenInfo as Deserialize>::deserialize(MapAccessDeserializer::new(Replay {
                first: first.clone(),
                pending: Some(first),
                rest: map,
            }))
        } else {
            Err(A::Error::custom(format_args!(
                "unknown token field or shorthand {first:?}; expected {ACCEPTED}"
            )))
        }
    }
}

/// A person's shorthand beside another field, in either order.
fn not_alone<E: Error>(shorthand: &str, other: &str) -> E {
    E::custom(format_args!(
        "token shorthand {{{shorthand:?}: SID}} stands alone (found {other:?} beside it); \
         write the token as an object {{\"user\": SID, …}} instead"
    ))
}

/// A token object whose first key was already read: it hands that key out again, then the
/// rest, refusing a person's shorthand among them.
struct Replay<A> {
    first: String,
    pending: Option<String>,
    rest: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Replay<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let key = match self.pending.take() {
            Some(key) => key,
            None => match self.rest.next_key::<String>()? {
                Some(key) => key,
                None => return Ok(None),
            },
        };
        if let Some((name, _)) = PEOPLE.iter().find(|(name, _)| *name == key) {
            return Err(not_alone(name, &self.first));
        }
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.rest.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        let pending = usize::from(self.pending.is_some());
        self.rest.size_hint().map(|n| n + pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{IntegrityLevel, LogonType};
    use alloc::vec;

    #[test]
    fn the_fields_are_those_of_a_serialized_token() {
        let user: Sid = "S-1-5-21-1-2-3-1001".parse().unwrap();
        let full = TokenInfo::standard_user(user)
            .with_elevated(false)
            .with_integrity(IntegrityLevel::Low)
            .with_logon(LogonType::Batch)
            .with_restricting_sids(vec![Sid::RESTRICTED]);
        let json = serde_json::to_value(&full).unwrap();
        let mut keys: alloc::vec::Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut fields = FIELDS.to_vec();
        keys.sort_unstable();
        fields.sort_unstable();
        assert_eq!(keys, fields);
    }
}
