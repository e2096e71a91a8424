//! Real tokens read through the binding, checked against Win32 itself.
//! Runs on Windows and, cross-compiled, under Wine (`scripts/test-windows`).
#![cfg(all(windows, feature = "windows"))]

mod windows_oracle;

use std::os::windows::io::{AsHandle, FromRawHandle, OwnedHandle};

use bits_helper_token::windows::{TokenError, TokenKind, WindowsToken};
use bits_helper_token::{
    Identity, Sid, Token, token::GroupAttributes, token::IntegrityLevel, token::TokenInfo,
};
use windows::Win32::Foundation::HANDLE;
use windows::Win32::Security::{TOKEN_DUPLICATE, TOKEN_QUERY};
use windows::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

use windows_oracle::{is_admin_member, token_groups, token_user, under_wine};

fn process() -> WindowsToken {
    WindowsToken::process().expect("open the process token")
}

/// A copy of the process token with Administrators deny-only: not an administrator (T-5).
fn restricted() -> WindowsToken {
    process()
        .with_deny_only(&[Sid::BUILTIN_ADMINISTRATORS])
        .expect("CreateRestrictedToken")
}

/// The user SID read through the binding is the one `ConvertSidToStringSidW` prints, and
/// its binary form is byte for byte Windows's (T-2).
#[test]
fn process_token_user_matches_win32() {
    let token = process();
    let raw = token_user(token.as_handle());
    assert_eq!(token.user().to_string(), raw.string);
    assert_eq!(&*token.user().to_bytes(), raw.bytes.as_slice());
    assert_eq!(token.kind(), TokenKind::Primary);
    if under_wine() {
        // Wine's default user (fact recorded in issue 6).
        assert_eq!(raw.string, "S-1-5-21-0-0-0-1000");
    }
    println!(
        "process token user {} (elevated: {})",
        token.user(),
        token.is_elevated()
    );
}

/// Every group SID and attribute set (T-4) read through the binding agrees with Win32, in
/// order: string form, binary form, attributes.
#[test]
fn process_token_groups_match_win32() {
    let token = process();
    let raw = token_groups(token.as_handle());
    assert!(!raw.is_empty());
    assert_eq!(token.groups().len(), raw.len());
    for (ours, (theirs, attributes)) in token.groups().iter().zip(&raw) {
        assert_eq!(ours.sid.to_string(), theirs.string);
        assert_eq!(
            &*ours.sid.to_bytes(),
            theirs.bytes.as_slice(),
            "{}",
            theirs.string
        );
        assert_eq!(ours.attributes.bits(), *attributes, "{}", theirs.string);
        // And the string form parses back strictly to the same SID (T-2).
        assert_eq!(theirs.string.parse::<Sid>(), Ok(ours.sid));
    }
}

/// The unrestricted process token (under Wine: Administrators `0xf`) is an administrator;
/// with Administrators disabled (`CreateRestrictedToken`, deny-only `0x19`) it is not
/// (T-5). Both answers agree with `CheckTokenMembership`.
#[test]
fn restricted_token_is_not_an_administrator() {
    let full = process();
    let limited = restricted();

    let admins = |t: &WindowsToken| {
        t.groups()
            .iter()
            .find(|g| g.sid == Sid::BUILTIN_ADMINISTRATORS)
            .map(|g| g.attributes)
    };
    let limited_attrs = admins(&limited).expect("Administrators is still listed, deny-only");
    assert!(limited_attrs.contains(GroupAttributes::USE_FOR_DENY_ONLY));
    assert!(
        !limited.has_admin_enabled(),
        "T-5: deny-only Administrators does not count"
    );
    assert!(!Identity::of(&limited).admin);
    assert_eq!(limited.user(), full.user(), "restricting keeps the user");

    if under_wine() {
        assert_eq!(admins(&full).map(|a| a.bits()), Some(0xf));
        assert_eq!(limited_attrs.bits(), 0x19);
        assert!(
            full.has_admin_enabled(),
            "T-5: enabled Administrators counts"
        );
    }

    // The oracle: CheckTokenMembership on impersonation copies, asked directly.
    for token in [&full, &limited] {
        let copy = token
            .duplicate(TokenKind::Impersonation)
            .expect("DuplicateTokenEx");
        assert_eq!(copy.kind(), TokenKind::Impersonation);
        let windows_says = is_admin_member(copy.as_handle());
        assert_eq!(
            token.has_admin_enabled(),
            windows_says,
            "T-5 vs CheckTokenMembership"
        );
        // The binding's own wrapper agrees too (it duplicates primary tokens itself).
        assert_eq!(
            token.check_membership(&Sid::BUILTIN_ADMINISTRATORS),
            Ok(windows_says)
        );
        assert_eq!(
            copy.check_membership(&Sid::BUILTIN_ADMINISTRATORS),
            Ok(windows_says)
        );
    }
}

