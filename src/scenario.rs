//! Scenarios: a job plus a sequence of calls and events, in the language-neutral JSON form
//! the oracle reads (`cargo run --example oracle`), and the transcript the model produces.
//!
//! A [`Scenario`] names its tokens, describes the job, and lists [`Step`]s. [`Scenario::run`]
//! checks every name first (a scenario that names an unknown token or handle is refused
//! whole, with the step and the name), then replays the steps on a [`Job`] and returns a
//! [`Transcript`]: one [`StepResult`] per step and the job's final state.
//!
//! ```
//! use bits_helper_token::scenario::{Scenario, Step};
//! use bits_helper_token::{HResult, TokenInfo};
//!
//! let mut s = Scenario::new("svc");
//! s.tokens.insert("svc".into(), TokenInfo::network_service());
//! s.steps.push(Step::QueryInterface { caller: "svc".into(), handle: "h".into() });
//! s.steps.push(Step::SetHelperTokenFlags { handle: "h".into(), flags: 2 });
//! let t = s.run()?;
//! assert_eq!(t.results[1].hresult, HResult::S_OK);
//! assert_eq!(t.results[1].rule, "A-5");
//! # Ok::<(), bits_helper_token::scenario::ScenarioError>(())
//! ```
#![forbid(unsafe_code)]

use crate::decide::{Decision, Impersonation, Value};
use crate::hresult::HResult;
use crate::job::{EventOutcome, Job, TokenOptions};
use crate::profile::{Knobs, Profile, Release};
use crate::route::{
    self, Access, AuthScheme, AuthTarget, Credential, NetworkEnvironment, ProxyUsage, Used,
};
use crate::sid::Sid;
use crate::state::{JobType, Remote};
use crate::token::{Identity, TokenInfo};
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
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct JobSpec {
    /// The name of the owner's token in [`Scenario::tokens`].
    pub owner: String,
    /// Whether the owner is elevated; by default, whether its token is an administrator.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub owner_elevated: Option<bool>,
    /// The job type.
    #[cfg_attr(feature = "serde", serde(default, rename = "type"))]
    pub job_type: JobType,
    /// The remote protocol.
    #[cfg_attr(feature = "serde", serde(default))]
    pub remote: Remote,
    /// Whether a client certificate is set.
    #[cfg_attr(feature = "serde", serde(default))]
    pub client_certificate: bool,
    /// The proxy usage.
    #[cfg_attr(feature = "serde", serde(default))]
    pub proxy: ProxyUsage,
}

