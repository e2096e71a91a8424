//! SPEC T-2 and T-3: the strict SID string and binary forms, their limits and the
//! well-known SIDs.

use bits_helper_token::{
    Sid, error::ParseSidError, error::SidBytesError, sid::MAX_AUTHORITY, sid::MAX_BINARY_LEN,
    sid::MAX_SUB_AUTHORITIES,
};

fn err(s: &str) -> ParseSidError {
    s.parse::<Sid>().expect_err(s)
}

#[test]
fn t2_accepts_the_abnf_case_insensitively() {
    assert_eq!("S-1-5-18".parse::<Sid>(), Ok(Sid::LOCAL_SYSTEM));
    assert_eq!("s-1-5-18".parse::<Sid>(), Ok(Sid::LOCAL_SYSTEM));
    assert_eq!(
        "S-1-0-0".parse::<Sid>().map(|s| s.to_string()),
        Ok("S-1-0-0".into())
    );
    // Hex authorities: exactly 12 digits, any case, 0x or 0X; small values display in decimal.
    assert_eq!(
        "S-1-0x000000000005-18".parse::<Sid>(),
        Ok(Sid::LOCAL_SYSTEM)
    );
    assert_eq!(
        "S-1-0X00000000000a-1".parse::<Sid>().map(|s| s.authority()),
        Ok(10)
    );
    let big: Sid = "s-1-0xabcdef012345-7".parse().unwrap();
    assert_eq!(big.to_string(), "S-1-0xABCDEF012345-7");
    assert_eq!(big.authority(), 0xABCD_EF01_2345);
    // Limits: 2^32-1 decimal authority, u32::MAX sub-authority, 15 sub-authorities.
    let max = "S-1-4294967295-4294967295";
    assert_eq!(
        max.parse::<Sid>().map(|s| s.to_string()),
        Ok(max.to_string())
    );
    let fifteen = format!("S-1-5{}", "-1".repeat(15));
    assert_eq!(
        fifteen.parse::<Sid>().map(|s| s.sub_authorities().len()),
        Ok(15)
    );
}

