//! Security identifiers: the strict string and binary forms of SPEC T-2 and the
//! well-known SIDs of T-3.
#![forbid(unsafe_code)]

mod parse;

use core::cmp::Ordering;
use core::fmt;

/// `SID_MAX_SUB_AUTHORITIES`: a SID has 1 to 15 sub-authorities (T-2).
pub const MAX_SUB_AUTHORITIES: usize = 15;

/// The largest identifier authority: 48 bits (T-2).
pub const MAX_AUTHORITY: u64 = (1 << 48) - 1;

/// The longest binary SID: `8 + 4 * 15` bytes (T-2).
pub const MAX_BINARY_LEN: usize = 8 + 4 * MAX_SUB_AUTHORITIES;

/// A Windows security identifier (SPEC T-2).
///
/// `Sid` is plain data: `Copy`, no heap, with up to 15 sub-authorities stored inline, so
/// the decision functions can take and return SIDs without allocating.
///
/// * **String form** (MS-DTYP §2.4.2.1): `S-1-<authority>-<sub>…`. [`FromStr`](core::str::FromStr) is
///   strict: it accepts exactly the ABNF (literals case-insensitive, so `s-1-5-18` and a
///   `0X` prefix parse) and rejects everything else with a [`ParseSidError`] that names the
///   problem and its byte offset. [`Display`](fmt::Display) is canonical: upper-case `S`,
///   decimal authority below 2³², otherwise `0x` and 12 upper-case hex digits.
/// * **Binary form** (MS-DTYP §2.4.2.2): `[1, count, authority (6 bytes, big-endian),
///   sub-authorities (little-endian u32)…]`, see [`Sid::from_bytes`] and [`Sid::to_bytes`].
/// * **SDDL aliases** such as `BA` are not part of the string form; they have their own
///   entry point, [`Sid::from_sddl_alias`].
///
/// ```
/// use bits_helper_token::Sid;
///
/// let admins: Sid = "S-1-5-32-544".parse()?;
/// assert_eq!(admins, Sid::BUILTIN_ADMINISTRATORS);
/// assert_eq!(admins.sub_authorities(), &[32, 544]);
///
/// // Round trip through the Windows binary form.
/// let bytes = admins.to_bytes();
/// assert_eq!(&bytes[..], &[1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0]);
/// assert_eq!(Sid::from_bytes(&bytes)?, admins);
///
/// // The strict parser says what is wrong and where.
/// let err = "S-1-5-018".parse::<Sid>().unwrap_err();
/// assert_eq!(err.to_string(), "at byte 6: leading zero in a decimal component");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sid {
    // Invariants: authority <= MAX_AUTHORITY, 1 <= count <= 15, subs[count..] are zero
    // (so the derived PartialEq and Hash only see the meaningful part).
    authority: u64,
    count: u8,
    subs: [u32; MAX_SUB_AUTHORITIES],
}

/// Why [`Sid::new`] refused its parts (T-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidSid {
    /// The identifier authority does not fit in 48 bits.
    #[error("identifier authority {0} does not fit in 48 bits")]
    AuthorityTooLarge(u64),
    /// A SID has 1 to 15 sub-authorities.
    #[error("a SID has 1 to 15 sub-authorities, not {0}")]
    SubAuthorityCount(usize),
}

