//! The stateful model: a BITS job, the `IBitsTokenOptions` handle that remembers its
//! caller (A-1), and the job's lifecycle events (L-5…L-7, T-7).
//!
//! The model never decides anything itself: every method call goes through the pure
//! decision function of [`crate::decide`] and applies its [`Effect`]; the transfer step
//! applies the plan of [`crate::route::transfer_plan`]. A refused call changes nothing.
#![forbid(unsafe_code)]
// Outcomes carry a `Rule` with SIDs inline (no heap): large by design, see decide.rs.
#![allow(clippy::result_large_err)]

use crate::decide::{self, Decision, Effect, Impersonation, JobFacts, Rule, TransferFailure};
use crate::hresult::HResult;
use crate::profile::{Profile, TakeOwnership};
use crate::route::{self, Credentials, NetworkEnvironment, Outcome, ProxyUsage, TransferJob};
use crate::sid::Sid;
use crate::state::{JobState, JobType, Remote};
use crate::token::{Identity, Token};
use crate::usage::TokenUsage;
use core::fmt;

/// A BITS transfer job as far as helper tokens are concerned.
///
/// Create one with [`Job::new`], obtain an `IBitsTokenOptions` handle with
/// [`Job::query_interface`], call the five methods on the handle, and drive the lifecycle
/// with [`Job::logoff_owner`], [`Job::resume`], [`Job::transfer`], [`Job::cancel`],
/// [`Job::complete`] and [`Job::take_ownership`].
///
/// The stored helper token is kept as its [`Identity`] (user SID and whether the
/// Administrators group is enabled): that is all any rule observes of it.
///
/// ```
/// use bits_helper_token::*;
///
/// let owner = TokenInfo::standard_user("S-1-5-21-1-2-3-1001".parse()?);
/// let helper = TokenInfo::standard_user("S-1-5-21-1-2-3-1002".parse()?);
/// let mut job = Job::new(Profile::default(), &owner);
///
/// // A-1: the handle remembers the owner, even while the owner impersonates the helper.
/// let opts = job.query_interface(&owner).expect("BITS 4.0 and later");
/// assert!(opts.set_helper_token(&mut job, Impersonation::of(&helper)).is_allowed());
/// assert!(opts.set_helper_token_flags(&mut job, 0x1).is_allowed());
///
/// // L-5: the owner logs off; the token is gone and the job fails.
/// job.logoff_owner();
/// assert_eq!(job.state(), JobState::Error);
/// assert_eq!(job.error().map(|e| e.hresult), Some(HResult::BG_E_TOKEN_REQUIRED));
/// # Ok::<(), ParseSidError>(())
/// ```
///
/// Serialized (feature `serde`) as an object with every field of the job's state, so a
/// scenario can be saved and resumed; deserialization refuses unknown fields and states
/// the model cannot reach (stored flags with unknown bits, an error code on a job that
/// is not in ERROR, a success code as an error).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "JobRepr", into = "JobRepr"))]
pub struct Job {
    profile: Profile,
    owner: Identity,
    job_type: JobType,
    remote: Remote,
    state: JobState,
    error: Option<TransferFailure>,
    flags: TokenUsage,
    helper: Option<Identity>,
    client_certificate: bool,
    credentials: Credentials,
    proxy: ProxyUsage,
    environment: NetworkEnvironment,
}

/// An `IBitsTokenOptions` interface pointer: the caller identity remembered when it was
/// obtained (A-1). Every method is judged by this identity, never by the thread token at
/// call time.
///
/// The handle does not borrow the job: pass it the job you queried.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TokenOptions {
    caller: Identity,
}

/// A lifecycle event of a job (not an `IBitsTokenOptions` method).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Event {
    /// The owner logged off, or the session the helper token came from ended (L-5).
    LogoffOwner,
    /// `IBackgroundCopyJob::Resume`.
    Resume,
    /// One run of the transfer, to its end (R-…, X-1, L-6).
    Transfer,
    /// `IBackgroundCopyJob::Cancel`.
    Cancel,
    /// `IBackgroundCopyJob::Complete`.
    Complete,
    /// `IBackgroundCopyJob::TakeOwnership` (L-7, Q-6).
    TakeOwnership,
}

