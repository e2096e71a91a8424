//! The model-backed `IBitsTokenOptions` COM object, called through its real vtable while
//! the thread impersonates real tokens, every answer checked against the pure model fed the
//! identities Windows reports for those tokens.
//! Runs on Windows and, cross-compiled, under Wine (`scripts/test-windows`).
#![cfg(all(windows, feature = "windows"))]
#![allow(unsafe_code)]

mod windows_oracle;

use std::ffi::c_void;
use std::sync::Arc;

use bits_helper_token::windows::{ComError, ComJob, ImpersonationLevel, TokenKind, WindowsToken};
use bits_helper_token::{
    Decision, HResult, Identity, Job, Profile, RuleId, Sid, TokenOptions, TokenUsage,
    decide::Impersonation, decide::Value, profile::AccessCheck, profile::Knobs, profile::Release,
    token::IntegrityLevel,
};
use windows::Win32::Foundation::{E_NOINTERFACE, E_POINTER, S_OK};
use windows::Win32::Networking::BackgroundIntelligentTransferService::{
    BG_TOKEN, IBackgroundCopyJob, IBitsTokenOptions,
};
use windows::Win32::System::Com::{
    COINIT_MULTITHREADED, CoInitializeEx, CoTaskMemFree, IAgileObject,
};
use windows::core::{IUnknown, Interface, PWSTR};

use windows_oracle::under_wine;

/// The tokens the tests impersonate: four distinct real tokens.
struct Tokens {
    /// The process token (under Wine: an administrator at High integrity).
    full: WindowsToken,
    /// A copy with Administrators deny-only: not an administrator (T-5).
    filtered: WindowsToken,
    /// An identification-level impersonation copy of `full`: readable, not usable.
    identify: WindowsToken,
    /// `filtered` lowered to Low integrity (T-8; Wine 8 keeps the level, read back as is).
    low: WindowsToken,
}

fn tokens() -> Tokens {
    // SAFETY: initializes COM on this test thread (MTA), as a BITS client would; a second
    // call on the same thread answers S_FALSE, which is fine.
    let _ = unsafe { CoInitializeEx(None, COINIT_MULTITHREADED) };
    let full = WindowsToken::process().expect("open the process token");
    let filtered = full
        .with_deny_only(&[Sid::BUILTIN_ADMINISTRATORS])
        .expect("CreateRestrictedToken");
    let identify = full
        .duplicate_at(ImpersonationLevel::Identification)
        .expect("DuplicateTokenEx(SecurityIdentification)");
    assert_eq!(identify.kind(), TokenKind::Impersonation);
    assert_eq!(
        identify.impersonation_level(),
        Some(ImpersonationLevel::Identification)
    );
    let low = filtered
        .with_integrity(IntegrityLevel::Low)
        .expect("lower to Low");
    if !under_wine() {
        assert_eq!(low.integrity_level(), IntegrityLevel::Low);
    }
    assert_ne!(
        full.identity(),
        filtered.identity(),
        "T-5: the filter shows"
    );
    Tokens {
        full,
        filtered,
        identify,
        low,
    }
}

fn hresult(r: windows::core::Result<()>) -> HResult {
    HResult::from(r.map(|()| S_OK).unwrap_or_else(|e| e.code()))
}

/// The COM object and, beside it, the pure model it must agree with.
struct World {
    com: Arc<ComJob>,
    model: Job,
    checks: usize,
}

/// One `QueryInterface`: the COM object's handle and the model's, taken while the thread
/// impersonates the same token.
struct Handle {
    com: IBitsTokenOptions,
    model: TokenOptions,
}

impl World {
    fn new(profile: Profile, owner: &WindowsToken) -> World {
        World {
            com: ComJob::new(Job::new(profile, owner)),
            model: Job::new(profile, owner),
            checks: 0,
        }
    }

