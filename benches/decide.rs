//! Criterion benches: every decision function (the five methods and the lifecycle),
//! `route`, `transfer_plan`, `Sid` codecs and whole scenarios. Each decision is measured next
//! to a **baseline**: a minimal hand-written function over the *same inputs* (the same
//! `Profile`, `Identity` and `JobFacts`, so SIDs are compared as SIDs) that returns the
//! same `(HResult, RuleId)` for the default knobs, with no explanation, no effect and no
//! knob lookups. The ratio is the model's overhead for being general and explainable.
//!
//! ```sh
//! cargo bench --bench decide                 # full run
//! scripts/bench-table                        # the results table from the last run
//! ```

use bits_helper_token::scenario::{HandleName, Scenario, Step};
use bits_helper_token::*;
use criterion::{BenchmarkId, Criterion, black_box, criterion_group, criterion_main};
use std::fmt::Write;
use std::time::Duration;

fn sid(s: &str) -> Sid {
    s.parse().unwrap()
}

// ---- baselines: the same answers, written by hand for the default knobs -----------------

type Answer = (HResult, RuleId);

/// A-2, A-4, A-5, A-6: the refusal, if any.
fn baseline_access(p: &Profile, caller: Identity, job: &JobFacts, veto: bool) -> Option<Answer> {
    match p.release {
        Release::PreBits4 => Some((HResult::E_NOINTERFACE, RuleId::A2)),
        Release::Legacy if !caller.admin => Some((HResult::E_ACCESSDENIED, RuleId::A4)),
        Release::Legacy => None,
        _ if caller.admin => None,
        _ if caller.sid != job.owner.sid => Some((HResult::E_ACCESSDENIED, RuleId::A5)),
        _ if veto && job.helper.is_some_and(|h| h.admin) => {
            Some((HResult::E_ACCESSDENIED, RuleId::A6))
        }
        _ => None,
    }
}

fn baseline_granted(p: &Profile, caller: Identity) -> Answer {
    let id = match p.release {
        Release::Legacy => RuleId::A4,
        _ if caller.admin => RuleId::Q2,
        _ => RuleId::A5,
    };
    (HResult::S_OK, id)
}

fn done(job: &JobFacts) -> bool {
    matches!(job.state, JobState::Acknowledged | JobState::Cancelled)
}

fn baseline_set_flags(p: &Profile, caller: Identity, job: &JobFacts, flags: u32) -> (Answer, bool) {
    if let Some(refused) = baseline_access(p, caller, job, true) {
        return (refused, false);
    }
    if done(job) {
        return ((HResult::BG_E_INVALID_STATE, RuleId::Q3), false);
    }
    if flags & !3 != 0 {
        return ((HResult::E_INVALIDARG, RuleId::Q1), false);
    }
    // X-1, predicted.
    let x1 = job.client_certificate
        && flags & 2 != 0
        && job.remote != Remote::Smb
        && job.owner.sid != Sid::LOCAL_SYSTEM;
    (baseline_granted(p, caller), x1)
}

fn baseline_getter(p: &Profile, caller: Identity, job: &JobFacts) -> Answer {
    baseline_access(p, caller, job, false).unwrap_or_else(|| baseline_granted(p, caller))
}

fn baseline_set_token(p: &Profile, caller: Identity, job: &JobFacts, new: Identity) -> Answer {
    if let Some(refused) = baseline_access(p, caller, job, false) {
        return refused;
    }
    if done(job) {
        return (HResult::BG_E_INVALID_STATE, RuleId::Q3);
    }
    if p.release != Release::Legacy && new.admin && !caller.admin {
        return (HResult::E_ACCESSDENIED, RuleId::A7);
    }
    baseline_granted(p, caller)
}

/// L-5 always answers `S_OK`; the job error it sets depends on the state and flags.
fn baseline_logoff(job: &JobFacts) -> (Answer, Option<Answer>) {
    let fails = !matches!(
        job.state,
        JobState::Transferred | JobState::Acknowledged | JobState::Cancelled
    ) && !job.flags.is_empty();
    let error = fails.then_some((HResult::BG_E_TOKEN_REQUIRED, RuleId::L5));
    ((HResult::S_OK, RuleId::L5), error)
}

fn baseline_resume(job: &JobFacts) -> Answer {
    match job.state {
        JobState::Acknowledged | JobState::Cancelled => (HResult::BG_E_INVALID_STATE, RuleId::T7),
        JobState::Suspended | JobState::Error | JobState::TransientError => {
            (HResult::S_OK, RuleId::T7)
        }
        _ => (HResult::S_FALSE, RuleId::T7),
    }
}