impl Event {
    /// The snake_case name (`"logoff_owner"`).
    pub const fn name(self) -> &'static str {
        match self {
            Event::LogoffOwner => "logoff_owner",
            Event::Resume => "resume",
            Event::Transfer => "transfer",
            Event::Cancel => "cancel",
            Event::Complete => "complete",
            Event::TakeOwnership => "take_ownership",
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a lifecycle event did: the `HRESULT` (the method's return, or for a transfer the
/// job's resulting error code), the rule, and the state before and after.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub struct EventOutcome {
    /// The event.
    pub event: Event,
    /// The result: `S_OK`, `S_FALSE` (nothing to do), a refusal, or the job error a
    /// transfer ended with.
    pub hresult: HResult,
    /// The rule that decided.
    pub rule: Rule,
    /// The job's state before the event.
    pub from: JobState,
    /// The job's state after the event.
    pub to: JobState,
}

impl fmt::Display for EventOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} returns {}: {}", self.event, self.hresult, self.rule)
    }
}

/// `QueryInterface` for `IBitsTokenOptions` was refused (A-2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, thiserror::Error)]
#[error("QueryInterface returns {hresult}: {rule}")]
#[non_exhaustive]
pub struct QueryInterfaceError {
    /// `E_NOINTERFACE`.
    pub hresult: HResult,
    /// The rule (A-2).
    pub rule: Rule,
}

impl Job {
    /// A fresh job created by `owner` (its token at creation time decides whether the owner
    /// is elevated): SUSPENDED, a download over HTTPS, flags `0`, no helper token, no
    /// client certificate, no credentials, the preconfigured proxy (T-1, T-7).
    pub fn new<O: Token + ?Sized>(profile: Profile, owner: &O) -> Job {
        Job::with_owner(profile, Identity::of(owner))
    }

    /// A fresh job of an owner given as an [`Identity`] (`admin` = elevated).
    pub const fn with_owner(profile: Profile, owner: Identity) -> Job {
        Job {
            profile,
            owner,
            job_type: JobType::Download,
            remote: Remote::Https,
            state: JobState::Suspended,
            error: None,
            flags: TokenUsage::empty(),
            helper: None,
            client_certificate: false,
            credentials: Credentials::NONE,
            proxy: ProxyUsage::Preconfig,
            environment: NetworkEnvironment::DEFAULT,
        }
    }

    /// The same job with another job type.
    pub const fn of_type(mut self, job_type: JobType) -> Job {
        self.job_type = job_type;
        self
    }

    /// The same job over another remote protocol.
    pub const fn over(mut self, remote: Remote) -> Job {
        self.remote = remote;
        self
    }

    /// The same job in the given network environment (R-3's registry values).
    pub const fn in_environment(mut self, environment: NetworkEnvironment) -> Job {
        self.environment = environment;
        self
    }

    /// The profile the job behaves by.
    pub const fn profile(&self) -> &Profile {
        &self.profile
    }
    /// The owner (SID and whether elevated).
    pub const fn owner(&self) -> Identity {
        self.owner
    }
    /// The job type.
    pub const fn job_type(&self) -> JobType {
        self.job_type
    }
    /// The remote protocol.
    pub const fn remote(&self) -> Remote {
        self.remote
    }
    /// The state (T-7).
    pub const fn state(&self) -> JobState {
        self.state
    }
    /// The error of a job in ERROR: its code and the rule behind it.
    pub const fn error(&self) -> Option<TransferFailure> {
        self.error
    }
    /// The stored usage flags.
    pub const fn flags(&self) -> TokenUsage {
        self.flags
    }
    /// The stored helper token, if any.
    pub const fn helper_token(&self) -> Option<Identity> {
        self.helper
    }
    /// Whether a client certificate is set.
    pub const fn client_certificate(&self) -> bool {
        self.client_certificate
    }
    /// The credentials set with `SetCredentials`.
    pub const fn credentials(&self) -> &Credentials {
        &self.credentials
    }
    /// The proxy usage.
    pub const fn proxy(&self) -> ProxyUsage {
        self.proxy
    }
    /// The network environment (R-3).
    pub const fn environment(&self) -> NetworkEnvironment {
        self.environment
    }

    /// What the decision functions read of this job.
    pub const fn facts(&self) -> JobFacts {
        JobFacts::new(self.owner)
            .with_state(self.state)
            .with_flags(self.flags)
            .with_helper(self.helper)
            .with_client_certificate(self.client_certificate)
            .with_remote(self.remote)
    }

