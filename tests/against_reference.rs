//! The model against an independent reference (`tests/reference/`, written from
//! `../shared/SPEC.md` as tables, sharing no code with the model).
//!
//! 1. Exhaustive: every equivalence class of the inputs of the five decision functions
//!    (every release and knob value; callers administrator / standard / UAC-filtered ×
//!    owner / stranger; stored token none / administrator / standard; new token
//!    administrator / standard / impersonation denied; every job state; flags 0–3 and
//!    unknown-bit classes; certificate × remote), T-5 over token classes, QueryInterface
//!    (A-2) per release, routing and whole transfer plans (R-1…R-7, X-1, L-6), and every
//!    lifecycle event (L-5, L-7, Q-6, T-7) from every state.
//! 2. Random scenarios from `support::proptest::scenario` (default parameters, and random
//!    knobs), replayed by the reference's own job state machine and by `Scenario::run`,
//!    comparing every step's HRESULT, rule and value and the final job. The default suite
//!    replays at least 100 000 steps.
//!
//! The counts are written straight to the process's stderr, so they show in CI output
//! even when the tests pass (libtest captures `print!`/`eprint!` only).
//!
//! A larger random run (the step count is a floor):
//!
//! ```sh
//! REFERENCE_STEPS=2000000 cargo test --release --all-features --test against_reference -- --nocapture
//! ```

mod reference;

use bits_helper_token::scenario::{Scenario, StepValue};
use bits_helper_token::support::proptest::{ScenarioParams, scenario};
use bits_helper_token::{decide::*, job::*, net::*, profile::*, sid::*, token::*, *};
use proptest::test_runner::{Config, TestError, TestRunner};
use reference as r;
use std::io::Write;

/// A line in the test output, shown whether the test passes or fails.
fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "against_reference: {line}");
}

fn sid(s: &str) -> Sid {
    s.parse().expect("valid SID")
}

fn alice() -> TokenInfo {
    TokenInfo::standard_user(sid("S-1-5-21-1-2-3-1001"))
}
fn bob_sid() -> Sid {
    sid("S-1-5-21-1-2-3-1002")
}
fn carol_sid() -> Sid {
    sid("S-1-5-21-1-2-3-1003")
}
fn admin() -> TokenInfo {
    TokenInfo::elevated_administrator(sid("S-1-5-21-1-2-3-500"))
}
fn filtered_admin() -> TokenInfo {
    TokenInfo::filtered_administrator(sid("S-1-5-21-1-2-3-500"))
}

/// A token whose only group is Administrators with these attributes.
fn with_admins(user: Sid, attributes: u32) -> TokenInfo {
    TokenInfo::new(
        user,
        vec![Group::new(
            Sid::BUILTIN_ADMINISTRATORS,
            GroupAttributes::from_bits_retain(attributes),
        )],
    )
}