fn baseline_take_ownership(caller: Identity, job: &JobFacts) -> Answer {
    if done(job) {
        (HResult::BG_E_INVALID_STATE, RuleId::T7)
    } else if caller.admin {
        (HResult::S_OK, RuleId::Q6)
    } else {
        (HResult::E_ACCESSDENIED, RuleId::L7)
    }
}

/// A route by hand: 0 owner, 1 helper, 2 missing helper, 3 computer, 4 anonymous,
/// 5 explicit, 6 nobody, 7 not made.
fn baseline_route(p: &Profile, job: &JobFacts, access: Access) -> (u8, RuleId) {
    let http = job.remote != Remote::Smb;
    let by_flag = |flag: TokenUsage, id: RuleId| {
        if !job.flags.contains(flag) {
            (0, id)
        } else if job.helper.is_some() {
            (1, id)
        } else {
            (2, RuleId::L6)
        }
    };
    let service = |otherwise: (u8, RuleId)| {
        if job.owner.sid == Sid::LOCAL_SYSTEM || job.owner.sid == Sid::NETWORK_SERVICE {
            (3, RuleId::R6)
        } else if job.owner.sid == Sid::LOCAL_SERVICE {
            (4, RuleId::R6)
        } else {
            otherwise
        }
    };
    match access {
        Access::UploadLocalFile if job.job_type == JobType::Download => (7, RuleId::R1),
        Access::DownloadTempFileCreate | Access::DownloadTempFileRename
            if job.job_type != JobType::Download =>
        {
            (7, RuleId::R1)
        }
        Access::ReplyFileCreate | Access::ReplyFileRename
            if job.job_type != JobType::UploadReply =>
        {
            (7, RuleId::R1)
        }
        Access::UploadLocalFile
        | Access::DownloadTempFileCreate
        | Access::DownloadTempFileRename
        | Access::ReplyFileCreate
        | Access::ReplyFileRename => by_flag(TokenUsage::LOCAL_FILE, RuleId::R1),
        Access::SmbRemoteFile if http => (7, RuleId::R2),
        Access::SmbRemoteFile if job.flags.contains(TokenUsage::NETWORK) => {
            by_flag(TokenUsage::NETWORK, RuleId::R2)
        }
        Access::SmbRemoteFile => service((0, RuleId::R2)),
        Access::ProxyAutoDetect if !http || job.proxy != ProxyUsage::Autodetect => (7, RuleId::R7),
        Access::ProxyIeSettings if !http || job.proxy != ProxyUsage::Preconfig => (7, RuleId::R7),
        Access::ProxyIeSettings
            if job.flags.contains(TokenUsage::NETWORK) && p.release != Release::Win10_1809 =>
        {
            (0, RuleId::R7)
        }
        Access::ProxyAutoDetect | Access::ProxyIeSettings => {
            by_flag(TokenUsage::NETWORK, RuleId::R7)
        }
        Access::ClientCertificateKey if !http || !job.client_certificate => (7, RuleId::R4),
        Access::ClientCertificateKey => (0, RuleId::R4),
        Access::ProxyChallenge(_) if !http || job.proxy == ProxyUsage::NoProxy => (7, RuleId::R2),
        Access::ServerChallenge(_) if !http => (7, RuleId::R2),
        Access::ProxyChallenge(s) | Access::ServerChallenge(s) => {
            let (target, _) = access.as_challenge().unwrap_or((AuthTarget::Server, s));
            if job.credentials.get(target, s) == Some(Credential::Explicit) {
                return (5, RuleId::R5);
            }
            if !matches!(s, AuthScheme::Ntlm | AuthScheme::Negotiate) {
                return (6, RuleId::R3);
            }
            let c = &job.credentials;
            let allowed = c.has_implicit(target)
                || (target == AuthTarget::Server
                    && c.has_implicit(AuthTarget::Proxy)
                    && !c.has_explicit(AuthTarget::Server))
                || job.environment.use_lm_compat == UseLmCompat::Always
                || (job.environment.use_lm_compat == UseLmCompat::WhenLmCompatibilityLevel2
                    && job.environment.lm_compatibility_level.value() >= 2);
            if !allowed {
                (6, RuleId::R3)
            } else if job.flags.contains(TokenUsage::NETWORK) {
                by_flag(TokenUsage::NETWORK, RuleId::R2)
            } else {
                service((0, RuleId::R2))
            }
        }
        _ => (0, RuleId::R0),
    }
}

