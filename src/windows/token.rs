//! [`WindowsToken`]: a real access token, read into the model's terms.

extern crate alloc;
extern crate std;

use alloc::vec::Vec;
use core::marker::PhantomData;
use core::mem::size_of;
use std::os::windows::io::{AsHandle, AsRawHandle, BorrowedHandle, FromRawHandle, OwnedHandle};

use windows::Win32::Foundation::{E_ACCESSDENIED, ERROR_INVALID_FUNCTION, ERROR_NO_TOKEN, HANDLE};
use windows::Win32::Security::{
    CheckTokenMembership, CreateRestrictedToken, DuplicateTokenEx, ImpersonateLoggedOnUser,
    RevertToSelf, SECURITY_IMPERSONATION_LEVEL, SID_AND_ATTRIBUTES, SecurityAnonymous,
    SecurityDelegation, SecurityIdentification, SecurityImpersonation, SetTokenInformation,
    TOKEN_ACCESS_MASK, TOKEN_ADJUST_DEFAULT, TOKEN_DUPLICATE, TOKEN_ELEVATION, TOKEN_IMPERSONATE,
    TOKEN_MANDATORY_LABEL, TOKEN_QUERY, TOKEN_STATISTICS, TOKEN_TYPE, TokenElevation, TokenGroups,
    TokenImpersonation, TokenImpersonationLevel, TokenIntegrityLevel, TokenPrimary,
    TokenRestrictedSids, TokenStatistics, TokenType, TokenUser,
};
use windows::Win32::System::Threading::{
    GetCurrentProcess, GetCurrentThread, OpenProcessToken, OpenThreadToken,
};
use windows::core::BOOL;

use super::info::InfoBuffer;
use logon::{logon_of_groups, logon_of_lsa, logon_session_type, read_fixed};

mod level;
mod logon;
use super::{TokenError, WindowsSid};
use crate::hresult::HResult;
use crate::sid::Sid;
use crate::token::{self, Group, Identity, IntegrityLevel, LogonType, Token, TokenInfo};

/// Whether a token is a primary (process) token or an impersonation (thread) token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenKind {
    /// `TokenPrimary`: a process token.
    Primary,
    /// `TokenImpersonation`: a thread's impersonation token.
    Impersonation,
}

/// `SECURITY_IMPERSONATION_LEVEL`: how far a server may act as the client whose
/// impersonation token this is. Below [`Impersonation`](ImpersonationLevel::Impersonation)
/// the token can be read but not used for access — what A-9 calls "less than
/// impersonate-level access".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ImpersonationLevel {
    /// `SecurityAnonymous`: the server cannot even identify the client.
    Anonymous,
    /// `SecurityIdentification`: the server can read the token, not act with it.
    Identification,
    /// `SecurityImpersonation`: the server can act as the client on this machine.
    Impersonation,
    /// `SecurityDelegation`: and on other machines.
    Delegation,
}

impl ImpersonationLevel {
    fn to_win32(self) -> SECURITY_IMPERSONATION_LEVEL {
        match self {
            ImpersonationLevel::Anonymous => SecurityAnonymous,
            ImpersonationLevel::Identification => SecurityIdentification,
            ImpersonationLevel::Impersonation => SecurityImpersonation,
            ImpersonationLevel::Delegation => SecurityDelegation,
        }
    }

    fn from_win32(level: SECURITY_IMPERSONATION_LEVEL) -> Option<ImpersonationLevel> {
        [
            ImpersonationLevel::Anonymous,
            ImpersonationLevel::Identification,
            ImpersonationLevel::Impersonation,
            ImpersonationLevel::Delegation,
        ]
        .into_iter()
        .find(|l| l.to_win32() == level)
    }
}

