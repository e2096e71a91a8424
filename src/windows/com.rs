//! `IBitsTokenOptions` as a real COM object whose answers are the model's: for a BITS
//! reimplementation to hand its clients, where Wine and ReactOS answer `E_NOINTERFACE`.
//!
//! [`ComJob`] holds a model [`Job`] behind a lock, with a real handle to the helper token
//! beside it; [`ComJob::query_interface`] stands for the job's `QueryInterface` and gives a
//! new COM object. The object decides nothing: every method asks the model's
//! [`TokenOptions`] handle and applies its decision. What it does itself is read tokens,
//! the way BITS reads them:
//!
//! - at `QueryInterface`, the identity of the client COM presents (A-1);
//! - at `SetHelperToken`, the client's token at call time (A-9), kept as a duplicated
//!   handle ([`ComJob::with_helper_token`]) for the accesses R-1 and R-2 make with it.
//!
//! The vtable is written here rather than by windows-rs's `#[implement]`, whose generated
//! entry points write through the out-pointers of `GetHelperTokenFlags` and
//! `GetHelperTokenSid` without checking them: this object answers `E_POINTER` for a null
//! out-pointer instead, before it consults the model, and changes nothing. (Real BITS runs
//! out of process; there its proxy refuses a null `[out]` pointer before the call leaves
//! the client.)

extern crate alloc;
extern crate std;

use alloc::boxed::Box;
use alloc::string::ToString;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ffi::c_void;
use core::sync::atomic::{AtomicU32, Ordering, fence};
use std::sync::{Mutex, MutexGuard, PoisonError};

use windows::Win32::Foundation::{
    CO_E_NOTINITIALIZED, E_NOINTERFACE, E_OUTOFMEMORY, E_POINTER, E_UNEXPECTED,
    ERROR_CANT_OPEN_ANONYMOUS, RPC_E_CALL_COMPLETE, S_OK,
};
use windows::Win32::Networking::BackgroundIntelligentTransferService::{
    BG_TOKEN, IBitsTokenOptions, IBitsTokenOptions_Vtbl,
};
use windows::Win32::System::Com::{
    CoImpersonateClient, CoRevertToSelf, CoTaskMemAlloc, IAgileObject,
};
use windows::core::{GUID, HRESULT, IUnknown, IUnknown_Vtbl, Interface, PWSTR};

use super::{TokenError, TokenKind, WindowsToken};
use crate::decide::{Decision, Impersonation, Value};
use crate::explain::Explained;
use crate::hresult::HResult;
use crate::job::{Caller, Job, QueryInterfaceError, TokenOptions, WrongJob};
use crate::sid::Sid;
use crate::token::Identity;
use crate::token::ImpersonationLevel;

/// A model [`Job`] shared by every `IBitsTokenOptions` object obtained on it (several
/// clients, several handles), behind a lock, with the real helper token beside it.
///
/// ```no_run
/// use bits_helper_token::windows::ComJob;
/// use bits_helper_token::windows::WindowsToken;
/// use bits_helper_token::{Job, Profile, profile::Release};
///
/// // The job's owner is whoever creates it; here, this process.
/// let owner = WindowsToken::caller()?;
/// let job = ComJob::new(Job::new(Profile::new(Release::Win10_1809), &owner));
/// // QueryInterface(IID_IBitsTokenOptions): the object remembers who asked (A-1).
/// let options = job.query_interface()?;
/// // Calls through the real vtable, answered by the model.
/// unsafe { options.SetHelperTokenFlags(windows::Win32::Networking::BackgroundIntelligentTransferService::BG_TOKEN(1)) }?;
/// assert_eq!(job.job().facts().flags.bits(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ComJob {
    state: Mutex<Shared>,
}

#[derive(Debug)]
struct Shared {
    job: Job,
    /// Our duplicate of the token the last successful `SetHelperToken` stored, for as long
    /// as the model's job has a helper token.
    helper: Option<WindowsToken>,
}

impl Shared {
    /// The handle follows the model: when the job has no helper token any more (cleared,
    /// dropped at TakeOwnership or at the end of the helper's session), it is closed.
    fn follow_model(&mut self) {
        if self.job.facts().helper.is_none() {
            self.helper = None;
        }
    }
}

