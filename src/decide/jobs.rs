//! The job methods (`IBackgroundCopyJob`, `…Job2`, `…Job5`): who may call them (A-9, A-11,
//! A-13, A-14, judged on the caller at call time, A-12) and the rules of the methods SPEC
//! v3 adds — `Suspend` (L-12), `AddFile` (L-15), `SetProperty(USE_STORED_CREDENTIALS)`
//! (R-3 (iv)) — and of the events around a running transfer: its start (L-14) and the
//! network's loss and return (L-13).
//!
//! A job method's checks run in A-10's order: (A-2 for `SetProperty`) → A-9 → the gate
//! (A-11; every job method changes the job) → a restricted caller (A-14) → the owner rule
//! (A-13) → a done job (T-7) → the method's own rules. [`guard`] is everything before the
//! done job; [`call`] runs the guard and then the method.
//!
//! ```
//! use bits_helper_token::{*, decide::*, job::*, token::*};
//! let alice = Identity::new("S-1-5-21-1-2-3-1001".parse()?, false);
//! let admin = Identity::new("S-1-5-21-1-2-3-500".parse()?, true);
//! let profile = Profile::default();
//! let job = JobFacts::new(alice).with_file(false);
//!
//! // A-13: an administrator may suspend Alice's job, but only Alice sets its credentials.
//! let by_admin = Caller::new(admin);
//! assert_eq!(jobs::call(&profile, &by_admin, &job, JobCall::Suspend).rule_id(), RuleId::L12);
//! let creds = JobCall::SetCredentials(
//!     net::AuthTarget::Server, net::AuthScheme::Negotiate, net::Credential::Implicit);
//! assert_eq!(jobs::call(&profile, &by_admin, &job, creds).rule_id(), RuleId::A13);
//!
//! // L-15: Alice from a "Run as" prompt is not logged on; AddFile fails with 0x800704DD.
//! let runas = Caller::new(alice).with_logged_on(false);
//! let d = jobs::add_file(&profile, &runas, &job).expect("the job has no file yet");
//! assert_eq!(d.hresult(), HResult::ERROR_NOT_LOGGED_ON);
//!
//! // A-9: an anonymous client is refused every call.
//! let anonymous = Caller::new(alice).with_level(ImpersonationLevel::Anonymous);
//! assert_eq!(jobs::call(&profile, &anonymous, &job, JobCall::Resume).rule_id(), RuleId::A9);
//!
//! // L-14, L-13: a queued job starts only with the network up.
//! let queued = job.with_file(true).with_state(JobState::Queued);
//! assert_eq!(start_transfer(&profile, &queued, StartTo::Transferring).rule_id(), RuleId::L14);
//! let offline = queued.with_environment(
//!     queued.environment.with_network(net::NetworkState::Disconnected));
//! let d = start_transfer(&profile, &offline, StartTo::Transferring);
//! assert_eq!((d.hresult(), d.rule_id()), (HResult::S_FALSE, RuleId::L13));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

use super::methods::{gate, interface};
use super::{Decision, Event, Operation, lifecycle, settings};
use crate::facts::{Caller, Effect, JobError, JobFacts};
use crate::hresult::HResult;
use crate::net::{AuthScheme, AuthTarget, Credential, NetworkState, ProxyUsage};
use crate::profile::Profile;
use crate::rule::{Reason, Rule, rule};
use crate::state::{JobState, JobType, Remote};
use crate::token::ImpersonationLevel;

/// A job method (A-13), without its arguments.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[non_exhaustive]
pub enum JobMethod {
    /// `Resume` (L-9).
    Resume,
    /// `Suspend` (L-12).
    Suspend,
    /// `Cancel` (T-7).
    Cancel,
    /// `Complete` (L-10).
    Complete,
    /// `AddFile` (L-15).
    AddFile,
    /// `SetCredentials` (R-3, R-5): owner only.
    SetCredentials,
    /// `RemoveCredentials` (R-5): owner only.
    RemoveCredentials,
    /// `SetProxySettings` (R-7).
    SetProxySettings,
    /// `SetClientCertificateByID/ByName` (R-4): owner only.
    SetClientCertificate,
    /// `RemoveClientCertificate` (R-4).
    RemoveClientCertificate,
    /// `IBackgroundCopyJob5::SetProperty` (R-3 (iv)).
    SetProperty,
}

crate::names::names! { JobMethod, "job method";
    Resume => "Resume", Suspend => "Suspend", Cancel => "Cancel", Complete => "Complete",
    AddFile => "AddFile", SetCredentials => "SetCredentials",
    RemoveCredentials => "RemoveCredentials", SetProxySettings => "SetProxySettings",
    SetClientCertificate => "SetClientCertificate",
    RemoveClientCertificate => "RemoveClientCertificate", SetProperty => "SetProperty",
}

