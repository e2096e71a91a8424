//! The conformance runner: role-based scenarios played against an `IBitsTokenOptions`
//! provider — the real BITS, or [`ComJob`] — with real tokens, every step
//! compared with the model fed the identities Windows reports for those tokens.
//!
//! Roles are cast onto tokens this machine can produce ([`Cast::from_machine`]); a scenario
//! whose roles cannot be cast is reported as skipped with the reason, never dropped. The
//! runner decides nothing: the model answers every step, the provider answers it too, and
//! the runner only compares. For a disagreement it also replays the model with each knob
//! of SPEC §6 set to each of its other values, and names the settings under which the model
//! would have given the provider's answer.

extern crate alloc;
extern crate std;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use windows::Win32::Foundation::{ERROR_SUCCESS, HANDLE};
use windows::Win32::Networking::BackgroundIntelligentTransferService::{
    BG_JOB_TYPE_DOWNLOAD, BG_TOKEN, BackgroundCopyManager, IBackgroundCopyJob,
    IBackgroundCopyManager, IBitsTokenOptions,
};
use windows::Win32::Security::{LOGON32_LOGON_INTERACTIVE, LOGON32_PROVIDER_DEFAULT, LogonUserW};
use windows::Win32::System::Com::{CLSCTX_LOCAL_SERVER, CoCreateInstance, CoTaskMemFree};
use windows::Win32::System::Registry::{HKEY_LOCAL_MACHINE, RRF_RT_REG_SZ, RegGetValueW};
use windows::core::{GUID, HRESULT, HSTRING, Interface, PCWSTR, w};

use super::{ComJob, ImpersonationLevel, TokenError, WindowsToken};
use crate::decide::{Impersonation, Value};
use crate::hresult::HResult;
use crate::job::{Job, TokenOptions};
use crate::profile::{
    AccessCheck, AdminBypass, DoneJobs, LegacySetToken, Profile, Release, TakeOwnership,
    TokenCheck, UnknownFlags,
};
use crate::sid::Sid;
use crate::token::IntegrityLevel;

/// A part a scenario casts onto a real token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Role {
    /// The runner's own token (the process token).
    Current,
    /// The same user with Administrators deny-only: not an administrator (T-5).
    Filtered,
    /// The filtered user at Low integrity (T-8; A-11).
    Low,
    /// The runner's token at identification level: readable, not usable (A-9).
    Identify,
    /// A second local account, logged on with `LogonUserW` (A-5: another user's job).
    Other,
    /// LocalSystem, when the runner itself runs as SYSTEM.
    System,
}