/// A whole plan by hand: the same accesses in the same order, each routed by hand; the
/// outcome L-6, else X-1, else transferred.
fn baseline_plan(
    p: &Profile,
    job: &JobFacts,
) -> ([(Access, u8, RuleId); 16], usize, Option<RuleId>) {
    let mut steps = [(Access::Other, 7u8, RuleId::R0); 16];
    let mut n = 0;
    let mut add = |access: Access| {
        let (who, id) = baseline_route(p, job, access);
        if who != 7 && n < 16 {
            steps[n] = (access, who, id);
            n += 1;
        }
    };
    add(Access::UploadLocalFile);
    add(Access::ProxyIeSettings);
    add(Access::ProxyAutoDetect);
    for target in [AuthTarget::Proxy, AuthTarget::Server] {
        if target == AuthTarget::Server {
            add(Access::ClientCertificateKey);
        }
        let none = !job.credentials.any(target);
        for &s in AuthScheme::ALL {
            if job.credentials.get(target, s).is_some() || (none && s == AuthScheme::Negotiate) {
                add(Access::challenge(target, s));
            }
        }
    }
    add(Access::SmbRemoteFile);
    add(Access::DownloadTempFileCreate);
    add(Access::DownloadTempFileRename);
    add(Access::ReplyFileCreate);
    add(Access::ReplyFileRename);
    let failure = if steps[..n].iter().any(|s| s.1 == 2) {
        Some(RuleId::L6)
    } else if job.client_certificate
        && job.flags.contains(TokenUsage::NETWORK)
        && job.remote != Remote::Smb
        && job.owner.sid != Sid::LOCAL_SYSTEM
    {
        Some(RuleId::X1)
    } else {
        None
    };
    (steps, n, failure)
}

fn baseline_transfer(p: &Profile, job: &JobFacts) -> Answer {
    match job.state {
        JobState::Acknowledged | JobState::Cancelled => (HResult::BG_E_INVALID_STATE, RuleId::T7),
        JobState::Queued
        | JobState::Connecting
        | JobState::Transferring
        | JobState::TransientError => match baseline_plan(p, job).2 {
            Some(RuleId::L6) => (HResult::BG_E_TOKEN_REQUIRED, RuleId::L6),
            Some(id) => (HResult::ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY, id),
            None => (HResult::S_OK, RuleId::T7),
        },
        _ => (HResult::S_FALSE, RuleId::T7),
    }
}

fn baseline_parse(s: &str) -> Option<(u64, [u32; 15], usize)> {
    let rest = s.strip_prefix("S-1-")?;
    let mut parts = rest.split('-');
    let authority: u64 = parts.next()?.parse().ok()?;
    let mut subs = [0u32; 15];
    let mut n = 0;
    for p in parts {
        *subs.get_mut(n)? = p.parse().ok()?;
        n += 1;
    }
    (n > 0).then_some((authority, subs, n))
}

