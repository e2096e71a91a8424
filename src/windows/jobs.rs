//! This machine's BITS jobs, read through BITS without changing any (the doctor's live
//! mode): every fact the model needs, each as what BITS answered — a value, or the
//! `HRESULT` of the refusal, so that what could not be read is reported, never guessed.
//! And the logon sessions of a user (L-11), through LSA.
//!
//! Only getters are called: `EnumJobs`, `GetId`, `GetDisplayName`, `GetOwner`, `GetState`,
//! `GetError`, `GetType`, `EnumFiles`/`GetRemoteName`, `GetProxySettings`,
//! `IBackgroundCopyJob4::GetOwnerElevationState`/`GetOwnerIntegrityLevel`,
//! `IBackgroundCopyJob5::GetProperty`, `IBackgroundCopyJobHttpOptions::GetClientCertificate`,
//! `IBitsTokenOptions::GetHelperTokenFlags`/`GetHelperTokenSid`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use windows::Win32::Foundation::LUID;
use windows::Win32::Networking::BackgroundIntelligentTransferService::{
    BG_CERT_STORE_LOCATION, BG_JOB_ENUM_ALL_USERS, BG_JOB_PROXY_USAGE,
    BG_JOB_PROXY_USAGE_AUTODETECT, BG_JOB_PROXY_USAGE_NO_PROXY, BG_JOB_PROXY_USAGE_OVERRIDE,
    BG_JOB_PROXY_USAGE_PRECONFIG, BG_JOB_STATE, BG_JOB_TYPE_DOWNLOAD, BG_JOB_TYPE_UPLOAD,
    BG_JOB_TYPE_UPLOAD_REPLY, BITS_JOB_PROPERTY_ID_COST_FLAGS,
    BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS, BackgroundCopyManager, IBackgroundCopyFile,
    IBackgroundCopyJob, IBackgroundCopyJob4, IBackgroundCopyJob5, IBackgroundCopyJobHttpOptions,
    IBackgroundCopyManager, IBitsTokenOptions,
};
use windows::Win32::Security::Authentication::Identity::{
    LsaEnumerateLogonSessions, LsaFreeReturnBuffer, LsaGetLogonSessionData, LsaNtStatusToWinError,
    SECURITY_LOGON_SESSION_DATA,
};
use windows::Win32::System::Com::{CLSCTX_LOCAL_SERVER, CoCreateInstance, CoTaskMemFree};
use windows::core::{Interface, PWSTR};

use crate::hresult::HResult;
use crate::net::ProxyUsage;
use crate::sid::Sid;
use crate::state::{JobState, JobType, Remote};
use crate::token::IntegrityLevel;
use crate::usage::TokenUsage;
use crate::windows::WindowsSid;

/// What BITS answered for one fact: the value, or the `HRESULT` it failed with.
pub type Read<T> = Result<T, HResult>;

/// One job as BITS shows it to the caller.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct JobReading {
    /// `GetId`, as `{XXXXXXXX-…}`.
    pub id: String,
    /// `GetDisplayName`.
    pub display_name: Read<String>,
    /// `GetOwner`: the owner's SID.
    pub owner: Read<Sid>,
    /// `IBackgroundCopyJob4::GetOwnerElevationState` (T-9).
    pub owner_elevated: Read<bool>,
    /// `IBackgroundCopyJob4::GetOwnerIntegrityLevel` (T-8).
    pub owner_integrity: Read<IntegrityLevel>,
    /// `GetState`.
    pub state: Read<JobState>,
    /// `GetError` then `IBackgroundCopyError::GetError`: the code and the context
    /// (`BG_ERROR_CONTEXT`), read only in ERROR and TRANSIENT_ERROR.
    pub error: Read<Option<(HResult, i32)>>,
    /// `GetType`.
    pub job_type: Read<JobType>,
    /// The scheme of each file's remote name (`EnumFiles`, `GetRemoteName`); `None` for a
    /// name whose scheme the model does not know.
    pub remotes: Read<Vec<Option<Remote>>>,
    /// `GetProxySettings`: the usage.
    pub proxy: Read<ProxyUsage>,
    /// `IBackgroundCopyJobHttpOptions::GetClientCertificate`: `Ok(true)` when it answers
    /// S_OK; its failure otherwise (`RPC_X_BAD_STUB_DATA` means "no certificate, or no
    /// permission to it").
    pub client_certificate: Read<bool>,
    /// `IBackgroundCopyJob5::GetProperty(BITS_JOB_PROPERTY_ID_COST_FLAGS)`.
    pub cost_flags: Read<u32>,
    /// `IBackgroundCopyJob5::GetProperty(BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS)`.
    pub use_stored_credentials: Read<bool>,
    /// Through `IBitsTokenOptions`: the flags and the helper token's SID; the failure of
    /// `QueryInterface` (`E_NOINTERFACE` before BITS 4.0 and under Wine, A-2) or of a getter.
    pub token_options: Read<(TokenUsage, Option<Sid>)>,
}

