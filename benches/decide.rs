//! Criterion benches: every decision function (the five methods and the lifecycle),
//! `route`, `transfer_plan`, `Sid` codecs and whole scenarios.
//!
//! Each decision is measured next to a **baseline**: a minimal, hand-written, straight-line
//! function over the *same inputs* (the same `Profile`, caller `Identity` and `JobFacts`, so
//! SIDs are compared as SIDs, and the access gate reads the same elevation and integrity
//! level) that returns the same `(HResult, RuleId)` for the cases measured, with the default
//! knobs hard-coded: no explanation, no effect value, no knob lookups. Before measuring,
//! each bench asserts that model and baseline answer alike. The model's whole `Decision`
//! escapes the measured closure, so none of it is optimized away. The ratio is the model's
//! overhead for being general and explainable.
//!
//! ```sh
//! cargo bench --bench decide -- --warm-up-time 1 --measurement-time 2
//! ```

use bits_helper_token::scenario::{HandleName, Scenario, Step};
use bits_helper_token::{decide::*, job::*, net::*, profile::*, sid::*, token::*, *};
use criterion::{BenchmarkId, Criterion, SamplingMode, black_box, criterion_group, criterion_main};
use std::fmt::Write;
use std::time::Duration;

fn sid(s: &str) -> Sid {
    s.parse().unwrap()
}

// ---- baselines: the same answers, written by hand for the default knobs -----------------

type Answer = (HResult, RuleId);