fn baseline_from_bytes(b: &[u8]) -> Option<(u64, [u32; 15], usize)> {
    let n = usize::from(*b.get(1)?);
    if b.len() != 8 + 4 * n || b[0] != 1 || n == 0 || n > 15 {
        return None;
    }
    let authority = b[2..8].iter().fold(0u64, |a, &x| (a << 8) | u64::from(x));
    let mut subs = [0u32; 15];
    for (i, c) in b[8..].chunks_exact(4).enumerate() {
        subs[i] = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    Some((authority, subs, n))
}

// ---- benches ---------------------------------------------------------------------------

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

/// The decision's answer; the whole decision escapes, so none of it is optimized away.
fn answer(d: Decision) -> Answer {
    let d = black_box(&d);
    (d.hresult(), d.rule_id())
}

fn decisions(c: &mut Criterion) {
    let latest = Profile::default();
    let legacy = Profile::new(Release::Legacy);
    let alice = Identity::new(sid("S-1-5-21-1004336348-1177238915-682003330-1001"), false);
    let bob = Identity::new(sid("S-1-5-21-1004336348-1177238915-682003330-1002"), false);
    let admin = Identity::new(sid("S-1-5-21-1004336348-1177238915-682003330-500"), true);
    let job = JobFacts::new(alice);
    let vetoed = job.with_helper(Some(admin));
    let cert = JobFacts::new(Identity::NETWORK_SERVICE).with_client_certificate(true);

    // Every path of SetHelperTokenFlags.
    let paths: [(&str, &Profile, Identity, JobFacts, u32); 8] = [
        ("allowed_owner_A-5", &latest, alice, job, 0x3),
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
        let model = || {
            let d = set_helper_token_flags(
                black_box(profile),
                black_box(caller),
                black_box(&job),
                black_box(flags),
            );
            answer(d)
        };
        let baseline = || {
            baseline_set_flags(
                black_box(profile),
                black_box(caller),
                black_box(&job),
                black_box(flags),
            )
            .0
        };
        pair(
            c,
            &format!("set_helper_token_flags/{name}"),
            model,
            baseline,
        );
    }
    pair(
        c,
        "get_helper_token_flags",
        || {
            answer(get_helper_token_flags(
                black_box(&latest),
                black_box(alice),
                black_box(&job),
            ))
        },
        || baseline_getter(black_box(&latest), black_box(alice), black_box(&job)),
    );
    pair(
        c,
        "get_helper_token_sid",
        || {
            answer(get_helper_token_sid(
                black_box(&latest),
                black_box(alice),
                black_box(&vetoed),
            ))
        },
        || baseline_getter(black_box(&latest), black_box(alice), black_box(&vetoed)),
    );
    pair(
        c,
        "clear_helper_token",
        || {
            answer(clear_helper_token(
                black_box(&latest),
                black_box(bob),
                black_box(&vetoed),
            ))
        },
        || baseline_getter(black_box(&latest), black_box(bob), black_box(&vetoed)),
    );
    pair(
        c,
        "set_helper_token/refused_new_admin_A-7",
        || {
            answer(set_helper_token(
                black_box(&latest),
                black_box(alice),
                black_box(&job),
                black_box(Impersonation::Allowed(admin)),
            ))
        },
        || {
            baseline_set_token(
                black_box(&latest),
                black_box(alice),
                black_box(&job),
                black_box(admin),
            )
        },
    );

    // The lifecycle.
    let flying = job
        .with_state(JobState::Queued)
        .with_flags(TokenUsage::LOCAL_FILE);
    pair(
        c,
        "logoff_owner",
        || answer(logoff_owner(black_box(&flying))),
        || {
            let (answer, error) = baseline_logoff(black_box(&flying));
            black_box(error);
            answer
        },
    );
    pair(
        c,
        "resume",
        || answer(resume(black_box(&job))),
        || baseline_resume(black_box(&job)),
    );
    pair(
        c,
        "take_ownership",
        || {
            answer(take_ownership(
                black_box(&latest),
                black_box(admin),
                black_box(&job),
            ))
        },
        || baseline_take_ownership(black_box(admin), black_box(&job)),
    );
    let ready = flying.with_helper(Some(bob));
    pair(
        c,
        "transfer/download_with_helper",
        || answer(transfer(black_box(&latest), black_box(&ready))),
        || baseline_transfer(black_box(&latest), black_box(&ready)),
    );
}

fn routing(c: &mut Criterion) {
    let latest = Profile::default();
    let helper = Identity::new(sid("S-1-5-21-1004336348-1177238915-682003330-1002"), false);
    let creds = Credentials::NONE
        .set(
            AuthTarget::Proxy,
            AuthScheme::Negotiate,
            Credential::Implicit,
        )
        .unwrap_or(Credentials::NONE);
    let job = JobFacts::new(Identity::NETWORK_SERVICE)
        .with_flags(TokenUsage::all())
        .with_helper(Some(helper))
        .with_credentials(creds)
        .with_proxy(ProxyUsage::Autodetect);
    let code = |p: Principal| -> u8 {
        match p {
            Principal::Owner => 0,
            Principal::Helper => 1,
            Principal::MissingHelper => 2,
            Principal::Computer => 3,
            Principal::Anonymous => 4,
            Principal::ExplicitCredentials => 5,
            Principal::NoCredentials => 6,
            _ => 7,
        }
    };
    for access in [
        Access::DownloadTempFileCreate,
        Access::ServerChallenge(AuthScheme::Negotiate),
    ] {
        let r = route(&latest, &job, access);
        assert_eq!(
            (code(r.principal), r.rule.id),
            baseline_route(&latest, &job, access)
        );
        let mut g = c.benchmark_group(format!("route/{access}"));
        g.bench_function("model", |b| {
            b.iter(|| route(black_box(&latest), black_box(&job), black_box(access)))
        });
        g.bench_function("baseline", |b| {
            b.iter(|| baseline_route(black_box(&latest), black_box(&job), black_box(access)))
        });
        g.finish();
    }

    let plan = transfer_plan(&latest, &job);
    let (steps, n, failure) = baseline_plan(&latest, &job);
    let same: Vec<_> = plan
        .iter()
        .map(|r| (r.access, code(r.principal), r.rule.id))
        .collect();
    assert_eq!(same, steps[..n].to_vec());
    assert_eq!(plan.outcome().failure().map(|f| f.rule.id), failure);
    let mut g = c.benchmark_group("transfer_plan/proxy_download");
    g.bench_function("model", |b| {
        b.iter(|| transfer_plan(black_box(&latest), black_box(&job)))
    });
    g.bench_function("baseline", |b| {
        b.iter(|| baseline_plan(black_box(&latest), black_box(&job)))
    });
    g.finish();
}

/// Scenario validation and replay grow linearly: N distinct handles; G groups in one token
/// and G `set_helper_token` steps impersonating it.
fn scenarios(c: &mut Criterion) {
    let mut g = c.benchmark_group("scenario");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(5));
    g.warm_up_time(Duration::from_secs(1));
    for n in [10_000u64, 40_000, 160_000, 320_000] {
        let mut s = Scenario::new("svc");
        s.tokens.insert("svc".into(), TokenInfo::network_service());
        for h in 0..n {
            s.steps.push(Step::QueryInterface {
                caller: "svc".into(),
                handle: HandleName::Number(h),
            });
        }
        g.bench_with_input(BenchmarkId::new("handles", n), &s, |b, s| {
            b.iter(|| s.run())
        });
    }
    for n in [5_000u32, 10_000, 20_000, 40_000] {
        let mut s = Scenario::new("svc");
        s.tokens.insert("svc".into(), TokenInfo::network_service());
        let groups = (0..n)
            .map(|i| {
                Group::new(
                    Sid::new(5, &[21, 9, 9, 9, i]).unwrap(),
                    GroupAttributes::DEFAULT_ENABLED,
                )
            })
            .collect();
        s.tokens.insert(
            "wide".into(),
            TokenInfo::new(sid("S-1-5-21-9-9-9-1001"), groups),
        );
        s.steps.push(Step::QueryInterface {
            caller: "svc".into(),
            handle: HandleName::Number(0),
        });
        for _ in 0..n {
            s.steps.push(Step::SetHelperToken {
                handle: HandleName::Number(0),
                impersonating: "wide".into(),
                can_impersonate: true,
            });
        }
        g.bench_with_input(BenchmarkId::new("groups_x_steps", n), &s, |b, s| {
            b.iter(|| s.run())
        });
    }
    g.finish();
}