impl Role {
    /// Every role, in table order.
    pub const ALL: &'static [Role] = &[
        Role::Current,
        Role::Filtered,
        Role::Low,
        Role::Identify,
        Role::Other,
        Role::System,
    ];

    /// The role's name in tables and reports.
    pub const fn name(self) -> &'static str {
        match self {
            Role::Current => "current",
            Role::Filtered => "filtered",
            Role::Low => "low",
            Role::Identify => "identify",
            Role::Other => "other",
            Role::System => "system",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The roles cast onto this machine's tokens, and why the others could not be.
#[derive(Debug)]
pub struct Cast {
    tokens: [Option<WindowsToken>; 6],
    reasons: [Option<String>; 6],
}

/// The environment variables naming the second account ([`Role::Other`]).
pub const OTHER_USER_VARIABLES: [&str; 3] = [
    "BITS_CONFORMANCE_USER",
    "BITS_CONFORMANCE_PASSWORD",
    "BITS_CONFORMANCE_DOMAIN",
];

impl Cast {
    /// Casts every role this machine can produce: the process token, a filtered copy, a
    /// Low-integrity copy (only if Windows really lowers it), an identification-level copy,
    /// the account named by [`OTHER_USER_VARIABLES`] (user and password; domain optional,
    /// `.` by default), and LocalSystem when the process runs as SYSTEM.
    pub fn from_machine() -> Result<Cast, TokenError> {
        let mut cast = Cast {
            tokens: Default::default(),
            reasons: Default::default(),
        };
        let current = WindowsToken::process()?;
        match current.with_deny_only(&[Sid::BUILTIN_ADMINISTRATORS]) {
            Ok(filtered) => {
                match filtered.with_integrity(IntegrityLevel::Low) {
                    Ok(low) if low.integrity_level() == IntegrityLevel::Low => {
                        cast.put(Role::Low, low);
                    }
                    Ok(low) => cast.refuse(
                        Role::Low,
                        format!(
                            "this system does not lower a token's integrity level (the copy reads back {})",
                            low.integrity_level()
                        ),
                    ),
                    Err(e) => cast.refuse(Role::Low, format!("cannot lower a token: {e}")),
                }
                cast.put(Role::Filtered, filtered);
            }
            Err(e) => {
                cast.refuse(Role::Filtered, format!("cannot filter a token: {e}"));
                cast.refuse(Role::Low, "no filtered token to lower".to_string());
            }
        }
        match current.duplicate_at(ImpersonationLevel::Identification) {
            Ok(t) => cast.put(Role::Identify, t),
            Err(e) => cast.refuse(
                Role::Identify,
                format!("cannot copy at identification level: {e}"),
            ),
        }
        match other_account() {
            Ok(t) => cast.put(Role::Other, t),
            Err(reason) => cast.refuse(Role::Other, reason),
        }
        if current.identity().sid == Sid::LOCAL_SYSTEM {
            match current.duplicate(super::TokenKind::Primary) {
                Ok(t) => cast.put(Role::System, t),
                Err(e) => cast.refuse(Role::System, format!("cannot copy our token: {e}")),
            }
        } else {
            cast.refuse(
                Role::System,
                "the runner does not run as LocalSystem".to_string(),
            );
        }
        cast.put(Role::Current, current);
        Ok(cast)
    }

    fn put(&mut self, role: Role, token: WindowsToken) {
        self.tokens[role.index()] = Some(token);
        self.reasons[role.index()] = None;
    }

    fn refuse(&mut self, role: Role, reason: String) {
        self.tokens[role.index()] = None;
        self.reasons[role.index()] = Some(reason);
    }

    /// The token cast for `role`, or why there is none.
    pub fn token(&self, role: Role) -> Result<&WindowsToken, &str> {
        match &self.tokens[role.index()] {
            Some(t) => Ok(t),
            None => Err(self.reasons[role.index()].as_deref().unwrap_or("not cast")),
        }
    }
}

/// `LogonUserW` for the account the environment names.
fn other_account() -> Result<WindowsToken, String> {
    let [user_var, password_var, domain_var] = OTHER_USER_VARIABLES;
    let user = std::env::var(user_var).map_err(|_| format!("{user_var} is not set"))?;
    let password = std::env::var(password_var).map_err(|_| format!("{password_var} is not set"))?;
    let domain = std::env::var(domain_var).unwrap_or_else(|_| ".".to_string());
    let (user, password, domain) = (
        HSTRING::from(user.as_str()),
        HSTRING::from(password.as_str()),
        HSTRING::from(domain.as_str()),
    );
    let mut raw = HANDLE::default();
    // SAFETY: three NUL-terminated strings that outlive the call; `raw` is a live local
    // the call writes the new token handle to.
    unsafe {
        LogonUserW(
            PCWSTR(user.as_ptr()),
            PCWSTR(domain.as_ptr()),
            PCWSTR(password.as_ptr()),
            LOGON32_LOGON_INTERACTIVE,
            LOGON32_PROVIDER_DEFAULT,
            &mut raw,
        )
    }
    .map_err(|e| format!("LogonUserW failed: {}", HResult::from(e)))?;
    // SAFETY: `raw` was just returned by a successful `LogonUserW`: a valid handle nothing
    // else owns.
    let handle = unsafe { std::os::windows::io::FromRawHandle::from_raw_handle(raw.0) };
    WindowsToken::from_handle(handle).map_err(|e| format!("cannot read its token: {e}"))
}

/// One step of a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// `QueryInterface(IID_IBitsTokenOptions)` while impersonating `caller`, kept as `handle`.
    QueryInterface {
        /// Who asks (A-1).
        caller: Role,
        /// Where the interface is kept.
        handle: usize,
    },
    /// `SetHelperTokenFlags(flags)` on `handle`.
    SetFlags {
        /// The handle.
        handle: usize,
        /// The flags, unknown bits included.
        flags: u32,
    },
    /// `GetHelperTokenFlags` on `handle`.
    GetFlags {
        /// The handle.
        handle: usize,
    },
    /// `SetHelperToken` on `handle` while impersonating `helper` (A-9).
    SetToken {
        /// The handle.
        handle: usize,
        /// Whose token is set.
        helper: Role,
    },
    /// `ClearHelperToken` on `handle`.
    Clear {
        /// The handle.
        handle: usize,
    },
    /// `GetHelperTokenSid` on `handle`.
    GetSid {
        /// The handle.
        handle: usize,
    },
    /// `IBackgroundCopyJob::Cancel` by the runner (T-7; Q-3 for the calls after it).
    Cancel,
    /// `IBackgroundCopyJob::TakeOwnership` while impersonating `by` (L-7; Q-6 for the
    /// helper token).
    TakeOwnership {
        /// Who takes the job.
        by: Role,
    },
}