/// Why a SID string was refused by the strict parser (T-2). Offsets are 0-based byte
/// offsets into the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseSidError {
    /// The input is empty.
    #[error("an empty string is not a SID")]
    Empty,
    /// The input does not start with `S-` (or `s-`).
    #[error("at byte {at}: a SID string starts with `S-`")]
    MissingPrefix {
        /// Byte offset of the problem.
        at: usize,
    },
    /// Two dashes in a row, a trailing dash, or nothing after `S-`.
    #[error("at byte {at}: empty component (a doubled or trailing `-`)")]
    EmptyComponent {
        /// Byte offset where a component should start.
        at: usize,
    },
    /// A character that the grammar does not allow here: a sign, a space, a non-ASCII
    /// digit, a letter, …
    #[error("at byte {at}: unexpected character {found:?}, expected {expected}")]
    InvalidCharacter {
        /// Byte offset of the character.
        at: usize,
        /// The character found.
        found: char,
        /// What the grammar allows at this place.
        expected: &'static str,
    },
    /// A decimal component with a leading zero (`018`).
    #[error("at byte {at}: leading zero in a decimal component")]
    LeadingZero {
        /// Byte offset of the component.
        at: usize,
    },
    /// The revision is not `1`.
    #[error("at byte {at}: unsupported revision; a SID's revision is always 1")]
    UnsupportedRevision {
        /// Byte offset of the revision.
        at: usize,
    },
    /// A decimal identifier authority of 2³² or more (those are written in hex).
    #[error(
        "at byte {at}: decimal identifier authority must be below 2^32; larger authorities are written as 0x and 12 hex digits"
    )]
    AuthorityOutOfRange {
        /// Byte offset of the authority.
        at: usize,
    },
    /// A hexadecimal authority without exactly 12 digits after `0x`.
    #[error(
        "at byte {at}: a hex identifier authority has exactly 12 digits after `0x`, found {digits}"
    )]
    HexAuthorityLength {
        /// Byte offset of the authority.
        at: usize,
        /// Number of digits found.
        digits: usize,
    },
    /// A sub-authority of 2³² or more.
    #[error("at byte {at}: sub-authority {index} does not fit in 32 bits")]
    SubAuthorityOutOfRange {
        /// Byte offset of the sub-authority.
        at: usize,
        /// Index of the sub-authority, from 0.
        index: usize,
    },
    /// No sub-authority after the identifier authority.
    #[error("at byte {at}: a SID needs at least one sub-authority")]
    NoSubAuthorities {
        /// Byte offset where a sub-authority was expected.
        at: usize,
    },
    /// A sixteenth sub-authority.
    #[error("at byte {at}: a SID has at most 15 sub-authorities")]
    TooManySubAuthorities {
        /// Byte offset of the sixteenth sub-authority.
        at: usize,
    },
}

impl ParseSidError {
    /// The byte offset of the problem, when there is one.
    pub const fn position(&self) -> Option<usize> {
        match *self {
            Self::Empty => None,
            Self::MissingPrefix { at }
            | Self::EmptyComponent { at }
            | Self::InvalidCharacter { at, .. }
            | Self::LeadingZero { at }
            | Self::UnsupportedRevision { at }
            | Self::AuthorityOutOfRange { at }
            | Self::HexAuthorityLength { at, .. }
            | Self::SubAuthorityOutOfRange { at, .. }
            | Self::NoSubAuthorities { at }
            | Self::TooManySubAuthorities { at } => Some(at),
        }
    }
}

/// Why a byte slice is not a binary SID (T-2). The binary form is checked exactly: the
/// slice must hold one SID, no more and no less.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SidBytesError {
    /// Fewer than 8 bytes: not even the header.
    #[error("{len} bytes is too short for a SID header (8 bytes)")]
    TruncatedHeader {
        /// Length of the slice.
        len: usize,
    },
    /// Byte 0 is not 1.
    #[error("byte 0: revision {found} is not supported; a SID's revision is always 1")]
    UnsupportedRevision {
        /// The revision byte.
        found: u8,
    },
    /// Byte 1 is 0 or more than 15.
    #[error("byte 1: sub-authority count {found} is outside 1..=15")]
    SubAuthorityCount {
        /// The count byte.
        found: u8,
    },
    /// The slice ends before the last sub-authority.
    #[error("{len} bytes is too short: {count} sub-authorities need {expected} bytes")]
    Truncated {
        /// Length of the slice.
        len: usize,
        /// The sub-authority count in byte 1.
        count: u8,
        /// The length the count implies, `8 + 4 * count`.
        expected: usize,
    },
    /// Bytes follow the last sub-authority.
    #[error("{len} bytes is too long: {count} sub-authorities need exactly {expected} bytes")]
    TrailingBytes {
        /// Length of the slice.
        len: usize,
        /// The sub-authority count in byte 1.
        count: u8,
        /// The length the count implies, `8 + 4 * count`.
        expected: usize,
    },
}

/// A SID in its Windows binary form, on the stack: dereferences to `[u8]`.
///
/// Returned by [`Sid::to_bytes`]; 8 to 68 bytes long.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SidBytes {
    buf: [u8; MAX_BINARY_LEN],
    len: u8,
}

impl core::ops::Deref for SidBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