/// Where [`WindowsToken::logon`](Token::logon) took its answer from (L-11): the token's
/// logon session as LSA describes it, or, when LSA gives nothing, the logon-type groups
/// Windows puts in every token. See [`WindowsToken::logon_source`] for the mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogonSource {
    /// `LsaGetLogonSessionData` on the token's `TokenStatistics.AuthenticationId`
    /// answered: `logon_type` is the session's `SECURITY_LOGON_TYPE` value, as LSA gave it.
    Lsa {
        /// The `SECURITY_LOGON_TYPE` value (`Interactive` 2, `Network` 3, …).
        logon_type: u32,
    },
    /// LSA gave no logon type, and the answer comes from the token's groups.
    /// `lsa_error`: the failure (`LsaNtStatusToWinError` of its `NTSTATUS`, as an
    /// `HRESULT`); `None` when LSA succeeded without a logon type: no session data, as for
    /// LocalSystem's session `0x3e7`, which is not logged on "in the typical logon manner",
    /// or `UndefinedLogonType` (0), which Wine 8 answers for its one session `0:0`.
    Groups {
        /// Why LSA gave no logon type.
        lsa_error: Option<HResult>,
    },
}

/// A real Windows access token: an owned handle (closed on drop) and what the rules read
/// of it — the user SID and the groups with their attributes (T-4).
///
/// It implements [`Token`], so [`Identity::of`] and every decision of the model take it
/// directly. User, groups, elevation and kind are read when the token is opened (and again
/// by [`refresh`](WindowsToken::refresh)); the [`Token`] methods answer from that reading.
///
/// [`has_admin_enabled`](Token::has_admin_enabled) is the model's rule T-5 applied to the
/// groups read from Windows; it agrees with
/// [`check_membership`](WindowsToken::check_membership)`(Sid::BUILTIN_ADMINISTRATORS)`, which
/// asks `CheckTokenMembership` — the tests check this under Wine, for an administrator token
/// and for one whose Administrators group is deny-only.
#[derive(Debug)]
pub struct WindowsToken {
    handle: OwnedHandle,
    reading: Reading,
}

/// Rights we ask for: read, plus what duplicating and impersonating need.
const FULL_ACCESS: TOKEN_ACCESS_MASK =
    TOKEN_ACCESS_MASK(TOKEN_QUERY.0 | TOKEN_DUPLICATE.0 | TOKEN_IMPERSONATE.0);

/// Rights on a copy we make: those, plus `TOKEN_ADJUST_DEFAULT`, which
/// `SetTokenInformation(TokenIntegrityLevel)` needs ([`WindowsToken::with_integrity`];
/// Wine 8 does not check it, Windows does).
const COPY_ACCESS: TOKEN_ACCESS_MASK = TOKEN_ACCESS_MASK(FULL_ACCESS.0 | TOKEN_ADJUST_DEFAULT.0);

impl WindowsToken {
    /// The token whose identity a `QueryInterface` for `IBitsTokenOptions` made on this
    /// thread would remember: the thread's impersonation token, or the process token
    /// when the thread is not impersonating (`ERROR_NO_TOKEN`).
    ///
    /// COM hands BITS the thread's impersonation token only when the process enabled
    /// cloaking (`CoInitializeSecurity` with `EOAC_DYNAMIC_CLOAKING` or
    /// `EOAC_STATIC_CLOAKING`); without it BITS sees the process token whatever the thread
    /// does. The conformance runner (`examples/conformance.rs`) enables dynamic
    /// cloaking.
    pub fn caller() -> Result<WindowsToken, TokenError> {
        match WindowsToken::thread()? {
            Some(token) => Ok(token),
            None => WindowsToken::process(),
        }
    }

    /// The current thread's impersonation token, or `None` when the thread is not
    /// impersonating. The token is opened in the process's security context
    /// (`OpenAsSelf`), so an identification-level token can be read too.
    pub fn thread() -> Result<Option<WindowsToken>, TokenError> {
        let open = |access: TOKEN_ACCESS_MASK| {
            // SAFETY: no preconditions; a pseudo-handle for the calling thread.
            let thread = unsafe { GetCurrentThread() };
            let mut raw = HANDLE::default();
            // SAFETY: `thread` is valid on this thread; `raw` is a live local the call
            // writes the new handle to.
            unsafe { OpenThreadToken(thread, access, true, &mut raw) }.map(|()| raw)
        };
        let raw = match with_fallback(open) {
            Ok(raw) => raw,
            Err(e) if e.code() == ERROR_NO_TOKEN.to_hresult() => return Ok(None),
            Err(e) => return Err(TokenError::win32("OpenThreadToken", &e)),
        };
        // SAFETY: `raw` was just returned by a successful `OpenThreadToken`: a valid handle
        // that nothing else owns.
        let handle = unsafe { OwnedHandle::from_raw_handle(raw.0) };
        WindowsToken::from_handle(handle).map(Some)
    }

