//! The five `IBitsTokenOptions` methods (`src/decide/methods.rs`): what one call costs.
//!
//! **Baseline** (for every method: `set_helper_token_flags` on each of its nine paths, the
//! getters, `ClearHelperToken`, and `SetHelperToken` allowed and vetoed): a minimal,
//! hand-written, straight-line function over the *same inputs* (the same `Profile`, caller
//! `Identity` and `JobFacts`, so SIDs are compared as SIDs, and the access gate reads the
//! same elevation and integrity level) that returns the same `(HResult, RuleId)`, with the
//! default knobs hard-coded: no explanation, no effect value, no knob lookups. It answers
//! the question a job server asks before it calls the model on every COM call: what do
//! exactness and explanations cost over the check I would write myself? The ratio is that
//! overhead. `SetHelperTokenFlags` is the method with every gate (A-2, A-11, A-14, A-4, Q-2,
//! A-5, A-6, Q-3, Q-1, and X-1's prediction); the others run the same gates in fewer steps.
//! The caller is an `Identity`, a caller at the default impersonation level (A-9 passes).
//!
//! Before measuring, each bench checks that the path it names is the one taken (and, where
//! there is a baseline, that it answers as the model). The model's whole `Decision` escapes
//! the measured closure, so none of it is optimized away.
//!
//! ```sh
//! cargo bench -p bits-helper-token-bench --bench methods -- --warm-up-time 1 --measurement-time 2
//! ```

use bits_helper_token::{decide::*, job::*, profile::*, *};
use criterion::{Criterion, black_box, criterion_group, criterion_main};

type Answer = (HResult, RuleId);

const DENIED: HResult = HResult::E_ACCESSDENIED;

fn sid(s: &str) -> Sid {
    s.parse().unwrap()
}

// ---- the baseline: `SetHelperTokenFlags` by hand, for the default knobs ----------------

/// A-2: `IBitsTokenOptions` exists from BITS 4.0.
fn no_interface(p: &Profile) -> Option<Answer> {
    (p.release == Release::PreBits4).then_some((HResult::E_NOINTERFACE, RuleId::A2))
}

/// A-11: the caller's integrity level is below the job's, or the job's owner was elevated
/// and the caller is not.
fn gate(caller: Identity, job: &JobFacts) -> Option<Answer> {
    (caller.integrity < job.owner.integrity || (job.owner.elevated && !caller.elevated))
        .then_some((DENIED, RuleId::A11))
}

/// Q-3: ACKNOWLEDGED or CANCELLED.
fn done(job: &JobFacts) -> bool {
    matches!(job.state, JobState::Acknowledged | JobState::Cancelled)
}

/// X-1: a client certificate, NETWORK, HTTPS and an owner other than LocalSystem.
fn x1(job: &JobFacts, flags: u32) -> bool {
    job.client_certificate
        && flags & 0x2 != 0
        && job.remote == Remote::Https
        && job.owner.sid != Sid::LOCAL_SYSTEM
}

/// `SetHelperTokenFlags`: A-2, A-11, A-4 / Q-2 / A-5 / A-6, Q-3, Q-1 (`E_NOTIMPL`); and
/// whether X-1 predicts a transfer failure.
/// The owner rule without the A-6 veto (the getters, `ClearHelperToken`): the granting id
/// or the refusal.
fn owner_rule(p: &Profile, caller: Identity, job: &JobFacts) -> Result<RuleId, Answer> {
    if let Some(refused) = no_interface(p).or_else(|| gate(caller, job)) {
        return Err(refused);
    }
    if p.release == Release::Legacy {
        return if caller.admin {
            Ok(RuleId::A4)
        } else {
            Err((DENIED, RuleId::A4))
        };
    }
    if caller.admin {
        Ok(RuleId::Q2)
    } else if caller.sid != job.owner.sid {
        Err((DENIED, RuleId::A5))
    } else {
        Ok(RuleId::A5)
    }
}