impl Step {
    fn roles(self) -> Option<Role> {
        match self {
            Step::QueryInterface { caller, .. } => Some(caller),
            Step::SetToken { helper, .. } => Some(helper),
            Step::TakeOwnership { by } => Some(by),
            _ => None,
        }
    }

    fn handle(self) -> usize {
        match self {
            Step::QueryInterface { handle, .. }
            | Step::SetFlags { handle, .. }
            | Step::GetFlags { handle }
            | Step::SetToken { handle, .. }
            | Step::Clear { handle }
            | Step::GetSid { handle } => handle,
            Step::Cancel | Step::TakeOwnership { .. } => 0,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Step::QueryInterface { caller, handle } => {
                write!(f, "QueryInterface as {caller} -> h{handle}")
            }
            Step::SetFlags { handle, flags } => {
                write!(f, "h{handle}.SetHelperTokenFlags({flags:#x})")
            }
            Step::GetFlags { handle } => write!(f, "h{handle}.GetHelperTokenFlags"),
            Step::SetToken { handle, helper } => {
                write!(f, "h{handle}.SetHelperToken as {helper}")
            }
            Step::Clear { handle } => write!(f, "h{handle}.ClearHelperToken"),
            Step::GetSid { handle } => write!(f, "h{handle}.GetHelperTokenSid"),
            Step::Cancel => f.write_str("job.Cancel"),
            Step::TakeOwnership { by } => write!(f, "job.TakeOwnership as {by}"),
        }
    }
}

/// A scenario: the job's owner, the steps, and the rules it reaches.
#[derive(Clone, Copy, Debug)]
#[allow(clippy::exhaustive_structs)] // users write their own scenarios
pub struct Scenario {
    /// Its name in tables and reports.
    pub name: &'static str,
    /// The SPEC rules it is written to reach (for the reader; the model names the rule of
    /// every answer).
    pub rules: &'static [&'static str],
    /// Who creates the job.
    pub owner: Role,
    /// The calls, in order.
    pub steps: &'static [Step],
}

impl Scenario {
    /// Every role the scenario casts.
    pub fn roles(&self) -> Vec<Role> {
        let mut roles = Vec::from([self.owner]);
        for r in self.steps.iter().filter_map(|s| s.roles()) {
            if !roles.contains(&r) {
                roles.push(r);
            }
        }
        roles
    }
}

use Step::{
    Cancel, Clear, GetFlags, GetSid, QueryInterface as Qi, SetFlags, SetToken,
    TakeOwnership as Take,
};