fn profiles(take_ownership: &[TakeOwnership]) -> Vec<Profile> {
    let mut all = Vec::new();
    for &release in Release::ALL {
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
                    for denial in [HResult::E_ACCESSDENIED, HResult::E_FAIL] {
                        for legacy_set_token in [
                            LegacySetToken::CallerAndOwner,
                            LegacySetToken::CallerOnly,
                            LegacySetToken::OwnerOnly,
                        ] {
                            for &take in take_ownership {
                                for integrity_reads in
                                    [IntegrityReads::Pass, IntegrityReads::Refuse]
                                {
                                    let mut k = Knobs::DEFAULT;
                                    k.integrity_reads = integrity_reads;
                                    // Q-11 rides along with Q-10 (it decides one path only).
                                    k.identify_on_set_token = match integrity_reads {
                                        IntegrityReads::Pass => {
                                            IdentifyOnSetToken::FailedToImpersonate
                                        }
                                        _ => IdentifyOnSetToken::AccessDenied,
                                    };
                                    k.unknown_flags = unknown_flags;
                                    k.admin_bypass = admin_bypass;
                                    k.done_jobs = done_jobs;
                                    k.denial = FailureCode::new(denial).expect("a failure");
                                    k.legacy_set_token = legacy_set_token;
                                    k.take_ownership = take;
                                    all.push(Profile::new(release).with_knobs(k));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    all
}

fn who(i: Identity) -> r::Who {
    r::Who {
        sid: i.sid,
        admin: i.admin,
        elevated: i.elevated,
        integrity: r::level_rid(i.integrity),
    }
}

fn model_effect(e: &Effect) -> r::Effect {
    match *e {
        Effect::Unchanged => r::Effect::None,
        Effect::StoreFlags(f) => r::Effect::StoreFlags(f.bits()),
        Effect::StoreHelper(t) => r::Effect::StoreHelper(who(t)),
        Effect::ClearHelper => r::Effect::ClearHelper,
        ref other => panic!("the comparison knows no effect {other:?}"),
    }
}

fn model_value(v: Option<Value>) -> r::Value {
    match v {
        None => r::Value::None,
        Some(Value::Flags(f)) => r::Value::Flags(f.bits()),
        Some(Value::HelperSid(s)) => r::Value::HelperSid(s),
        Some(other) => panic!("the comparison knows no value {other:?}"),
    }
}

/// The model's principal in the reference's terms: the SID of the owner or helper comes
/// from the job, the target and scheme of explicit credentials from the access, the flag
/// of a missing helper from the access's naming flag.
fn model_used(principal: Principal, access: Access, job: &JobFacts) -> r::Used {
    let sid = || {
        principal
            .sid(job)
            .expect("the owner and the helper have SIDs")
    };
    match principal {
        Principal::Owner => r::Used::Owner(sid()),
        Principal::Helper => r::Used::Helper(sid()),
        Principal::Computer => r::Used::Computer,
        Principal::Anonymous => r::Used::Anonymous,
        Principal::ExplicitCredentials => {
            let (target, scheme) = access
                .as_challenge()
                .expect("explicit credentials answer a challenge");
            r::Used::Explicit(target, scheme)
        }
        Principal::NoCredentials => r::Used::NoImplicitCredentials,
        Principal::NotApplicable => r::Used::NotApplicable,
        Principal::MissingHelper => {
            r::Used::TokenRequired(access.flag().expect("a flag names the access").bits())
        }
        other => panic!("the comparison knows no principal {other:?}"),
    }
}

/// Compares one model decision with the reference's.
fn compare_decision(model: &Decision, reference: &r::Decision, case: &dyn Fn() -> String) {
    let m = (
        model.hresult(),
        model.rule_id().name(),
        model_effect(&model.effect()),
        model_value(model.value()),
        model
            .transfer_failure()
            .map(|f| (f.hresult, f.rule.id.name())),
    );
    let x = (
        reference.hresult,
        reference.rule,
        reference.effect,
        reference.value,
        reference.transfer_failure,
    );
    assert_eq!(
        m,
        x,
        "model (left) and reference (right) disagree on {} (model rule: {})",
        case(),
        model.rule()
    );
}

// ---------------------------------------------------------------------------------------
// 1. Exhaustive comparisons
// ---------------------------------------------------------------------------------------

/// The job classes the methods are tried on: certificate × remote × stored flags 0–3.
fn job_classes() -> Vec<(bool, Remote, u32)> {
    let mut all = Vec::new();
    for certificate in [false, true] {
        for &remote in Remote::ALL {
            for stored in 0..4 {
                all.push((certificate, remote, stored));
            }
        }
    }
    all
}

/// The least number of decision cases the enumeration below must compare.
const MIN_DECISION_CASES: usize = 78_000_000;

/// Every equivalence class of the five decisions on one release: the number of cases
/// compared, and how often each row of the reference's table decided.
fn decisions_on(release: Release) -> (usize, Vec<usize>) {
    // Q-6 (TakeOwnership) enters no decision; its values are compared in the lifecycle
    // and scenario comparisons below.
    let profiles: Vec<Profile> = profiles(&[TakeOwnership::Keep])
        .into_iter()
        .filter(|p| p.release == release)
        .collect();
    // Callers: administrator (High, elevated), standard user (Medium), UAC-filtered
    // administrator (not an administrator, T-5; Medium, not elevated), a standard user at
    // Low integrity (T-8 label), LocalSystem (System). Each owns the job or not; the owner
    // is elevated or not, at Low, Medium, High or System integrity (A-11); LocalSystem (X-1)
    // or not.
    let callers = [
        admin(),
        alice(),
        filtered_admin(),
        alice().with_integrity(IntegrityLevel::Low),
        TokenInfo::local_system(),
    ];
    let helpers: [Option<Identity>; 3] = [
        None,
        Some(Identity::new(carol_sid(), true)),
        Some(Identity::new(carol_sid(), false)),
    ];
    let new_tokens: [Option<TokenInfo>; 4] = [
        Some(TokenInfo::elevated_administrator(carol_sid())),
        Some(TokenInfo::standard_user(carol_sid())),
        Some(TokenInfo::filtered_administrator(carol_sid())),
        None, // the client does not allow impersonation (A-9)
    ];
    let set_flags: [u32; 8] = [0, 1, 2, 3, 0x4, 0x6, 0x8000_0000, u32::MAX];
    let mut hits = vec![0usize; r::decision_rows()];
    let mut cases = 0usize;
    for profile in &profiles {
        for caller_token in &callers {
            let caller = Identity::of(caller_token);
            let ref_caller = r::Who::of(caller_token);
            assert_eq!(who(caller), ref_caller, "T-5 of the caller");
            let owners = [
                Identity::new(caller.sid, false),
                Identity::new(caller.sid, true),
                Identity::new(caller.sid, false).with_integrity(IntegrityLevel::Low),
                Identity::new(bob_sid(), false),
                Identity::new(bob_sid(), true),
                Identity::new(bob_sid(), false).with_elevated(true),
                Identity::new(Sid::LOCAL_SYSTEM, true),
            ];
            for owner in owners {
                for helper in helpers {
                    for &state in JobState::ALL {
                        // Every method sees every certificate × remote class and stored
                        // flags none / both (GetHelperTokenFlags: every stored value).
                        for (certificate, remote, stored) in job_classes() {
                            let facts = JobFacts::new(owner)
                                .with_state(state)
                                .with_flags(TokenUsage::from_bits_retain(stored))
                                .with_helper(helper)
                                .with_client_certificate(certificate)
                                .with_remote(remote);
                            let ref_facts = r::Facts {
                                owner: who(owner),
                                state,
                                flags: stored,
                                helper: helper.map(who),
                                certificate,
                                remote,
                            };
                            let case = |what: &str| {
                                format!("{what} by {caller:?} on {facts:?} under {profile:?}")
                            };
                            let mut check =
                                |m: Decision, x: r::Decision, what: &dyn Fn() -> String| {
                                    compare_decision(&m, &x, what);
                                    hits[x.row] += 1;
                                    cases += 1;
                                };
                            check(
                                get_helper_token_flags(profile, caller, &facts),
                                r::decide(profile, ref_caller, &ref_facts, r::Call::GetFlags),
                                &|| case("GetHelperTokenFlags"),
                            );
                            if stored != 0 && stored != 3 {
                                continue;
                            }
                            for f in set_flags {
                                check(
                                    set_helper_token_flags(profile, caller, &facts, f),
                                    r::decide(
                                        profile,
                                        ref_caller,
                                        &ref_facts,
                                        r::Call::SetFlags(f),
                                    ),
                                    &|| case(&format!("SetHelperTokenFlags({f:#x})")),
                                );
                            }
                            for new in &new_tokens {
                                let (imp, ref_imp) = match new {
                                    Some(t) => (Impersonation::of(t), Some(r::Who::of(t))),
                                    None => (Impersonation::Denied, None),
                                };
                                check(
                                    set_helper_token(profile, caller, &facts, imp),
                                    r::decide(
                                        profile,
                                        ref_caller,
                                        &ref_facts,
                                        r::Call::SetToken(ref_imp),
                                    ),
                                    &|| case(&format!("SetHelperToken({imp:?})")),
                                );
                            }
                            check(
                                clear_helper_token(profile, caller, &facts),
                                r::decide(profile, ref_caller, &ref_facts, r::Call::Clear),
                                &|| case("ClearHelperToken"),
                            );
                            check(
                                get_helper_token_sid(profile, caller, &facts),
                                r::decide(profile, ref_caller, &ref_facts, r::Call::GetSid),
                                &|| case("GetHelperTokenSid"),
                            );
                        }
                    }
                }
            }
        }
    }
    (cases, hits)
}

#[test]
fn decisions_agree_on_every_equivalence_class() {
    // One thread per release: the enumeration is the longest test of the suite.
    let per_release: Vec<(usize, Vec<usize>)> = std::thread::scope(|scope| {
        let threads: Vec<_> = Release::ALL
            .iter()
            .map(|release| scope.spawn(move || decisions_on(*release)))
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let cases: usize = per_release.iter().map(|(n, _)| n).sum();
    let mut hits = vec![0usize; r::decision_rows()];
    for (_, h) in &per_release {
        for (total, n) in hits.iter_mut().zip(h) {
            *total += n;
        }
    }
    report(&format!(
        "decisions: {cases} cases compared ({} profiles: every release x every knob value), all agree",
        profiles(&[TakeOwnership::Keep]).len()
    ));
    assert!(
        cases >= MIN_DECISION_CASES,
        "the enumeration shrank: {cases} cases"
    );
    let unreached: Vec<usize> = (0..hits.len()).filter(|&i| hits[i] == 0).collect();
    assert!(
        unreached.is_empty(),
        "rows {unreached:?} of the reference's decision table never decided a call"
    );
}

/// T-5 over token classes: the Administrators group with every combination of the
/// attribute bits that could matter, look-alike groups, the user SID, several groups.
#[test]
fn t5_agrees_on_every_token_class() {
    let lookalikes = [
        Sid::BUILTIN_ADMINISTRATORS,
        Sid::BUILTIN_USERS,
        sid("S-1-5-21-544"),
        sid("S-1-5-32-544-1"),
        sid("S-1-16-544"),
    ];
    let users = [
        Sid::BUILTIN_ADMINISTRATORS,
        Sid::LOCAL_SYSTEM,
        sid("S-1-5-21-1-2-3-1001"),
    ];
    let high = [0, 0x2000_0000, 0xC000_0000, 0x0000_0080, 0xFFFF_FF00];
    let mut tokens = Vec::new();
    for user in users {
        tokens.push(TokenInfo::new(user, vec![]));
        for group in lookalikes {
            for low in 0..0x80u32 {
                for h in high {
                    tokens.push(TokenInfo::new(
                        user,
                        vec![Group::new(
                            group,
                            GroupAttributes::from_bits_retain(low | h),
                        )],
                    ));
                }
            }
        }
        // Two Administrators entries: one qualifying entry suffices.
        for (a, b) in [
            (0x10, 0xF),
            (0xF, 0x10),
            (0x10, 0x19),
            (0x3, 0x14),
            (0x7, 0x4),
        ] {
            tokens.push(TokenInfo::new(
                user,
                vec![
                    Group::new(
                        Sid::BUILTIN_ADMINISTRATORS,
                        GroupAttributes::from_bits_retain(a),
                    ),
                    Group::new(
                        Sid::BUILTIN_ADMINISTRATORS,
                        GroupAttributes::from_bits_retain(b),
                    ),
                ],
            ));
        }
    }
    tokens.extend([
        TokenInfo::local_system(),
        TokenInfo::local_service(),
        TokenInfo::network_service(),
        alice(),
        admin(),
        filtered_admin(),
    ]);
    let mut admins = 0;
    for t in &tokens {
        let expected = r::has_admin_enabled(t);
        assert_eq!(t.has_admin_enabled(), expected, "T-5 of {t:?}");
        assert_eq!(Identity::of(t).admin, expected, "Identity::of {t:?}");
        assert_eq!(Identity::of(t).elevated, expected, "T-9 for {t:?}");
        admins += usize::from(expected);
    }
    report(&format!(
        "T-5: {} token classes compared ({admins} administrators), all agree",
        tokens.len()
    ));
    assert!(
        tokens.len() >= 9_000 && admins >= 450,
        "{} {admins}",
        tokens.len()
    );
}

/// Odd tokens as callers (restricted `0x19`, disabled `0x3`, the Administrators SID as
/// the user, LocalSystem with and without its group), through every method.
#[test]
fn t5_edge_callers_agree_through_every_method() {
    let callers = [
        with_admins(sid("S-1-5-21-1-2-3-500"), 0x19),
        with_admins(sid("S-1-5-21-1-2-3-500"), 0x3),
        with_admins(sid("S-1-5-21-1-2-3-500"), 0x4),
        TokenInfo::new(Sid::BUILTIN_ADMINISTRATORS, vec![]),
        TokenInfo::new(Sid::LOCAL_SYSTEM, vec![]),
        TokenInfo::local_system(),
        TokenInfo::network_service(),
    ];
    let mut cases = 0usize;
    for profile in profiles(&[TakeOwnership::Keep]) {
        for token in &callers {
            let caller = Identity::of(token);
            let ref_caller = r::Who::of(token);
            for owner in [
                Identity::new(token.user, false),
                Identity::new(bob_sid(), true),
            ] {
                for helper in [None, Some(Identity::new(carol_sid(), true))] {
                    let facts = JobFacts::new(owner).with_helper(helper);
                    let ref_facts = r::Facts {
                        owner: who(owner),
                        state: JobState::Suspended,
                        flags: 0,
                        helper: helper.map(who),
                        certificate: false,
                        remote: Remote::Https,
                    };
                    let calls: [(Decision, r::Call); 5] = [
                        (
                            set_helper_token_flags(&profile, caller, &facts, 2),
                            r::Call::SetFlags(2),
                        ),
                        (
                            get_helper_token_flags(&profile, caller, &facts),
                            r::Call::GetFlags,
                        ),
                        (
                            set_helper_token(&profile, caller, &facts, Impersonation::of(token)),
                            r::Call::SetToken(Some(ref_caller)),
                        ),
                        (clear_helper_token(&profile, caller, &facts), r::Call::Clear),
                        (
                            get_helper_token_sid(&profile, caller, &facts),
                            r::Call::GetSid,
                        ),
                    ];
                    for (m, call) in calls {
                        let x = r::decide(&profile, ref_caller, &ref_facts, call);
                        compare_decision(&m, &x, &|| {
                            format!("{call:?} by {token:?} on {facts:?} under {profile:?}")
                        });
                        cases += 1;
                    }
                }
            }
        }
    }
    report(&format!(
        "T-5 edge callers: {cases} cases compared, all agree"
    ));
    assert!(cases >= 40_000);
}

/// A-1, A-2: QueryInterface per release, for every kind of caller.
#[test]
fn query_interface_agrees_per_release() {
    let callers = [
        alice(),
        alice().with_integrity(IntegrityLevel::Low),
        admin(),
        filtered_admin(),
        TokenInfo::local_system(),
        TokenInfo::local_service(),
        with_admins(bob_sid(), 0x19),
    ];
    let mut cases = 0;
    for &release in Release::ALL {
        for check in AccessCheck::ALL {
            // Q-10 both ways, on an elevated-free job of a user and on a LocalSystem job
            // (System integrity: every caller here is below it but LocalSystem's own).
            for (reads, owner) in [
                (IntegrityReads::Pass, Identity::new(bob_sid(), false)),
                (IntegrityReads::Refuse, Identity::new(bob_sid(), false)),
                (
                    IntegrityReads::Pass,
                    Identity::LOCAL_SYSTEM.with_elevated(false),
                ),
                (
                    IntegrityReads::Refuse,
                    Identity::LOCAL_SYSTEM.with_elevated(false),
                ),
            ] {
                for caller in &callers {
                    let mut profile = Profile::new(release);
                    profile.knobs.access_check = *check;
                    profile.knobs.integrity_reads = reads;
                    let job = bits_helper_token::Job::new(profile, &owner);
                    let (hresult, rule) =
                        r::query_interface(&profile, r::Who::of(caller), who(owner));
                    match job.query_interface(caller) {
                        Ok(handle) => {
                            assert_eq!((hr_ok(), "A-1"), (hresult, rule), "{release:?}");
                            assert_eq!(who(handle.caller()), r::Who::of(caller), "A-1 remembers");
                        }
                        Err(e) => assert_eq!(
                            (e.decision().hresult(), e.decision().rule_id().name()),
                            (hresult, rule),
                            "{release:?}"
                        ),
                    }
                    cases += 1;
                }
            }
        }
    }
    report(&format!(
        "QueryInterface: {cases} cases compared, all agree"
    ));
    assert_eq!(cases, 4 * 2 * 4 * 7);
}

fn hr_ok() -> HResult {
    HResult::S_OK
}

/// The credentials of one target, as a list of `SetCredentials` calls: one representative
/// per R-3/R-5 class.
fn credential_classes() -> Vec<Vec<(AuthScheme, Credential)>> {
    use AuthScheme::*;
    use Credential::*;
    vec![
        vec![],
        vec![(Negotiate, Implicit)],
        vec![(Ntlm, Implicit)],
        vec![(Passport, Implicit)],
        vec![(Basic, Explicit)],
        vec![(Negotiate, Explicit)],
        vec![(Ntlm, Explicit), (Negotiate, Implicit)],
        vec![(Digest, Explicit), (Passport, Explicit)],
    ]
}

/// One `SetCredentials(target, scheme, …)` call.
type CredentialCall = (AuthTarget, AuthScheme, Credential);

struct RouteCase {
    model: JobFacts,
    reference: r::TransferFacts,
    /// Q-12, which the model reads from the profile.
    q12: ServiceProxyCredentials,
}

#[allow(clippy::too_many_arguments)]
fn route_case(
    owner: Sid,
    flags: u32,
    helper: Option<Sid>,
    certificate: bool,
    remote: Remote,
    job_type: JobType,
    creds: &[CredentialCall],
    proxy: ProxyUsage,
    env: (u32, u32),
    world: (&[(AuthTarget, AuthScheme)], IeSettings),
    r6: (bool, ServiceProxyCredentials),
) -> RouteCase {
    let (challenges, ie) = world;
    let facts = JobFacts::new(Identity::new(owner, false))
        .with_flags(TokenUsage::from_bits_retain(flags))
        .with_helper(helper.map(|h| Identity::new(h, false)))
        .with_client_certificate(certificate)
        .with_remote(remote);
    let mut model_creds = Credentials::NONE;
    let mut ref_creds = r::Creds::default();
    for &(t, s, c) in creds {
        model_creds = model_creds.set(t, s, c).expect("valid credentials");
        ref_creds.set(t, s, c).expect("valid credentials");
    }
    let (kerberos, q12) = r6;
    let environment = NetworkEnvironment::new(env.0, env.1)
        .expect("valid registry values")
        .with_kerberos(kerberos);
    let model = facts
        .with_job_type(job_type)
        .with_credentials(model_creds)
        .with_proxy(proxy)
        .with_environment(environment)
        .with_challenges(
            challenges
                .iter()
                .fold(Challenges::NONE, |c, &(t, s)| c.with(t, s)),
        )
        .with_ie_settings(ie);
    let reference = r::TransferFacts {
        owner,
        flags,
        helper,
        certificate,
        remote,
        job_type,
        creds: ref_creds,
        proxy,
        use_lm_compat: environment.use_lm_compat,
        lm_compatibility_level: env.1,
        challenges: challenges.to_vec(),
        ie,
        eager: true,
        kerberos,
        service_proxy_computer: q12 == ServiceProxyCredentials::Computer,
    };
    RouteCase {
        model,
        reference,
        q12,
    }
}

/// Compares every access of `case` and its whole transfer plan; returns the comparisons.
fn compare_routes(release: Release, case: &RouteCase, accesses: &[Access]) -> usize {
    let profile =
        Profile::new(release).with_knobs(Knobs::default().with_service_proxy_credentials(case.q12));
    for &access in accesses {
        let m = route(&profile, &case.model, access);
        let (used, rule) = r::route(release, &case.reference, access);
        assert_eq!(
            (
                model_used(m.principal, access, &case.model),
                m.rule.id.name()
            ),
            (used, rule),
            "route of {access:?} on {:?} ({release:?}); model: {m}",
            case.model
        );
    }
    // Q-8: both settings of when L-6 strikes.
    for token_check in [TokenCheck::Eager, TokenCheck::Lazy] {
        let mut profile = profile;
        profile.knobs.token_check = token_check;
        let mut reference = case.reference.clone();
        reference.eager = token_check == TokenCheck::Eager;
        let plan = transfer_plan(&profile, &case.model);
        let x = r::transfer(release, &reference);
        let steps: Vec<(Access, r::Used, &str)> = plan
            .iter()
            .map(|s| {
                (
                    s.access,
                    model_used(s.principal, s.access, &case.model),
                    s.rule.id.name(),
                )
            })
            .collect();
        let m = (
            steps,
            plan.outcome()
                .failure()
                .map(|f| (f.hresult, f.rule.id.name())),
            plan.failing_step().map(|s| s.access),
        );
        let failing = x.failing.map(|i| x.steps[i].0);
        assert_eq!(
            m,
            (x.steps.clone(), x.failure, failing),
            "transfer plan of {:?} ({release:?}, {token_check:?}); model: {}",
            case.model,
            bits_helper_token::explain::transfer_plan(&profile, &case.model)
        );
    }
    accesses.len() + 1
}

#[test]
fn routes_and_transfer_plans_agree_on_every_class() {
    let owners = [
        Sid::LOCAL_SYSTEM,
        Sid::NETWORK_SERVICE,
        Sid::LOCAL_SERVICE,
        sid("S-1-5-21-1-2-3-1001"),
    ];
    // Helpers: none, a user, a service account (R-6 applies to helper tokens too).
    let helpers = [None, Some(carol_sid()), Some(Sid::NETWORK_SERVICE)];
    // X-3: nobody challenges; the server asks Negotiate; the server NTLM and the proxy
    // Negotiate and Basic.
    let worlds: [&[(AuthTarget, AuthScheme)]; 3] = [
        &[],
        &[(AuthTarget::Server, AuthScheme::Negotiate)],
        &[
            (AuthTarget::Server, AuthScheme::Ntlm),
            (AuthTarget::Proxy, AuthScheme::Negotiate),
            (AuthTarget::Proxy, AuthScheme::Basic),
        ],
    ];
    let every_challenge: Vec<(AuthTarget, AuthScheme)> = [AuthTarget::Server, AuthTarget::Proxy]
        .into_iter()
        .flat_map(|t| r::all_schemes().map(|s| (t, s)))
        .collect();
    let accesses = r::all_accesses();
    assert_eq!(
        accesses.len(),
        Access::ALL.len(),
        "the reference knows every access"
    );
    let challenges: Vec<Access> = accesses
        .iter()
        .copied()
        .filter(|a| matches!(a, Access::ProxyChallenge(_) | Access::ServerChallenge(_)))
        .collect();
    let mut routes = 0usize;
    let mut plans = 0usize;
    // A: every access over every job fact, with three credential/registry settings.
    let settings: [(&[CredentialCall], (u32, u32)); 3] = [
        (&[], (2, 3)),
        (
            &[(
                AuthTarget::Proxy,
                AuthScheme::Negotiate,
                Credential::Implicit,
            )],
            (2, 3),
        ),
        (&[], (0, 3)),
    ];
    for &release in Release::ALL {
        for &job_type in JobType::ALL {
            for &remote in Remote::ALL {
                for &proxy in ProxyUsage::ALL {
                    for certificate in [false, true] {
                        for flags in 0..4 {
                            for helper in helpers {
                                for owner in owners {
                                    for (creds, env) in settings {
                                        for world in worlds {
                                            // R-7, X-3: the IE settings matter for PRECONFIG.
                                            let ies: &[IeSettings] =
                                                if proxy == ProxyUsage::Preconfig {
                                                    IeSettings::ALL
                                                } else {
                                                    &[IeSettings::Direct]
                                                };
                                            for &ie in ies {
                                                let case = route_case(
                                                    owner,
                                                    flags,
                                                    helper,
                                                    certificate,
                                                    remote,
                                                    job_type,
                                                    creds,
                                                    proxy,
                                                    env,
                                                    (world, ie),
                                                    (true, ServiceProxyCredentials::Computer),
                                                );
                                                routes +=
                                                    compare_routes(release, &case, &accesses) - 1;
                                                plans += 1;
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    // B: every challenge over every credential class of both targets × every registry
    // class, with the facts that change who answers.
    let registry = [(0, 0), (1, 1), (1, 2), (2, 5)];
    let classes = credential_classes();
    for server in &classes {
        for proxy_creds in &classes {
            let creds: Vec<CredentialCall> = server
                .iter()
                .map(|&(s, c)| (AuthTarget::Server, s, c))
                .chain(proxy_creds.iter().map(|&(s, c)| (AuthTarget::Proxy, s, c)))
                .collect();
            for env in registry {
                for flags in 0..4 {
                    for helper in helpers {
                        for owner in owners {
                            for (remote, proxy) in [
                                (Remote::Https, ProxyUsage::Override),
                                (Remote::Http, ProxyUsage::NoProxy),
                                (Remote::Smb, ProxyUsage::Autodetect),
                            ] {
                                // R-6: Kerberos in the domain or not; Q-12 both ways.
                                for r6 in [
                                    (true, ServiceProxyCredentials::Computer),
                                    (false, ServiceProxyCredentials::Computer),
                                    (true, ServiceProxyCredentials::None),
                                ] {
                                    let case = route_case(
                                        owner,
                                        flags,
                                        helper,
                                        true,
                                        remote,
                                        JobType::Upload,
                                        &creds,
                                        proxy,
                                        env,
                                        (&every_challenge, IeSettings::Direct),
                                        r6,
                                    );
                                    for release in [Release::Win10_1607, Release::Win10_1809] {
                                        routes += compare_routes(release, &case, &challenges) - 1;
                                        plans += 1;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    report(&format!(
        "routing: {routes} routes and {plans} transfer plans compared, all agree"
    ));
    assert!(routes >= 1_000_000 && plans >= 75_000, "{routes} {plans}");
}

#[allow(clippy::too_many_arguments)]
/// Builds a model job in any state through its serialized form (the only way to reach
/// CONNECTING, TRANSFERRING, TRANSIENT_ERROR), and the reference's twin.
fn job_pair(
    profile: Profile,
    owner: Identity,
    shape: (JobType, Remote, ProxyUsage),
    state: JobState,
    flags: u32,
    helper: Option<Identity>,
    certificate: bool,
    error: &serde_json::Value,
) -> (bits_helper_token::Job, r::Job) {
    let creds = Credentials::NONE
        .set(AuthTarget::Server, AuthScheme::Basic, Credential::Explicit)
        .expect("explicit Basic");
    let facts = JobFacts::new(owner)
        .with_job_type(shape.0)
        .with_remote(shape.1)
        .with_client_certificate(certificate)
        .with_credentials(creds)
        .with_proxy(shape.2);
    let base = bits_helper_token::Job::with_facts(profile, facts);
    let mut json = serde_json::to_value(base).expect("a job serializes");
    json["state"] = serde_json::to_value(state).expect("state");
    json["flags"] = serde_json::json!(flags);
    json["helper_token"] = serde_json::to_value(helper).expect("helper");
    if state == JobState::Error {
        json["error"] = error.clone();
    }
    let model: bits_helper_token::Job = serde_json::from_value(json).expect("a valid job");

    let mut reference = r::Job::new(profile, who(owner));
    reference.job_type = shape.0;
    reference.remote = shape.1;
    reference.proxy = shape.2;
    reference.state = state;
    reference.flags = flags;
    reference.helper = helper.map(who);
    reference.certificate = certificate;
    reference
        .creds
        .set(AuthTarget::Server, AuthScheme::Basic, Credential::Explicit)
        .expect("explicit Basic");
    if state == JobState::Error {
        reference.error = Some((HResult::BG_E_TOKEN_REQUIRED, "L-5"));
    }
    (model, reference)
}

/// Compares a model job with the reference's.
fn compare_jobs(model: &bits_helper_token::Job, x: &r::Job, context: &dyn Fn() -> String) {
    let creds = |get: &dyn Fn(AuthTarget, AuthScheme) -> Option<Credential>| {
        let mut all = Vec::new();
        for t in [AuthTarget::Server, AuthTarget::Proxy] {
            for s in r::all_schemes() {
                all.push(get(t, s));
            }
        }
        all
    };
    let m = (
        model.owner_logged_on(),
        model.state(),
        model.error().map(|e| (e.hresult, e.rule.id.name())),
        model.flags().bits(),
        model.helper_token().map(who),
        who(model.owner()),
        model.client_certificate(),
        creds(&|t, s| model.credentials().get(t, s)),
        model.proxy(),
    );
    let reference = (
        x.logged_on,
        x.state,
        x.error,
        x.flags,
        x.helper,
        x.owner,
        x.certificate,
        creds(&|t, s| x.creds.get(t, s)),
        x.proxy,
    );
    assert_eq!(
        m,
        reference,
        "the job after {}: model (left), reference (right)",
        context()
    );
}

/// A lifecycle event, applied to the model's job and to the reference's.
type Ev<'a> = (
    &'a str,
    Box<dyn Fn(&mut bits_helper_token::Job) -> Decision + 'a>,
    Box<dyn Fn(&mut r::Job) -> r::Answer + 'a>,
);

#[test]
fn lifecycle_events_agree_from_every_state() {
    // A real L-5 error, as the model serializes it.
    let error = {
        let owner = alice();
        let mut job = bits_helper_token::Job::new(Profile::default(), &owner);
        let handle = job.query_interface(&owner).expect("1809 has the interface");
        assert!(
            handle
                .set_helper_token(&mut job, Impersonation::of(&alice()))
                .unwrap()
                .is_allowed()
        );
        assert!(
            handle
                .set_helper_token_flags(&mut job, 1)
                .unwrap()
                .is_allowed()
        );
        job.logoff_owner();
        serde_json::to_value(job).expect("serializes")["error"].clone()
    };
    let owners = [
        Identity::LOCAL_SYSTEM,
        Identity::NETWORK_SERVICE,
        Identity::of(&alice()),
        Identity::of(&admin()),
    ];
    let shapes = [
        (JobType::Download, Remote::Https, ProxyUsage::Preconfig),
        (JobType::Upload, Remote::Smb, ProxyUsage::NoProxy),
        (JobType::UploadReply, Remote::Http, ProxyUsage::Autodetect),
    ];
    let helpers = [
        None,
        Some(Identity::new(carol_sid(), false)),
        Some(Identity::new(carol_sid(), true)),
    ];
    let takers = [
        admin(),
        alice(),
        filtered_admin(),
        TokenInfo::local_system(),
    ];
    let mut releases_and_q6 = Vec::new();
    for &release in Release::ALL {
        for &take in TakeOwnership::ALL {
            let mut k = Knobs::DEFAULT;
            k.take_ownership = take;
            releases_and_q6.push(Profile::new(release).with_knobs(k));
        }
    }
    let mut cases = 0usize;
    for &profile in &releases_and_q6 {
        for owner in owners {
            for shape in shapes {
                for &state in JobState::ALL {
                    for flags in 0..4 {
                        for helper in helpers {
                            for (certificate, logged_on) in
                                [(false, true), (true, true), (false, false)]
                            {
                                let mut pair = job_pair(
                                    profile,
                                    owner,
                                    shape,
                                    state,
                                    flags,
                                    helper,
                                    certificate,
                                    &error,
                                );
                                if !logged_on {
                                    // L-8: the owner logged off earlier.
                                    let mut json = serde_json::to_value(pair.0).expect("job");
                                    json["owner_logged_on"] = serde_json::json!(false);
                                    pair.0 = serde_json::from_value(json).expect("a valid job");
                                    pair.1.logged_on = false;
                                }
                                let mut events: Vec<Ev> = vec![
                                    (
                                        "logoff",
                                        Box::new(|j| j.logoff_owner().into_inner()),
                                        Box::new(|j| j.logoff_owner()),
                                    ),
                                    (
                                        "logon",
                                        Box::new(|j| j.logon_owner().into_inner()),
                                        Box::new(|j| j.logon_owner()),
                                    ),
                                    (
                                        "helper_session_ended",
                                        Box::new(|j| j.helper_session_ended().into_inner()),
                                        Box::new(|j| j.helper_session_ended()),
                                    ),
                                    (
                                        "service_stop",
                                        Box::new(|j| j.service_stop().into_inner()),
                                        Box::new(|j| j.helper_session_ended()),
                                    ),
                                    (
                                        "resume",
                                        Box::new(|j| j.resume().into_inner()),
                                        Box::new(|j| j.resume()),
                                    ),
                                    (
                                        "transfer",
                                        Box::new(|j| j.transfer().into_inner()),
                                        Box::new(|j| j.transfer()),
                                    ),
                                    (
                                        "cancel",
                                        Box::new(|j| j.cancel().into_inner()),
                                        Box::new(|j| j.cancel()),
                                    ),
                                    (
                                        "complete",
                                        Box::new(|j| j.complete().into_inner()),
                                        Box::new(|j| j.complete()),
                                    ),
                                ];
                                for t in &takers {
                                    events.push((
                                        "take_ownership",
                                        Box::new(move |j| j.take_ownership(t).into_inner()),
                                        Box::new(move |j| j.take_ownership(t)),
                                    ));
                                }
                                for (name, model_event, ref_event) in &events {
                                    let (mut model, mut reference) = pair.clone();
                                    let before = model.clone();
                                    let m = model_event(&mut model);
                                    let x = ref_event(&mut reference);
                                    let context = || format!("{name} on {before:?}");
                                    assert_eq!(
                                        (
                                            m.hresult(),
                                            m.rule_id().name(),
                                            before.state(),
                                            model.state()
                                        ),
                                        (x.hresult, x.rule, state, reference.state),
                                        "{}; model rule: {}",
                                        context(),
                                        m.rule()
                                    );
                                    compare_jobs(&model, &reference, &context);
                                    cases += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    report(&format!(
        "lifecycle: {cases} events compared from every state, all agree"
    ));
    assert!(cases >= 180_000, "{cases}");
}

// ---------------------------------------------------------------------------------------
// 2. Random scenarios
// ---------------------------------------------------------------------------------------

/// The floor of random steps in the default suite.
const DEFAULT_STEPS: usize = 100_000;

/// Replays one scenario both ways; `Err` describes the first disagreement.
fn replay(
    s: &Scenario,
    seen: &mut std::collections::BTreeMap<&'static str, usize>,
) -> Result<usize, String> {
    // A scenario that turns invalid at a step (a handle whose QueryInterface was refused)
    // must turn invalid at the same step in both.
    let (t, x) = match (s.run(), r::run(s)) {
        (Ok(t), Ok(x)) => (t, x),
        (Err(e), Err(step)) if e.step.unwrap_or(0) == step => return Ok(0),
        (m, x) => {
            return Err(format!(
                "validity differs: model {:?}, reference {:?}",
                m.err().map(|e| e.to_string()),
                x.err()
            ));
        }
    };
    if t.results.len() != s.steps.len() || x.results.len() != s.steps.len() {
        return Err("one result per step".into());
    }
    for (i, (m, x)) in t.results.iter().zip(&x.results).enumerate() {
        let value = m.value.as_ref().map(|v| match v {
            StepValue::Flags(f) => r::StepValue::Flags(f.bits()),
            StepValue::Sid(s) => r::StepValue::Sid(*s),
            StepValue::Route {
                principal,
                sid,
                access,
            } => {
                // The oracle's value carries the SID; it must be the principal's on the
                // job as it was when routed, which the reference reports in its Used.
                let used = match principal {
                    Principal::Owner => r::Used::Owner(sid.expect("owner SID")),
                    Principal::Helper => r::Used::Helper(sid.expect("helper SID")),
                    other => model_used(*other, *access, &JobFacts::new(Identity::LOCAL_SYSTEM)),
                };
                r::StepValue::Route(used)
            }
            other => panic!("the comparison knows no value {other:?}"),
        });
        if (m.hresult, m.rule.name(), value) != (x.hresult, x.rule, x.value) {
            return Err(format!(
                "step {} ({:?}): model {:?} {} {:?}, reference {:?} {} {:?}",
                i + 1,
                s.steps[i],
                m.hresult,
                m.rule,
                value,
                x.hresult,
                x.rule,
                x.value
            ));
        }
    }
    for x in &x.results {
        *seen.entry(x.rule).or_default() += 1;
    }
    let job = &t.job;
    let m = (
        job.state(),
        job.error().map(|e| (e.hresult, e.rule.id.name())),
        job.flags().bits(),
        job.helper_token().map(who),
        who(job.owner()),
        job.client_certificate(),
    );
    let reference = (
        x.job.state,
        x.job.error,
        x.job.flags,
        x.job.helper,
        x.job.owner,
        x.job.certificate,
    );
    if m != reference {
        return Err(format!("final job: model {m:?}, reference {reference:?}"));
    }
    Ok(s.steps.len())
}

/// Runs `cases` random scenarios through both; returns (scenarios, steps).
fn random_run(
    params: ScenarioParams,
    cases: u32,
    seen: &mut std::collections::BTreeMap<&'static str, usize>,
) -> (usize, usize) {
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let steps = std::cell::Cell::new(0usize);
    let scenarios = std::cell::Cell::new(0usize);
    let seen = std::cell::RefCell::new(seen);
    let result = runner.run(&scenario(params), |s| {
        let n = replay(&s, &mut seen.borrow_mut())
            .map_err(proptest::test_runner::TestCaseError::fail)?;
        steps.set(steps.get() + n);
        scenarios.set(scenarios.get() + 1);
        Ok(())
    });
    if let Err(e) = result {
        match e {
            TestError::Fail(why, s) => panic!(
                "model and reference disagree: {why}\nshrunk scenario (oracle JSON):\n{}",
                serde_json::to_string(&s).unwrap_or_else(|e| format!("<{e}>"))
            ),
            other => panic!("{other}"),
        }
    }
    (scenarios.get(), steps.get())
}

#[test]
fn random_scenarios_agree() {
    let target: usize = std::env::var("REFERENCE_STEPS")
        .ok()
        .map(|v| v.parse().expect("REFERENCE_STEPS is a number of steps"))
        .unwrap_or(DEFAULT_STEPS);
    // Generated scenarios average about 12 steps; these case counts aim ~20% above the
    // floor, so the assertion below fails if the generator's scenarios shrink.
    let scale = target as f64 / DEFAULT_STEPS as f64;
    let default_cases = (5_800.0 * scale).ceil() as u32;
    let knob_cases = (4_100.0 * scale).ceil() as u32;

    let mut seen = std::collections::BTreeMap::new();
    let (s1, n1) = random_run(ScenarioParams::default(), default_cases, &mut seen);
    let mut knobs = ScenarioParams::default();
    knobs.random_knobs = true;
    let (s2, n2) = random_run(knobs, knob_cases, &mut seen);
    let steps = n1 + n2;
    report(&format!(
        "random scenarios: {steps} steps in {} scenarios compared ({n1} with default knobs, {n2} with random knobs), all agree",
        s1 + s2
    ));
    assert!(
        steps >= target,
        "only {steps} random steps were compared (floor {target})"
    );
    // The comparison is not vacuous: every rule of the SPEC decided some steps. (X-1 is
    // left out: a transfer ending in X-1 is rare in generated scenarios — a handful per
    // 100 000 steps — and the exhaustive decision, plan and lifecycle comparisons cover it.)
    report(&format!(
        "random scenarios: steps per deciding rule {seen:?}"
    ));
    let rules = [
        "A-1", "A-2", "A-4", "A-5", "A-6", "A-7", "A-9", "L-5", "L-6", "L-7", "Q-1", "Q-2", "Q-3",
        "Q-6", "Q-7", "R-1", "R-2", "R-3", "R-4", "R-5", "R-6", "R-7", "T-7", "R-0",
    ];
    let missing: Vec<&str> = rules
        .into_iter()
        .filter(|r| !seen.contains_key(r))
        .collect();
    assert!(
        missing.is_empty(),
        "no random step was decided by {missing:?}"
    );
}