    fn query_interface(&mut self, caller: &WindowsToken) -> Handle {
        let guard = caller.impersonate().expect("impersonate");
        let com = self.com.query_interface().expect("QueryInterface");
        drop(guard);
        let model = self
            .model
            .query_interface(caller)
            .expect("the model's QueryInterface");
        assert_eq!(model.caller(), caller.identity());
        Handle { com, model }
    }

    /// The job's facts and the helper handle agree with the model after every step.
    fn agree(&mut self, step: &str, real: HResult, model: &Decision) {
        assert_eq!(real, model.hresult(), "{step}: {model}");
        assert_eq!(
            self.com.job().facts(),
            self.model.facts(),
            "{step}: job state"
        );
        let held = self
            .com
            .with_helper_token(|t| t.map(WindowsToken::identity));
        assert_eq!(held, self.model.facts().helper, "{step}: helper handle");
        self.checks += 1;
        println!("{step:<58} {real} (model: {})", model.rule().id);
    }

    fn set_flags(&mut self, h: &Handle, flags: u32) -> Decision {
        // SAFETY: a live interface pointer; the call takes a plain integer.
        let real = hresult(unsafe { h.com.SetHelperTokenFlags(BG_TOKEN(flags)) });
        let d = h
            .model
            .set_helper_token_flags(&mut self.model, flags)
            .unwrap()
            .into_inner();
        self.agree(&format!("SetHelperTokenFlags({flags:#x})"), real, &d);
        d
    }

    fn get_flags(&mut self, h: &Handle) -> Decision {
        // SAFETY: a live interface pointer.
        let real = unsafe { h.com.GetHelperTokenFlags() };
        let d = h
            .model
            .get_helper_token_flags(&self.model)
            .unwrap()
            .into_inner();
        if let Ok(flags) = &real {
            assert_eq!(Some(Value::Flags(TokenUsage::from(*flags))), d.value());
        }
        self.agree("GetHelperTokenFlags", hresult(real.map(|_| ())), &d);
        d
    }

    /// `SetHelperToken` while the thread impersonates `token` (A-9: its token at call time).
    fn set_token(&mut self, h: &Handle, token: &WindowsToken, name: &str) -> Decision {
        let guard = token.impersonate().expect("impersonate");
        // SAFETY: a live interface pointer.
        let real = hresult(unsafe { h.com.SetHelperToken() });
        drop(guard);
        let usable = token.impersonation_level() != Some(ImpersonationLevel::Identification);
        let impersonation = if usable {
            Impersonation::of(token)
        } else {
            Impersonation::Denied
        };
        let d = h
            .model
            .set_helper_token(&mut self.model, impersonation)
            .unwrap()
            .into_inner();
        self.agree(&format!("SetHelperToken as {name}"), real, &d);
        d
    }

    fn clear(&mut self, h: &Handle) -> Decision {
        // SAFETY: a live interface pointer.
        let real = hresult(unsafe { h.com.ClearHelperToken() });
        let d = h
            .model
            .clear_helper_token(&mut self.model)
            .unwrap()
            .into_inner();
        self.agree("ClearHelperToken", real, &d);
        d
    }

    fn get_sid(&mut self, h: &Handle) -> Decision {
        // SAFETY: a live interface pointer.
        let real = unsafe { h.com.GetHelperTokenSid() };
        let d = h
            .model
            .get_helper_token_sid(&self.model)
            .unwrap()
            .into_inner();
        if let Ok(text) = &real {
            let got = take_string(*text);
            let want = match d.value() {
                Some(Value::HelperSid(sid)) => sid.map(|s| s.to_string()),
                other => panic!("GetHelperTokenSid gave {other:?}"),
            };
            assert_eq!(got, want, "GetHelperTokenSid's string");
        }
        self.agree("GetHelperTokenSid", hresult(real.map(|_| ())), &d);
        d
    }
}

