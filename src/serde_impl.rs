//! Serialized forms of the job and its error (feature `serde`): every field, checked on
//! the way in, so a job the model cannot reach is refused.
#![forbid(unsafe_code)]

use crate::challenge::{Challenges, IeSettings};
use crate::facts::{JobError, JobFacts};
use crate::hresult::HResult;
use crate::job::Job;
use crate::net::{Credentials, NetworkEnvironment, ProxyUsage};
use crate::profile::Profile;
use crate::rule::{Reason, Rule, RuleId};
use crate::state::{JobState, JobType, Remote};
use crate::token::Identity;
use crate::usage::TokenUsage;
use serde::{Deserialize, Serialize};

/// Why a serialized job was refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidJob {
    /// The stored flags carry unknown bits, which no accepted call can store.
    #[error("flags: unknown bits 0x{0:X} are never stored")]
    UnknownFlags(u32),
    /// An error is recorded on a job that is not in ERROR.
    #[error("error: a job in state {0} has no error (only ERROR has one)")]
    ErrorOutsideErrorState(JobState),
    /// A `profile` in the facts of a job (it belongs to the job, not to its facts).
    #[error("profile: the facts of a job have no profile (a Job has one)")]
    ProfileInFacts,
    /// An upload-reply job over SMB (T-7).
    #[error("an upload-reply job cannot use SMB")]
    CannotExist,
    /// A job in ERROR without an error.
    #[error("error: a job in state error must have one")]
    ErrorStateWithoutError,
    /// The recorded error is not one this reason produces.
    #[error("error: {reason} does not put a job in ERROR with {hresult} and rule {rule}")]
    ImpossibleError {
        /// The reason given.
        reason: Reason,
        /// The code given.
        hresult: HResult,
        /// The rule id given.
        rule: RuleId,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
struct ErrorRepr {
    hresult: HResult,
    rule: RuleId,
    reason: Reason,
}

crate::names::strict_object!(ErrorRepr, "a job error");

impl Serialize for JobError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ErrorRepr {
            hresult: self.hresult,
            rule: self.rule.id,
            reason: self.rule.reason,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for JobError {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<JobError, D::Error> {
        let r = <ErrorRepr as Deserialize>::deserialize(deserializer)?;
        match JobError::of(r.reason) {
            Some(e) if e.hresult == r.hresult && e.rule.id == r.rule => Ok(e),
            _ => Err(serde::de::Error::custom(InvalidJob::ImpossibleError {
                reason: r.reason,
                hresult: r.hresult,
                rule: r.rule,
            })),
        }
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.id.serialize(serializer)
    }
}

/// The serialized form of a [`Job`].
#[derive(Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
struct JobRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    profile: Option<Profile>,
    owner: Identity,
    #[serde(default, rename = "type")]
    job_type: JobType,
    #[serde(default)]
    remote: Remote,
    #[serde(default)]
    state: JobState,
    #[serde(default)]
    error: Option<JobError>,
    #[serde(default)]
    flags: TokenUsage,
    #[serde(default)]
    helper_token: Option<Identity>,
    #[serde(default)]
    client_certificate: bool,
    #[serde(default)]
    credentials: Credentials,
    #[serde(default)]
    proxy: ProxyUsage,
    #[serde(default)]
    environment: NetworkEnvironment,
    #[serde(default = "logged_on")]
    owner_logged_on: bool,
    #[serde(default)]
    challenges: Challenges,
    #[serde(default)]
    ie_settings: IeSettings,
}

crate::names::strict_object!(JobRepr, "a job");

const fn logged_on() -> bool {
    true
}

impl JobRepr {
    /// The facts, checked: a serialized job must be one the model can reach.
    fn facts(&self) -> Result<JobFacts, InvalidJob> {
        let r = self;
        if r.flags.has_unknown_bits() {
            return Err(InvalidJob::UnknownFlags(r.flags.unknown_bits()));
        }
        match (r.state, r.error) {
            (JobState::Error, None) => return Err(InvalidJob::ErrorStateWithoutError),
            (state, Some(_)) if state != JobState::Error => {
                return Err(InvalidJob::ErrorOutsideErrorState(state));
            }
            _ => {}
        }
        let facts = JobFacts::new(r.owner)
            .with_state(r.state)
            .with_error(r.error)
            .with_flags(r.flags)
            .with_helper(r.helper_token)
            .with_client_certificate(r.client_certificate)
            .with_remote(r.remote)
            .with_job_type(r.job_type)
            .with_credentials(r.credentials)
            .with_proxy(r.proxy)
            .with_environment(r.environment)
            .with_owner_logged_on(r.owner_logged_on)
            .with_challenges(r.challenges)
            .with_ie_settings(r.ie_settings);
        if !facts.can_exist() {
            return Err(InvalidJob::CannotExist);
        }
        Ok(facts)
    }

    fn of(profile: Option<Profile>, f: &JobFacts) -> JobRepr {
        JobRepr {
            profile,
            owner: f.owner,
            job_type: f.job_type,
            remote: f.remote,
            state: f.state,
            error: f.error,
            flags: f.flags,
            helper_token: f.helper,
            client_certificate: f.client_certificate,
            credentials: f.credentials,
            proxy: f.proxy,
            environment: f.environment,
            owner_logged_on: f.owner_logged_on,
            challenges: f.challenges,
            ie_settings: f.ie_settings,
        }
    }
}

/// Serialized as an object with every fact and the profile, so a scenario can be saved
/// and resumed.
impl Serialize for Job {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        JobRepr::of(Some(*self.profile()), self.facts()).serialize(serializer)
    }
}

