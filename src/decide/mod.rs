//! The decisions: one pure function per `IBitsTokenOptions` method ([`methods`]) and per
//! job operation around it — QueryInterface and the lifecycle events ([`lifecycle`]).
//!
//! Every function takes the [`Profile`](crate::Profile), the facts it needs (the caller
//! [`Identity`] remembered at QueryInterface, A-1; the [`JobFacts`](crate::JobFacts); the
//! call's arguments) and returns a [`Decision`]: the `HRESULT`, the [`Rule`] that decided
//! (id and reason, never copies of the inputs), the [`Effect`] to apply or the [`Value`] a
//! getter returns, and, for `SetHelperTokenFlags`, the failure the accepted flags will
//! cause when the job transfers (X-1). They do no I/O, never allocate and never panic.
//! The sentences live one layer up, in [`crate::explain`].
#![forbid(unsafe_code)]

pub mod jobs;
pub mod lifecycle;
pub mod route;
pub mod transfer;

pub use crate::rule::{Reason, Rule, RuleId};
pub use jobs::{
    JobCall, JobMethod, SecondFile, StartTo, add_file, network_lost, network_restored,
    start_transfer, suspend, use_stored_credentials,
};
pub use lifecycle::{
    cancel, complete, helper_session_ended, logoff_owner, logon_owner, query_interface, resume,
    service_stop, take_ownership, transfer,
};
pub use methods::{
    clear_helper_token, get_helper_token_flags, get_helper_token_sid, set_helper_token,
    set_helper_token_flags,
};
pub use route::{ImplicitAllowed, Principal, implicit_allowed, route, transfer_makes};
pub use transfer::{
    PLAN_CAPACITY, TransferOutcome, certificate_needed_failure, client_certificate_failure,
    eager_token_failure, transfer_plan,
};
pub mod methods;

use crate::access::Access;
use crate::facts::{Effect, JobError};
use crate::hresult::HResult;
use crate::names::names;
use crate::sid::Sid;
use crate::token::Identity;
use crate::usage::TokenUsage;

/// The five methods of `IBitsTokenOptions`, named as in `bits4_0.h`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[allow(clippy::exhaustive_enums)] // the interface has exactly these five methods
pub enum Method {
    /// `SetHelperTokenFlags(UsageFlags)`.
    SetHelperTokenFlags,
    /// `GetHelperTokenFlags(&UsageFlags)`.
    GetHelperTokenFlags,
    /// `SetHelperToken()`.
    SetHelperToken,
    /// `ClearHelperToken()`.
    ClearHelperToken,
    /// `GetHelperTokenSid(&pSid)`.
    GetHelperTokenSid,
}

names! { Method, "method";
    SetHelperTokenFlags => "SetHelperTokenFlags",
    GetHelperTokenFlags => "GetHelperTokenFlags",
    SetHelperToken => "SetHelperToken",
    ClearHelperToken => "ClearHelperToken",
    GetHelperTokenSid => "GetHelperTokenSid",
}

impl Method {
    /// Whether the method changes the job (the three Q-3 applies to).
    pub const fn is_mutating(self) -> bool {
        matches!(
            self,
            Method::SetHelperTokenFlags | Method::SetHelperToken | Method::ClearHelperToken
        )
    }
}

/// A job operation that is not an `IBitsTokenOptions` method.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[non_exhaustive]
pub enum Event {
    /// `IBackgroundCopyJob::QueryInterface(IID_IBitsTokenOptions)` (A-1, A-2).
    QueryInterface,
    /// The owner logged off (L-5, L-8).
    LogoffOwner,
    /// The owner logged on (L-8).
    LogonOwner,
    /// The session the helper token was taken in ended (L-5).
    HelperSessionEnded,
    /// The BITS service stopped (L-5: a restart or reboot discards the helper token).
    ServiceStop,
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
    /// A change of the job's network settings (credentials, proxy usage, certificate).
    Setting,
    /// `IBackgroundCopyJob::Suspend` (L-12).
    Suspend,
    /// `IBackgroundCopyJob::AddFile` (L-15).
    AddFile,
    /// `IBackgroundCopyJob5::SetProperty(USE_STORED_CREDENTIALS)` (R-3 (iv)).
    SetProperty,
    /// A transfer starts (L-14).
    StartTransfer,
    /// The network is lost (L-13).
    NetworkLost,
    /// The network returns (L-13).
    NetworkRestored,
}

