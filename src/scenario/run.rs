//! Replaying a scenario: every name resolved once into typed steps, then each step
//! decided by the model and applied to the job.
#![forbid(unsafe_code)]

use super::{
    HandleName, JobSpec, Scenario, ScenarioError, ScenarioErrorKind, Step, StepResult, StepValue,
    Transcript,
};
use crate::access::Access;
use crate::decide::route::Route;
use crate::decide::{Decision, Impersonation, Value};
use crate::explain::Explained;
use crate::facts::JobFacts;
use crate::hresult::HResult;
use crate::job::{Job, TokenOptions};
use crate::net::NetworkEnvironment;
use crate::net::{AuthScheme, AuthTarget, Credential, ProxyUsage};
use crate::profile::{Knobs, Profile, Release};
use crate::rule::Reason;
use crate::token::Identity;
use alloc::collections::BTreeMap;
use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

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
            explain: false,
        }
    }

    /// The profile the scenario runs on.
    pub fn profile(&self) -> Profile {
        Profile::new(self.release).with_knobs(self.knobs)
    }

    /// The job the scenario starts with. Refused when the owner is not a token, or when
    /// the job cannot exist (T-7).
    pub fn initial_job(&self) -> Result<Job, ScenarioError> {
        let owner = self
            .tokens
            .get(&self.job.owner)
            .ok_or_else(|| unknown_token(None, &self.job.owner))?;
        let job = self.job_of(Identity::of(owner));
        if !job.facts().can_exist() {
            return Err(ScenarioError {
                step: None,
                kind: ScenarioErrorKind::JobCannotExist,
            });
        }
        Ok(job)
    }

    fn job_of(&self, mut owner: Identity) -> Job {
        // T-9: what the job remembers of its owner's token, as stated or the token's own.
        if let Some(elevated) = self.job.owner_elevated {
            owner.elevated = elevated;
        }
        if let Some(integrity) = self.job.owner_integrity {
            owner.integrity = integrity;
        }
        let facts = JobFacts::new(owner)
            .with_job_type(self.job.job_type)
            .with_remote(self.job.remote)
            .with_environment(self.environment)
            .with_client_certificate(self.job.client_certificate)
            .with_proxy(self.job.proxy)
            .with_challenges(self.job.challenges)
            .with_ie_settings(self.job.ie_settings);
        Job::with_facts(self.profile(), facts)
    }

    /// Checks every name without running anything: the owner and every caller are tokens,
    /// a handle is defined once by a `query_interface` before it is used, the job can
    /// exist. Linear in the scenario's size.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        self.initial_job()?;
        let mut defined: BTreeSet<&HandleName> = BTreeSet::new();
        for (i, step) in self.steps.iter().enumerate() {
            let at = |kind| ScenarioError {
                step: Some(i + 1),
                kind,
            };
            if let Some(name) = step.token() {
                if !self.tokens.contains_key(name) {
                    return Err(at(ScenarioErrorKind::UnknownToken(name.into())));
                }
            }
            if let Step::QueryInterface { handle, .. } = step {
                if !defined.insert(handle) {
                    return Err(at(ScenarioErrorKind::HandleRedefined(handle.clone())));
                }
            }
            if let Some(handle) = step.handle() {
                if !defined.contains(handle) {
                    return Err(at(ScenarioErrorKind::UnknownHandle(handle.clone())));
                }
            }
        }
        Ok(())
    }

    /// Validates, then replays every step on the job and returns the transcript.
    pub fn run(&self) -> Result<Transcript, ScenarioError> {
        self.validate()?;
        let mut session = Session::new(self)?;
        let mut results = Vec::with_capacity(self.steps.len());
        let mut explanations = Vec::new();
        for step in &self.steps {
            let (result, explanation) = session.play(step, self.explain)?;
            results.push(result);
            explanations.extend(explanation);
        }
        Ok(Transcript {
            results,
            explanations,
            job: session.job,
        })
    }
}