impl JobMethod {
    /// Whether only the job's owner may call it (A-13, readings): `SetCredentials`,
    /// `RemoveCredentials` ("in the context of the job's owner") and
    /// `SetClientCertificateBy…` ("only the job owner can specify the client
    /// certificate").
    pub const fn owner_only(self) -> bool {
        matches!(
            self,
            JobMethod::SetCredentials
                | JobMethod::RemoveCredentials
                | JobMethod::SetClientCertificate
        )
    }

    /// The operation a decision of this method reports.
    pub const fn operation(self) -> Operation {
        Operation::Event(match self {
            JobMethod::Resume => Event::Resume,
            JobMethod::Suspend => Event::Suspend,
            JobMethod::Cancel => Event::Cancel,
            JobMethod::Complete => Event::Complete,
            JobMethod::AddFile => Event::AddFile,
            JobMethod::SetProperty => Event::SetProperty,
            JobMethod::SetCredentials
            | JobMethod::RemoveCredentials
            | JobMethod::SetProxySettings
            | JobMethod::SetClientCertificate
            | JobMethod::RemoveClientCertificate => Event::Setting,
        })
    }
}

/// A call of a job method with its arguments (`AddFile` is [`add_file`]: it can leave the
/// model).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum JobCall {
    /// `Resume` (L-9).
    Resume,
    /// `Suspend` (L-12).
    Suspend,
    /// `Cancel` (T-7).
    Cancel,
    /// `Complete` (L-10).
    Complete,
    /// `SetCredentials(target, scheme, …)` (R-3, R-5).
    SetCredentials(AuthTarget, AuthScheme, Credential),
    /// `RemoveCredentials(target, scheme)` (R-5).
    RemoveCredentials(AuthTarget, AuthScheme),
    /// `SetProxySettings` (the usage, R-7).
    SetProxyUsage(ProxyUsage),
    /// `SetClientCertificateByID/ByName` (`true`) or `RemoveClientCertificate` (`false`),
    /// R-4.
    SetClientCertificate(bool),
    /// `SetProperty(BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS)` with target proxy (R-3 (iv)).
    UseStoredCredentials,
}

impl JobCall {
    /// The method called.
    pub const fn method(self) -> JobMethod {
        match self {
            JobCall::Resume => JobMethod::Resume,
            JobCall::Suspend => JobMethod::Suspend,
            JobCall::Cancel => JobMethod::Cancel,
            JobCall::Complete => JobMethod::Complete,
            JobCall::SetCredentials(..) => JobMethod::SetCredentials,
            JobCall::RemoveCredentials(..) => JobMethod::RemoveCredentials,
            JobCall::SetProxyUsage(_) => JobMethod::SetProxySettings,
            JobCall::SetClientCertificate(true) => JobMethod::SetClientCertificate,
            JobCall::SetClientCertificate(false) => JobMethod::RemoveClientCertificate,
            JobCall::UseStoredCredentials => JobMethod::SetProperty,
        }
    }
}

/// A-9: a client whose proxy allows only anonymous impersonation is refused every call
/// (QueryInterface, the five methods, TakeOwnership and the job methods) with
/// `E_ACCESSDENIED`.
pub(crate) const fn not_anonymous(level: ImpersonationLevel) -> Result<(), (HResult, Rule)> {
    match level {
        ImpersonationLevel::Anonymous => Err((HResult::E_ACCESSDENIED, rule!(AnonymousClient))),
        _ => Ok(()),
    }
}

/// A-14: a restricted caller (T-11) may not change a job; refused with Q-5's code. Reads
/// pass.
pub(crate) fn not_restricted(profile: &Profile, caller: &Caller) -> Result<(), (HResult, Rule)> {
    if caller.identity.restricted {
        Err((profile.knobs.denial.get(), rule!(RestrictedCaller)))
    } else {
        Ok(())
    }
}

