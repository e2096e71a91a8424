//! Independent oracles for the Windows tests: Win32 asked directly through windows-rs,
//! without going through the crate's binding. (Shared by `tests/windows_*.rs`.)
//!
//! Only Win32's SID *printer* (`ConvertSidToStringSidW`), `GetLengthSid`,
//! `CreateWellKnownSid` and `CheckTokenMembership` are used as oracles; Wine's SID
//! *parser* is lenient and wrong for authorities >= 2^32, so it is never one.
#![allow(dead_code, unsafe_code)]

use std::os::windows::io::{AsRawHandle, BorrowedHandle};

use windows::Win32::Foundation::LUID;
use windows::Win32::Foundation::{HANDLE, HLOCAL, LocalFree};
use windows::Win32::Security::Authentication::Identity::{
    LsaFreeReturnBuffer, LsaGetLogonSessionData, SECURITY_LOGON_SESSION_DATA,
};
use windows::Win32::Security::Authorization::ConvertSidToStringSidW;
use windows::Win32::Security::{
    CheckTokenMembership, CreateWellKnownSid, GetLengthSid, GetTokenInformation, IsTokenRestricted,
    IsValidSid, PSID, SECURITY_IMPERSONATION_LEVEL, SID_AND_ATTRIBUTES, TOKEN_GROUPS,
    TOKEN_STATISTICS, TOKEN_USER, TokenGroups, TokenImpersonationLevel, TokenRestrictedSids,
    TokenStatistics, TokenUser, WELL_KNOWN_SID_TYPE,
};
use windows::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};
use windows::core::{BOOL, PWSTR, s, w};

/// One SID as Win32 sees it: its string form and its binary form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSid {
    pub string: String,
    pub bytes: Vec<u8>,
}

/// Whether we run under Wine (ntdll exports `wine_get_version`).
pub fn under_wine() -> bool {
    // SAFETY: plain lookups of a loaded module and an export by name; no pointer is
    // dereferenced.
    unsafe {
        let Ok(ntdll) = GetModuleHandleW(w!("ntdll.dll")) else {
            return false;
        };
        GetProcAddress(ntdll, s!("wine_get_version")).is_some()
    }
}

/// `ConvertSidToStringSidW` + `GetLengthSid` of a SID in memory.
///
/// # Safety
/// `psid` must point to a valid SID.
pub unsafe fn describe(psid: PSID) -> RawSid {
    // SAFETY: forwarded contract.
    let string = unsafe { print(psid) }.expect("ConvertSidToStringSidW");
    // SAFETY: forwarded contract.
    let bytes = unsafe { binary(psid) };
    RawSid { string, bytes }
}

/// `GetLengthSid` bytes of a SID in memory, after `IsValidSid`.
///
/// # Safety
/// `psid` must point to a valid SID.
pub unsafe fn binary(psid: PSID) -> Vec<u8> {
    // SAFETY: `psid` is a valid SID per the contract, `GetLengthSid` bytes long.
    unsafe {
        assert!(IsValidSid(psid).as_bool(), "IsValidSid");
        let len = GetLengthSid(psid) as usize;
        std::slice::from_raw_parts(psid.0.cast::<u8>(), len).to_vec()
    }
}

/// `ConvertSidToStringSidW` of a SID in memory, errors included. Wine 8's printer fails
/// for authorities >= 2^32 (ERROR_INVALID_SID) and prints authorities in 2^31..2^32 as
/// negative numbers, so only use it as an oracle below 2^31 under Wine (see
/// [`printer_is_oracle`]).
///
/// # Safety
/// `psid` must point to a valid SID.
pub unsafe fn print(psid: PSID) -> windows::core::Result<String> {
    // SAFETY: `psid` is a valid SID per the contract; the string is freed with LocalFree
    // as documented.
    unsafe {
        let mut text = PWSTR::null();
        ConvertSidToStringSidW(psid, &mut text)?;
        let string = text.to_string().expect("UTF-16");
        LocalFree(Some(HLOCAL(text.0.cast())));
        Ok(string)
    }
}

/// Whether `ConvertSidToStringSidW` can serve as the oracle for this authority here.
pub fn printer_is_oracle(authority: u64) -> bool {
    authority < 0x8000_0000 || !under_wine()
}

