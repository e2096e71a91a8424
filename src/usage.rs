//! `TokenUsage`: the helper-token usage flags of SPEC T-1.
#![forbid(unsafe_code)]

use core::fmt;
use core::str::FromStr;

bitflags::bitflags! {
    /// The usage flags of `SetHelperTokenFlags` (SPEC T-1): which accesses BITS makes as
    /// the helper token instead of the job owner (see R-1, R-2).
    ///
    /// The two flags are disjoint and combine (`0x3`). `0` is valid and means "use the
    /// helper token for nothing"; a fresh job has `0`. Any other bit is *unknown*: a raw
    /// `u32` from a caller is kept whole with [`TokenUsage::from_bits_retain`], so the
    /// decision sees the unknown bits and applies Q-1 instead of silently dropping them.
    ///
    /// ```
    /// use bits_helper_token::TokenUsage;
    ///
    /// let both = TokenUsage::LOCAL_FILE | TokenUsage::NETWORK;
    /// assert_eq!(both.bits(), 0x3);
    /// assert_eq!(both.to_string(), "LOCAL_FILE | NETWORK");
    /// assert_eq!("NETWORK | 0x8".parse::<TokenUsage>()?.bits(), 0xA);
    ///
    /// let raw = TokenUsage::from_bits_retain(0x6);
    /// assert_eq!(raw.unknown_bits(), 0x4); // kept for the decision (T-1, Q-1)
    /// assert_eq!(raw.to_string(), "NETWORK | 0x4");
    /// assert_eq!(TokenUsage::empty().to_string(), "0");
    /// # Ok::<(), bits_helper_token::error::ParseUsageError>(())
    /// ```
    ///
    /// **Serialized form** (feature `serde`), chosen to be the `DWORD` the API takes:
    /// the raw number, unknown bits included (`3`, `0`, `6`). It is pinned by a snapshot
    /// test, independent of how `bitflags` would serialize.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    pub struct TokenUsage: u32 {
        /// `BG_TOKEN_LOCAL_FILE` (`0x1`): local file accesses use the helper token (R-1).
        const LOCAL_FILE = 0x0001;
        /// `BG_TOKEN_NETWORK` (`0x2`): remote file and implicit-credential network
        /// accesses use the helper token (R-2).
        const NETWORK = 0x0002;
    }
}

impl TokenUsage {
    /// The bits that are neither `LOCAL_FILE` nor `NETWORK` (T-1).
    pub const fn unknown_bits(self) -> u32 {
        self.bits() & !Self::all().bits()
    }

    /// Whether any unknown bit is set (T-1, Q-1).
    pub const fn has_unknown_bits(self) -> bool {
        self.unknown_bits() != 0
    }
}

/// Why a text is not a [`TokenUsage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseUsageError {
    /// The whole input, or a part between two `|`, is empty or blank.
    #[error("at byte {at}: empty flag name")]
    EmptyPart {
        /// Byte offset of the empty part.
        at: usize,
    },
    /// A part that is not `LOCAL_FILE`, `NETWORK`, `0` or `0x` + 1 to 8 hex digits.
    #[error("at byte {at}: unknown flag name (expected LOCAL_FILE, NETWORK, 0 or 0x + hex digits)")]
    UnknownName {
        /// Byte offset of the part.
        at: usize,
    },
}

impl fmt::Display for TokenUsage {
    /// `LOCAL_FILE | NETWORK`; unknown bits as one `0x…` part; `0` when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("0");
        }
        let mut sep = "";
        for (name, flag) in [("LOCAL_FILE", Self::LOCAL_FILE), ("NETWORK", Self::NETWORK)] {
            if self.contains(flag) {
                write!(f, "{sep}{name}")?;
                sep = " | ";
            }
        }
        if self.has_unknown_bits() {
            write!(f, "{sep}0x{:X}", self.unknown_bits())?;
        }
        Ok(())
    }
}

impl fmt::Debug for TokenUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenUsage({self})")
    }
}

impl FromStr for TokenUsage {
    type Err = ParseUsageError;

    /// Parses the [`Display`](fmt::Display) form: parts separated by `|` with optional
    /// spaces, each `LOCAL_FILE`, `NETWORK`, `0`, or `0x` + 1 to 8 hex digits (which may
    /// carry unknown bits: they are kept, T-1).
    fn from_str(s: &str) -> Result<TokenUsage, ParseUsageError> {
        let mut bits = 0u32;
        let mut start = 0usize;
        for part in s.split('|') {
            let lead = part.len() - part.trim_start_matches(' ').len();
            let at = start + lead;
            let name = part.trim_matches(' ');
            start += part.len() + 1;
            bits |= match name {
                "" => return Err(ParseUsageError::EmptyPart { at }),
                "LOCAL_FILE" => Self::LOCAL_FILE.bits(),
                "NETWORK" => Self::NETWORK.bits(),
                "0" => 0,
                _ => parse_hex(name).ok_or(ParseUsageError::UnknownName { at })?,
            };
        }
        Ok(TokenUsage::from_bits_retain(bits))
    }
}

/// `0x` + 1 to 8 hex digits.
fn parse_hex(s: &str) -> Option<u32> {
    let digits = s.strip_prefix("0x")?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

#[cfg(feature = "serde")]
crate::names::serde_as_raw_bits!(TokenUsage);

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn t1_flag_values() {
        assert_eq!(TokenUsage::LOCAL_FILE.bits(), 0x1);
        assert_eq!(TokenUsage::NETWORK.bits(), 0x2);
        assert_eq!(TokenUsage::all().bits(), 0x3);
        assert_eq!(TokenUsage::default(), TokenUsage::empty());
    }

    #[test]
    fn t1_text_round_trip_and_errors() {
        for raw in [0u32, 1, 2, 3, 4, 0x8000_0003, u32::MAX] {
            let u = TokenUsage::from_bits_retain(raw);
            assert_eq!(u.to_string().parse::<TokenUsage>(), Ok(u), "{raw:#x}");
        }
        assert_eq!(
            " NETWORK|LOCAL_FILE ".parse::<TokenUsage>(),
            Ok(TokenUsage::all())
        );
        assert_eq!(
            "".parse::<TokenUsage>(),
            Err(ParseUsageError::EmptyPart { at: 0 })
        );
        assert_eq!(
            "NETWORK |".parse::<TokenUsage>(),
            Err(ParseUsageError::EmptyPart { at: 9 })
        );
        assert_eq!(
            "NETWORK | network".parse::<TokenUsage>(),
            Err(ParseUsageError::UnknownName { at: 10 })
        );
        assert_eq!(
            "0x".parse::<TokenUsage>(),
            Err(ParseUsageError::UnknownName { at: 0 })
        );
        assert_eq!(
            "0x123456789".parse::<TokenUsage>(),
            Err(ParseUsageError::UnknownName { at: 0 })
        );
        assert_eq!(
            "+1".parse::<TokenUsage>(),
            Err(ParseUsageError::UnknownName { at: 0 })
        );
    }
}