/// `QueryInterface` for `IBitsTokenOptions` did not give an object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ComError {
    /// The model refused (A-2: `E_NOINTERFACE`; Q-9: `E_ACCESSDENIED`), with the facts it
    /// refused on (boxed: they are a few hundred bytes).
    #[error(transparent)]
    Refused(Box<QueryInterfaceError>),
    /// The client's token could not be read.
    #[error("the COM client's token could not be read: {0}")]
    Token(#[from] TokenError),
}

impl From<QueryInterfaceError> for ComError {
    fn from(e: QueryInterfaceError) -> ComError {
        ComError::Refused(Box::new(e))
    }
}

impl ComError {
    /// The `HRESULT` a `QueryInterface` returns for this error: the model's code, the
    /// failed Win32 call's, or `E_UNEXPECTED` for a token Windows answered malformed.
    pub fn hresult(&self) -> HResult {
        match self {
            ComError::Refused(e) => e.decision().hresult(),
            ComError::Token(e) => e.code().unwrap_or(HResult::from(E_UNEXPECTED)),
        }
    }
}

/// For a reimplementation's `QueryInterface`, which returns an `HRESULT`.
impl From<ComError> for windows::core::Error {
    fn from(error: ComError) -> windows::core::Error {
        windows::core::Error::from_hresult(error.hresult().into())
    }
}

impl ComJob {
    /// Shares `job`. Lifecycle events go through [`update`](ComJob::update).
    pub fn new(job: Job) -> Arc<ComJob> {
        Arc::new(ComJob {
            state: Mutex::new(Shared { job, helper: None }),
        })
    }

    /// A copy of the model's job as it stands.
    pub fn job(&self) -> Job {
        self.lock().job.clone()
    }

    /// Runs `f` on the model's job under the lock, for what is not a method of the
    /// interface: lifecycle events (`logoff_owner`, `take_ownership`, `transfer`, …),
    /// network settings. Afterwards the helper token's handle is closed if the model's job
    /// no longer has a helper token.
    pub fn update<R>(&self, f: impl FnOnce(&mut Job) -> R) -> R {
        let mut shared = self.lock();
        let r = f(&mut shared.job);
        shared.follow_model();
        r
    }

    /// Runs `f` with our handle to the stored helper token (`None` when the job has none):
    /// the token a BITS reimplementation impersonates for the accesses R-1 and R-2 route to
    /// the helper. The handle is a duplicate taken at `SetHelperToken`, owned by this job
    /// and closed when the token is cleared or replaced, or the job dropped.
    pub fn with_helper_token<R>(&self, f: impl FnOnce(Option<&WindowsToken>) -> R) -> R {
        f(self.lock().helper.as_ref())
    }

    /// `IBackgroundCopyJob::QueryInterface(IID_IBitsTokenOptions)`: reads the identity of
    /// the client COM presents (A-1) and asks the model ([`Job::query_interface`]: A-2,
    /// and A-11 where Q-9 checks access here). On success, a new COM object remembering
    /// that identity; every later call on it is judged by it.
    ///
    /// Which token: inside a COM call to the reimplementation, the one
    /// `CoImpersonateClient` gives (the client's thread token when it uses cloaking, its
    /// process token otherwise); called in-process, outside any COM call, the calling
    /// thread's impersonation token, else the process token.
    ///
    /// The client's impersonation level ([`client_level`]) goes with it (A-9): an anonymous
    /// client, whose token cannot even be opened, is refused by the model as `NT
    /// AUTHORITY\ANONYMOUS LOGON` (`S-1-5-7`) with `E_ACCESSDENIED`.
    pub fn query_interface(self: &Arc<Self>) -> Result<IBitsTokenOptions, ComError> {
        let level = client_level().unwrap_or_default();
        let caller = if level == ImpersonationLevel::Anonymous {
            Identity::new(Sid::ANONYMOUS, false)
        } else {
            Identity::of(&client_token().map_err(TokenError::from)?)
        };
        let caller = Caller::new(caller).with_level(level);
        let handle = self.lock().job.query_interface_by(caller)?;
        let object = Box::new(Object {
            vtable: &VTABLE,
            refs: AtomicU32::new(1),
            job: Arc::clone(self),
            handle,
        });
        let raw = Box::into_raw(object).cast::<c_void>();
        // SAFETY: `raw` points to a live `Object` whose first field is its vtable pointer,
        // as COM lays out an interface pointer; it carries one reference (`refs` is 1),
        // which the returned interface owns and releases on drop.
        Ok(unsafe { IBitsTokenOptions::from_raw(raw) })
    }

