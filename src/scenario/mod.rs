//! Scenarios: a job plus a sequence of calls and events, in the language-neutral JSON form
//! the oracle reads (`bits-helper-token-oracle`, feature `cli`), and the transcript the
//! model produces.
//!
//! A [`Scenario`] names its tokens, describes the job, and lists [`Step`]s. [`Scenario::run`]
//! checks every name first (a scenario that names an unknown token or handle is refused
//! whole, with the step and the name), then replays the steps on a [`Job`] and returns a
//! [`Transcript`]: one [`StepResult`] per step and the job's final state.
//!
//! ```
//! use bits_helper_token::scenario::{Scenario, Step};
//! use bits_helper_token::{HResult, token::TokenInfo};
//!
//! let mut s = Scenario::new("svc");
//! s.tokens.insert("svc".into(), TokenInfo::network_service());
//! s.steps.push(Step::QueryInterface { caller: "svc".into(), handle: "h".into() });
//! s.steps.push(Step::SetHelperTokenFlags { handle: "h".into(), flags: 2 });
//! let t = s.run()?;
//! assert_eq!(t.results[1].hresult, HResult::S_OK);
//! assert_eq!(t.results[1].rule, bits_helper_token::RuleId::A5);
//! # Ok::<(), bits_helper_token::scenario::ScenarioError>(())
//! ```
#![forbid(unsafe_code)]

use crate::access::Access;
use crate::challenge::{Challenges, IeSettings};
use crate::decide::route::Principal;
use crate::hresult::HResult;
use crate::job::Job;
use crate::net::{AuthScheme, AuthTarget, Credential, NetworkEnvironment, ProxyUsage};
use crate::profile::{Knobs, Release};
use crate::rule::RuleId;
use crate::sid::Sid;
use crate::state::{JobType, Remote};
use crate::token::{IntegrityLevel, TokenInfo};
use crate::usage::TokenUsage;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The name of an `IBitsTokenOptions` handle within a scenario: a string or a number, as
/// the scenario's author wrote it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(untagged))]
#[allow(clippy::exhaustive_enums)] // JSON has these two scalar forms for a name
pub enum HandleName {
    /// A number, `"handle": 1`.
    Number(u64),
    /// A string, `"handle": "h1"`.
    Name(String),
}

impl From<&str> for HandleName {
    fn from(s: &str) -> HandleName {
        HandleName::Name(s.into())
    }
}

impl From<u64> for HandleName {
    fn from(n: u64) -> HandleName {
        HandleName::Number(n)
    }
}

impl fmt::Display for HandleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandleName::Number(n) => write!(f, "{n}"),
            HandleName::Name(s) => write!(f, "{s:?}"),
        }
    }
}

/// The job a scenario starts with. Only `owner` is required; the rest default to a fresh
/// job: a download over HTTPS, no client certificate, the preconfigured proxy, and an owner
/// elevated exactly when its token has the Administrators group enabled (T-5).
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(remote = "Self", deny_unknown_fields))]
#[non_exhaustive]
pub struct JobSpec {
    /// The name of the owner's token in [`Scenario::tokens`].
    pub owner: String,
    /// Whether the owner's token was elevated (T-9); by default, the token's own.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub owner_elevated: Option<bool>,
    /// The owner's token's integrity level (T-8); by default, the token's own.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub owner_integrity: Option<IntegrityLevel>,
    /// The job type.
    #[cfg_attr(
        feature = "serde",
        serde(default, rename = "type", skip_serializing_if = "is_default")
    )]
    pub job_type: JobType,
    /// The remote protocol.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "is_default"))]
    pub remote: Remote,
    /// Whether a client certificate is set.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "is_default"))]
    pub client_certificate: bool,
    /// The proxy usage.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "is_default"))]
    pub proxy: ProxyUsage,
    /// The schemes the server and the proxy challenge with (X-3); none by default.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Challenges::is_empty",
            deserialize_with = "crate::strict::object"
        )
    )]
    pub challenges: Challenges,
    /// What `PRECONFIG` finds in the IE settings (R-7); direct by default.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "is_default"))]
    pub ie_settings: IeSettings,
}

#[cfg(feature = "serde")]
crate::names::strict_object!(JobSpec, "a job");

