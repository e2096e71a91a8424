//! Conversions between the crate's types and windows-rs's, and the compile-time check
//! that both agree on the numbers (T-1, T-4, T-6).
//!
//! This is the one file that names `windows` types in public signatures: when windows-rs
//! renames its modules, this is what changes.

use core::fmt;

use windows::Win32::Networking::BackgroundIntelligentTransferService::{self as bits, BG_TOKEN};
use windows::Win32::Security::{GetLengthSid, IsValidSid, PSID};
use windows::core::HRESULT;

use super::TokenError;

/// What [`WindowsSid::read`] reports for a SID `IsValidSid` refuses:
/// `HRESULT_FROM_WIN32(ERROR_INVALID_SID)`.
const INVALID_SID: HResult = HResult::from_win32(1337);
use crate::hresult::HResult;
use crate::sid::{MAX_BINARY_LEN, Sid};
use crate::token::GroupAttributes;
use crate::usage::TokenUsage;

// ---- HRESULT (T-6) ---------------------------------------------------------------------

/// The same 32 bits.
impl From<HRESULT> for HResult {
    fn from(hr: HRESULT) -> HResult {
        HResult::new(hr.0)
    }
}

/// The same 32 bits.
impl From<HResult> for HRESULT {
    fn from(hr: HResult) -> HRESULT {
        HRESULT(hr.as_i32())
    }
}

/// The error's `HRESULT` (`windows::core::Error::code`).
impl From<&windows::core::Error> for HResult {
    fn from(error: &windows::core::Error) -> HResult {
        HResult::from(error.code())
    }
}

/// The error's `HRESULT` (`windows::core::Error::code`).
impl From<windows::core::Error> for HResult {
    fn from(error: windows::core::Error) -> HResult {
        HResult::from(error.code())
    }
}

// ---- usage flags (T-1) -----------------------------------------------------------------

/// All bits, unknown ones included: the caller decides what to send.
impl From<TokenUsage> for BG_TOKEN {
    fn from(usage: TokenUsage) -> BG_TOKEN {
        BG_TOKEN(usage.bits())
    }
}

/// All bits, unknown ones kept (`from_bits_retain`): unknown bits must reach the decision,
/// never be dropped on the way in (T-1, Q-1).
impl From<BG_TOKEN> for TokenUsage {
    fn from(flags: BG_TOKEN) -> TokenUsage {
        TokenUsage::from_bits_retain(flags.0)
    }
}

// ---- SIDs (T-2) ------------------------------------------------------------------------

/// A SID in Windows binary form, owned, suitably aligned, ready to hand to Win32 as a
/// `PSID` (T-2). No heap: 68 bytes on the stack.
///
/// ```
/// use bits_helper_token::Sid;
/// use bits_helper_token::windows::WindowsSid;
///
/// let admins = WindowsSid::from(Sid::BUILTIN_ADMINISTRATORS);
/// assert_eq!(admins.as_bytes(), &*Sid::BUILTIN_ADMINISTRATORS.to_bytes());
/// assert_eq!(Sid::from(&admins), Sid::BUILTIN_ADMINISTRATORS);
/// // `admins.as_psid()` can now be passed to e.g. `CheckTokenMembership`.
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C, align(8))]
pub struct WindowsSid {
    /// Binary form in the first `8 + 4 * count` bytes, zeros after.
    bytes: [u8; MAX_BINARY_LEN],
    /// The SID it was made from.
    sid: Sid,
}

impl WindowsSid {
    /// The binary form of `sid`.
    pub fn new(sid: Sid) -> WindowsSid {
        let binary = sid.to_bytes();
        let mut bytes = [0u8; MAX_BINARY_LEN];
        bytes[..binary.len()].copy_from_slice(&binary);
        WindowsSid { bytes, sid }
    }

    /// The binary form: `8 + 4 * count` bytes (T-2).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.sid.binary_len()]
    }

    /// The SID it holds.
    pub const fn sid(&self) -> Sid {
        self.sid
    }

    /// A `PSID` for Win32 calls that *read* a SID (`CheckTokenMembership`,
    /// `ConvertSidToStringSidW`, `EqualSid`, `CreateRestrictedToken`, …). It is valid while
    /// `self` is borrowed and must not be written through.
    pub fn as_psid(&self) -> PSID {
        PSID(self.bytes.as_ptr().cast_mut().cast())
    }

    /// Copies any Windows SID into a [`Sid`], checking it with `IsValidSid` and its length
    /// with `GetLengthSid`, then through [`Sid::from_bytes`] (T-2).
    ///
    /// # Errors
    ///
    /// A null pointer: `IsValidSid` with `E_POINTER`. A SID `IsValidSid` refuses:
    /// `IsValidSid` with `0x80070539` (`HRESULT_FROM_WIN32(ERROR_INVALID_SID)`), always —
    /// `IsValidSid` sets no last error, so none is read.
    ///
    /// # Safety
    ///
    /// `psid` must be null or point to memory readable for as long as this call runs,
    /// holding at least the 8-byte SID header and, if that header is valid, the
    /// sub-authorities it announces (true of every SID Windows hands out).
    pub unsafe fn read(psid: PSID) -> Result<Sid, TokenError> {
        if psid.0.is_null() {
            return Err(TokenError::Win32 {
                call: "IsValidSid",
                code: HResult::E_POINTER,
            });
        }
        // SAFETY: `psid` is non-null and readable per this function's contract.
        if !unsafe { IsValidSid(psid) }.as_bool() {
            // `IsValidSid` sets no last error (Microsoft: "there is no extended error
            // information"; whatever an earlier call left would be reported), so the error
            // is always the same: HRESULT_FROM_WIN32(ERROR_INVALID_SID), 0x80070539.
            return Err(TokenError::Win32 {
                call: "IsValidSid",
                code: INVALID_SID,
            });
        }
        // SAFETY: `psid` is a valid SID (checked above), readable per the contract.
        let len = unsafe { GetLengthSid(psid) };
        let len = usize::try_from(len)
            .unwrap_or(usize::MAX)
            .min(MAX_BINARY_LEN);
        // SAFETY: a valid SID is exactly `GetLengthSid` bytes long, at most 68 (15
        // sub-authorities, clamped above), readable per the contract; `u8` needs no
        // alignment; the slice is dropped before we return.
        let bytes = unsafe { core::slice::from_raw_parts(psid.0.cast::<u8>(), len) };
        Sid::from_bytes(bytes).map_err(|source| TokenError::BadSid {
            what: "PSID",
            index: None,
            source,
        })
    }
}

