//! The stateful model: a BITS job and the `IBitsTokenOptions` handle that remembers its
//! caller (A-1).
//!
//! `Job` decides nothing. Every call and event asks its pure decision in
//! [`crate::decide`], made on the job's own facts, and applies the decision's
//! [`Effect`] with [`JobFacts::apply`]: no public method changes the
//! facts any other way. Each returns the decision [`Explained`] with the facts it was made
//! on. A refused call changes nothing.
#![forbid(unsafe_code)]

pub use crate::facts::{Caller, Effect, JobError, JobFacts};
pub use crate::state::{JobState, JobType, Remote};

use crate::access::Access;
use crate::decide::jobs::{self, JobCall, SecondFile, StartTo};
use crate::decide::route::Route;
use crate::decide::transfer::TransferPlan;
use crate::decide::{Decision, Impersonation, lifecycle, methods};
use crate::explain::{Context, Explained};
use crate::net::{AuthScheme, AuthTarget, Credential, Credentials, NetworkEnvironment, ProxyUsage};
use crate::profile::Profile;
use crate::token::{Identity, ImpersonationLevel, Token};
use crate::usage::TokenUsage;
use core::sync::atomic::{AtomicUsize, Ordering};

/// A BITS transfer job as far as helper tokens are concerned: the [`JobFacts`] and the
/// [`Profile`] it behaves by.
///
/// ```
/// use bits_helper_token::{*, decide::*, error::*, job::*, net::*, profile::*, sid::*, token::*};
///
/// // Any `Token` will do: a `TokenInfo`, a Windows token, or an `Identity` as here.
/// let owner = Identity::new("S-1-5-21-1-2-3-1001".parse()?, false);
/// let helper = Identity::new("S-1-5-21-1-2-3-1002".parse()?, false);
/// let mut job = Job::new(Profile::default(), &owner);
///
/// // A-1: the handle remembers the owner, even while the owner impersonates the helper.
/// let opts = job.query_interface(&owner).expect("BITS 4.0 and later");
/// assert!(opts.set_helper_token(&mut job, Impersonation::of(&helper))?.is_allowed());
/// assert!(opts.set_helper_token_flags(&mut job, 0x1)?.is_allowed());
///
/// // L-5: the owner logs off; the token is gone and the job fails.
/// job.logoff_owner();
/// assert_eq!(job.state(), JobState::Error);
/// assert_eq!(job.error().map(|e| e.hresult), Some(HResult::BG_E_TOKEN_REQUIRED));
///
/// // A handle belongs to the job it was obtained on.
/// let other = Job::new(Profile::default(), &helper);
/// assert!(opts.get_helper_token_flags(&other).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A job is not `Copy`: `let mut job = store[&id];` does not compile, so an update cannot
/// silently land on a copy. `Clone` makes a second value of the *same* job (same
/// [`JobId`]). Equality and hashing compare what the rules see (profile and facts), not
/// the id.
#[derive(Clone, Debug)]
pub struct Job {
    id: JobId,
    profile: Profile,
    facts: JobFacts,
}

impl PartialEq for Job {
    fn eq(&self, other: &Job) -> bool {
        self.profile == other.profile && self.facts == other.facts
    }
}

impl Eq for Job {}

impl core::hash::Hash for Job {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.profile.hash(state);
        self.facts.hash(state);
    }
}

/// Which job an `IBitsTokenOptions` handle belongs to: a number unique within the process
/// (from a counter every new [`Job`] draws from), or one a job store chose with
/// [`Job::with_id`]. Not part of the job's serialized form: a deserialized job gets a fresh
/// id unless the store restores its own.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct JobId(u64);

impl JobId {
    /// An id chosen by a job store (say, the index of its job table).
    pub const fn new(id: u64) -> JobId {
        JobId(id)
    }

    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The next id of the process-wide counter (ids repeat only after the counter wraps:
    /// 2^32 jobs on a 32-bit target).
    fn fresh() -> JobId {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        JobId(NEXT.fetch_add(1, Ordering::Relaxed) as u64)
    }
}

/// `job 7`.
impl core::fmt::Display for JobId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "job {}", self.0)
    }
}