    /// The lock; a panic elsewhere while holding it leaves the job as the last completed
    /// call left it (a call applies its decision in one assignment), so poisoning is
    /// ignored rather than turned into a panic inside a COM call.
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one method of `handle` on the job and brings the helper handle along.
    fn call(
        &self,
        method: impl FnOnce(&mut Shared) -> Result<Explained<Decision>, WrongJob>,
    ) -> Result<Explained<Decision>, WrongJob> {
        let mut shared = self.lock();
        let d = method(&mut shared)?;
        shared.follow_model();
        Ok(d)
    }
}

/// Why the COM client's token was not taken.
enum NoClient {
    /// COM would not impersonate the client.
    Refused(windows::core::Error),
    /// Its token could not be read.
    Token(TokenError),
}

impl From<TokenError> for NoClient {
    fn from(e: TokenError) -> NoClient {
        NoClient::Token(e)
    }
}

impl From<NoClient> for TokenError {
    fn from(e: NoClient) -> TokenError {
        match e {
            NoClient::Refused(e) => TokenError::win32("CoImpersonateClient", &e),
            NoClient::Token(e) => e,
        }
    }
}

/// The token COM presents for the client of the call in progress, or, outside any COM
/// call (`RPC_E_CALL_COMPLETE`; `CO_E_NOTINITIALIZED` on a thread without COM), the
/// calling thread's: its impersonation token, else the process token.
fn client_token() -> Result<WindowsToken, NoClient> {
    // SAFETY: no preconditions; on success this thread impersonates the COM client until
    // `CoRevertToSelf` below.
    match unsafe { CoImpersonateClient() } {
        Ok(()) => {
            let token = WindowsToken::caller();
            // SAFETY: ends the impersonation the successful `CoImpersonateClient` began.
            let reverted = unsafe { CoRevertToSelf() };
            let token = token?;
            reverted.map_err(|e| TokenError::win32("CoRevertToSelf", &e))?;
            Ok(token)
        }
        Err(e) if e.code() == RPC_E_CALL_COMPLETE || e.code() == CO_E_NOTINITIALIZED => {
            Ok(WindowsToken::caller()?)
        }
        Err(e) => Err(NoClient::Refused(e)),
    }
}

/// The impersonation level the client of the COM call in progress allows (T-10, A-9): the
/// level of the token `CoImpersonateClient` puts on this thread, in RPC's terms.
///
/// - Inside a COM call: [`Anonymous`](ImpersonationLevel::Anonymous) when that token cannot
///   be opened because it is anonymous (`OpenThreadToken` fails with
///   `ERROR_CANT_OPEN_ANONYMOUS`: an `RPC_C_IMP_LEVEL_ANONYMOUS` client, whose token "will
///   not contain any information"); else the token's level — which is what the server can
///   do with it, and can be below what the client set on its proxy.
/// - Outside any COM call (`RPC_E_CALL_COMPLETE`; `CO_E_NOTINITIALIZED` on a thread without
///   COM), the in-process caller is this thread: the level of its impersonation token, the
///   same way.
/// - `None` (unknown: the model's default applies) when the thread is not impersonating
///   (a primary token has no impersonation level), when `CoImpersonateClient` refuses for
///   any other reason, or when the token cannot be read.
///
/// Impersonation, when it began here, is ended before returning.
pub fn client_level() -> Option<ImpersonationLevel> {
    // SAFETY: no preconditions; on success this thread impersonates the COM client until
    // `CoRevertToSelf` below.
    match unsafe { CoImpersonateClient() } {
        Ok(()) => {
            let level = thread_level();
            // SAFETY: ends the impersonation the successful `CoImpersonateClient` began. A
            // failure leaves nothing to undo here; the level read stands.
            let _ = unsafe { CoRevertToSelf() };
            level
        }
        Err(e) if e.code() == RPC_E_CALL_COMPLETE || e.code() == CO_E_NOTINITIALIZED => {
            thread_level()
        }
        Err(_) => None,
    }
}

/// The T-10 level of this thread's impersonation token: `Anonymous` when Windows will not
/// open it for being anonymous, `None` without one or when it cannot be read.
fn thread_level() -> Option<ImpersonationLevel> {
    match WindowsToken::thread() {
        Ok(Some(token)) => token.client_level(),
        Ok(None) => None,
        Err(e) if e.code() == Some(HResult::from(ERROR_CANT_OPEN_ANONYMOUS.to_hresult())) => {
            Some(ImpersonationLevel::Anonymous)
        }
        Err(_) => None,
    }
}

