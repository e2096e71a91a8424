//! The BITS doctor (feature `json`): why is this job stuck, and what may I do to it.
//!
//! The doctor **asks the model and decides nothing**. Given one job as it is now (an
//! [`Input`]: the oracle's scenario format, plus the token that asks), it builds one-step
//! scenarios — the job, then one call or event — runs each through the same engine the
//! oracle runs ([`Scenario::run`]) and reports the answers:
//!
//! - `transfer`: what happens when the job next transfers (the oracle's `transfer` step);
//! - `caller_may`: every method of `IBitsTokenOptions` (each through a handle the caller
//!   obtains with `query_interface`) and every job method the model has, called by the
//!   caller — each the oracle's result for that step on that job;
//! - `routes`: the identity each access uses (the oracle's `route` step, every access);
//! - `advice`: the fix each rule id in those answers suggests ([`Advice`]);
//! - the model's sentences for every answer;
//! - for an input with unknown facts ([`Fact`]), the answers that change when an unknown
//!   fact takes another value (each fact varied alone, through the model again).
//!
//! ```
//! use bits_helper_token::doctor::{Input, diagnose};
//! let input = Input::from_json_line(
//!     r#"{"tokens": {"alice": {"user": "S-1-5-21-1-2-3-1001", "logon": "batch"}},
//!         "job": {"owner": "alice", "state": "queued"}, "caller": "alice"}"#,
//! )?;
//! let d = diagnose(&input)?;
//! let transfer = d.answers.transfer.result.as_ref().expect("the oracle answers");
//! assert_eq!(transfer.rule.to_string(), "L-8"); // the owner is not logged on
//! assert_eq!(d.advice[0].rule.to_string(), "L-11");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod advice;
mod input;
mod out;
mod unknown;

pub use advice::Advice;
pub use input::{Fact, Input};
pub use out::answer_line;

use crate::access::Access;
use crate::net::{AuthScheme, AuthTarget, Credential, ProxyUsage};
use crate::rule::RuleId;
use crate::scenario::{
    HandleName, JobProperty, JobSnapshot, JsonError, PropertyTarget, Scenario, ScenarioError,
    Session, Step, StepResult,
};
use crate::sid::Sid;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// One answer of the model: the oracle's result for one step on the job, and its
/// sentence; or the oracle's refusal of that scenario (a call the model leaves out, such as
/// a second file on a download, L-15).
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Answer {
    /// The oracle's result for the step, or why it refused the scenario.
    pub result: Result<StepResult, ScenarioError>,
    /// The model's sentence for the result (empty for a refusal).
    pub sentence: String,
}

/// The model's answers about one job: the transfer, the caller's calls, the routes.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Answers {
    /// The oracle's `transfer` step on the job.
    pub transfer: Answer,
    /// Each probe of [`PROBES`], by its oracle step name, in that order.
    pub caller_may: Vec<(&'static str, Answer)>,
    /// The oracle's `route` step for every access, in [`Access::ALL`]'s order.
    pub routes: Vec<(Access, Answer)>,
}

impl Answers {
    /// The answer with this key: `"transfer"`, a probe's step name, or `"route:ACCESS"`.
    pub fn get(&self, key: &str) -> Option<&Answer> {
        if key == "transfer" {
            return Some(&self.transfer);
        }
        if let Some(access) = key.strip_prefix("route:") {
            return self
                .routes
                .iter()
                .find(|(a, _)| a.name() == access)
                .map(|(_, r)| r);
        }
        self.caller_may
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, r)| r)
    }

    /// Every answer with its key (`"transfer"`, the probes', `"route:ACCESS"`).
    pub fn all(&self) -> impl Iterator<Item = (String, &Answer)> {
        core::iter::once((String::from("transfer"), &self.transfer))
            .chain(self.caller_may.iter().map(|(k, a)| (String::from(*k), a)))
            .chain(
                self.routes
                    .iter()
                    .map(|(access, a)| (format!("route:{access}"), a)),
            )
    }
}