/// A handle used on a job other than the one it was obtained on: not a BITS answer (a
/// real interface pointer cannot reach another job), a mistake of the embedding code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, thiserror::Error)]
#[error("this IBitsTokenOptions handle belongs to {handle}, not to {job}")]
#[allow(clippy::exhaustive_structs)] // the two ids are the whole story
pub struct WrongJob {
    /// The job the handle was obtained on.
    pub handle: JobId,
    /// The job it was used on.
    pub job: JobId,
}

/// An `IBitsTokenOptions` interface pointer: the job it was obtained on and the caller
/// identity remembered then (A-1). Every method is judged by this identity, never by the
/// thread token at call time, and refuses with [`WrongJob`] a job other than its own.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TokenOptions {
    caller: Identity,
    level: ImpersonationLevel,
    job: JobId,
}

/// `QueryInterface` for `IBitsTokenOptions` was refused (A-2, or the access check under
/// Q-9): the decision with the facts it was made on. It is a few hundred bytes (the facts
/// inline: the core has no allocator); box it inside your own error types.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct QueryInterfaceError {
    decision: Explained<Decision>,
}

impl QueryInterfaceError {
    /// The refusal, with the facts it was made on.
    pub const fn decision(&self) -> &Explained<Decision> {
        &self.decision
    }
}

/// `query_interface returns 0x80004002 (E_NOINTERFACE): A-2 (interface_unavailable) on
/// pre_bits4`.
impl core::fmt::Display for QueryInterfaceError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} on {}",
            *self.decision,
            self.decision.profile().release
        )
    }
}

impl core::error::Error for QueryInterfaceError {}

impl Job {
    /// A fresh job created by `owner` (its token at creation time decides whether the owner
    /// is elevated): SUSPENDED, a download over HTTPS, flags `0`, no helper token (T-1, T-7).
    pub fn new<O: Token + ?Sized>(profile: Profile, owner: &O) -> Job {
        Job::with_facts(profile, JobFacts::new(Identity::of(owner)))
    }

    /// A job with these facts, and a fresh [`JobId`].
    pub fn with_facts(profile: Profile, facts: JobFacts) -> Job {
        Job {
            id: JobId::fresh(),
            profile,
            facts,
        }
    }

    /// The same job under the id a job store chose for it. Handles obtained before keep
    /// the old id, so they no longer work on it.
    pub const fn with_id(mut self, id: JobId) -> Job {
        self.id = id;
        self
    }

    /// Which job this is: the handles obtained on it carry this id.
    pub const fn id(&self) -> JobId {
        self.id
    }

    /// The profile the job behaves by.
    pub const fn profile(&self) -> &Profile {
        &self.profile
    }
    /// What the rules read of this job.
    pub const fn facts(&self) -> &JobFacts {
        &self.facts
    }
    /// The owner (SID and whether elevated).
    pub const fn owner(&self) -> Identity {
        self.facts.owner
    }
    /// The job type.
    pub const fn job_type(&self) -> JobType {
        self.facts.job_type
    }
    /// The remote protocol.
    pub const fn remote(&self) -> Remote {
        self.facts.remote
    }
    /// The state (T-7).
    pub const fn state(&self) -> JobState {
        self.facts.state
    }
    /// The error of a job in ERROR: its code and the rule behind it.
    pub const fn error(&self) -> Option<JobError> {
        self.facts.error
    }
    /// The stored usage flags.
    pub const fn flags(&self) -> TokenUsage {
        self.facts.flags
    }
    /// The stored helper token, if any.
    pub const fn helper_token(&self) -> Option<Identity> {
        self.facts.helper
    }
    /// Whether the owner is logged on (L-8).
    pub const fn owner_logged_on(&self) -> bool {
        self.facts.owner_logged_on
    }
    /// Whether the job holds its file (T-7, L-15).
    pub const fn has_file(&self) -> bool {
        self.facts.has_file
    }
    /// Whether `USE_STORED_CREDENTIALS` is set for the proxy (R-3 (iv)).
    pub const fn use_stored_credentials(&self) -> bool {
        self.facts.use_stored_credentials
    }
    /// Whether a client certificate is set.
    pub const fn client_certificate(&self) -> bool {
        self.facts.client_certificate
    }
    /// The credentials set with `SetCredentials`.
    pub const fn credentials(&self) -> &Credentials {
        &self.facts.credentials
    }
    /// The proxy usage.
    pub const fn proxy(&self) -> ProxyUsage {
        self.facts.proxy
    }
    /// The network environment (R-3).
    pub const fn environment(&self) -> NetworkEnvironment {
        self.facts.environment
    }

