//! `TokenUsage` from text (T-1): never panics; what parses displays as text that
//! re-parses to the same bits, unknown bits included.
#![no_main]

use bits_helper_token::{error::ParseUsageError, TokenUsage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match s.parse::<TokenUsage>() {
        Ok(usage) => {
            let shown = usage.to_string();
            let again = shown.parse::<TokenUsage>().unwrap_or_else(|e| {
                panic!("{s:?} displays as {shown:?}, which does not parse: {e}")
            });
            assert_eq!(again.bits(), usage.bits(), "{s:?} → {shown:?} → {again:?}");
            assert_eq!(again.to_string(), shown, "re-display of {shown:?} differs");
            assert_eq!(TokenUsage::from_bits_retain(usage.bits()), usage);
            assert_eq!(usage.unknown_bits(), usage.bits() & !0x3);
            assert_eq!(usage.has_unknown_bits(), usage.bits() & !0x3 != 0);
            // Display is insensitive to how the input was spelled: parts in any order,
            // spaces, repeats, `0`, hex for known bits.
            assert_eq!(
                shown,
                TokenUsage::from_bits_retain(usage.bits()).to_string()
            );
        }
        Err(err) => {
            assert!(
                !err.to_string().trim().is_empty(),
                "{s:?}: empty message for {err:?}"
            );
            let at = match err {
                ParseUsageError::EmptyPart { at } | ParseUsageError::UnknownName { at } => at,
                _ => return,
            };
            assert!(
                at <= s.len(),
                "{s:?} ({} bytes): {err:?} points past the end",
                s.len()
            );
            assert!(
                s.is_char_boundary(at),
                "{s:?}: {err:?} is inside a character"
            );
            assert!(err.to_string().contains(&format!("at byte {at}:")));
        }
    }
});
