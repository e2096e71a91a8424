//! Exhaustive classes of the dimensions `tests/exhaustive.rs` does not walk: integrity
//! levels and elevation of caller and owner (the access gate, A-11) with Q-9, the lifecycle
//! decisions (logoff, logon, helper-session end, service stop, resume, transfer, cancel,
//! complete, TakeOwnership) with, and the network (challenges × credentials ×
//! proxy usage × IE settings, X-3, R-7). Every class of each dimension is enumerated, but
//! for the 1,024 challenge combinations, stood for by 24 (no scheme, each alone, two, all
//! five for the server; none, one, all for the proxy). Each test prints its count
//! (`cargo test --test all exhaustive_gate_lifecycle_network:: -- --nocapture`).
//!
//! Properties: fail closed (a refusal returns a failure code, changes nothing and gives no
//! value), determinism, administrators never pass A-11 by being administrators (the gate
//! decides the same with the Administrators bit flipped), A-10's order (no interface
//! first, then the gate, and a refusal for state or arguments only after access was
//! granted), and the job invariants after every allowed event (ERROR exactly with an
//! error; a done job keeps its state, error and flags; only TakeOwnership changes the owner;
//! a transfer that runs ends as its plan says).

use bits_helper_token::{decide::*, job::*, net::*, profile::*, sid::*, token::*, *};

fn sid(rid: u32) -> Sid {
    Sid::new(5, &[21, 1, 2, 3, rid]).unwrap()
}