fn sids(c: &mut Criterion) {
    let long = "S-1-5-21-1004336348-1177238915-682003330-1001";
    let parsed = sid(long);
    let bytes = parsed.to_bytes();

    let mut g = c.benchmark_group("sid/parse_domain_user");
    g.bench_function("model", |b| b.iter(|| black_box(long).parse::<Sid>()));
    g.bench_function("baseline", |b| b.iter(|| baseline_parse(black_box(long))));
    g.finish();

    let mut g = c.benchmark_group("sid/parse_short");
    g.bench_function("model", |b| b.iter(|| black_box("S-1-5-18").parse::<Sid>()));
    g.bench_function("baseline", |b| {
        b.iter(|| baseline_parse(black_box("S-1-5-18")))
    });
    g.finish();

    let mut g = c.benchmark_group("sid/display_domain_user");
    let mut out = String::with_capacity(64);
    g.bench_function("model", |b| {
        b.iter(|| {
            out.clear();
            write!(out, "{}", black_box(&parsed)).unwrap();
            out.len()
        })
    });
    let (authority, subs, n) = baseline_parse(long).unwrap();
    g.bench_function("baseline", |b| {
        b.iter(|| {
            out.clear();
            write!(out, "S-1-{}", black_box(authority)).unwrap();
            for s in &black_box(subs)[..n] {
                write!(out, "-{s}").unwrap();
            }
            out.len()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("sid/from_bytes_domain_user");
    g.bench_function("model", |b| {
        b.iter(|| Sid::from_bytes(black_box(&bytes[..])))
    });
    g.bench_function("baseline", |b| {
        b.iter(|| baseline_from_bytes(black_box(&bytes[..])))
    });
    g.finish();
}

criterion_group!(benches, decisions, routing, sids, scenarios);
criterion_main!(benches);