#[test]
fn t2_refuses_malformed_strings_with_position() {
    use ParseSidError::*;
    // revision != 1
    assert_eq!(err("S-2-5-18"), UnsupportedRevision { at: 2 });
    assert_eq!(err("S-0-5-18"), UnsupportedRevision { at: 2 });
    assert_eq!(
        err("S-99999999999999999999999-5-18"),
        UnsupportedRevision { at: 2 }
    );
    // 0 or 16 sub-authorities
    assert_eq!(err("S-1-5"), NoSubAuthorities { at: 5 });
    let sixteen = format!("S-1-5{}", "-1".repeat(16));
    assert_eq!(err(&sixteen), TooManySubAuthorities { at: 5 + 15 * 2 + 1 });
    // values out of range, no saturation
    assert_eq!(
        err("S-1-5-4294967296"),
        SubAuthorityOutOfRange { at: 6, index: 0 }
    );
    assert_eq!(
        err("S-1-5-21-99999999999999999999"),
        SubAuthorityOutOfRange { at: 9, index: 1 }
    );
    assert_eq!(err("S-1-4294967296-1"), AuthorityOutOfRange { at: 4 });
    // 0x with other than 12 digits
    assert_eq!(err("S-1-0x5-18"), HexAuthorityLength { at: 4, digits: 1 });
    assert_eq!(err("S-1-0x-18"), HexAuthorityLength { at: 4, digits: 0 });
    assert_eq!(
        err("S-1-0x0000000000005-18"),
        HexAuthorityLength { at: 4, digits: 13 }
    );
    assert!(matches!(
        err("S-1-0x00000000000G-18"),
        InvalidCharacter {
            at: 17,
            found: 'G',
            ..
        }
    ));
    // leading zeros
    assert_eq!(err("S-1-5-018"), LeadingZero { at: 6 });
    assert_eq!(err("S-1-05-18"), LeadingZero { at: 4 });
    assert_eq!(err("S-01-5-18"), LeadingZero { at: 2 });
    assert_eq!(err("S-1-5-00"), LeadingZero { at: 6 });
    // signs
    assert!(matches!(
        err("S-1-5-+18"),
        InvalidCharacter {
            at: 6,
            found: '+',
            ..
        }
    ));
    assert!(matches!(
        err("S-1-+5-18"),
        InvalidCharacter {
            at: 4,
            found: '+',
            ..
        }
    ));
    assert_eq!(err("S-1-5--18"), EmptyComponent { at: 6 });
    // inner and outer spaces
    assert_eq!(err(" S-1-5-18"), MissingPrefix { at: 0 });
    assert!(matches!(
        err("S-1-5-18 "),
        InvalidCharacter {
            at: 8,
            found: ' ',
            ..
        }
    ));
    assert!(matches!(
        err("S-1-5- 18"),
        InvalidCharacter {
            at: 6,
            found: ' ',
            ..
        }
    ));
    assert!(matches!(
        err("S-1 -5-18"),
        InvalidCharacter {
            at: 3,
            found: ' ',
            ..
        }
    ));
    // a trailing '-'
    assert_eq!(err("S-1-5-18-"), EmptyComponent { at: 9 });
    assert_eq!(err("S-1-"), EmptyComponent { at: 4 });
    assert_eq!(err("S-1"), EmptyComponent { at: 3 });
    // non-ASCII digits (Arabic-Indic, fullwidth)
    assert!(matches!(
        err("S-1-5-\u{661}\u{668}"),
        InvalidCharacter {
            at: 6,
            found: '\u{661}',
            ..
        }
    ));
    assert!(matches!(
        err("S-1-5-1\u{FF18}"),
        InvalidCharacter {
            at: 7,
            found: '\u{FF18}',
            ..
        }
    ));
    // prefix, empty input, trailing garbage, SDDL aliases are not SID strings
    assert_eq!(err(""), Empty);
    assert_eq!(err("X-1-5-18"), MissingPrefix { at: 0 });
    assert_eq!(err("S1-5-18"), MissingPrefix { at: 0 });
    assert_eq!(err("BA"), MissingPrefix { at: 0 });
    assert!(matches!(
        err("S-1-5-18x"),
        InvalidCharacter {
            at: 8,
            found: 'x',
            ..
        }
    ));
    assert!(matches!(
        err("S-1-5-18\n"),
        InvalidCharacter {
            at: 8,
            found: '\n',
            ..
        }
    ));
}

#[test]
fn t2_error_messages_say_what_and_where() {
    assert_eq!(
        err("S-1-5-4294967296").to_string(),
        "at byte 6: sub-authority 0 does not fit in 32 bits"
    );
    assert_eq!(
        err("S-1-0x5-1").to_string(),
        "at byte 4: a hex identifier authority has exactly 12 digits after `0x`, found 1"
    );
    assert_eq!(err("S-1-5-018").position(), Some(6));
    assert_eq!(err("").position(), None);
}

#[test]
fn t2_binary_form_is_exact() {
    let bytes = Sid::NETWORK_SERVICE.to_bytes();
    assert_eq!(&bytes[..], &[1, 1, 0, 0, 0, 0, 0, 5, 20, 0, 0, 0]);
    // sub-authorities little-endian, authority big-endian
    let sid: Sid = "S-1-0x010203040506-16909060".parse().unwrap();
    assert_eq!(&sid.to_bytes()[..], &[1, 1, 1, 2, 3, 4, 5, 6, 4, 3, 2, 1]);

    use SidBytesError::*;
    assert_eq!(Sid::from_bytes(&[]), Err(TruncatedHeader { len: 0 }));
    assert_eq!(
        Sid::from_bytes(&[1, 1, 0, 0, 0, 0, 0]),
        Err(TruncatedHeader { len: 7 })
    );
    assert_eq!(
        Sid::from_bytes(&[2, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]),
        Err(UnsupportedRevision { found: 2 })
    );
    assert_eq!(
        Sid::from_bytes(&[1, 0, 0, 0, 0, 0, 0, 5]),
        Err(SubAuthorityCount { found: 0 })
    );
    let mut sixteen = vec![1u8, 16, 0, 0, 0, 0, 0, 5];
    sixteen.extend([0u8; 64]);
    assert_eq!(
        Sid::from_bytes(&sixteen),
        Err(SubAuthorityCount { found: 16 })
    );
    // truncated and over-long
    assert_eq!(
        Sid::from_bytes(&bytes[..11]),
        Err(Truncated {
            len: 11,
            count: 1,
            expected: 12
        })
    );
    let mut long = bytes.to_vec();
    long.push(0);
    assert_eq!(
        Sid::from_bytes(&long),
        Err(TrailingBytes {
            len: 13,
            count: 1,
            expected: 12
        })
    );
    assert_eq!(
        Sid::from_bytes(&long).unwrap_err().to_string(),
        "13 bytes is too long: 1 sub-authorities need exactly 12 bytes"
    );
}