    /// What routing reads of this job ([`route::route`], [`route::transfer_plan`]).
    pub fn transfer_job(&self) -> TransferJob {
        let mut job = TransferJob::new(self.facts());
        job.job_type = self.job_type;
        job.credentials = self.credentials;
        job.proxy = self.proxy;
        job.environment = self.environment;
        job
    }

    /// `IBackgroundCopyJob::QueryInterface(IID_IBitsTokenOptions)` on the caller's thread
    /// token (A-1): the handle remembers the caller's user SID and whether it has the
    /// Administrators group enabled (T-5). Fails with `E_NOINTERFACE` before BITS 4.0
    /// (A-2).
    pub fn query_interface<T: Token + ?Sized>(
        &self,
        caller: &T,
    ) -> Result<TokenOptions, QueryInterfaceError> {
        let release = self.profile.release;
        if !release.has_token_options() {
            return Err(QueryInterfaceError {
                hresult: HResult::E_NOINTERFACE,
                rule: Rule::InterfaceUnavailable { release },
            });
        }
        Ok(TokenOptions {
            caller: Identity::of(caller),
        })
    }

    /// `IBackgroundCopyJobHttpOptions::SetClientCertificateByID/ByName` (`true`) or
    /// `RemoveClientCertificate` (`false`). The model does not judge who may call it.
    pub fn set_client_certificate(&mut self, present: bool) {
        self.client_certificate = present;
    }

    /// `IBackgroundCopyJob2::SetCredentials` / `RemoveCredentials`, as a whole new set.
    pub fn set_credentials(&mut self, credentials: Credentials) {
        self.credentials = credentials;
    }

    /// `IBackgroundCopyJob::SetProxySettings` (the usage only).
    pub fn set_proxy(&mut self, proxy: ProxyUsage) {
        self.proxy = proxy;
    }

    fn apply(&mut self, decision: &Decision) {
        match decision.effect {
            Effect::StoreFlags(flags) => self.flags = flags,
            Effect::StoreHelper(token) => self.helper = Some(token),
            Effect::ClearHelper => self.helper = None,
            Effect::None => {}
        }
    }

    fn outcome(&self, event: Event, from: JobState, hresult: HResult, rule: Rule) -> EventOutcome {
        EventOutcome {
            event,
            hresult,
            rule,
            from,
            to: self.state,
        }
    }

    /// Refuses every event on an ACKNOWLEDGED or CANCELLED job (T-7).
    fn finished(&self, event: Event) -> Option<EventOutcome> {
        self.state.is_done().then(|| {
            let rule = Rule::JobFinished { state: self.state };
            self.outcome(event, self.state, HResult::BG_E_INVALID_STATE, rule)
        })
    }

    /// The owner logs off, or the session the helper token came from ends (L-5): BITS
    /// discards the helper token; an unfinished job (not TRANSFERRED, ACKNOWLEDGED or
    /// CANCELLED) with non-zero flags goes to ERROR with `BG_E_TOKEN_REQUIRED`.
    pub fn logoff_owner(&mut self) -> EventOutcome {
        let from = self.state;
        self.helper = None;
        if !from.is_finished() && !self.flags.is_empty() {
            let rule = Rule::TokenRequiredAfterLogoff { flags: self.flags };
            self.state = JobState::Error;
            self.error = Some(TransferFailure {
                hresult: HResult::BG_E_TOKEN_REQUIRED,
                rule,
            });
            return self.outcome(Event::LogoffOwner, from, HResult::S_OK, rule);
        }
        self.outcome(
            Event::LogoffOwner,
            from,
            HResult::S_OK,
            Rule::TokenDiscarded,
        )
    }

    /// `IBackgroundCopyJob::Resume`: a SUSPENDED, ERROR or TRANSIENT_ERROR job is QUEUED
    /// again and its error cleared (the recoveries of L-5 end here). A queued, running or
    /// transferred job is left as it is (`S_FALSE`); a done job is refused (T-7).
    pub fn resume(&mut self) -> EventOutcome {
        if let Some(refused) = self.finished(Event::Resume) {
            return refused;
        }
        let from = self.state;
        match from {
            JobState::Suspended | JobState::Error | JobState::TransientError => {
                self.state = JobState::Queued;
                self.error = None;
                let rule = Rule::StateChanged {
                    from,
                    to: self.state,
                };
                self.outcome(Event::Resume, from, HResult::S_OK, rule)
            }
            _ => self.outcome(
                Event::Resume,
                from,
                HResult::S_FALSE,
                Rule::NothingToDo { state: from },
            ),
        }
    }

