//! The logon type of a token's session (LSA, or the logon-type groups) and fixed-size
//! token information, read for [`WindowsToken`](super::WindowsToken).

use core::mem::size_of;

use windows::Win32::Foundation::{HANDLE, LUID};
use windows::Win32::Security::Authentication::Identity::{
    LsaFreeReturnBuffer, LsaGetLogonSessionData, LsaNtStatusToWinError, SECURITY_LOGON_SESSION_DATA,
};
use windows::Win32::Security::{
    GetTokenInformation, SECURITY_IMPERSONATION_LEVEL, TOKEN_ELEVATION, TOKEN_INFORMATION_CLASS,
    TOKEN_STATISTICS, TOKEN_TYPE,
};

use super::super::TokenError;
use crate::hresult::HResult;
use crate::sid::Sid;
use crate::token::{Group, LogonType};

/// `SECURITY_LOGON_TYPE`'s `UndefinedLogonType`.
pub(super) const UNDEFINED_LOGON_TYPE: u32 = 0;

/// `LsaGetLogonSessionData`: the `SECURITY_LOGON_TYPE` of a logon session, `None` when LSA
/// succeeds without one (no data, as for LocalSystem's session, or `UndefinedLogonType`),
/// or LSA's error as an `HRESULT`.
pub(super) fn logon_session_type(session: &LUID) -> Result<Option<u32>, HResult> {
    let mut data: *mut SECURITY_LOGON_SESSION_DATA = core::ptr::null_mut();
    // SAFETY: `session` is a live LUID, only read; `data` is a live local the call writes
    // a pointer to a buffer LSA allocates (freed below).
    let status = unsafe { LsaGetLogonSessionData(session, &mut data) };
    if status.0 < 0 {
        // SAFETY: no preconditions; converts a status code.
        let error = unsafe { LsaNtStatusToWinError(status) };
        return Err(HResult::from_win32(error));
    }
    if data.is_null() {
        return Ok(None);
    }
    // SAFETY: `data` is not null and points to the SECURITY_LOGON_SESSION_DATA LSA
    // allocated for us, valid until freed below. `Size` and `LogonType` are fields of the
    // structure's first version (Windows XP), so every LSA writes them.
    let (size, logon_type) = unsafe { ((*data).Size, (*data).LogonType) };
    // SAFETY: `data` was allocated by LSA for this call and is freed once, here; nothing
    // reads it afterwards. A failure to free leaks the buffer, nothing worse.
    let _ = unsafe { LsaFreeReturnBuffer(data.cast_const().cast()) };
    let needed = core::mem::offset_of!(SECURITY_LOGON_SESSION_DATA, LogonType) + 4;
    if (size as usize) < needed || logon_type == UNDEFINED_LOGON_TYPE {
        // The answer does not reach its LogonType, or names none: LSA gave no logon type.
        return Ok(None);
    }
    Ok(Some(logon_type))
}

/// L-11's logon type of a `SECURITY_LOGON_TYPE`, where the type decides it (the table at
/// [`WindowsToken::logon_source`]).
pub(super) const fn logon_of_lsa(logon_type: u32) -> Option<LogonType> {
    match logon_type {
        // RemoteInteractive, CachedRemoteInteractive, Unlock, CachedUnlock.
        10 | 12 | 7 | 13 => Some(LogonType::Interactive),
        4 => Some(LogonType::Batch),
        5 => Some(LogonType::Service),
        // NewCredentials: runas /netonly.
        9 => Some(LogonType::Secondary),
        // Interactive and CachedInteractive: a Welcome-screen logon or a RunAs;
        // Network and NetworkCleartext: Remote PowerShell or another network logon;
        // UndefinedLogonType, Proxy, unknown values.
        _ => None,
    }
}

/// `NETWORK`, `BATCH` and `REMOTE_INTERACTIVE` (winnt.h's `SECURITY_*_RID` under
/// `S-1-5`); `INTERACTIVE` and `SERVICE` are [`Sid`] constants.
pub(super) const NETWORK: Sid = nt_authority(2);
pub(super) const BATCH: Sid = nt_authority(3);
pub(super) const REMOTE_INTERACTIVE: Sid = nt_authority(14);

pub(super) const fn nt_authority(rid: u32) -> Sid {
    match Sid::new(5, &[rid]) {
        Ok(sid) => sid,
        Err(_) => Sid::EVERYONE, // unreachable: one sub-authority, authority 5
    }
}

/// L-11's logon type from the well-known logon-type groups a token holds, where they
/// decide it (the rules at [`WindowsToken::logon_source`]).
pub(super) fn logon_of_groups(groups: &[Group]) -> Option<LogonType> {
    let has = |sid: Sid| groups.iter().any(|g| g.sid == sid);
    let interactive = has(Sid::INTERACTIVE);
    let remote = has(REMOTE_INTERACTIVE);
    let network = has(NETWORK);
    let batch = has(BATCH);
    let service = has(Sid::SERVICE);
    match (remote, interactive, network, batch, service) {
        (true, _, false, false, false) => Some(LogonType::Interactive),
        (false, false, false, true, false) => Some(LogonType::Batch),
        (false, false, false, false, true) => Some(LogonType::Service),
        _ => None,
    }
}

/// Marker for the fixed-size answers we read: plain integers, valid for any bit pattern.
pub(super) trait Fixed: Default {}
impl Fixed for TOKEN_ELEVATION {}
impl Fixed for TOKEN_TYPE {}
impl Fixed for SECURITY_IMPERSONATION_LEVEL {}
impl Fixed for TOKEN_STATISTICS {}

/// Queries a fixed-size information class into a `T`.
pub(super) fn read_fixed<T: Fixed>(
    token: HANDLE,
    class: TOKEN_INFORMATION_CLASS,
    what: &'static str,
) -> Result<T, TokenError> {
    let mut value = T::default();
    let size = u32::try_from(size_of::<T>()).unwrap_or(u32::MAX);
    let mut returned = 0u32;
    // SAFETY: `value` is a live, properly aligned `T` of `size` bytes, the length we pass,
    // so the call cannot write outside it; `T: Fixed` is made of integers, so any bytes
    // Windows writes form a valid `T`; `returned` is a live local.
    unsafe {
        GetTokenInformation(
            token,
            class,
            Some((&raw mut value).cast()),
            size,
            &mut returned,
        )
    }
    .map_err(|e| TokenError::win32("GetTokenInformation", &e))?;
    if returned as usize != size_of::<T>() {
        return Err(TokenError::Malformed {
            what,
            detail: "unexpected size",
        });
    }
    Ok(value)
}
