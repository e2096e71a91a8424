//! Sentences that explain decisions, routes and transfer plans. An explanation is made
//! from what was decided and the facts it was decided on, captured together where the
//! decision was made ([`Explained`]): the [`Job`](crate::Job) and
//! [`TokenOptions`](crate::TokenOptions) methods return one, and [`route`] and
//! [`transfer_plan`] decide and capture in one call. No public path pairs a decision with
//! other facts, and nothing here decides: every fact in a sentence is read from the
//! captured facts or from the decision. Every [`Reason`](crate::decide::Reason) has its sentence in each match
//! (no catch-all arm), so a new reason does not compile without one.
#![forbid(unsafe_code)]

mod decision;
mod route;
mod words;

use crate::access::Access;
use crate::decide::route::Route;
use crate::decide::transfer::TransferPlan;
use crate::decide::{Decision, Event, Impersonation, Operation};
use crate::facts::{Caller, JobFacts};
use crate::profile::Profile;
use crate::token::Identity;
use core::fmt;

/// What was decided — a [`Decision`], a [`Route`] or a [`TransferPlan`] — with the facts it
/// was decided on, captured where it was decided. It dereferences to what was decided; its
/// `Display` is the sentence, which can only speak of those facts.
///
/// ```
/// use bits_helper_token::{*, decide::*, error::*, job::*, net::*, profile::*, sid::*, token::*};
/// let owner = Identity::new("S-1-5-21-1-2-3-1001".parse()?, false);
/// let stranger = Identity::new("S-1-5-21-1-2-3-1002".parse()?, false);
/// let profile = Profile::default().with_knobs(profile::Knobs::default()
///     .with_access_check(profile::AccessCheck::PerCall));
/// let mut job = Job::new(profile, &owner);
/// let handle = job.query_interface(&stranger).expect("per_call: QueryInterface passes");
/// let d = handle.set_helper_token_flags(&mut job, 0x1)?;
/// assert_eq!(d.hresult(), HResult::E_ACCESSDENIED);
/// assert_eq!(d.to_string(),
///     "SetHelperTokenFlags returns 0x80070005 (E_ACCESSDENIED): A-5: the caller S-1-5-21-1-2-3-1002 is not an administrator and does not own the job (owner S-1-5-21-1-2-3-1001)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Explained<T> {
    made: T,
    on: Context,
}

/// The facts a decision was made on: the profile, the job before the call, and whichever of
/// the caller, the flags argument and the impersonated token the call had.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Context {
    pub(crate) profile: Profile,
    pub(crate) job: JobFacts,
    pub(crate) caller: Option<Caller>,
    pub(crate) flags: Option<u32>,
    pub(crate) impersonation: Option<Impersonation>,
}

impl Context {
    /// The profile and the job before the call; the call's arguments are added with the
    /// builders below.
    pub(crate) const fn new(profile: Profile, job: JobFacts) -> Context {
        Context {
            profile,
            job,
            caller: None,
            flags: None,
            impersonation: None,
        }
    }

    pub(crate) const fn caller(self, caller: Caller) -> Context {
        Context {
            caller: Some(caller),
            ..self
        }
    }

    pub(crate) const fn flags(self, flags: u32) -> Context {
        Context {
            flags: Some(flags),
            ..self
        }
    }

    pub(crate) const fn impersonation(self, impersonation: Impersonation) -> Context {
        Context {
            impersonation: Some(impersonation),
            ..self
        }
    }

    /// `made`, decided on these facts.
    pub(crate) const fn explains<T>(self, made: T) -> Explained<T> {
        Explained { made, on: self }
    }
}

impl<T> Explained<T> {
    /// What was decided.
    pub const fn get(&self) -> &T {
        &self.made
    }

    /// What was decided, without its facts.
    pub fn into_inner(self) -> T {
        self.made
    }

    /// The job as it was when the decision was made (before any effect was applied).
    pub const fn facts(&self) -> &JobFacts {
        &self.on.job
    }

    /// The profile the decision was made under.
    pub const fn profile(&self) -> &Profile {
        &self.on.profile
    }

    /// The caller the decision judged, if the call had one.
    pub const fn caller(&self) -> Option<Identity> {
        match self.on.caller {
            Some(c) => Some(c.identity),
            None => None,
        }
    }
}

impl<T> core::ops::Deref for Explained<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.made
    }
}

/// Routes `access` for a transfer of `job` ([`crate::route()`]) and keeps the facts, so
/// the route can be explained.
///
/// ```
/// use bits_helper_token::{*, decide::*, error::*, job::*, net::*, profile::*, sid::*, token::*};
/// let job = JobFacts::new(Identity::NETWORK_SERVICE);
/// let r = explain::route(&Profile::default(), &job, Access::ServerChallenge(net::AuthScheme::Ntlm));
/// assert_eq!(r.principal, decide::Principal::NotApplicable);
/// assert_eq!(r.to_string(),
///     "server_challenge_ntlm: not applicable (R-2: the server does not challenge with NTLM, so BITS never answers it)");
/// ```
pub fn route(profile: &Profile, job: &JobFacts, access: Access) -> Explained<Route> {
    Context::new(*profile, *job).explains(crate::decide::route::route(profile, job, access))
}

/// Plans a whole transfer of `job` ([`crate::transfer_plan()`]) and keeps the facts, so the
/// plan can be explained: one line per access, then the outcome.
pub fn transfer_plan(profile: &Profile, job: &JobFacts) -> Explained<TransferPlan> {
    Context::new(*profile, *job).explains(crate::decide::transfer::transfer_plan(profile, job))
}

/// One line per step, then `=> TRANSFERRED` or `=> ERROR: …`.
impl fmt::Display for Explained<TransferPlan> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, step) in self.made.iter().enumerate() {
            writeln!(f, "{}. {}", n + 1, self.on.explains(*step))?;
        }
        match self.made.outcome().failure() {
            None => f.write_str("=> TRANSFERRED"),
            Some(e) => {
                let d = Decision::failed(
                    Operation::Event(Event::Transfer),
                    e,
                    self.made.failing_step().map(|r| r.access),
                );
                write!(f, "=> ERROR: {}", self.on.explains(d))
            }
        }
    }
}
