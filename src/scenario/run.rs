//! Replaying a scenario: every name resolved once into typed steps, then each step
//! decided by the model and applied to the job.
#![forbid(unsafe_code)]

use super::{
    HandleName, JobSpec, Scenario, ScenarioError, ScenarioErrorKind, Step, StepResult, StepValue,
    Transcript,
};
use crate::decide::{Decision, Impersonation, Value, settings};
use crate::explain::Inputs;
use crate::hresult::HResult;
use crate::job::{Job, TokenOptions};
use crate::net::NetworkEnvironment;
use crate::profile::{Knobs, Profile, Release};
use crate::route::route;
use crate::rule::Reason;
use crate::token::Identity;
use alloc::collections::BTreeMap;
use alloc::collections::btree_map::Entry;
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
        let mut job = Job::with_owner(self.profile(), owner)
            .with_job_type(self.job.job_type)
            .with_remote(self.job.remote)
            .with_environment(self.environment);
        job.set_client_certificate(self.job.client_certificate);
        job.set_proxy(self.job.proxy);
        job.set_challenges(self.job.challenges);
        job.set_ie_settings(self.job.ie_settings);
        job
    }

    /// Checks every name: tokens exist, handles are defined once by a `query_interface`
    /// before they are used. Nothing runs. Linear in the scenario's size.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        self.resolve().map(|_| ())
    }

    /// Resolves every name once: each token's identity is computed once, each handle
    /// becomes an index.
    fn resolve(&self) -> Result<Resolved<'_>, ScenarioError> {
        let identities: BTreeMap<&str, Identity> = self
            .tokens
            .iter()
            .map(|(name, token)| (name.as_str(), Identity::of(token)))
            .collect();
        let identity = |at: Option<usize>, name: &str| {
            identities
                .get(name)
                .copied()
                .ok_or_else(|| unknown_token(at, name))
        };
        let owner = identity(None, &self.job.owner)?;
        if matches!(
            (self.job.job_type, self.job.remote),
            (
                crate::state::JobType::UploadReply,
                crate::state::Remote::Smb
            )
        ) {
            return Err(ScenarioError {
                step: None,
                kind: ScenarioErrorKind::JobCannotExist,
            });
        }
        let mut handles: BTreeMap<&HandleName, usize> = BTreeMap::new();
        let mut names: Vec<&HandleName> = Vec::new();
        let mut steps = Vec::with_capacity(self.steps.len());
        for (i, step) in self.steps.iter().enumerate() {
            let at = Some(i + 1);
            let err = |kind| ScenarioError { step: at, kind };
            let handle = |h: &HandleName| {
                handles
                    .get(h)
                    .copied()
                    .ok_or_else(|| err(ScenarioErrorKind::UnknownHandle(h.clone())))
            };
            steps.push(match step {
                Step::QueryInterface { caller, handle } => {
                    let caller = identity(at, caller)?;
                    let next = handles.len();
                    match handles.entry(handle) {
                        Entry::Occupied(_) => {
                            return Err(err(ScenarioErrorKind::HandleRedefined(handle.clone())));
                        }
                        Entry::Vacant(v) => v.insert(next),
                    };
                    names.push(handle);
                    Typed::QueryInterface(caller)
                }
                Step::SetHelperTokenFlags { handle: h, flags } => {
                    Typed::SetFlags(handle(h)?, *flags)
                }
                Step::GetHelperTokenFlags { handle: h } => Typed::GetFlags(handle(h)?),
                Step::SetHelperToken {
                    handle: h,
                    impersonating,
                    can_impersonate,
                } => {
                    let token = identity(at, impersonating)?;
                    let imp = if *can_impersonate {
                        Impersonation::Allowed(token)
                    } else {
                        Impersonation::Denied
                    };
                    Typed::SetToken(handle(h)?, imp)
                }
                Step::ClearHelperToken { handle: h } => Typed::Clear(handle(h)?),
                Step::GetHelperTokenSid { handle: h } => Typed::GetSid(handle(h)?),
                Step::TakeOwnership { caller } => Typed::TakeOwnership(identity(at, caller)?),
                other => Typed::Plain(other),
            });
        }
        Ok(Resolved {
            owner,
            steps,
            names,
        })
    }

    /// Validates, then replays every step on the job and returns the transcript.
    pub fn run(&self) -> Result<Transcript, ScenarioError> {
        let resolved = self.resolve()?;
        let mut job = self.job_of(resolved.owner);
        let mut handles: Vec<Option<TokenOptions>> = Vec::new();
        let mut results = Vec::with_capacity(resolved.steps.len());
        let mut explanations = Vec::new();
        for (i, step) in resolved.steps.iter().enumerate() {
            // A handle whose QueryInterface was refused was never obtained.
            if let Some(h) = step.handle() {
                if !matches!(handles.get(h), Some(Some(_))) {
                    let name = resolved
                        .names
                        .get(h)
                        .map_or(HandleName::Number(0), |n| (*n).clone());
                    return Err(ScenarioError {
                        step: Some(i + 1),
                        kind: ScenarioErrorKind::HandleRefused(name),
                    });
                }
            }
            let before = job;
            let answered = apply(step, &mut job, &mut handles);
            results.push(answered.result(&before));
            if self.explain {
                explanations.push(answered.explanation(&before));
            }
        }
        Ok(Transcript {
            results,
            explanations,
            job,
        })
    }
}

fn unknown_token(step: Option<usize>, name: &str) -> ScenarioError {
    ScenarioError {
        step,
        kind: ScenarioErrorKind::UnknownToken(name.into()),
    }
}