    /// One whole run of the transfer of a QUEUED (or CONNECTING, TRANSFERRING,
    /// TRANSIENT_ERROR) job, as [`route::transfer_plan`] plans it: the job ends TRANSFERRED,
    /// or in ERROR with the plan's failure (X-1 `0x80072F9A`, L-6 `BG_E_TOKEN_REQUIRED`),
    /// which is also the returned `HRESULT`. Any other job does not transfer (`S_FALSE`).
    pub fn transfer(&mut self) -> EventOutcome {
        if let Some(refused) = self.finished(Event::Transfer) {
            return refused;
        }
        let from = self.state;
        if !matches!(
            from,
            JobState::Queued
                | JobState::Connecting
                | JobState::Transferring
                | JobState::TransientError
        ) {
            return self.outcome(
                Event::Transfer,
                from,
                HResult::S_FALSE,
                Rule::NothingToDo { state: from },
            );
        }
        match route::transfer_plan(&self.profile, &self.transfer_job()).outcome {
            Outcome::Transferred => {
                self.state = JobState::Transferred;
                let rule = Rule::StateChanged {
                    from,
                    to: self.state,
                };
                self.outcome(Event::Transfer, from, HResult::S_OK, rule)
            }
            Outcome::Error(failure) => {
                self.state = JobState::Error;
                self.error = Some(failure);
                self.outcome(Event::Transfer, from, failure.hresult, failure.rule)
            }
        }
    }

    /// `IBackgroundCopyJob::Cancel`: any job that is not done becomes CANCELLED (T-7).
    pub fn cancel(&mut self) -> EventOutcome {
        if let Some(refused) = self.finished(Event::Cancel) {
            return refused;
        }
        let from = self.state;
        self.state = JobState::Cancelled;
        self.error = None;
        self.outcome(
            Event::Cancel,
            from,
            HResult::S_OK,
            Rule::StateChanged {
                from,
                to: self.state,
            },
        )
    }

    /// `IBackgroundCopyJob::Complete`: the job becomes ACKNOWLEDGED; `S_OK` from
    /// TRANSFERRED, `BG_S_PARTIAL_COMPLETE` from any other unfinished state (T-7).
    pub fn complete(&mut self) -> EventOutcome {
        if let Some(refused) = self.finished(Event::Complete) {
            return refused;
        }
        let from = self.state;
        self.state = JobState::Acknowledged;
        self.error = None;
        let hresult = if from == JobState::Transferred {
            HResult::S_OK
        } else {
            HResult::BG_S_PARTIAL_COMPLETE
        };
        self.outcome(
            Event::Complete,
            from,
            hresult,
            Rule::StateChanged {
                from,
                to: self.state,
            },
        )
    }

    /// `IBackgroundCopyJob::TakeOwnership` by `caller`'s token (L-7): refused with
    /// `E_ACCESSDENIED` unless the caller has the Administrators group enabled (T-5).
    /// The caller becomes the (elevated) owner; credentials and the client certificate are
    /// removed; the helper token and flags are kept or cleared as Q-6 says.
    pub fn take_ownership<T: Token + ?Sized>(&mut self, caller: &T) -> EventOutcome {
        if let Some(refused) = self.finished(Event::TakeOwnership) {
            return refused;
        }
        let from = self.state;
        let caller = Identity::of(caller);
        if !caller.admin {
            let rule = Rule::TakeOwnershipNeedsAdministrator { caller: caller.sid };
            return self.outcome(Event::TakeOwnership, from, HResult::E_ACCESSDENIED, rule);
        }
        self.owner = caller;
        self.credentials = Credentials::NONE;
        self.client_certificate = false;
        let helper_kept = self.profile.knobs.take_ownership == TakeOwnership::Keep;
        if !helper_kept {
            self.helper = None;
            self.flags = TokenUsage::empty();
        }
        let rule = Rule::OwnershipTaken {
            owner: caller.sid,
            helper_kept,
        };
        self.outcome(Event::TakeOwnership, from, HResult::S_OK, rule)
    }
}

impl TokenOptions {
    /// A handle remembering `caller` without a `QueryInterface` (for scenario replays of
    /// releases without the interface, whose calls the decisions refuse with A-2).
    #[cfg(feature = "alloc")]
    pub(crate) const fn remembering(caller: Identity) -> TokenOptions {
        TokenOptions { caller }
    }