/// `RPC_X_BAD_STUB_DATA`, `GetClientCertificate`'s answer for no certificate (or no
/// permission to it).
pub const RPC_X_BAD_STUB_DATA: HResult = HResult::from_u32(0x8007_06F7);

/// `E_UNEXPECTED`: BITS answered a value no version of it documents.
const E_UNEXPECTED: HResult = HResult::from_u32(0x8000_FFFF);

/// A connection to this machine's BITS. COM must be initialized on the thread.
#[derive(Debug)]
pub struct BitsJobs {
    manager: IBackgroundCopyManager,
}

fn code(e: &windows::core::Error) -> HResult {
    HResult::from(e.code())
}

/// A string BITS allocated, copied and freed.
fn take_string(p: PWSTR) -> Result<String, HResult> {
    if p.is_null() {
        return Err(HResult::E_POINTER);
    }
    // SAFETY: BITS returned a non-null, NUL-terminated string it allocated for us.
    let text = unsafe { p.to_string() }.map_err(|_| HResult::E_INVALIDARG);
    // SAFETY: the string was allocated with CoTaskMemAlloc for the caller to free, once.
    unsafe { CoTaskMemFree(Some(p.0.cast_const().cast())) };
    text
}

impl BitsJobs {
    /// Connects to BITS (`CoCreateInstance(BackgroundCopyManager)`).
    pub fn connect() -> Result<BitsJobs, HResult> {
        // SAFETY: COM is initialized by the caller (documented); the CLSID is a constant.
        let manager =
            unsafe { CoCreateInstance(&BackgroundCopyManager, None, CLSCTX_LOCAL_SERVER) }
                .map_err(|e| code(&e))?;
        Ok(BitsJobs { manager })
    }

    /// The jobs the caller may see: every user's with `all_users` (administrators only,
    /// `BG_JOB_ENUM_ALL_USERS`), else the caller's own.
    pub fn jobs(&self, all_users: bool) -> Result<Vec<IBackgroundCopyJob>, HResult> {
        let flags = if all_users { BG_JOB_ENUM_ALL_USERS } else { 0 };
        // SAFETY: a live manager.
        let list = unsafe { self.manager.EnumJobs(flags) }.map_err(|e| code(&e))?;
        let mut jobs = Vec::new();
        loop {
            let mut slot = [None];
            let mut fetched = 0u32;
            // SAFETY: a live enumerator; `slot` and `fetched` are live out-parameters.
            unsafe { list.Next(&mut slot, &mut fetched) }.map_err(|e| code(&e))?;
            match slot[0].take() {
                Some(job) if fetched == 1 => jobs.push(job),
                _ => return Ok(jobs),
            }
        }
    }

    /// Every fact of every job the caller may see ([`BitsJobs::jobs`]).
    pub fn read(&self, all_users: bool) -> Result<Vec<JobReading>, HResult> {
        Ok(self.jobs(all_users)?.iter().map(read_job).collect())
    }
}

