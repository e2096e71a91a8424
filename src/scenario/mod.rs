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
//! s.steps.push(Step::query_interface("svc", "h"));
//! s.steps.push(Step::SetHelperTokenFlags { handle: "h".into(), flags: 2, level: None });
//! let t = s.run()?;
//! assert_eq!(t.results[1].hresult, HResult::S_OK);
//! assert_eq!(t.results[1].rule, bits_helper_token::RuleId::A5);
//! # Ok::<(), bits_helper_token::scenario::ScenarioError>(())
//! ```
#![forbid(unsafe_code)]

use crate::access::Access;
use crate::challenge::{Challenges, IeSettings};
use crate::decide::route::Principal;
use crate::facts::JobError;
use crate::hresult::HResult;
use crate::job::Job;
use crate::net::{AuthScheme, Credentials, NetworkEnvironment, ProxyUsage};
use crate::profile::{Knobs, Release};
use crate::rule::RuleId;
use crate::sid::Sid;
use crate::state::{JobState, JobType, Remote};
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
    /// Whether the job holds its file (`"files": 0` or `1`; default 1): T-7, L-9, L-15.
    #[cfg_attr(
        feature = "serde",
        serde(
            default = "yes",
            rename = "files",
            with = "file_count",
            skip_serializing_if = "is_true"
        )
    )]
    pub has_file: bool,
    /// Whether the owner's user is logged on at the start (L-11); by default, whether it is
    /// a service account or one of the scenario's tokens of that user has a logon that
    /// counts.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub owner_logged_on: Option<bool>,
    /// Whether the HTTPS server asks for a client certificate (X-4).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "is_default"))]
    pub server_requests_certificate: bool,
    /// `USE_STORED_CREDENTIALS` for the proxy (R-3 (iv)).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "is_default"))]
    pub use_stored_credentials: bool,
    /// The job's state now (contract 3, §1.5b; default a new job's, SUSPENDED).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "is_default"))]
    pub state: JobState,
    /// The job's error now: in ERROR one the model produces, in TRANSIENT_ERROR any
    /// failure code; `null` otherwise.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub error: Option<HResult>,
    /// The stored flags now (known bits only).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "is_default"))]
    pub flags: u32,
    /// The stored helper token now: the name of a token in [`Scenario::tokens`].
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub helper_token: Option<String>,
    /// The credentials set now (R-3, R-5).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Credentials::is_empty",
            deserialize_with = "crate::strict::object"
        )
    )]
    pub credentials: Credentials,
}

#[cfg(feature = "serde")]
const fn yes() -> bool {
    true
}

#[cfg(feature = "serde")]
#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
const fn is_true(value: &bool) -> bool {
    *value
}

/// `"files": 0` or `1`, as the job's `has_file`.
#[cfg(feature = "serde")]
mod file_count {
    use serde::{Deserialize, Deserializer, Serializer, de::Error, de::Unexpected};

    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's `with` passes a reference
    pub(super) fn serialize<S: Serializer>(has_file: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(u8::from(*has_file))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        match u64::deserialize(d)? {
            0 => Ok(false),
            1 => Ok(true),
            n => Err(D::Error::invalid_value(
                Unexpected::Unsigned(n),
                &"0 or 1 (the model's job holds no file or one)",
            )),
        }
    }
}

/// A field at its default is left out of the serialized scenario (the parser puts it
/// back), so written scenarios say only what differs from a fresh job.
#[cfg(feature = "serde")]
fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

#[cfg(feature = "serde")]
fn steps<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Step>, D::Error> {
    crate::strict::objects(d, "step")
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
            has_file: true,
            owner_logged_on: None,
            server_requests_certificate: false,
            use_stored_credentials: false,
            state: JobState::Suspended,
            error: None,
            flags: 0,
            helper_token: None,
            credentials: Credentials::NONE,
        }
    }
}