impl JobSpec {
    /// A fresh job of the owner named `owner`.
    pub fn new(owner: &str) -> JobSpec {
        JobSpec {
            owner: owner.into(),
            owner_elevated: None,
            owner_integrity: None,
            challenges: Challenges::NONE,
            ie_settings: IeSettings::Direct,
            job_type: JobType::Download,
            remote: Remote::Https,
            client_certificate: false,
            proxy: ProxyUsage::Preconfig,
        }
    }
}

/// One step of a scenario: a method on a handle, a job event, a routing question, or a
/// change of the job's network settings. Serialized with an `"op"` field naming it; any
/// other field a step does not define is refused (the events are empty struct variants
/// for that reason: `Step::Resume {}`).
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        remote = "Self",
        tag = "op",
        rename_all = "snake_case",
        deny_unknown_fields
    )
)]
#[non_exhaustive]
pub enum Step {
    /// `QueryInterface` as `caller`'s token; the handle remembers it (A-1).
    QueryInterface {
        /// The token whose identity the handle remembers.
        caller: String,
        /// The new handle's name.
        handle: HandleName,
    },
    /// `SetHelperTokenFlags(flags)`.
    SetHelperTokenFlags {
        /// The handle.
        handle: HandleName,
        /// The raw `DWORD`.
        flags: u32,
    },
    /// `GetHelperTokenFlags`.
    GetHelperTokenFlags {
        /// The handle.
        handle: HandleName,
    },
    /// `SetHelperToken` while impersonating a token.
    SetHelperToken {
        /// The handle.
        handle: HandleName,
        /// The token the caller impersonates at call time.
        impersonating: String,
        /// Whether the client's COM security allows impersonation (A-9); default `true`.
        #[cfg_attr(
            feature = "serde",
            serde(default = "yes", skip_serializing_if = "is_true")
        )]
        can_impersonate: bool,
    },
    /// `ClearHelperToken`.
    ClearHelperToken {
        /// The handle.
        handle: HandleName,
    },
    /// `GetHelperTokenSid`.
    GetHelperTokenSid {
        /// The handle.
        handle: HandleName,
    },
    /// The owner logs off (L-5, L-8).
    LogoffOwner {},
    /// The owner logs on (L-8).
    LogonOwner {},
    /// The session the helper token was taken in ends (L-5).
    HelperSessionEnded {},
    /// The BITS service stops (L-5).
    ServiceStop {},
    /// `Resume`.
    Resume {},
    /// A whole transfer run.
    Transfer {},
    /// `Cancel`.
    Cancel {},
    /// `Complete`.
    Complete {},
    /// `TakeOwnership` as `caller`'s token (L-7).
    TakeOwnership {
        /// The caller's token.
        caller: String,
    },
    /// As whom BITS makes this access now (R-1…R-7).
    Route {
        /// The access, by its name (`"server_challenge_negotiate"`).
        access: Access,
    },
    /// `SetCredentials(target, scheme, …)`: explicit (a user name) or implicit (NULL,
    /// NULL), R-3, R-5.
    SetCredentials {
        /// Server or proxy.
        target: AuthTarget,
        /// The scheme.
        scheme: AuthScheme,
        /// Explicit or implicit.
        credential: Credential,
    },
    /// `RemoveCredentials(target, scheme)`.
    RemoveCredentials {
        /// Server or proxy.
        target: AuthTarget,
        /// The scheme.
        scheme: AuthScheme,
    },
    /// `SetProxySettings` (the usage only, R-7).
    SetProxyUsage {
        /// The proxy usage.
        usage: ProxyUsage,
    },
    /// `SetClientCertificateBy…` (`true`) or `RemoveClientCertificate` (`false`), X-1.
    SetClientCertificate {
        /// Whether a certificate is set.
        present: bool,
    },
}

#[cfg(feature = "serde")]
crate::names::strict_object!(Step, "a step");

#[cfg(feature = "serde")]
const fn yes() -> bool {
    true
}

/// A field at its default is left out of the serialized scenario (the parser puts it
/// back), so written scenarios say only what differs from a fresh job.
#[cfg(feature = "serde")]
fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

#[cfg(feature = "serde")]
#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
const fn is_true(value: &bool) -> bool {
    *value
}

#[cfg(feature = "serde")]
fn tokens<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, TokenInfo>, D::Error> {
    crate::strict::unique_objects(d, "tokens")
}

#[cfg(feature = "serde")]
fn steps<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Step>, D::Error> {
    crate::strict::objects(d, "step")
}

