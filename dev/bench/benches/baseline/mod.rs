//! The routing baselines, shared by `route.rs`, `plan.rs` and `lifecycle.rs` (whose
//! `transfer` runs a whole plan): R-0…R-7 with L-6, and a whole plan with its outcome (Q-8
//! eager L-6, X-1, X-3), written by hand for the default knobs over the *same inputs* as
//! the model (`Profile`, `JobFacts`, `Access`). One home, so the three benches measure one
//! hand-written routing, not three copies of it. Not a bench target itself: Cargo builds
//! `benches/*.rs` and `benches/*/main.rs`, and this is `benches/baseline/mod.rs`.

use bits_helper_token::{decide::*, job::*, net::*, profile::*, *};

pub type Answer = (HResult, RuleId);

/// a client certificate, NETWORK, HTTPS and an owner other than LocalSystem.
fn x1(job: &JobFacts, flags: u32) -> bool {
    job.client_certificate
        && flags & 0x2 != 0
        && job.remote == Remote::Https
        && job.owner.sid != Sid::LOCAL_SYSTEM
}

/// Whether the transfer goes through a proxy: OVERRIDE, AUTODETECT, or PRECONFIG
/// whose IE settings auto-detect or name a PAC file.
fn through_proxy(job: &JobFacts) -> bool {
    match job.proxy {
        ProxyUsage::Override | ProxyUsage::Autodetect => true,
        ProxyUsage::Preconfig => job.ie_settings != IeSettings::Direct,
        _ => false,
    }
}

/// a service account on the network is the computer (LocalSystem, NetworkService) or
/// anonymous (LocalService); the computer answers only Negotiate, so to NTLM nobody.
fn on_network(sid: Sid, ntlm: bool, who: Principal, id: RuleId) -> (Principal, RuleId) {
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
}

/// A route by hand: whose identity, and the id of the rule.
pub fn baseline_route(p: &Profile, job: &JobFacts, access: Access) -> (Principal, RuleId) {
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

/// A target's whole challenge by hand: the first scheme it offers, in X-3's order of
/// preference, whose route answers; none: unanswered. `None` when the target does not
/// challenge.
fn baseline_whole_challenge(
    p: &Profile,
    job: &JobFacts,
    target: AuthTarget,
) -> Option<(Access, Principal, RuleId)> {
    let mut offered = false;
    for scheme in [
        AuthScheme::Negotiate,
        AuthScheme::Ntlm,
        AuthScheme::Passport,
        AuthScheme::Digest,
        AuthScheme::Basic,
    ] {
        if !job.challenges.asks(target, scheme) {
            continue;
        }
        offered = true;
        let (who, id) = baseline_route(p, job, Access::challenge(target, scheme));
        if matches!(
            who,
            Principal::ExplicitCredentials
                | Principal::Owner
                | Principal::Helper
                | Principal::Computer
                | Principal::MissingHelper
        ) {
            return Some((Access::WholeChallenge(target), who, id));
        }
    }
    offered.then_some((
        Access::WholeChallenge(target),
        Principal::Unanswered,
        RuleId::X3,
    ))
}

/// A plan by hand: its steps (access, principal, rule id), how many, and the failure.
pub type Plan = ([(Access, Principal, RuleId); 16], usize, Option<Answer>);

/// A whole plan by hand: the same accesses in the same order, each routed by hand; the
/// outcome: eager L-6, else the first failing step (L-6, X-3 401/407, X-1).
pub fn baseline_plan(p: &Profile, job: &JobFacts) -> Plan {
    let mut steps = [(Access::Other, Principal::NotApplicable, RuleId::R0); 16];
    let mut n = 0;
    let mut push = |step: Option<(Access, Principal, RuleId)>| {
        if let Some(step) = step.filter(|_| n < steps.len()) {
            steps[n] = step;
            n += 1;
        }
    };
    let routed = |access: Access| {
        let (who, id) = baseline_route(p, job, access);
        (who != Principal::NotApplicable).then_some((access, who, id))
    };
    push(routed(Access::UploadLocalFile));
    push(routed(Access::ProxyIeSettings));
    push(routed(Access::ProxyAutoDetect));
    push(baseline_whole_challenge(p, job, AuthTarget::Proxy));
    push(routed(Access::ClientCertificateKey));
    push(baseline_whole_challenge(p, job, AuthTarget::Server));
    push(routed(Access::SmbRemoteFile));
    push(routed(Access::DownloadTempFileCreate));
    push(routed(Access::DownloadTempFileRename));
    push(routed(Access::ReplyFileCreate));
    push(routed(Access::ReplyFileRename));
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
            (Access::WholeChallenge(AuthTarget::Server), Principal::Unanswered) => {
                Some((HResult::BG_E_HTTP_ERROR_401, RuleId::X3))
            }
            (Access::WholeChallenge(AuthTarget::Proxy), Principal::Unanswered) => {
                Some((HResult::BG_E_HTTP_ERROR_407, RuleId::X3))
            }
            _ => None,
        });
    (steps, n, failure)
}
