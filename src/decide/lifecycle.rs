//! QueryInterface and the job's lifecycle events (A-1, A-2, L-5, L-7, Q-6, T-7, and the
//! transfer through [`crate::transfer_plan()`]), each a pure decision like the methods.
#![forbid(unsafe_code)]

use super::methods::{access, gate, interface};
use super::{Decision, Event, Method, Operation};
use crate::facts::{Effect, JobError, JobFacts};
use crate::hresult::HResult;
use crate::plan::{TransferOutcome, transfer_plan};
use crate::profile::{AccessCheck, Profile};
use crate::rule::{Reason, Rule};
use crate::state::JobState;
use crate::token::Identity;

const fn event(e: Event) -> Operation {
    Operation::Event(e)
}

/// T-7: every event is refused on an ACKNOWLEDGED or CANCELLED job.
const fn finished(e: Event, job: &JobFacts) -> Option<Decision> {
    if job.state.is_done() {
        Some(Decision::refuse(
            event(e),
            HResult::BG_E_INVALID_STATE,
            Reason::JobFinished,
        ))
    } else {
        None
    }
}

/// T-7: the job enters `to`.
const fn enter(e: Event, hresult: HResult, to: JobState) -> Decision {
    Decision::new(
        event(e),
        hresult,
        Rule::of(Reason::StateChanged),
        Effect::Enter(to),
    )
}

/// T-7: nothing to do in this state (`S_FALSE`).
const fn nothing_to_do(e: Event) -> Decision {
    Decision::new(
        event(e),
        HResult::S_FALSE,
        Rule::of(Reason::NothingToDo),
        Effect::Unchanged,
    )
}

/// `IBackgroundCopyJob::QueryInterface(IID_IBitsTokenOptions)` by `caller` on `job` (A-1,
/// `S_OK` and a handle that remembers the caller's identity, or
/// `E_NOINTERFACE` before BITS 4.0. With Q-9 set to `QueryInterface`, a caller that the
/// access gate or the owner rule would refuse gets `E_ACCESSDENIED` here
/// and no handle.
pub fn query_interface(profile: &Profile, caller: Identity, job: &JobFacts) -> Decision {
    let op = event(Event::QueryInterface);
    let checked = interface(profile).and_then(|()| match profile.knobs.access_check {
        AccessCheck::PerCall => Ok(()),
        AccessCheck::QueryInterface => {
            gate(caller, job)?;
            // The owner rule as the getters apply it (A-4 caller, A-5; no veto), with the
            // documented code of an access check at QueryInterface.
            access(profile, Method::GetHelperTokenFlags, caller, job)
                .map(|_| ())
                .map_err(|(_, reason)| (HResult::E_ACCESSDENIED, reason))
        }
    });
    match checked {
        Ok(()) => Decision::new(
            op,
            HResult::S_OK,
            Rule::of(Reason::InterfaceObtained),
            Effect::Unchanged,
        ),
        Err((hresult, reason)) => Decision::refuse(op, hresult, reason),
    }
}

/// The owner logs off, or the session the helper token came from ends (L-5): BITS
/// discards the helper token; an unfinished job (not TRANSFERRED, ACKNOWLEDGED or
/// CANCELLED) with non-zero flags goes to ERROR with `BG_E_TOKEN_REQUIRED`.
pub fn logoff_owner(job: &JobFacts) -> Decision {
    let op = event(Event::LogoffOwner);
    if !job.state.is_finished() && !job.flags.is_empty() {
        let error = JobError::of(Reason::TokenRequiredAfterLogoff);
        return Decision::new(
            op,
            HResult::S_OK,
            Rule::of(Reason::TokenRequiredAfterLogoff),
            Effect::DiscardHelper { error },
        );
    }
    Decision::new(
        op,
        HResult::S_OK,
        Rule::of(Reason::TokenDiscarded),
        Effect::DiscardHelper { error: None },
    )
}