/// `ConvertSidToStringSidW` of a binary SID held in a byte slice.
pub fn string_of_bytes(bytes: &[u8]) -> String {
    // Copy into an aligned buffer: a SID holds u32 sub-authorities.
    let mut words = vec![0u32; bytes.len().div_ceil(4)];
    // SAFETY: `words` has at least `bytes.len()` bytes; the regions do not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), words.as_mut_ptr().cast(), bytes.len())
    };
    // SAFETY: the caller hands a binary SID; `describe` checks it with IsValidSid first.
    unsafe { describe(PSID(words.as_mut_ptr().cast())) }.string
}

/// `CreateWellKnownSid` (no domain): the binary form Windows builds.
pub fn well_known(kind: WELL_KNOWN_SID_TYPE) -> Vec<u8> {
    let mut words = [0u32; 17];
    let mut len = 68u32;
    // SAFETY: `words` is 68 writable, aligned bytes, the size we pass.
    unsafe { CreateWellKnownSid(kind, None, Some(PSID(words.as_mut_ptr().cast())), &mut len) }
        .expect("CreateWellKnownSid");
    // SAFETY: `words` holds a SID of `len` bytes now.
    unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), len as usize) }.to_vec()
}

/// Reads a token-information class into an 8-aligned buffer.
fn query(token: HANDLE, class: windows::Win32::Security::TOKEN_INFORMATION_CLASS) -> Vec<u64> {
    let mut needed = 0u32;
    // SAFETY: size query with a null buffer.
    let _ = unsafe { GetTokenInformation(token, class, None, 0, &mut needed) };
    assert!(needed > 0, "GetTokenInformation size");
    let mut buf = vec![0u64; (needed as usize).div_ceil(8)];
    // SAFETY: `buf` is writable for `needed` bytes or more.
    unsafe {
        GetTokenInformation(
            token,
            class,
            Some(buf.as_mut_ptr().cast()),
            needed,
            &mut needed,
        )
    }
    .expect("GetTokenInformation");
    buf
}

fn handle(token: BorrowedHandle<'_>) -> HANDLE {
    HANDLE(token.as_raw_handle())
}

/// `TokenUser`, read straight from Win32.
pub fn token_user(token: BorrowedHandle<'_>) -> RawSid {
    let buf = query(handle(token), TokenUser);
    // SAFETY: the buffer holds a TOKEN_USER whose SID points inside it.
    unsafe {
        let user = &*buf.as_ptr().cast::<TOKEN_USER>();
        describe(user.User.Sid)
    }
}

/// `TokenGroups`, read straight from Win32: each SID with its attributes.
pub fn token_groups(token: BorrowedHandle<'_>) -> Vec<(RawSid, u32)> {
    let buf = query(handle(token), TokenGroups);
    // SAFETY: the buffer holds a TOKEN_GROUPS with `GroupCount` entries whose SIDs point
    // inside it.
    unsafe {
        let groups = &*buf.as_ptr().cast::<TOKEN_GROUPS>();
        let entries: &[SID_AND_ATTRIBUTES] =
            std::slice::from_raw_parts(groups.Groups.as_ptr(), groups.GroupCount as usize);
        entries
            .iter()
            .map(|g| (describe(g.Sid), g.Attributes))
            .collect()
    }
}

/// `CheckTokenMembership(token, Administrators)` with Windows's own Administrators SID.
/// `token` must be an impersonation token.
pub fn is_admin_member(token: BorrowedHandle<'_>) -> bool {
    let admins = well_known(windows::Win32::Security::WinBuiltinAdministratorsSid);
    let mut words = [0u32; 17];
    // SAFETY: `admins` is at most 68 bytes and `words` has 68.
    unsafe {
        std::ptr::copy_nonoverlapping(admins.as_ptr(), words.as_mut_ptr().cast(), admins.len())
    };
    let mut member = BOOL(0);
    // SAFETY: a live token handle, a valid SID, a live out-parameter.
    unsafe {
        CheckTokenMembership(
            Some(handle(token)),
            PSID(words.as_mut_ptr().cast()),
            &mut member,
        )
    }
    .expect("CheckTokenMembership");
    member.as_bool()
}