/// T-8, T-9: the binding reads elevation and integrity level from the token itself
/// (`TokenElevation`, `TokenIntegrityLevel`), never from the model's inference, and the
/// identity a QueryInterface remembers carries them. The Administrators-disabled copy is no
/// administrator (T-5) and sits at no higher a level than the process token.
#[test]
fn elevation_and_integrity_are_read_from_the_token() {
    let full = process();
    let limited = restricted();
    for token in [&full, &limited] {
        let id = token.identity();
        assert_eq!(id.elevated, token.is_elevated());
        assert_eq!(id.integrity, token.integrity_level());
        assert_eq!(Token::integrity(token), Some(token.integrity_level()));
        assert_eq!(Token::elevated(token), Some(token.is_elevated()));
        // The plain-data snapshot keeps them: a copy judges as the token does.
        assert_eq!(Identity::of(&token.snapshot()), id);
    }
    assert!(limited.integrity_level() <= full.integrity_level());
    assert!(full.identity().admin && !limited.identity().admin || !under_wine());
    println!(
        "process token: elevated {}, integrity {}; Administrators deny-only copy: elevated {}, integrity {}",
        full.is_elevated(),
        full.integrity_level(),
        limited.is_elevated(),
        limited.integrity_level()
    );
    if under_wine() {
        // Wine's default user is a full administrator at High integrity.
        assert_eq!(full.integrity_level(), IntegrityLevel::High);
    }
}

/// the caller is the thread's impersonation token while the thread impersonates,
/// and the process token once it reverts.
#[test]
fn caller_follows_impersonation() {
    let full = process();
    let limited = restricted();

    let before = WindowsToken::caller().expect("caller");
    assert_eq!(before.kind(), TokenKind::Primary);
    assert_eq!(before.identity(), full.identity());
    assert!(WindowsToken::thread().expect("thread token").is_none());

    let captured = {
        let guard = limited.impersonate().expect("ImpersonateLoggedOnUser");
        let now = WindowsToken::caller().expect("caller while impersonating");
        assert_eq!(now.kind(), TokenKind::Impersonation);
        assert_eq!(now.identity(), limited.identity());
        assert_eq!(now.snapshot(), limited.snapshot());
        assert!(WindowsToken::thread().expect("thread token").is_some());
        let captured = now.identity();
        guard.revert().expect("RevertToSelf");
        captured
    };
    // What QueryInterface remembered is a value: reverting does not change it.
    assert_eq!(captured, Identity::of(&limited));
    if under_wine() {
        assert!(!captured.admin);
    }

    let after = WindowsToken::caller().expect("caller after revert");
    assert_eq!(after.kind(), TokenKind::Primary);
    assert_eq!(after.identity(), full.identity());
    assert!(WindowsToken::thread().expect("thread token").is_none());

    // Dropping the guard reverts as well.
    {
        let _guard = limited.impersonate().expect("ImpersonateLoggedOnUser");
        assert_eq!(
            WindowsToken::caller().unwrap().identity(),
            limited.identity()
        );
    }
    assert_eq!(WindowsToken::caller().unwrap().identity(), full.identity());
}