/// Every release with the knobs that touch these rules: Q-9 × Q-2 × Q-8 × Q-6 × Q-3.
fn profiles() -> Vec<Profile> {
    let mut out = Vec::new();
    for &release in Release::ALL {
        for &access_check in AccessCheck::ALL {
            for &admin_bypass in AdminBypass::ALL {
                for &token_check in TokenCheck::ALL {
                    for &take_ownership in TakeOwnership::ALL {
                        for &done_jobs in DoneJobs::ALL {
                            for &integrity_reads in IntegrityReads::ALL {
                                let mut k = Knobs::DEFAULT;
                                k.integrity_reads = integrity_reads;
                                k.access_check = access_check;
                                k.admin_bypass = admin_bypass;
                                k.token_check = token_check;
                                k.take_ownership = take_ownership;
                                k.done_jobs = done_jobs;
                                out.push(Profile::new(release).with_knobs(k));
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// A-11, stated independently of the model: the gate refuses a caller below the job's
/// integrity level, or a non-elevated caller on an elevated owner's job.
fn gate_refuses(caller: Identity, owner: Identity) -> bool {
    caller.integrity < owner.integrity || (owner.elevated && !caller.elevated)
}

/// A-11 (SPEC v3) on one call, stated independently of the model: (a) a caller below the
/// job's integrity level is refused a change, and a read only under Q-10 `refuse` (then
/// Q-10 names the refusal); (b) a non-elevated caller on an elevated owner's job is refused
/// reads and changes.
fn gate_rule(p: &Profile, caller: Identity, owner: Identity, read: bool) -> Option<RuleId> {
    if caller.integrity < owner.integrity {
        if !read {
            return Some(RuleId::A11);
        }
        if p.knobs.integrity_reads == IntegrityReads::Refuse {
            return Some(RuleId::Q10);
        }
    }
    (owner.elevated && !caller.elevated).then_some(RuleId::A11)
}

/// The gate's rule in a decision, if the gate decided it.
fn gate_of(d: &Decision) -> Option<RuleId> {
    matches!(d.rule_id(), RuleId::A11 | RuleId::Q10).then_some(d.rule_id())
}

fn fail_closed(d: &Decision, what: &dyn Fn() -> String) {
    // A transfer that fails is an outcome, not a refused call: the job takes the error.
    if d.operation() == Operation::Event(Event::Transfer) && !d.is_allowed() {
        assert_eq!(
            d.effect(),
            match d.effect() {
                Effect::Fail(e) if e.hresult == d.hresult() => d.effect(),
                _ => Effect::Unchanged,
            },
            "{}",
            what()
        );
        return;
    }
    if d.is_allowed() {
        assert!(
            d.hresult().is_success(),
            "an allowed decision with a failure code: {}",
            what()
        );
    } else {
        assert!(
            d.hresult().is_failure(),
            "a refusal that succeeds: {}",
            what()
        );
        assert_eq!(
            d.effect(),
            Effect::Unchanged,
            "a refusal changes: {}",
            what()
        );
        assert!(d.value().is_none(), "a refusal with a value: {}", what());
    }
}

/// Every identity class: user SID owner or other, administrator or not, elevated or not,
/// at every integrity level.
fn identities(owner: Sid) -> Vec<Identity> {
    let mut out = Vec::new();
    for s in [owner, sid(1002)] {
        for admin in [false, true] {
            for elevated in [false, true] {
                for &integrity in IntegrityLevel::ALL {
                    out.push(
                        Identity::new(s, admin)
                            .with_elevated(elevated)
                            .with_integrity(integrity),
                    );
                }
            }
        }
    }
    out
}

#[test]
fn a11_the_gate_over_every_integrity_level_and_elevation() {
    let owner_sid = sid(1001);
    let callers = identities(owner_sid);
    let mut owners = Vec::new();
    for elevated in [false, true] {
        for &integrity in IntegrityLevel::ALL {
            owners.push(
                Identity::new(owner_sid, false)
                    .with_elevated(elevated)
                    .with_integrity(integrity),
            );
        }
    }
    let profiles: Vec<Profile> = profiles()
        .into_iter()
        .filter(|p| {
            // do not touch the methods: their defaults stand for them.
            p.knobs.take_ownership == Knobs::DEFAULT.take_ownership
                && p.knobs.token_check == Knobs::DEFAULT.token_check
        })
        .collect();
    let helper = Identity::new(sid(1003), false);
    let mut cases = 0u64;
    for p in &profiles {
        for owner in &owners {
            for &state in [JobState::Suspended, JobState::Error, JobState::Acknowledged].iter() {
                let job = JobFacts::new(*owner)
                    .with_state(state)
                    .with_helper(Some(helper))
                    .with_flags(TokenUsage::NETWORK);
                for &caller in &callers {
                    let what = || format!("{p:?}, caller {caller:?}, job {job:?}");
                    let gate = gate_refuses(caller, *owner);
                    let flipped = Identity {
                        admin: !caller.admin,
                        ..caller
                    };
                    let imp = Impersonation::Allowed(helper);
                    let decisions = [
                        set_helper_token_flags(p, caller, &job, 1),
                        set_helper_token_flags(p, caller, &job, 0x10),
                        get_helper_token_flags(p, caller, &job),
                        set_helper_token(p, caller, &job, imp),
                        set_helper_token(p, caller, &job, Impersonation::Denied),
                        clear_helper_token(p, caller, &job),
                        get_helper_token_sid(p, caller, &job),
                    ];
                    let again = [
                        set_helper_token_flags(p, flipped, &job, 1),
                        set_helper_token_flags(p, flipped, &job, 0x10),
                        get_helper_token_flags(p, flipped, &job),
                        set_helper_token(p, flipped, &job, imp),
                        set_helper_token(p, flipped, &job, Impersonation::Denied),
                        clear_helper_token(p, flipped, &job),
                        get_helper_token_sid(p, flipped, &job),
                    ];
                    // The three reads are GetHelperTokenFlags (2) and GetHelperTokenSid (6).
                    for (i, (d, f)) in decisions.iter().zip(&again).enumerate() {
                        let expected = gate_rule(p, caller, *owner, i == 2 || i == 6);
                        cases += 2;
                        fail_closed(d, &what);
                        // no interface comes first.
                        if p.release == Release::PreBits4 {
                            assert_eq!(d.rule_id(), RuleId::A2, "{}", what());
                            continue;
                        }
                        // A-11 (or Q-10) exactly where the gate refuses, before every other rule.
                        assert_eq!(gate_of(d), expected, "{d}: {}", what());
                        if expected.is_some() {
                            assert_eq!(d.hresult(), HResult::E_ACCESSDENIED, "{}", what());
                        }
                        // Administrators never pass the gate by being administrators.
                        assert_eq!(
                            gate_of(f),
                            gate_of(d),
                            "the Administrators bit changed A-11: {d} vs {f}: {}",
                            what()
                        );
                        // A refusal for state, arguments or impersonation comes after access.
                        if matches!(d.rule_id(), RuleId::Q3 | RuleId::Q1 | RuleId::A9) {
                            assert!(expected.is_none(), "{d} before the gate: {}", what());
                        }
                    }
                    // Determinism.
                    assert_eq!(decisions[0], set_helper_token_flags(p, caller, &job, 1));
                    // TakeOwnership is guarded by the gate too; QueryInterface only under Q-9.
                    let take = take_ownership(p, caller, &job);
                    fail_closed(&take, &what);
                    if gate && p.release != Release::PreBits4 {
                        assert!(!take.is_allowed(), "{take}: {}", what());
                    }
                    let qi = query_interface(p, caller, &job);
                    fail_closed(&qi, &what);
                    if p.release != Release::PreBits4 {
                        // QueryInterface is a read, judged there only under Q-9.
                        let at_qi = p.knobs.access_check == AccessCheck::QueryInterface;
                        let expected = gate_rule(p, caller, *owner, true).filter(|_| at_qi);
                        assert_eq!(gate_of(&qi), expected, "{qi}: {}", what());
                    }
                    cases += 3;
                }
            }
        }
    }
    println!(
        "A-11: {} profiles x {} owners x 3 states x {} callers: {cases} decisions",
        profiles.len(),
        owners.len(),
        callers.len()
    );
    assert!(cases > 1_000_000, "{cases}");
}

/// Every event, on every job class: the decision applied to the facts keeps the job's
/// invariants.
#[test]
fn lifecycle_events_over_every_job_class() {
    let user = Identity::new(sid(1001), false);
    let owners = [
        user,
        Identity::new(sid(500), true).with_integrity(IntegrityLevel::High),
        Identity::LOCAL_SYSTEM,
        Identity::NETWORK_SERVICE,
    ];
    let takers = [
        user,
        Identity::new(sid(1002), false),
        Identity::new(sid(500), true).with_integrity(IntegrityLevel::High),
        Identity::new(sid(500), true)
            .with_elevated(false)
            .with_integrity(IntegrityLevel::Medium),
        Identity::LOCAL_SYSTEM,
    ];
    let profiles = profiles();
    let mut jobs = Vec::new();
    for owner in owners {
        for &state in JobState::ALL {
            for flags in [
                TokenUsage::empty(),
                TokenUsage::LOCAL_FILE,
                TokenUsage::NETWORK,
            ] {
                for helper in [None, Some(Identity::new(sid(1003), false))] {
                    for logged_on in [true, false] {
                        for &remote in Remote::ALL {
                            let mut job = JobFacts::new(owner)
                                .with_state(state)
                                .with_flags(flags)
                                .with_helper(helper)
                                .with_remote(remote);
                            // A job in ERROR has an error (here L-5's).
                            if state == JobState::Error {
                                job.error = JobError::of(Reason::TokenRequiredAfterLogoff);
                            }
                            // The service accounts never log off (L-8).
                            job.owner_logged_on = logged_on
                                || [Sid::LOCAL_SYSTEM, Sid::LOCAL_SERVICE, Sid::NETWORK_SERVICE]
                                    .contains(&owner.sid);
                            for cert in [false, true] {
                                jobs.push(job.with_client_certificate(cert));
                            }
                        }
                    }
                }
            }
        }
    }
    let mut cases = 0u64;
    for p in &profiles {
        for job in &jobs {
            let mut decisions: Vec<(&str, Decision)> = vec![
                ("logoff_owner", logoff_owner(job)),
                ("logon_owner", logon_owner(job)),
                ("helper_session_ended", helper_session_ended(job)),
                ("service_stop", service_stop(job)),
                ("resume", resume(job)),
                ("transfer", transfer(p, job)),
                ("cancel", cancel(job)),
                ("complete", complete(job)),
            ];
            for t in takers {
                decisions.push(("take_ownership", take_ownership(p, t, job)));
            }
            for (name, d) in decisions {
                cases += 1;
                let what = || format!("{name} on {job:?} under {p:?}: {d}");
                fail_closed(&d, &what);
                let mut after = *job;
                after.apply(&d.effect());
                // ERROR exactly when there is an error.
                assert_eq!(
                    after.state == JobState::Error,
                    after.error.is_some(),
                    "{}",
                    what()
                );
                // A done job keeps its state, error and flags (T-7); only facts of the
                // world around it (the owner's logon, L-8) move.
                if matches!(job.state, JobState::Acknowledged | JobState::Cancelled) {
                    assert_eq!(
                        (after.state, after.error, after.flags),
                        (job.state, job.error, job.flags),
                        "a done job changed: {}",
                        what()
                    );
                }
                // Only TakeOwnership changes the owner.
                if name != "take_ownership" {
                    assert_eq!(after.owner, job.owner, "{}", what());
                }
                // A transfer that runs ends as its plan says: failed with the plan's
                // error, or done without one.
                if name == "transfer" {
                    let planned = transfer_plan(p, job).outcome().failure();
                    match d.effect() {
                        Effect::Fail(e) => assert_eq!(planned, Some(e), "{}", what()),
                        _ if d.hresult() == HResult::S_OK => {
                            assert_eq!(planned, None, "{}", what());
                        }
                        _ => {}
                    }
                }
                // Determinism.
                if name == "resume" {
                    assert_eq!(d, resume(job));
                }
            }
        }
    }
    println!(
        "lifecycle: {} profiles x {} jobs x 13 events: {cases} decisions",
        profiles.len(),
        jobs.len()
    );
    assert!(cases > 1_000_000, "{cases}");
}

/// Every access and the whole transfer plan over challenges × credentials × proxy usage ×
/// IE settings × UseLMCompat, for owners and helpers of every kind.
#[test]
fn routes_over_challenges_credentials_and_proxy_settings() {
    let mut challenge_sets = Vec::new();
    // No scheme, each scheme alone, two, all five: for the server, and three for the proxy.
    for server in [0u32, 1, 2, 4, 8, 16, 0b01001, 0b11111] {
        for proxy in [0u32, 0b00100, 0b11111] {
            let mut c = Challenges::NONE;
            for (i, &s) in AuthScheme::ALL.iter().enumerate() {
                if server & (1 << i) != 0 {
                    c = c.with(AuthTarget::Server, s);
                }
                if proxy & (1 << i) != 0 {
                    c = c.with(AuthTarget::Proxy, s);
                }
            }
            challenge_sets.push(c);
        }
    }
    let credential_sets = [
        Credentials::NONE,
        Credentials::NONE
            .set(
                AuthTarget::Server,
                AuthScheme::Negotiate,
                Credential::Implicit,
            )
            .unwrap(),
        Credentials::NONE
            .set(AuthTarget::Server, AuthScheme::Basic, Credential::Explicit)
            .unwrap()
            .set(AuthTarget::Proxy, AuthScheme::Ntlm, Credential::Implicit)
            .unwrap(),
    ];
    let owners = [
        Identity::new(sid(1001), false),
        Identity::LOCAL_SYSTEM,
        Identity::NETWORK_SERVICE,
        Identity::LOCAL_SERVICE,
    ];
    let mut cases = 0u64;
    let mut principals = std::collections::HashSet::new();
    for &release in Release::ALL {
        for &token_check in TokenCheck::ALL {
            let mut profile = Profile::new(release);
            profile.knobs.token_check = token_check;
            for owner in owners {
                for flags in [TokenUsage::empty(), TokenUsage::NETWORK, TokenUsage::all()] {
                    for helper in [None, Some(Identity::new(sid(1003), false))] {
                        for &challenges in &challenge_sets {
                            for credentials in credential_sets {
                                for &proxy in ProxyUsage::ALL {
                                    for &ie in IeSettings::ALL {
                                        for use_lm in UseLmCompat::ALL {
                                            let mut job = JobFacts::new(owner)
                                                .with_flags(flags)
                                                .with_helper(helper)
                                                .with_challenges(challenges)
                                                .with_credentials(credentials)
                                                .with_proxy(proxy);
                                            job.ie_settings = ie;
                                            job.environment =
                                                job.environment.with_use_lm_compat(use_lm);
                                            for &access in Access::ALL {
                                                let r = route(&profile, &job, access);
                                                cases += 1;
                                                principals.insert(r.principal);
                                                let ctx = || format!("{r:?} {job:?}");
                                                // The helper is used (or missed, L-6)
                                                // only for a flag the job sets.
                                                if matches!(
                                                    r.principal,
                                                    Principal::Helper | Principal::MissingHelper
                                                ) {
                                                    assert!(!job.flags.is_empty(), "{}", ctx());
                                                    assert_eq!(
                                                        r.principal == Principal::Helper,
                                                        job.helper.is_some(),
                                                        "{}",
                                                        ctx()
                                                    );
                                                }
                                                // Explicit credentials only where set.
                                                if r.principal == Principal::ExplicitCredentials {
                                                    let t = access
                                                        .challenge_target()
                                                        .expect("a challenge");
                                                    let s = r.scheme.expect("a scheme");
                                                    assert_eq!(
                                                        job.credentials.get(t, s),
                                                        Some(Credential::Explicit),
                                                        "{}",
                                                        ctx()
                                                    );
                                                }
                                                // Only a missing helper or an unanswered
                                                // challenge fails (L-6, X-3).
                                                if r.failure().is_some() {
                                                    assert!(
                                                        matches!(
                                                            r.principal,
                                                            Principal::MissingHelper
                                                                | Principal::NoCredentials
                                                                | Principal::Anonymous
                                                                | Principal::Unanswered
                                                        ),
                                                        "{}",
                                                        ctx()
                                                    );
                                                }
                                                // a whole challenge is answered in
                                                // the strongest offered scheme whose own
                                                // route answers; unanswered when none does.
                                                if let Access::WholeChallenge(t) = access {
                                                    check_whole_challenge(&profile, &job, t, &r);
                                                }
                                                if r.principal == Principal::MissingHelper {
                                                    assert_eq!(
                                                        r.failure().map(|e| e.hresult),
                                                        Some(HResult::BG_E_TOKEN_REQUIRED),
                                                        "{}",
                                                        ctx()
                                                    );
                                                }
                                            }
                                            let plan = transfer_plan(&profile, &job);
                                            cases += 1;
                                            // A plan with a failing step fails with
                                            // that step's error.
                                            if let Some(step) = plan.failing_step() {
                                                assert_eq!(
                                                    plan.outcome().failure(),
                                                    step.failure(),
                                                    "{plan:?}"
                                                );
                                            }
                                            assert_eq!(plan, transfer_plan(&profile, &job));
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
    println!(
        "routing: {} challenge sets x {} credential sets x proxy x IE x UseLMCompat x whole challenges: {cases} routes and plans ({} principals seen)",
        challenge_sets.len(),
        credential_sets.len(),
        principals.len()
    );
    assert!(principals.len() >= 6, "{principals:?}");
    assert!(cases > 1_000_000, "{cases}");
}

/// X-3 (SPEC v3): the whole challenge of `target` against its per-scheme routes. Answered
/// exactly when an offered scheme is answerable (explicit credentials, the owner, the
/// helper, the computer, or a missing helper that then fails with L-6), in the strongest
/// such scheme (Negotiate > NTLM > Passport > Digest > Basic) and as that scheme's route
/// says; otherwise unanswered, with 401 or 407. Not applicable when the per-scheme routes
/// all are.
fn check_whole_challenge(profile: &Profile, job: &JobFacts, target: AuthTarget, r: &Route) {
    let order = [
        AuthScheme::Negotiate,
        AuthScheme::Ntlm,
        AuthScheme::Passport,
        AuthScheme::Digest,
        AuthScheme::Basic,
    ];
    let per: Vec<(AuthScheme, Route)> = order
        .iter()
        .map(|&s| (s, route(profile, job, Access::challenge(target, s))))
        .filter(|(_, one)| one.principal != Principal::NotApplicable)
        .collect();
    if per.is_empty() {
        assert_eq!(r.principal, Principal::NotApplicable, "{r:?} {job:?}");
        return;
    }
    let answers = |p: Principal| {
        matches!(
            p,
            Principal::ExplicitCredentials
                | Principal::Owner
                | Principal::Helper
                | Principal::Computer
                | Principal::MissingHelper
        )
    };
    match per.iter().find(|(_, one)| answers(one.principal)) {
        Some((scheme, one)) => {
            assert_eq!(r.scheme, Some(*scheme), "{r:?} {job:?}");
            assert_eq!((r.principal, r.rule), (one.principal, one.rule), "{r:?}");
        }
        None => {
            assert_eq!(r.principal, Principal::Unanswered, "{r:?} {job:?}");
            let code = match target {
                AuthTarget::Server => HResult::BG_E_HTTP_ERROR_401,
                AuthTarget::Proxy => HResult::BG_E_HTTP_ERROR_407,
            };
            assert_eq!(r.failure().map(|f| f.hresult), Some(code));
            assert_eq!(r.rule.id, RuleId::X3);
        }
    }
}
