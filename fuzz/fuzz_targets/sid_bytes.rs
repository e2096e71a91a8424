//! `Sid` from the binary form (T-2): exact, never panics; what it accepts is the input
//! byte for byte and survives the string round trip.
#![no_main]

use bits_helper_token::{Sid, error::SidBytesError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = Sid::from_bytes(data);
    assert_eq!(
        Sid::try_from(data),
        parsed,
        "TryFrom<&[u8]> disagrees with from_bytes"
    );

    // An independent statement of the binary form: revision 1, 1..=15 sub-authorities,
    // exactly 8 + 4 * count bytes.
    let valid = data.len() >= 8
        && data[0] == 1
        && (1..=15).contains(&data[1])
        && data.len() == 8 + 4 * usize::from(data[1]);
    assert_eq!(parsed.is_ok(), valid, "{data:02x?}: {parsed:?}");

    match parsed {
        Ok(sid) => {
            let bytes = sid.to_bytes();
            assert_eq!(&bytes[..], data, "to_bytes differs from the input");
            assert_eq!(sid.binary_len(), data.len());
            let authority = data[2..8]
                .iter()
                .fold(0u64, |a, &b| (a << 8) | u64::from(b));
            assert_eq!(sid.authority(), authority);
            for (i, sub) in sid.sub_authorities().iter().enumerate() {
                let c = &data[8 + 4 * i..12 + 4 * i];
                assert_eq!(*sub, u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
            }
            let shown = sid.to_string();
            let again: Sid = shown.parse().unwrap_or_else(|e| {
                panic!("{sid:?} displays as {shown:?}, which does not parse: {e}")
            });
            assert_eq!(again, sid, "string round trip of {shown:?}");
            assert_eq!(again.to_string(), shown);
        }
        Err(err) => {
            assert!(
                !err.to_string().trim().is_empty(),
                "empty message for {err:?}"
            );
            let len = data.len();
            match err {
                SidBytesError::TruncatedHeader { len: l } => assert!(l == len && len < 8),
                SidBytesError::UnsupportedRevision { found } => assert_eq!(found, data[0]),
                SidBytesError::SubAuthorityCount { found } => assert_eq!(found, data[1]),
                SidBytesError::Truncated {
                    len: l,
                    count,
                    expected,
                }
                | SidBytesError::TrailingBytes {
                    len: l,
                    count,
                    expected,
                } => {
                    assert_eq!((l, count), (len, data[1]));
                    assert_eq!(expected, 8 + 4 * usize::from(count));
                    assert_ne!(l, expected);
                }
                _ => {}
            }
        }
    }
});