/// The scenarios: every rule of SPEC §2 and §3 a set of roles can reach through the
/// interface (the lifecycle events of §3 that need a logoff or a transfer are not in reach
/// of a provider's interface, and are left to the pure tests).
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "interface-available",
        rules: &["A-2", "A-3"],
        owner: Role::Current,
        steps: &[Qi {
            caller: Role::Current,
            handle: 0,
        }],
    },
    Scenario {
        name: "owner-flags-and-token",
        rules: &["A-1", "A-5", "A-8", "L-1", "L-2", "L-3", "L-4"],
        owner: Role::Current,
        steps: &[
            Qi {
                caller: Role::Current,
                handle: 0,
            },
            GetFlags { handle: 0 },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
            GetFlags { handle: 0 },
            GetSid { handle: 0 },
            SetToken {
                handle: 0,
                helper: Role::Filtered,
            },
            GetSid { handle: 0 },
            SetFlags {
                handle: 0,
                flags: 0x3,
            },
            GetFlags { handle: 0 },
            Clear { handle: 0 },
            GetSid { handle: 0 },
            GetFlags { handle: 0 },
        ],
    },
    Scenario {
        name: "unknown-flag-bits",
        rules: &["T-1", "Q-1"],
        owner: Role::Current,
        steps: &[
            Qi {
                caller: Role::Current,
                handle: 0,
            },
            SetFlags {
                handle: 0,
                flags: 0x4,
            },
            GetFlags { handle: 0 },
            SetFlags {
                handle: 0,
                flags: 0x8000_0001,
            },
            GetFlags { handle: 0 },
        ],
    },
    Scenario {
        name: "cancelled-job",
        rules: &["T-7", "Q-3"],
        owner: Role::Current,
        steps: &[
            Qi {
                caller: Role::Current,
                handle: 0,
            },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
            Cancel,
            SetFlags {
                handle: 0,
                flags: 0x0,
            },
            GetFlags { handle: 0 },
            SetToken {
                handle: 0,
                helper: Role::Current,
            },
            Clear { handle: 0 },
            GetSid { handle: 0 },
        ],
    },
    Scenario {
        name: "take-ownership",
        rules: &["L-7", "Q-6", "A-11"],
        owner: Role::Current,
        steps: &[
            Qi {
                caller: Role::Current,
                handle: 0,
            },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
            SetToken {
                handle: 0,
                helper: Role::Filtered,
            },
            Take { by: Role::Filtered },
            GetSid { handle: 0 },
            Take { by: Role::Current },
            GetSid { handle: 0 },
            GetFlags { handle: 0 },
        ],
    },
    Scenario {
        name: "take-another-users-job",
        rules: &["L-7", "A-5", "Q-6"],
        owner: Role::Other,
        steps: &[
            Qi {
                caller: Role::Current,
                handle: 0,
            },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
            Take { by: Role::Current },
            Qi {
                caller: Role::Current,
                handle: 1,
            },
            GetFlags { handle: 1 },
            GetSid { handle: 1 },
        ],
    },
    Scenario {
        name: "non-admin-owner-vetoes",
        rules: &["A-5", "A-6", "A-7"],
        owner: Role::Filtered,
        steps: &[
            Qi {
                caller: Role::Filtered,
                handle: 0,
            },
            Qi {
                caller: Role::Current,
                handle: 1,
            },
            SetToken {
                handle: 0,
                helper: Role::Current,
            },
            SetToken {
                handle: 0,
                helper: Role::Filtered,
            },
            SetToken {
                handle: 1,
                helper: Role::Current,
            },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
            GetSid { handle: 0 },
            Clear { handle: 0 },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
        ],
    },
    Scenario {
        name: "identity-taken-at-query-interface",
        rules: &["A-1", "A-7"],
        owner: Role::Filtered,
        steps: &[
            Qi {
                caller: Role::Filtered,
                handle: 0,
            },
            // Impersonating the administrator now changes nothing: the handle remembers.
            SetToken {
                handle: 0,
                helper: Role::Current,
            },
            SetToken {
                handle: 0,
                helper: Role::Filtered,
            },
            SetFlags {
                handle: 0,
                flags: 0x2,
            },
        ],
    },
    Scenario {
        name: "identification-level-client",
        rules: &["A-9", "A-10"],
        owner: Role::Current,
        steps: &[
            Qi {
                caller: Role::Current,
                handle: 0,
            },
            SetToken {
                handle: 0,
                helper: Role::Identify,
            },
            GetSid { handle: 0 },
        ],
    },
    Scenario {
        name: "low-integrity-caller",
        rules: &["A-11", "Q-9"],
        owner: Role::Filtered,
        steps: &[
            Qi {
                caller: Role::Low,
                handle: 0,
            },
            GetFlags { handle: 0 },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
            SetToken {
                handle: 0,
                helper: Role::Low,
            },
        ],
    },
    Scenario {
        name: "elevated-job-filtered-caller",
        rules: &["A-11", "Q-9"],
        owner: Role::Current,
        steps: &[
            Qi {
                caller: Role::Filtered,
                handle: 0,
            },
            GetFlags { handle: 0 },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
        ],
    },
    Scenario {
        name: "another-users-job",
        rules: &["A-4", "A-5", "A-8", "Q-2"],
        owner: Role::Other,
        steps: &[
            Qi {
                caller: Role::Filtered,
                handle: 0,
            },
            GetFlags { handle: 0 },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
            GetSid { handle: 0 },
            Qi {
                caller: Role::Current,
                handle: 1,
            },
            SetFlags {
                handle: 1,
                flags: 0x1,
            },
            GetFlags { handle: 1 },
        ],
    },
    Scenario {
        name: "system-job",
        rules: &["A-11", "A-5"],
        owner: Role::System,
        steps: &[
            Qi {
                caller: Role::Filtered,
                handle: 0,
            },
            GetFlags { handle: 0 },
            SetFlags {
                handle: 0,
                flags: 0x1,
            },
        ],
    },
];

/// What a provider or the model answered at one step.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::exhaustive_structs)] // an HRESULT and a value are the whole answer
pub struct Answer {
    /// The `HRESULT`.
    pub hresult: HResult,
    /// The value a getter gave (`0x…` flags, a SID, `NULL`), empty otherwise.
    pub value: String,
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}", self.hresult)
        } else {
            write!(f, "{} {}", self.hresult, self.value)
        }
    }
}

/// A source of `IBitsTokenOptions` interfaces: the real BITS, or the model's COM object.
pub trait Provider {
    /// The provider's name in the report.
    fn name(&self) -> String;
    /// Creates a job owned by the token the current thread presents (the runner
    /// impersonates the owner around this call).
    fn create_job(&self) -> Result<Box<dyn ProviderJob>, HResult>;
}