    /// The caller remembered at `QueryInterface` (A-1).
    pub const fn caller(&self) -> Identity {
        self.caller
    }

    /// `SetHelperTokenFlags`, decided by [`decide::set_helper_token_flags`] and applied.
    pub fn set_helper_token_flags(&self, job: &mut Job, flags: u32) -> Decision {
        let d = decide::set_helper_token_flags(&job.profile, self.caller, &job.facts(), flags);
        job.apply(&d);
        d
    }

    /// `GetHelperTokenFlags`, decided by [`decide::get_helper_token_flags`].
    pub fn get_helper_token_flags(&self, job: &Job) -> Decision {
        decide::get_helper_token_flags(&job.profile, self.caller, &job.facts())
    }

    /// `SetHelperToken` while the caller impersonates the token in `impersonation` (taken
    /// at call time, A-9); access is judged on the remembered caller (A-1).
    pub fn set_helper_token(&self, job: &mut Job, impersonation: Impersonation) -> Decision {
        let d = decide::set_helper_token(&job.profile, self.caller, &job.facts(), impersonation);
        job.apply(&d);
        d
    }

    /// `ClearHelperToken`, decided by [`decide::clear_helper_token`] and applied.
    pub fn clear_helper_token(&self, job: &mut Job) -> Decision {
        let d = decide::clear_helper_token(&job.profile, self.caller, &job.facts());
        job.apply(&d);
        d
    }

    /// `GetHelperTokenSid`, decided by [`decide::get_helper_token_sid`].
    pub fn get_helper_token_sid(&self, job: &Job) -> Decision {
        decide::get_helper_token_sid(&job.profile, self.caller, &job.facts())
    }
}

/// Why a serialized job was refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidJob {
    /// The stored flags carry unknown bits, which no accepted call can store (Q-1).
    #[error("stored flags carry unknown bits 0x{0:X} (Q-1: never stored)")]
    UnknownFlags(u32),
    /// An error is recorded on a job that is not in ERROR.
    #[error("a job in state {0} has no error code (only ERROR has one)")]
    ErrorOutsideErrorState(JobState),
    /// The recorded error is a success code.
    #[error("the job error {0} is a success code")]
    SuccessAsError(HResult),
}

/// The serialized form of a [`Job`]: every field, checked on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JobRepr {
    #[serde(default)]
    profile: Profile,
    owner: Identity,
    #[serde(default, rename = "type")]
    job_type: JobType,
    #[serde(default)]
    remote: Remote,
    #[serde(default)]
    state: JobState,
    #[serde(default)]
    error: Option<TransferFailure>,
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
}

#[cfg(feature = "serde")]
impl TryFrom<JobRepr> for Job {
    type Error = InvalidJob;
    fn try_from(r: JobRepr) -> Result<Job, InvalidJob> {
        if r.flags.has_unknown_bits() {
            return Err(InvalidJob::UnknownFlags(r.flags.unknown_bits()));
        }
        if let Some(e) = r.error {
            if r.state != JobState::Error {
                return Err(InvalidJob::ErrorOutsideErrorState(r.state));
            }
            if e.hresult.is_success() {
                return Err(InvalidJob::SuccessAsError(e.hresult));
            }
        }
        Ok(Job {
            profile: r.profile,
            owner: r.owner,
            job_type: r.job_type,
            remote: r.remote,
            state: r.state,
            error: r.error,
            flags: r.flags,
            helper: r.helper_token,
            client_certificate: r.client_certificate,
            credentials: r.credentials,
            proxy: r.proxy,
            environment: r.environment,
        })
    }
}

#[cfg(feature = "serde")]
impl From<Job> for JobRepr {
    fn from(j: Job) -> JobRepr {
        JobRepr {
            profile: j.profile,
            owner: j.owner,
            job_type: j.job_type,
            remote: j.remote,
            state: j.state,
            error: j.error,
            flags: j.flags,
            helper_token: j.helper,
            client_certificate: j.client_certificate,
            credentials: j.credentials,
            proxy: j.proxy,
            environment: j.environment,
        }
    }
}

/// The job owner's SID, for callers that only have a [`Job`].
impl crate::token::JobOwner for Job {
    fn owner_sid(&self) -> Sid {
        self.owner.sid
    }
    fn owner_elevated(&self) -> bool {
        self.owner.admin
    }
}