/// Every fact of one job; what BITS refuses is kept as its failure.
pub fn read_job(job: &IBackgroundCopyJob) -> JobReading {
    // Every getter below reads a live job; the strings BITS hands out are freed by
    // `take_string`.
    // SAFETY: a live job interface; a getter with no out-parameter.
    let id = unsafe { job.GetId() }
        .map_or_else(|e| format_code(code(&e)), |g| alloc::format!("{{{g:?}}}"));
    // SAFETY: a live job interface; a getter with no out-parameter.
    let display_name = unsafe { job.GetDisplayName() }
        .map_err(|e| code(&e))
        .and_then(take_string);
    // SAFETY: a live job interface; a getter with no out-parameter.
    let owner = unsafe { job.GetOwner() }
        .map_err(|e| code(&e))
        .and_then(take_string)
        .and_then(|s| s.parse::<Sid>().map_err(|_| HResult::E_INVALIDARG));
    // SAFETY: a live job interface; a getter with no out-parameter.
    let state = unsafe { job.GetState() }
        .map_err(|e| code(&e))
        .and_then(state_of);
    let error = match state {
        Ok(JobState::Error | JobState::TransientError) => read_error(job),
        Ok(_) => Ok(None),
        Err(e) => Err(e),
    };
    // SAFETY: a live job interface; a getter with no out-parameter.
    let job_type = unsafe { job.GetType() }
        .map_err(|e| code(&e))
        .and_then(|t| match t {
            BG_JOB_TYPE_DOWNLOAD => Ok(JobType::Download),
            BG_JOB_TYPE_UPLOAD => Ok(JobType::Upload),
            BG_JOB_TYPE_UPLOAD_REPLY => Ok(JobType::UploadReply),
            _ => Err(E_UNEXPECTED),
        });
    let job4 = job.cast::<IBackgroundCopyJob4>().map_err(|e| code(&e));
    let owner_elevated = job4.as_ref().map_err(|e| *e).and_then(|j| {
        // SAFETY: a live job interface; a getter with no out-parameter.
        unsafe { j.GetOwnerElevationState() }
            .map(|b| b.as_bool())
            .map_err(|e| code(&e))
    });
    let owner_integrity = job4.as_ref().map_err(|e| *e).and_then(|j| {
        // SAFETY: a live job interface; a getter with no out-parameter.
        unsafe { j.GetOwnerIntegrityLevel() }
            .map(IntegrityLevel::from_rid)
            .map_err(|e| code(&e))
    });
    let job5 = job.cast::<IBackgroundCopyJob5>().map_err(|e| code(&e));
    let cost_flags = job5.as_ref().map_err(|e| *e).and_then(|j| {
        let value =
            // SAFETY: a live job interface; a getter with no out-parameter.
            unsafe { j.GetProperty(BITS_JOB_PROPERTY_ID_COST_FLAGS) }.map_err(|e| code(&e))?;
        // SAFETY: BITS documents COST_FLAGS as the union's `Dword`.
        Ok(unsafe { value.Dword })
    });
    let use_stored_credentials = job5.as_ref().map_err(|e| *e).and_then(|j| {
        // SAFETY: a live job interface; a getter with no out-parameter.
        let value = unsafe { j.GetProperty(BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS) }
            .map_err(|e| code(&e))?;
        // SAFETY: BITS documents USE_STORED_CREDENTIALS as the union's `Enable`.
        Ok(unsafe { value.Enable }.as_bool())
    });
    JobReading {
        id,
        display_name,
        owner,
        owner_elevated,
        owner_integrity,
        state,
        error,
        job_type,
        remotes: read_remotes(job),
        proxy: read_proxy(job),
        client_certificate: read_certificate(job),
        cost_flags,
        use_stored_credentials,
        token_options: read_token_options(job),
    }
}

fn format_code(h: HResult) -> String {
    alloc::format!("(GetId failed: {h})")
}

fn state_of(s: BG_JOB_STATE) -> Read<JobState> {
    // BG_JOB_STATE's values are T-7's states in the model's order.
    let i = usize::try_from(s.0).map_err(|_| E_UNEXPECTED)?;
    JobState::ALL.get(i).copied().ok_or(E_UNEXPECTED)
}

fn read_error(job: &IBackgroundCopyJob) -> Read<Option<(HResult, i32)>> {
    // SAFETY: a live job.
    let error = unsafe { job.GetError() }.map_err(|e| code(&e))?;
    let mut context = Default::default();
    let mut hr = windows::core::HRESULT(0);
    // SAFETY: a live error interface; both out-parameters are live locals.
    unsafe { error.GetError(&mut context, &mut hr) }.map_err(|e| code(&e))?;
    Ok(Some((HResult::from(hr), context.0)))
}

