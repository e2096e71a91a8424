//! The conversions of the `windows` feature, and our SID forms against Win32's. Runs on
//! Windows and under Wine (`scripts/test-windows`).
#![cfg(all(windows, feature = "windows"))]

mod windows_oracle;

use bits_helper_token::windows::{TokenError, WindowsSid};
use bits_helper_token::{HResult, Sid, TokenUsage};
use windows::Win32::Foundation::{E_ACCESSDENIED, ERROR_NO_TOKEN};
use windows::Win32::Networking::BackgroundIntelligentTransferService::{
    BG_TOKEN, BG_TOKEN_LOCAL_FILE, BG_TOKEN_NETWORK,
};
use windows::Win32::Security::{
    EqualSid, GetLengthSid, PSID, WinBuiltinAdministratorsSid, WinBuiltinUsersSid,
    WinLocalServiceSid, WinLocalSystemSid, WinNetworkServiceSid, WinWorldSid,
};
use windows::core::HRESULT;

use windows_oracle::{binary as binary_of, print, printer_is_oracle, string_of_bytes, well_known};

/// T-3 constants are byte for byte what `CreateWellKnownSid` builds (T-2 binary form).
#[test]
fn well_known_sids_match_create_well_known_sid() {
    for (ours, kind) in [
        (Sid::EVERYONE, WinWorldSid),
        (Sid::LOCAL_SYSTEM, WinLocalSystemSid),
        (Sid::LOCAL_SERVICE, WinLocalServiceSid),
        (Sid::NETWORK_SERVICE, WinNetworkServiceSid),
        (Sid::BUILTIN_ADMINISTRATORS, WinBuiltinAdministratorsSid),
        (Sid::BUILTIN_USERS, WinBuiltinUsersSid),
    ] {
        let theirs = well_known(kind);
        assert_eq!(&*ours.to_bytes(), theirs.as_slice(), "{ours}");
        assert_eq!(Sid::from_bytes(&theirs), Ok(ours));
        assert_eq!(string_of_bytes(&theirs), ours.to_string());
    }
}

/// Our string form (T-2) is what `ConvertSidToStringSidW` prints, and our binary form has
/// the length `GetLengthSid` reports, across authorities (decimal below 2^32, `0x` and 12
/// hex digits above) and sub-authority counts 1 to 15.
///
/// Wine 8's printer is wrong from 2^31 up (negative decimal below 2^32, ERROR_INVALID_SID
/// above), so under Wine the string check stops there; the binary checks do not.
#[test]
fn our_forms_agree_with_win32() {
    let authorities = [
        0,
        1,
        5,
        16,
        0x7FFF_FFFF,
        0x8000_0000,
        0xFFFF_FFFF,
        0x1_0000_0000,
        0x0000_1234_5678_9ABC,
        (1 << 48) - 1,
    ];
    let subs: Vec<u32> = (0..15)
        .map(|i| [0, 1, 544, 0x7FFF_FFFF, u32::MAX][i % 5])
        .collect();
    let (mut printed, mut binary) = (0, 0);
    for &authority in &authorities {
        for count in 1..=15 {
            let sid = Sid::new(authority, &subs[..count]).expect("valid SID");
            let win = WindowsSid::from(sid);
            let psid = win.as_psid();
            // SAFETY: `win` holds a valid binary SID and outlives every call below.
            unsafe {
                assert_eq!(binary_of(psid).as_slice(), &*sid.to_bytes(), "{sid}");
                assert_eq!(GetLengthSid(psid) as usize, sid.binary_len(), "{sid}");
                // And back: Windows's SID read into ours.
                assert_eq!(WindowsSid::read(psid), Ok(sid));
            }
            binary += 1;
            // SAFETY: as above.
            let text = unsafe { print(psid) };
            if printer_is_oracle(authority) {
                assert_eq!(
                    text.as_deref(),
                    Ok(sid.to_string().as_str()),
                    "string form of {sid:?}"
                );
                printed += 1;
            } else if count == 1 {
                println!("Wine prints {sid} as {text:?} (not used as an oracle)");
            }
        }
    }
    assert_eq!(binary, authorities.len() * 15);
    println!("{binary} SIDs checked in binary form, {printed} in string form");
    assert!(printed >= 5 * 15);
}