/// A job of a provider. Dropping it cancels a real BITS job.
pub trait ProviderJob {
    /// `QueryInterface(IID_IBitsTokenOptions)` on the thread's current token.
    fn query_interface(&self) -> Result<IBitsTokenOptions, HResult>;
    /// `IBackgroundCopyJob::Cancel`.
    fn cancel(&self) -> HResult;
    /// `IBackgroundCopyJob::TakeOwnership` on the thread's current token.
    fn take_ownership(&self) -> HResult;
}

/// The real BITS of this machine (`BackgroundCopyManager`). The caller must have
/// initialized COM with impersonate level and dynamic cloaking, so that BITS sees the
/// tokens the runner impersonates (A-1).
#[derive(Debug)]
pub struct RealBits {
    manager: IBackgroundCopyManager,
}

impl RealBits {
    /// Connects to BITS.
    pub fn connect() -> Result<RealBits, HResult> {
        // SAFETY: COM is initialized by the caller (documented); the CLSID is a constant.
        let manager =
            unsafe { CoCreateInstance(&BackgroundCopyManager, None, CLSCTX_LOCAL_SERVER) }
                .map_err(HResult::from)?;
        Ok(RealBits { manager })
    }
}

struct RealJob {
    job: IBackgroundCopyJob,
}

impl Drop for RealJob {
    fn drop(&mut self) {
        // Every job the runner creates is cancelled, on every path.
        // SAFETY: a live job interface we own.
        let _ = unsafe { self.job.Cancel() };
    }
}

impl Provider for RealBits {
    fn name(&self) -> String {
        "BITS".to_string()
    }

    fn create_job(&self) -> Result<Box<dyn ProviderJob>, HResult> {
        let mut id = GUID::zeroed();
        let mut job: Option<IBackgroundCopyJob> = None;
        // SAFETY: a live manager; `id` and `job` are live out-parameters.
        unsafe {
            self.manager.CreateJob(
                w!("bits-helper-token conformance"),
                BG_JOB_TYPE_DOWNLOAD,
                &mut id,
                &mut job,
            )
        }
        .map_err(HResult::from)?;
        let job = job.ok_or(HResult::E_FAIL)?;
        Ok(Box::new(RealJob { job }))
    }
}

impl ProviderJob for RealJob {
    fn query_interface(&self) -> Result<IBitsTokenOptions, HResult> {
        self.job.cast().map_err(HResult::from)
    }

    fn cancel(&self) -> HResult {
        // SAFETY: a live job interface we own.
        HResult::from(unsafe { self.job.Cancel() }.map_or_else(|e| e.code(), |()| HRESULT(0)))
    }

    fn take_ownership(&self) -> HResult {
        HResult::from(
            // SAFETY: a live job interface we own.
            unsafe { self.job.TakeOwnership() }.map_or_else(|e| e.code(), |()| HRESULT(0)),
        )
    }
}

/// The model's own COM object ([`ComJob`]) under `profile`: against the runner's model it
/// must agree everywhere; under another profile it is a provider with known differences.
#[derive(Clone, Copy, Debug)]
#[allow(clippy::exhaustive_structs)] // built by the user: the profile is the whole provider
pub struct ModelObject {
    /// The release and knobs the object answers by.
    pub profile: Profile,
}

struct ModelJob(Arc<ComJob>);

impl Provider for ModelObject {
    fn name(&self) -> String {
        format!("the model's COM object ({})", self.profile.release)
    }

    fn create_job(&self) -> Result<Box<dyn ProviderJob>, HResult> {
        let owner = WindowsToken::caller().map_err(|e| e.code().unwrap_or(HResult::E_FAIL))?;
        Ok(Box::new(ModelJob(ComJob::new(Job::new(
            self.profile,
            &owner,
        )))))
    }
}

impl ProviderJob for ModelJob {
    fn query_interface(&self) -> Result<IBitsTokenOptions, HResult> {
        self.0.query_interface().map_err(|e| e.hresult())
    }

    fn cancel(&self) -> HResult {
        self.0.update(|job| job.cancel()).hresult()
    }

    /// In process, the caller is the thread's token (its impersonation token, else the
    /// process token), as `ComJob::query_interface` reads it outside a COM call.
    fn take_ownership(&self) -> HResult {
        match WindowsToken::caller() {
            Ok(caller) => self.0.update(|job| job.take_ownership(&caller)).hresult(),
            Err(e) => e.code().unwrap_or(HResult::E_FAIL),
        }
    }
}

/// One compared step.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Row {
    /// The scenario's name.
    pub scenario: &'static str,
    /// The step's index and text.
    pub step: usize,
    /// What the step did.
    pub call: String,
    /// The provider's answer.
    pub real: Answer,
    /// The model's answer, with the rule that decided.
    pub model: Answer,
    /// The rule the model names.
    pub rule: &'static str,
    /// Knob settings under which the model would give the provider's answer at this step
    /// (`Q-n=value`), when they disagree.
    pub explained_by: Vec<String>,
}

