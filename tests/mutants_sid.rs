//! Mutation testing (issue 7, item 2): SIDs (T-2, T-3). Each test pins a documented
//! behaviour that a surviving `cargo mutants` mutant showed no other test pinned.

use bits_helper_token::*;

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
