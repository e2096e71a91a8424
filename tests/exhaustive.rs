//! Exhaustive checking: every decision function over the whole finite space of
//! its equivalence classes — release × knobs × caller kind × owner relation × stored token
//! × new token × job state × flag class × certificate × protocol — against global
//! properties. A normal libtest test (it answers `--list` and honours filters, as
//! cargo-nextest needs); the case counts print with `--nocapture` or `--show-output`.
//!
//! Properties:
//! * **fail closed** (A-10): a refusal changes nothing (no effect, no value, no predicted
//!   failure) and returns a failure code; a success returns `S_OK`;
//! * **determinism**: the same inputs give the same decision;
//! * **the veto never blocks an administrator** (Q-2 default): no refusal of an
//!   administrator caller, and no A-5 refusal either;
//! * **the remembered identity decides** (A-1): in the job model, a handle obtained as X
//!   decides exactly like the pure function called with X, whatever token is impersonated
//!   at call time; the impersonated token only matters to and what is stored;
//! * **precedence** (A-10): availability, then access, then state, then arguments.

use bits_helper_token::{decide::*, job::*, profile::*, sid::*, token::*, *};

fn sid(rid: u32) -> Sid {
    Sid::new(5, &[21, 1, 2, 3, rid]).unwrap()
}

fn all_knobs() -> Vec<Knobs> {
    let mut out = Vec::new();
    for unknown_flags in [
        UnknownFlags::InvalidArg,
        UnknownFlags::NotImpl,
        UnknownFlags::Mask,
    ] {
        for admin_bypass in [
            AdminBypass::OwnerRuleAndVetoes,
            AdminBypass::OwnerRuleOnly,
            AdminBypass::NoBypass,
        ] {
            for done_jobs in [DoneJobs::InvalidState, DoneJobs::Allow] {
                for denial in [
                    FailureCode::ACCESS_DENIED,
                    FailureCode::new(HResult::E_FAIL).unwrap(),
                ] {
                    for legacy_set_token in [
                        LegacySetToken::CallerAndOwner,
                        LegacySetToken::CallerOnly,
                        LegacySetToken::OwnerOnly,
                    ] {
                        for access_check in [AccessCheck::QueryInterface, AccessCheck::PerCall] {
                            let mut k = Knobs::DEFAULT;
                            k.unknown_flags = unknown_flags;
                            k.admin_bypass = admin_bypass;
                            k.done_jobs = done_jobs;
                            k.denial = denial;
                            k.legacy_set_token = legacy_set_token;
                            k.access_check = access_check;
                            out.push(k);
                        }
                    }
                }
            }
        }
    }
    out
}

struct Checker {
    cases: u64,
    job_calls: u64,
    failures: Vec<String>,
}

impl Checker {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok && self.failures.len() < 20 {
            self.failures.push(what());
        }
    }
}

const FLAG_CLASSES: [u32; 6] = [0, 1, 2, 3, 4, 0x8000_0003];