impl AsRef<[u8]> for SidBytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl fmt::Debug for SidBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Builds a constant SID from known-good parts (used for the T-3 constants only).
const fn well_known(authority: u64, subs: &[u32]) -> Sid {
    match Sid::new(authority, subs) {
        Ok(sid) => sid,
        Err(_) => panic!("invalid well-known SID"),
    }
}

impl Sid {
    /// Everyone, `S-1-1-0` (T-3).
    pub const EVERYONE: Sid = well_known(1, &[0]);
    /// LocalSystem, `S-1-5-18` (T-3).
    pub const LOCAL_SYSTEM: Sid = well_known(5, &[18]);
    /// LocalService, `S-1-5-19` (T-3).
    pub const LOCAL_SERVICE: Sid = well_known(5, &[19]);
    /// NetworkService, `S-1-5-20` (T-3).
    pub const NETWORK_SERVICE: Sid = well_known(5, &[20]);
    /// BUILTIN\Administrators, `S-1-5-32-544` (`DOMAIN_ALIAS_RID_ADMINS`, T-3).
    pub const BUILTIN_ADMINISTRATORS: Sid = well_known(5, &[32, 544]);
    /// BUILTIN\Users, `S-1-5-32-545` (T-3).
    pub const BUILTIN_USERS: Sid = well_known(5, &[32, 545]);
    /// NT AUTHORITY\Authenticated Users, `S-1-5-11`.
    pub const AUTHENTICATED_USERS: Sid = well_known(5, &[11]);
    /// NT AUTHORITY\INTERACTIVE, `S-1-5-4`.
    pub const INTERACTIVE: Sid = well_known(5, &[4]);
    /// NT AUTHORITY\SERVICE, `S-1-5-6`.
    pub const SERVICE: Sid = well_known(5, &[6]);
    /// NT AUTHORITY\ANONYMOUS LOGON, `S-1-5-7`: who an anonymous client is (A-9).
    pub const ANONYMOUS: Sid = well_known(5, &[7]);
    /// `S-1-5-12`, RESTRICTED: the SID a restricted token's restricting list commonly
    /// holds (T-11).
    pub const RESTRICTED: Sid = well_known(5, &[12]);

    /// Builds a SID from its identifier authority and sub-authorities (T-2).
    ///
    /// ```
    /// use bits_helper_token::{Sid, error::InvalidSid};
    /// assert_eq!(Sid::new(5, &[18]), Ok(Sid::LOCAL_SYSTEM));
    /// assert_eq!(Sid::new(5, &[]), Err(InvalidSid::SubAuthorityCount(0)));
    /// assert_eq!(Sid::new(1 << 48, &[0]), Err(InvalidSid::AuthorityTooLarge(1 << 48)));
    /// ```
    pub const fn new(authority: u64, sub_authorities: &[u32]) -> Result<Sid, InvalidSid> {
        if authority > MAX_AUTHORITY {
            return Err(InvalidSid::AuthorityTooLarge(authority));
        }
        let n = sub_authorities.len();
        if n == 0 || n > MAX_SUB_AUTHORITIES {
            return Err(InvalidSid::SubAuthorityCount(n));
        }
        let mut subs = [0u32; MAX_SUB_AUTHORITIES];
        let mut i = 0;
        while i < n {
            subs[i] = sub_authorities[i];
            i += 1;
        }
        // `n <= 15`, so the cast is exact.
        Ok(Sid {
            authority,
            count: n as u8,
            subs,
        })
    }

    /// The 48-bit identifier authority (`5` for NT AUTHORITY).
    pub const fn authority(&self) -> u64 {
        self.authority
    }

    /// The sub-authorities, 1 to 15 of them.
    pub fn sub_authorities(&self) -> &[u32] {
        &self.subs[..usize::from(self.count)]
    }

    /// The last sub-authority: the relative identifier (RID).
    pub const fn rid(&self) -> u32 {
        // count >= 1 by the type's invariant.
        self.subs[self.count as usize - 1]
    }

    /// Length of the binary form: `8 + 4 * count`.
    pub const fn binary_len(&self) -> usize {
        8 + 4 * self.count as usize
    }