#[test]
fn windows_sid_round_trip() {
    let sid: Sid = "S-1-5-21-1-2-3-1001".parse().unwrap();
    let win = WindowsSid::from(sid);
    assert_eq!(Sid::from(win), sid);
    assert_eq!(Sid::from(&win), sid);
    assert_eq!(win.sid(), sid);
    assert_eq!(win.as_bytes(), &*sid.to_bytes());
    assert_eq!(win.to_string(), "S-1-5-21-1-2-3-1001");
    assert_eq!(
        win.as_psid().0 as usize % 4,
        0,
        "aligned for u32 sub-authorities"
    );
    let same = WindowsSid::from(&sid);
    // SAFETY: both are valid SIDs that outlive the call.
    assert!(unsafe { EqualSid(win.as_psid(), same.as_psid()) }.is_ok());
}

#[test]
fn reading_a_null_psid_is_an_error() {
    // SAFETY: null is explicitly allowed by `read`'s contract.
    let err = unsafe { WindowsSid::read(PSID::default()) }.unwrap_err();
    assert_eq!(err.code(), Some(HResult::E_POINTER));
    assert!(matches!(
        err,
        TokenError::Win32 {
            call: "IsValidSid",
            ..
        }
    ));
}

#[test]
fn reading_an_invalid_sid_is_always_error_invalid_sid() {
    use windows::Win32::Foundation::{ERROR_FILE_NOT_FOUND, SetLastError};
    // Revision 2: IsValidSid refuses it. Whatever the last error was before, the answer is
    // HRESULT_FROM_WIN32(ERROR_INVALID_SID): IsValidSid sets none to read.
    let bad: [u8; 12] = [2, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0];
    for previous in [0, ERROR_FILE_NOT_FOUND.0] {
        // SAFETY: no preconditions; sets this thread's last-error value.
        unsafe { SetLastError(windows::Win32::Foundation::WIN32_ERROR(previous)) };
        // SAFETY: `bad` is 12 readable bytes: the header and the one sub-authority it announces.
        let err = unsafe { WindowsSid::read(PSID(bad.as_ptr().cast_mut().cast())) }.unwrap_err();
        assert_eq!(
            err.code(),
            Some(HResult::from_win32(1337)),
            "after {previous}"
        );
        assert!(matches!(
            err,
            TokenError::Win32 {
                call: "IsValidSid",
                ..
            }
        ));
    }
}

/// T-6: the same 32 bits both ways, for every named code.
#[test]
fn hresult_conversions() {
    for (ours, name) in HResult::known() {
        let theirs = HRESULT::from(ours);
        assert_eq!(theirs.0, ours.as_i32(), "{name}");
        assert_eq!(HResult::from(theirs), ours, "{name}");
    }
    assert_eq!(HResult::from(E_ACCESSDENIED), HResult::E_ACCESSDENIED);
    let error = windows::core::Error::from(E_ACCESSDENIED);
    assert_eq!(HResult::from(&error), HResult::E_ACCESSDENIED);
    assert_eq!(HResult::from(error), HResult::E_ACCESSDENIED);
    // HRESULT_FROM_WIN32 (T-6) agrees with windows-rs.
    assert_eq!(
        HResult::from_win32(ERROR_NO_TOKEN.0),
        HResult::from(ERROR_NO_TOKEN.to_hresult())
    );
}

/// T-1: the same bits both ways; unknown bits survive (never dropped on the way in).
#[test]
fn usage_conversions() {
    assert_eq!(BG_TOKEN::from(TokenUsage::LOCAL_FILE), BG_TOKEN_LOCAL_FILE);
    assert_eq!(BG_TOKEN::from(TokenUsage::NETWORK), BG_TOKEN_NETWORK);
    assert_eq!(
        TokenUsage::from(BG_TOKEN_LOCAL_FILE),
        TokenUsage::LOCAL_FILE
    );
    assert_eq!(
        TokenUsage::from(BG_TOKEN(0x3)),
        TokenUsage::LOCAL_FILE | TokenUsage::NETWORK
    );
    assert_eq!(TokenUsage::from(BG_TOKEN(0)), TokenUsage::empty());
    let odd = TokenUsage::from(BG_TOKEN(0x8000_0006));
    assert_eq!(odd.bits(), 0x8000_0006);
    assert_eq!(odd.unknown_bits(), 0x8000_0004);
    assert_eq!(BG_TOKEN::from(odd), BG_TOKEN(0x8000_0006));
}