    /// The process's primary token.
    pub fn process() -> Result<WindowsToken, TokenError> {
        let open = |access: TOKEN_ACCESS_MASK| {
            // SAFETY: no preconditions; a pseudo-handle for this process, always valid.
            let process = unsafe { GetCurrentProcess() };
            let mut raw = HANDLE::default();
            // SAFETY: `process` is valid; `raw` is a live local the call writes the new
            // handle to.
            unsafe { OpenProcessToken(process, access, &mut raw) }.map(|()| raw)
        };
        let raw = with_fallback(open).map_err(|e| TokenError::win32("OpenProcessToken", &e))?;
        // SAFETY: `raw` was just returned by a successful `OpenProcessToken`: a valid
        // handle that nothing else owns.
        let handle = unsafe { OwnedHandle::from_raw_handle(raw.0) };
        WindowsToken::from_handle(handle)
    }

    /// Wraps a token handle you own (opened with at least `TOKEN_QUERY`) and reads it.
    /// On error the handle is closed.
    pub fn from_handle(handle: OwnedHandle) -> Result<WindowsToken, TokenError> {
        let reading = read(raw(&handle))?;
        Ok(WindowsToken { handle, reading })
    }

    /// Reads everything again: user, groups, elevation, integrity level, kind, restricting
    /// SIDs and logon session (a token's groups can be changed with `AdjustTokenGroups`).
    pub fn refresh(&mut self) -> Result<(), TokenError> {
        self.reading = read(raw(&self.handle))?;
        Ok(())
    }

    /// A plain-data copy of what was read: user SID, groups, elevation, integrity level,
    /// restricting SIDs (T-11) and the logon type when the token's session decides it
    /// (L-11; else none is stated, as [`Token::logon`] answers).
    pub fn snapshot(&self) -> TokenInfo {
        self.reading
            .info
            .clone()
            .with_elevated(self.reading.elevated)
            .with_integrity(self.reading.integrity)
    }

    /// What a `QueryInterface` for `IBitsTokenOptions` remembers of this token: the
    /// user SID, whether the administrators SID is enabled (T-5), the elevation and
    /// integrity level Windows reports (T-9, T-8) and whether it is restricted (T-11).
    pub fn identity(&self) -> Identity {
        Identity::of(self)
    }

    /// `TokenElevation`: whether Windows calls the token elevated (T-9; A-11, L-7).
    pub fn is_elevated(&self) -> bool {
        self.reading.elevated
    }

    /// `TokenIntegrityLevel`: the token's mandatory integrity level (T-8; A-11).
    pub fn integrity_level(&self) -> IntegrityLevel {
        self.reading.integrity
    }

    /// `GetTokenInformation(TokenRestrictedSids)`: the token's restricting SIDs (T-11), in
    /// the order Windows lists them; empty for a token that is not restricted. The token is
    /// restricted ([`Token::restricted`], what `IsTokenRestricted` answers) exactly when
    /// there is one. Deny-only groups ([`with_deny_only`](WindowsToken::with_deny_only),
    /// UAC filtering) are not restricting SIDs.
    ///
    /// `None` when Windows does not implement the class (`ERROR_INVALID_FUNCTION`): Wine 8,
    /// whose `IsTokenRestricted` fails the same way, and whose `CreateRestrictedToken`
    /// accepts restricting SIDs that nothing can read back. Such a token is then taken as
    /// not restricted — [`Token::restricted`] answers `false` —, and this `None` is how a
    /// caller tells that answer from a read one. Any other failure fails the reading.
    pub fn restricting_sids(&self) -> Option<&[Sid]> {
        self.reading
            .restricting_read
            .then_some(self.reading.info.restricting_sids.as_slice())
    }