    /// Parses the Windows binary form (T-2), exactly: the slice must hold one whole SID.
    ///
    /// ```
    /// use bits_helper_token::{Sid, error::SidBytesError};
    /// let bytes = [1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0];
    /// assert_eq!(Sid::from_bytes(&bytes), Ok(Sid::LOCAL_SYSTEM));
    /// assert!(matches!(Sid::from_bytes(&bytes[..11]), Err(SidBytesError::Truncated { .. })));
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Sid, SidBytesError> {
        let len = bytes.len();
        let header: &[u8; 8] = match bytes.first_chunk() {
            Some(h) => h,
            None => return Err(SidBytesError::TruncatedHeader { len }),
        };
        if header[0] != 1 {
            return Err(SidBytesError::UnsupportedRevision { found: header[0] });
        }
        let count = header[1];
        if count == 0 || usize::from(count) > MAX_SUB_AUTHORITIES {
            return Err(SidBytesError::SubAuthorityCount { found: count });
        }
        let expected = 8 + 4 * usize::from(count);
        if len < expected {
            return Err(SidBytesError::Truncated {
                len,
                count,
                expected,
            });
        }
        if len > expected {
            return Err(SidBytesError::TrailingBytes {
                len,
                count,
                expected,
            });
        }
        let authority = header[2..8]
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let mut subs = [0u32; MAX_SUB_AUTHORITIES];
        for (slot, chunk) in subs.iter_mut().zip(bytes[8..].chunks_exact(4)) {
            *slot = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        Ok(Sid {
            authority,
            count,
            subs,
        })
    }

    /// The Windows binary form (T-2), on the stack.
    pub fn to_bytes(&self) -> SidBytes {
        let mut buf = [0u8; MAX_BINARY_LEN];
        buf[0] = 1;
        buf[1] = self.count;
        buf[2..8].copy_from_slice(&self.authority.to_be_bytes()[2..8]);
        for (chunk, sub) in buf[8..].chunks_exact_mut(4).zip(self.sub_authorities()) {
            chunk.copy_from_slice(&sub.to_le_bytes());
        }
        SidBytes {
            buf,
            // at most 68, fits in u8
            len: self.binary_len() as u8,
        }
    }

    /// Looks up an SDDL SID alias such as `BA` or `SY` (case-insensitive), as
    /// `ConvertStringSidToSidW` accepts them. Only machine-independent aliases are known;
    /// domain-relative ones (`DA`, `DU`, …) return `None`.
    ///
    /// This is deliberately separate from [`FromStr`](core::str::FromStr), which accepts only the strict
    /// `S-1-…` form (T-2).
    ///
    /// ```
    /// use bits_helper_token::Sid;
    /// assert_eq!(Sid::from_sddl_alias("BA"), Some(Sid::BUILTIN_ADMINISTRATORS));
    /// assert_eq!(Sid::from_sddl_alias("ns"), Some(Sid::NETWORK_SERVICE));
    /// assert_eq!(Sid::from_sddl_alias("S-1-5-18"), None);
    /// ```
    pub fn from_sddl_alias(alias: &str) -> Option<Sid> {
        SDDL_ALIASES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(alias))
            .map(|&(_, sid)| sid)
    }

    /// The SDDL alias of a well-known SID, if it has one (`S-1-5-18` → `SY`).
    pub fn sddl_alias(&self) -> Option<&'static str> {
        SDDL_ALIASES
            .iter()
            .find(|(_, sid)| sid == self)
            .map(|&(name, _)| name)
    }

    /// Whether this is LocalSystem, `S-1-5-18` (T-3).
    pub const fn is_local_system(&self) -> bool {
        self.authority == 5 && self.count == 1 && self.subs[0] == 18
    }

    /// Whether this is one of the three service accounts of T-3 — LocalSystem
    /// `S-1-5-18`, LocalService `S-1-5-19`, NetworkService `S-1-5-20` — the one test of
    /// "is a service account" every rule asks.
    ///
    /// ```
    /// use bits_helper_token::Sid;
    /// assert!(Sid::NETWORK_SERVICE.is_service_account());
    /// assert!(!Sid::BUILTIN_ADMINISTRATORS.is_service_account());
    /// ```
    pub const fn is_service_account(&self) -> bool {
        self.authority == 5 && self.count == 1 && matches!(self.subs[0], 18..=20)
    }

    /// The account name of a service account (T-3): `LocalSystem`, `LocalService` or
    /// `NetworkService`.
    pub const fn service_account_name(&self) -> Option<&'static str> {
        if !self.is_service_account() {
            return None;
        }
        Some(match self.subs[0] {
            18 => "LocalSystem",
            19 => "LocalService",
            _ => "NetworkService",
        })
    }
}

