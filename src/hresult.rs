//! `HResult`: the status codes of SPEC T-6, in the style of `http::StatusCode`.
#![forbid(unsafe_code)]

use core::fmt;
use core::str::FromStr;

/// A COM `HRESULT` (SPEC T-6): a transparent wrapper over the `i32` Windows returns.
///
/// Named constants cover every code the model produces; [`HResult::from_win32`] builds
/// the rest the way `HRESULT_FROM_WIN32` does. Tests read naturally because `HResult`
/// compares with plain integers:
///
/// ```
/// use bits_helper_token::HResult;
///
/// let hr = HResult::E_ACCESSDENIED;
/// assert_eq!(hr, 0x8007_0005u32);
/// assert!(hr.is_failure());
/// assert_eq!(hr.facility(), 7); // FACILITY_WIN32
/// assert_eq!(hr.code(), 5); // ERROR_ACCESS_DENIED
/// assert_eq!(hr.to_string(), "0x80070005 (E_ACCESSDENIED)");
/// assert_eq!(HResult::from_win32(12186), HResult::ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY);
/// assert_eq!("E_INVALIDARG".parse::<HResult>()?, HResult::E_INVALIDARG);
/// assert_eq!("0x80200056".parse::<HResult>()?, HResult::BG_E_TOKEN_REQUIRED);
/// # Ok::<(), bits_helper_token::error::ParseHResultError>(())
/// ```
///
/// Serialized (feature `serde`) as the string `"0x"` + 8 upper-case hex digits, e.g.
/// `"0x80070005"`; deserialization accepts what [`FromStr`] accepts.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct HResult(i32);

/// Why a string is not an [`HResult`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseHResultError {
    /// The input is empty.
    #[error("an empty string is not an HRESULT")]
    Empty,
    /// `0x` followed by something other than 1 to 8 hex digits.
    #[error("at byte {at}: expected 1 to 8 hexadecimal digits after `0x`")]
    BadHex {
        /// Byte offset of the problem.
        at: usize,
    },
    /// Neither `0x…` nor a known name such as `E_ACCESSDENIED`.
    #[error("not `0x` + hex digits and not a known HRESULT name")]
    UnknownName,
}