    /// The facts a decision about to be made on this job reads.
    const fn context(&self) -> Context {
        Context::new(self.profile, self.facts)
    }

    /// Applies `d`, decided on `on` (this job's facts, captured before the decision), and
    /// returns it with those facts.
    fn applied(&mut self, on: Context, d: Decision) -> Explained<Decision> {
        self.facts.apply(&d.effect());
        on.explains(d)
    }

    /// Decides `decide` on the job's facts and applies it.
    fn decided(
        &mut self,
        decide: impl FnOnce(&Profile, &JobFacts) -> Decision,
    ) -> Explained<Decision> {
        let on = self.context();
        let d = decide(&self.profile, &self.facts);
        self.applied(on, d)
    }

    /// As whom BITS makes `access` when this job transfers ([`crate::route()`]), with the
    /// facts it was routed on.
    pub fn route(&self, access: Access) -> Explained<Route> {
        crate::explain::route(&self.profile, &self.facts, access)
    }

    /// The accesses a whole transfer of this job makes and how it ends
    /// ([`crate::transfer_plan()`]), with the facts it was planned on.
    pub fn transfer_plan(&self) -> Explained<TransferPlan> {
        crate::explain::transfer_plan(&self.profile, &self.facts)
    }

    /// `IBackgroundCopyJob::QueryInterface(IID_IBitsTokenOptions)` on the caller's token
    /// (A-1), decided by [`lifecycle::query_interface`]: the handle remembers the caller's
    /// identity. Fails with `E_NOINTERFACE` before BITS 4.0 (A-2), and with
    /// `E_ACCESSDENIED` when Q-9 checks access here and A-11, A-4 or A-5 refuses.
    // The refusal keeps the facts its sentence speaks of, inline (no allocator in the core).
    #[allow(clippy::result_large_err)]
    pub fn query_interface<T: Token + ?Sized>(
        &self,
        caller: &T,
    ) -> Result<TokenOptions, QueryInterfaceError> {
        self.query_interface_by(Caller::new(Identity::of(caller)))
    }

    /// [`Job::query_interface`] by a caller at a chosen impersonation level (A-9): an
    /// anonymous client is refused.
    #[allow(clippy::result_large_err)]
    pub fn query_interface_by(&self, caller: Caller) -> Result<TokenOptions, QueryInterfaceError> {
        match self.query(caller) {
            (_, Some(handle)) => Ok(handle),
            (decision, None) => Err(QueryInterfaceError { decision }),
        }
    }

    /// QueryInterface's decision, and the handle when it succeeds.
    pub(crate) fn query(&self, caller: Caller) -> (Explained<Decision>, Option<TokenOptions>) {
        let on = self.context().caller(caller);
        let d = lifecycle::query_interface(&self.profile, caller, &self.facts);
        let handle = d.is_allowed().then_some(TokenOptions {
            caller: caller.identity,
            level: ImpersonationLevel::Impersonate,
            job: self.id,
        });
        (on.explains(d), handle)
    }

