//! The lifecycle events (`src/decide/lifecycle.rs`): logoff, resume, transfer, cancel,
//! complete, take ownership: what deciding one costs.
//!
//! **Baseline** (for every event measured): a minimal, hand-written, straight-line function
//! over the *same inputs* (the same `Profile`, caller `Identity` and `JobFacts`, so SIDs
//! are compared as SIDs, and the access gate reads the same elevation and integrity level)
//! that returns the same `(HResult, RuleId)` **and the same [`Effect`]** (the change the
//! event makes to the job: a decision without it is not the same answer), with the default
//! knobs hard-coded: no explanation, no knob lookups. `baseline_transfer` runs a
//! whole hand-written plan, `baseline_plan` of `benches/baseline/mod.rs`, the module
//! `plan.rs` and `route.rs` measure too (shared, not restated: the transfer is measured
//! against the same general plan the model runs, not a copy of this one job's path). The
//! ratio is the model's overhead for being general and explainable.
//!
//! Before measuring, each bench checks that the path it names is the one taken and that
//! the baseline answers as the model. The model's whole `Decision` escapes the measured
//! closure, so none of it is optimized away.
//!
//! ```sh
//! cargo bench -p bits-helper-token-bench --bench lifecycle -- --warm-up-time 1 --measurement-time 2
//! ```

mod baseline;

use baseline::{Answer, baseline_plan};
use bits_helper_token::{decide::*, job::*, *};
use criterion::{Criterion, black_box, criterion_group, criterion_main};

const DENIED: HResult = HResult::E_ACCESSDENIED;

fn sid(s: &str) -> Sid {
    s.parse().unwrap()
}

// ---- the baselines: each event by hand, for the default knobs --------------------------

/// A-11: the caller's integrity level is below the job's, or the job's owner was elevated
/// and the caller is not.
fn gate(caller: Identity, job: &JobFacts) -> Option<Answer> {
    (caller.integrity < job.owner.integrity || (job.owner.elevated && !caller.elevated))
        .then_some((DENIED, RuleId::A11))
}

/// T-7: ACKNOWLEDGED or CANCELLED.
fn done(job: &JobFacts) -> bool {
    matches!(job.state, JobState::Acknowledged | JobState::Cancelled)
}

/// LocalSystem, LocalService, NetworkService (T-3).
fn service(sid: &Sid) -> bool {
    *sid == Sid::LOCAL_SYSTEM || *sid == Sid::LOCAL_SERVICE || *sid == Sid::NETWORK_SERVICE
}

/// L-5 / L-8: `S_OK`; a service account never logs off; a user's logoff discards the
/// token, and an unfinished job with flags that held one goes to ERROR.
fn baseline_logoff(job: &JobFacts) -> (Answer, Option<HResult>) {
    if service(&job.owner.sid) {
        return ((HResult::S_OK, RuleId::L5), None);
    }
    if job.helper.is_none() {
        return ((HResult::S_OK, RuleId::L8), None);
    }
    let unfinished = !matches!(
        job.state,
        JobState::Transferred | JobState::Acknowledged | JobState::Cancelled
    );
    let error = (unfinished && !job.flags.is_empty()).then_some(HResult::BG_E_TOKEN_REQUIRED);
    ((HResult::S_OK, RuleId::L5), error)
}

/// L-9: `S_OK` on every job that is not done; SUSPENDED (and the error states) go to QUEUED.
fn baseline_resume(job: &JobFacts) -> (Answer, Effect) {
    if done(job) {
        ((HResult::BG_E_INVALID_STATE, RuleId::T7), Effect::Unchanged)
    } else if matches!(
        job.state,
        JobState::Suspended | JobState::Error | JobState::TransientError
    ) {
        ((HResult::S_OK, RuleId::L9), Effect::Enter(JobState::Queued))
    } else {
        ((HResult::S_OK, RuleId::L9), Effect::Unchanged)
    }
}

