//! Replaying a scenario: every name resolved once into typed steps, then each step
//! decided by the model and applied to the job.
#![forbid(unsafe_code)]

use super::{
    HandleName, JobSpec, Scenario, ScenarioError, ScenarioErrorKind, Step, StepResult, StepValue,
    Transcript,
};
use crate::decide::route::Route;
use crate::decide::{Decision, Impersonation, Value};
use crate::explain::Explained;
use crate::facts::JobFacts;
use crate::hresult::HResult;
use crate::job::{Job, TokenOptions};
use crate::net::NetworkEnvironment;
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

    /// The job the scenario starts with.
    pub fn initial_job(&self) -> Result<Job, ScenarioError> {
        let owner = self
            .tokens
            .get(&self.job.owner)
            .ok_or_else(|| unknown_token(None, &self.job.owner))?;
        Ok(self.job_of(Identity::of(owner)))
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

    /// Checks every name: tokens exist, handles are defined once by a `query_interface`
    /// before they are used. Nothing runs. Linear in the scenario's size.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let session = Session::new(self)?;
        let mut defined: BTreeSet<&HandleName> = BTreeSet::new();
        for (i, step) in self.steps.iter().enumerate() {
            let typed = session
                .typed(step, |h| defined.contains(h))
                .map_err(|kind| ScenarioError {
                    step: Some(i + 1),
                    kind,
                })?;
            if let Typed::QueryInterface(_, handle) = typed {
                defined.insert(handle);
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
        let owner = identities
            .get(&scenario.job.owner)
            .copied()
            .ok_or_else(|| unknown_token(None, &scenario.job.owner))?;
        let job = scenario.job_of(owner);
        if !job.facts().can_exist() {
            return Err(ScenarioError {
                step: None,
                kind: ScenarioErrorKind::JobCannotExist,
            });
        }
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

    /// The step with its names resolved, or why it cannot be applied now.
    fn resolve<'s>(&self, step: &'s Step) -> Result<Typed<'s>, ScenarioError> {
        let at = Some(self.steps + 1);
        let typed = self
            .typed(step, |h| self.handles.contains_key(h))
            .map_err(|kind| ScenarioError { step: at, kind })?;
        // A handle whose QueryInterface was refused was never obtained (A-11, Q-9).
        if let Some(h) = typed.handle() {
            if !matches!(self.handles.get(h), Some(Some(_))) {
                return Err(ScenarioError {
                    step: at,
                    kind: ScenarioErrorKind::HandleRefused(h.clone()),
                });
            }
        }
        Ok(typed)
    }

    /// The one name resolution, shared by [`Scenario::validate`] (which only knows which
    /// handles are defined) and [`Session::check`].
    fn typed<'s>(
        &self,
        step: &'s Step,
        defined: impl Fn(&HandleName) -> bool,
    ) -> Result<Typed<'s>, ScenarioErrorKind> {
        let identity = |name: &str| {
            self.identities
                .get(name)
                .copied()
                .ok_or_else(|| ScenarioErrorKind::UnknownToken(name.into()))
        };
        let handle = |h: &'s HandleName| {
            if defined(h) {
                Ok(h)
            } else {
                Err(ScenarioErrorKind::UnknownHandle(h.clone()))
            }
        };
        Ok(match step {
            Step::QueryInterface { caller, handle } => {
                let caller = identity(caller)?;
                if defined(handle) {
                    return Err(ScenarioErrorKind::HandleRedefined(handle.clone()));
                }
                Typed::QueryInterface(caller, handle)
            }
            Step::SetHelperTokenFlags { handle: h, flags } => Typed::SetFlags(handle(h)?, *flags),
            Step::GetHelperTokenFlags { handle: h } => Typed::GetFlags(handle(h)?),
            Step::SetHelperToken {
                handle: h,
                impersonating,
                can_impersonate,
            } => {
                let token = identity(impersonating)?;
                let imp = if *can_impersonate {
                    Impersonation::Allowed(token)
                } else {
                    Impersonation::Denied
                };
                Typed::SetToken(handle(h)?, imp)
            }
            Step::ClearHelperToken { handle: h } => Typed::Clear(handle(h)?),
            Step::GetHelperTokenSid { handle: h } => Typed::GetSid(handle(h)?),
            Step::TakeOwnership { caller } => Typed::TakeOwnership(identity(caller)?),
            other => Typed::Plain(other),
        })
    }

    /// One resolved step, decided by the model and applied to the job.
    fn apply(&mut self, step: &Typed<'_>) -> Answered {
        let job = &mut self.job;
        let on = |h: &HandleName| self.handles.get(h).copied().flatten();
        // `resolve` admits only handles this session obtained on this job: a missing or
        // foreign handle cannot reach here.
        let through =
            |h: &HandleName,
             call: &mut dyn FnMut(
                TokenOptions,
            )
                -> Result<Explained<Decision>, crate::job::WrongJob>| {
                on(h)
                    .and_then(|o| call(o).ok())
                    .map_or(Answered::Unresolved, Answered::Decision)
            };
        match *step {
            Typed::QueryInterface(caller, handle) => {
                // No interface: calls through this name answer like the missing interface
                // would (A-2), so one scenario runs on every release. A QueryInterface the
                // access check refused (A-11, Q-9) gives no handle at all.
                let (d, mut opts) = job.query(caller);
                if d.rule().reason == Reason::InterfaceUnavailable {
                    opts = Some(TokenOptions::remembering(caller, job.id()));
                }
                self.handles.insert(handle.clone(), opts);
                Answered::Decision(d)
            }
            Typed::SetFlags(h, flags) => through(h, &mut |o| o.set_helper_token_flags(job, flags)),
            Typed::GetFlags(h) => through(h, &mut |o| o.get_helper_token_flags(job)),
            Typed::SetToken(h, imp) => through(h, &mut |o| o.set_helper_token(job, imp)),
            Typed::Clear(h) => through(h, &mut |o| o.clear_helper_token(job)),
            Typed::GetSid(h) => through(h, &mut |o| o.get_helper_token_sid(job)),
            Typed::TakeOwnership(caller) => Answered::Decision(job.take_ownership(&caller)),
            Typed::Plain(step) => plain(step, job),
        }
    }
}