/// A scenario played one step at a time: the model's state between two steps (the
/// tokens, the handles obtained so far, the job). For stateful testing: generate a step
/// from the session ([`crate::support::proptest::step`]), apply it to the system under
/// test and to the session, compare.
///
/// ```
/// use bits_helper_token::scenario::{Scenario, Session, Step};
/// use bits_helper_token::{HResult, RuleId, token::TokenInfo};
///
/// let mut s = Scenario::new("svc");
/// s.tokens.insert("svc".into(), TokenInfo::network_service());
/// let mut session = Session::new(&s)?;
/// let r = session.step(&Step::QueryInterface { caller: "svc".into(), handle: 1.into() })?;
/// assert_eq!(r.rule, RuleId::A1);
/// // A refused step (an unknown handle) changes nothing.
/// let wrong = Step::GetHelperTokenFlags { handle: 2.into() };
/// assert_eq!(session.step(&wrong).unwrap_err().step, Some(2));
/// assert_eq!(session.steps_taken(), 1);
/// let r = session.step(&Step::SetHelperTokenFlags { handle: 1.into(), flags: 2 })?;
/// assert_eq!((r.hresult, r.rule), (HResult::S_OK, RuleId::A5));
/// assert_eq!(session.job().flags().bits(), 2);
/// # Ok::<(), bits_helper_token::scenario::ScenarioError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Session {
    header: Scenario,
    identities: BTreeMap<String, Identity>,
    handles: BTreeMap<HandleName, Option<TokenOptions>>,
    job: Job,
    steps: usize,
    last: Option<StepResult>,
}

impl Session {
    /// The session before the first step of `scenario` (its steps are not played): the
    /// tokens, the release and knobs, the job. Refused when the owner is not a token or
    /// the job cannot exist.
    pub fn new(scenario: &Scenario) -> Result<Session, ScenarioError> {
        let identities: BTreeMap<String, Identity> = scenario
            .tokens
            .iter()
            .map(|(name, token)| (name.clone(), Identity::of(token)))
            .collect();
        let job = scenario.initial_job()?;
        let header = Scenario {
            release: scenario.release,
            knobs: scenario.knobs,
            environment: scenario.environment,
            tokens: scenario.tokens.clone(),
            job: scenario.job.clone(),
            steps: Vec::new(),
            explain: scenario.explain,
        };
        Ok(Session {
            header,
            identities,
            handles: BTreeMap::new(),
            job,
            steps: 0,
            last: None,
        })
    }

    /// The scenario this session plays, without its steps: the release, knobs,
    /// environment, tokens and job a system under test starts from.
    pub const fn header(&self) -> &Scenario {
        &self.header
    }

    /// The result of the last step applied, if any.
    pub const fn last_result(&self) -> Option<&StepResult> {
        self.last.as_ref()
    }

    /// The job as it is now.
    pub const fn job(&self) -> &Job {
        &self.job
    }

    /// How many steps were applied.
    pub const fn steps_taken(&self) -> usize {
        self.steps
    }

    /// The token names, in order.
    pub fn token_names(&self) -> impl Iterator<Item = &str> {
        self.identities.keys().map(String::as_str)
    }

    /// The handles defined so far, in order, each with whether its `query_interface`
    /// gave a handle (`false`: the access check refused it, A-11 under Q-9).
    pub fn handles(&self) -> impl Iterator<Item = (&HandleName, bool)> {
        self.handles.iter().map(|(name, h)| (name, h.is_some()))
    }

    /// Whether `step` can be applied now: every name resolves, a new handle's name is
    /// free, a handle used was obtained. The error [`Session::step`] would return.
    pub fn check(&self, step: &Step) -> Result<(), ScenarioError> {
        self.resolve(step).map(|_| ())
    }

    /// Applies one step: its result, or the error that refused it (numbered as the next
    /// step); a refused step changes nothing.
    pub fn step(&mut self, step: &Step) -> Result<StepResult, ScenarioError> {
        self.play(step, false).map(|(result, _)| result)
    }

