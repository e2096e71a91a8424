//! QueryInterface and the job's lifecycle events (A-1, A-2, L-5, L-7, Q-6, T-7, and the
//! transfer through [`crate::transfer_plan()`]), each a pure decision like the methods.
#![forbid(unsafe_code)]

use crate::rule::rule;

use super::methods::{access, gate, interface};
use super::{Decision, Event, Method, Operation};
use crate::decide::transfer::{TransferOutcome, transfer_plan};
use crate::facts::{Effect, JobError, JobFacts};
use crate::hresult::HResult;
use crate::profile::{AccessCheck, Profile};
use crate::rule::Reason;
use crate::state::{JobState, JobType};
use crate::token::Identity;
use crate::usage::TokenUsage;

#[inline]
const fn event(e: Event) -> Operation {
    Operation::Event(e)
}

/// T-7: every event is refused on an ACKNOWLEDGED or CANCELLED job.
#[inline]
const fn finished(e: Event, job: &JobFacts) -> Option<Decision> {
    super::refused_when_done(event(e), job)
}

/// T-7: the job enters `to`.
#[inline]
const fn enter(e: Event, hresult: HResult, to: JobState) -> Decision {
    Decision::new(event(e), hresult, rule!(StateChanged), Effect::Enter(to))
}

/// T-7: nothing to do in this state (`S_FALSE`).
#[inline]
const fn nothing_to_do(e: Event) -> Decision {
    Decision::new(
        event(e),
        HResult::S_FALSE,
        rule!(NothingToDo),
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
            // A-11 as a read (QueryInterface changes nothing; Q-10).
            gate(profile, caller, job, false)?;
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
            rule!(InterfaceObtained),
            Effect::Unchanged,
        ),
        Err((hresult, reason)) => Decision::refuse(op, hresult, reason),
    }
}

/// L-5: the error a discard of the helper token puts the job in: only a job that *held*
/// a token, is not finished (TRANSFERRED, ACKNOWLEDGED, CANCELLED) and has non-zero flags.
#[inline]
const fn discard_error(job: &JobFacts) -> Option<JobError> {
    if job.helper.is_some() && !job.state.is_finished() && !job.flags.is_empty() {
        JobError::of(Reason::TokenRequiredAfterLogoff)
    } else {
        None
    }
}

/// The owner logs off (L-5, L-8). The service accounts never log off: nothing happens.
/// Otherwise BITS discards the helper token (L-5: ERROR with `BG_E_TOKEN_REQUIRED` for an
/// unfinished job that held one and has non-zero flags), the owner is logged off, and a
/// CONNECTING or TRANSFERRING job that L-5 did not put in ERROR goes back to QUEUED (L-8).
#[inline]
pub fn logoff_owner(job: &JobFacts) -> Decision {
    let op = event(Event::LogoffOwner);
    if job.owner.sid.is_service_account() {
        return Decision::new(
            op,
            HResult::S_OK,
            rule!(ServiceAccountStaysLoggedOn),
            Effect::Unchanged,
        );
    }
    let error = discard_error(job);
    let requeue = matches!(job.state, JobState::Connecting | JobState::Transferring);
    let reason = if error.is_some() {
        rule!(TokenRequiredAfterLogoff)
    } else if job.helper.is_some() {
        rule!(TokenDiscarded)
    } else {
        rule!(OwnerLoggedOff)
    };
    Decision::new(
        op,
        HResult::S_OK,
        reason,
        Effect::OwnerLoggedOff { error, requeue },
    )
}

/// The owner logs on (L-8): its jobs may transfer again. The service accounts are always
/// logged on.
#[inline]
pub fn logon_owner(job: &JobFacts) -> Decision {
    let effect = if job.owner_logged_on {
        Effect::Unchanged
    } else {
        Effect::OwnerLoggedOn
    };
    Decision::new(
        event(Event::LogonOwner),
        HResult::S_OK,
        rule!(OwnerLoggedOn),
        effect,
    )
}

/// The helper token is discarded without the owner logging off (L-5): `event` is the end
/// of the session the token was taken in, or a stop of the BITS service. A job that held
/// no token is untouched.
#[inline]
fn discard(e: Event, job: &JobFacts) -> Decision {
    if job.helper.is_none() {
        return Decision::new(
            event(e),
            HResult::S_OK,
            rule!(NoTokenToDiscard),
            Effect::Unchanged,
        );
    }
    let error = discard_error(job);
    let reason = if error.is_some() {
        rule!(TokenRequiredAfterLogoff)
    } else {
        rule!(TokenDiscarded)
    };
    Decision::new(
        event(e),
        HResult::S_OK,
        reason,
        Effect::DiscardHelper { error },
    )
}

/// The terminal-services session the helper token was taken in ends (L-5).
#[inline]
pub fn helper_session_ended(job: &JobFacts) -> Decision {
    discard(Event::HelperSessionEnded, job)
}

/// The BITS service stops (L-5, reading: a restart or reboot, since nothing persists the
/// helper token).
#[inline]
pub fn service_stop(job: &JobFacts) -> Decision {
    discard(Event::ServiceStop, job)
}