/// `GetHelperTokenFlags` and `GetHelperTokenSid`: the owner rule, on any state.
fn baseline_getter(p: &Profile, caller: Identity, job: &JobFacts) -> Answer {
    match owner_rule(p, caller, job) {
        Ok(id) => (HResult::S_OK, id),
        Err(refused) => refused,
    }
}

/// A-14: a restricted caller may not change the job.
fn restricted(caller: Identity) -> Option<Answer> {
    caller.restricted.then_some((DENIED, RuleId::A14))
}

/// `ClearHelperToken`: A-14, the owner rule, then Q-3.
fn baseline_clear(p: &Profile, caller: Identity, job: &JobFacts) -> Answer {
    if let Some(refused) = restricted(caller) {
        return refused;
    }
    match owner_rule(p, caller, job) {
        Err(refused) => refused,
        Ok(_) if done(job) => (HResult::BG_E_INVALID_STATE, RuleId::Q3),
        Ok(id) => (HResult::S_OK, id),
    }
}

/// `SetHelperToken`: A-2, A-11, A-4 (caller an administrator and owner elevated, Q-7) /
/// Q-2 / A-5, Q-3, A-9, A-7.
fn baseline_set_token(
    p: &Profile,
    caller: Identity,
    job: &JobFacts,
    impersonation: Impersonation,
) -> (Answer, Effect) {
    let refused = |answer: Answer| (answer, Effect::Unchanged);
    if let Some(answer) = no_interface(p)
        .or_else(|| gate(caller, job))
        .or_else(|| restricted(caller))
    {
        return refused(answer);
    }
    let legacy = p.release == Release::Legacy;
    let granted = if legacy {
        if !caller.admin || !job.owner.elevated {
            return refused((DENIED, RuleId::A4));
        }
        RuleId::A4
    } else if caller.admin {
        RuleId::Q2
    } else if caller.sid != job.owner.sid {
        return refused((DENIED, RuleId::A5));
    } else {
        RuleId::A5
    };
    if done(job) {
        return refused((HResult::BG_E_INVALID_STATE, RuleId::Q3));
    }
    let Impersonation::Allowed(token) = impersonation else {
        return refused((HResult::CO_E_FAILEDTOIMPERSONATE, RuleId::A9));
    };
    if !legacy && token.admin && !caller.admin {
        return refused((DENIED, RuleId::A7));
    }
    ((HResult::S_OK, granted), Effect::StoreHelper(token))
}