/// What `SetHelperToken` takes by impersonating its client (A-9): the client's token, as
/// the model's [`Impersonation`] and our own duplicate of it; or `Denied` when COM could not
/// give impersonate-level access (`CoImpersonateClient` refused, or the token it gives is
/// at identification or anonymous level).
fn impersonate_client() -> Result<(Impersonation, Option<WindowsToken>), TokenError> {
    let token = match client_token() {
        Ok(token) => token,
        Err(NoClient::Refused(_)) => return Ok((Impersonation::Denied, None)),
        Err(NoClient::Token(e)) => return Err(e),
    };
    if !token.allows_impersonation() {
        return Ok((Impersonation::Denied, None));
    }
    let duplicate = token.duplicate(TokenKind::Impersonation)?;
    Ok((Impersonation::of(&duplicate), Some(duplicate)))
}

impl Object {
    /// The handle, its call made at the client's impersonation level now (A-9: the level is
    /// the call's, the identity the one remembered at QueryInterface, A-12).
    fn at_call_level(&self) -> TokenOptions {
        self.handle
            .with_level(client_level().unwrap_or(self.handle.level()))
    }
}

/// The COM object: what an `IBitsTokenOptions` pointer points to.
#[repr(C)]
struct Object {
    /// First, as COM requires: the interface pointer is a pointer to this field.
    vtable: &'static IBitsTokenOptions_Vtbl,
    refs: AtomicU32,
    job: Arc<ComJob>,
    handle: TokenOptions,
}

// `IBitsTokenOptions` begins with `IUnknown`, and `IAgileObject` is `IUnknown` alone, so one
// vtable serves all three interfaces the object answers.
static VTABLE: IBitsTokenOptions_Vtbl = IBitsTokenOptions_Vtbl {
    base__: IUnknown_Vtbl {
        QueryInterface: query_interface,
        AddRef: add_ref,
        Release: release,
    },
    SetHelperTokenFlags: set_helper_token_flags,
    GetHelperTokenFlags: get_helper_token_flags,
    SetHelperToken: set_helper_token,
    ClearHelperToken: clear_helper_token,
    GetHelperTokenSid: get_helper_token_sid,
};

/// The object behind an interface pointer.
///
/// # Safety
/// `this` is an interface pointer this module handed out, on which the caller holds a
/// reference (COM's contract for every method), so the `Object` lives for the call.
unsafe fn object<'a>(this: *mut c_void) -> &'a Object {
    // SAFETY: by this function's contract.
    unsafe { &*this.cast::<Object>() }
}

/// The `HRESULT` of a decision; a handle on another job cannot happen (the object holds
/// its own job), and would be `E_UNEXPECTED`.
fn answer(decision: Result<Explained<Decision>, WrongJob>) -> HRESULT {
    match decision {
        Ok(d) => d.hresult().into(),
        Err(WrongJob { .. }) => E_UNEXPECTED,
    }
}

unsafe extern "system" fn query_interface(
    this: *mut c_void,
    iid: *const GUID,
    out: *mut *mut c_void,
) -> HRESULT {
    if out.is_null() {
        return E_POINTER;
    }
    // SAFETY: `out` is not null and, by COM's contract, points to writable storage for an
    // interface pointer; it is set to null first, as COM requires on failure.
    unsafe { out.write(core::ptr::null_mut()) };
    if iid.is_null() {
        return E_POINTER;
    }
    // SAFETY: `iid` is not null and, by COM's contract, points to a GUID.
    let iid = unsafe { iid.read() };
    if iid == IUnknown::IID || iid == IBitsTokenOptions::IID || iid == IAgileObject::IID {
        // SAFETY: `this` is live for the call (COM's contract); the new reference is the
        // one handed out through `out`.
        unsafe {
            add_ref(this);
            out.write(this);
        }
        S_OK
    } else {
        E_NOINTERFACE
    }
}

unsafe extern "system" fn add_ref(this: *mut c_void) -> u32 {
    // SAFETY: COM's contract: the caller holds a reference.
    let object = unsafe { object(this) };
    object.refs.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
}