/// Reads a `CoTaskMemAlloc`'d string (or null) and frees it.
fn take_string(text: PWSTR) -> Option<String> {
    if text.is_null() {
        return None;
    }
    // SAFETY: a non-null string the object handed out: NUL-terminated UTF-16 from
    // CoTaskMemAlloc, ours to free once, here.
    unsafe {
        let s = text.to_string().expect("UTF-16");
        CoTaskMemFree(Some(text.0.cast()));
        Some(s)
    }
}

/// …A-9, L-1…L-4 through the vtable: an owner that is not an administrator, an
/// administrator beside it, the helper set as each of them and as an identification-level
/// token, and a Low-integrity caller.
#[test]
fn the_com_object_answers_as_the_model_with_real_tokens() {
    let t = tokens();
    let mut w = World::new(Profile::new(Release::Win10_1809), &t.filtered);
    let owner = w.query_interface(&t.filtered);
    let admin = w.query_interface(&t.full);

    assert_eq!(w.get_flags(&owner).hresult(), HResult::S_OK);
    assert_eq!(w.set_flags(&owner, 0x1).hresult(), HResult::S_OK);
    // A-7 judged on the token at call time; A-1: the caller is still the owner's identity.
    let vetoed = w.set_token(&owner, &t.full, "the administrator");
    if t.full.identity().admin {
        assert_eq!(vetoed.rule().id, RuleId::A7);
    }
    assert!(w.set_token(&owner, &t.filtered, "the owner").is_allowed());
    assert!(w.get_sid(&owner).is_allowed());
    // An administrator caller may set an administrator's token ...
    assert!(
        w.set_token(&admin, &t.full, "the administrator")
            .is_allowed()
    );
    // ... after which the owner's SetHelperTokenFlags meets the A-6 veto.
    let vetoed = w.set_flags(&owner, 0x3);
    if t.full.identity().admin {
        assert_eq!(vetoed.rule().id, RuleId::A6);
    }
    // an identification-level client token cannot be taken.
    let refused = w.set_token(&owner, &t.identify, "an identification-level token");
    assert_eq!(refused.hresult(), HResult::CO_E_FAILEDTOIMPERSONATE);
    assert_eq!(refused.rule().id, RuleId::A9);
    // L-3, L-4: cleared, the SID is a NULL string and the handle is closed.
    assert!(w.clear(&admin).is_allowed());
    assert!(w.get_sid(&owner).is_allowed());
    assert!(w.com.with_helper_token(|t| t.is_none()));
    // a Low-integrity copy of the owner (under Wine 8, still at the owner's level).
    let low = w.query_interface(&t.low);
    w.get_flags(&low);
    w.set_flags(&low, 0x2);
    w.set_token(&low, &t.low, "the Low copy");
    w.get_sid(&low);
    println!("{} steps, every one as the model answers", w.checks);
    assert_eq!(w.checks, 14);
}

/// Two handles on one job share it, also across threads (the object is agile).
#[test]
fn handles_share_the_job_across_threads() {
    let t = tokens();
    let mut w = World::new(Profile::new(Release::Win10_1809), &t.full);
    let one = w.query_interface(&t.full);
    let two = w.query_interface(&t.full);
    w.set_flags(&one, 0x2);
    assert_eq!(
        w.get_flags(&two).value(),
        Some(Value::Flags(TokenUsage::from_bits_retain(0x2)))
    );
    // The second handle moves to another thread and sets the flags there.
    let raw = two.com.clone().into_raw() as usize;
    std::thread::spawn(move || {
        // SAFETY: `raw` carries the reference `into_raw` gave up; the object is agile, so
        // any thread may use and release it.
        let com = unsafe { IBitsTokenOptions::from_raw(raw as *mut c_void) };
        // SAFETY: a live interface pointer.
        unsafe { com.SetHelperTokenFlags(BG_TOKEN(0x3)) }.expect("from another thread");
    })
    .join()
    .expect("the thread");
    let d = two.model.set_helper_token_flags(&mut w.model, 0x3).unwrap();
    w.agree(
        "SetHelperTokenFlags(0x3) from another thread",
        HResult::S_OK,
        &d,
    );
    assert_eq!(
        w.get_flags(&one).value(),
        Some(Value::Flags(TokenUsage::from_bits_retain(0x3)))
    );
}