const SDDL_ALIASES: [(&str, Sid); 15] = [
    ("WD", Sid::EVERYONE),
    ("CO", well_known(3, &[0])),
    ("CG", well_known(3, &[1])),
    ("NU", well_known(5, &[2])),
    ("IU", Sid::INTERACTIVE),
    ("SU", Sid::SERVICE),
    ("AN", well_known(5, &[7])),
    ("AU", Sid::AUTHENTICATED_USERS),
    ("SY", Sid::LOCAL_SYSTEM),
    ("LS", Sid::LOCAL_SERVICE),
    ("NS", Sid::NETWORK_SERVICE),
    ("BA", Sid::BUILTIN_ADMINISTRATORS),
    ("BU", Sid::BUILTIN_USERS),
    ("BG", well_known(5, &[32, 546])),
    ("PU", well_known(5, &[32, 547])),
];

impl Ord for Sid {
    /// Orders by identifier authority, then sub-authorities lexicographically.
    fn cmp(&self, other: &Self) -> Ordering {
        self.authority
            .cmp(&other.authority)
            .then_with(|| self.sub_authorities().cmp(other.sub_authorities()))
    }
}

impl PartialOrd for Sid {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Sid {
    /// The canonical string form (T-2).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.authority < (1 << 32) {
            write!(f, "S-1-{}", self.authority)?;
        } else {
            write!(f, "S-1-0x{:012X}", self.authority)?;
        }
        for sub in self.sub_authorities() {
            write!(f, "-{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({self})")
    }
}

impl TryFrom<&[u8]> for Sid {
    type Error = SidBytesError;
    fn try_from(bytes: &[u8]) -> Result<Sid, SidBytesError> {
        Sid::from_bytes(bytes)
    }
}

impl TryFrom<&str> for Sid {
    type Error = ParseSidError;
    fn try_from(s: &str) -> Result<Sid, ParseSidError> {
        s.parse()
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    use super::Sid;
    use crate::text::StackText;
    use core::fmt;
    use serde::de::{self, Deserialize, Deserializer, Visitor};
    use serde::ser::{Serialize, Serializer};

    /// Serialized as the canonical string (T-2).
    impl Serialize for Sid {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut text = StackText::<200>::new();
            // A SID string is at most 4 + 14 + 15 * 11 = 183 bytes.
            fmt::write(&mut text, format_args!("{self}")).map_err(serde::ser::Error::custom)?;
            serializer.serialize_str(text.as_str())
        }
    }

    struct SidVisitor;

    impl Visitor<'_> for SidVisitor {
        type Value = Sid;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a SID string such as \"S-1-5-18\"")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Sid, E> {
            v.parse().map_err(E::custom)
        }
    }

    /// Deserialized with the strict parser: refuses exactly what `FromStr` refuses.
    impl<'de> Deserialize<'de> for Sid {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Sid, D::Error> {
            deserializer.deserialize_str(SidVisitor)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn t2_display_uses_hex_only_for_large_authorities_and_order_is_authority_then_subs() {
        let big = Sid::new(1 << 32, &[1]).unwrap();
        assert_eq!(big.to_string(), "S-1-0x000100000000-1");
        let small = Sid::new(u64::from(u32::MAX), &[7]).unwrap();
        assert_eq!(small.to_string(), "S-1-4294967295-7");
        let max = Sid::new(MAX_AUTHORITY, &[0]).unwrap();
        assert_eq!(max.to_string(), "S-1-0xFFFFFFFFFFFF-0");
        // Ordering: authority, then the sub-authorities.
        let a: Sid = "S-1-5-18".parse().unwrap();
        let b: Sid = "S-1-5-18-0".parse().unwrap();
        let c: Sid = "S-1-5-19".parse().unwrap();
        assert!(a < b && b < c);
        assert!(Sid::EVERYONE < a);
    }

    #[test]
    fn t3_rid_and_alias() {
        assert_eq!(Sid::BUILTIN_ADMINISTRATORS.rid(), 0x220);
        assert_eq!(Sid::LOCAL_SYSTEM.sddl_alias(), Some("SY"));
        assert_eq!(Sid::from_sddl_alias("xx"), None);
    }
}
