//! The strict parser of the SID string form (T-2, MS-DTYP §2.4.2.1).
#![forbid(unsafe_code)]

use super::{MAX_SUB_AUTHORITIES, ParseSidError, Sid};
use core::str::FromStr;

/// One `-`-separated component of a SID string: where it starts and its bytes.
struct Component<'a> {
    at: usize,
    bytes: &'a [u8],
}

/// Splits the next component off `s` at `pos`; refuses an empty one.
fn component(s: &str, pos: usize) -> Result<Component<'_>, ParseSidError> {
    let rest = &s.as_bytes()[pos..];
    let end = rest.iter().position(|&b| b == b'-').unwrap_or(rest.len());
    if end == 0 {
        return Err(ParseSidError::EmptyComponent { at: pos });
    }
    Ok(Component {
        at: pos,
        bytes: &rest[..end],
    })
}

/// The character at byte offset `at` of `s` (a char boundary by construction).
fn char_at(s: &str, at: usize) -> char {
    s.get(at..)
        .and_then(|rest| rest.chars().next())
        .unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// A decimal component: ASCII digits only, no leading zero. `None` when the value
/// exceeds `max`.
fn decimal(s: &str, c: &Component<'_>, max: u64) -> Result<Option<u64>, ParseSidError> {
    let mut value: u64 = 0;
    let mut overflow = false;
    for (i, &b) in c.bytes.iter().enumerate() {
        if !b.is_ascii_digit() {
            let at = c.at + i;
            return Err(ParseSidError::InvalidCharacter {
                at,
                found: char_at(s, at),
                expected: "an ASCII decimal digit",
            });
        }
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
        {
            Some(v) if v <= max => value = v,
            _ => overflow = true,
        }
    }
    if c.bytes.len() > 1 && c.bytes[0] == b'0' {
        return Err(ParseSidError::LeadingZero { at: c.at });
    }
    Ok((!overflow).then_some(value))
}

/// A hexadecimal authority component, `0x` already checked: exactly 12 hex digits.
fn hex_authority(s: &str, c: &Component<'_>) -> Result<u64, ParseSidError> {
    let digits = &c.bytes[2..];
    let mut value: u64 = 0;
    for (i, &b) in digits.iter().enumerate() {
        let Some(d) = char::from(b).to_digit(16) else {
            let at = c.at + 2 + i;
            return Err(ParseSidError::InvalidCharacter {
                at,
                found: char_at(s, at),
                expected: "a hexadecimal digit",
            });
        };
        // At most 12 digits are accumulated before the length check below rejects more.
        if i < 12 {
            value = (value << 4) | u64::from(d);
        }
    }
    if digits.len() != 12 {
        return Err(ParseSidError::HexAuthorityLength {
            at: c.at,
            digits: digits.len(),
        });
    }
    Ok(value)
}

impl FromStr for Sid {
    type Err = ParseSidError;

    /// The strict parser of T-2; see [`ParseSidError`] for everything it refuses.
    fn from_str(s: &str) -> Result<Sid, ParseSidError> {
        let b = s.as_bytes();
        if b.is_empty() {
            return Err(ParseSidError::Empty);
        }
        if !(b.len() >= 2 && (b[0] == b'S' || b[0] == b's') && b[1] == b'-') {
            return Err(ParseSidError::MissingPrefix { at: 0 });
        }
        let revision = component(s, 2)?;
        if decimal(s, &revision, u64::MAX)? != Some(1) {
            return Err(ParseSidError::UnsupportedRevision { at: revision.at });
        }
        let mut pos = revision.at + revision.bytes.len();
        if pos == b.len() {
            return Err(ParseSidError::EmptyComponent { at: pos });
        }
        let auth = component(s, pos + 1)?;
        let authority =
            if auth.bytes.len() >= 2 && auth.bytes[0] == b'0' && (auth.bytes[1] | 0x20) == b'x' {
                hex_authority(s, &auth)?
            } else {
                decimal(s, &auth, u64::from(u32::MAX))?
                    .ok_or(ParseSidError::AuthorityOutOfRange { at: auth.at })?
            };
        pos = auth.at + auth.bytes.len();
        let mut subs = [0u32; MAX_SUB_AUTHORITIES];
        let mut count = 0usize;
        while pos < b.len() {
            // b[pos] is the '-' that ended the previous component.
            let sub = component(s, pos + 1)?;
            if count == MAX_SUB_AUTHORITIES {
                return Err(ParseSidError::TooManySubAuthorities { at: sub.at });
            }
            let value = decimal(s, &sub, u64::from(u32::MAX))?.ok_or(
                ParseSidError::SubAuthorityOutOfRange {
                    at: sub.at,
                    index: count,
                },
            )?;
            // value <= u32::MAX was checked by `decimal`.
            subs[count] = value as u32;
            count += 1;
            pos = sub.at + sub.bytes.len();
        }
        if count == 0 {
            return Err(ParseSidError::NoSubAuthorities { at: pos });
        }
        Ok(Sid {
            authority,
            count: count as u8,
            subs,
        })
    }
}