/// `QueryInterface` on the object: IUnknown, IAgileObject and IBitsTokenOptions are the same
/// object; anything else is `E_NOINTERFACE`. Null out-pointers get `E_POINTER` and change
/// nothing.
#[test]
fn the_object_is_a_well_behaved_com_object() {
    let t = tokens();
    let mut w = World::new(Profile::new(Release::Win10_1809), &t.full);
    let h = w.query_interface(&t.full);
    let unknown: IUnknown = h.com.cast().expect("IUnknown");
    let agile: IAgileObject = h.com.cast().expect("IAgileObject");
    let again: IBitsTokenOptions = agile.cast().expect("back to IBitsTokenOptions");
    assert_eq!(unknown.as_raw(), h.com.as_raw());
    assert_eq!(again.as_raw(), h.com.as_raw());
    assert_eq!(
        h.com
            .cast::<IBackgroundCopyJob>()
            .map(|_| ())
            .unwrap_err()
            .code(),
        E_NOINTERFACE
    );

    w.set_flags(&h, 0x1);
    let before = w.com.job();
    let vtable = h.com.vtable();
    // SAFETY: the object's own entry points, called with null out-pointers on purpose:
    // the object checks them before writing.
    unsafe {
        let raw = h.com.as_raw();
        assert_eq!(
            (vtable.GetHelperTokenFlags)(raw, std::ptr::null_mut()),
            E_POINTER
        );
        assert_eq!(
            (vtable.GetHelperTokenSid)(raw, std::ptr::null_mut()),
            E_POINTER
        );
        assert_eq!(
            (vtable.base__.QueryInterface)(raw, &IUnknown::IID, std::ptr::null_mut()),
            E_POINTER
        );
        let mut out: *mut c_void = std::ptr::dangling_mut::<c_void>();
        assert_eq!(
            (vtable.base__.QueryInterface)(raw, std::ptr::null(), &mut out),
            E_POINTER
        );
        assert!(
            out.is_null(),
            "a refused QueryInterface nulls its out-pointer"
        );
    }
    assert_eq!(w.com.job(), before, "a null out-pointer changes nothing");
    // The value is still there for a proper call.
    assert_eq!(
        w.get_flags(&h).value(),
        Some(Value::Flags(TokenUsage::from_bits_retain(0x1)))
    );
}

/// at `QueryInterface`: no object, and the model's code.
#[test]
fn query_interface_refusals_are_the_models() {
    let t = tokens();
    let job = ComJob::new(Job::new(Profile::new(Release::PreBits4), &t.full));
    let err = job.query_interface().map(|_| ()).unwrap_err();
    assert_eq!(err.hresult(), HResult::from(E_NOINTERFACE));
    assert!(matches!(err, ComError::Refused(_)));
    assert_eq!(
        windows::core::Error::from(err).code(),
        HResult::E_NOINTERFACE.into()
    );

    // Q-9 `query_interface`: before 1607 a caller that is not an administrator is
    // refused at QueryInterface itself.
    let mut knobs = Knobs::DEFAULT;
    knobs.access_check = AccessCheck::QueryInterface;
    let profile = Profile::new(Release::Legacy).with_knobs(knobs);
    let job = ComJob::new(Job::new(profile, &t.full));
    let guard = t.filtered.impersonate().expect("impersonate");
    let refused = job.query_interface().map(|_| ());
    drop(guard);
    let model = Job::new(profile, &t.full)
        .query_interface(&t.filtered)
        .map(|_| ())
        .unwrap_err();
    let err = refused.unwrap_err();
    assert_eq!(err.hresult(), model.decision().hresult());
    assert_eq!(err.hresult(), HResult::E_ACCESSDENIED);
    // The administrator is let through.
    let guard = t.full.impersonate().expect("impersonate");
    assert!(job.query_interface().is_ok());
    drop(guard);
}