    /// As [`Session::step`], with the sentence that explains the result.
    pub fn step_explained(&mut self, step: &Step) -> Result<(StepResult, String), ScenarioError> {
        let (result, explanation) = self.play(step, true)?;
        Ok((result, explanation.unwrap_or_default()))
    }

    /// The job, ending the session.
    pub fn into_job(self) -> Job {
        self.job
    }

    fn play(
        &mut self,
        step: &Step,
        explain: bool,
    ) -> Result<(StepResult, Option<String>), ScenarioError> {
        let typed = self.resolve(step)?;
        let answered = self.apply(&typed);
        self.steps += 1;
        let explanation = explain.then(|| answered.explanation());
        let result = answered.result();
        self.last = Some(result);
        Ok((result, explanation))
    }

    /// The step with its names resolved — tokens to identities, a handle to the handle
    /// obtained — or why it cannot be applied now.
    fn resolve<'s>(&self, step: &'s Step) -> Result<Typed<'s>, ScenarioError> {
        let at = |kind| ScenarioError {
            step: Some(self.steps + 1),
            kind,
        };
        let identity = |name: &str| {
            self.identities
                .get(name)
                .copied()
                .ok_or_else(|| at(ScenarioErrorKind::UnknownToken(name.into())))
        };
        // A handle whose QueryInterface was refused was never obtained (A-11, Q-9).
        let obtained = |h: &HandleName| match self.handles.get(h) {
            Some(Some(handle)) => Ok(*handle),
            Some(None) => Err(at(ScenarioErrorKind::HandleRefused(h.clone()))),
            None => Err(at(ScenarioErrorKind::UnknownHandle(h.clone()))),
        };
        Ok(match step {
            Step::QueryInterface { caller, handle } => {
                let caller = identity(caller)?;
                if self.handles.contains_key(handle) {
                    return Err(at(ScenarioErrorKind::HandleRedefined(handle.clone())));
                }
                Typed::QueryInterface(caller, handle)
            }
            Step::SetHelperTokenFlags { handle, flags } => {
                Typed::SetFlags(obtained(handle)?, *flags)
            }
            Step::GetHelperTokenFlags { handle } => Typed::GetFlags(obtained(handle)?),
            Step::SetHelperToken {
                handle,
                impersonating,
                can_impersonate,
            } => {
                let token = identity(impersonating)?;
                let imp = if *can_impersonate {
                    Impersonation::Allowed(token)
                } else {
                    Impersonation::Denied
                };
                Typed::SetToken(obtained(handle)?, imp)
            }
            Step::ClearHelperToken { handle } => Typed::Clear(obtained(handle)?),
            Step::GetHelperTokenSid { handle } => Typed::GetSid(obtained(handle)?),
            Step::TakeOwnership { caller } => Typed::TakeOwnership(identity(caller)?),
            Step::LogoffOwner {} => Typed::Event(Job::logoff_owner),
            Step::LogonOwner {} => Typed::Event(Job::logon_owner),
            Step::HelperSessionEnded {} => Typed::Event(Job::helper_session_ended),
            Step::ServiceStop {} => Typed::Event(Job::service_stop),
            Step::Resume {} => Typed::Event(Job::resume),
            Step::Transfer {} => Typed::Event(Job::transfer),
            Step::Cancel {} => Typed::Event(Job::cancel),
            Step::Complete {} => Typed::Event(Job::complete),
            Step::Route { access } => Typed::Route(*access),
            Step::SetCredentials {
                target,
                scheme,
                credential,
            } => Typed::SetCredentials(*target, *scheme, *credential),
            Step::RemoveCredentials { target, scheme } => {
                Typed::RemoveCredentials(*target, *scheme)
            }
            Step::SetProxyUsage { usage } => Typed::SetProxyUsage(*usage),
            Step::SetClientCertificate { present } => Typed::SetClientCertificate(*present),
        })
    }

    /// One resolved step, decided by the model and applied to the job.
    fn apply(&mut self, step: &Typed<'_>) -> Answered {
        let job = &mut self.job;
        Answered::Decision(match *step {
            Typed::QueryInterface(caller, handle) => {
                // No interface: calls through this name answer like the missing interface
                // would (A-2), so one scenario runs on every release. A QueryInterface the
                // access check refused (A-11, Q-9) gives no handle at all.
                let (d, mut obtained) = job.query(caller);
                if d.rule().reason == Reason::InterfaceUnavailable {
                    obtained = Some(TokenOptions::remembering(caller, job.id()));
                }
                self.handles.insert(handle.clone(), obtained);
                d
            }
            // The session's handles were obtained on the session's job: no id to check.
            Typed::SetFlags(o, flags) => o.set_flags_on(job, flags),
            Typed::GetFlags(o) => o.get_flags_on(job),
            Typed::SetToken(o, imp) => o.set_token_on(job, imp),
            Typed::Clear(o) => o.clear_on(job),
            Typed::GetSid(o) => o.get_sid_on(job),
            Typed::TakeOwnership(caller) => job.take_ownership(&caller),
            Typed::Event(event) => event(job),
            Typed::Route(access) => return Answered::Route(job.route(access)),
            Typed::SetCredentials(target, scheme, credential) => {
                job.set_credentials(target, scheme, credential)
            }
            Typed::RemoveCredentials(target, scheme) => job.remove_credentials(target, scheme),
            Typed::SetProxyUsage(usage) => job.set_proxy_usage(usage),
            Typed::SetClientCertificate(present) => job.set_client_certificate(present),
        })
    }
}