    /// Where [`Token::logon`] took its answer from, with the `SECURITY_LOGON_TYPE` value
    /// when LSA gave one (L-11).
    ///
    /// The logon session is the token's `TokenStatistics.AuthenticationId`, described by
    /// `LsaGetLogonSessionData` (which answers its owner and local administrators). Its
    /// `SECURITY_LOGON_TYPE` decides [`Token::logon`] only where the type tells one of
    /// L-11's kinds apart from the others:
    ///
    /// | `SECURITY_LOGON_TYPE` | [`Token::logon`] | why |
    /// |---|---|---|
    /// | `RemoteInteractive` 10, `CachedRemoteInteractive` 12 | `Interactive` | Remote Desktop |
    /// | `Unlock` 7, `CachedUnlock` 13 | `Interactive` | the unlock of a workstation's session |
    /// | `Batch` 4 | `Batch` | |
    /// | `Service` 5 | `Service` | |
    /// | `NewCredentials` 9 | `Secondary` | `runas /netonly` (`LOGON_NETCREDENTIALS_ONLY`): a clone of the caller's token with other network credentials |
    /// | `Interactive` 2, `CachedInteractive` 11 | `None` | the Welcome screen and fast user switching, but also RunAs and other secondary logons (`CreateProcessWithLogonW`, `LogonUser` with `LOGON32_LOGON_INTERACTIVE`): LSA gives them the same type |
    /// | `Network` 3, `NetworkCleartext` 8 | `None` | SSH, SMB, … but also a Remote PowerShell session (WinRM logs its clients on over the network): LSA alone cannot tell Remote PowerShell from another network logon |
    /// | `Proxy` 6, any other value | `None` | |
    ///
    /// `None` means *unknown*, never a guess: [`Token::logon_or_default`] then takes L-11's
    /// default (`Service` for the service accounts, else `Interactive`), so a RunAs token
    /// or a network logon read here counts as interactive unless the caller states its
    /// logon type itself ([`TokenInfo::with_logon`] on the [`snapshot`](WindowsToken::snapshot)).
    ///
    /// When LSA gives no type ([`LogonSource::Groups`]: the call failed, or it answered no
    /// data — LocalSystem's session — or `UndefinedLogonType` 0, as Wine 8 does), the
    /// well-known logon-type groups
    /// Windows puts in the token decide instead, by their presence (whatever their
    /// attributes): `SERVICE` (`S-1-5-6`) alone → `Service`; `BATCH` (`S-1-5-3`) alone →
    /// `Batch`; `REMOTE_INTERACTIVE` (`S-1-5-14`), with or without `INTERACTIVE`, and no
    /// other → `Interactive`; `INTERACTIVE` (`S-1-5-4`) alone → `None` (a RunAs token has it
    /// too); `NETWORK` (`S-1-5-2`) → `None` (Remote PowerShell or not); none of them, or
    /// another mix → `None`. No group tells a `NewCredentials` logon apart: it keeps the
    /// caller's groups.
    pub fn logon_source(&self) -> LogonSource {
        self.reading.logon_source
    }

    /// Primary or impersonation token.
    pub fn kind(&self) -> TokenKind {
        self.reading.kind
    }

    /// `TokenImpersonationLevel` of an impersonation token; `None` for a primary token,
    /// which has no such level.
    pub fn impersonation_level(&self) -> Option<ImpersonationLevel> {
        self.reading.level
    }

    /// The same level in T-10's terms ([`token::ImpersonationLevel`]): for a COM server
    /// impersonating its client, the level the client allowed. `None` for a primary
    /// token, which has no such level.
    pub fn client_level(&self) -> Option<token::ImpersonationLevel> {
        self.reading.level.map(token::ImpersonationLevel::from)
    }

    /// Whether a server can act with this token: a primary token, or an impersonation token
    /// at impersonation or delegation level. An identification- or anonymous-level token is
    /// what A-9 calls less than impersonate-level access.
    pub fn allows_impersonation(&self) -> bool {
        match self.reading.kind {
            TokenKind::Primary => true,
            TokenKind::Impersonation => self
                .reading
                .level
                .is_some_and(|level| level >= ImpersonationLevel::Impersonation),
        }
    }