/// Lifecycle events go through `ComJob::update`; the helper handle follows the model
/// (L-7 with Q-6's default: TakeOwnership drops the token, and its handle is closed).
#[test]
fn lifecycle_events_close_the_helper_handle_with_the_model() {
    let t = tokens();
    let mut w = World::new(Profile::new(Release::Win10_1809), &t.full);
    let h = w.query_interface(&t.full);
    assert!(
        w.set_token(&h, &t.filtered, "the filtered copy")
            .is_allowed()
    );
    assert_eq!(
        w.com.with_helper_token(|t| t.map(WindowsToken::identity)),
        Some(Identity::of(&t.filtered))
    );
    let real = w.com.update(|job| job.take_ownership(&t.full));
    let model = w.model.take_ownership(&t.full);
    w.agree("TakeOwnership by the administrator", real.hresult(), &model);
    assert_eq!(real, model);
    println!("TakeOwnership: {model}");
    if model.is_allowed() {
        assert!(w.com.with_helper_token(|t| t.is_none()));
    }
}

/// Every object is released (it holds the job: the job's count falls back to one); the
/// helper token's handle is closed when the token is cleared (Windows no longer knows the
/// handle); and where Windows counts a process's handles (Wine 8 answers 0), the count does
/// not grow over many rounds of calls, refused ones included.
#[test]
fn objects_and_handles_are_released_on_every_path() {
    use std::os::windows::io::{AsHandle, AsRawHandle};
    use windows::Win32::Foundation::{GetHandleInformation, HANDLE};
    use windows::Win32::System::Threading::{GetCurrentProcess, GetProcessHandleCount};
    let t = tokens();
    let count = || {
        let mut n = 0u32;
        // SAFETY: a pseudo-handle for this process; `n` is a live local.
        unsafe { GetProcessHandleCount(GetCurrentProcess(), &mut n) }.expect("handle count");
        n
    };
    let open = |raw: isize| {
        let mut flags = 0u32;
        // SAFETY: only asks Windows about a handle value; nothing is dereferenced.
        unsafe { GetHandleInformation(HANDLE(raw as *mut c_void), &mut flags) }.is_ok()
    };
    let job = ComJob::new(Job::new(Profile::new(Release::Win10_1809), &t.filtered));
    let mut closed = 0;
    let mut round = || {
        let guard = t.filtered.impersonate().expect("impersonate");
        let com = job.query_interface().expect("QueryInterface");
        // SAFETY: live interface pointers; the string is freed by `take_string`.
        unsafe {
            com.SetHelperToken().expect("as the owner");
            take_string(com.GetHelperTokenSid().expect("the SID")).expect("a SID");
            let _ = com.clone().cast::<IAgileObject>().expect("agile");
            drop(guard);
            // An administrator's token (refused by A-7 where it is one), and an
            // identification-level one (refused by A-9).
            let guard = t.full.impersonate().expect("impersonate");
            let _ = com.SetHelperToken();
            drop(guard);
            let guard = t.identify.impersonate().expect("impersonate");
            assert!(com.SetHelperToken().is_err());
            drop(guard);
            let held = job
                .with_helper_token(|t| t.map(|t| t.as_handle().as_raw_handle() as isize))
                .expect("a helper token is stored");
            assert!(
                open(held),
                "the helper handle is open while the token is stored"
            );
            com.ClearHelperToken().expect("clear");
            assert!(!open(held), "ClearHelperToken closed the helper handle");
            closed += 1;
        }
    };
    round();
    let before = count();
    for _ in 0..50 {
        round();
    }
    let after = count();
    assert_eq!(closed, 51);
    assert_eq!(Arc::strong_count(&job), 1, "every object released");
    if before == 0 && under_wine() {
        println!("process handles: Wine 8 does not count them (0); 51 helper handles seen closed");
    } else {
        println!("process handles: {before} before 50 rounds, {after} after");
        assert_eq!(after, before, "no handle left open");
    }
}
