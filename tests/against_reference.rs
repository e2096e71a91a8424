//! The model against an independent reference (`tests/reference/`, written from
//! `../shared/SPEC.md` (version 3) as tables, sharing no code with the model).
//!
//! 1. Exhaustive: every equivalence class of the inputs of the five decision functions
//!    (every release and knob value; callers administrator / standard / UAC-filtered / Low
//!    integrity / LocalSystem / restricted × owner / stranger; every impersonation level;
//!    stored token none / administrator / standard; new token administrator / standard /
//!    impersonation denied; every job state; flags 0–3 and unknown-bit classes;
//!    certificate × remote), T-5 and T-11 over token classes, QueryInterface per release ×
//!    Q-9 × Q-10 × level, the job methods' guard and rules (A-9, A-11, A-13, A-14, L-9,
//!    L-10, L-12, L-15, R-3 (iv)) for every caller class, level, state and logon state,
//!    routing and whole transfer plans (R-1…R-7, X-1…X-5, L-6) including whole challenges
//!    over every subset of schemes for server and proxy, and every lifecycle event (L-5,
//!    L-7, L-8, L-12…L-14, Q-6, T-7) from every state.
//! 2. Random scenarios from `support::proptest::scenario` (default parameters, and random
//!    knobs), replayed by the reference's own job state machine and by `Scenario::run`,
//!    comparing every step's HRESULT, rule, value, `skipped` and `transfer_failure` and the
//!    final job (the oracle's `job` object). The default suite replays at least 200 000
//!    steps.
//!
//! The counts are written straight to the process's stderr, so they show in CI output
//! even when the tests pass (libtest captures `print!`/`eprint!` only).
//!
//! A larger random run (the step count is a floor):
//!
//! ```sh
//! REFERENCE_STEPS=2000000 cargo test --release --all-features --test all against_reference:: -- --nocapture
//! ```

use crate::reference;