/// A scenario: the release and knobs, named tokens, the job, and the steps.
///
/// Serialized as the oracle's input line: `{"release": …, "knobs": {…}, "environment":
/// {…}, "tokens": {NAME: {"user": SID, "groups": […]}}, "job": {…}, "steps": […]}`. Only
/// `tokens`, `job.owner` and `steps` are required. Read, a token may also be a well-known
/// token's shorthand, which stands for what the [`TokenInfo`] constructor of that name
/// builds: `"local_system"`, `"local_service"`, `"network_service"`, `{"standard_user":
/// SID}`, `{"administrator": SID}` ([`TokenInfo::elevated_administrator`]) or
/// `{"filtered_administrator": SID}`.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use bits_helper_token::{scenario::Scenario, token::TokenInfo};
/// let s: Scenario = serde_json::from_str(
///     r#"{"tokens": {"svc": "network_service", "boss": {"administrator": "S-1-5-21-1-2-3-500"}},
///         "job": {"owner": "svc"}, "steps": []}"#,
/// )
/// .unwrap();
/// assert_eq!(s.tokens["svc"], TokenInfo::network_service());
/// let boss = "S-1-5-21-1-2-3-500".parse().unwrap();
/// assert_eq!(s.tokens["boss"], TokenInfo::elevated_administrator(boss));
/// # }
/// ```
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
    /// The tokens, by name (a name given twice is refused); read from token objects or
    /// shorthands, written as token objects.
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::token::shorthand::tokens")
    )]
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
        /// The scheme: the access's own for a per-scheme challenge, the one BITS chooses
        /// for a whole challenge (X-3); `None` elsewhere and when nothing answers.
        scheme: Option<AuthScheme>,
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
    /// Whether the step went through a handle whose `query_interface` was refused: it is
    /// answered with that refusal and changes nothing (contract 3, §1.7).
    pub skipped: bool,
    /// For an accepted `SetHelperTokenFlags`: the failure X-1 predicts once the job
    /// transfers with a helper token.
    pub transfer_failure: Option<JobError>,
}

impl StepResult {
    const fn new(hresult: HResult, rule: RuleId, value: Option<StepValue>) -> StepResult {
        StepResult {
            hresult,
            rule,
            value,
            skipped: false,
            transfer_failure: None,
        }
    }
}

/// What can be seen of a job from outside after a step — the oracle's `job` object: the
/// `IBackgroundCopyJob` state and error, the stored flags and helper token, the owner with
/// the elevation and integrity level the job recorded (T-9) and its logon state, the file,
/// and the settings routing reads. The transcript's job and the differential harness's
/// comparisons are this one value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct JobSnapshot {
    /// The state (T-7).
    pub state: crate::state::JobState,
    /// The job error's code, in ERROR or TRANSIENT_ERROR.
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
    /// Whether the owner's user is logged on (L-11); always for the service accounts.
    pub owner_logged_on: bool,
    /// The files the job holds: 0 or 1.
    pub files: u8,
    /// Whether a client certificate is set.
    pub client_certificate: bool,
    /// The proxy usage.
    pub proxy: ProxyUsage,
    /// The credentials set.
    pub credentials: Credentials,
    /// `USE_STORED_CREDENTIALS` for the proxy (R-3 (iv)).
    pub use_stored_credentials: bool,
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
            owner_logged_on: job.owner_logged_on() || owner.sid.is_service_account(),
            files: u8::from(job.has_file()),
            client_certificate: job.client_certificate(),
            proxy: job.proxy(),
            credentials: *job.credentials(),
            use_stored_credentials: job.use_stored_credentials(),
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
    /// A step that gives both `level` and `can_impersonate`.
    #[error("give \"level\" or \"can_impersonate\", not both")]
    LevelTwice,
    /// `add_file` on a download that already holds its file: outside the model (L-15).
    #[error("{0}")]
    SecondFile(crate::decide::SecondFile),
    /// A job the model cannot reach (contract 3, §1.5b; A-14, L-11, A-2).
    #[error("{0}")]
    InvalidJob(String),
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
            None if matches!(
                self.kind,
                ScenarioErrorKind::JobCannotExist | ScenarioErrorKind::InvalidJob(_)
            ) =>
            {
                write!(f, "job: {}", self.kind)
            }
            None => write!(f, "job.owner: {}", self.kind),
        }
    }
}

#[cfg(feature = "serde")]
pub(crate) mod json;
mod run;
mod step;
pub use step::{JobProperty, PropertyTarget, Step};

pub use run::Session;

#[cfg(feature = "json")]
mod line;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub use line::{
    ANSWER_SCHEMA, CONTRACT, JsonError, LineError, SCENARIO_SCHEMA, answer_line, answer_scenario,
    schemas_json,
};