macro_rules! named_codes {
    ($( $(#[$doc:meta])* $name:ident = $value:expr; )*) => {
        impl HResult {
            $( $(#[$doc])* pub const $name: HResult = HResult($value as u32 as i32); )*
        }
        const NAMES: &[(HResult, &str)] = &[ $( (HResult::$name, stringify!($name)), )* ];
    };
}

named_codes! {
    /// `S_OK`, success.
    S_OK = 0x0000_0000u32;
    /// `S_FALSE`, success with nothing done.
    S_FALSE = 0x0000_0001u32;
    /// `BG_S_PARTIAL_COMPLETE`: `Complete` on a job that was not fully transferred.
    BG_S_PARTIAL_COMPLETE = 0x0020_0017u32;
    /// `E_NOTIMPL`.
    E_NOTIMPL = 0x8000_4001u32;
    /// `E_NOINTERFACE`: the interface is not available (A-2).
    E_NOINTERFACE = 0x8000_4002u32;
    /// `E_POINTER`.
    E_POINTER = 0x8000_4003u32;
    /// `E_FAIL`.
    E_FAIL = 0x8000_4005u32;
    /// `E_ACCESSDENIED` (A-4…A-8, Q-5).
    E_ACCESSDENIED = 0x8007_0005u32;
    /// `E_INVALIDARG` (Q-1).
    E_INVALIDARG = 0x8007_0057u32;
    /// `CO_E_FAILEDTOIMPERSONATE` (A-9).
    CO_E_FAILEDTOIMPERSONATE = 0x8001_0123u32;
    /// `BG_E_INVALID_STATE` (Q-3).
    BG_E_INVALID_STATE = 0x8020_0002u32;
    /// `BG_E_EMPTY`: the job has no files (L-9).
    BG_E_EMPTY = 0x8020_0003u32;
    /// `BG_E_NETWORK_DISCONNECTED`: a transient error while the network is lost (L-13).
    BG_E_NETWORK_DISCONNECTED = 0x8020_0010u32;
    /// `BG_E_TOO_MANY_FILES`: an upload job already holds its file (L-15).
    BG_E_TOO_MANY_FILES = 0x8020_001Cu32;
    /// `HRESULT_FROM_WIN32(ERROR_NOT_LOGGED_ON)`, 1245: `AddFile` by a user who is not
    /// logged on interactively (L-11, L-15).
    ERROR_NOT_LOGGED_ON = 0x8007_04DDu32;
    /// `BG_E_TOKEN_REQUIRED` (L-5, L-6).
    BG_E_TOKEN_REQUIRED = 0x8020_0056u32;
    /// `BG_E_HTTP_ERROR_401`: the server's challenge went unanswered (X-3).
    BG_E_HTTP_ERROR_401 = 0x8019_0191u32;
    /// `BG_E_HTTP_ERROR_407`: the proxy's challenge went unanswered (X-3).
    BG_E_HTTP_ERROR_407 = 0x8019_0197u32;
    /// `HRESULT_FROM_WIN32(ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY)`, 12186 (X-1).
    ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY = 0x8007_2F9Au32;
    /// `HRESULT_FROM_WIN32(ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED)`, 12044: the HTTPS server
    /// asks for a client certificate and the job has none (X-4).
    ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED = 0x8007_2F0Cu32;
}

impl HResult {
    /// Wraps a raw `HRESULT`.
    pub const fn new(raw: i32) -> HResult {
        HResult(raw)
    }

    /// Wraps a raw `HRESULT` given as its unsigned bit pattern (`0x80070005`).
    pub const fn from_u32(bits: u32) -> HResult {
        HResult(bits as i32)
    }

    /// `HRESULT_FROM_WIN32(x)`: `x` itself when `x <= 0` (as a signed value), otherwise
    /// `(x & 0xFFFF) | 0x80070000` (T-6).
    pub const fn from_win32(error: u32) -> HResult {
        let signed = error as i32;
        if signed <= 0 {
            HResult(signed)
        } else {
            HResult::from_u32((error & 0xFFFF) | 0x8007_0000)
        }
    }

    /// The raw signed value.
    pub const fn as_i32(self) -> i32 {
        self.0
    }

    /// The raw value as its unsigned bit pattern.
    pub const fn as_u32(self) -> u32 {
        self.0 as u32
    }

    /// `SUCCEEDED(hr)`: `hr >= 0` (T-6).
    pub const fn is_success(self) -> bool {
        self.0 >= 0
    }

    /// `FAILED(hr)`: `hr < 0` (T-6).
    pub const fn is_failure(self) -> bool {
        self.0 < 0
    }

    /// `HRESULT_FACILITY(hr)`: bits 16–28 (7 is `FACILITY_WIN32`, 32 is BITS).
    pub const fn facility(self) -> u16 {
        ((self.as_u32() >> 16) & 0x1FFF) as u16
    }

    /// `HRESULT_CODE(hr)`: the low 16 bits.
    pub const fn code(self) -> u16 {
        (self.as_u32() & 0xFFFF) as u16
    }

    /// The symbolic name of a code this crate knows (`"E_ACCESSDENIED"`), else `None`.
    pub fn name(self) -> Option<&'static str> {
        NAMES.iter().find(|(hr, _)| *hr == self).map(|&(_, n)| n)
    }

    /// The named codes this crate knows, in declaration order.
    pub fn known() -> impl Iterator<Item = (HResult, &'static str)> {
        NAMES.iter().copied()
    }
}

impl fmt::Display for HResult {
    /// `0x80070005 (E_ACCESSDENIED)`, or just `0x12345678` for an unnamed code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:08X}", self.as_u32())?;
        if let Some(name) = self.name() {
            write!(f, " ({name})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for HResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HResult({self})")
    }
}

impl FromStr for HResult {
    type Err = ParseHResultError;

    /// Accepts `0x` (or `0X`) and 1 to 8 hex digits, or a known name (exact case).
    fn from_str(s: &str) -> Result<HResult, ParseHResultError> {
        if s.is_empty() {
            return Err(ParseHResultError::Empty);
        }
        let b = s.as_bytes();
        if b.len() >= 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
            let digits = &b[2..];
            if digits.is_empty() || digits.len() > 8 {
                return Err(ParseHResultError::BadHex { at: 2 });
            }
            let mut value: u32 = 0;
            for (i, &d) in digits.iter().enumerate() {
                let Some(v) = char::from(d).to_digit(16) else {
                    return Err(ParseHResultError::BadHex { at: 2 + i });
                };
                value = (value << 4) | v;
            }
            return Ok(HResult::from_u32(value));
        }
        NAMES
            .iter()
            .find(|(_, name)| *name == s)
            .map(|&(hr, _)| hr)
            .ok_or(ParseHResultError::UnknownName)
    }
}

impl From<HResult> for i32 {
    fn from(hr: HResult) -> i32 {
        hr.0
    }
}

impl From<i32> for HResult {
    fn from(raw: i32) -> HResult {
        HResult(raw)
    }
}

impl PartialEq<i32> for HResult {
    fn eq(&self, other: &i32) -> bool {
        self.0 == *other
    }
}

impl PartialEq<u32> for HResult {
    fn eq(&self, other: &u32) -> bool {
        self.as_u32() == *other
    }
}

impl PartialEq<HResult> for i32 {
    fn eq(&self, other: &HResult) -> bool {
        *self == other.0
    }
}

impl PartialEq<HResult> for u32 {
    fn eq(&self, other: &HResult) -> bool {
        *self == other.as_u32()
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    use super::HResult;
    use crate::text::StackText;
    use core::fmt;
    use serde::de::{self, Deserialize, Deserializer, Visitor};
    use serde::ser::{Serialize, Serializer};

    impl Serialize for HResult {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut text = StackText::<10>::new();
            fmt::write(&mut text, format_args!("0x{:08X}", self.as_u32()))
                .map_err(serde::ser::Error::custom)?;
            serializer.serialize_str(text.as_str())
        }
    }

    struct HResultVisitor;

    impl Visitor<'_> for HResultVisitor {
        type Value = HResult;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an HRESULT as \"0x80070005\" or a name such as \"E_ACCESSDENIED\"")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<HResult, E> {
            v.parse().map_err(E::custom)
        }
    }

    impl<'de> Deserialize<'de> for HResult {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<HResult, D::Error> {
            deserializer.deserialize_str(HResultVisitor)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn t6_constants_have_the_spec_values() {
        assert_eq!(HResult::S_OK, 0u32);
        assert_eq!(HResult::E_NOTIMPL, 0x8000_4001u32);
        assert_eq!(HResult::E_NOINTERFACE, 0x8000_4002u32);
        assert_eq!(HResult::E_POINTER, 0x8000_4003u32);
        assert_eq!(HResult::E_FAIL, 0x8000_4005u32);
        assert_eq!(HResult::E_ACCESSDENIED, 0x8007_0005u32);
        assert_eq!(HResult::E_INVALIDARG, 0x8007_0057u32);
        assert_eq!(HResult::CO_E_FAILEDTOIMPERSONATE, 0x8001_0123u32);
        assert_eq!(HResult::BG_E_INVALID_STATE, 0x8020_0002u32);
        assert_eq!(HResult::BG_E_TOKEN_REQUIRED, 0x8020_0056u32);
        assert_eq!(HResult::from_win32(12186), 0x8007_2F9Au32);
        assert_eq!(HResult::from_win32(12044), 0x8007_2F0Cu32);
        assert_eq!(
            HResult::from_win32(12044),
            HResult::ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED
        );
    }

    #[test]
    fn t6_from_win32_passes_non_positive_values_through() {
        assert_eq!(HResult::from_win32(0), HResult::S_OK);
        assert_eq!(HResult::from_win32(0x8007_0005), HResult::E_ACCESSDENIED);
        assert_eq!(HResult::from_win32(5), HResult::E_ACCESSDENIED);
        assert_eq!(HResult::from_win32(0x0001_0005), HResult::E_ACCESSDENIED);
    }

    #[test]
    fn t6_success_is_non_negative() {
        assert!(HResult::new(1).is_success()); // S_FALSE
        assert!(!HResult::new(-1).is_success());
        assert!(HResult::BG_E_TOKEN_REQUIRED.is_failure());
        assert_eq!(HResult::BG_E_TOKEN_REQUIRED.facility(), 32);
        assert_eq!(HResult::BG_E_TOKEN_REQUIRED.code(), 0x56);
    }

    #[test]
    fn t6_parse_and_display() {
        assert_eq!("0x0".parse::<HResult>(), Ok(HResult::S_OK));
        assert_eq!(
            "0X8007000a".parse::<HResult>(),
            Ok(HResult::from_u32(0x8007_000A))
        );
        assert_eq!(
            "0x".parse::<HResult>(),
            Err(ParseHResultError::BadHex { at: 2 })
        );
        assert_eq!(
            "0x123456789".parse::<HResult>(),
            Err(ParseHResultError::BadHex { at: 2 })
        );
        assert_eq!(
            "0x12g".parse::<HResult>(),
            Err(ParseHResultError::BadHex { at: 4 })
        );
        assert_eq!(
            "e_fail".parse::<HResult>(),
            Err(ParseHResultError::UnknownName)
        );
        assert_eq!("".parse::<HResult>(), Err(ParseHResultError::Empty));
        assert_eq!(HResult::from_u32(0x1234).to_string(), "0x00001234");
        for (hr, name) in HResult::known() {
            assert_eq!(name.parse::<HResult>(), Ok(hr));
            assert_eq!(
                hr.to_string().parse::<HResult>().ok(),
                None,
                "display with name is not re-parsed"
            );
            assert_eq!(hr.to_string()[..10].parse::<HResult>(), Ok(hr));
        }
    }
}