fn read_remotes(job: &IBackgroundCopyJob) -> Read<Vec<Option<Remote>>> {
    // SAFETY: a live job.
    let files = unsafe { job.EnumFiles() }.map_err(|e| code(&e))?;
    let mut out = Vec::new();
    loop {
        let mut slot: [Option<IBackgroundCopyFile>; 1] = [None];
        let mut fetched = 0u32;
        // SAFETY: a live enumerator; `slot` and `fetched` are live out-parameters.
        unsafe { files.Next(&mut slot, &mut fetched) }.map_err(|e| code(&e))?;
        let Some(file) = slot[0].take().filter(|_| fetched == 1) else {
            return Ok(out);
        };
        // SAFETY: a live file interface; the string is freed by `take_string`.
        let name = unsafe { file.GetRemoteName() }
            .map_err(|e| code(&e))
            .and_then(take_string)?;
        out.push(remote_of(&name));
    }
}

/// The scheme of a remote name: `http://`, `https://`, or a UNC path / `file://` (SMB).
pub fn remote_of(name: &str) -> Option<Remote> {
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("https://") {
        Some(Remote::Https)
    } else if lower.starts_with("http://") {
        Some(Remote::Http)
    } else if lower.starts_with("\\\\") || lower.starts_with("file://") {
        Some(Remote::Smb)
    } else {
        None
    }
}

fn read_proxy(job: &IBackgroundCopyJob) -> Read<ProxyUsage> {
    let mut usage = BG_JOB_PROXY_USAGE(0);
    let (mut list, mut bypass) = (PWSTR::null(), PWSTR::null());
    // SAFETY: a live job; the out-parameters are live locals; the lists BITS hands out are
    // freed below (CoTaskMemFree accepts null).
    let result = unsafe { job.GetProxySettings(&mut usage, &mut list, &mut bypass) };
    // SAFETY: allocated by BITS for us (or null), freed once.
    unsafe {
        CoTaskMemFree(Some(list.0.cast_const().cast()));
        CoTaskMemFree(Some(bypass.0.cast_const().cast()));
    }
    result.map_err(|e| code(&e))?;
    match usage {
        BG_JOB_PROXY_USAGE_PRECONFIG => Ok(ProxyUsage::Preconfig),
        BG_JOB_PROXY_USAGE_NO_PROXY => Ok(ProxyUsage::NoProxy),
        BG_JOB_PROXY_USAGE_OVERRIDE => Ok(ProxyUsage::Override),
        BG_JOB_PROXY_USAGE_AUTODETECT => Ok(ProxyUsage::Autodetect),
        _ => Err(E_UNEXPECTED),
    }
}

fn read_certificate(job: &IBackgroundCopyJob) -> Read<bool> {
    let http = job
        .cast::<IBackgroundCopyJobHttpOptions>()
        .map_err(|e| code(&e))?;
    let mut location = BG_CERT_STORE_LOCATION(0);
    let (mut store, mut subject) = (PWSTR::null(), PWSTR::null());
    let mut hash: *mut u8 = core::ptr::null_mut();
    // SAFETY: a live interface; every out-parameter is a live local; what BITS hands out
    // is freed below (CoTaskMemFree accepts null).
    let result =
        unsafe { http.GetClientCertificate(&mut location, &mut store, &mut hash, &mut subject) };
    // SAFETY: allocated by BITS for us (or null), each freed once.
    unsafe {
        CoTaskMemFree(Some(store.0.cast_const().cast()));
        CoTaskMemFree(Some(subject.0.cast_const().cast()));
        CoTaskMemFree(Some(hash.cast_const().cast()));
    }
    result.map(|()| true).map_err(|e| code(&e))
}