fn baseline_set_flags(p: &Profile, caller: Identity, job: &JobFacts, flags: u32) -> (Answer, bool) {
    if let Some(refused) = no_interface(p)
        .or_else(|| gate(caller, job))
        .or_else(|| restricted(caller))
    {
        return (refused, false);
    }
    let granted = if p.release == Release::Legacy {
        if !caller.admin {
            return ((DENIED, RuleId::A4), false);
        }
        RuleId::A4
    } else if caller.admin {
        RuleId::Q2
    } else if caller.sid != job.owner.sid {
        return ((DENIED, RuleId::A5), false);
    } else if job.helper.is_some_and(|h| h.admin) {
        return ((DENIED, RuleId::A6), false);
    } else {
        RuleId::A5
    };
    if done(job) {
        return ((HResult::BG_E_INVALID_STATE, RuleId::Q3), false);
    }
    if flags & !0x3 != 0 {
        return ((HResult::E_NOTIMPL, RuleId::Q1), false);
    }
    ((HResult::S_OK, granted), x1(job, flags))
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

fn methods(c: &mut Criterion) {
    let latest = Profile::default();
    let legacy = Profile::new(Release::Legacy);
    let alice = Identity::new(sid("S-1-5-21-1004336348-1177238915-682003330-1001"), false);
    let bob = Identity::new(sid("S-1-5-21-1004336348-1177238915-682003330-1002"), false);
    let admin = Identity::new(sid("S-1-5-21-1004336348-1177238915-682003330-500"), true);
    let job = JobFacts::new(alice);
    let vetoed = job.with_helper(Some(admin));
    let admins_job = JobFacts::new(admin);
    let cert = JobFacts::new(Identity::NETWORK_SERVICE).with_client_certificate(true);

    // Every path of SetHelperTokenFlags, each next to the baseline.
    let paths: [(&str, &Profile, Identity, JobFacts, u32); 9] = [
        ("allowed_owner_A-5", &latest, alice, job, 0x3),
        ("refused_gate_A-11", &latest, alice, admins_job, 0x1),
        ("refused_not_owner_A-5", &latest, bob, job, 0x1),
        ("refused_veto_A-6", &latest, alice, vetoed, 0x1),
        ("allowed_admin_Q-2", &latest, admin, vetoed, 0x2),
        ("refused_legacy_A-4", &legacy, alice, job, 0x1),
        ("refused_unknown_bits_Q-1", &latest, alice, job, 0x6),
        (
            "refused_done_Q-3",
            &latest,
            alice,
            job.with_state(JobState::Cancelled),
            0x1,
        ),
        (
            "allowed_with_failure_X-1",
            &latest,
            Identity::NETWORK_SERVICE,
            cert,
            0x2,
        ),
    ];
    for (name, profile, caller, job, flags) in paths {
        assert_eq!(
            set_helper_token_flags(profile, caller, &job, flags)
                .transfer_failure()
                .is_some(),
            baseline_set_flags(profile, caller, &job, flags).1,
            "{name}: X-1's prediction"
        );
        pair(
            c,
            &format!("set_helper_token_flags/{name}"),
            || {
                answer(set_helper_token_flags(
                    black_box(profile),
                    black_box(caller),
                    black_box(&job),
                    black_box(flags),
                ))
            },
            || {
                let (answer, x1) = baseline_set_flags(
                    black_box(profile),
                    black_box(caller),
                    black_box(&job),
                    black_box(flags),
                );
                black_box(x1);
                answer
            },
        );
    }

    // The other methods, alone.
    let ok_a5 = (HResult::S_OK, RuleId::A5);
    let model = || {
        answer(get_helper_token_flags(
            black_box(&latest),
            black_box(alice),
            black_box(&job),
        ))
    };
    assert_eq!(model(), ok_a5, "get_helper_token_flags: not the path named");
    pair(c, "get_helper_token_flags", model, || {
        baseline_getter(black_box(&latest), black_box(alice), black_box(&job))
    });
    let model = || {
        answer(get_helper_token_sid(
            black_box(&latest),
            black_box(alice),
            black_box(&vetoed),
        ))
    };
    assert_eq!(model(), ok_a5, "get_helper_token_sid: not the path named");
    pair(c, "get_helper_token_sid", model, || {
        baseline_getter(black_box(&latest), black_box(alice), black_box(&vetoed))
    });
    let model = || {
        answer(clear_helper_token(
            black_box(&latest),
            black_box(alice),
            black_box(&vetoed),
        ))
    };
    assert_eq!(model(), ok_a5, "clear_helper_token: not the path named");
    pair(c, "clear_helper_token", model, || {
        baseline_clear(black_box(&latest), black_box(alice), black_box(&vetoed))
    });
    for (name, token, expected) in [
        ("allowed_owner_A-5", bob, (HResult::S_OK, RuleId::A5)),
        ("refused_new_admin_A-7", admin, (DENIED, RuleId::A7)),
    ] {
        let impersonation = Impersonation::Allowed(token);
        let name = format!("set_helper_token/{name}");
        let model = || {
            answer(set_helper_token(
                black_box(&latest),
                black_box(alice),
                black_box(&job),
                black_box(impersonation),
            ))
        };
        assert_eq!(model(), expected, "{name}: not the path named");
        // The baseline also makes the effect (the token to store), as the model does.
        let baseline = || {
            baseline_set_token(
                black_box(&latest),
                black_box(alice),
                black_box(&job),
                black_box(impersonation),
            )
        };
        let effect = set_helper_token(&latest, alice, &job, impersonation).effect();
        assert_eq!(
            baseline().1,
            effect,
            "{name}: the baseline's effect must be the model's"
        );
        pair(c, &name, model, || {
            let (answer, effect) = baseline();
            black_box(&effect);
            answer
        });
    }
}

criterion_group!(benches, methods);
criterion_main!(benches);