impl JobSpec {
    /// A fresh job of the owner named `owner`.
    pub fn new(owner: &str) -> JobSpec {
        JobSpec {
            owner: owner.into(),
            owner_elevated: None,
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
    serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)
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
        #[cfg_attr(feature = "serde", serde(default = "yes"))]
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
    /// The owner logs off (L-5).
    LogoffOwner {},
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
const fn yes() -> bool {
    true
}

impl Step {
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
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct Scenario {
    /// The release (default: the latest, A-3).
    #[cfg_attr(feature = "serde", serde(default))]
    pub release: Release,
    /// The Q-knobs (default: the SPEC's).
    #[cfg_attr(feature = "serde", serde(default))]
    pub knobs: Knobs,
    /// The network environment (R-3; default `UseLMCompat` 2).
    #[cfg_attr(feature = "serde", serde(default))]
    pub environment: NetworkEnvironment,
    /// The tokens, by name.
    pub tokens: BTreeMap<String, TokenInfo>,
    /// The job.
    pub job: JobSpec,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

impl Scenario {
    /// An empty scenario on the latest release whose job is owned by the token named
    /// `owner` (add it to [`Scenario::tokens`]).
    pub fn new(owner: &str) -> Scenario {
        Scenario {
            release: Release::LATEST,
            knobs: Knobs::DEFAULT,
            environment: NetworkEnvironment::DEFAULT,
            tokens: BTreeMap::new(),
            job: JobSpec::new(owner),
            steps: Vec::new(),
        }
    }

    /// The profile the scenario runs on.
    pub fn profile(&self) -> Profile {
        Profile::new(self.release).with_knobs(self.knobs)
    }

    /// The job the scenario starts with.
    pub fn initial_job(&self) -> Result<Job, ScenarioError> {
        let owner = self.token(None, &self.job.owner)?;
        let mut identity = Identity::of(owner);
        if let Some(elevated) = self.job.owner_elevated {
            identity.admin = elevated;
        }
        let mut job = Job::with_owner(self.profile(), identity)
            .of_type(self.job.job_type)
            .over(self.job.remote)
            .in_environment(self.environment);
        job.set_client_certificate(self.job.client_certificate);
        job.set_proxy(self.job.proxy);
        Ok(job)
    }

    fn token(&self, step: Option<usize>, name: &str) -> Result<&TokenInfo, ScenarioError> {
        self.tokens.get(name).ok_or_else(|| ScenarioError {
            step,
            kind: ScenarioErrorKind::UnknownToken(name.into()),
        })
    }

    /// Checks every name: tokens exist, handles are defined once by a `query_interface`
    /// before they are used. Nothing runs.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        self.token(None, &self.job.owner)?;
        let mut handles: Vec<&HandleName> = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            let at = Some(i + 1);
            let err = |kind| Err(ScenarioError { step: at, kind });
            match step {
                Step::QueryInterface { caller, handle } => {
                    self.token(at, caller)?;
                    if handles.contains(&handle) {
                        return err(ScenarioErrorKind::HandleRedefined(handle.clone()));
                    }
                    handles.push(handle);
                }
                Step::SetHelperToken {
                    handle,
                    impersonating,
                    ..
                } => {
                    self.token(at, impersonating)?;
                    if !handles.contains(&handle) {
                        return err(ScenarioErrorKind::UnknownHandle(handle.clone()));
                    }
                }
                Step::SetHelperTokenFlags { handle, .. }
                | Step::GetHelperTokenFlags { handle }
                | Step::ClearHelperToken { handle }
                | Step::GetHelperTokenSid { handle }
                    if !handles.contains(&handle) =>
                {
                    return err(ScenarioErrorKind::UnknownHandle(handle.clone()));
                }
                Step::TakeOwnership { caller } => {
                    self.token(at, caller)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Validates, then replays every step on the job and returns the transcript.
    pub fn run(&self) -> Result<Transcript, ScenarioError> {
        self.validate()?;
        let mut job = self.initial_job()?;
        let mut handles: BTreeMap<&HandleName, TokenOptions> = BTreeMap::new();
        let mut results = Vec::with_capacity(self.steps.len());
        for step in &self.steps {
            results.push(self.apply(step, &mut job, &mut handles));
        }
        Ok(Transcript { results, job })
    }

    /// One step. Names were validated, so lookups cannot fail; they fall back to a
    /// refusal rather than panic all the same.
    fn apply<'s>(
        &'s self,
        step: &'s Step,
        job: &mut Job,
        handles: &mut BTreeMap<&'s HandleName, TokenOptions>,
    ) -> StepResult {
        let handle = |h: &HandleName| handles.get(h).copied();
        match step {
            Step::QueryInterface { caller, handle } => {
                let Some(token) = self.tokens.get(caller) else {
                    return StepResult::invalid();
                };
                match job.query_interface(token) {
                    Ok(opts) => {
                        handles.insert(handle, opts);
                        StepResult::new(HResult::S_OK, "A-1", None)
                    }
                    Err(e) => {
                        // No interface: calls through this name answer like the missing
                        // interface would (A-2), so one scenario runs on every release.
                        handles.insert(handle, no_interface_handle(token));
                        StepResult::new(e.hresult, e.rule.id(), None)
                    }
                }
            }
            Step::SetHelperTokenFlags { handle: h, flags } => match handle(h) {
                Some(o) => decision(&o.set_helper_token_flags(job, *flags)),
                None => StepResult::invalid(),
            },
            Step::GetHelperTokenFlags { handle: h } => match handle(h) {
                Some(o) => decision(&o.get_helper_token_flags(job)),
                None => StepResult::invalid(),
            },
            Step::SetHelperToken {
                handle: h,
                impersonating,
                can_impersonate,
            } => match (handle(h), self.tokens.get(impersonating)) {
                (Some(o), Some(token)) => {
                    let imp = if *can_impersonate {
                        Impersonation::of(token)
                    } else {
                        Impersonation::Denied
                    };
                    decision(&o.set_helper_token(job, imp))
                }
                _ => StepResult::invalid(),
            },
            Step::ClearHelperToken { handle: h } => match handle(h) {
                Some(o) => decision(&o.clear_helper_token(job)),
                None => StepResult::invalid(),
            },
            Step::GetHelperTokenSid { handle: h } => match handle(h) {
                Some(o) => decision(&o.get_helper_token_sid(job)),
                None => StepResult::invalid(),
            },
            Step::LogoffOwner {} => event(&job.logoff_owner()),
            Step::Resume {} => event(&job.resume()),
            Step::Transfer {} => event(&job.transfer()),
            Step::Cancel {} => event(&job.cancel()),
            Step::Complete {} => event(&job.complete()),
            Step::TakeOwnership { caller } => match self.tokens.get(caller) {
                Some(token) => event(&job.take_ownership(token)),
                None => StepResult::invalid(),
            },
            Step::Route { access } => {
                let r = route::route(job.profile(), &job.transfer_job(), *access);
                let hresult = r.failure().map_or(HResult::S_OK, |f| f.hresult);
                StepResult::new(hresult, r.rule.id(), Some(StepValue::Route(r.identity)))
            }
            Step::SetCredentials {
                target,
                scheme,
                credential,
            } => {
                let rule = match credential {
                    Credential::Implicit => "R-3",
                    Credential::Explicit => "R-5",
                };
                match job.credentials().set(*target, *scheme, *credential) {
                    Ok(creds) => {
                        job.set_credentials(creds);
                        StepResult::new(HResult::S_OK, rule, None)
                    }
                    Err(e) => StepResult::new(e.hresult(), rule, None),
                }
            }
            Step::RemoveCredentials { target, scheme } => {
                let creds = job.credentials().remove(*target, *scheme);
                job.set_credentials(creds);
                StepResult::new(HResult::S_OK, "R-5", None)
            }
            Step::SetProxyUsage { usage } => {
                job.set_proxy(*usage);
                StepResult::new(HResult::S_OK, "R-7", None)
            }
            Step::SetClientCertificate { present } => {
                job.set_client_certificate(*present);
                StepResult::new(HResult::S_OK, "R-4", None)
            }
        }
    }
}

/// A handle for a release without the interface: its calls are refused with A-2 by the
/// decision functions themselves.
fn no_interface_handle(token: &TokenInfo) -> TokenOptions {
    TokenOptions::remembering(Identity::of(token))
}

fn decision(d: &Decision) -> StepResult {
    let value = match d.value {
        Value::Flags(flags) => Some(StepValue::Flags(flags)),
        Value::HelperSid(sid) => Some(StepValue::Sid(sid)),
        _ => None,
    };
    StepResult::new(d.hresult, d.rule.id(), value)
}

fn event(e: &EventOutcome) -> StepResult {
    StepResult::new(e.hresult, e.rule.id(), None)
}

/// What a getter or a routing question returned.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum StepValue {
    /// `GetHelperTokenFlags`: the flags (a number in JSON).
    Flags(TokenUsage),
    /// `GetHelperTokenSid`: the SID string, or `null` (L-4).
    Sid(Option<Sid>),
    /// `route`: the identity used, `{"identity": "helper", "sid": "S-…"}`.
    Route(Used),
}

/// The result of one step: the `HRESULT`, the SPEC id of the rule that decided, and the
/// value of a getter or routing question.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub struct StepResult {
    /// The `HRESULT`.
    pub hresult: HResult,
    /// The SPEC id of the rule that decided (`"A-5"`).
    pub rule: &'static str,
    /// The value, for getters and `route`.
    pub value: Option<StepValue>,
}

impl StepResult {
    const fn new(hresult: HResult, rule: &'static str, value: Option<StepValue>) -> StepResult {
        StepResult {
            hresult,
            rule,
            value,
        }
    }

    /// A step whose names did not resolve (unreachable after [`Scenario::validate`]).
    const fn invalid() -> StepResult {
        StepResult::new(HResult::E_INVALIDARG, "-", None)
    }
}

/// What a scenario produced: a result per step, and the job at the end.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Transcript {
    /// One result per step, in order.
    pub results: Vec<StepResult>,
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
            None => write!(f, "job.owner: {}", self.kind),
        }
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    use super::{StepResult, StepValue, Transcript};
    use crate::route::Used;
    use serde::ser::{Serialize, SerializeMap, Serializer};

    impl Serialize for StepValue {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            match self {
                StepValue::Flags(flags) => flags.serialize(serializer),
                StepValue::Sid(sid) => sid.serialize(serializer),
                StepValue::Route(used) => {
                    let mut map = serializer.serialize_map(None)?;
                    map.serialize_entry("identity", used.name())?;
                    match used {
                        Used::Owner { sid } | Used::Helper { sid } => {
                            map.serialize_entry("sid", sid)?
                        }
                        Used::ExplicitCredentials { target, scheme } => {
                            map.serialize_entry("target", target)?;
                            map.serialize_entry("scheme", scheme)?;
                        }
                        Used::TokenRequired { usage } => map.serialize_entry("usage", usage)?,
                        _ => {}
                    }
                    map.end()
                }
            }
        }
    }