fn read_token_options(job: &IBackgroundCopyJob) -> Read<(TokenUsage, Option<Sid>)> {
    let options = job.cast::<IBitsTokenOptions>().map_err(|e| code(&e))?;
    // SAFETY: a live interface.
    let flags = unsafe { options.GetHelperTokenFlags() }.map_err(|e| code(&e))?;
    // SAFETY: a live interface; the string is freed by `take_string`.
    let sid = match unsafe { options.GetHelperTokenSid() } {
        Ok(p) if p.is_null() => None,
        Ok(p) => Some(
            take_string(p)?
                .parse::<Sid>()
                .map_err(|_| HResult::E_INVALIDARG)?,
        ),
        Err(e) => return Err(code(&e)),
    };
    Ok((TokenUsage::from_bits_retain(flags.0), sid))
}

/// What LSA says of a user's logon sessions (L-11).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Logon {
    /// A session that counts: RemoteInteractive, or an unlock of one (types 10, 12, 7, 13).
    Interactive,
    /// Sessions, none of which can count (batch, service, network, NewCredentials), and
    /// every session was readable.
    NotInteractive,
    /// No session of the user.
    None,
    /// Undecided: an `Interactive` (2, 11) session may be the console or a RunAs, or some
    /// session could not be read (another user's, for a non-administrator).
    Undecided,
}

/// The logon sessions of `user`: `LsaEnumerateLogonSessions`, then
/// `LsaGetLogonSessionData` on each.
pub fn logon_of(user: &Sid) -> Result<Logon, HResult> {
    let mut count = 0u32;
    let mut list: *mut LUID = core::ptr::null_mut();
    // SAFETY: both out-parameters are live locals; LSA allocates the list (freed below).
    let status = unsafe { LsaEnumerateLogonSessions(&mut count, &mut list) };
    if status.0 < 0 {
        // SAFETY: converts a status code.
        return Err(HResult::from_win32(unsafe {
            LsaNtStatusToWinError(status)
        }));
    }
    let (mut interactive, mut ambiguous, mut unreadable, mut seen) = (false, false, false, false);
    for i in 0..count as usize {
        // SAFETY: LSA returned `count` LUIDs at `list`.
        let session = unsafe { *list.add(i) };
        let mut data: *mut SECURITY_LOGON_SESSION_DATA = core::ptr::null_mut();
        // SAFETY: `session` is a live LUID; `data` a live out-parameter freed below.
        let status = unsafe { LsaGetLogonSessionData(&session, &mut data) };
        if status.0 < 0 || data.is_null() {
            unreadable = true;
            continue;
        }
        // SAFETY: `data` points to the structure LSA allocated; `Sid` points into it (or is
        // null), readable until it is freed below.
        let (logon_type, sid) = unsafe { ((*data).LogonType, WindowsSid::read((*data).Sid)) };
        // SAFETY: allocated by LSA for this call, freed once; nothing reads it afterwards.
        let _ = unsafe { LsaFreeReturnBuffer(data.cast_const().cast()) };
        if sid.ok().as_ref() != Some(user) {
            continue;
        }
        seen = true;
        match logon_type {
            10 | 12 | 7 | 13 => interactive = true,
            2 | 11 => ambiguous = true,
            _ => {}
        }
    }
    // SAFETY: the list LSA allocated, freed once.
    let _ = unsafe { LsaFreeReturnBuffer(list.cast_const().cast()) };
    Ok(if interactive {
        Logon::Interactive
    } else if ambiguous || unreadable {
        Logon::Undecided
    } else if seen {
        Logon::NotInteractive
    } else {
        Logon::None
    })
}

impl JobReading {
    /// The display name, or why it is missing.
    pub fn name(&self) -> String {
        match &self.display_name {
            Ok(name) => name.clone(),
            Err(e) => alloc::format!("(GetDisplayName: {e})"),
        }
    }
}

/// `HRESULT` text for the reports: `0x80004001 (E_NOTIMPL)` (the code, and its name when
/// it has one).
pub fn describe(h: HResult) -> String {
    h.to_string()
}

/// Initializes COM on this thread (multithreaded) for [`BitsJobs::connect`]; `S_FALSE` when
/// it already was.
pub fn initialize_com() -> HResult {
    // SAFETY: initializes COM on the calling thread; a second call answers S_FALSE.
    HResult::from(unsafe {
        windows::Win32::System::Com::CoInitializeEx(
            None,
            windows::Win32::System::Com::COINIT_MULTITHREADED,
        )
    })
}