impl Row {
    /// Whether the provider answered as the model.
    pub fn agrees(&self) -> bool {
        self.real == self.model
    }
}

/// What a run found.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Report {
    /// The provider's name.
    pub provider: String,
    /// The release the model used (A-3, from the OS build).
    pub release: Release,
    /// Every compared step.
    pub rows: Vec<Row>,
    /// Scenarios run.
    pub run: usize,
    /// Scenarios skipped, with the reason.
    pub skipped: Vec<(&'static str, String)>,
}

impl Report {
    /// The steps where the provider and the model disagree.
    pub fn disagreements(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| !r.agrees())
    }

    /// `N scenarios run, D disagreements, M skipped`.
    pub fn summary(&self) -> String {
        format!(
            "{} scenarios run, {} disagreements, {} skipped",
            self.run,
            self.disagreements().count(),
            self.skipped.len()
        )
    }
}

/// Plays `scenarios` against `provider`, the model answering under `profile` with the
/// identities `cast` gives.
pub fn run(
    provider: &dyn Provider,
    profile: Profile,
    cast: &Cast,
    scenarios: &[Scenario],
) -> Report {
    let mut report = Report {
        provider: provider.name(),
        release: profile.release,
        rows: Vec::new(),
        run: 0,
        skipped: Vec::new(),
    };
    let mut unavailable = false;
    for scenario in scenarios {
        if unavailable {
            report.skipped.push((
                scenario.name,
                "the provider has no IBitsTokenOptions (E_NOINTERFACE, A-2)".to_string(),
            ));
            continue;
        }
        if let Some((role, why)) = scenario
            .roles()
            .into_iter()
            .find_map(|r| cast.token(r).err().map(|why| (r, why)))
        {
            report
                .skipped
                .push((scenario.name, format!("role {role} not cast: {why}")));
            continue;
        }
        match play(provider, profile, cast, scenario) {
            Ok(rows) => {
                report.run += 1;
                unavailable = rows.iter().zip(scenario.steps).any(|(row, step)| {
                    matches!(step, Step::QueryInterface { .. })
                        && row.real.hresult == HResult::E_NOINTERFACE
                });
                report.rows.extend(rows);
            }
            Err(why) => report.skipped.push((scenario.name, why)),
        }
    }
    report
}

/// The model's answers to a scenario under `profile` (the pure side; used again for each
/// knob setting when explaining a disagreement).
fn model_answers(
    profile: Profile,
    cast: &Cast,
    scenario: &Scenario,
) -> Vec<(Answer, &'static str)> {
    let Ok(owner) = cast.token(scenario.owner) else {
        return Vec::new();
    };
    let mut job = Job::new(profile, owner);
    let mut handles: Vec<Option<TokenOptions>> = Vec::new();
    let mut out = Vec::new();
    for step in scenario.steps {
        let slot = step.handle();
        if handles.len() <= slot {
            handles.resize(slot + 1, None);
        }
        let answer = match *step {
            Step::Cancel => {
                let d = job.cancel();
                (bare(d.hresult()), d.rule().id.name())
            }
            Step::TakeOwnership { by } => {
                let Ok(token) = cast.token(by) else {
                    return out;
                };
                let d = job.take_ownership(token);
                (bare(d.hresult()), d.rule().id.name())
            }
            Step::QueryInterface { caller, .. } => {
                let Ok(token) = cast.token(caller) else {
                    return out;
                };
                match job.query_interface(token) {
                    Ok(h) => {
                        handles[slot] = Some(h);
                        (ok(), "A-1")
                    }
                    Err(e) => {
                        handles[slot] = None;
                        (bare(e.decision().hresult()), e.decision().rule().id.name())
                    }
                }
            }
            other => {
                let Some(h) = handles[slot] else {
                    out.push((no_handle(), "-"));
                    continue;
                };
                let d = match other {
                    Step::SetFlags { flags, .. } => h.set_helper_token_flags(&mut job, flags),
                    Step::GetFlags { .. } => h.get_helper_token_flags(&job),
                    Step::SetToken { helper, .. } => {
                        let Ok(token) = cast.token(helper) else {
                            return out;
                        };
                        let impersonation = if token.impersonation_level()
                            == Some(ImpersonationLevel::Identification)
                            || token.impersonation_level() == Some(ImpersonationLevel::Anonymous)
                        {
                            Impersonation::Denied
                        } else {
                            Impersonation::of(token)
                        };
                        h.set_helper_token(&mut job, impersonation)
                    }
                    Step::Clear { .. } => h.clear_helper_token(&mut job),
                    Step::GetSid { .. } => h.get_helper_token_sid(&job),
                    Step::QueryInterface { .. } | Step::Cancel | Step::TakeOwnership { .. } => {
                        out.push((no_handle(), "-"));
                        continue;
                    }
                };
                match d {
                    Ok(d) => (
                        Answer {
                            hresult: d.hresult(),
                            value: match d.value() {
                                Some(Value::Flags(f)) => format!("{:#x}", f.bits()),
                                Some(Value::HelperSid(Some(sid))) => sid.to_string(),
                                Some(Value::HelperSid(None)) => "NULL".to_string(),
                                _ => String::new(),
                            },
                        },
                        d.rule().id.name(),
                    ),
                    Err(_) => (bare(HResult::E_FAIL), "-"),
                }
            }
        };
        out.push(answer);
    }
    out
}