impl Step {
    /// The handle the step goes through: the five `IBitsTokenOptions` methods.
    /// `query_interface` names the handle it defines, and goes through none.
    pub fn handle(&self) -> Option<&HandleName> {
        match self {
            Step::SetHelperTokenFlags { handle, .. }
            | Step::GetHelperTokenFlags { handle }
            | Step::SetHelperToken { handle, .. }
            | Step::ClearHelperToken { handle }
            | Step::GetHelperTokenSid { handle } => Some(handle),
            _ => None,
        }
    }

    /// The token the step names (its caller, or the token it impersonates), if any.
    pub fn token(&self) -> Option<&str> {
        match self {
            Step::QueryInterface { caller, .. } | Step::TakeOwnership { caller } => Some(caller),
            Step::SetHelperToken { impersonating, .. } => Some(impersonating),
            _ => None,
        }
    }

    /// [`Step::handle`], to rename it.
    pub fn handle_mut(&mut self) -> Option<&mut HandleName> {
        match self {
            Step::SetHelperTokenFlags { handle, .. }
            | Step::GetHelperTokenFlags { handle }
            | Step::SetHelperToken { handle, .. }
            | Step::ClearHelperToken { handle }
            | Step::GetHelperTokenSid { handle } => Some(handle),
            _ => None,
        }
    }

    /// The step's `"op"` name.
    pub const fn op(&self) -> &'static str {
        match self {
            Step::QueryInterface { .. } => "query_interface",
            Step::SetHelperTokenFlags { .. } => "set_helper_token_flags",
            Step::GetHelperTokenFlags { .. } => "get_helper_token_flags",
            Step::SetHelperToken { .. } => "set_helper_token",
            Step::ClearHelperToken { .. } => "clear_helper_token",
            Step::GetHelperTokenSid { .. } => "get_helper_token_sid",
            Step::LogoffOwner {} => "logoff_owner",
            Step::LogonOwner {} => "logon_owner",
            Step::HelperSessionEnded {} => "helper_session_ended",
            Step::ServiceStop {} => "service_stop",
            Step::Resume {} => "resume",
            Step::Transfer {} => "transfer",
            Step::Cancel {} => "cancel",
            Step::Complete {} => "complete",
            Step::TakeOwnership { .. } => "take_ownership",
            Step::Route { .. } => "route",
            Step::SetCredentials { .. } => "set_credentials",
            Step::RemoveCredentials { .. } => "remove_credentials",
            Step::SetProxyUsage { .. } => "set_proxy_usage",
            Step::SetClientCertificate { .. } => "set_client_certificate",
        }
    }
}

/// A scenario: the release and knobs, named tokens, the job, and the steps.
///
/// Serialized as the oracle's input line: `{"release": …, "knobs": {…}, "environment":
/// {…}, "tokens": {NAME: {"user": SID, "groups": […]}}, "job": {…}, "steps": […]}`. Only
/// `tokens`, `job.owner` and `steps` are required.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(remote = "Self", deny_unknown_fields))]
#[non_exhaustive]
pub struct Scenario {
    /// The release (default: the latest, A-3).
    #[cfg_attr(feature = "serde", serde(default))]
    pub release: Release,
    /// The Q-knobs (default: the SPEC's).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            deserialize_with = "crate::strict::object",
            skip_serializing_if = "is_default"
        )
    )]
    pub knobs: Knobs,
    /// The network environment (R-3; default `UseLMCompat` 2).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            deserialize_with = "crate::strict::object",
            skip_serializing_if = "is_default"
        )
    )]
    pub environment: NetworkEnvironment,
    /// The tokens, by name (a name given twice is refused).
    #[cfg_attr(feature = "serde", serde(deserialize_with = "tokens"))]
    pub tokens: BTreeMap<String, TokenInfo>,
    /// The job.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "crate::strict::object"))]
    pub job: JobSpec,
    /// The steps, in order.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "steps"))]
    pub steps: Vec<Step>,
    /// Whether the transcript explains every result in a sentence (default `false`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "core::ops::Not::not")
    )]
    pub explain: bool,
}

#[cfg(feature = "serde")]
crate::names::strict_object!(Scenario, "a scenario");