/// The diagnosis of one job for one caller.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Diagnosis {
    /// The input's label.
    pub label: Option<String>,
    /// The caller's user SID.
    pub caller: Sid,
    /// The job as it is now (after the input's steps), as the oracle shows it.
    pub job: JobSnapshot,
    /// The rule that put the job in its error, if it is in one.
    pub job_error_rule: Option<RuleId>,
    /// The model's answers.
    pub answers: Answers,
    /// The fixes the rules in the answers suggest.
    pub advice: Vec<Advice>,
    /// The facts that are not known, and why.
    pub unknown: BTreeMap<Fact, String>,
    /// For each answer (by key, as in [`Answers::all`]) that changes when an unknown fact
    /// takes another value: those facts.
    pub depends: BTreeMap<String, BTreeSet<Fact>>,
    /// Whether the input asked for explanations (`"explain": true`): the results then carry
    /// them, as the oracle's do.
    pub explain: bool,
}

/// Why a line could not be diagnosed.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DoctorError {
    /// The line is not a doctor's input.
    #[error("{0}")]
    Json(#[from] JsonError),
    /// `caller` names no token of `tokens`.
    #[error("caller: unknown token {0:?} (not in \"tokens\")")]
    UnknownCaller(String),
    /// The oracle refuses the scenario (its job, or its steps).
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
}

/// The oracle step names the doctor asks about, in the order it reports them: the five
/// `IBitsTokenOptions` methods and `query_interface` (the caller's own handle), then the
/// job methods called by the caller. The arguments: `set_helper_token_flags` with flags 0,
/// `set_helper_token` impersonating the caller, `set_credentials` and `remove_credentials`
/// for the server's Negotiate (implicit credentials, `SetCredentials(server, Negotiate,
/// NULL, NULL)`), `set_proxy_usage` PRECONFIG, `set_client_certificate` `present: false`
/// (RemoveClientCertificate), `set_job_property` `use_stored_credentials` for the proxy.
pub const PROBES: &[&str] = &[
    "query_interface",
    "get_helper_token_flags",
    "get_helper_token_sid",
    "set_helper_token_flags",
    "set_helper_token",
    "clear_helper_token",
    "take_ownership",
    "resume",
    "suspend",
    "cancel",
    "complete",
    "add_file",
    "set_credentials",
    "remove_credentials",
    "set_proxy_usage",
    "set_client_certificate",
    "set_job_property",
];

/// The steps of one probe: the call, preceded by the caller's `query_interface` for the
/// five handle methods. `None` for a name not in [`PROBES`].
pub fn probe_steps(probe: &str, caller: &str, handle: &HandleName) -> Option<Vec<Step>> {
    let who = || Some(String::from(caller));
    let qi = Step::query_interface(caller, handle.clone());
    let h = handle.clone();
    let call = match probe {
        "query_interface" => return Some(alloc::vec![qi]),
        "get_helper_token_flags" => Step::GetHelperTokenFlags {
            handle: h,
            level: None,
        },
        "get_helper_token_sid" => Step::GetHelperTokenSid {
            handle: h,
            level: None,
        },
        "set_helper_token_flags" => Step::SetHelperTokenFlags {
            handle: h,
            flags: 0,
            level: None,
        },
        "set_helper_token" => Step::SetHelperToken {
            handle: h,
            impersonating: caller.into(),
            can_impersonate: None,
            level: None,
        },
        "clear_helper_token" => Step::ClearHelperToken {
            handle: h,
            level: None,
        },
        "take_ownership" => return Some(alloc::vec![Step::take_ownership(caller)]),
        other => {
            let step = match other {
                "resume" => Step::Resume {
                    caller: who(),
                    level: None,
                },
                "suspend" => Step::Suspend {
                    caller: who(),
                    level: None,
                },
                "cancel" => Step::Cancel {
                    caller: who(),
                    level: None,
                },
                "complete" => Step::Complete {
                    caller: who(),
                    level: None,
                },
                "add_file" => Step::AddFile {
                    caller: who(),
                    level: None,
                },
                "set_credentials" => Step::SetCredentials {
                    target: AuthTarget::Server,
                    scheme: AuthScheme::Negotiate,
                    credential: Credential::Implicit,
                    caller: who(),
                    level: None,
                },
                "remove_credentials" => Step::RemoveCredentials {
                    target: AuthTarget::Server,
                    scheme: AuthScheme::Negotiate,
                    caller: who(),
                    level: None,
                },
                "set_proxy_usage" => Step::SetProxyUsage {
                    usage: ProxyUsage::Preconfig,
                    caller: who(),
                    level: None,
                },
                "set_client_certificate" => Step::SetClientCertificate {
                    present: false,
                    caller: who(),
                    level: None,
                },
                "set_job_property" => Step::SetJobProperty {
                    property: JobProperty::UseStoredCredentials,
                    target: PropertyTarget::Proxy,
                    caller: who(),
                    level: None,
                },
                _ => return None,
            };
            return Some(alloc::vec![step]);
        }
    };
    Some(alloc::vec![qi, call])
}