/// `TokenRestrictedSids`, read straight from Win32: each restricting SID with its
/// attributes (T-11), or the `HRESULT` of the failure (Wine 8 does not implement the class).
pub fn token_restricted_sids(token: BorrowedHandle<'_>) -> Result<Vec<(RawSid, u32)>, i32> {
    let mut buf = vec![0u64; 512];
    let mut len = 0u32;
    // SAFETY: `buf` is 4096 writable, aligned bytes, the size we pass (ample for a test
    // token's few restricting SIDs).
    unsafe {
        GetTokenInformation(
            handle(token),
            TokenRestrictedSids,
            Some(buf.as_mut_ptr().cast()),
            4096,
            &mut len,
        )
    }
    .map_err(|e| e.code().0)?;
    // SAFETY: the buffer holds a TOKEN_GROUPS with `GroupCount` entries whose SIDs point
    // inside it.
    Ok(unsafe {
        let groups = &*buf.as_ptr().cast::<TOKEN_GROUPS>();
        let entries: &[SID_AND_ATTRIBUTES] =
            std::slice::from_raw_parts(groups.Groups.as_ptr(), groups.GroupCount as usize);
        entries
            .iter()
            .map(|g| (describe(g.Sid), g.Attributes))
            .collect()
    })
}

/// `IsTokenRestricted`: `Ok(true)` when it answers nonzero, `Ok(false)` when it answers
/// zero with no error, else the `HRESULT` of `GetLastError` (windows-rs turns every zero
/// answer into an error; one whose code is 0 is a plain "no").
pub fn is_token_restricted(token: BorrowedHandle<'_>) -> Result<bool, i32> {
    // SAFETY: a live token handle.
    match unsafe { IsTokenRestricted(handle(token)) } {
        Ok(()) => Ok(true),
        Err(e) if e.code().0 == 0 => Ok(false),
        Err(e) => Err(e.code().0),
    }
}

/// `TokenImpersonationLevel` of an impersonation token, straight from Win32.
pub fn impersonation_level(token: BorrowedHandle<'_>) -> SECURITY_IMPERSONATION_LEVEL {
    let mut level = SECURITY_IMPERSONATION_LEVEL::default();
    let mut len = 0u32;
    // SAFETY: `level` is a live i32-sized value; we pass its size.
    unsafe {
        GetTokenInformation(
            handle(token),
            TokenImpersonationLevel,
            Some((&raw mut level).cast()),
            std::mem::size_of::<SECURITY_IMPERSONATION_LEVEL>() as u32,
            &mut len,
        )
    }
    .expect("GetTokenInformation(TokenImpersonationLevel)");
    level
}

/// The token's logon session (`TokenStatistics.AuthenticationId`) and what
/// `LsaGetLogonSessionData` says of it: `Ok(Some((LogonType, Size)))`, `Ok(None)` for no
/// data, or the failing `NTSTATUS`.
pub fn logon_session(token: BorrowedHandle<'_>) -> (LUID, Result<Option<(u32, u32)>, i32>) {
    let mut stats = TOKEN_STATISTICS::default();
    let mut len = 0u32;
    // SAFETY: `stats` is a live TOKEN_STATISTICS; we pass its size.
    unsafe {
        GetTokenInformation(
            handle(token),
            TokenStatistics,
            Some((&raw mut stats).cast()),
            std::mem::size_of::<TOKEN_STATISTICS>() as u32,
            &mut len,
        )
    }
    .expect("GetTokenInformation(TokenStatistics)");
    let luid = stats.AuthenticationId;
    let mut data: *mut SECURITY_LOGON_SESSION_DATA = std::ptr::null_mut();
    // SAFETY: a live LUID and a live out-pointer; the buffer LSA returns is freed below.
    let status = unsafe { LsaGetLogonSessionData(&luid, &mut data) };
    if status.0 < 0 {
        return (luid, Err(status.0));
    }
    if data.is_null() {
        return (luid, Ok(None));
    }
    // SAFETY: LSA returned a live SECURITY_LOGON_SESSION_DATA, freed once right after.
    let answer = unsafe {
        let answer = ((*data).LogonType, (*data).Size);
        let _ = LsaFreeReturnBuffer(data.cast_const().cast());
        answer
    };
    (luid, Ok(Some(answer)))
}