/// Refuses unknown fields and states the model cannot reach (stored flags with unknown
/// bits, an error on a job that is not in ERROR, ERROR without an error, an error its
/// reason never produces). A missing profile is the default one.
impl<'de> Deserialize<'de> for Job {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Job, D::Error> {
        let repr = <JobRepr as Deserialize>::deserialize(deserializer)?;
        let facts = repr.facts().map_err(serde::de::Error::custom)?;
        Ok(Job::with_facts(repr.profile.unwrap_or_default(), facts))
    }
}

/// The same object as a [`Job`]'s, without `profile`: the facts belong to a job, the profile
/// to the model that judges it.
impl Serialize for JobFacts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        JobRepr::of(None, self).serialize(serializer)
    }
}

/// As strict as a [`Job`]'s, and a `profile` field is refused.
impl<'de> Deserialize<'de> for JobFacts {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<JobFacts, D::Error> {
        let repr = <JobRepr as Deserialize>::deserialize(deserializer)?;
        if repr.profile.is_some() {
            return Err(serde::de::Error::custom(InvalidJob::ProfileInFacts));
        }
        repr.facts().map_err(serde::de::Error::custom)
    }
}

/// `{"access": "reply_file_rename", "principal": "helper", "rule": "R-1", "reason":
/// "flag_set"}`, and for a whole challenge answered in a scheme its `"scheme"`
/// (serialization only: a route is an output).
impl Serialize for crate::decide::route::Route {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Route", 5)?;
        s.serialize_field("access", &self.access)?;
        s.serialize_field("principal", &self.principal)?;
        s.serialize_field("rule", &self.rule.id)?;
        s.serialize_field("reason", &self.rule.reason)?;
        match (self.access, self.scheme) {
            (crate::access::Access::WholeChallenge(_), Some(scheme)) => {
                s.serialize_field("scheme", &scheme)?;
            }
            _ => s.skip_field("scheme")?,
        }
        s.end()
    }
}

/// `"transferred"`, or `{"error": {…the job error…}}`.
impl Serialize for crate::decide::transfer::TransferOutcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use crate::decide::transfer::TransferOutcome;
        use serde::ser::SerializeMap;
        match self {
            TransferOutcome::Transferred => serializer.serialize_str("transferred"),
            TransferOutcome::Error(e) => {
                let mut m = serializer.serialize_map(Some(1))?;
                m.serialize_entry("error", e)?;
                m.end()
            }
        }
    }
}

/// `{"steps": [route, …], "outcome": …}` (serialization only: a plan is an output).
impl Serialize for crate::decide::transfer::TransferPlan {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("TransferPlan", 2)?;
        s.serialize_field("steps", self.steps())?;
        s.serialize_field("outcome", &self.outcome())?;
        s.end()
    }
}