/// Who may call a job method (A-10's order up to the owner rule): A-2 for `SetProperty`
/// (`IBackgroundCopyJob5` is BITS 5.0; the model offers it wherever it offers
/// `IBitsTokenOptions`), A-9 (anonymous; and identify for `SetProperty`, which needs
/// impersonation: reading, checked with A-9's other refusal), the gate (A-11, as a
/// change), A-14, and A-13: the owner (same user SID) or an administrator, or for
/// [`JobMethod::owner_only`] methods the owner alone, refusals with Q-5's code. `Ok`
/// carries the granting rule.
pub fn guard(
    profile: &Profile,
    caller: &Caller,
    job: &JobFacts,
    method: JobMethod,
) -> Result<Rule, Decision> {
    let refuse =
        |(hresult, rule): (HResult, Rule)| Decision::refuse(method.operation(), hresult, rule);
    if method == JobMethod::SetProperty {
        interface(profile).map_err(refuse)?;
    }
    not_anonymous(caller.level).map_err(refuse)?;
    if method == JobMethod::SetProperty && !caller.level.can_impersonate() {
        return Err(refuse((
            HResult::E_ACCESSDENIED,
            rule!(PropertyNeedsImpersonation),
        )));
    }
    gate(profile, &caller.identity, job, true).map_err(refuse)?;
    not_restricted(profile, caller).map_err(refuse)?;
    let owner = caller.identity.sid == job.owner.sid;
    if owner {
        return Ok(rule!(JobOwnerCalls));
    }
    let denial = profile.knobs.denial.get();
    if method.owner_only() {
        return Err(refuse((denial, rule!(OwnerOnly))));
    }
    if caller.identity.admin {
        Ok(rule!(AdministratorCalls))
    } else {
        Err(refuse((denial, rule!(NotOwnerOrAdministrator))))
    }
}

/// A job method called by `caller`: [`guard`], then the method's own rules (each of which
/// refuses a done job first, T-7).
pub fn call(profile: &Profile, caller: &Caller, job: &JobFacts, call: JobCall) -> Decision {
    if let Err(refused) = guard(profile, caller, job, call.method()) {
        return refused;
    }
    match call {
        JobCall::Resume => lifecycle::resume(job),
        JobCall::Suspend => suspend(job),
        JobCall::Cancel => lifecycle::cancel(job),
        JobCall::Complete => lifecycle::complete(job),
        JobCall::SetCredentials(target, scheme, credential) => {
            settings::set_credentials(job, target, scheme, credential)
        }
        JobCall::RemoveCredentials(target, scheme) => {
            settings::remove_credentials(job, target, scheme)
        }
        JobCall::SetProxyUsage(usage) => settings::set_proxy_usage(job, usage),
        JobCall::SetClientCertificate(present) => settings::set_client_certificate(job, present),
        JobCall::UseStoredCredentials => use_stored_credentials(job),
    }
}

/// `AddFile` on a download that already holds its file: a second file is outside the
/// model (L-10 relies on one file, L-15).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, thiserror::Error)]
#[error("add_file: the model's download job already holds its file (L-15)")]
#[non_exhaustive]
pub struct SecondFile;

/// `Suspend` (L-12): QUEUED, CONNECTING, TRANSFERRING and TRANSIENT_ERROR jobs are
/// SUSPENDED (a transient error cleared, reading); SUSPENDED, ERROR and TRANSFERRED jobs
/// answer `S_OK` and do not change (an ERROR job keeps its error); a done job is refused
/// (T-7).
pub fn suspend(job: &JobFacts) -> Decision {
    let op = Operation::Event(Event::Suspend);
    if let Some(refused) = super::refused_when_done(op, job) {
        return refused;
    }
    match job.state {
        JobState::Queued
        | JobState::Connecting
        | JobState::Transferring
        | JobState::TransientError => {
            Decision::new(op, HResult::S_OK, rule!(Suspended), Effect::Suspend)
        }
        _ => Decision::new(
            op,
            HResult::S_OK,
            rule!(NothingToSuspend),
            Effect::Unchanged,
        ),
    }
}

/// `AddFile` by `caller` (L-15): the [`guard`]; a done job (T-7); a caller whose user is
/// not logged on (L-11): `ERROR_NOT_LOGGED_ON`; an upload or upload-reply job that holds
/// its file: `BG_E_TOO_MANY_FILES`; an SMB file on an upload-reply job: `E_INVALIDARG`
/// (T-7); else the job holds its file. A download that holds its file: [`SecondFile`].
pub fn add_file(
    profile: &Profile,
    caller: &Caller,
    job: &JobFacts,
) -> Result<Decision, SecondFile> {
    if let Err(refused) = guard(profile, caller, job, JobMethod::AddFile) {
        return Ok(refused);
    }
    let op = Operation::Event(Event::AddFile);
    if let Some(refused) = super::refused_when_done(op, job) {
        return Ok(refused);
    }
    let refuse = |hresult, rule| Ok(Decision::refuse(op, hresult, rule));
    if !caller.logged_on {
        return refuse(HResult::ERROR_NOT_LOGGED_ON, rule!(CallerNotLoggedOn));
    }
    if job.has_file {
        return match job.job_type {
            JobType::Download => Err(SecondFile),
            JobType::Upload | JobType::UploadReply => {
                refuse(HResult::BG_E_TOO_MANY_FILES, rule!(UploadHoldsItsFile))
            }
        };
    }
    if matches!(
        (job.job_type, job.remote),
        (JobType::UploadReply, Remote::Smb)
    ) {
        return refuse(HResult::E_INVALIDARG, rule!(UploadReplyOverSmb));
    }
    Ok(Decision::new(
        op,
        HResult::S_OK,
        rule!(FileAdded),
        Effect::AddFile,
    ))
}