/// T-7, L-8, then the plan's outcome for a job that transfers.
fn baseline_transfer(p: &Profile, job: &JobFacts) -> Answer {
    match job.state {
        JobState::Acknowledged | JobState::Cancelled => (HResult::BG_E_INVALID_STATE, RuleId::T7),
        JobState::Queued
        | JobState::Connecting
        | JobState::Transferring
        | JobState::TransientError
            if !job.owner_logged_on && !service(&job.owner.sid) =>
        {
            (HResult::S_FALSE, RuleId::L8)
        }
        JobState::Queued
        | JobState::Connecting
        | JobState::Transferring
        | JobState::TransientError => baseline_plan(p, job)
            .2
            .unwrap_or((HResult::S_OK, RuleId::T7)),
        _ => (HResult::S_FALSE, RuleId::T7),
    }
}

/// T-7: any job that is not done becomes CANCELLED.
fn baseline_cancel(job: &JobFacts) -> (Answer, Effect) {
    if done(job) {
        ((HResult::BG_E_INVALID_STATE, RuleId::T7), Effect::Unchanged)
    } else {
        (
            (HResult::S_OK, RuleId::T7),
            Effect::Enter(JobState::Cancelled),
        )
    }
}

/// L-10: a transferred job completes (its renames need the helper under LOCAL_FILE); a
/// download that is not transferred completes partially; an upload is refused.
fn baseline_complete(job: &JobFacts) -> (Answer, Effect) {
    let renames = job.job_type != JobType::Upload;
    let acknowledged = Effect::Enter(JobState::Acknowledged);
    match job.state {
        JobState::Acknowledged | JobState::Cancelled => {
            ((HResult::BG_E_INVALID_STATE, RuleId::T7), Effect::Unchanged)
        }
        JobState::Transferred
            if renames && job.flags.contains(TokenUsage::LOCAL_FILE) && job.helper.is_none() =>
        {
            (
                (HResult::BG_E_TOKEN_REQUIRED, RuleId::L10),
                Effect::Unchanged,
            )
        }
        JobState::Transferred => ((HResult::S_OK, RuleId::L10), acknowledged),
        _ if job.job_type == JobType::Download => {
            ((HResult::BG_S_PARTIAL_COMPLETE, RuleId::L10), acknowledged)
        }
        _ => (
            (HResult::BG_E_INVALID_STATE, RuleId::L10),
            Effect::Unchanged,
        ),
    }
}

/// L-7: A-11, an elevated administrator, not done; the caller becomes the owner (Q-6: the
/// helper token dropped).
fn baseline_take_ownership(caller: Identity, job: &JobFacts) -> (Answer, Effect) {
    if let Some(refused) = gate(caller, job) {
        (refused, Effect::Unchanged)
    } else if !(caller.admin && caller.elevated) {
        ((DENIED, RuleId::L7), Effect::Unchanged)
    } else if done(job) {
        ((HResult::BG_E_INVALID_STATE, RuleId::T7), Effect::Unchanged)
    } else {
        let effect = Effect::NewOwner {
            owner: caller,
            helper: bits_helper_token::profile::TakeOwnership::DropToken,
            logged_on: true,
            requeue: false,
        };
        ((HResult::S_OK, RuleId::Q6), effect)
    }
}

// ---- benches ---------------------------------------------------------------------------

/// The decision's answer; the whole decision escapes, so none of it is optimized away.
/// The answer is the one the decision was made with, as the baseline's is (its effect
/// escapes the same way): neither is read back through the escaped reference, which would
/// add a store-to-load round trip to the model's side only.
fn answer(d: Decision) -> Answer {
    black_box(&d);
    (d.hresult(), d.rule_id())
}

