//! One name table per vocabulary enum.
//!
//! [`names!`] takes an enum's values and their stable names once and generates
//! `ALL`, `name()`, `Display`, `FromStr` (refusing with a [`ParseNameError`] that lists the
//! valid names) and, with the `serde` feature, serde through the name. A name is written
//! in exactly one place; `name()` is an exhaustive `match`, so a variant without a name does
//! not compile.
#![forbid(unsafe_code)]

use core::fmt;

/// A name that is not one of a vocabulary's names: what kind of name was expected and the
/// valid ones.
///
/// ```
/// use bits_helper_token::JobState;
/// let e = "paused".parse::<JobState>().unwrap_err();
/// assert_eq!(e.what(), "job state");
/// assert!(e.to_string().starts_with("not a known job state; expected one of \"queued\", "));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParseNameError {
    what: &'static str,
    expected: &'static str,
}

impl ParseNameError {
    pub(crate) const fn new(what: &'static str, expected: &'static str) -> ParseNameError {
        ParseNameError { what, expected }
    }

    /// The kind of name expected (`"job state"`).
    pub const fn what(&self) -> &'static str {
        self.what
    }

    /// The valid names, quoted and separated by commas.
    pub const fn expected(&self) -> &'static str {
        self.expected
    }
}

impl fmt::Display for ParseNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not a known {}; expected one of {}",
            self.what, self.expected
        )
    }
}

impl core::error::Error for ParseNameError {}

/// `names! { Type, "what"; Variant => "name", Other(Inner::X) => "other_x", … }`
macro_rules! names {
    (
        $ty:ident, $what:literal;
        $( $var:ident $( ( $($arg:tt)* ) )? => $name:literal ),+ $(,)?
    ) => {
        impl $ty {
            /// Every value, in the order of the name table.
            pub const ALL: &'static [$ty] = &[ $( $ty::$var $( ( $($arg)* ) )? ),+ ];

            /// The stable name (its serialized form).
            pub const fn name(self) -> &'static str {
                match self {
                    $( $ty::$var $( ( $($arg)* ) )? => $name, )+
                }
            }

            const EXPECTED: &'static str =
                $crate::names::join!($( $name ),+);
        }

        impl core::fmt::Display for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl core::str::FromStr for $ty {
            type Err = $crate::names::ParseNameError;
            fn from_str(s: &str) -> Result<$ty, $crate::names::ParseNameError> {
                <$ty>::ALL
                    .iter()
                    .copied()
                    .find(|v| v.name() == s)
                    .ok_or($crate::names::ParseNameError::new($what, <$ty>::EXPECTED))
            }
        }

        #[cfg(feature = "serde")]
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.name())
            }
        }

        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                        write!(f, "one of {} ({})", <$ty>::EXPECTED, $what)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(|_| E::invalid_value(serde::de::Unexpected::Str(v), &self))
                    }
                }
                deserializer.deserialize_str(V)
            }
        }
    };
}
pub(crate) use names;

/// `"a", "b", "c"` as one `&'static str`.
macro_rules! join {
    ($first:literal $(, $rest:literal)*) => {
        concat!("\"", $first, "\"" $(, ", \"", $rest, "\"")*)
    };
}
pub(crate) use join;

/// Serde for a `bitflags` type as its raw `u32`, unknown bits retained (never dropped):
/// the format is ours, not `bitflags`'s, so an upgrade cannot change it.
#[cfg(feature = "serde")]
macro_rules! serde_as_raw_bits {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_u32(self.bits())
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                <u32 as serde::Deserialize>::deserialize(deserializer).map(<$ty>::from_bits_retain)
            }
        }
    };
}
#[cfg(feature = "serde")]
pub(crate) use serde_as_raw_bits;

/// `strict_object!(Type, "what")`: serde for a type whose derives carry
/// `#[serde(remote = "Self")]` (so they generate inherent `serialize`/`deserialize`),
/// implementing the traits so that the type deserializes **only from a JSON object** —
/// serde's derive also takes a struct as an array, and an internally tagged enum as an
/// array whose first element is the tag. Duplicate and unknown fields are refused by the
/// derive itself (`deny_unknown_fields` on the type).
#[cfg(feature = "serde")]
macro_rules! strict_object {
    ($ty:ty, $what:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                <$ty>::serialize(self, serializer)
            }
        }
        $crate::names::strict_object!(deserialize $ty, $what);
    };
    (deserialize $ty:ty, $what:literal) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                struct ObjectOnly;
                impl<'de> serde::de::Visitor<'de> for ObjectOnly {
                    type Value = $ty;
                    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                        f.write_str(concat!($what, " as a JSON object"))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<$ty, A::Error> {
                        <$ty>::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    }
                }
                deserializer.deserialize_map(ObjectOnly)
            }
        }
    };
}
#[cfg(feature = "serde")]
pub(crate) use strict_object;