/// `IBackgroundCopyJob::Resume`: a SUSPENDED, ERROR or TRANSIENT_ERROR job is QUEUED
/// again and its error cleared (the recoveries of L-5 end here). A queued, running or
/// transferred job is left as it is (`S_FALSE`); a done job is refused (T-7).
pub fn resume(job: &JobFacts) -> Decision {
    if let Some(refused) = finished(Event::Resume, job) {
        return refused;
    }
    match job.state {
        JobState::Suspended | JobState::Error | JobState::TransientError => {
            enter(Event::Resume, HResult::S_OK, JobState::Queued)
        }
        _ => nothing_to_do(Event::Resume),
    }
}

/// One whole run of the transfer of a QUEUED (or CONNECTING, TRANSFERRING,
/// TRANSIENT_ERROR) job, as [`transfer_plan`] plans it: the job ends TRANSFERRED, or in
/// ERROR with the plan's failure, which is also the returned `HRESULT`. Any other job does
/// not transfer (`S_FALSE`).
pub fn transfer(profile: &Profile, job: &JobFacts) -> Decision {
    if let Some(refused) = finished(Event::Transfer, job) {
        return refused;
    }
    if !matches!(
        job.state,
        JobState::Queued | JobState::Connecting | JobState::Transferring | JobState::TransientError
    ) {
        return nothing_to_do(Event::Transfer);
    }
    match transfer_plan(profile, job).outcome() {
        TransferOutcome::Transferred => {
            enter(Event::Transfer, HResult::S_OK, JobState::Transferred)
        }
        TransferOutcome::Error(error) => Decision::new(
            event(Event::Transfer),
            error.hresult,
            error.rule,
            Effect::Fail(error),
        ),
    }
}

/// `IBackgroundCopyJob::Cancel`: any job that is not done becomes CANCELLED (T-7).
pub fn cancel(job: &JobFacts) -> Decision {
    if let Some(refused) = finished(Event::Cancel, job) {
        return refused;
    }
    enter(Event::Cancel, HResult::S_OK, JobState::Cancelled)
}

/// `IBackgroundCopyJob::Complete`: the job becomes ACKNOWLEDGED; `S_OK` from
/// TRANSFERRED, `BG_S_PARTIAL_COMPLETE` from any other unfinished state (T-7).
pub fn complete(job: &JobFacts) -> Decision {
    if let Some(refused) = finished(Event::Complete, job) {
        return refused;
    }
    let hresult = if matches!(job.state, JobState::Transferred) {
        HResult::S_OK
    } else {
        HResult::BG_S_PARTIAL_COMPLETE
    };
    enter(Event::Complete, hresult, JobState::Acknowledged)
}

/// `IBackgroundCopyJob::TakeOwnership` by `caller` (L-7): the access gate must let
/// the caller reach the job; the caller must be an elevated administrator (T-5, T-9),
/// else `E_ACCESSDENIED`; the job must not be done, else `BG_E_INVALID_STATE`. The caller
/// becomes the owner, its elevation and integrity level recorded as the job's (T-9);
/// credentials and the client certificate are removed; the helper token and flags are
/// treated as Q-6 says.
pub fn take_ownership(profile: &Profile, caller: Identity, job: &JobFacts) -> Decision {
    let op = event(Event::TakeOwnership);
    if let Err((hresult, reason)) = gate(caller, job) {
        return Decision::refuse(op, hresult, reason);
    }
    if !(caller.admin && caller.elevated) {
        return Decision::refuse(
            op,
            HResult::E_ACCESSDENIED,
            Reason::TakeOwnershipNeedsAdministrator,
        );
    }
    if let Some(refused) = finished(Event::TakeOwnership, job) {
        return refused;
    }
    Decision::new(
        op,
        HResult::S_OK,
        Rule::of(Reason::OwnershipTaken),
        Effect::NewOwner {
            owner: caller,
            helper: profile.knobs.take_ownership,
        },
    )
}