names! { Event, "event";
    QueryInterface => "query_interface", LogoffOwner => "logoff_owner",
    LogonOwner => "logon_owner", HelperSessionEnded => "helper_session_ended",
    ServiceStop => "service_stop", Resume => "resume",
    Transfer => "transfer", Cancel => "cancel", Complete => "complete",
    TakeOwnership => "take_ownership", Setting => "setting", Suspend => "suspend",
    AddFile => "add_file", SetProperty => "set_job_property",
    StartTransfer => "start_transfer", NetworkLost => "network_lost",
    NetworkRestored => "network_restored",
}

/// What a decision was about: a method or an event.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[allow(clippy::exhaustive_enums)] // a method or an event
pub enum Operation {
    /// An `IBitsTokenOptions` method.
    Method(Method),
    /// Another operation on the job.
    Event(Event),
}

impl core::fmt::Display for Operation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Operation::Method(m) => m.fmt(f),
            Operation::Event(e) => e.fmt(f),
        }
    }
}

/// What `SetHelperToken` obtains when it impersonates its COM client (A-9).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[allow(clippy::exhaustive_enums)] // either BITS can impersonate the client or it cannot
pub enum Impersonation {
    /// The client allows impersonation; this is the token it is impersonating at call time.
    Allowed(Identity),
    /// The client's COM security does not allow impersonate-level access.
    Denied,
}

impl Impersonation {
    /// The client allows impersonation and is impersonating `token`.
    pub fn of<T: crate::token::Token + ?Sized>(token: &T) -> Impersonation {
        Impersonation::Allowed(Identity::of(token))
    }
}

/// What a getter returns besides its `HRESULT`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Value {
    /// `GetHelperTokenFlags`: the stored flags.
    Flags(TokenUsage),
    /// `GetHelperTokenSid`: the stored token's user SID, or `None` for a NULL string when
    /// no token is stored (L-4).
    HelperSid(Option<Sid>),
}

/// An effect or a value: a decision has one or the other, never both. The two facts only
/// some decisions carry (X-1's prediction, a failed transfer's access) live in variants of
/// their own, so every decision stays as small as its largest effect.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Outcome {
    Effect(Effect),
    Value(Value),
    /// An accepted `SetHelperTokenFlags` whose flags will make the transfer fail (X-1):
    /// the effect is `StoreFlags(flags)`.
    StoreFlagsFailing {
        flags: TokenUsage,
        failure: JobError,
    },
    /// A transfer that failed at this access (L-6 lazy, X-1, X-3): the effect is
    /// `Fail(error)`.
    FailAt {
        error: JobError,
        at: Access,
    },
}

/// The outcome of one call or event: a value, never a panic. At most 128 bytes: it
/// carries the rule's id and reason, not copies of the inputs.
///
/// ```
/// use bits_helper_token::{*, decide::*, error::*, job::*, net::*, profile::*, sid::*, token::*};
///
/// let job = JobFacts::new(Identity::NETWORK_SERVICE);
/// let d = set_helper_token_flags(&Profile::default(), Identity::NETWORK_SERVICE, &job, 0x2);
/// assert_eq!(d.hresult(), HResult::S_OK);
/// assert_eq!(d.rule().id, RuleId::A5);
/// assert_eq!(d.effect(), Effect::StoreFlags(TokenUsage::NETWORK));
/// assert!(d.transfer_failure().is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Decision {
    op: Operation,
    hresult: HResult,
    rule: Rule,
    outcome: Outcome,
}

impl Decision {
    #[inline]
    pub(crate) const fn new(op: Operation, hresult: HResult, rule: Rule, effect: Effect) -> Self {
        Decision {
            op,
            hresult,
            rule,
            outcome: Outcome::Effect(effect),
        }
    }

    #[inline]
    pub(crate) const fn refuse(op: Operation, hresult: HResult, rule: Rule) -> Self {
        Decision::new(op, hresult, rule, Effect::Unchanged)
    }

    pub(crate) const fn answer(op: Operation, rule: Rule, value: Value) -> Self {
        Decision {
            op,
            hresult: HResult::S_OK,
            rule,
            outcome: Outcome::Value(value),
        }
    }

    /// An accepted `SetHelperTokenFlags` that stores `flags`; `failure` is the one the job
    /// will meet when it transfers (X-1), if any.
    pub(crate) const fn store_flags(
        op: Operation,
        rule: Rule,
        flags: TokenUsage,
        failure: Option<JobError>,
    ) -> Self {
        let outcome = match failure {
            Some(failure) => Outcome::StoreFlagsFailing { flags, failure },
            None => Outcome::Effect(Effect::StoreFlags(flags)),
        };
        Decision {
            op,
            hresult: HResult::S_OK,
            rule,
            outcome,
        }
    }