fn unknown_token(step: Option<usize>, name: &str) -> ScenarioError {
    ScenarioError {
        step,
        kind: ScenarioErrorKind::UnknownToken(name.into()),
    }
}

/// A step with its names resolved: identities looked up, handles checked.
enum Typed<'s> {
    QueryInterface(Identity, &'s HandleName),
    SetFlags(&'s HandleName, u32),
    GetFlags(&'s HandleName),
    SetToken(&'s HandleName, Impersonation),
    Clear(&'s HandleName),
    GetSid(&'s HandleName),
    TakeOwnership(Identity),
    Plain(&'s Step),
}

impl<'s> Typed<'s> {
    /// The handle a step goes through, if any.
    const fn handle(&self) -> Option<&'s HandleName> {
        match *self {
            Typed::SetFlags(h, _)
            | Typed::GetFlags(h)
            | Typed::SetToken(h, _)
            | Typed::Clear(h)
            | Typed::GetSid(h) => Some(h),
            _ => None,
        }
    }
}

/// What one step produced, before it is reported: a decision or a route, each with the
/// facts it was made on.
#[allow(clippy::large_enum_variant)] // a transient value of one step, never stored
enum Answered {
    Decision(Explained<Decision>),
    Route(Explained<Route>),
    Unresolved,
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
            Answered::Unresolved => StepResult::unresolved(),
        }
    }

    /// The sentence, from the facts the answer was made on.
    fn explanation(&self) -> String {
        match self {
            Answered::Decision(d) => d.to_string(),
            Answered::Route(r) => r.to_string(),
            Answered::Unresolved => String::new(),
        }
    }
}

/// The steps that name no token or handle.
fn plain(step: &Step, job: &mut Job) -> Answered {
    let d = match *step {
        Step::LogoffOwner {} => job.logoff_owner(),
        Step::LogonOwner {} => job.logon_owner(),
        Step::HelperSessionEnded {} => job.helper_session_ended(),
        Step::ServiceStop {} => job.service_stop(),
        Step::Resume {} => job.resume(),
        Step::Transfer {} => job.transfer(),
        Step::Cancel {} => job.cancel(),
        Step::Complete {} => job.complete(),
        Step::Route { access } => return Answered::Route(job.route(access)),
        Step::SetCredentials {
            target,
            scheme,
            credential,
        } => job.set_credentials(target, scheme, credential),
        Step::RemoveCredentials { target, scheme } => job.remove_credentials(target, scheme),
        Step::SetProxyUsage { usage } => job.set_proxy_usage(usage),
        Step::SetClientCertificate { present } => job.set_client_certificate(present),
        // Resolved into typed steps before replay.
        Step::QueryInterface { .. }
        | Step::SetHelperTokenFlags { .. }
        | Step::GetHelperTokenFlags { .. }
        | Step::SetHelperToken { .. }
        | Step::ClearHelperToken { .. }
        | Step::GetHelperTokenSid { .. }
        | Step::TakeOwnership { .. } => return Answered::Unresolved,
    };
    Answered::Decision(d)
}
