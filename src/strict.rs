//! Strict deserialization helpers for the oracle's JSON contract (features `serde` and
//! `alloc`): structs only as objects (serde would also take an array), maps without
//! duplicate keys (serde's maps keep the last), and errors that name where they happened
//! (`steps[3]`, `tokens."alice"`).
#![forbid(unsafe_code)]

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;
use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};

/// A `T` that must be written as a JSON object.
pub(crate) struct Object<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Object)
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// `#[serde(deserialize_with = "object")]`: the field must be a JSON object.
pub(crate) fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Object::<T>::deserialize(d).map(|o| o.0)
}

/// An array of JSON objects; an error names the element (`step 3`, counting from 1 like
/// the oracle's step numbers).
pub(crate) fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    element: &'static str,
) -> Result<Vec<T>, D::Error> {
    struct V<T>(PhantomData<T>, &'static str);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of JSON objects")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            loop {
                match seq.next_element::<Object<T>>() {
                    Ok(Some(Object(v))) => out.push(v),
                    Ok(None) => return Ok(out),
                    Err(e) => {
                        return Err(A::Error::custom(format!(
                            "{} {}: {e}",
                            self.1,
                            out.len() + 1
                        )));
                    }
                }
            }
        }
    }
    d.deserialize_seq(V(PhantomData, element))
}

/// A JSON object (`expecting` says of what) whose values are `T`s, refusing a key given
/// twice; an error names the map and the key (`tokens."alice"`).
pub(crate) fn unique_map<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    map: &'static str,
    expecting: &'static str,
) -> Result<BTreeMap<String, T>, D::Error> {
    struct V<T>(PhantomData<T>, &'static str, &'static str);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = BTreeMap<String, T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.2)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                let value = match map.next_value::<T>() {
                    Ok(v) => v,
                    Err(e) => return Err(A::Error::custom(format!("{}.{key:?}: {e}", self.1))),
                };
                if out.contains_key(&key) {
                    return Err(A::Error::custom(format!(
                        "{}: duplicate key {key:?}",
                        self.1
                    )));
                }
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    d.deserialize_map(V(PhantomData, map, expecting))
}