fn unknown_token(step: Option<usize>, name: &str) -> ScenarioError {
    ScenarioError {
        step,
        kind: ScenarioErrorKind::UnknownToken(name.into()),
    }
}

/// A step with its names resolved: identities looked up, handles obtained.
enum Typed<'s> {
    QueryInterface(Identity, &'s HandleName),
    SetFlags(TokenOptions, u32),
    GetFlags(TokenOptions),
    SetToken(TokenOptions, Impersonation),
    Clear(TokenOptions),
    GetSid(TokenOptions),
    TakeOwnership(Identity),
    /// An event or job method without arguments.
    Event(fn(&mut Job) -> Explained<Decision>),
    Route(Access),
    SetCredentials(AuthTarget, AuthScheme, Credential),
    RemoveCredentials(AuthTarget, AuthScheme),
    SetProxyUsage(ProxyUsage),
    SetClientCertificate(bool),
}

/// What one step produced, before it is reported: a decision or a route, each with the
/// facts it was made on.
#[allow(clippy::large_enum_variant)] // a transient value of one step, never stored
enum Answered {
    Decision(Explained<Decision>),
    Route(Explained<Route>),
}

impl Answered {
    fn result(&self) -> StepResult {
        match self {
            Answered::Decision(d) => {
                let value = match d.value() {
                    Some(Value::Flags(flags)) => Some(StepValue::Flags(flags)),
                    Some(Value::HelperSid(sid)) => Some(StepValue::Sid(sid)),
                    _ => None,
                };
                StepResult::new(d.hresult(), d.rule_id(), value)
            }
            Answered::Route(r) => {
                let hresult = r.failure().map_or(HResult::S_OK, |f| f.hresult);
                let value = StepValue::Route {
                    principal: r.principal,
                    sid: r.principal.sid(r.facts()),
                    access: r.access,
                };
                StepResult::new(hresult, r.rule.id, Some(value))
            }
        }
    }

    /// The sentence, from the facts the answer was made on.
    fn explanation(&self) -> String {
        match self {
            Answered::Decision(d) => d.to_string(),
            Answered::Route(r) => r.to_string(),
        }
    }
}