    /// A transfer that failed with `error`, at the access `at` (`None`: before any access,
    /// an eager L-6).
    pub(crate) const fn failed(op: Operation, error: JobError, at: Option<Access>) -> Self {
        let outcome = match at {
            Some(at) => Outcome::FailAt { error, at },
            None => Outcome::Effect(Effect::Fail(error)),
        };
        Decision {
            op,
            hresult: error.hresult,
            rule: error.rule,
            outcome,
        }
    }

    /// For a failed transfer: the access where it failed (L-6 lazy, X-1, X-3), as the
    /// transfer plan found it; `None` when it failed before any access (an eager L-6).
    pub const fn failed_at(&self) -> Option<Access> {
        match self.outcome {
            Outcome::FailAt { at, .. } => Some(at),
            _ => None,
        }
    }

    /// The method or event decided.
    pub const fn operation(&self) -> Operation {
        self.op
    }

    /// The method decided, if the decision is about one of the five methods.
    pub const fn method(&self) -> Option<Method> {
        match self.op {
            Operation::Method(m) => Some(m),
            Operation::Event(_) => None,
        }
    }

    /// What the call returns (for a transfer: the job's resulting error, or `S_OK`).
    pub const fn hresult(&self) -> HResult {
        self.hresult
    }

    /// The rule that decided: on success the one that granted access (or Q-1 when bits
    /// were masked); on refusal the one that refused.
    pub const fn rule(&self) -> Rule {
        self.rule
    }

    /// The rule's SPEC id (`rule().id`).
    pub const fn rule_id(&self) -> RuleId {
        self.rule.id
    }

    /// Whether the call succeeds.
    pub const fn is_allowed(&self) -> bool {
        self.hresult.is_success()
    }

    /// The change to apply to the job ([`Effect::Unchanged`] for a refusal or a getter).
    pub const fn effect(&self) -> Effect {
        match self.outcome {
            Outcome::Effect(e) => e,
            Outcome::Value(_) => Effect::Unchanged,
            Outcome::StoreFlagsFailing { flags, .. } => Effect::StoreFlags(flags),
            Outcome::FailAt { error, .. } => Effect::Fail(error),
        }
    }

    /// What a getter returns (`None` for a setter or a refused getter).
    pub const fn value(&self) -> Option<Value> {
        match self.outcome {
            Outcome::Value(v) => Some(v),
            Outcome::Effect(_) | Outcome::StoreFlagsFailing { .. } | Outcome::FailAt { .. } => None,
        }
    }

    /// The flags stored by an accepted `SetHelperTokenFlags`.
    pub const fn stored_flags(&self) -> Option<TokenUsage> {
        match self.outcome {
            Outcome::Effect(Effect::StoreFlags(flags))
            | Outcome::StoreFlagsFailing { flags, .. } => Some(flags),
            _ => None,
        }
    }

    /// For an accepted `SetHelperTokenFlags`: the failure the job will certainly meet when
    /// it transfers (X-1). The method itself still succeeds.
    pub const fn transfer_failure(&self) -> Option<JobError> {
        match self.outcome {
            Outcome::StoreFlagsFailing { failure, .. } => Some(failure),
            _ => None,
        }
    }
}

pub mod settings;

/// T-7, the one home of the done-job refusal: once a job is ACKNOWLEDGED or CANCELLED,
/// every state-changing method, event and setter fails with `BG_E_INVALID_STATE` and
/// changes nothing. (The five methods' own done-job rule is Q-3, a knob.)
#[inline]
pub(crate) const fn refused_when_done(
    op: Operation,
    job: &crate::facts::JobFacts,
) -> Option<Decision> {
    if job.state.is_done() {
        Some(Decision::refuse(
            op,
            HResult::BG_E_INVALID_STATE,
            crate::rule::rule!(JobFinished),
        ))
    } else {
        None
    }
}

/// The short form: `SetHelperTokenFlags returns 0x80070005 (E_ACCESSDENIED): A-6
/// (stored_token_is_administrator)`. [`Explained`](crate::explain::Explained) gives the
/// sentence with the facts it was made on.
impl core::fmt::Display for Decision {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} returns {}: {}", self.op, self.hresult, self.rule)
    }
}