impl From<Sid> for WindowsSid {
    fn from(sid: Sid) -> WindowsSid {
        WindowsSid::new(sid)
    }
}

impl From<&Sid> for WindowsSid {
    fn from(sid: &Sid) -> WindowsSid {
        WindowsSid::new(*sid)
    }
}

impl From<WindowsSid> for Sid {
    fn from(sid: WindowsSid) -> Sid {
        sid.sid
    }
}

impl From<&WindowsSid> for Sid {
    fn from(sid: &WindowsSid) -> Sid {
        sid.sid
    }
}

impl fmt::Debug for WindowsSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WindowsSid").field(&self.sid).finish()
    }
}

impl fmt::Display for WindowsSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.sid, f)
    }
}

// ---- the numbers agree (compile time) ---------------------------------------------------

/// Our named HRESULTs (T-6), group attributes (T-4) and usage flags (T-1) are
/// windows-rs's. A mismatch stops the build.
const _: () = {
    use windows::Win32::Foundation as f;
    use windows::Win32::Networking::WinHttp as http;
    use windows::Win32::System::SystemServices as ss;

    // T-6
    assert!(HResult::S_OK.as_i32() == f::S_OK.0);
    assert!(HResult::E_NOTIMPL.as_i32() == f::E_NOTIMPL.0);
    assert!(HResult::E_NOINTERFACE.as_i32() == f::E_NOINTERFACE.0);
    assert!(HResult::E_POINTER.as_i32() == f::E_POINTER.0);
    assert!(HResult::E_FAIL.as_i32() == f::E_FAIL.0);
    assert!(HResult::E_ACCESSDENIED.as_i32() == f::E_ACCESSDENIED.0);
    assert!(HResult::E_INVALIDARG.as_i32() == f::E_INVALIDARG.0);
    assert!(HResult::CO_E_FAILEDTOIMPERSONATE.as_i32() == f::CO_E_FAILEDTOIMPERSONATE.0);
    assert!(HResult::BG_E_INVALID_STATE.as_i32() == bits::BG_E_INVALID_STATE);
    assert!(HResult::BG_E_TOKEN_REQUIRED.as_i32() == bits::BG_E_TOKEN_REQUIRED);
    assert!(
        HResult::ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY.as_i32()
            == f::WIN32_ERROR(http::ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY)
                .to_hresult()
                .0
    );
    assert!(
        HResult::ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED.as_i32()
            == f::WIN32_ERROR(http::ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED)
                .to_hresult()
                .0
    );
    // HRESULT_FROM_WIN32 (T-6) as windows-rs computes it.
    assert!(
        HResult::from_win32(f::ERROR_ACCESS_DENIED.0).as_i32()
            == f::ERROR_ACCESS_DENIED.to_hresult().0
    );

    // T-4
    assert!(GroupAttributes::MANDATORY.bits() == ss::SE_GROUP_MANDATORY as u32);
    assert!(GroupAttributes::ENABLED_BY_DEFAULT.bits() == ss::SE_GROUP_ENABLED_BY_DEFAULT as u32);
    assert!(GroupAttributes::ENABLED.bits() == ss::SE_GROUP_ENABLED as u32);
    assert!(GroupAttributes::OWNER.bits() == ss::SE_GROUP_OWNER as u32);
    assert!(GroupAttributes::USE_FOR_DENY_ONLY.bits() == ss::SE_GROUP_USE_FOR_DENY_ONLY as u32);
    assert!(GroupAttributes::INTEGRITY.bits() == ss::SE_GROUP_INTEGRITY as u32);
    assert!(GroupAttributes::INTEGRITY_ENABLED.bits() == ss::SE_GROUP_INTEGRITY_ENABLED as u32);
    assert!(GroupAttributes::RESOURCE.bits() == ss::SE_GROUP_RESOURCE as u32);
    assert!(GroupAttributes::LOGON_ID.bits() == ss::SE_GROUP_LOGON_ID as u32);

    // T-1
    assert!(TokenUsage::LOCAL_FILE.bits() == bits::BG_TOKEN_LOCAL_FILE.0);
    assert!(TokenUsage::NETWORK.bits() == bits::BG_TOKEN_NETWORK.0);

    // T-2: the largest binary SID is windows-rs's SECURITY_MAX_SID_SIZE.
    assert!(MAX_BINARY_LEN == windows::Win32::Security::SECURITY_MAX_SID_SIZE as usize);
};