fn ok() -> Answer {
    bare(HResult::S_OK)
}

fn bare(hresult: HResult) -> Answer {
    Answer {
        hresult,
        value: String::new(),
    }
}

/// A step on a handle whose `QueryInterface` failed: not called.
fn no_handle() -> Answer {
    Answer {
        hresult: HResult::S_FALSE,
        value: "not called: no handle".to_string(),
    }
}

/// The provider's side of one scenario, compared step by step.
fn play(
    provider: &dyn Provider,
    profile: Profile,
    cast: &Cast,
    scenario: &Scenario,
) -> Result<Vec<Row>, String> {
    let token = |r: Role| cast.token(r).map_err(|why| format!("role {r}: {why}"));
    let owner = token(scenario.owner)?;
    let job = {
        let guard = owner
            .impersonate()
            .map_err(|e| format!("cannot impersonate the owner: {e}"))?;
        let job = provider.create_job();
        drop(guard);
        job.map_err(|hr| format!("the provider could not create a job: {hr}"))?
    };
    let model = model_answers(profile, cast, scenario);
    let mut handles: Vec<Option<IBitsTokenOptions>> = Vec::new();
    let mut rows = Vec::new();
    for (i, step) in scenario.steps.iter().enumerate() {
        let slot = step.handle();
        if handles.len() <= slot {
            handles.resize(slot + 1, None);
        }
        let real = match *step {
            Step::Cancel => bare(job.cancel()),
            Step::TakeOwnership { by } => {
                let t = token(by)?;
                let guard = t
                    .impersonate()
                    .map_err(|e| format!("impersonate {by}: {e}"))?;
                let hr = job.take_ownership();
                drop(guard);
                bare(hr)
            }
            Step::QueryInterface { caller, .. } => {
                let t = token(caller)?;
                let guard = t
                    .impersonate()
                    .map_err(|e| format!("impersonate {caller}: {e}"))?;
                let got = job.query_interface();
                drop(guard);
                match got {
                    Ok(h) => {
                        handles[slot] = Some(h);
                        ok()
                    }
                    Err(hr) => {
                        handles[slot] = None;
                        bare(hr)
                    }
                }
            }
            other => match &handles[slot] {
                None => no_handle(),
                Some(h) => call(h, other, cast)?,
            },
        };
        let (model_answer, rule) = model
            .get(i)
            .cloned()
            .unwrap_or((bare(HResult::E_FAIL), "-"));
        let explained_by = if real == model_answer {
            Vec::new()
        } else {
            explain(profile, cast, scenario, i, &real)
        };
        rows.push(Row {
            scenario: scenario.name,
            step: i,
            call: step.to_string(),
            real,
            model: model_answer,
            rule,
            explained_by,
        });
    }
    drop(handles);
    drop(job);
    Ok(rows)
}