    /// `CheckTokenMembership`: whether `sid` is an enabled, not deny-only group of this
    /// token, as Windows answers it (the oracle for T-5). A primary token is first
    /// duplicated to an impersonation token, as the function requires.
    pub fn check_membership(&self, sid: &Sid) -> Result<bool, TokenError> {
        let duplicate;
        let token = match self.kind() {
            TokenKind::Impersonation => self,
            TokenKind::Primary => {
                duplicate = self.duplicate(TokenKind::Impersonation)?;
                &duplicate
            }
        };
        let sid = WindowsSid::from(sid);
        let mut member = BOOL(0);
        // SAFETY: the handle is a live token handle owned by `token`; `sid` is a valid
        // binary SID that outlives the call; `member` is a live local.
        unsafe { CheckTokenMembership(Some(raw(&token.handle)), sid.as_psid(), &mut member) }
            .map_err(|e| TokenError::win32("CheckTokenMembership", &e))?;
        Ok(member.as_bool())
    }

    /// `DuplicateTokenEx` at impersonation level `SecurityImpersonation`, as a primary or
    /// an impersonation token. Needs `TOKEN_DUPLICATE` on this handle.
    pub fn duplicate(&self, kind: TokenKind) -> Result<WindowsToken, TokenError> {
        let kind = match kind {
            TokenKind::Primary => TokenPrimary,
            TokenKind::Impersonation => TokenImpersonation,
        };
        self.duplicate_as(kind, SecurityImpersonation)
    }

    /// `DuplicateTokenEx` as an impersonation token at `level`: with
    /// [`ImpersonationLevel::Identification`], a token a thread can impersonate but a
    /// server cannot act with. Needs `TOKEN_DUPLICATE` on this handle; a level above
    /// this token's own is refused by Windows.
    pub fn duplicate_at(&self, level: ImpersonationLevel) -> Result<WindowsToken, TokenError> {
        self.duplicate_as(TokenImpersonation, level.to_win32())
    }

    fn duplicate_as(
        &self,
        kind: TOKEN_TYPE,
        level: SECURITY_IMPERSONATION_LEVEL,
    ) -> Result<WindowsToken, TokenError> {
        let mut raw_new = HANDLE::default();
        // SAFETY: the source is a live token handle owned by `self`; no security
        // attributes; `raw_new` is a live local the call writes the new handle to.
        unsafe {
            DuplicateTokenEx(
                raw(&self.handle),
                COPY_ACCESS,
                None,
                level,
                kind,
                &mut raw_new,
            )
        }
        .map_err(|e| TokenError::win32("DuplicateTokenEx", &e))?;
        // SAFETY: `raw_new` was just returned by a successful `DuplicateTokenEx`: a valid
        // handle that nothing else owns.
        WindowsToken::from_handle(unsafe { OwnedHandle::from_raw_handle(raw_new.0) })
    }

    /// `CreateRestrictedToken` with `sids` as SIDs to disable: those groups become
    /// deny-only (`SE_GROUP_USE_FOR_DENY_ONLY`, T-4). With
    /// [`Sid::BUILTIN_ADMINISTRATORS`] this makes a token that is *not* an administrator
    /// for these rules (T-5), like a UAC-filtered one. It is not restricted (T-11): it has
    /// no restricting SIDs. Needs `TOKEN_DUPLICATE`.
    pub fn with_deny_only(&self, sids: &[Sid]) -> Result<WindowsToken, TokenError> {
        self.restrict(sids, &[])
    }

    /// `CreateRestrictedToken` with `sids` as restricting SIDs (`SidsToRestrict`): a
    /// restricted token (T-11), which A-14 lets read jobs but not change them. Access
    /// checks then pass only where both the token's groups and its restricting SIDs are
    /// granted access. Needs `TOKEN_DUPLICATE`. The copy's
    /// [`restricting_sids`](WindowsToken::restricting_sids) are read back from it, never
    /// assumed to be `sids`.
    pub fn with_restricting_sids(&self, sids: &[Sid]) -> Result<WindowsToken, TokenError> {
        self.restrict(&[], sids)
    }

