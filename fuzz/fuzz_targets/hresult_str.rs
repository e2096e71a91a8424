//! `HResult` from text (T-6): `0x` + 1 to 8 hex digits or a known name; never panics;
//! the `0x%08X` form and the name re-parse to the same value.
#![no_main]

use bits_helper_token::{HResult, error::ParseHResultError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let b = s.as_bytes();
    let is_hex = b.len() >= 2 && b[0] == b'0' && (b[1] | 0x20) == b'x';
    match s.parse::<HResult>() {
        Ok(hr) => {
            // Independent statement of what is accepted.
            if is_hex {
                let digits = &s[2..];
                assert!((1..=8).contains(&digits.len()), "{s:?} accepted");
                assert!(
                    digits.bytes().all(|d| d.is_ascii_hexdigit()),
                    "{s:?} accepted"
                );
                assert_eq!(u32::from_str_radix(digits, 16), Ok(hr.as_u32()), "{s:?}");
            } else {
                assert_eq!(hr.name(), Some(s), "{s:?} accepted as a name");
            }
            let hex = format!("0x{:08X}", hr.as_u32());
            assert_eq!(hex.parse::<HResult>(), Ok(hr), "{hex:?} does not re-parse");
            assert_eq!(hex.to_ascii_lowercase().parse::<HResult>(), Ok(hr));
            let shown = hr.to_string();
            assert!(
                shown.starts_with(&hex),
                "{shown:?} does not start with {hex:?}"
            );
            if let Some(name) = hr.name() {
                assert_eq!(
                    name.parse::<HResult>(),
                    Ok(hr),
                    "name {name:?} does not re-parse"
                );
                assert_eq!(shown, format!("{hex} ({name})"));
            } else {
                assert_eq!(shown, hex);
            }
            assert_eq!(HResult::from_u32(hr.as_u32()), hr);
            assert_eq!(HResult::new(hr.as_i32()), hr);
            assert_eq!(hr.is_failure(), !hr.is_success());
        }
        Err(err) => {
            assert!(
                !err.to_string().trim().is_empty(),
                "{s:?}: empty message for {err:?}"
            );
            match err {
                ParseHResultError::Empty => assert!(s.is_empty()),
                ParseHResultError::BadHex { at } => {
                    assert!(is_hex, "{s:?}: {err:?}");
                    assert!(at <= s.len() && s.is_char_boundary(at), "{s:?}: {err:?}");
                }
                ParseHResultError::UnknownName => {
                    assert!(!is_hex && !s.is_empty(), "{s:?}: {err:?}");
                    assert!(HResult::known().all(|(_, n)| n != s), "{s:?}: a known name");
                }
                _ => {}
            }
        }
    }
});