    /// `{"hresult": "0x80070005", "name": "E_ACCESSDENIED", "rule": "A-5", "value": …}`;
    /// `name` is omitted for an unnamed code, `value` when the step returns none.
    impl Serialize for StepResult {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(None)?;
            map.serialize_entry("hresult", &self.hresult)?;
            if let Some(name) = self.hresult.name() {
                map.serialize_entry("name", name)?;
            }
            map.serialize_entry("rule", self.rule)?;
            if let Some(value) = &self.value {
                map.serialize_entry("value", value)?;
            }
            map.end()
        }
    }

    struct JobSummary<'a>(&'a crate::job::Job);

    /// `{"state": "error", "error": "0x80200056", "flags": 2, "helper_token": SID or null,
    /// "owner": SID}`.
    impl Serialize for JobSummary<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let job = self.0;
            let mut map = serializer.serialize_map(None)?;
            map.serialize_entry("state", &job.state())?;
            map.serialize_entry("error", &job.error().map(|e| e.hresult))?;
            map.serialize_entry("flags", &job.flags())?;
            map.serialize_entry("helper_token", &job.helper_token().map(|h| h.sid))?;
            map.serialize_entry("owner", &job.owner().sid)?;
            map.end()
        }
    }

    /// The oracle's output line: `{"results": […], "job": {…}}`.
    impl Serialize for Transcript {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(2))?;
            map.serialize_entry("results", &self.results)?;
            map.serialize_entry("job", &JobSummary(&self.job))?;
            map.end()
        }
    }
}