/// Model and baseline side by side, after checking they give the same answer.
fn pair<M, B>(c: &mut Criterion, name: &str, model: M, baseline: B)
where
    M: Fn() -> Answer,
    B: Fn() -> Answer,
{
    assert_eq!(
        model(),
        baseline(),
        "{name}: the baseline must answer as the model"
    );
    let mut g = c.benchmark_group(name);
    g.bench_function("model", |b| b.iter(&model));
    g.bench_function("baseline", |b| b.iter(&baseline));
    g.finish();
}

/// [`named`] for a baseline that also computes the effect: the effect must be the model's,
/// and it escapes the measured closure as the model's does.
fn named_effect<M, B>(c: &mut Criterion, name: &str, expected: Answer, model: M, baseline: B)
where
    M: Fn() -> Decision,
    B: Fn() -> (Answer, Effect),
{
    let (d, (a, e)) = (model(), baseline());
    assert_eq!(
        d.effect(),
        e,
        "{name}: the baseline's effect must be the model's"
    );
    assert_eq!(
        (d.hresult(), d.rule_id()),
        a,
        "{name}: the baseline must answer as the model"
    );
    named(
        c,
        name,
        expected,
        || answer(model()),
        || {
            let (a, e) = baseline();
            black_box(&e);
            a
        },
    );
}

/// [`pair`], after checking that the model takes the path named.
fn named<M, B>(c: &mut Criterion, name: &str, expected: Answer, model: M, baseline: B)
where
    M: Fn() -> Answer,
    B: Fn() -> Answer,
{
    assert_eq!(model(), expected, "{name}: not the path named");
    pair(c, name, model, baseline);
}

fn lifecycle(c: &mut Criterion) {
    let latest = Profile::default();
    let alice = Identity::new(sid("S-1-5-21-1004336348-1177238915-682003330-1001"), false);
    let bob = Identity::new(sid("S-1-5-21-1004336348-1177238915-682003330-1002"), false);
    let admin = Identity::new(sid("S-1-5-21-1004336348-1177238915-682003330-500"), true);
    let job = JobFacts::new(alice);
    let flying = job
        .with_state(JobState::Queued)
        .with_flags(TokenUsage::LOCAL_FILE);
    let holding = flying.with_helper(Some(bob));
    let transferred = holding.with_state(JobState::Transferred);
    let ok = HResult::S_OK;

    let error = match logoff_owner(&holding).effect() {
        Effect::OwnerLoggedOff { error, .. } => error.map(|e| e.hresult),
        other => panic!("logoff_owner: {other:?}"),
    };
    assert_eq!(
        error,
        Some(HResult::BG_E_TOKEN_REQUIRED),
        "logoff_owner: L-5's error"
    );
    assert_eq!(
        baseline_logoff(&holding).1,
        error,
        "logoff_owner: the baseline's L-5 error"
    );
    named(
        c,
        "logoff_owner",
        (ok, RuleId::L5),
        || answer(logoff_owner(black_box(&holding))),
        || {
            let (answer, error) = baseline_logoff(black_box(&holding));
            black_box(error);
            answer
        },
    );
    named_effect(
        c,
        "resume",
        (ok, RuleId::L9),
        || resume(black_box(&job)),
        || baseline_resume(black_box(&job)),
    );
    named(
        c,
        "transfer/download_with_helper",
        (ok, RuleId::T7),
        || answer(transfer(black_box(&latest), black_box(&holding))),
        || baseline_transfer(black_box(&latest), black_box(&holding)),
    );
    named_effect(
        c,
        "cancel",
        (ok, RuleId::T7),
        || cancel(black_box(&flying)),
        || baseline_cancel(black_box(&flying)),
    );
    named_effect(
        c,
        "complete",
        (ok, RuleId::L10),
        || complete(black_box(&transferred)),
        || baseline_complete(black_box(&transferred)),
    );
    named_effect(
        c,
        "take_ownership",
        (ok, RuleId::Q6),
        || take_ownership(black_box(&latest), black_box(admin), black_box(&job)),
        || baseline_take_ownership(black_box(admin), black_box(&job)),
    );
}

criterion_group!(benches, lifecycle);
criterion_main!(benches);