    fn restrict(&self, disable: &[Sid], restrict: &[Sid]) -> Result<WindowsToken, TokenError> {
        let disable: Vec<WindowsSid> = disable.iter().map(WindowsSid::from).collect();
        let restrict: Vec<WindowsSid> = restrict.iter().map(WindowsSid::from).collect();
        let entries = |sids: &[WindowsSid]| -> Vec<SID_AND_ATTRIBUTES> {
            sids.iter()
                .map(|sid| SID_AND_ATTRIBUTES {
                    Sid: sid.as_psid(),
                    Attributes: 0,
                })
                .collect()
        };
        let (disable, restrict) = (entries(&disable), entries(&restrict));
        let mut raw_new = HANDLE::default();
        // SAFETY: the source is a live token handle owned by `self`; `disable`, `restrict`
        // and the SIDs they point to (the `WindowsSid` vectors above) are live for the whole
        // call and only read; no privileges; `raw_new` is a live local.
        unsafe {
            CreateRestrictedToken(
                raw(&self.handle),
                Default::default(),
                (!disable.is_empty()).then_some(disable.as_slice()),
                None,
                (!restrict.is_empty()).then_some(restrict.as_slice()),
                &mut raw_new,
            )
        }
        .map_err(|e| TokenError::win32("CreateRestrictedToken", &e))?;
        // SAFETY: `raw_new` was just returned by a successful `CreateRestrictedToken`: a
        // valid handle that nothing else owns.
        WindowsToken::from_handle(unsafe { OwnedHandle::from_raw_handle(raw_new.0) })
    }

    /// A primary copy of this token at integrity level `level`: `DuplicateTokenEx`, then
    /// `SetTokenInformation(TokenIntegrityLevel)`, then read back (T-8). Windows lets a
    /// token go down, not up, without a privilege. The level is read back, never assumed:
    /// Wine 8 accepts the call and keeps the old level, and the copy says so.
    pub fn with_integrity(&self, level: IntegrityLevel) -> Result<WindowsToken, TokenError> {
        /// `SE_GROUP_INTEGRITY` (winnt.h): the label is the token's integrity level.
        const SE_GROUP_INTEGRITY: u32 = 0x20;
        let mut copy = self.duplicate(TokenKind::Primary)?;
        let label_sid =
            WindowsSid::from(
                Sid::new(16, &[level.rid()]).map_err(|_| TokenError::Malformed {
                    what: "TokenIntegrityLevel",
                    detail: "no label SID for this level",
                })?,
            );
        let label = TOKEN_MANDATORY_LABEL {
            Label: SID_AND_ATTRIBUTES {
                Sid: label_sid.as_psid(),
                Attributes: SE_GROUP_INTEGRITY,
            },
        };
        let size = u32::try_from(size_of::<TOKEN_MANDATORY_LABEL>()).unwrap_or(u32::MAX);
        // SAFETY: `copy` owns a live token handle opened with `COPY_ACCESS` by
        // DuplicateTokenEx; `label` and the SID it points to (`label_sid`) outlive the
        // call, and the length is the structure's own size.
        unsafe {
            SetTokenInformation(
                raw(&copy.handle),
                TokenIntegrityLevel,
                (&raw const label).cast(),
                size,
            )
        }
        .map_err(|e| TokenError::win32("SetTokenInformation", &e))?;
        copy.refresh()?;
        Ok(copy)
    }