    /// A job method called by `caller` (A-12: judged at call time), decided by
    /// [`jobs::call`] — the gate, A-13, A-14 and A-9, then the method's own rules — and
    /// applied.
    ///
    /// ```
    /// use bits_helper_token::{*, decide::*, job::*, net::*, token::*};
    /// let alice = Identity::new("S-1-5-21-1-2-3-1001".parse()?, false);
    /// let bob = Identity::new("S-1-5-21-1-2-3-1002".parse()?, false);
    /// let mut job = Job::new(Profile::default(), &alice);
    /// // A-13: a standard user cannot change another user's job.
    /// let d = job.call(&Caller::new(bob), JobCall::Cancel);
    /// assert_eq!((d.hresult(), d.rule_id()), (HResult::E_ACCESSDENIED, RuleId::A13));
    /// assert_eq!(job.state(), JobState::Suspended);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn call(&mut self, caller: &Caller, call: JobCall) -> Explained<Decision> {
        let on = self.context().caller(*caller);
        let d = jobs::call(&self.profile, caller, &self.facts, call);
        self.applied(on, d)
    }

    /// `IBackgroundCopyJob::AddFile` by `caller` (L-15), decided by [`jobs::add_file`] and
    /// applied. A second file on a download is outside the model: `Err`, nothing changes.
    pub fn add_file_by(&mut self, caller: &Caller) -> Result<Explained<Decision>, SecondFile> {
        let on = self.context().caller(*caller);
        let d = jobs::add_file(&self.profile, caller, &self.facts)?;
        Ok(self.applied(on, d))
    }

    /// `AddFile` by the owner (L-15).
    pub fn add_file(&mut self) -> Result<Explained<Decision>, SecondFile> {
        self.add_file_by(&Caller::owner_of(&self.facts))
    }

    /// A job method called by the owner as the job remembers it ([`Caller::owner_of`]).
    fn by_owner(&mut self, call: JobCall) -> Explained<Decision> {
        let owner = Caller::owner_of(&self.facts);
        self.call(&owner, call)
    }

    /// `IBackgroundCopyJobHttpOptions::SetClientCertificateByID/ByName` (`true`) or
    /// `RemoveClientCertificate` (`false`) by the owner (R-4, T-7).
    pub fn set_client_certificate(&mut self, present: bool) -> Explained<Decision> {
        self.by_owner(JobCall::SetClientCertificate(present))
    }

    /// `IBackgroundCopyJob2::SetCredentials(target, scheme, …)` by the owner: explicit
    /// credentials (R-5) or `NULL, NULL` (R-3).
    pub fn set_credentials(
        &mut self,
        target: AuthTarget,
        scheme: AuthScheme,
        credential: Credential,
    ) -> Explained<Decision> {
        self.by_owner(JobCall::SetCredentials(target, scheme, credential))
    }

    /// `IBackgroundCopyJob2::RemoveCredentials(target, scheme)` by the owner.
    pub fn remove_credentials(
        &mut self,
        target: AuthTarget,
        scheme: AuthScheme,
    ) -> Explained<Decision> {
        self.by_owner(JobCall::RemoveCredentials(target, scheme))
    }

    /// `IBackgroundCopyJob::SetProxySettings` (the usage only, R-7) by the owner.
    pub fn set_proxy_usage(&mut self, usage: ProxyUsage) -> Explained<Decision> {
        self.by_owner(JobCall::SetProxyUsage(usage))
    }

    /// `IBackgroundCopyJob5::SetProperty(USE_STORED_CREDENTIALS)` for the proxy by the
    /// owner (R-3 (iv)).
    pub fn set_use_stored_credentials(&mut self) -> Explained<Decision> {
        self.by_owner(JobCall::UseStoredCredentials)
    }

    /// `IBackgroundCopyJob::Resume` by the owner (L-9).
    pub fn resume(&mut self) -> Explained<Decision> {
        self.by_owner(JobCall::Resume)
    }

    /// `IBackgroundCopyJob::Suspend` by the owner (L-12).
    pub fn suspend(&mut self) -> Explained<Decision> {
        self.by_owner(JobCall::Suspend)
    }

    /// `IBackgroundCopyJob::Cancel` by the owner (T-7).
    pub fn cancel(&mut self) -> Explained<Decision> {
        self.by_owner(JobCall::Cancel)
    }

    /// `IBackgroundCopyJob::Complete` by the owner (L-10).
    pub fn complete(&mut self) -> Explained<Decision> {
        self.by_owner(JobCall::Complete)
    }

    /// The owner logs off (L-5, L-8), decided by [`lifecycle::logoff_owner`] and applied.
    pub fn logoff_owner(&mut self) -> Explained<Decision> {
        self.decided(|_, job| lifecycle::logoff_owner(job))
    }

    /// The owner logs on (L-8), decided by [`lifecycle::logon_owner`] and applied.
    pub fn logon_owner(&mut self) -> Explained<Decision> {
        self.decided(|_, job| lifecycle::logon_owner(job))
    }

    /// The helper token's session ends (L-5), decided by
    /// [`lifecycle::helper_session_ended`] and applied.
    pub fn helper_session_ended(&mut self) -> Explained<Decision> {
        self.decided(|_, job| lifecycle::helper_session_ended(job))
    }

    /// The BITS service stops (L-5), decided by [`lifecycle::service_stop`] and applied.
    pub fn service_stop(&mut self) -> Explained<Decision> {
        self.decided(|_, job| lifecycle::service_stop(job))
    }

    /// A transfer starts (L-14), decided by [`jobs::start_transfer`] and applied.
    pub fn start_transfer(&mut self, to: StartTo) -> Explained<Decision> {
        self.decided(|profile, job| jobs::start_transfer(profile, job, to))
    }

    /// The network is lost (L-13), decided by [`jobs::network_lost`] and applied.
    pub fn network_lost(&mut self) -> Explained<Decision> {
        self.decided(|_, job| jobs::network_lost(job))
    }

    /// The network returns (L-13), decided by [`jobs::network_restored`] and applied.
    pub fn network_restored(&mut self) -> Explained<Decision> {
        self.decided(|_, job| jobs::network_restored(job))
    }

    /// One whole transfer, decided by [`lifecycle::transfer`] and applied.
    pub fn transfer(&mut self) -> Explained<Decision> {
        self.decided(lifecycle::transfer)
    }

    /// `IBackgroundCopyJob::TakeOwnership` by `caller`'s token (at the `Impersonate` level,
    /// its user logged on), decided by [`lifecycle::take_ownership`] and applied.
    pub fn take_ownership<T: Token + ?Sized>(&mut self, caller: &T) -> Explained<Decision> {
        self.take_ownership_by(&Caller::new(Identity::of(caller)))
    }

    /// `TakeOwnership` by `caller` (L-7): its level (A-9), and whether its user is logged
    /// on, which the job follows from now on.
    pub fn take_ownership_by(&mut self, caller: &Caller) -> Explained<Decision> {
        let on = self.context().caller(*caller);
        let d = lifecycle::take_ownership(&self.profile, *caller, &self.facts);
        self.applied(on, d)
    }
}