/// A scenario whose names are resolved: identities computed, handles numbered (`names`
/// maps each number back to the name the scenario gave it).
struct Resolved<'s> {
    owner: Identity,
    steps: Vec<Typed<'s>>,
    names: Vec<&'s HandleName>,
}

/// A step with its names resolved.
enum Typed<'s> {
    QueryInterface(Identity),
    SetFlags(usize, u32),
    GetFlags(usize),
    SetToken(usize, Impersonation),
    Clear(usize),
    GetSid(usize),
    TakeOwnership(Identity),
    Plain(&'s Step),
}

impl Typed<'_> {
    /// The handle a step goes through, if any.
    const fn handle(&self) -> Option<usize> {
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

/// What one step produced, before it is reported: a decision with the arguments the
/// explanation needs, or a route.
#[allow(clippy::large_enum_variant)] // a transient value of one step, never stored
enum Answered {
    Decision {
        decision: Decision,
        caller: Option<Identity>,
        flags: Option<u32>,
        impersonation: Option<Impersonation>,
    },
    Route(crate::route::Route),
    Unresolved,
}

impl Answered {
    const fn of(decision: Decision) -> Answered {
        Answered::Decision {
            decision,
            caller: None,
            flags: None,
            impersonation: None,
        }
    }

    fn result(&self, before: &Job) -> StepResult {
        match self {
            Answered::Decision { decision: d, .. } => {
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
                    sid: r.principal.sid(before.facts()),
                    access: r.access,
                };
                StepResult::new(hresult, r.rule.id, Some(value))
            }
            Answered::Unresolved => StepResult::unresolved(),
        }
    }

    /// The sentence, from the job as it was before the step.
    fn explanation(&self, before: &Job) -> String {
        match *self {
            Answered::Decision {
                ref decision,
                caller,
                flags,
                impersonation,
            } => {
                let mut inputs = Inputs::new(before.profile(), before.facts());
                inputs.caller = caller;
                inputs.flags = flags;
                inputs.impersonation = impersonation;
                decision.explain(&inputs).to_string()
            }
            Answered::Route(ref r) => r.explain(before.profile(), before.facts()).to_string(),
            Answered::Unresolved => String::new(),
        }
    }
}

/// One step. Handles are numbered in the order their `query_interface` defines them, so
/// `handles[n]` exists whenever a resolved step names handle `n`.
fn apply(step: &Typed<'_>, job: &mut Job, handles: &mut Vec<Option<TokenOptions>>) -> Answered {
    let on = |handles: &[Option<TokenOptions>], n: usize| handles.get(n).copied().flatten();
    let with = |o: TokenOptions, decision: Decision| Answered::Decision {
        decision,
        caller: Some(o.caller()),
        flags: None,
        impersonation: None,
    };
    match *step {
        Typed::QueryInterface(caller) => {
            let d = crate::decide::lifecycle::query_interface(job.profile(), caller, job.facts());
            // No interface: calls through this name answer like the missing interface
            // would, so one scenario runs on every release. A QueryInterface the
            // access check refused gives no handle at all.
            let obtained = d.is_allowed() || d.rule().reason == Reason::InterfaceUnavailable;
            handles.push(obtained.then(|| TokenOptions::remembering(caller)));
            Answered::Decision {
                decision: d,
                caller: Some(caller),
                flags: None,
                impersonation: None,
            }
        }
        Typed::SetFlags(h, flags) => match on(handles, h) {
            Some(o) => Answered::Decision {
                decision: o.set_helper_token_flags(job, flags),
                caller: Some(o.caller()),
                flags: Some(flags),
                impersonation: None,
            },
            None => Answered::Unresolved,
        },
        Typed::GetFlags(h) => match on(handles, h) {
            Some(o) => with(o, o.get_helper_token_flags(job)),
            None => Answered::Unresolved,
        },
        Typed::SetToken(h, imp) => match on(handles, h) {
            Some(o) => Answered::Decision {
                decision: o.set_helper_token(job, imp),
                caller: Some(o.caller()),
                flags: None,
                impersonation: Some(imp),
            },
            None => Answered::Unresolved,
        },
        Typed::Clear(h) => match on(handles, h) {
            Some(o) => with(o, o.clear_helper_token(job)),
            None => Answered::Unresolved,
        },
        Typed::GetSid(h) => match on(handles, h) {
            Some(o) => with(o, o.get_helper_token_sid(job)),
            None => Answered::Unresolved,
        },
        Typed::TakeOwnership(caller) => Answered::Decision {
            decision: job.take_ownership(&caller),
            caller: Some(caller),
            flags: None,
            impersonation: None,
        },
        Typed::Plain(step) => plain(step, job),
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
        Step::Route { access } => {
            return Answered::Route(route(job.profile(), job.facts(), access));
        }
        Step::SetCredentials {
            target,
            scheme,
            credential,
        } => job.apply(settings::set_credentials(
            job.facts(),
            target,
            scheme,
            credential,
        )),
        Step::RemoveCredentials { target, scheme } => {
            job.apply(settings::remove_credentials(job.facts(), target, scheme))
        }
        Step::SetProxyUsage { usage } => job.apply(settings::set_proxy_usage(job.facts(), usage)),
        Step::SetClientCertificate { present } => {
            job.apply(settings::set_client_certificate(job.facts(), present))
        }
        // Resolved into typed steps before replay.
        Step::QueryInterface { .. }
        | Step::SetHelperTokenFlags { .. }
        | Step::GetHelperTokenFlags { .. }
        | Step::SetHelperToken { .. }
        | Step::ClearHelperToken { .. }
        | Step::GetHelperTokenSid { .. }
        | Step::TakeOwnership { .. } => return Answered::Unresolved,
    };
    Answered::of(d)
}