/// A handle name no step of `scenario` uses: `"doctor"`, or `"doctor2"`, `"doctor3"`, …
pub fn free_handle(scenario: &Scenario) -> HandleName {
    let used: BTreeSet<&HandleName> = scenario
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::QueryInterface { handle, .. } => Some(handle),
            other => other.handle(),
        })
        .collect();
    let mut n = 1;
    loop {
        let name = if n == 1 {
            HandleName::from("doctor")
        } else {
            HandleName::Name(format!("doctor{n}"))
        };
        if !used.contains(&name) {
            return name;
        }
        n += 1;
    }
}

/// The session of `scenario` after its own steps: what every question starts from, played
/// once. As [`Scenario::run`]: validated first, then step by step.
fn session_now(scenario: &Scenario) -> Result<Session, ScenarioError> {
    scenario.validate()?;
    let mut session = Session::new(scenario)?;
    for step in &scenario.steps {
        session.step(step)?;
    }
    Ok(session)
}

/// `steps` played on a copy of the session `now`: the last step's result and sentence, or
/// the refusal of the scenario (or of a step).
fn ask(now: &Result<Session, ScenarioError>, steps: &[Step]) -> Answer {
    let refused = |e: ScenarioError| Answer {
        result: Err(e),
        sentence: String::new(),
    };
    let mut session = match now {
        Ok(session) => session.clone(),
        Err(e) => return refused(e.clone()),
    };
    let mut last = Err(ScenarioError {
        step: None,
        kind: crate::scenario::ScenarioErrorKind::InvalidJob("the doctor asked nothing".into()),
    });
    for step in steps {
        last = session.step_explained(step);
        if last.is_err() {
            break;
        }
    }
    match last {
        Ok((result, sentence)) => Answer {
            result: Ok(result),
            sentence,
        },
        Err(e) => refused(e),
    }
}

/// Every answer of the model about `scenario`'s job, for the token named `caller`.
pub fn ask_all(scenario: &Scenario, caller: &str) -> Answers {
    ask_from(&session_now(scenario), scenario, caller)
}

/// [`ask_all`] from the session `now` of `scenario`.
fn ask_from(now: &Result<Session, ScenarioError>, scenario: &Scenario, caller: &str) -> Answers {
    let handle = free_handle(scenario);
    let transfer = ask(now, &[Step::Transfer {}]);
    let caller_may = PROBES
        .iter()
        .filter_map(|&p| Some((p, ask(now, &probe_steps(p, caller, &handle)?))))
        .collect();
    let routes = Access::ALL
        .iter()
        .map(|&access| (access, ask(now, &[Step::Route { access }])))
        .collect();
    Answers {
        transfer,
        caller_may,
        routes,
    }
}

/// The diagnosis of `input`'s job for its caller.
pub fn diagnose(input: &Input) -> Result<Diagnosis, DoctorError> {
    let Some(caller) = input.scenario.tokens.get(&input.caller) else {
        return Err(DoctorError::UnknownCaller(input.caller.clone()));
    };
    let now = session_now(&input.scenario);
    let job = match &now {
        Ok(session) => session.job(),
        Err(e) => return Err(e.clone().into()),
    };
    let job_error_rule = job.error().map(|e| e.rule.id);
    let job = JobSnapshot::of(job);
    let answers = ask_from(&now, &input.scenario, &input.caller);
    let advice = advice::derive(&answers, &job, job_error_rule, caller.user);
    let depends = unknown::depends(input, &job, &answers);
    Ok(Diagnosis {
        label: input.label.clone(),
        caller: caller.user,
        job,
        job_error_rule,
        answers,
        advice,
        unknown: input.unknown.clone(),
        depends,
        explain: input.scenario.explain,
    })
}