impl TokenOptions {
    /// A handle remembering `caller` without a `QueryInterface` (for scenario replays of
    /// releases without the interface, whose calls the decisions refuse with A-2).
    #[cfg(feature = "alloc")]
    pub(crate) const fn remembering(caller: Identity, job: JobId) -> TokenOptions {
        TokenOptions {
            caller,
            level: ImpersonationLevel::Impersonate,
            job,
        }
    }

    /// The caller remembered at `QueryInterface` (A-1).
    pub const fn caller(&self) -> Identity {
        self.caller
    }

    /// The same handle, its calls made at another impersonation level (A-9: the level is
    /// the call's, the identity the handle's, A-12).
    pub const fn with_level(self, level: ImpersonationLevel) -> TokenOptions {
        TokenOptions { level, ..self }
    }

    /// The impersonation level the handle's calls are made at (default `Impersonate`).
    pub const fn level(&self) -> ImpersonationLevel {
        self.level
    }

    /// The remembered identity at this handle's level.
    const fn who(&self) -> Caller {
        Caller::new(self.caller).with_level(self.level)
    }

    /// The job this handle was obtained on.
    pub const fn job(&self) -> JobId {
        self.job
    }

    /// `Ok` when `job` is the handle's own.
    const fn check(&self, job: &Job) -> Result<(), WrongJob> {
        if self.job.0 == job.id.0 {
            Ok(())
        } else {
            Err(WrongJob {
                handle: self.job,
                job: job.id,
            })
        }
    }