use bits_helper_token::scenario::{JobSnapshot, Scenario, StepValue};
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
fn alice_restricted() -> TokenInfo {
    alice().with_restricting_sids(vec![Sid::RESTRICTED])
}
fn bob_sid() -> Sid {
    sid("S-1-5-21-1-2-3-1002")
}
fn bob() -> TokenInfo {
    TokenInfo::standard_user(bob_sid())
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
fn admin_restricted() -> TokenInfo {
    admin().with_restricting_sids(vec![Sid::RESTRICTED])
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

fn levels() -> Vec<ImpersonationLevel> {
    ImpersonationLevel::ALL.to_vec()
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
        restricted: i.restricted,
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

/// The model's principal in the reference's terms: the SID of the owner or helper as
/// given, the target and scheme of explicit credentials from the access (or, for a whole
/// challenge, the chosen scheme), the flag of a missing helper from the access's naming
/// flag (a whole challenge's chosen scheme is NTLM or Negotiate: NETWORK).
fn model_used(
    principal: Principal,
    sid: Option<Sid>,
    access: Access,
    scheme: Option<AuthScheme>,
) -> r::Used {
    let challenge = match access {
        Access::WholeChallenge(t) => scheme.map(|s| (t, s)),
        other => other.as_challenge(),
    };
    match principal {
        Principal::Owner => r::Used::Owner(sid.expect("owner SID")),
        Principal::Helper => r::Used::Helper(sid.expect("helper SID")),
        Principal::Computer => r::Used::Computer,
        Principal::Anonymous => r::Used::Anonymous,
        Principal::ExplicitCredentials => {
            let (target, scheme) = challenge.expect("explicit credentials answer a challenge");
            r::Used::Explicit(target, scheme)
        }
        Principal::NoCredentials => r::Used::NoImplicitCredentials,
        Principal::NotApplicable => r::Used::NotApplicable,
        Principal::MissingHelper => r::Used::TokenRequired(match access {
            Access::WholeChallenge(_) => r::NETWORK,
            other => other.flag().expect("a flag names the access").bits(),
        }),
        Principal::Unanswered => r::Used::Unanswered,
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
const MIN_DECISION_CASES: usize = 100_000_000;

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
    // Low integrity (T-8 label), LocalSystem (System), a restricted user and a restricted
    // administrator (T-11, A-14). Each owns the job or not; the owner is elevated or not,
    // at Low, Medium, High or System integrity (A-11); LocalSystem (X-1) or not.
    let callers = [
        admin(),
        alice(),
        filtered_admin(),
        alice().with_integrity(IntegrityLevel::Low),
        TokenInfo::local_system(),
        alice_restricted(),
        admin_restricted(),
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
            let identity = Identity::of(caller_token);
            let ref_caller = r::Who::of(caller_token);
            assert_eq!(
                who(identity),
                ref_caller,
                "T-5, T-8, T-9, T-11 of the caller"
            );
            let owners = [
                Identity::new(identity.sid, false),
                Identity::new(identity.sid, true),
                Identity::new(identity.sid, false).with_integrity(IntegrityLevel::Low),
                Identity::new(bob_sid(), false),
                Identity::new(bob_sid(), true),
                Identity::new(bob_sid(), false).with_elevated(true),
                Identity::new(Sid::LOCAL_SYSTEM, true),
            ];
            for level in levels() {
                let caller = Caller::new(identity).with_level(level);
                // Every level meets every class; the job's certificate and remote matter
                // only after the level (X-1), so levels other than the default meet them
                // on HTTPS only.
                let classes: Vec<(bool, Remote, u32)> = job_classes()
                    .into_iter()
                    .filter(|c| level == r::DEFAULT_LEVEL || c.1 == Remote::Https)
                    .collect();
                for owner in owners {
                    for helper in helpers {
                        for &state in JobState::ALL {
                            for &(certificate, remote, stored) in &classes {
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
                                    format!(
                                        "{what} by {identity:?} at {level:?} on {facts:?} under {profile:?}"
                                    )
                                };
                                let mut check =
                                    |m: Decision, x: r::Decision, what: &dyn Fn() -> String| {
                                        compare_decision(&m, &x, what);
                                        hits[x.row] += 1;
                                        cases += 1;
                                    };
                                let decide = |call| {
                                    r::decide_at(profile, ref_caller, level, &ref_facts, call)
                                };
                                check(
                                    get_helper_token_flags(profile, caller, &facts),
                                    decide(r::Call::GetFlags),
                                    &|| case("GetHelperTokenFlags"),
                                );
                                if stored != 0 && stored != 3 {
                                    continue;
                                }
                                for f in set_flags {
                                    check(
                                        set_helper_token_flags(profile, caller, &facts, f),
                                        decide(r::Call::SetFlags(f)),
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
                                        decide(r::Call::SetToken(ref_imp)),
                                        &|| case(&format!("SetHelperToken({imp:?})")),
                                    );
                                }
                                check(
                                    clear_helper_token(profile, caller, &facts),
                                    decide(r::Call::Clear),
                                    &|| case("ClearHelperToken"),
                                );
                                check(
                                    get_helper_token_sid(profile, caller, &facts),
                                    decide(r::Call::GetSid),
                                    &|| case("GetHelperTokenSid"),
                                );
                            }
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
        "decisions: {cases} cases compared ({} profiles: every release x every knob value; 7 caller classes incl. restricted; 4 levels), all agree",
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
        assert_eq!(
            who(Identity::of(t)),
            r::Who::of(t),
            "T-8, T-9, T-11 for {t:?}"
        );
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
        // T-11: restricting SIDs make a restricted token; deny-only groups do not.
        alice_restricted(),
        with_admins(sid("S-1-5-21-1-2-3-500"), 0xF).with_restricting_sids(vec![Sid::EVERYONE]),
        with_admins(sid("S-1-5-21-1-2-3-500"), 0x19).with_logon(LogonType::Secondary),
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
                    let caller = Caller::new(caller);
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
    assert!(cases >= 50_000, "{cases}");
}

/// A-1, A-2, A-9, Q-9, Q-10: QueryInterface per release, for every kind of caller, at every
/// level, under both access checks and both integrity-read settings.
#[test]
fn query_interface_agrees_per_release() {
    let callers = [
        alice(),
        alice().with_integrity(IntegrityLevel::Low),
        alice_restricted(),
        admin(),
        admin_restricted(),
        filtered_admin(),
        TokenInfo::local_system(),
        TokenInfo::local_service(),
        with_admins(bob_sid(), 0x19),
    ];
    let owners = [
        Identity::of(&alice()),
        Identity::new(bob_sid(), false),
        Identity::of(&admin()),
        Identity::LOCAL_SYSTEM.with_elevated(false),
        Identity::LOCAL_SYSTEM,
    ];
    let mut cases = 0;
    for &release in Release::ALL {
        for &check in AccessCheck::ALL {
            for &reads in IntegrityReads::ALL {
                for &bypass in AdminBypass::ALL {
                    for owner in owners {
                        for caller in &callers {
                            for level in levels() {
                                let mut profile = Profile::new(release);
                                profile.knobs.access_check = check;
                                profile.knobs.integrity_reads = reads;
                                profile.knobs.admin_bypass = bypass;
                                let facts = JobFacts::new(owner);
                                let (hresult, rule) = r::query_interface_at(
                                    &profile,
                                    r::Who::of(caller),
                                    level,
                                    who(owner),
                                );
                                let m = query_interface(
                                    &profile,
                                    Caller::new(Identity::of(caller)).with_level(level),
                                    &facts,
                                );
                                assert_eq!(
                                    (m.hresult(), m.rule_id().name()),
                                    (hresult, rule),
                                    "QueryInterface by {caller:?} at {level:?} on a job of {owner:?} under {profile:?}"
                                );
                                cases += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    report(&format!(
        "QueryInterface: {cases} cases compared (release x Q-9 x Q-10 x Q-2 x owner x caller x level), all agree"
    ));
    assert_eq!(cases, 4 * 2 * 2 * 3 * 5 * 9 * 4);
}

// ---------------------------------------------------------------------------------------
// The job methods (A-12, A-13, A-14, A-9, A-11 on IBackgroundCopyJob*), their own rules
// (L-9, L-10, L-12, L-15, R-3…R-7) and the jobs they leave.
// ---------------------------------------------------------------------------------------

/// The model's job as the oracle shows it, in the reference's terms.
type Shown = (
    JobState,
    Option<HResult>,
    u32,
    Option<Sid>,
    r::Who,
    bool,
    bool,
    bool,
    ProxyUsage,
    Vec<Option<Credential>>,
    bool,
);

fn cred_cells(
    get: &dyn Fn(AuthTarget, AuthScheme) -> Option<Credential>,
) -> Vec<Option<Credential>> {
    let mut all = Vec::new();
    for t in [AuthTarget::Server, AuthTarget::Proxy] {
        for s in r::all_schemes() {
            all.push(get(t, s));
        }
    }
    all
}

/// The oracle's `job` object (contract §2.2) of the model's job.
fn shown_model(job: &bits_helper_token::Job) -> Shown {
    let snap = JobSnapshot::of(job);
    let owner = job.owner();
    (
        snap.state,
        snap.error,
        snap.flags.bits(),
        snap.helper_token,
        r::Who {
            sid: snap.owner,
            admin: owner.admin,
            elevated: snap.owner_elevated,
            integrity: r::level_rid(snap.owner_integrity),
            restricted: false,
        },
        snap.owner_logged_on,
        snap.files == 1,
        snap.client_certificate,
        snap.proxy,
        cred_cells(&|t, s| snap.credentials.get(t, s)),
        snap.use_stored_credentials,
    )
}

/// The same object of the reference's job.
fn shown_reference(job: &r::Job) -> Shown {
    (
        job.state,
        job.error.map(|e| e.0),
        job.flags,
        job.helper.map(|h| h.sid),
        r::Who {
            restricted: false,
            ..job.owner
        },
        job.owner_logged_on(),
        job.has_file,
        job.certificate,
        job.proxy,
        cred_cells(&|t, s| job.creds.get(t, s)),
        job.use_stored_credentials,
    )
}

/// One job in a given state, as the model's job and the reference's twin.
#[derive(Clone, Copy, Debug)]
struct JobCase {
    profile: Profile,
    owner: Identity,
    shape: (JobType, Remote, ProxyUsage),
    state: JobState,
    flags: u32,
    helper: Option<Identity>,
    certificate: bool,
    owner_logged_on: bool,
    has_file: bool,
    network: bool,
    use_stored_credentials: bool,
}

/// The error a job in this state holds: ERROR one that L-5/L-6 produce; TRANSIENT_ERROR
/// L-13's.
fn state_error(state: JobState) -> Option<HResult> {
    match state {
        JobState::Error => Some(HResult::BG_E_TOKEN_REQUIRED),
        JobState::TransientError => Some(r::hr::BG_E_NETWORK_DISCONNECTED),
        _ => None,
    }
}

fn job_pair(c: &JobCase) -> (bits_helper_token::Job, r::Job) {
    let creds = Credentials::NONE
        .set(AuthTarget::Server, AuthScheme::Basic, Credential::Explicit)
        .expect("explicit Basic");
    let environment = NetworkEnvironment::DEFAULT.with_network(if c.network {
        NetworkState::Connected
    } else {
        NetworkState::Disconnected
    });
    let error = state_error(c.state).map(|code| match c.state {
        JobState::Error => JobError::in_error(code).expect("a rule produces it"),
        _ => JobError::transient(code).expect("a failure code"),
    });
    let facts = JobFacts::new(c.owner)
        .with_job_type(c.shape.0)
        .with_remote(c.shape.1)
        .with_client_certificate(c.certificate)
        .with_credentials(creds)
        .with_proxy(c.shape.2)
        .with_state(c.state)
        .with_error(error)
        .with_flags(TokenUsage::from_bits_retain(c.flags))
        .with_helper(c.helper)
        .with_owner_logged_on(c.owner_logged_on)
        .with_file(c.has_file)
        .with_environment(environment)
        .with_use_stored_credentials(c.use_stored_credentials);
    let model = bits_helper_token::Job::with_facts(c.profile, facts);

    let mut reference = r::Job::new(c.profile, who(c.owner));
    reference.job_type = c.shape.0;
    reference.remote = c.shape.1;
    reference.proxy = c.shape.2;
    reference.state = c.state;
    reference.flags = c.flags;
    reference.helper = c.helper.map(who);
    reference.certificate = c.certificate;
    reference.has_file = c.has_file;
    reference.network = c.network;
    reference.use_stored_credentials = c.use_stored_credentials;
    reference.set_logged_on(c.owner.sid, c.owner_logged_on);
    reference
        .creds
        .set(AuthTarget::Server, AuthScheme::Basic, Credential::Explicit)
        .expect("explicit Basic");
    reference.error = state_error(c.state).map(|code| {
        (
            code,
            if c.state == JobState::Error {
                "L-6"
            } else {
                "L-13"
            },
        )
    });
    (model, reference)
}

/// The job-method calls tried (one per method, with arguments that change something).
fn job_calls() -> Vec<(JobCall, r::JobCall)> {
    use AuthScheme::*;
    use AuthTarget::*;
    use Credential::*;
    vec![
        (JobCall::Resume, r::JobCall::Resume),
        (JobCall::Suspend, r::JobCall::Suspend),
        (JobCall::Cancel, r::JobCall::Cancel),
        (JobCall::Complete, r::JobCall::Complete),
        (
            JobCall::SetCredentials(Proxy, Negotiate, Implicit),
            r::JobCall::SetCredentials(Proxy, Negotiate, Implicit),
        ),
        (
            JobCall::SetCredentials(Server, Digest, Implicit),
            r::JobCall::SetCredentials(Server, Digest, Implicit),
        ),
        (
            JobCall::RemoveCredentials(Server, Basic),
            r::JobCall::RemoveCredentials(Server, Basic),
        ),
        (
            JobCall::RemoveCredentials(Proxy, Ntlm),
            r::JobCall::RemoveCredentials(Proxy, Ntlm),
        ),
        (
            JobCall::SetProxyUsage(ProxyUsage::Override),
            r::JobCall::SetProxyUsage(ProxyUsage::Override),
        ),
        (
            JobCall::SetClientCertificate(true),
            r::JobCall::SetClientCertificate(true),
        ),
        (
            JobCall::SetClientCertificate(false),
            r::JobCall::SetClientCertificate(false),
        ),
        (
            JobCall::UseStoredCredentials,
            r::JobCall::UseStoredCredentials,
        ),
    ]
}

/// A-9, A-11, A-13, A-14 and each job method's own rules: every job method (and AddFile)
/// by every caller class — the owner as the job remembers it (no caller), the owner's own
/// token, the same user at Low integrity, restricted, a stranger, an elevated, a filtered
/// and a restricted administrator, LocalSystem — at every level, logged on or not, on jobs
/// of a user, an elevated administrator and LocalSystem, in every state, with and without
/// its file, on every release and denial code.
#[test]
fn job_methods_agree_for_every_caller_level_and_state() {
    let owners = [
        Identity::of(&alice()),
        Identity::of(&admin()),
        Identity::LOCAL_SYSTEM,
    ];
    // (label, token or the owner as remembered)
    let callers: Vec<(&str, Option<TokenInfo>)> = vec![
        ("owner as remembered", None),
        ("alice", Some(alice())),
        (
            "alice low",
            Some(alice().with_integrity(IntegrityLevel::Low)),
        ),
        ("alice restricted", Some(alice_restricted())),
        ("bob", Some(bob())),
        ("admin", Some(admin())),
        ("admin filtered", Some(filtered_admin())),
        ("admin restricted", Some(admin_restricted())),
        ("system", Some(TokenInfo::local_system())),
    ];
    let shapes = [
        (JobType::Download, Remote::Https, ProxyUsage::Preconfig),
        (JobType::Upload, Remote::Smb, ProxyUsage::NoProxy),
        (JobType::UploadReply, Remote::Smb, ProxyUsage::Autodetect),
    ];
    let mut cases = 0usize;
    let mut seen = std::collections::BTreeMap::<&'static str, usize>::new();
    for &release in Release::ALL {
        for denial in [HResult::E_ACCESSDENIED, HResult::E_FAIL] {
            let mut profile = Profile::new(release);
            profile.knobs.denial = FailureCode::new(denial).expect("a failure");
            for owner in owners {
                for (label, token) in &callers {
                    for level in levels() {
                        for logged_on in [true, false] {
                            for shape in shapes {
                                for &state in JobState::ALL {
                                    for has_file in [true, false] {
                                        // §1.5b: no file only in SUSPENDED or a done job; an
                                        // upload-reply over SMB never holds one (T-7).
                                        let no_file_ok = matches!(
                                            state,
                                            JobState::Suspended
                                                | JobState::Cancelled
                                                | JobState::Acknowledged
                                        );
                                        if (!has_file && !no_file_ok)
                                            || (has_file && shape.0 == JobType::UploadReply)
                                        {
                                            continue;
                                        }
                                        let case = JobCase {
                                            profile,
                                            owner,
                                            shape,
                                            state,
                                            flags: 1,
                                            helper: None,
                                            certificate: true,
                                            owner_logged_on: logged_on
                                                || owner.sid.is_service_account(),
                                            has_file,
                                            network: true,
                                            use_stored_credentials: false,
                                        };
                                        let (base_model, base_reference) = job_pair(&case);
                                        let (model_caller, ref_caller) = match token {
                                            None => (
                                                Caller::owner_of(base_model.facts())
                                                    .with_level(level),
                                                base_reference.owner_caller(level),
                                            ),
                                            Some(t) => {
                                                let on = logged_on || t.user.is_service_account();
                                                (
                                                    Caller::new(Identity::of(t))
                                                        .with_level(level)
                                                        .with_logged_on(on),
                                                    r::JobCaller {
                                                        who: r::Who::of(t),
                                                        level,
                                                        logged_on: on,
                                                    },
                                                )
                                            }
                                        };
                                        let mut calls: Vec<(Option<JobCall>, r::JobCall)> =
                                            job_calls()
                                                .into_iter()
                                                .map(|(m, x)| (Some(m), x))
                                                .collect();
                                        calls.push((None, r::JobCall::AddFile));
                                        for (m_call, x_call) in calls {
                                            let mut model = base_model.clone();
                                            let mut reference = base_reference.clone();
                                            let x = reference.job_call(&ref_caller, x_call);
                                            let m = match m_call {
                                                Some(c) => Ok(model.call(&model_caller, c)),
                                                None => model.add_file_by(&model_caller),
                                            };
                                            let context = || {
                                                format!(
                                                    "{x_call:?} by {label} ({model_caller:?}) on {case:?}"
                                                )
                                            };
                                            match (m, x) {
                                                (Err(_), Err(r::SecondFile)) => {}
                                                (Ok(m), Ok(x)) => {
                                                    let m = m.into_inner();
                                                    assert_eq!(
                                                        (m.hresult(), m.rule_id().name()),
                                                        (x.hresult, x.rule),
                                                        "{}; model rule: {}",
                                                        context(),
                                                        m.rule()
                                                    );
                                                    assert_eq!(
                                                        shown_model(&model),
                                                        shown_reference(&reference),
                                                        "the job after {}",
                                                        context()
                                                    );
                                                    *seen.entry(x.rule).or_default() += 1;
                                                }
                                                (m, x) => panic!(
                                                    "{}: model {:?}, reference {x:?}",
                                                    context(),
                                                    m.map(|d| d.into_inner())
                                                ),
                                            }
                                            cases += 1;
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
    report(&format!(
        "job methods: {cases} calls compared (release x denial x 3 owners x 9 caller classes x 4 levels x logon x 3 shapes x every state x files x 13 calls), all agree; rules {seen:?}"
    ));
    assert!(cases >= 300_000, "{cases}");
    for rule in [
        "A-2", "A-9", "A-11", "A-13", "A-14", "T-7", "L-9", "L-10", "L-12", "L-15", "R-3", "R-4",
        "R-5", "R-7",
    ] {
        assert!(
            seen.contains_key(rule),
            "no job-method call was decided by {rule}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Routing and transfer plans (R, X)
// ---------------------------------------------------------------------------------------

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

/// What one routing case varies beyond the job's own facts.
#[derive(Clone, Copy)]
struct World<'a> {
    challenges: &'a [(AuthTarget, AuthScheme)],
    ie: IeSettings,
    kerberos: bool,
    q12: ServiceProxyCredentials,
    use_stored_credentials: bool,
    server_requests_certificate: bool,
}

impl World<'_> {
    fn plain(challenges: &[(AuthTarget, AuthScheme)], ie: IeSettings) -> World<'_> {
        World {
            challenges,
            ie,
            kerberos: true,
            q12: ServiceProxyCredentials::Computer,
            use_stored_credentials: false,
            server_requests_certificate: false,
        }
    }
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
    world: World<'_>,
) -> RouteCase {
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
    let environment = NetworkEnvironment::new(env.0, env.1)
        .expect("valid registry values")
        .with_kerberos(world.kerberos);
    let model = facts
        .with_job_type(job_type)
        .with_credentials(model_creds)
        .with_proxy(proxy)
        .with_environment(environment)
        .with_challenges(
            world
                .challenges
                .iter()
                .fold(Challenges::NONE, |c, &(t, s)| c.with(t, s)),
        )
        .with_ie_settings(world.ie)
        .with_use_stored_credentials(world.use_stored_credentials)
        .with_server_requests_certificate(world.server_requests_certificate);
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
        challenges: world.challenges.to_vec(),
        use_stored_credentials: world.use_stored_credentials,
        server_requests_certificate: world.server_requests_certificate,
        ie: world.ie,
        eager: true,
        kerberos: world.kerberos,
        service_proxy_computer: world.q12 == ServiceProxyCredentials::Computer,
    };
    RouteCase {
        model,
        reference,
        q12: world.q12,
    }
}

/// A model route in the reference's terms (the scheme only for a whole challenge: a
/// per-scheme access names its own).
fn model_route(route: &Route, job: &JobFacts) -> (r::Used, &'static str, Option<AuthScheme>) {
    let sid = route.principal.sid(job);
    let whole = matches!(route.access, Access::WholeChallenge(_));
    (
        model_used(route.principal, sid, route.access, route.scheme),
        route.rule.id.name(),
        if whole { route.scheme } else { None },
    )
}

/// A plan's access as X-5 orders it: a per-scheme challenge is its target's challenge.
fn x5_access(access: Access) -> Access {
    match access {
        Access::ServerChallenge(_) => Access::WholeChallenge(AuthTarget::Server),
        Access::ProxyChallenge(_) => Access::WholeChallenge(AuthTarget::Proxy),
        other => other,
    }
}

/// Compares every access of `case` and its whole transfer plan; returns the comparisons.
fn compare_routes(release: Release, case: &RouteCase, accesses: &[Access]) -> usize {
    let profile =
        Profile::new(release).with_knobs(Knobs::default().with_service_proxy_credentials(case.q12));
    for &access in accesses {
        let m = route(&profile, &case.model, access);
        let x = r::route_full(release, &case.reference, access);
        assert_eq!(
            model_route(&m, &case.model),
            x,
            "route of {access:?} on {:?} ({release:?}, {:?}); model: {m}",
            case.model,
            case.q12
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
        // X-5's order: the model lists a challenge scheme by scheme; the reference as one
        // decision per target.
        let mut order: Vec<Access> = Vec::new();
        for s in plan.iter() {
            let a = x5_access(s.access);
            if order.last() != Some(&a) {
                order.push(a);
            }
        }
        let m = (
            order,
            plan.outcome()
                .failure()
                .map(|f| (f.hresult, f.rule.id.name())),
            plan.failing_step().map(|s| x5_access(s.access)),
        );
        let x_order: Vec<Access> = x.steps.iter().map(|s| s.0).collect();
        assert_eq!(
            m,
            (x_order, x.failure, x.failing),
            "transfer plan of {:?} ({release:?}, {token_check:?}, {:?}); model: {}",
            case.model,
            case.q12,
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
    // X-3: nobody challenges; the server offers Negotiate; the server NTLM and the proxy
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
        .filter(|a| {
            matches!(
                a,
                Access::ProxyChallenge(_) | Access::ServerChallenge(_) | Access::WholeChallenge(_)
            )
        })
        .collect();
    let wholes = [
        Access::WholeChallenge(AuthTarget::Server),
        Access::WholeChallenge(AuthTarget::Proxy),
    ];
    let mut routes = 0usize;
    let mut plans = 0usize;
    // A: every access over every job fact, with three credential/registry settings, X-4's
    // certificate request both ways.
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
                                                for asks in [false, true] {
                                                    let mut w = World::plain(world, ie);
                                                    w.server_requests_certificate = asks;
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
                                                        w,
                                                    );
                                                    routes +=
                                                        compare_routes(release, &case, &accesses)
                                                            - 1;
                                                    plans += 2;
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
    }
    let after_a = (routes, plans);
    // B: every challenge (per scheme and whole) over every credential class of both
    // targets × every registry class, with the facts that change who answers; Kerberos,
    // Q-12 and USE_STORED_CREDENTIALS.
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
                                for (kerberos, q12, stored) in [
                                    (true, ServiceProxyCredentials::Computer, false),
                                    (false, ServiceProxyCredentials::Computer, false),
                                    (true, ServiceProxyCredentials::None, false),
                                    (true, ServiceProxyCredentials::Computer, true),
                                ] {
                                    let mut w = World::plain(&every_challenge, IeSettings::Direct);
                                    w.kerberos = kerberos;
                                    w.q12 = q12;
                                    w.use_stored_credentials = stored;
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
                                        w,
                                    );
                                    for release in [Release::Win10_1607, Release::Win10_1809] {
                                        routes += compare_routes(release, &case, &challenges) - 1;
                                        plans += 2;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let after_b = (routes - after_a.0, plans - after_a.1);
    // C: whole challenges (X-3) over every subset of schemes for the server and for the
    // proxy, × credentials (one class per R-3/R-5 shape for each target) × Kerberos ×
    // USE_STORED_CREDENTIALS × Q-12, for owners and helpers of every R-6 class, with and
    // without NETWORK (and a missing helper: L-6 through a chosen scheme).
    let subsets: Vec<Vec<AuthScheme>> = (0u32..32)
        .map(|bits| {
            r::all_schemes()
                .into_iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, s)| s)
                .collect()
        })
        .collect();
    let cred_pairs: Vec<Vec<CredentialCall>> = {
        use AuthScheme::*;
        use AuthTarget::*;
        use Credential::*;
        vec![
            vec![],
            vec![(Server, Negotiate, Implicit)],
            vec![(Server, Ntlm, Implicit), (Proxy, Basic, Explicit)],
            vec![(Proxy, Negotiate, Implicit)],
            vec![(Proxy, Ntlm, Implicit), (Server, Digest, Explicit)],
            vec![(Server, Basic, Explicit), (Server, Passport, Explicit)],
            vec![(Proxy, Passport, Implicit), (Proxy, Digest, Explicit)],
            vec![(Server, Negotiate, Explicit), (Proxy, Negotiate, Implicit)],
        ]
    };
    let c_owners = [
        Sid::NETWORK_SERVICE,
        Sid::LOCAL_SERVICE,
        sid("S-1-5-21-1-2-3-1001"),
    ];
    let c_helpers = [None, Some(carol_sid()), Some(Sid::LOCAL_SYSTEM)];
    let mut whole_cases = 0usize;
    for server_set in &subsets {
        for proxy_set in &subsets {
            let offered: Vec<(AuthTarget, AuthScheme)> = server_set
                .iter()
                .map(|&s| (AuthTarget::Server, s))
                .chain(proxy_set.iter().map(|&s| (AuthTarget::Proxy, s)))
                .collect();
            for creds in &cred_pairs {
                for (kerberos, stored, q12) in [
                    (true, false, ServiceProxyCredentials::Computer),
                    (false, false, ServiceProxyCredentials::Computer),
                    (true, true, ServiceProxyCredentials::Computer),
                    (false, true, ServiceProxyCredentials::None),
                ] {
                    for owner in c_owners {
                        for helper in c_helpers {
                            for flags in [0, r::NETWORK] {
                                let mut w = World::plain(&offered, IeSettings::Direct);
                                w.kerberos = kerberos;
                                w.use_stored_credentials = stored;
                                w.q12 = q12;
                                let case = route_case(
                                    owner,
                                    flags,
                                    helper,
                                    false,
                                    Remote::Https,
                                    JobType::Download,
                                    creds,
                                    ProxyUsage::Override,
                                    (2, 3),
                                    w,
                                );
                                routes += compare_routes(Release::Win10_1809, &case, &wholes) - 1;
                                plans += 2;
                                whole_cases += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    report(&format!(
        "routing: {routes} routes and {plans} transfer plans compared; every route agrees, every plan agrees (A: every access x job fact: {} routes, {} plans; B: every challenge x credential class x registry x Kerberos/Q-12/USE_STORED_CREDENTIALS: {} routes, {} plans; C: whole challenges over 32 x 32 scheme subsets x 8 credential sets x Kerberos x USE_STORED_CREDENTIALS x Q-12 x owner x helper x NETWORK: {whole_cases} cases)",
        after_a.0, after_a.1, after_b.0, after_b.1
    ));
    assert!(
        routes >= 2_000_000 && plans >= 1_000_000 && whole_cases >= 500_000,
        "{routes} {plans} {whole_cases}"
    );
}

// ---------------------------------------------------------------------------------------
// Lifecycle events (L-5, L-7, L-8, L-12…L-14, Q-6, T-7) from every state
// ---------------------------------------------------------------------------------------

/// A lifecycle event, applied to the model's job and to the reference's.
type Ev<'a> = (
    String,
    Box<dyn Fn(&mut bits_helper_token::Job) -> Decision + 'a>,
    Box<dyn Fn(&mut r::Job) -> r::Answer + 'a>,
);

#[test]
fn lifecycle_events_agree_from_every_state() {
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
    // Takers: an elevated administrator logged on or not (L-7, L-11), a standard user, a
    // filtered administrator, LocalSystem, a restricted administrator; each at the default
    // level and ANONYMOUS.
    let takers: Vec<(&str, TokenInfo, bool)> = vec![
        ("admin", admin(), true),
        ("admin logged off", admin(), false),
        ("alice", alice(), true),
        ("admin filtered", filtered_admin(), true),
        ("system", TokenInfo::local_system(), true),
        ("admin restricted", admin_restricted(), true),
    ];
    let mut profiles = Vec::new();
    for &release in Release::ALL {
        for &take in TakeOwnership::ALL {
            for &token_check in TokenCheck::ALL {
                let mut k = Knobs::DEFAULT;
                k.take_ownership = take;
                k.token_check = token_check;
                profiles.push(Profile::new(release).with_knobs(k));
            }
        }
    }
    let mut events: Vec<Ev> = vec![
        (
            "logoff".into(),
            Box::new(|j| j.logoff_owner().into_inner()),
            Box::new(|j| j.logoff_owner()),
        ),
        (
            "logon".into(),
            Box::new(|j| j.logon_owner().into_inner()),
            Box::new(|j| j.logon_owner()),
        ),
        (
            "helper_session_ended".into(),
            Box::new(|j| j.helper_session_ended().into_inner()),
            Box::new(|j| j.helper_session_ended()),
        ),
        (
            "service_stop".into(),
            Box::new(|j| j.service_stop().into_inner()),
            Box::new(|j| j.helper_session_ended()),
        ),
        (
            "transfer".into(),
            Box::new(|j| j.transfer().into_inner()),
            Box::new(|j| j.transfer()),
        ),
        (
            "network_lost".into(),
            Box::new(|j| j.network_lost().into_inner()),
            Box::new(|j| j.network_lost()),
        ),
        (
            "network_restored".into(),
            Box::new(|j| j.network_restored().into_inner()),
            Box::new(|j| j.network_restored()),
        ),
    ];
    for &to in StartTo::ALL {
        events.push((
            format!("start_transfer {to:?}"),
            Box::new(move |j| j.start_transfer(to).into_inner()),
            Box::new(move |j| j.start_transfer(to)),
        ));
    }
    // The job methods by the owner as the job remembers it (contract §1.6).
    for (name, call, x_call) in [
        ("resume", JobCall::Resume, r::JobCall::Resume),
        ("suspend", JobCall::Suspend, r::JobCall::Suspend),
        ("cancel", JobCall::Cancel, r::JobCall::Cancel),
        ("complete", JobCall::Complete, r::JobCall::Complete),
    ] {
        events.push((
            name.into(),
            Box::new(move |j| {
                let c = Caller::owner_of(j.facts());
                j.call(&c, call).into_inner()
            }),
            Box::new(move |j| {
                let c = j.owner_caller(r::DEFAULT_LEVEL);
                j.job_call(&c, x_call).expect("not AddFile")
            }),
        ));
    }
    for (label, t, on) in &takers {
        for level in [
            ImpersonationLevel::Impersonate,
            ImpersonationLevel::Anonymous,
        ] {
            let on = *on || t.user.is_service_account();
            events.push((
                format!("take_ownership by {label} at {level:?}"),
                // A taker of the owner's own user shares the owner's logon state (L-11).
                Box::new(move |j| {
                    let on = if t.user == j.owner().sid {
                        j.owner_logged_on() || t.user.is_service_account()
                    } else {
                        on
                    };
                    let c = Caller::new(Identity::of(t))
                        .with_level(level)
                        .with_logged_on(on);
                    j.take_ownership_by(&c).into_inner()
                }),
                Box::new(move |j| {
                    if t.user != j.owner.sid {
                        j.set_logged_on(t.user, on);
                    }
                    let c = j.caller_of(t, level);
                    j.take_ownership(&c)
                }),
            ));
        }
    }
    let mut cases = 0usize;
    let mut seen = std::collections::BTreeMap::<&'static str, usize>::new();
    for &profile in &profiles {
        for owner in owners {
            for shape in shapes {
                for &state in JobState::ALL {
                    for flags in 0..4 {
                        for helper in helpers {
                            // (certificate, owner logged on, network, file)
                            for (certificate, logged_on, network, has_file) in [
                                (false, true, true, true),
                                (true, true, true, true),
                                (false, false, true, true),
                                (false, true, false, true),
                                (false, true, true, false),
                            ] {
                                let no_file_ok = matches!(
                                    state,
                                    JobState::Suspended
                                        | JobState::Cancelled
                                        | JobState::Acknowledged
                                );
                                if !has_file && !no_file_ok {
                                    continue;
                                }
                                if !logged_on && owner.sid.is_service_account() {
                                    continue; // L-11: always logged on
                                }
                                let case = JobCase {
                                    profile,
                                    owner,
                                    shape,
                                    state,
                                    flags,
                                    helper,
                                    certificate,
                                    owner_logged_on: logged_on,
                                    has_file,
                                    network,
                                    use_stored_credentials: false,
                                };
                                let pair = job_pair(&case);
                                for (name, model_event, ref_event) in &events {
                                    let (mut model, mut reference) = pair.clone();
                                    let m = model_event(&mut model);
                                    let x = ref_event(&mut reference);
                                    let context = || format!("{name} on {case:?}");
                                    assert_eq!(
                                        (m.hresult(), m.rule_id().name()),
                                        (x.hresult, x.rule),
                                        "{}; model rule: {}",
                                        context(),
                                        m.rule()
                                    );
                                    assert_eq!(
                                        shown_model(&model),
                                        shown_reference(&reference),
                                        "the job after {}: model (left), reference (right)",
                                        context()
                                    );
                                    *seen.entry(x.rule).or_default() += 1;
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
        "lifecycle: {cases} events compared from every state ({} events incl. suspend, start_transfer, network, take_ownership by 6 takers x 2 levels; 24 profiles), all agree; rules {seen:?}",
        events.len()
    ));
    assert!(cases >= 1_000_000, "{cases}");
}

// ---------------------------------------------------------------------------------------
// 2. Random scenarios
// ---------------------------------------------------------------------------------------

/// The floor of random steps in the default suite.
const DEFAULT_STEPS: usize = 200_000;

/// One model result in the reference's terms.
type Result_ = (
    HResult,
    &'static str,
    Option<r::StepValue>,
    bool,
    Option<(HResult, &'static str)>,
);

/// Replays one scenario both ways; `Err` describes the first disagreement; `Ok` the
/// steps compared.
fn replay(
    s: &Scenario,
    seen: &mut std::collections::BTreeMap<&'static str, usize>,
) -> Result<usize, String> {
    // A scenario that turns invalid at a step must turn invalid at the same step in both.
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
                scheme,
            } => {
                let whole = matches!(access, Access::WholeChallenge(_));
                r::StepValue::Route(
                    model_used(*principal, *sid, *access, *scheme),
                    if whole { *scheme } else { None },
                )
            }
            other => panic!("the comparison knows no value {other:?}"),
        });
        let mm: Result_ = (
            m.hresult,
            m.rule.name(),
            value,
            m.skipped,
            m.transfer_failure.map(|f| (f.hresult, f.rule.id.name())),
        );
        let xx: Result_ = (x.hresult, x.rule, x.value, x.skipped, x.transfer_failure);
        if mm != xx {
            return Err(format!(
                "step {} ({:?}): model {mm:?}, reference {xx:?}",
                i + 1,
                s.steps[i],
            ));
        }
    }
    for x in &x.results {
        *seen.entry(x.rule).or_default() += 1;
    }
    let m = shown_model(&t.job);
    let reference = shown_reference(&x.job);
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
    // Generated scenarios average about 14 steps; these case counts aim ~20% above the
    // floor, so the assertion below fails if the generator's scenarios shrink.
    let scale = target as f64 / DEFAULT_STEPS as f64;
    let default_cases = (10_000.0 * scale).ceil() as u32;
    let knob_cases = (7_000.0 * scale).ceil() as u32;

    let mut seen = std::collections::BTreeMap::new();
    let (s1, n1) = random_run(ScenarioParams::default(), default_cases, &mut seen);
    let mut knobs = ScenarioParams::default();
    knobs.random_knobs = true;
    let (s2, n2) = random_run(knobs, knob_cases, &mut seen);
    let steps = n1 + n2;
    report(&format!(
        "random scenarios: {steps} steps in {} scenarios compared ({n1} with default knobs, {n2} with random knobs); every step agrees",
        s1 + s2
    ));
    assert!(
        steps >= target,
        "only {steps} random steps were compared (floor {target})"
    );
    // The comparison is not vacuous: every rule of the SPEC decided some steps. (X-1 and
    // X-4 are left out: a transfer ending in them is rare in generated scenarios, and the
    // exhaustive plan and lifecycle comparisons cover them.)
    report(&format!(
        "random scenarios: steps per deciding rule {seen:?}"
    ));
    let rules = [
        "A-1", "A-2", "A-4", "A-5", "A-6", "A-7", "A-9", "A-11", "A-13", "A-14", "L-5", "L-6",
        "L-8", "L-9", "L-10", "L-12", "L-13", "L-14", "L-15", "Q-1", "Q-2", "Q-3", "Q-6", "Q-7",
        "R-1", "R-2", "R-3", "R-4", "R-5", "R-6", "R-7", "T-7", "R-0", "X-3",
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

// ---------------------------------------------------------------------------------------
// 3. The contract's worked lines (contract 3, §4), computed by hand from SPEC v3: the
//    reference must give them, and the model must agree with the reference.
// ---------------------------------------------------------------------------------------

const ALICE: &str = r#""alice": {"user": "S-1-5-21-1-2-3-1001"}"#;
const ADMIN: &str = r#""admin": {"user": "S-1-5-21-1-2-3-500", "groups": [{"sid": "S-1-5-32-544", "attributes": 15}]}"#;

/// (scenario line, expected (hresult, rule, skipped) per step).
/// A worked line: its name, its JSON, and each step's expected `(hresult, rule, skipped)`.
type WorkedLine = (&'static str, String, Vec<(u32, &'static str, bool)>);

fn worked_lines() -> Vec<WorkedLine> {
    vec![
        (
            "A",
            r#"{"tokens": {"admin_runas": {"user": "S-1-5-21-1-2-3-500", "groups": [{"sid": "S-1-5-32-544", "attributes": 15}], "logon": "secondary"}},
             "job": {"owner": "admin_runas", "files": 0},
             "steps": [{"op": "add_file"}, {"op": "resume"}, {"op": "logon_owner"},
                       {"op": "add_file"}, {"op": "resume"}, {"op": "transfer"}]}"#
                .to_string(),
            vec![
                (0x800704DD, "L-15", false),
                (0x80200003, "L-9", false),
                (0, "L-8", false),
                (0, "L-15", false),
                (0, "L-9", false),
                (0, "T-7", false),
            ],
        ),
        (
            "B",
            format!(
                r#"{{"tokens": {{{ALICE}}},
                 "job": {{"owner": "alice", "challenges": {{"server": ["basic", "negotiate"]}}}},
                 "steps": [{{"op": "set_credentials", "target": "server", "scheme": "basic", "credential": "explicit"}},
                           {{"op": "route", "access": "server_challenge"}},
                           {{"op": "route", "access": "server_challenge_negotiate"}},
                           {{"op": "resume"}}, {{"op": "transfer"}},
                           {{"op": "set_credentials", "target": "server", "scheme": "negotiate", "credential": "implicit"}},
                           {{"op": "route", "access": "server_challenge"}}]}}"#
            ),
            vec![
                (0, "R-5", false),
                (0, "R-5", false),
                (0x80190191, "R-3", false),
                (0, "L-9", false),
                (0, "T-7", false),
                (0, "R-3", false),
                (0, "R-2", false),
            ],
        ),
        (
            "C",
            format!(
                r#"{{"tokens": {{{ALICE}, {ADMIN}}},
                 "job": {{"owner": "alice"}},
                 "steps": [{{"op": "resume"}}, {{"op": "start_transfer"}}, {{"op": "network_lost"}}, {{"op": "network_restored"}},
                           {{"op": "start_transfer", "to": "connecting"}}, {{"op": "logoff_owner"}}, {{"op": "transfer"}},
                           {{"op": "take_ownership", "caller": "admin"}}, {{"op": "transfer"}}]}}"#
            ),
            vec![
                (0, "L-9", false),
                (0, "L-14", false),
                (0, "L-13", false),
                (0, "L-13", false),
                (0, "L-14", false),
                (0, "L-8", false),
                (1, "L-8", false),
                (0, "Q-6", false),
                (0, "T-7", false),
            ],
        ),
        (
            "D",
            format!(
                r#"{{"tokens": {{{ALICE}, {ADMIN}, "bob": {{"user": "S-1-5-21-1-2-3-1002"}},
                             "alice_restricted": {{"user": "S-1-5-21-1-2-3-1001", "restricting_sids": ["S-1-5-12"]}}}},
                 "job": {{"owner": "alice"}},
                 "steps": [{{"op": "cancel", "caller": "alice_restricted"}},
                           {{"op": "set_credentials", "caller": "admin", "target": "server", "scheme": "ntlm", "credential": "implicit"}},
                           {{"op": "set_proxy_usage", "caller": "admin", "usage": "override"}},
                           {{"op": "set_proxy_usage", "caller": "bob", "usage": "no_proxy"}},
                           {{"op": "query_interface", "caller": "bob", "handle": 1}},
                           {{"op": "get_helper_token_flags", "handle": 1}},
                           {{"op": "query_interface", "caller": "alice", "handle": 2, "level": "anonymous"}},
                           {{"op": "query_interface", "caller": "alice", "handle": 3}},
                           {{"op": "set_helper_token", "handle": 3, "impersonating": "bob", "level": "identify"}}]}}"#
            ),
            vec![
                (0x80070005, "A-14", false),
                (0x80070005, "A-13", false),
                (0, "R-7", false),
                (0x80070005, "A-13", false),
                (0x80070005, "A-5", false),
                (0x80070005, "A-5", true),
                (0x80070005, "A-9", false),
                (0, "A-1", false),
                (0x80010123, "A-9", false),
            ],
        ),
        (
            "E",
            r#"{"tokens": {"svc": {"user": "S-1-5-20"}},
             "job": {"owner": "svc", "proxy": "override", "challenges": {"proxy": ["ntlm"], "server": ["negotiate"]}},
             "steps": [{"op": "set_credentials", "target": "proxy", "scheme": "negotiate", "credential": "implicit"},
                       {"op": "route", "access": "proxy_challenge"},
                       {"op": "route", "access": "proxy_challenge_ntlm"},
                       {"op": "route", "access": "server_challenge"},
                       {"op": "resume"}, {"op": "transfer"}]}"#
                .to_string(),
            vec![
                (0, "R-3", false),
                (0, "R-6", false),
                (0, "R-6", false),
                (0, "R-6", false),
                (0, "L-9", false),
                (0, "T-7", false),
            ],
        ),
        (
            "E (service_proxy_credentials none)",
            r#"{"knobs": {"service_proxy_credentials": "none"}, "tokens": {"svc": {"user": "S-1-5-20"}},
             "job": {"owner": "svc", "proxy": "override", "challenges": {"proxy": ["ntlm"], "server": ["negotiate"]}},
             "steps": [{"op": "set_credentials", "target": "proxy", "scheme": "negotiate", "credential": "implicit"},
                       {"op": "route", "access": "proxy_challenge"},
                       {"op": "route", "access": "proxy_challenge_ntlm"},
                       {"op": "route", "access": "server_challenge"},
                       {"op": "resume"}, {"op": "transfer"}]}"#
                .to_string(),
            vec![
                (0, "R-3", false),
                (0x80190197, "X-3", false),
                (0x80190197, "Q-12", false),
                (0, "R-6", false),
                (0, "L-9", false),
                (0x80190197, "X-3", false),
            ],
        ),
        (
            "E (kerberos false)",
            r#"{"environment": {"kerberos": false}, "tokens": {"svc": {"user": "S-1-5-20"}},
             "job": {"owner": "svc", "proxy": "override", "challenges": {"proxy": ["ntlm"], "server": ["negotiate"]}},
             "steps": [{"op": "set_credentials", "target": "proxy", "scheme": "negotiate", "credential": "implicit"},
                       {"op": "route", "access": "proxy_challenge"},
                       {"op": "route", "access": "proxy_challenge_ntlm"},
                       {"op": "route", "access": "server_challenge"},
                       {"op": "resume"}, {"op": "transfer"}]}"#
                .to_string(),
            vec![
                (0, "R-3", false),
                (0x80190197, "X-3", false),
                (0x80190197, "R-6", false),
                (0x80190191, "X-3", false),
                (0, "L-9", false),
                (0x80190197, "X-3", false),
            ],
        ),
    ]
}

#[test]
fn the_contracts_worked_lines_agree() {
    let mut seen = std::collections::BTreeMap::new();
    let mut steps = 0;
    for (name, line, expected) in worked_lines() {
        let s: Scenario = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("worked line {name} parses: {e}"));
        let x = r::run(&s).unwrap_or_else(|e| panic!("worked line {name} is valid ({e})"));
        let got: Vec<(u32, &str, bool)> = x
            .results
            .iter()
            .map(|a| (a.hresult.as_u32(), a.rule, a.skipped))
            .collect();
        assert_eq!(
            got, expected,
            "the reference on the contract's worked line {name}"
        );
        steps += replay(&s, &mut seen).unwrap_or_else(|e| panic!("worked line {name}: {e}"));
    }
    report(&format!(
        "contract worked lines: {} lines, {steps} steps; the reference gives the contract's answers",
        worked_lines().len()
    ));
}