#[test]
fn every_equivalence_class_of_the_five_methods() {
    let started = std::time::Instant::now();
    let owner_sid = sid(1001);
    let other_sid = sid(1002);
    let helper_admin = Identity::new(sid(500), true);
    let helper_user = Identity::new(sid(1003), false);
    let mut c = Checker {
        cases: 0,
        job_calls: 0,
        failures: Vec::new(),
    };
    let knobs = all_knobs();
    let mut per_method = [0u64; 5];

    for &release in Release::ALL {
        for k in &knobs {
            let profile = Profile::new(release).with_knobs(*k);
            for caller_admin in [false, true] {
                for caller_owns in [false, true] {
                    let caller = Identity::new(
                        if caller_owns { owner_sid } else { other_sid },
                        caller_admin,
                    );
                    for owner_elevated in [false, true] {
                        for stored in [None, Some(helper_admin), Some(helper_user)] {
                            for &state in JobState::ALL {
                                for cert in [false, true] {
                                    for &remote in Remote::ALL {
                                        let job =
                                            JobFacts::new(Identity::new(owner_sid, owner_elevated))
                                                .with_state(state)
                                                .with_helper(stored)
                                                .with_flags(TokenUsage::NETWORK)
                                                .with_client_certificate(cert)
                                                .with_remote(remote);
                                        let mut decisions = Vec::with_capacity(12);
                                        for flags in FLAG_CLASSES {
                                            decisions.push(set_helper_token_flags(
                                                &profile, caller, &job, flags,
                                            ));
                                        }
                                        per_method[0] += FLAG_CLASSES.len() as u64;
                                        decisions
                                            .push(get_helper_token_flags(&profile, caller, &job));
                                        decisions.push(clear_helper_token(&profile, caller, &job));
                                        decisions
                                            .push(get_helper_token_sid(&profile, caller, &job));
                                        per_method[1] += 1;
                                        per_method[3] += 1;
                                        per_method[4] += 1;
                                        for imp in [
                                            Impersonation::Denied,
                                            Impersonation::Allowed(helper_admin),
                                            Impersonation::Allowed(helper_user),
                                        ] {
                                            decisions.push(set_helper_token(
                                                &profile, caller, &job, imp,
                                            ));
                                        }
                                        per_method[2] += 3;
                                        check_all(&mut c, &profile, caller, &job, &decisions);
                                        check_set_token_identity(&mut c, &profile, caller, &job);
                                        check_job_model(&mut c, &profile, caller, &job);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    let total: u64 = per_method.iter().sum();
    println!(
        "\nrunning exhaustive checks over every equivalence class ({} knob combinations)",
        knobs.len()
    );
    for (m, n) in Method::ALL.iter().zip(per_method) {
        println!("  {:<22} {n:>9} decisions", m.name());
    }
    println!(
        "  {:<22} {:>9} property checks (fail closed, determinism, admin never vetoed, A-1, A-10)",
        "", c.cases
    );
    println!(
        "  job model             {:>9} handle calls replayed against the pure decisions",
        c.job_calls
    );
    println!("  {total} decisions in {:.1?}", started.elapsed());
    for f in &c.failures {
        println!("FAILED: {f}");
    }
    assert!(
        c.failures.is_empty(),
        "{} of {} property checks failed, the first: {}",
        c.failures.len(),
        c.cases,
        c.failures.first().map_or("", String::as_str)
    );
    assert!(
        c.cases > 1_000_000 && c.job_calls > 10_000,
        "{} {}",
        c.cases,
        c.job_calls
    );
}

/// Fail closed, determinism, the admin veto, precedence.
fn check_all(
    c: &mut Checker,
    p: &Profile,
    caller: Identity,
    job: &JobFacts,
    decisions: &[Decision],
) {
    for d in decisions {
        c.cases += 1;
        let ctx = || format!("{p:?} caller {caller:?} job {job:?}: {d}");
        // Fail closed.
        if d.is_allowed() {
            c.check(d.hresult() == HResult::S_OK, || {
                format!("success other than S_OK: {}", ctx())
            });
        } else {
            c.check(d.hresult().is_failure(), || {
                format!("refusal with a success code: {}", ctx())
            });
            c.check(
                d.effect() == Effect::Unchanged
                    && d.value().is_none()
                    && d.transfer_failure().is_none(),
                || format!("a refusal changes something: {}", ctx()),
            );
        }
        // Mutating methods change the job only when allowed; getters never.
        c.check(
            d.method().is_some_and(Method::is_mutating) || d.effect() == Effect::Unchanged,
            || format!("a getter has an effect: {}", ctx()),
        );
        c.check(
            !d.method().is_some_and(Method::is_mutating)
                || !d.is_allowed()
                || d.effect() != Effect::Unchanged,
            || format!("an allowed setter has no effect: {}", ctx()),
        );
        // The admin veto never blocks an administrator (Q-2 default).
        if caller.admin && p.knobs.admin_bypass == AdminBypass::OwnerRuleAndVetoes {
            let vetoed =
                !d.is_allowed() && matches!(d.rule().id, RuleId::A5 | RuleId::A6 | RuleId::A7);
            c.check(!vetoed, || {
                format!("an administrator was vetoed: {}", ctx())
            });
        }
        // The owner is never refused by the owner rule.
        if caller.sid == job.owner.sid {
            c.check(d.is_allowed() || d.rule().id != RuleId::A5, || {
                format!("the owner was refused by A-5: {}", ctx())
            });
        }
        // Precedence: no interface beats everything; access beats state and
        // arguments; a refusal for state or arguments implies access was granted.
        if p.release == Release::PreBits4 {
            c.check(
                d.hresult() == HResult::E_NOINTERFACE && d.rule().id == RuleId::A2,
                || format!("A-2 not first: {}", ctx()),
            );
        }
        // A refusal by a later check (state, arguments, impersonation, the new-token veto)
        // means access was granted: the same call with those inputs fixed succeeds.
        if matches!(
            d.rule().id,
            RuleId::Q3 | RuleId::Q1 | RuleId::A9 | RuleId::A7
        ) {
            let live = job.with_state(JobState::Suspended);
            let plain_user = Impersonation::Allowed(Identity::new(sid(2003), false));
            let fixed = match d.method().expect("a method decision") {
                Method::SetHelperTokenFlags => set_helper_token_flags(p, caller, &live, 1),
                Method::SetHelperToken => set_helper_token(p, caller, &live, plain_user),
                Method::ClearHelperToken => clear_helper_token(p, caller, &live),
                Method::GetHelperTokenFlags => get_helper_token_flags(p, caller, &live),
                Method::GetHelperTokenSid => get_helper_token_sid(p, caller, &live),
            };
            c.check(fixed.is_allowed(), || {
                format!(
                    "{} decided although access is refused ({fixed}): {}",
                    d.rule().id,
                    ctx()
                )
            });
        }
        // Q-5 (SPEC v2): the knob's code for the undocumented refusals only — A-4 on the
        // four methods other than SetHelperToken, A-5 on all five, A-6.
        if d.hresult() == p.knobs.denial.get() && p.knobs.denial.get() != HResult::E_ACCESSDENIED {
            let set_token = d.method() == Some(Method::SetHelperToken);
            c.check(
                matches!(d.rule().id, RuleId::A5 | RuleId::A6)
                    || (d.rule().id == RuleId::A4 && !set_token),
                || format!("Q-5 code misused: {}", ctx()),
            );
        }
    }
    // Determinism: the same call twice.
    c.cases += 1;
    let again = set_helper_token_flags(p, caller, job, 1);
    c.check(again == set_helper_token_flags(p, caller, job, 1), || {
        "set_helper_token_flags is not deterministic".into()
    });
}

/// A-1 for SetHelperToken: the impersonated token never changes the access decision; it
/// matters only to A-7 (an administrator token) and A-9 (no impersonation).
fn check_set_token_identity(c: &mut Checker, p: &Profile, caller: Identity, job: &JobFacts) {
    let user_a = Impersonation::Allowed(Identity::new(sid(2001), false));
    let user_b = Impersonation::Allowed(Identity::new(caller.sid, false));
    let a = set_helper_token(p, caller, job, user_a);
    let b = set_helper_token(p, caller, job, user_b);
    c.cases += 1;
    c.check(a.hresult() == b.hresult() && a.rule() == b.rule(), || {
        format!("the impersonated (non-admin) token changed the decision: {a} vs {b}")
    });
}

/// A-1 in the job model: a handle obtained as `caller` decides like the pure function with
/// `caller`, whoever the thread impersonates when it calls.
fn check_job_model(c: &mut Checker, p: &Profile, caller: Identity, facts: &JobFacts) {
    if facts.state != JobState::Suspended || facts.helper.is_some() || !facts.client_certificate {
        return; // one job shape per (profile, caller, owner) is enough here
    }
    let mut job = Job::new(*p, &facts.owner);
    job.set_client_certificate(true);
    let Ok(handle) = job.query_interface(&caller) else {
        // A-2, or Q-9 `query_interface`: the access check refused at QueryInterface, as
        // the pure decision does, with E_ACCESSDENIED.
        c.cases += 1;
        let qi = query_interface(p, caller, job.facts());
        c.check(
            p.release == Release::PreBits4
                || (p.knobs.access_check == AccessCheck::QueryInterface
                    && qi.hresult() == HResult::E_ACCESSDENIED),
            || format!("QueryInterface refused on a release with the interface: {qi}"),
        );
        return;
    };
    c.cases += 2;
    c.job_calls += 2;
    let expected = set_helper_token_flags(p, caller, job.facts(), 2);
    let got = handle
        .set_helper_token_flags(&mut job, 2)
        .expect("the job's own handle");
    c.check(*got == expected, || {
        format!("the handle decided differently from its remembered caller: {got} vs {expected}")
    });
    let impersonated = Identity::new(sid(2002), false);
    let expected = set_helper_token(p, caller, job.facts(), Impersonation::Allowed(impersonated));
    let got = handle
        .set_helper_token(&mut job, Impersonation::Allowed(impersonated))
        .expect("the job's own handle");
    c.check(*got == expected, || {
        format!("SetHelperToken through the handle differs: {got} vs {expected}")
    });
}