unsafe extern "system" fn release(this: *mut c_void) -> u32 {
    // SAFETY: COM's contract: the caller holds the reference it gives up here.
    let left = unsafe { object(this) }
        .refs
        .fetch_sub(1, Ordering::Release)
        .wrapping_sub(1);
    if left == 0 {
        // Every other release happened before this one: the object is ours alone.
        fence(Ordering::Acquire);
        // SAFETY: the last reference is gone; the object was made by `Box::new` in
        // `ComJob::query_interface` and nothing can reach it any more.
        drop(unsafe { Box::from_raw(this.cast::<Object>()) });
    }
    left
}

unsafe extern "system" fn set_helper_token_flags(this: *mut c_void, flags: BG_TOKEN) -> HRESULT {
    // SAFETY: COM's contract: the caller holds a reference.
    let object = unsafe { object(this) };
    let handle = object.at_call_level();
    answer(
        object
            .job
            .call(|shared| handle.set_helper_token_flags(&mut shared.job, flags.0)),
    )
}

unsafe extern "system" fn get_helper_token_flags(this: *mut c_void, out: *mut BG_TOKEN) -> HRESULT {
    if out.is_null() {
        return E_POINTER;
    }
    // SAFETY: COM's contract: the caller holds a reference.
    let object = unsafe { object(this) };
    let handle = object.at_call_level();
    let decision = object
        .job
        .call(|shared| handle.get_helper_token_flags(&shared.job));
    let flags = match decision {
        Ok(d) => match d.value() {
            Some(Value::Flags(flags)) => flags.bits(),
            _ => 0,
        },
        Err(_) => 0,
    };
    // SAFETY: `out` is not null and, by COM's contract, points to a writable `BG_TOKEN`.
    // On failure it gets 0.
    unsafe { out.write(BG_TOKEN(flags)) };
    answer(decision)
}

unsafe extern "system" fn set_helper_token(this: *mut c_void) -> HRESULT {
    // SAFETY: COM's contract: the caller holds a reference.
    let object = unsafe { object(this) };
    // A-9: the client's level and token at call time, before the lock (they may call
    // into COM).
    let handle = object.at_call_level();
    let (impersonation, token) = match impersonate_client() {
        Ok(taken) => taken,
        Err(e) => return ComError::Token(e).hresult().into(),
    };
    answer(object.job.call(|shared| {
        let d = handle.set_helper_token(&mut shared.job, impersonation)?;
        if d.is_allowed() {
            // The previous token's handle, if any, is closed here.
            shared.helper = token;
        }
        Ok(d)
    }))
}

unsafe extern "system" fn clear_helper_token(this: *mut c_void) -> HRESULT {
    // SAFETY: COM's contract: the caller holds a reference.
    let object = unsafe { object(this) };
    let handle = object.at_call_level();
    answer(
        object
            .job
            .call(|shared| handle.clear_helper_token(&mut shared.job)),
    )
}

unsafe extern "system" fn get_helper_token_sid(this: *mut c_void, out: *mut PWSTR) -> HRESULT {
    if out.is_null() {
        return E_POINTER;
    }
    // SAFETY: `out` is not null and, by COM's contract, points to a writable `PWSTR`; it
    // is null unless a string is handed out below.
    unsafe { out.write(PWSTR::null()) };
    // SAFETY: COM's contract: the caller holds a reference.
    let object = unsafe { object(this) };
    let handle = object.at_call_level();
    let decision = object
        .job
        .call(|shared| handle.get_helper_token_sid(&shared.job));
    if let Ok(d) = &decision
        && let Some(Value::HelperSid(Some(sid))) = d.value()
    {
        let text: Vec<u16> = sid
            .to_string()
            .encode_utf16()
            .chain(core::iter::once(0))
            .collect();
        let bytes = core::mem::size_of_val(text.as_slice());
        // SAFETY: no preconditions; the block is the caller's to free with
        // `CoTaskMemFree`, as the method's contract says.
        let block = unsafe { CoTaskMemAlloc(bytes) }.cast::<u16>();
        if block.is_null() {
            return E_OUTOFMEMORY;
        }
        // SAFETY: `block` is a fresh allocation of `bytes` bytes, suitably aligned for
        // u16 (CoTaskMemAlloc aligns for any type), not overlapping `text`; `out` is
        // writable as above.
        unsafe {
            core::ptr::copy_nonoverlapping(text.as_ptr(), block, text.len());
            out.write(PWSTR(block));
        }
    }
    answer(decision)
}

// The object is handed between threads as COM allows for an agile object: every field is
// `Send + Sync` (the job behind its lock), which these checks keep true.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Object>();
    send_sync::<ComJob>();
};