#[test]
fn t3_well_known_sids() {
    let cases = [
        (Sid::LOCAL_SYSTEM, "S-1-5-18"),
        (Sid::LOCAL_SERVICE, "S-1-5-19"),
        (Sid::NETWORK_SERVICE, "S-1-5-20"),
        (Sid::BUILTIN_ADMINISTRATORS, "S-1-5-32-544"),
        (Sid::BUILTIN_USERS, "S-1-5-32-545"),
        (Sid::EVERYONE, "S-1-1-0"),
    ];
    for (sid, text) in cases {
        assert_eq!(sid.to_string(), text);
        assert_eq!(text.parse::<Sid>(), Ok(sid));
    }
    // DOMAIN_ALIAS_RID_ADMINS = 0x220 in the built-in domain S-1-5-32
    assert_eq!(Sid::BUILTIN_ADMINISTRATORS.sub_authorities(), &[32, 0x220]);
    // SDDL aliases through their own entry point only (T-2)
    for (alias, sid) in [
        ("BA", Sid::BUILTIN_ADMINISTRATORS),
        ("SY", Sid::LOCAL_SYSTEM),
        ("LS", Sid::LOCAL_SERVICE),
        ("NS", Sid::NETWORK_SERVICE),
        ("BU", Sid::BUILTIN_USERS),
        ("WD", Sid::EVERYONE),
    ] {
        assert_eq!(Sid::from_sddl_alias(alias), Some(sid));
        assert_eq!(sid.sddl_alias(), Some(alias));
        assert!(alias.parse::<Sid>().is_err());
    }
}

