//! Replaying a scenario: every name resolved once into typed steps, then each step
//! decided by the model and applied to the job.
#![forbid(unsafe_code)]

use super::{
    HandleName, JobSpec, Scenario, ScenarioError, ScenarioErrorKind, Step, StepResult, StepValue,
    Transcript,
};
use crate::access::Access;
use crate::decide::jobs::{JobCall, StartTo};
use crate::decide::route::Route;
use crate::decide::{Decision, Impersonation, Value, lifecycle};
use crate::explain::Explained;
use crate::facts::{Caller, JobError, JobFacts};
use crate::hresult::HResult;
use crate::job::{Job, TokenOptions};
use crate::net::NetworkEnvironment;
use crate::profile::{Knobs, Profile, Release};
use crate::rule::Reason;
use crate::sid::Sid;
use crate::state::JobState;
use crate::token::{Identity, ImpersonationLevel, Token};
use crate::usage::TokenUsage;
use alloc::collections::BTreeMap;
use alloc::collections::BTreeSet;
use alloc::format;
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

    /// Whether each user of the scenario's tokens is logged on at the start (L-11): a
    /// service account always; another user when one of its tokens has a logon that
    /// counts ([`lifecycle::counts_as_logged_on`]).
    pub fn logged_on_at_start(&self) -> BTreeMap<Sid, bool> {
        let mut users: BTreeMap<Sid, bool> = BTreeMap::new();
        for token in self.tokens.values() {
            let counts =
                lifecycle::counts_as_logged_on(self.release, &token.user, token.logon_or_default());
            *users.entry(token.user).or_insert(false) |= counts;
        }
        users
    }

    /// The job the scenario starts with. Refused when the owner or the helper token is not
    /// a token, or when the model cannot reach such a job (T-7, A-14, L-11, A-2, contract
    /// 3 §1.5b).
    pub fn initial_job(&self) -> Result<Job, ScenarioError> {
        let token = |name: &str| {
            self.tokens
                .get(name)
                .ok_or_else(|| unknown_token(None, name))
        };
        let owner = token(&self.job.owner)?;
        let helper = match &self.job.helper_token {
            Some(name) => Some(Identity::of(token(name)?)),
            None => None,
        };
        let invalid = |message: String| ScenarioError {
            step: None,
            kind: ScenarioErrorKind::InvalidJob(message),
        };
        if owner.restricted() {
            return Err(invalid(format!(
                "the owner token {:?} is restricted and cannot have created the job (A-14)",
                self.job.owner
            )));
        }
        if self.job.owner_logged_on == Some(false) && owner.user.is_service_account() {
            return Err(invalid(
                "a service account is always logged on (L-11)".into(),
            ));
        }
        if self.job.use_stored_credentials && !self.release.has_token_options() {
            return Err(invalid(
                "use_stored_credentials needs IBackgroundCopyJob5, which pre_bits4 lacks (A-2)"
                    .into(),
            ));
        }
        let error = self.initial_error().map_err(invalid)?;
        let flags = TokenUsage::from_bits_retain(self.job.flags);
        if flags.has_unknown_bits() {
            return Err(invalid(format!(
                "flags {:#x} carry unknown bits; a stored value holds only BG_TOKEN_LOCAL_FILE and BG_TOKEN_NETWORK (T-1)",
                self.job.flags
            )));
        }
        let state = self.job.state;
        if !self.job.has_file
            && !matches!(
                state,
                JobState::Suspended
                    | JobState::Error
                    | JobState::Cancelled
                    | JobState::Acknowledged
            )
        {
            return Err(invalid(format!(
                "files: 0 on a job that is {state}: only a suspended, failed (L-5) or done job holds no file"
            )));
        }
        let mut owner_id = Identity::of(owner);
        // T-9: what the job remembers of its owner's token, as stated or the token's own.
        if let Some(elevated) = self.job.owner_elevated {
            owner_id.elevated = elevated;
        }
        if let Some(integrity) = self.job.owner_integrity {
            owner_id.integrity = integrity;
        }
        let logged_on = match self.job.owner_logged_on {
            Some(on) => on,
            None => self
                .logged_on_at_start()
                .get(&owner.user)
                .copied()
                .unwrap_or(false),
        };
        let facts = JobFacts::new(owner_id)
            .with_job_type(self.job.job_type)
            .with_remote(self.job.remote)
            .with_environment(self.environment)
            .with_client_certificate(self.job.client_certificate)
            .with_proxy(self.job.proxy)
            .with_challenges(self.job.challenges)
            .with_ie_settings(self.job.ie_settings)
            .with_file(self.job.has_file)
            .with_owner_logged_on(logged_on)
            .with_server_requests_certificate(self.job.server_requests_certificate)
            .with_use_stored_credentials(self.job.use_stored_credentials)
            .with_state(state)
            .with_error(error)
            .with_flags(flags)
            .with_helper(helper)
            .with_credentials(self.job.credentials);
        if self.job.has_file && !facts.can_exist() {
            return Err(ScenarioError {
                step: None,
                kind: ScenarioErrorKind::JobCannotExist,
            });
        }
        Ok(Job::with_facts(self.profile(), facts))
    }

    /// The job's error as the scenario states it, if the model can reach it: in ERROR an
    /// error a rule produces (L-5/L-6, X-1, X-3, X-4), in TRANSIENT_ERROR any failure
    /// code (L-13's or a retry's), in any other state none.
    fn initial_error(&self) -> Result<Option<JobError>, String> {
        let state = self.job.state;
        match (state, self.job.error) {
            (JobState::Error, None) | (JobState::TransientError, None) => Err(format!(
                "a job in state {state} has an error; give it in \"error\""
            )),
            (JobState::Error, Some(hr)) => JobError::in_error(hr).map(Some).ok_or_else(|| {
                format!("error {hr} is not one a rule puts a job in ERROR with (L-5, L-6, X-1, X-3, X-4)")
            }),
            (JobState::TransientError, Some(hr)) => JobError::transient(hr)
                .map(Some)
                .ok_or_else(|| format!("error {hr} is not a failure code")),
            (_, Some(hr)) => Err(format!(
                "error {hr} on a job in state {state}: only a job in error or transient_error has one"
            )),
            (_, None) => Ok(None),
        }
    }

    /// Checks every name without running anything: the owner and every caller are tokens,
    /// a handle is defined once by a `query_interface` before it is used, no step gives
    /// both `level` and `can_impersonate`, the job can exist. Linear in the scenario's size.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        self.initial_job()?;
        let mut defined: BTreeSet<&HandleName> = BTreeSet::new();
        for (i, step) in self.steps.iter().enumerate() {
            let at = |kind| ScenarioError {
                step: Some(i + 1),
                kind,
            };
            for name in step.tokens() {
                if !self.tokens.contains_key(name) {
                    return Err(at(ScenarioErrorKind::UnknownToken(name.into())));
                }
            }
            step.level().map_err(at)?;
            if let Step::QueryInterface { handle, .. } = step
                && !defined.insert(handle)
            {
                return Err(at(ScenarioErrorKind::HandleRedefined(handle.clone())));
            }
            if let Some(handle) = step.handle()
                && !defined.contains(handle)
            {
                return Err(at(ScenarioErrorKind::UnknownHandle(handle.clone())));
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
/// let r = session.step(&Step::query_interface("svc", 1))?;
/// assert_eq!(r.rule, RuleId::A1);
/// // A refused step (an unknown handle) changes nothing.
/// let wrong = Step::GetHelperTokenFlags { handle: 2.into(), level: None };
/// assert_eq!(session.step(&wrong).unwrap_err().step, Some(2));
/// assert_eq!(session.steps_taken(), 1);
/// let r = session.step(&Step::SetHelperTokenFlags { handle: 1.into(), flags: 2, level: None })?;
/// assert_eq!((r.hresult, r.rule), (HResult::S_OK, RuleId::A5));
/// assert_eq!(session.job().flags().bits(), 2);
/// # Ok::<(), bits_helper_token::scenario::ScenarioError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Session {
    header: Scenario,
    identities: BTreeMap<String, Identity>,
    handles: BTreeMap<HandleName, Handle>,
    /// L-11: whether each user is logged on now (the job's owner: the job's own fact).
    logged_on: BTreeMap<Sid, bool>,
    job: Job,
    steps: usize,
    last: Option<StepResult>,
}

/// A handle as `query_interface` left it: obtained, or refused (its refusal answers every
/// later step through it, contract 3 §1.7).
#[derive(Clone, Debug)]
enum Handle {
    Obtained(TokenOptions),
    Refused(alloc::boxed::Box<Explained<Decision>>),
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
        let mut session = Session {
            header,
            identities,
            handles: BTreeMap::new(),
            logged_on: scenario.logged_on_at_start(),
            job,
            steps: 0,
            last: None,
        };
        session.sync_logon();
        Ok(session)
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
    /// gave a handle (`false`: it was refused, and the steps through it are answered with
    /// that refusal, marked skipped).
    pub fn handles(&self) -> impl Iterator<Item = (&HandleName, bool)> {
        self.handles
            .iter()
            .map(|(name, h)| (name, matches!(h, Handle::Obtained(_))))
    }

    /// Whether `user` is logged on now (L-11).
    pub fn is_logged_on(&self, user: Sid) -> bool {
        if user == self.job.owner().sid {
            return self.job.owner_logged_on() || user.is_service_account();
        }
        self.logged_on
            .get(&user)
            .copied()
            .unwrap_or(user.is_service_account())
    }

    /// Whether `step` can be applied now: every name resolves, a new handle's name is
    /// free, a handle used was defined, and an `add_file` that gets past its checks does
    /// not give a download a second file (L-15). The error [`Session::step`] would return.
    pub fn check(&self, step: &Step) -> Result<(), ScenarioError> {
        if let Typed::AddFile(caller) = self.resolve(step)? {
            let job = &self.job;
            crate::decide::jobs::add_file(job.profile(), &caller, job.facts()).map_err(|e| {
                ScenarioError {
                    step: Some(self.steps + 1),
                    kind: ScenarioErrorKind::SecondFile(e),
                }
            })?;
        }
        Ok(())
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

    /// The owner's user follows the job's logon state (L-11: the job's owner logged off or
    /// on, or a new owner taken, L-7).
    fn sync_logon(&mut self) {
        let owner = self.job.owner().sid;
        self.logged_on.insert(owner, self.job.owner_logged_on());
    }

    fn play(
        &mut self,
        step: &Step,
        explain: bool,
    ) -> Result<(StepResult, Option<String>), ScenarioError> {
        let typed = self.resolve(step)?;
        let answered = self.apply(&typed).map_err(|kind| ScenarioError {
            step: Some(self.steps + 1),
            kind,
        })?;
        self.sync_logon();
        self.steps += 1;
        let explanation = explain.then(|| answered.explanation());
        let result = answered.result();
        self.last = Some(result);
        Ok((result, explanation))
    }

    /// A job-method caller: the named token at call time (its user's logon state now), or
    /// the owner as the job remembers it; at the step's level.
    fn caller(
        &self,
        name: Option<&str>,
        level: Option<ImpersonationLevel>,
    ) -> Result<Caller, ScenarioErrorKind> {
        let caller = match name {
            None => Caller::owner_of(self.job.facts()),
            Some(name) => {
                let identity = self
                    .identities
                    .get(name)
                    .copied()
                    .ok_or_else(|| ScenarioErrorKind::UnknownToken(name.into()))?;
                Caller::new(identity).with_logged_on(self.is_logged_on(identity.sid))
            }
        };
        Ok(caller.with_level(level.unwrap_or_default()))
    }

    /// The step with its names resolved — tokens to identities and callers, a handle to
    /// the handle obtained — or why it cannot be applied now.
    fn resolve<'s>(&self, step: &'s Step) -> Result<Typed<'s>, ScenarioError> {
        let at = |kind| ScenarioError {
            step: Some(self.steps + 1),
            kind,
        };
        let level = step.level().map_err(at)?;
        let identity = |name: &str| {
            self.identities
                .get(name)
                .copied()
                .ok_or_else(|| at(ScenarioErrorKind::UnknownToken(name.into())))
        };
        let caller = |name: &Option<String>| self.caller(name.as_deref(), level).map_err(at);
        // A handle whose QueryInterface was refused answers with that refusal (§1.7).
        let handle = |h: &HandleName| match self.handles.get(h) {
            Some(Handle::Obtained(handle)) => Ok(Ok(handle.with_level(level.unwrap_or_default()))),
            Some(Handle::Refused(refusal)) => Ok(Err(**refusal)),
            None => Err(at(ScenarioErrorKind::UnknownHandle(h.clone()))),
        };
        let through = |h: &HandleName, call: fn(TokenOptions) -> Typed<'s>| {
            Ok(match handle(h)? {
                Ok(handle) => call(handle),
                Err(refusal) => Typed::Skipped(alloc::boxed::Box::new(refusal)),
            })
        };
        Ok(match step {
            Step::QueryInterface { caller, handle, .. } => {
                let caller = Caller::new(identity(caller)?).with_level(level.unwrap_or_default());
                if self.handles.contains_key(handle) {
                    return Err(at(ScenarioErrorKind::HandleRedefined(handle.clone())));
                }
                Typed::QueryInterface(caller, handle)
            }
            Step::SetHelperTokenFlags { handle, flags, .. } => {
                match self.handle_for(handle, level).map_err(at)? {
                    Ok(o) => Typed::SetFlags(o, *flags),
                    Err(refusal) => Typed::Skipped(alloc::boxed::Box::new(refusal)),
                }
            }
            Step::GetHelperTokenFlags { handle, .. } => through(handle, Typed::GetFlags)?,
            Step::SetHelperToken {
                handle,
                impersonating,
                ..
            } => {
                let token = Impersonation::Allowed(identity(impersonating)?);
                match self.handle_for(handle, level).map_err(at)? {
                    Ok(o) => Typed::SetToken(o, token),
                    Err(refusal) => Typed::Skipped(alloc::boxed::Box::new(refusal)),
                }
            }
            Step::ClearHelperToken { handle, .. } => through(handle, Typed::Clear)?,
            Step::GetHelperTokenSid { handle, .. } => through(handle, Typed::GetSid)?,
            Step::TakeOwnership { caller: name, .. } => {
                Typed::TakeOwnership(caller(&Some(name.clone()))?)
            }
            Step::LogoffOwner {} => Typed::Event(Job::logoff_owner),
            Step::LogonOwner {} => Typed::Event(Job::logon_owner),
            Step::HelperSessionEnded {} => Typed::Event(Job::helper_session_ended),
            Step::ServiceStop {} => Typed::Event(Job::service_stop),
            Step::Transfer {} => Typed::Event(Job::transfer),
            Step::NetworkLost {} => Typed::Event(Job::network_lost),
            Step::NetworkRestored {} => Typed::Event(Job::network_restored),
            Step::StartTransfer { to } => Typed::Start(to.unwrap_or_default()),
            Step::Resume { caller: c, .. } => Typed::Call(caller(c)?, JobCall::Resume),
            Step::Suspend { caller: c, .. } => Typed::Call(caller(c)?, JobCall::Suspend),
            Step::Cancel { caller: c, .. } => Typed::Call(caller(c)?, JobCall::Cancel),
            Step::Complete { caller: c, .. } => Typed::Call(caller(c)?, JobCall::Complete),
            Step::AddFile { caller: c, .. } => Typed::AddFile(caller(c)?),
            Step::Route { access } => Typed::Route(*access),
            Step::SetCredentials {
                target,
                scheme,
                credential,
                caller: c,
                ..
            } => Typed::Call(
                caller(c)?,
                JobCall::SetCredentials(*target, *scheme, *credential),
            ),
            Step::RemoveCredentials {
                target,
                scheme,
                caller: c,
                ..
            } => Typed::Call(caller(c)?, JobCall::RemoveCredentials(*target, *scheme)),
            Step::SetProxyUsage {
                usage, caller: c, ..
            } => Typed::Call(caller(c)?, JobCall::SetProxyUsage(*usage)),
            Step::SetClientCertificate {
                present, caller: c, ..
            } => Typed::Call(caller(c)?, JobCall::SetClientCertificate(*present)),
            Step::SetJobProperty { caller: c, .. } => {
                Typed::Call(caller(c)?, JobCall::UseStoredCredentials)
            }
        })
    }

    /// The handle a step goes through, at the step's level, or the refusal it answers with.
    fn handle_for(
        &self,
        h: &HandleName,
        level: Option<ImpersonationLevel>,
    ) -> Result<Result<TokenOptions, Explained<Decision>>, ScenarioErrorKind> {
        match self.handles.get(h) {
            Some(Handle::Obtained(handle)) => Ok(Ok(handle.with_level(level.unwrap_or_default()))),
            Some(Handle::Refused(refusal)) => Ok(Err(**refusal)),
            None => Err(ScenarioErrorKind::UnknownHandle(h.clone())),
        }
    }

    /// One resolved step, decided by the model and applied to the job; `Err` when the
    /// step leaves the model (a second file on a download).
    fn apply(&mut self, step: &Typed<'_>) -> Result<Answered, ScenarioErrorKind> {
        let job = &mut self.job;
        Ok(Answered::Decision(match *step {
            Typed::QueryInterface(caller, handle) => {
                // No interface: calls through this name answer like the missing interface
                // would (A-2), so one scenario runs on every release. A QueryInterface the
                // access check refused (A-9, A-11, A-4, A-5 under Q-9) gives no handle: the
                // steps through it answer with its refusal.
                let (d, obtained) = job.query(caller);
                let handle_state = match obtained {
                    Some(o) => Handle::Obtained(o),
                    None if d.rule().reason == Reason::InterfaceUnavailable => {
                        Handle::Obtained(TokenOptions::remembering(caller.identity, job.id()))
                    }
                    None => Handle::Refused(alloc::boxed::Box::new(d)),
                };
                self.handles.insert(handle.clone(), handle_state);
                d
            }
            // The session's handles were obtained on the session's job: no id to check.
            Typed::SetFlags(o, flags) => o.set_flags_on(job, flags),
            Typed::GetFlags(o) => o.get_flags_on(job),
            Typed::SetToken(o, imp) => o.set_token_on(job, imp),
            Typed::Clear(o) => o.clear_on(job),
            Typed::GetSid(o) => o.get_sid_on(job),
            Typed::Skipped(ref refusal) => return Ok(Answered::Skipped(**refusal)),
            Typed::TakeOwnership(caller) => job.take_ownership_by(&caller),
            Typed::Event(event) => event(job),
            Typed::Start(to) => job.start_transfer(to),
            Typed::Route(access) => return Ok(Answered::Route(job.route(access))),
            Typed::Call(caller, call) => job.call(&caller, call),
            Typed::AddFile(caller) => job
                .add_file_by(&caller)
                .map_err(ScenarioErrorKind::SecondFile)?,
        }))
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
    QueryInterface(Caller, &'s HandleName),
    SetFlags(TokenOptions, u32),
    GetFlags(TokenOptions),
    SetToken(TokenOptions, Impersonation),
    Clear(TokenOptions),
    GetSid(TokenOptions),
    /// A step through a handle whose QueryInterface was refused.
    Skipped(alloc::boxed::Box<Explained<Decision>>),
    TakeOwnership(Caller),
    /// An event without arguments.
    Event(fn(&mut Job) -> Explained<Decision>),
    Start(StartTo),
    Route(Access),
    Call(Caller, JobCall),
    AddFile(Caller),
}

/// What one step produced, before it is reported: a decision or a route, each with the
/// facts it was made on, or the refusal a skipped step repeats.
#[allow(clippy::large_enum_variant)] // a transient value of one step, never stored
enum Answered {
    Decision(Explained<Decision>),
    Route(Explained<Route>),
    Skipped(Explained<Decision>),
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
                StepResult {
                    transfer_failure: d.transfer_failure(),
                    ..StepResult::new(d.hresult(), d.rule_id(), value)
                }
            }
            Answered::Skipped(refusal) => StepResult {
                skipped: true,
                ..StepResult::new(refusal.hresult(), refusal.rule_id(), None)
            },
            Answered::Route(r) => {
                let hresult = r.failure().map_or(HResult::S_OK, |f| f.hresult);
                let value = StepValue::Route {
                    principal: r.principal,
                    sid: r.principal.sid(r.facts()),
                    access: r.access,
                    scheme: r.scheme,
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
            Answered::Skipped(refusal) => {
                format!("skipped: the handle was never obtained, because {refusal}")
            }
        }
    }
}