const DENIED: HResult = HResult::E_ACCESSDENIED;

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
fn baseline_set_flags(p: &Profile, caller: Identity, job: &JobFacts, flags: u32) -> (Answer, bool) {
    if let Some(refused) = no_interface(p).or_else(|| gate(caller, job)) {
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

/// `ClearHelperToken`: the owner rule, then Q-3.
fn baseline_clear(p: &Profile, caller: Identity, job: &JobFacts) -> Answer {
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
) -> Answer {
    if let Some(refused) = no_interface(p).or_else(|| gate(caller, job)) {
        return refused;
    }
    let legacy = p.release == Release::Legacy;
    let granted = if legacy {
        if !caller.admin || !job.owner.elevated {
            return (DENIED, RuleId::A4);
        }
        RuleId::A4
    } else if caller.admin {
        RuleId::Q2
    } else if caller.sid != job.owner.sid {
        return (DENIED, RuleId::A5);
    } else {
        RuleId::A5
    };
    if done(job) {
        return (HResult::BG_E_INVALID_STATE, RuleId::Q3);
    }
    let Impersonation::Allowed(token) = impersonation else {
        return (HResult::CO_E_FAILEDTOIMPERSONATE, RuleId::A9);
    };
    if !legacy && token.admin && !caller.admin {
        return (DENIED, RuleId::A7);
    }
    (HResult::S_OK, granted)
}

/// LocalSystem, LocalService, NetworkService (T-3).
fn service(sid: Sid) -> bool {
    sid == Sid::LOCAL_SYSTEM || sid == Sid::LOCAL_SERVICE || sid == Sid::NETWORK_SERVICE
}

/// L-5 / L-8: `S_OK`; a service account never logs off; a user's logoff discards the
/// token, and an unfinished job with flags that held one goes to ERROR.
fn baseline_logoff(job: &JobFacts) -> (Answer, Option<HResult>) {
    if service(job.owner.sid) {
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

/// L-9: `S_OK` on every job that is not done.
fn baseline_resume(job: &JobFacts) -> Answer {
    if done(job) {
        (HResult::BG_E_INVALID_STATE, RuleId::T7)
    } else {
        (HResult::S_OK, RuleId::L9)
    }
}

fn baseline_cancel(job: &JobFacts) -> Answer {
    if done(job) {
        (HResult::BG_E_INVALID_STATE, RuleId::T7)
    } else {
        (HResult::S_OK, RuleId::T7)
    }
}

/// L-10: a transferred job completes (its renames need the helper under LOCAL_FILE); a
/// download that is not transferred completes partially; an upload is refused.
fn baseline_complete(job: &JobFacts) -> Answer {
    let renames = job.job_type != JobType::Upload;
    match job.state {
        JobState::Acknowledged | JobState::Cancelled => (HResult::BG_E_INVALID_STATE, RuleId::T7),
        JobState::Transferred
            if renames && job.flags.contains(TokenUsage::LOCAL_FILE) && job.helper.is_none() =>
        {
            (HResult::BG_E_TOKEN_REQUIRED, RuleId::L10)
        }
        JobState::Transferred => (HResult::S_OK, RuleId::L10),
        _ if job.job_type == JobType::Download => (HResult::BG_S_PARTIAL_COMPLETE, RuleId::L10),
        _ => (HResult::BG_E_INVALID_STATE, RuleId::L10),
    }
}

/// L-7: A-11, an elevated administrator, not done.
fn baseline_take_ownership(caller: Identity, job: &JobFacts) -> Answer {
    if let Some(refused) = gate(caller, job) {
        refused
    } else if !(caller.admin && caller.elevated) {
        (DENIED, RuleId::L7)
    } else if done(job) {
        (HResult::BG_E_INVALID_STATE, RuleId::T7)
    } else {
        (HResult::S_OK, RuleId::Q6)
    }
}

/// Whether the transfer goes through a proxy (X-3): OVERRIDE, AUTODETECT, or PRECONFIG
/// whose IE settings auto-detect or name a PAC file.
fn through_proxy(job: &JobFacts) -> bool {
    match job.proxy {
        ProxyUsage::Override | ProxyUsage::Autodetect => true,
        ProxyUsage::Preconfig => job.ie_settings != IeSettings::Direct,
        _ => false,
    }
}

/// A route by hand: whose identity, and the id of the rule.
fn baseline_route(p: &Profile, job: &JobFacts, access: Access) -> (Principal, RuleId) {
    let http = job.remote != Remote::Smb;
    let network = job.flags.contains(TokenUsage::NETWORK);
    let helper = |id: RuleId| {
        if job.helper.is_some() {
            (Principal::Helper, id)
        } else {
            (Principal::MissingHelper, RuleId::L6)
        }
    };
    let by_flag = |flag: TokenUsage, id: RuleId| {
        if job.flags.contains(flag) {
            helper(id)
        } else {
            (Principal::Owner, id)
        }
    };
    // R-6: a service account on the network; the computer answers only Negotiate.
    let on_network = |sid: Sid, ntlm: bool, who: Principal, id: RuleId| {
        if sid == Sid::LOCAL_SYSTEM || sid == Sid::NETWORK_SERVICE {
            if ntlm {
                (Principal::NoCredentials, RuleId::R6)
            } else {
                (Principal::Computer, RuleId::R6)
            }
        } else if sid == Sid::LOCAL_SERVICE {
            (Principal::Anonymous, RuleId::R6)
        } else {
            (who, id)
        }
    };
    let na = |id: RuleId| (Principal::NotApplicable, id);
    let wpad = job.proxy == ProxyUsage::Autodetect
        || (job.proxy == ProxyUsage::Preconfig && job.ie_settings != IeSettings::Direct);
    match access {
        Access::UploadLocalFile if job.job_type == JobType::Download => na(RuleId::R1),
        Access::DownloadTempFileCreate | Access::DownloadTempFileRename
            if job.job_type != JobType::Download =>
        {
            na(RuleId::R1)
        }
        Access::ReplyFileCreate | Access::ReplyFileRename
            if job.job_type != JobType::UploadReply =>
        {
            na(RuleId::R1)
        }
        Access::UploadLocalFile
        | Access::DownloadTempFileCreate
        | Access::DownloadTempFileRename
        | Access::ReplyFileCreate
        | Access::ReplyFileRename => by_flag(TokenUsage::LOCAL_FILE, RuleId::R1),
        Access::SmbRemoteFile if http => na(RuleId::R2),
        Access::SmbRemoteFile if network => match job.helper {
            Some(h) => on_network(h.sid, false, Principal::Helper, RuleId::R2),
            None => (Principal::MissingHelper, RuleId::L6),
        },
        Access::SmbRemoteFile => on_network(job.owner.sid, false, Principal::Owner, RuleId::R2),
        Access::ProxyAutoDetect if !http || !wpad => na(RuleId::R7),
        Access::ProxyIeSettings if !http || job.proxy != ProxyUsage::Preconfig => na(RuleId::R7),
        Access::ProxyIeSettings if network && p.release != Release::Win10_1809 => {
            (Principal::Owner, RuleId::R7)
        }
        Access::ProxyAutoDetect | Access::ProxyIeSettings => {
            by_flag(TokenUsage::NETWORK, RuleId::R7)
        }
        Access::ClientCertificateKey if job.remote != Remote::Https || !job.client_certificate => {
            na(RuleId::R4)
        }
        Access::ClientCertificateKey => (Principal::Owner, RuleId::R4),
        Access::ProxyChallenge(s) | Access::ServerChallenge(s) => {
            let target = match access {
                Access::ProxyChallenge(_) => AuthTarget::Proxy,
                _ => AuthTarget::Server,
            };
            let made = http
                && job.challenges.asks(target, s)
                && (target == AuthTarget::Server || through_proxy(job));
            if !made {
                return na(RuleId::R2);
            }
            let c = &job.credentials;
            if c.get(target, s) == Some(Credential::Explicit) {
                return (Principal::ExplicitCredentials, RuleId::R5);
            }
            if !matches!(s, AuthScheme::Ntlm | AuthScheme::Negotiate) {
                return (Principal::NoCredentials, RuleId::R3);
            }
            let env = &job.environment;
            let allowed = c.has_implicit(target)
                || (target == AuthTarget::Server
                    && c.has_implicit(AuthTarget::Proxy)
                    && !c.has_explicit(AuthTarget::Server))
                || env.use_lm_compat == UseLmCompat::Always
                || (env.use_lm_compat == UseLmCompat::WhenLmCompatibilityLevel2
                    && env.lm_compatibility_level.value() >= 2);
            let ntlm = s == AuthScheme::Ntlm;
            if !allowed {
                (Principal::NoCredentials, RuleId::R3)
            } else if network {
                match job.helper {
                    Some(h) => on_network(h.sid, ntlm, Principal::Helper, RuleId::R2),
                    None => (Principal::MissingHelper, RuleId::L6),
                }
            } else {
                on_network(job.owner.sid, ntlm, Principal::Owner, RuleId::R2)
            }
        }
        _ => (Principal::Owner, RuleId::R0),
    }
}

type Plan = ([(Access, Principal, RuleId); 16], usize, Option<Answer>);

/// A whole plan by hand: the same accesses in the same order, each routed by hand; the
/// outcome: eager L-6 (Q-8), else the first failing step (L-6, X-3 401/407, X-1).
fn baseline_plan(p: &Profile, job: &JobFacts) -> Plan {
    let mut steps = [(Access::Other, Principal::NotApplicable, RuleId::R0); 16];
    let mut n = 0;
    let mut add = |access: Access| {
        let (who, id) = baseline_route(p, job, access);
        if who != Principal::NotApplicable && n < steps.len() {
            steps[n] = (access, who, id);
            n += 1;
        }
    };
    add(Access::UploadLocalFile);
    add(Access::ProxyIeSettings);
    add(Access::ProxyAutoDetect);
    for &s in AuthScheme::ALL {
        add(Access::challenge(AuthTarget::Proxy, s));
    }
    add(Access::ClientCertificateKey);
    for &s in AuthScheme::ALL {
        add(Access::challenge(AuthTarget::Server, s));
    }
    add(Access::SmbRemoteFile);
    add(Access::DownloadTempFileCreate);
    add(Access::DownloadTempFileRename);
    add(Access::ReplyFileCreate);
    add(Access::ReplyFileRename);
    if !job.flags.is_empty() && job.helper.is_none() {
        return (steps, n, Some((HResult::BG_E_TOKEN_REQUIRED, RuleId::L6)));
    }
    let failure = steps[..n]
        .iter()
        .find_map(|&(access, who, _)| match (access, who) {
            (_, Principal::MissingHelper) => Some((HResult::BG_E_TOKEN_REQUIRED, RuleId::L6)),
            (Access::ClientCertificateKey, _) if x1(job, job.flags.bits()) => Some((
                HResult::ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY,
                RuleId::X1,
            )),
            (Access::ServerChallenge(_), Principal::NoCredentials | Principal::Anonymous) => {
                Some((HResult::BG_E_HTTP_ERROR_401, RuleId::X3))
            }
            (Access::ProxyChallenge(_), Principal::NoCredentials | Principal::Anonymous) => {
                Some((HResult::BG_E_HTTP_ERROR_407, RuleId::X3))
            }
            _ => None,
        });
    (steps, n, failure)
}

/// T-7, then the plan's outcome for a job that transfers.
fn baseline_transfer(p: &Profile, job: &JobFacts) -> Answer {
    match job.state {
        JobState::Acknowledged | JobState::Cancelled => (HResult::BG_E_INVALID_STATE, RuleId::T7),
        JobState::Queued
        | JobState::Connecting
        | JobState::Transferring
        | JobState::TransientError
            if !job.owner_logged_on && !service(job.owner.sid) =>
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

    // Every path of SetHelperTokenFlags.
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
                black_box(alice),
                black_box(&vetoed),
            ))
        },
        || baseline_clear(black_box(&latest), black_box(alice), black_box(&vetoed)),
    );
    for (name, token) in [("allowed_owner_A-5", bob), ("refused_new_admin_A-7", admin)] {
        let impersonation = Impersonation::Allowed(token);
        pair(
            c,
            &format!("set_helper_token/{name}"),
            || {
                answer(set_helper_token(
                    black_box(&latest),
                    black_box(alice),
                    black_box(&job),
                    black_box(impersonation),
                ))
            },
            || {
                baseline_set_token(
                    black_box(&latest),
                    black_box(alice),
                    black_box(&job),
                    black_box(impersonation),
                )
            },
        );
    }
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
    pair(
        c,
        "logoff_owner",
        || answer(logoff_owner(black_box(&holding))),
        || {
            let (answer, error) = baseline_logoff(black_box(&holding));
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
    let ready = flying.with_helper(Some(bob));
    pair(
        c,
        "transfer/download_with_helper",
        || answer(transfer(black_box(&latest), black_box(&ready))),
        || baseline_transfer(black_box(&latest), black_box(&ready)),
    );
    pair(
        c,
        "cancel",
        || answer(cancel(black_box(&flying))),
        || baseline_cancel(black_box(&flying)),
    );
    let transferred = ready.with_state(JobState::Transferred);
    pair(
        c,
        "complete",
        || answer(complete(black_box(&transferred))),
        || baseline_complete(black_box(&transferred)),
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
        .with_proxy(ProxyUsage::Autodetect)
        .with_challenges(
            Challenges::NONE
                .with(AuthTarget::Proxy, AuthScheme::Negotiate)
                .with(AuthTarget::Server, AuthScheme::Negotiate),
        );
    for access in [
        Access::DownloadTempFileCreate,
        Access::ServerChallenge(AuthScheme::Negotiate),
    ] {
        let r = route(&latest, &job, access);
        assert_eq!(
            (r.principal, r.rule.id),
            baseline_route(&latest, &job, access),
            "route/{access}: the baseline must answer as the model"
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
        .map(|r| (r.access, r.principal, r.rule.id))
        .collect();
    assert_eq!(same, steps[..n].to_vec(), "transfer_plan: the steps");
    assert_eq!(
        plan.outcome().failure().map(|f| (f.hresult, f.rule.id)),
        failure,
        "transfer_plan: the outcome"
    );
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
/// and G `set_helper_token` steps impersonating it. Built in Rust (no JSON parsing), outside
/// the measured closure; each is run once and checked first.
fn scenarios(c: &mut Criterion) {
    let mut g = c.benchmark_group("scenario");
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    let all_ok = |s: &Scenario, steps: usize| {
        let t = s.run().expect("the scenario runs");
        assert_eq!(t.results.len(), steps);
        assert!(t.results.iter().all(|r| r.hresult == HResult::S_OK));
    };
    for n in [10_000u64, 40_000, 160_000, 320_000] {
        let mut s = Scenario::new("svc");
        s.tokens.insert("svc".into(), TokenInfo::network_service());
        for h in 0..n {
            s.steps.push(Step::QueryInterface {
                caller: "svc".into(),
                handle: HandleName::Number(h),
            });
        }
        all_ok(&s, s.steps.len());
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
        all_ok(&s, s.steps.len());
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

criterion_group!(benches, methods, lifecycle, routing, sids, scenarios);
criterion_main!(benches);
