//! `Sid` from text (T-2): the strict parser never panics; what it accepts round-trips
//! through the canonical display and the binary form; what it refuses is refused with a
//! position inside the input and a readable message.
#![no_main]

use bits_helper_token::{sid::MAX_AUTHORITY, sid::MAX_SUB_AUTHORITIES, error::ParseSidError, Sid};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = s.parse::<Sid>();
    assert_eq!(
        Sid::try_from(s),
        parsed,
        "TryFrom<&str> disagrees with FromStr"
    );
    match parsed {
        Ok(sid) => accepted(s, sid),
        Err(err) => refused(s, err),
    }
});

fn accepted(s: &str, sid: Sid) {
    // The parts respect the type's invariants.
    let subs = sid.sub_authorities();
    assert!(
        (1..=MAX_SUB_AUTHORITIES).contains(&subs.len()),
        "{s:?}: {} subs",
        subs.len()
    );
    assert!(
        sid.authority() <= MAX_AUTHORITY,
        "{s:?}: authority {}",
        sid.authority()
    );
    assert_eq!(
        Sid::new(sid.authority(), subs),
        Ok(sid),
        "{s:?}: Sid::new disagrees"
    );
    assert_eq!(sid.rid(), *subs.last().unwrap());

    // Display is canonical and re-parses to the same SID.
    let shown = sid.to_string();
    assert!(shown.starts_with("S-1-"), "{s:?} displays as {shown:?}");
    assert!(
        !shown.bytes().any(|b| b.is_ascii_lowercase() && b != b'x'),
        "{s:?} displays as {shown:?}: not upper-case"
    );
    let again: Sid = shown
        .parse()
        .unwrap_or_else(|e| panic!("{s:?} displays as {shown:?}, which does not parse: {e}"));
    assert_eq!(again, sid, "{s:?} → {shown:?} → {again:?}");
    assert_eq!(again.to_string(), shown, "re-display of {shown:?} differs");
    assert_eq!(again.cmp(&sid), core::cmp::Ordering::Equal);

    // Canonical form is unique: the accepted input differs from it only by the case of
    // its literals and, for authorities written in hex, by being hex.
    let hex = s.bytes().any(|b| b == b'x' || b == b'X');
    if !hex {
        assert_eq!(
            s.to_ascii_uppercase(),
            shown,
            "decimal SID {s:?} is not canonical"
        );
    } else if sid.authority() >= 1 << 32 {
        assert_eq!(
            s.to_ascii_uppercase().replacen("0X", "0x", 1),
            shown,
            "hex SID {s:?} differs from its display beyond case"
        );
    }
    // Literals are case-insensitive (T-2).
    assert_eq!(
        s.to_ascii_uppercase().parse::<Sid>(),
        Ok(sid),
        "{s:?} upper-cased"
    );
    assert_eq!(
        s.to_ascii_lowercase().parse::<Sid>(),
        Ok(sid),
        "{s:?} lower-cased"
    );

    // Binary round trip.
    let bytes = sid.to_bytes();
    assert_eq!(bytes.len(), sid.binary_len());
    assert_eq!(bytes.len(), 8 + 4 * subs.len());
    assert_eq!(Sid::from_bytes(&bytes), Ok(sid), "{s:?}: binary round trip");
}

fn refused(s: &str, err: ParseSidError) {
    let msg = err.to_string();
    assert!(
        !msg.trim().is_empty(),
        "{s:?}: empty error message for {err:?}"
    );
    assert_eq!(err == ParseSidError::Empty, s.is_empty(), "{s:?}: {err:?}");
    match err.position() {
        None => assert!(s.is_empty(), "{s:?}: {err:?} without a position"),
        Some(at) => {
            assert!(
                at <= s.len(),
                "{s:?} ({} bytes): {err:?} points past the end",
                s.len()
            );
            assert!(
                s.is_char_boundary(at),
                "{s:?}: {err:?} is inside a character"
            );
            assert!(
                msg.contains(&format!("at byte {at}:")),
                "{s:?}: {msg:?} omits the offset"
            );
        }
    }
    if let ParseSidError::InvalidCharacter { at, found, .. } = err {
        assert_eq!(
            s[at..].chars().next(),
            Some(found),
            "{s:?}: {err:?} names the wrong character"
        );
    }
}