/// What a getter or a routing question returned.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum StepValue {
    /// `GetHelperTokenFlags`: the flags (a number in JSON).
    Flags(TokenUsage),
    /// `GetHelperTokenSid`: the SID string, or `null` (L-4).
    Sid(Option<Sid>),
    /// `route`: the principal used, `{"identity": "helper", "sid": "S-…"}`.
    Route {
        /// Whose identity.
        principal: Principal,
        /// The owner's or helper's SID, for those principals.
        sid: Option<Sid>,
        /// The access routed.
        access: Access,
    },
}

/// The result of one step: the `HRESULT`, the SPEC id of the rule that decided, and the
/// value of a getter or routing question.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub struct StepResult {
    /// The `HRESULT`.
    pub hresult: HResult,
    /// The SPEC id of the rule that decided (`"A-5"`).
    pub rule: RuleId,
    /// The value, for getters and `route`.
    pub value: Option<StepValue>,
}

impl StepResult {
    const fn new(hresult: HResult, rule: RuleId, value: Option<StepValue>) -> StepResult {
        StepResult {
            hresult,
            rule,
            value,
        }
    }
}

/// What can be seen of a job from outside after a step — the oracle's `job` object: the
/// `IBackgroundCopyJob` state and error, the stored flags and helper token, and the owner
/// with the elevation and integrity level the job recorded (T-9). The transcript's job and
/// the differential harness's comparisons are this one value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct JobSnapshot {
    /// The state (T-7).
    pub state: crate::state::JobState,
    /// The job error's code, in ERROR.
    pub error: Option<HResult>,
    /// The stored usage flags.
    pub flags: TokenUsage,
    /// The stored helper token's SID.
    pub helper_token: Option<Sid>,
    /// The owner's SID.
    pub owner: Sid,
    /// Whether the owner's token was elevated (T-9, `GetOwnerElevationState`).
    pub owner_elevated: bool,
    /// The owner's integrity level (T-8, `GetOwnerIntegrityLevel`).
    pub owner_integrity: IntegrityLevel,
}

impl JobSnapshot {
    /// What `job` shows now.
    pub fn of(job: &Job) -> JobSnapshot {
        let owner = job.owner();
        JobSnapshot {
            state: job.state(),
            error: job.error().map(|e| e.hresult),
            flags: job.flags(),
            helper_token: job.helper_token().map(|h| h.sid),
            owner: owner.sid,
            owner_elevated: owner.elevated,
            owner_integrity: owner.integrity,
        }
    }
}

/// What a scenario produced: a result per step (and, when asked for, the sentence that
/// explains each), and the job at the end.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Transcript {
    /// One result per step, in order.
    pub results: Vec<StepResult>,
    /// With [`Scenario::explain`]: one sentence per step, in order; else empty.
    pub explanations: Vec<String>,
    /// The job after the last step.
    pub job: Job,
}

/// Why a scenario was refused before it ran.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioErrorKind {
    /// A token name that is not in `tokens`.
    #[error("unknown token {0:?} (not in \"tokens\")")]
    UnknownToken(String),
    /// A handle used before any `query_interface` defined it.
    #[error("handle {0} is not defined by an earlier query_interface")]
    UnknownHandle(HandleName),
    /// A second `query_interface` with a handle name already in use.
    #[error("handle {0} is already defined")]
    HandleRedefined(HandleName),
    /// A job that cannot exist: an upload-reply job over SMB (T-7).
    #[error("an upload-reply job cannot use SMB (T-7: adding its file fails with E_INVALIDARG)")]
    JobCannotExist,
    /// A handle whose `query_interface` was refused (A-11 or Q-9), used later.
    #[error("handle {0} was not obtained: its query_interface was refused")]
    HandleRefused(HandleName),
}

/// A scenario refused before it ran: which step (1-based; `None` for the job itself) and
/// why.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub struct ScenarioError {
    /// The step, from 1; `None` when the problem is in `job`.
    pub step: Option<usize>,
    /// What is wrong.
    pub kind: ScenarioErrorKind,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.step {
            Some(n) => write!(f, "step {n}: {}", self.kind),
            None if matches!(self.kind, ScenarioErrorKind::JobCannotExist) => {
                write!(f, "job: {}", self.kind)
            }
            None => write!(f, "job.owner: {}", self.kind),
        }
    }
}

#[cfg(feature = "serde")]
mod json;
mod run;

pub use run::Session;

#[cfg(feature = "json")]
mod line;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub use line::JsonError;