/// One method call through the provider's interface.
fn call(h: &IBitsTokenOptions, step: Step, cast: &Cast) -> Result<Answer, String> {
    let answer = |r: windows::core::Result<String>| match r {
        Ok(value) => Answer {
            hresult: HResult::S_OK,
            value,
        },
        Err(e) => bare(HResult::from(e)),
    };
    // Every call below is on a live interface pointer the provider gave.
    Ok(match step {
        Step::SetFlags { flags, .. } => answer(
            // SAFETY: a live interface pointer; a plain integer argument.
            unsafe { h.SetHelperTokenFlags(BG_TOKEN(flags)) }.map(|()| String::new()),
        ),
        Step::GetFlags { .. } => answer(
            // SAFETY: a live interface pointer.
            unsafe { h.GetHelperTokenFlags() }.map(|f| format!("{:#x}", f.0)),
        ),
        Step::SetToken { helper, .. } => {
            let t = cast
                .token(helper)
                .map_err(|why| format!("role {helper}: {why}"))?;
            let guard = t
                .impersonate()
                .map_err(|e| format!("impersonate {helper}: {e}"))?;
            // SAFETY: a live interface pointer.
            let r = unsafe { h.SetHelperToken() };
            drop(guard);
            answer(r.map(|()| String::new()))
        }
        Step::Clear { .. } => answer(
            // SAFETY: a live interface pointer.
            unsafe { h.ClearHelperToken() }.map(|()| String::new()),
        ),
        // SAFETY: a live interface pointer.
        Step::GetSid { .. } => answer(unsafe { h.GetHelperTokenSid() }.map(|text| {
            if text.is_null() {
                return "NULL".to_string();
            }
            // SAFETY: a non-null, NUL-terminated string the provider allocated with
            // CoTaskMemAlloc; read once, then freed once, as the method's contract says.
            let s = unsafe { text.to_string() }.unwrap_or_default();
            // SAFETY: as above; nothing reads `text` after this.
            unsafe { CoTaskMemFree(Some(text.0 as *const _)) };
            // BITS's text in the canonical form when it parses strictly (T-2).
            s.parse::<Sid>().map_or(s, |sid| sid.to_string())
        })),
        Step::QueryInterface { .. } | Step::Cancel | Step::TakeOwnership { .. } => {
            bare(HResult::E_FAIL)
        }
    })
}

/// The settings under which the model gives `real` at step `at`: another release
/// (`release=…`), or one knob changed from `profile`'s (`Q-n=…`).
fn explain(
    profile: Profile,
    cast: &Cast,
    scenario: &Scenario,
    at: usize,
    real: &Answer,
) -> Vec<String> {
    let mut variants: Vec<(String, Profile)> = Vec::new();
    for &release in Release::ALL {
        if release != profile.release {
            variants.push((
                format!("release={release}"),
                Profile::new(release).with_knobs(profile.knobs),
            ));
        }
    }
    let base = profile.knobs;
    macro_rules! vary {
        ($field:ident, $ty:ty, $q:literal) => {
            for &v in <$ty>::ALL {
                if v != base.$field {
                    let mut k = base;
                    k.$field = v;
                    variants.push((format!("{}={}", $q, v), profile.with_knobs(k)));
                }
            }
        };
    }
    vary!(unknown_flags, UnknownFlags, "Q-1");
    vary!(admin_bypass, AdminBypass, "Q-2");
    vary!(done_jobs, DoneJobs, "Q-3");
    vary!(take_ownership, TakeOwnership, "Q-6");
    vary!(legacy_set_token, LegacySetToken, "Q-7");
    vary!(token_check, TokenCheck, "Q-8");
    vary!(access_check, AccessCheck, "Q-9");
    if real.hresult.is_failure() && real.hresult != base.denial.get() {
        if let Ok(code) = crate::profile::FailureCode::new(real.hresult) {
            let mut k = base;
            k.denial = code;
            variants.push((format!("Q-5={}", real.hresult), profile.with_knobs(k)));
        }
    }
    variants
        .into_iter()
        .filter(|(_, variant)| {
            model_answers(*variant, cast, scenario)
                .get(at)
                .is_some_and(|(a, _)| a == real)
        })
        .map(|(name, _)| name)
        .collect()
}

/// The release the model uses for this machine (A-3), from `CurrentBuildNumber`
/// (`GetVersionEx` lies without a manifest): before 7600 no interface, before 14393 the
/// legacy rules, before 17763 those of 1607, then 1809's. `None` when the build is unknown.
pub fn detect_release() -> (Option<u32>, Release) {
    let build = windows_build();
    let release = match build {
        Some(b) if b < 7600 => Release::PreBits4,
        Some(b) if b < 14393 => Release::Legacy,
        Some(b) if b < 17763 => Release::Win10_1607,
        _ => Release::LATEST,
    };
    (build, release)
}

fn windows_build() -> Option<u32> {
    let mut buf = [0u16; 32];
    let mut size = u32::try_from(core::mem::size_of_val(&buf)).ok()?;
    // SAFETY: `buf` is writable for `size` bytes; `size` is a live in/out parameter.
    let status = unsafe {
        RegGetValueW(
            HKEY_LOCAL_MACHINE,
            w!(r"SOFTWARE\Microsoft\Windows NT\CurrentVersion"),
            w!("CurrentBuildNumber"),
            RRF_RT_REG_SZ,
            None,
            Some(buf.as_mut_ptr().cast()),
            Some(&mut size),
        )
    };
    if status != ERROR_SUCCESS {
        return None;
    }
    String::from_utf16_lossy(&buf)
        .trim_end_matches('\0')
        .trim()
        .parse()
        .ok()
}