    /// Makes the current thread impersonate this token (`ImpersonateLoggedOnUser`) until
    /// the returned guard is dropped, which calls `RevertToSelf`. While it lives,
    /// [`WindowsToken::caller`] on this thread answers this token's identity — the one a
    /// `QueryInterface` made now would remember, and the token `SetHelperToken` would
    /// take (L-2).
    ///
    /// `RevertToSelf` ends *all* impersonation on the thread: do not nest guards.
    pub fn impersonate(&self) -> Result<ImpersonationGuard<'_>, TokenError> {
        // SAFETY: the handle is a live token handle owned by `self`.
        unsafe { ImpersonateLoggedOnUser(raw(&self.handle)) }
            .map_err(|e| TokenError::win32("ImpersonateLoggedOnUser", &e))?;
        Ok(ImpersonationGuard {
            _token: PhantomData,
            _thread_bound: PhantomData,
        })
    }

    /// Gives up the handle without closing it.
    pub fn into_handle(self) -> OwnedHandle {
        self.handle
    }
}

impl Token for WindowsToken {
    fn user(&self) -> Sid {
        self.reading.info.user
    }

    fn groups(&self) -> &[Group] {
        &self.reading.info.groups
    }

    /// Read from `TokenIntegrityLevel` (T-8), never inferred.
    fn integrity(&self) -> Option<IntegrityLevel> {
        Some(self.reading.integrity)
    }

    /// Read from `TokenElevation` (T-9), never inferred.
    fn elevated(&self) -> Option<bool> {
        Some(self.reading.elevated)
    }

    /// Read from `TokenRestrictedSids` (T-11): whether the token has a restricting SID
    /// ([`WindowsToken::restricting_sids`]), which is what `IsTokenRestricted` answers;
    /// `false` where Windows does not implement that class (Wine 8), which
    /// [`WindowsToken::restricting_sids`] tells by answering `None`.
    fn restricted(&self) -> bool {
        !self.reading.info.restricting_sids.is_empty()
    }

    /// Read from the token's logon session, else its logon-type groups (L-11); `None`
    /// where those facts do not decide. The mapping: [`WindowsToken::logon_source`].
    fn logon(&self) -> Option<LogonType> {
        self.reading.info.logon
    }
}

impl AsHandle for WindowsToken {
    fn as_handle(&self) -> BorrowedHandle<'_> {
        self.handle.as_handle()
    }
}

impl From<WindowsToken> for OwnedHandle {
    fn from(token: WindowsToken) -> OwnedHandle {
        token.handle
    }
}

impl From<&WindowsToken> for TokenInfo {
    fn from(token: &WindowsToken) -> TokenInfo {
        token.snapshot()
    }
}

/// The current thread impersonates a [`WindowsToken`] while this lives; dropping it calls
/// `RevertToSelf`. Bound to the thread that created it (neither `Send` nor `Sync`).
#[derive(Debug)]
#[must_use = "impersonation ends when the guard is dropped"]
pub struct ImpersonationGuard<'a> {
    _token: PhantomData<&'a WindowsToken>,
    _thread_bound: PhantomData<*const ()>,
}

impl ImpersonationGuard<'_> {
    /// Ends the impersonation now, reporting a failure of `RevertToSelf` (dropping the
    /// guard ignores it).
    pub fn revert(self) -> Result<(), TokenError> {
        let result = revert_to_self();
        core::mem::forget(self);
        result
    }
}

impl Drop for ImpersonationGuard<'_> {
    fn drop(&mut self) {
        // Nothing sensible to do with a failure here; `revert` reports it.
        let _ = revert_to_self();
    }
}

fn revert_to_self() -> Result<(), TokenError> {
    // SAFETY: no preconditions; ends impersonation on the current thread.
    unsafe { RevertToSelf() }.map_err(|e| TokenError::win32("RevertToSelf", &e))
}

/// The windows-rs handle of an owned handle (borrowed for the call only).
fn raw(handle: &OwnedHandle) -> HANDLE {
    HANDLE(handle.as_raw_handle())
}

/// Opens with the full rights we like, or with `TOKEN_QUERY` alone when those are refused.
fn with_fallback(
    open: impl Fn(TOKEN_ACCESS_MASK) -> windows::core::Result<HANDLE>,
) -> windows::core::Result<HANDLE> {
    match open(FULL_ACCESS) {
        Err(e) if e.code() == E_ACCESSDENIED => open(TOKEN_QUERY),
        other => other,
    }
}