    /// `SetHelperTokenFlags`, decided by [`methods::set_helper_token_flags`] and applied.
    pub fn set_helper_token_flags(
        &self,
        job: &mut Job,
        flags: u32,
    ) -> Result<Explained<Decision>, WrongJob> {
        self.check(job)?;
        Ok(self.set_flags_on(job, flags))
    }

    pub(crate) fn set_flags_on(&self, job: &mut Job, flags: u32) -> Explained<Decision> {
        let on = job.context().caller(self.who()).flags(flags);
        let d = methods::set_helper_token_flags(&job.profile, self.who(), &job.facts, flags);
        job.applied(on, d)
    }

    /// `GetHelperTokenFlags`, decided by [`methods::get_helper_token_flags`].
    pub fn get_helper_token_flags(&self, job: &Job) -> Result<Explained<Decision>, WrongJob> {
        self.check(job)?;
        Ok(self.get_flags_on(job))
    }

    pub(crate) fn get_flags_on(&self, job: &Job) -> Explained<Decision> {
        let on = job.context().caller(self.who());
        on.explains(methods::get_helper_token_flags(
            &job.profile,
            self.who(),
            &job.facts,
        ))
    }

    /// `SetHelperToken` while the caller impersonates the token in `impersonation` (taken
    /// at call time, A-9); access is judged on the remembered caller (A-1).
    pub fn set_helper_token(
        &self,
        job: &mut Job,
        impersonation: Impersonation,
    ) -> Result<Explained<Decision>, WrongJob> {
        self.check(job)?;
        Ok(self.set_token_on(job, impersonation))
    }

    pub(crate) fn set_token_on(
        &self,
        job: &mut Job,
        impersonation: Impersonation,
    ) -> Explained<Decision> {
        let on = job
            .context()
            .caller(self.who())
            .impersonation(impersonation);
        let d = methods::set_helper_token(&job.profile, self.who(), &job.facts, impersonation);
        job.applied(on, d)
    }

    /// `ClearHelperToken`, decided by [`methods::clear_helper_token`] and applied.
    pub fn clear_helper_token(&self, job: &mut Job) -> Result<Explained<Decision>, WrongJob> {
        self.check(job)?;
        Ok(self.clear_on(job))
    }

    pub(crate) fn clear_on(&self, job: &mut Job) -> Explained<Decision> {
        let on = job.context().caller(self.who());
        let d = methods::clear_helper_token(&job.profile, self.who(), &job.facts);
        job.applied(on, d)
    }

    /// `GetHelperTokenSid`, decided by [`methods::get_helper_token_sid`].
    pub fn get_helper_token_sid(&self, job: &Job) -> Result<Explained<Decision>, WrongJob> {
        self.check(job)?;
        Ok(self.get_sid_on(job))
    }

    pub(crate) fn get_sid_on(&self, job: &Job) -> Explained<Decision> {
        let on = job.context().caller(self.who());
        on.explains(methods::get_helper_token_sid(
            &job.profile,
            self.who(),
            &job.facts,
        ))
    }
}