/// `SetProperty(BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS)`, target proxy (R-3 (iv)), after
/// the guard: a done job is refused (T-7); else the property is set.
pub fn use_stored_credentials(job: &JobFacts) -> Decision {
    let op = Operation::Event(Event::SetProperty);
    if let Some(refused) = super::refused_when_done(op, job) {
        return refused;
    }
    Decision::new(
        op,
        HResult::S_OK,
        rule!(StoredCredentialsSet),
        Effect::SetUseStoredCredentials(true),
    )
}

/// Where a started transfer goes first (L-14).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[allow(clippy::exhaustive_enums)] // the two running states
pub enum StartTo {
    /// CONNECTING.
    Connecting,
    /// TRANSFERRING (the default).
    #[default]
    Transferring,
}

crate::names::names! { StartTo, "state a transfer starts in";
    Connecting => "connecting", Transferring => "transferring",
}

impl StartTo {
    /// The job state.
    pub const fn state(self) -> JobState {
        match self {
            StartTo::Connecting => JobState::Connecting,
            StartTo::Transferring => JobState::Transferring,
        }
    }
}

/// A transfer starts (L-14): a done job is refused (T-7); a job that is not QUEUED,
/// TRANSIENT_ERROR or CONNECTING (and CONNECTING asked to connect again) has nothing to do
/// (`S_FALSE`, T-7); a user's job whose owner is not logged on does not start (L-8); no
/// transfer starts without the network (L-13); an eager L-6 (Q-8) puts a job with flags
/// and no helper token in ERROR; else the job enters `to`, a transient error cleared. No
/// access is made.
pub fn start_transfer(profile: &Profile, job: &JobFacts, to: StartTo) -> Decision {
    let op = Operation::Event(Event::StartTransfer);
    if let Some(refused) = super::refused_when_done(op, job) {
        return refused;
    }
    let startable = match job.state {
        JobState::Queued | JobState::TransientError => true,
        JobState::Connecting => to == StartTo::Transferring,
        _ => false,
    };
    if !startable {
        return Decision::new(op, HResult::S_FALSE, rule!(NothingToDo), Effect::Unchanged);
    }
    if let Some(waits) = lifecycle::waits(op, job) {
        return waits;
    }
    if let Some(error) = super::transfer::eager_token_failure(profile, job) {
        return Decision::new(op, error.hresult, error.rule, Effect::Fail(error));
    }
    Decision::new(
        op,
        HResult::S_OK,
        rule!(TransferStarted),
        Effect::Enter(to.state()),
    )
}

/// The network is lost (L-13): QUEUED, CONNECTING and TRANSFERRING jobs move to
/// TRANSIENT_ERROR with `BG_E_NETWORK_DISCONNECTED`.
pub fn network_lost(job: &JobFacts) -> Decision {
    let moves = matches!(
        job.state,
        JobState::Queued | JobState::Connecting | JobState::Transferring
    );
    let (reason, moves_to) = if moves {
        (
            rule!(NetworkLost),
            Some((JobState::TransientError, JobError::of(Reason::NetworkLost))),
        )
    } else {
        (rule!(NetworkUnchanged), None)
    };
    Decision::new(
        Operation::Event(Event::NetworkLost),
        HResult::S_OK,
        reason,
        Effect::Network {
            state: NetworkState::Disconnected,
            moves_to,
        },
    )
}

/// The network returns (L-13): TRANSIENT_ERROR jobs, whatever their error, move to
/// QUEUED with the error cleared.
pub fn network_restored(job: &JobFacts) -> Decision {
    let (reason, moves_to) = if job.state == JobState::TransientError {
        (rule!(NetworkRestored), Some((JobState::Queued, None)))
    } else {
        (rule!(NetworkUnchanged), None)
    };
    Decision::new(
        Operation::Event(Event::NetworkRestored),
        HResult::S_OK,
        reason,
        Effect::Network {
            state: NetworkState::Connected,
            moves_to,
        },
    )
}