/// `IBackgroundCopyJob::Resume` (L-9): a SUSPENDED, ERROR or TRANSIENT_ERROR job is QUEUED
/// again and its error cleared (the recoveries of L-5 end here); on a job already QUEUED,
/// CONNECTING, TRANSFERRING or TRANSFERRED, `S_OK` and nothing changes; a done job is
/// refused (T-7). (The model's jobs always have files, so `BG_E_EMPTY` never applies.)
#[inline]
pub fn resume(job: &JobFacts) -> Decision {
    if let Some(refused) = finished(Event::Resume, job) {
        return refused;
    }
    match job.state {
        JobState::Suspended | JobState::Error | JobState::TransientError => Decision::new(
            event(Event::Resume),
            HResult::S_OK,
            rule!(Resumed),
            Effect::Enter(JobState::Queued),
        ),
        _ => Decision::new(
            event(Event::Resume),
            HResult::S_OK,
            rule!(AlreadyResumed),
            Effect::Unchanged,
        ),
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
    // L-8: a user's job transfers only while the user is logged on.
    if !job.owner_logged_on && !job.owner.sid.is_service_account() {
        return Decision::new(
            event(Event::Transfer),
            HResult::S_FALSE,
            rule!(OwnerNotLoggedOn),
            Effect::Unchanged,
        );
    }
    let plan = transfer_plan(profile, job);
    match plan.outcome() {
        TransferOutcome::Transferred => {
            enter(Event::Transfer, HResult::S_OK, JobState::Transferred)
        }
        TransferOutcome::Error(error) => Decision::new(
            event(Event::Transfer),
            error.hresult,
            error.rule,
            Effect::Fail(error),
        )
        .failing_at(plan.failing_step().map(|r| r.access)),
    }
}

/// `IBackgroundCopyJob::Cancel`: any job that is not done becomes CANCELLED (T-7).
#[inline]
pub fn cancel(job: &JobFacts) -> Decision {
    if let Some(refused) = finished(Event::Cancel, job) {
        return refused;
    }
    enter(Event::Cancel, HResult::S_OK, JobState::Cancelled)
}

/// `IBackgroundCopyJob::Complete` (L-10). On a TRANSFERRED job the download's temporary
/// files (or the upload-reply's reply file) are renamed — as the helper when `LOCAL_FILE`
/// is set — and the job is ACKNOWLEDGED with `S_OK`; if that rename needs a helper
/// token and none is stored, `BG_E_TOKEN_REQUIRED` and the job stays TRANSFERRED
/// (reading). A download not TRANSFERRED: ACKNOWLEDGED with `BG_S_PARTIAL_COMPLETE`. An
/// upload or upload-reply not TRANSFERRED: `BG_E_INVALID_STATE`, nothing changes. A done
/// job: `BG_E_INVALID_STATE` (T-7).
#[inline]
pub fn complete(job: &JobFacts) -> Decision {
    if let Some(refused) = finished(Event::Complete, job) {
        return refused;
    }
    let op = event(Event::Complete);
    let renames = !matches!(job.job_type, JobType::Upload);
    match job.state {
        JobState::Transferred
            if renames && job.flags.contains(TokenUsage::LOCAL_FILE) && job.helper.is_none() =>
        {
            Decision::refuse(
                op,
                HResult::BG_E_TOKEN_REQUIRED,
                rule!(CompleteNeedsHelperToken),
            )
        }
        JobState::Transferred => Decision::new(
            op,
            HResult::S_OK,
            rule!(Completed),
            Effect::Enter(JobState::Acknowledged),
        ),
        _ if matches!(job.job_type, JobType::Download) => Decision::new(
            op,
            HResult::BG_S_PARTIAL_COMPLETE,
            rule!(PartiallyCompleted),
            Effect::Enter(JobState::Acknowledged),
        ),
        _ => Decision::refuse(op, HResult::BG_E_INVALID_STATE, rule!(UploadNotTransferred)),
    }
}

/// `IBackgroundCopyJob::TakeOwnership` by `caller` (L-7): the access gate must let
/// the caller reach the job; the caller must be an elevated administrator (T-5, T-9),
/// else `E_ACCESSDENIED`; the job must not be done, else `BG_E_INVALID_STATE`. The caller
/// becomes the owner, its elevation and integrity level recorded as the job's (T-9);
/// credentials and the client certificate are removed; the helper token and flags are
/// treated as Q-6 says.
#[inline]
pub fn take_ownership(profile: &Profile, caller: Identity, job: &JobFacts) -> Decision {
    let op = event(Event::TakeOwnership);
    if let Err((hresult, reason)) = gate(profile, caller, job, true) {
        return Decision::refuse(op, hresult, reason);
    }
    if !(caller.admin && caller.elevated) {
        return Decision::refuse(
            op,
            HResult::E_ACCESSDENIED,
            rule!(TakeOwnershipNeedsAdministrator),
        );
    }
    if let Some(refused) = finished(Event::TakeOwnership, job) {
        return refused;
    }
    Decision::new(
        op,
        HResult::S_OK,
        rule!(OwnershipTaken),
        Effect::NewOwner {
            owner: caller,
            helper: profile.knobs.take_ownership,
        },
    )
}