#[test]
fn t2_serde_is_the_canonical_string_and_as_strict_as_fromstr() {
    let sid: Sid = "s-1-0x000000000005-32-544".parse().unwrap();
    assert_eq!(serde_json::to_string(&sid).unwrap(), "\"S-1-5-32-544\"");
    assert_eq!(
        serde_json::from_str::<Sid>("\"s-1-5-18\"").unwrap(),
        Sid::LOCAL_SYSTEM
    );
    for bad in [
        "\"S-1-5-018\"",
        "\"BA\"",
        "\"S-1-5\"",
        "18",
        "null",
        "[1,1]",
    ] {
        assert!(serde_json::from_str::<Sid>(bad).is_err(), "{bad}");
    }
    let e = serde_json::from_str::<Sid>("\"S-1-5-018\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("at byte 6: leading zero"), "{e}");
}

// ---- properties ------------------------------------------------------------------------

/// The properties use the `proptest` crate, which comes with the crate's own `proptest`
/// feature (`cargo test --all-features`); a plain `cargo test` leaves them out.
#[cfg(feature = "proptest")]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn any_sid() -> impl Strategy<Value = Sid> {
        (
            0u64..=bits_helper_token::sid::MAX_AUTHORITY,
            prop::collection::vec(any::<u32>(), 1..=15),
        )
            .prop_map(|(a, subs)| Sid::new(a, &subs).unwrap())
    }

    proptest! {
        #[test]
        fn t2_string_round_trip(sid in any_sid()) {
            let text = sid.to_string();
            prop_assert_eq!(text.parse::<Sid>(), Ok(sid));
            // Lower-case input parses to the same SID.
            prop_assert_eq!(text.to_ascii_lowercase().parse::<Sid>(), Ok(sid));
        }

        #[test]
        fn t2_binary_round_trip(sid in any_sid()) {
            let bytes = sid.to_bytes();
            prop_assert_eq!(bytes.len(), 8 + 4 * sid.sub_authorities().len());
            prop_assert_eq!(Sid::from_bytes(&bytes), Ok(sid));
        }

        #[test]
        fn t2_parsers_never_panic_on_arbitrary_strings(s in "\\PC*") {
            let _ = s.parse::<Sid>();
        }

        #[test]
        fn t2_parsers_never_panic_on_sid_like_strings(s in "[sS]-[0-9]{0,3}(-[0-9xXa-fA-F +]{0,14}){0,17}-?") {
            if let Ok(sid) = s.parse::<Sid>() {
                // Whatever is accepted displays canonically and re-parses to itself.
                prop_assert_eq!(sid.to_string().parse::<Sid>(), Ok(sid));
            }
        }

        #[test]
        fn t2_from_bytes_never_panics_and_accepts_only_exact_sids(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(sid) = Sid::from_bytes(&bytes) {
                prop_assert_eq!(&sid.to_bytes()[..], &bytes[..]);
            }
        }

        #[test]
        fn t2_order_matches_parts(a in any_sid(), b in any_sid()) {
            let expected = (a.authority(), a.sub_authorities()).cmp(&(b.authority(), b.sub_authorities()));
            prop_assert_eq!(a.cmp(&b), expected);
            prop_assert_eq!(a == b, expected.is_eq());
        }
    }
}

// ---- limits and well-known SIDs ---------------------------------------------------------

#[test]
fn t2_limits() {
    assert_eq!(MAX_SUB_AUTHORITIES, 15);
    assert_eq!(MAX_AUTHORITY, 0xFFFF_FFFF_FFFF);
    assert_eq!(MAX_BINARY_LEN, 68);
    let longest = Sid::new(MAX_AUTHORITY, &[7; 15]).unwrap();
    assert_eq!(longest.binary_len(), MAX_BINARY_LEN);
    assert_eq!(longest.to_bytes().len(), MAX_BINARY_LEN);
    assert_eq!(Sid::from_bytes(&longest.to_bytes()), Ok(longest));
}

#[test]
fn t2_binary_form_as_a_slice_and_in_debug_output() {
    let bytes = Sid::LOCAL_SYSTEM.to_bytes();
    let expected: &[u8] = &[1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0];
    assert_eq!(bytes.as_ref(), expected);
    assert_eq!(AsRef::<[u8]>::as_ref(&bytes), expected);
    assert_eq!(
        format!("{bytes:?}"),
        "[1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]"
    );
}

#[test]
fn t2_debug_shows_the_canonical_string() {
    assert_eq!(format!("{:?}", Sid::LOCAL_SYSTEM), "Sid(S-1-5-18)");
    assert_eq!(
        format!("{:?}", Some(Sid::BUILTIN_ADMINISTRATORS)),
        "Some(Sid(S-1-5-32-544))"
    );
}

#[test]
fn t3_is_local_system_is_exactly_s_1_5_18() {
    assert!(Sid::LOCAL_SYSTEM.is_local_system());
    assert!("s-1-5-18".parse::<Sid>().unwrap().is_local_system());
    for other in [
        Sid::LOCAL_SERVICE,
        Sid::NETWORK_SERVICE,
        Sid::EVERYONE,
        Sid::new(5, &[18, 0]).unwrap(),
        Sid::new(1, &[18]).unwrap(),
    ] {
        assert!(!other.is_local_system(), "{other}");
    }
}

#[test]
fn t2_serde_errors_say_what_is_expected() {
    let e = serde_json::from_str::<Sid>("18").unwrap_err().to_string();
    assert!(e.contains(r#"a SID string such as "S-1-5-18""#), "{e}");
}