/// What [`read`] gives: user, groups, restricting SIDs and logon type (in a
/// [`TokenInfo`]), elevation, integrity level, kind, the impersonation level of an
/// impersonation token, and where the logon type came from.
#[derive(Debug)]
struct Reading {
    info: TokenInfo,
    elevated: bool,
    integrity: IntegrityLevel,
    kind: TokenKind,
    level: Option<ImpersonationLevel>,
    /// Whether `TokenRestrictedSids` answered (`info.restricting_sids` is read, not empty
    /// for want of an answer).
    restricting_read: bool,
    logon_source: LogonSource,
}

/// Reads what the rules need of a token.
fn read(token: HANDLE) -> Result<Reading, TokenError> {
    let user = InfoBuffer::query(token, TokenUser, "TokenUser")?.token_user()?;
    let groups = InfoBuffer::query(token, TokenGroups, "TokenGroups")?.token_groups()?;
    let elevation: TOKEN_ELEVATION = read_fixed(token, TokenElevation, "TokenElevation")?;
    // TOKEN_MANDATORY_LABEL is one SID_AND_ATTRIBUTES, laid out as TOKEN_USER is.
    let label =
        InfoBuffer::query(token, TokenIntegrityLevel, "TokenIntegrityLevel")?.token_user()?;
    if label.authority() != 16 || label.sub_authorities().len() != 1 {
        return Err(TokenError::Malformed {
            what: "TokenIntegrityLevel",
            detail: "the label is not S-1-16-<rid>",
        });
    }
    let integrity = IntegrityLevel::from_rid(label.rid());
    let kind: TOKEN_TYPE = read_fixed(token, TokenType, "TokenType")?;
    let kind = if kind == TokenPrimary {
        TokenKind::Primary
    } else if kind == TokenImpersonation {
        TokenKind::Impersonation
    } else {
        return Err(TokenError::Malformed {
            what: "TokenType",
            detail: "neither TokenPrimary nor TokenImpersonation",
        });
    };
    let level = match kind {
        TokenKind::Primary => None,
        TokenKind::Impersonation => {
            let level: SECURITY_IMPERSONATION_LEVEL =
                read_fixed(token, TokenImpersonationLevel, "TokenImpersonationLevel")?;
            Some(
                ImpersonationLevel::from_win32(level).ok_or(TokenError::Malformed {
                    what: "TokenImpersonationLevel",
                    detail: "not one of the four SECURITY_IMPERSONATION_LEVEL values",
                })?,
            )
        }
    };
    // TOKEN_GROUPS, like TokenGroups; the attributes of a restricting SID say nothing more.
    // Not implemented (Wine 8): unknown, recorded as such (`restricting_sids`).
    let not_implemented = HResult::from(ERROR_INVALID_FUNCTION.to_hresult());
    let restricting: Option<Vec<Sid>> =
        match InfoBuffer::query(token, TokenRestrictedSids, "TokenRestrictedSids") {
            Ok(buffer) => Some(buffer.token_groups()?.into_iter().map(|g| g.sid).collect()),
            Err(e) if e.code() == Some(not_implemented) => None,
            Err(e) => return Err(e),
        };
    let statistics: TOKEN_STATISTICS = read_fixed(token, TokenStatistics, "TokenStatistics")?;
    let (logon_source, logon) = match logon_session_type(&statistics.AuthenticationId) {
        Ok(Some(logon_type)) => (LogonSource::Lsa { logon_type }, logon_of_lsa(logon_type)),
        Ok(None) => (
            LogonSource::Groups { lsa_error: None },
            logon_of_groups(&groups),
        ),
        Err(e) => (
            LogonSource::Groups { lsa_error: Some(e) },
            logon_of_groups(&groups),
        ),
    };
    let restricting_read = restricting.is_some();
    let mut info =
        TokenInfo::new(user, groups).with_restricting_sids(restricting.unwrap_or_default());
    info.logon = logon;
    Ok(Reading {
        info,
        elevated: elevation.TokenIsElevated != 0,
        integrity,
        kind,
        level,
        restricting_read,
        logon_source,
    })
}

#[cfg(test)]
mod tests;