/// The snapshot is plain data equal to what the token answers.
#[test]
fn snapshot_is_the_token() {
    let token = process();
    let snap: TokenInfo = token.snapshot();
    assert_eq!(snap.user, token.user());
    assert_eq!(snap.groups, token.groups());
    assert_eq!(Identity::of(&snap), token.identity());
    assert_eq!(TokenInfo::from(&token), snap);

    let mut again = restricted();
    again.refresh().expect("refresh");
    assert!(!again.has_admin_enabled());
}

/// A handle the user opened is taken over (and closed on drop).
#[test]
fn from_a_user_handle() {
    let mut raw = HANDLE::default();
    // SAFETY: pseudo-handle of the current process; `raw` is a live out-parameter.
    unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY | TOKEN_DUPLICATE, &mut raw) }
        .expect("OpenProcessToken");
    // SAFETY: `raw` was just opened and is owned by nobody else.
    let owned = unsafe { OwnedHandle::from_raw_handle(raw.0) };
    let token = WindowsToken::from_handle(owned).expect("read a user handle");
    assert_eq!(token.identity(), process().identity());
    let handle: OwnedHandle = token.into();
    drop(handle);
}

/// A handle that is not a token is a typed error, not a panic.
#[test]
fn not_a_token_is_an_error() {
    let file = std::fs::File::open(std::env::current_exe().unwrap()).unwrap();
    let err = WindowsToken::from_handle(OwnedHandle::from(file)).unwrap_err();
    assert!(
        matches!(
            err,
            TokenError::Win32 {
                call: "GetTokenInformation",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.code().is_some_and(|c| c.is_failure()));
    println!("not a token: {err}");
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<WindowsToken>();
    check::<TokenError>();
    check::<bits_helper_token::windows::WindowsSid>();
}

/// T-8: a copy of the process token lowered to Low integrity with Win32's own
/// `SetTokenInformation(TokenIntegrityLevel)` reads back as Low through the binding, and
/// its identity is what A-11 judges by: below the process token's level. (On Windows;
/// under Wine 8 the level does not change, and the test checks that the binding says so.)
#[test]
fn a_token_lowered_to_low_integrity_reads_back_low() {
    use std::os::windows::io::AsRawHandle;
    use windows::Win32::Security::{
        PSID, SID_AND_ATTRIBUTES, SetTokenInformation, TOKEN_MANDATORY_LABEL, TokenIntegrityLevel,
    };
    /// `SE_GROUP_INTEGRITY` (winnt.h): the label is the token's integrity level.
    const SE_GROUP_INTEGRITY: u32 = 0x20;
    let full = process();
    let mut low = full
        .duplicate(TokenKind::Primary)
        .expect("DuplicateTokenEx");
    let label_sid: Sid = "S-1-16-4096".parse().unwrap();
    let mut bytes = label_sid.to_bytes().to_vec();
    let label = TOKEN_MANDATORY_LABEL {
        Label: SID_AND_ATTRIBUTES {
            Sid: PSID(bytes.as_mut_ptr().cast()),
            Attributes: SE_GROUP_INTEGRITY,
        },
    };
    // SAFETY: `low` owns a live token handle opened with full access by DuplicateTokenEx;
    // `label` and the SID bytes it points to outlive the call, and the length is the
    // structure's own size.
    unsafe {
        SetTokenInformation(
            HANDLE(low.as_handle().as_raw_handle()),
            TokenIntegrityLevel,
            (&raw const label).cast(),
            std::mem::size_of::<TOKEN_MANDATORY_LABEL>() as u32,
        )
    }
    .expect("SetTokenInformation(TokenIntegrityLevel)");
    low.refresh().expect("re-read the token");
    println!(
        "process token: integrity {}; lowered copy: integrity {}",
        full.integrity_level(),
        low.integrity_level()
    );
    if under_wine() {
        // Wine 8 accepts the call and keeps the level (its SetTokenInformation ignores
        // TokenIntegrityLevel): the binding reads back what the token holds. This fails
        // the day Wine implements it, so the assertion below takes over.
        assert_eq!(low.integrity_level(), full.integrity_level());
        return;
    }
    assert_eq!(low.integrity_level(), IntegrityLevel::Low);
    assert_eq!(low.identity().integrity, IntegrityLevel::Low);
    assert!(low.identity().integrity < full.identity().integrity);
}

/// `HRESULT_FROM_WIN32(ERROR_INVALID_FUNCTION)`: what Wine 8 answers for a token
/// information class it does not implement.
const INVALID_FUNCTION: i32 = 0x8007_0001_u32 as i32;

/// T-11: a copy of the process token with one restricting SID (`CreateRestrictedToken`'s
/// `SidsToRestrict`: Everyone) is restricted, and the binding reads that SID back from
/// `TokenRestrictedSids`; the process token and the Administrators-deny-only copy are not
/// restricted (deny-only groups are not restricting SIDs). Win32's `IsTokenRestricted` and
/// `TokenRestrictedSids`, asked directly, are the oracle.
///
/// Under Wine 8 this cannot be shown: `CreateRestrictedToken` accepts the restricting SID,
/// but `GetTokenInformation(TokenRestrictedSids)` fails with `ERROR_INVALID_FUNCTION`
/// for every token, and `IsTokenRestricted` with it (it answers FALSE, last error 1). The
/// test then checks that the binding says it could not read them (`restricting_sids()` is
/// `None`) and answers "not restricted", the documented fallback — and fails the day Wine
/// implements the class, so the Windows assertions take over.
#[test]
fn restricting_sids_make_a_restricted_token() {
    let full = process();
    let deny_only = restricted();
    let limited = full
        .with_restricting_sids(&[Sid::EVERYONE])
        .expect("CreateRestrictedToken with SidsToRestrict");
    let oracle = windows_oracle::token_restricted_sids(limited.as_handle());
    let strings = |sids: &[Sid]| sids.iter().map(ToString::to_string).collect::<Vec<_>>();
    println!(
        "restricted copy: restricting_sids {:?}, restricted {}; TokenRestrictedSids {:?}; \
         IsTokenRestricted: process {:?}, deny-only copy {:?}, restricted copy {:?}",
        limited.restricting_sids().map(strings),
        limited.restricted(),
        oracle.as_ref().map(|sids| sids
            .iter()
            .map(|(sid, attributes)| format!("{} {attributes:#x}", sid.string))
            .collect::<Vec<_>>()),
        windows_oracle::is_token_restricted(full.as_handle()),
        windows_oracle::is_token_restricted(deny_only.as_handle()),
        windows_oracle::is_token_restricted(limited.as_handle()),
    );
    assert_eq!(limited.user(), full.user(), "restricting keeps the user");
    for token in [&full, &deny_only, &limited] {
        // The binding answers what Win32 answers, token for token.
        let win32 = windows_oracle::token_restricted_sids(token.as_handle());
        match (token.restricting_sids(), win32) {
            (Some(ours), Ok(theirs)) => assert_eq!(
                strings(ours),
                theirs
                    .iter()
                    .map(|(sid, _)| sid.string.clone())
                    .collect::<Vec<_>>()
            ),
            (None, Err(code)) => assert_eq!(code, INVALID_FUNCTION),
            (ours, theirs) => panic!("binding {ours:?}, Win32 {theirs:?}"),
        }
        match windows_oracle::is_token_restricted(token.as_handle()) {
            Ok(restricted) => assert_eq!(token.restricted(), restricted),
            Err(code) => assert_eq!(code, INVALID_FUNCTION),
        }
        assert_eq!(
            token.identity().restricted,
            token.restricted(),
            "A-1 remembers T-11"
        );
        assert_eq!(
            Identity::of(&token.snapshot()),
            token.identity(),
            "the snapshot judges as the token does"
        );
    }
    if under_wine() {
        for token in [&full, &deny_only, &limited] {
            assert_eq!(token.restricting_sids(), None, "Wine 8 cannot read them");
            assert!(!token.restricted(), "unknown is taken as unrestricted");
            assert_eq!(
                windows_oracle::is_token_restricted(token.as_handle()),
                Err(INVALID_FUNCTION)
            );
        }
        return;
    }
    assert_eq!(full.restricting_sids(), Some(&[][..]));
    assert_eq!(
        deny_only.restricting_sids(),
        Some(&[][..]),
        "deny-only is not restricting"
    );
    assert!(!full.restricted() && !deny_only.restricted());
    assert_eq!(limited.restricting_sids(), Some(&[Sid::EVERYONE][..]));
    assert!(limited.restricted());
    assert!(limited.identity().restricted);
    assert_eq!(limited.snapshot().restricting_sids, [Sid::EVERYONE]);
}

/// L-11: the process token's logon type, read from its logon session
/// (`TokenStatistics.AuthenticationId` → `LsaGetLogonSessionData`), else from its
/// logon-type groups; Win32 asked directly is the oracle for which path was taken.
///
/// Under Wine 8 the process token's logon session is `0:0`, and `LsaGetLogonSessionData`
/// succeeds for it but names no logon type (`UndefinedLogonType`, 0; the oracle prints
/// it), so the binding takes the fallback: the token's groups hold `INTERACTIVE`
/// (`S-1-5-4`) and no other logon-type group, which cannot tell a Welcome-screen logon
/// from a RunAs, so the logon type is unknown (`None`), and L-11's default (`Interactive`
/// for a user that is not a service account) applies. The test asserts that path, not
/// just any answer.
#[test]
fn logon_type_is_read_from_the_logon_session_or_the_groups() {
    use bits_helper_token::token::LogonType;
    use bits_helper_token::windows::LogonSource;
    let token = process();
    let (session, lsa) = windows_oracle::logon_session(token.as_handle());
    let logon_groups: Vec<String> = token
        .groups()
        .iter()
        .map(|g| g.sid.to_string())
        .filter(|sid| {
            ["S-1-5-2", "S-1-5-3", "S-1-5-4", "S-1-5-6", "S-1-5-14"].contains(&sid.as_str())
        })
        .collect();
    println!(
        "process token: logon session {:#x}:{:#x}; LsaGetLogonSessionData {lsa:x?}; \
         logon-type groups {logon_groups:?}; binding: source {:?}, logon {:?}, with default {:?}",
        session.HighPart,
        session.LowPart,
        token.logon_source(),
        token.logon(),
        token.logon_or_default()
    );
    match (token.logon_source(), lsa) {
        (LogonSource::Lsa { logon_type }, Ok(Some((theirs, _)))) => {
            assert_eq!(logon_type, theirs);
        }
        (LogonSource::Groups { lsa_error: None }, Ok(None | Some((0, _)))) => {}
        (LogonSource::Groups { lsa_error: Some(_) }, Err(_)) => {}
        (ours, theirs) => panic!("binding {ours:?}, LSA {theirs:x?}"),
    }
    // The plain-data snapshot states what the token states.
    assert_eq!(token.snapshot().logon, token.logon());
    if under_wine() {
        assert_eq!((session.HighPart, session.LowPart), (0, 0));
        assert!(matches!(lsa, Ok(Some((0, _)))), "UndefinedLogonType");
        assert_eq!(
            token.logon_source(),
            LogonSource::Groups { lsa_error: None },
            "Wine 8's LSA gives no logon type: the fallback is taken"
        );
        assert_eq!(logon_groups, ["S-1-5-4"]);
        assert_eq!(
            token.logon(),
            None,
            "INTERACTIVE alone: a Welcome-screen logon or a RunAs"
        );
        assert_eq!(token.logon_or_default(), LogonType::Interactive);
    }
}

/// T-10: a thread that impersonates its own process token at identification and at
/// impersonation level (`ImpersonateSelf`) reads that level back from its thread token —
/// through the binding (`WindowsToken::thread`, `client_level`), through the COM object's
/// helper (`windows::client_level`, which outside a COM call reads the calling thread),
/// and through Win32 directly. A thread that does not impersonate has no level; an
/// anonymous-level thread token cannot be opened (`ERROR_CANT_OPEN_ANONYMOUS`), which the
/// helper reads as `Anonymous`.
#[test]
fn impersonation_level_is_read_from_the_thread_token() {
    use bits_helper_token::token::ImpersonationLevel as Level;
    use bits_helper_token::windows::{ImpersonationLevel, client_level};
    use windows::Win32::Security::{
        ImpersonateSelf, RevertToSelf, SecurityIdentification, SecurityImpersonation,
    };

    assert!(WindowsToken::thread().expect("thread token").is_none());
    assert_eq!(
        process().client_level(),
        None,
        "a primary token has no level"
    );
    assert_eq!(client_level(), None, "not impersonating: no client level");

    for (win32, ours, t10) in [
        (
            SecurityIdentification,
            ImpersonationLevel::Identification,
            Level::Identify,
        ),
        (
            SecurityImpersonation,
            ImpersonationLevel::Impersonation,
            Level::Impersonate,
        ),
    ] {
        // SAFETY: no preconditions; the thread impersonates until RevertToSelf below.
        unsafe { ImpersonateSelf(win32) }.expect("ImpersonateSelf");
        let thread = WindowsToken::thread()
            .expect("thread token")
            .expect("impersonating");
        let oracle = windows_oracle::impersonation_level(thread.as_handle());
        let helper = client_level();
        // SAFETY: no preconditions; ends the impersonation begun above.
        unsafe { RevertToSelf() }.expect("RevertToSelf");
        println!(
            "ImpersonateSelf({win32:?}): thread token {:?}, level {:?} (T-10 {:?}); \
             Win32 {oracle:?}; client_level() {helper:?}",
            thread.kind(),
            thread.impersonation_level(),
            thread.client_level()
        );
        assert_eq!(thread.kind(), TokenKind::Impersonation);
        assert_eq!(oracle, win32);
        assert_eq!(thread.impersonation_level(), Some(ours));
        assert_eq!(thread.client_level(), Some(t10));
        assert_eq!(helper, Some(t10));
        assert_eq!(thread.allows_impersonation(), t10.can_impersonate());
        assert_eq!(Level::from(ours), t10);
        assert_eq!(ImpersonationLevel::from(t10), ours);
    }
    assert!(WindowsToken::thread().expect("thread token").is_none());

    // Anonymous level: Windows will not open the token; the helper says Anonymous.
    let anonymous = process()
        .duplicate_at(ImpersonationLevel::Anonymous)
        .expect("DuplicateTokenEx at SecurityAnonymous");
    assert_eq!(anonymous.client_level(), Some(Level::Anonymous));
    let (opened, helper) = {
        let _guard = anonymous.impersonate().expect("ImpersonateLoggedOnUser");
        (WindowsToken::thread().map(|t| t.is_some()), client_level())
    };
    println!("anonymous-level thread token: opening {opened:?}; client_level() {helper:?}");
    assert_eq!(
        opened.map_err(|e| e.code()),
        Err(Some(bits_helper_token::HResult::from_win32(1347))),
        "ERROR_CANT_OPEN_ANONYMOUS"
    );
    assert_eq!(helper, Some(Level::Anonymous));
    assert!(WindowsToken::thread().expect("thread token").is_none());
}
