//! Explanations cannot contradict their decisions: a sentence is made from the decision and
//! the facts it was made on, captured together where the decision was made
//! ([`Explained`]); no public constructor pairs a decision with other facts. These
//! properties read every sentence back against the decision and the captured facts.

use bits_helper_token::Access;
use bits_helper_token::decide::JobCall;
use bits_helper_token::explain::Explained;
use bits_helper_token::job::Caller;
use bits_helper_token::support::proptest::{job_facts, profile, raw_flags};
use bits_helper_token::token::ImpersonationLevel;
use bits_helper_token::{Decision, Identity, Job, JobFacts, Profile, profile::Release};
use bits_helper_token::{decide, net};
use proptest::prelude::*;

/// The facts of `sentence` a reader can check: it starts with the call, its HRESULT and
/// the rule that decided, and names the caller and the owner it was decided on.
fn consistent(answer: &Explained<Decision>) -> Result<(), TestCaseError> {
    let text = answer.to_string();
    let head = format!(
        "{} returns {}: {}: ",
        answer.operation(),
        answer.hresult(),
        answer.rule_id()
    );
    prop_assert!(
        text.starts_with(&head),
        "{text}\n  does not start with {head}"
    );
    // "the caller S-…" is the caller the decision judged.
    for rest in text.split("the caller ").skip(1) {
        let named = rest.split([' ', ',', ')', ';']).next().unwrap_or_default();
        if named.starts_with("S-") {
            let caller = answer.caller().map(|c| c.sid.to_string());
            prop_assert_eq!(Some(named.to_string()), caller, "{}", text);
        }
    }
    // "(owner S-…" is the owner of the job the decision was made on.
    for rest in text.split("(owner ").skip(1) {
        let named = rest.split([' ', ')']).next().unwrap_or_default();
        prop_assert_eq!(named, answer.facts().owner.sid.to_string(), "{}", text);
    }
    // "the owner S-…" likewise.
    for rest in text.split("the owner ").skip(1) {
        let named = rest.split([' ', ',', ')', ';']).next().unwrap_or_default();
        if named.starts_with("S-") {
            prop_assert_eq!(named, answer.facts().owner.sid.to_string(), "{}", text);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every answer of the stateful job — the five methods through a handle, QueryInterface's
    /// refusals, and the job events — explains itself with the facts it was made on.
    #[test]
    fn the_jobs_answers_explain_their_own_decisions(
        profile in profile(&[Release::Legacy, Release::Win10_1607, Release::Win10_1809], false),
        facts in job_facts(),
        caller in any::<Identity>(),
        helper in any::<Identity>(),
        flags in raw_flags(true),
    ) {
        let mut job = Job::with_facts(profile, facts);
        match job.query_interface(&caller) {
            Err(refused) => {
                consistent(refused.decision())?;
                prop_assert_eq!(refused.decision().facts(), &facts);
            }
            Ok(handle) => {
                let before = *job.facts();
                let d = handle.set_helper_token_flags(&mut job, flags).unwrap();
                prop_assert_eq!(d.facts(), &before, "captured before the effect");
                prop_assert_eq!(d.caller(), Some(caller));
                // The decision is the pure function's on those facts.
                prop_assert_eq!(
                    *d.get(),
                    decide::set_helper_token_flags(&profile, caller, &before, flags)
                );
                consistent(&d)?;
                let imp = decide::Impersonation::Allowed(helper);
                consistent(&handle.set_helper_token(&mut job, imp).unwrap())?;
                consistent(&handle.get_helper_token_flags(&job).unwrap())?;
                consistent(&handle.get_helper_token_sid(&job).unwrap())?;
                consistent(&handle.clear_helper_token(&mut job).unwrap())?;
            }
        }
        for event in [Job::resume, Job::suspend, Job::network_lost, Job::network_restored,
                      Job::transfer, Job::logoff_owner, Job::logon_owner, Job::complete,
                      Job::cancel] {
            let before = *job.facts();
            let d = event(&mut job);
            prop_assert_eq!(d.facts(), &before);
            consistent(&d)?;
        }
        consistent(&job.take_ownership(&caller))?;
        // The job methods by another caller at every level (A-9, A-13, A-14, L-15).
        for &level in ImpersonationLevel::ALL {
            let who = Caller::new(caller).with_level(level).with_logged_on(level != ImpersonationLevel::Delegate);
            for call in [JobCall::Resume, JobCall::Suspend, JobCall::Cancel,
                         JobCall::SetClientCertificate(true), JobCall::UseStoredCredentials] {
                let before = *job.facts();
                let d = job.call(&who, call);
                prop_assert_eq!(d.facts(), &before);
                prop_assert_eq!(*d.get(), decide::jobs::call(&profile, &who, &before, call));
                consistent(&d)?;
            }
            if let Ok(d) = job.add_file_by(&who) {
                consistent(&d)?;
            }
            consistent(&job.take_ownership_by(&who))?;
        }
    }

    /// A route's sentence names the access and the identity the route chose, from the
    /// facts it was routed on.
    #[test]
    fn routes_explain_their_own_choice(
        profile in profile(&[Release::Win10_1607, Release::Win10_1809], false),
        facts in job_facts(),
        access in any::<Access>(),
    ) {
        let job = Job::with_facts(profile, facts);
        let r = job.route(access);
        prop_assert_eq!(*r.get(), bits_helper_token::route(&profile, &facts, access));
        let text = r.to_string();
        prop_assert!(text.starts_with(&format!("{access}: ")), "{}", text);
        prop_assert!(text.contains(&format!("({}: ", r.rule.id)), "{}", text);
        if r.principal == decide::Principal::Owner {
            prop_assert!(text.contains(&format!("the owner {}", facts.owner.sid)), "{}", text);
        }
    }
}

/// A challenge nobody sends is explained as such, not with the job's other settings.
#[test]
fn a_challenge_nobody_sends_is_explained_as_such() {
    use net::{AuthScheme, AuthTarget, Challenges, ProxyUsage};
    let owner = Identity::NETWORK_SERVICE;
    let profile = Profile::default();
    let quiet = JobFacts::new(owner);
    let ntlm = Access::ServerChallenge(AuthScheme::Ntlm);
    assert_eq!(
        bits_helper_token::explain::route(&profile, &quiet, ntlm).to_string(),
        "server_challenge_ntlm: not applicable (R-2: the server does not challenge with NTLM, \
         so BITS never answers it)"
    );
    let direct = quiet
        .with_proxy(ProxyUsage::NoProxy)
        .with_challenges(Challenges::NONE.with(AuthTarget::Proxy, AuthScheme::Negotiate));
    let proxy = Access::ProxyChallenge(AuthScheme::Negotiate);
    assert_eq!(
        bits_helper_token::explain::route(&profile, &direct, proxy).to_string(),
        "proxy_challenge_negotiate: not applicable (R-2: the transfer goes through no proxy \
         (proxy usage no_proxy), so no proxy challenges)"
    );
    let smb = quiet
        .with_remote(bits_helper_token::job::Remote::Smb)
        .with_challenges(Challenges::NONE.with(AuthTarget::Server, AuthScheme::Ntlm));
    assert_eq!(
        bits_helper_token::explain::route(&profile, &smb, ntlm).to_string(),
        "server_challenge_ntlm: not applicable (R-2: an SMB transfer meets no HTTP challenge, \
         so BITS never answers one)"
    );
    // Through a proxy that challenges with another scheme, the scheme not offered is the
    // reason, not the proxy.
    let other = quiet
        .with_proxy(ProxyUsage::Override)
        .with_challenges(Challenges::NONE.with(AuthTarget::Proxy, AuthScheme::Ntlm));
    assert!(other.through_proxy());
    assert_eq!(
        bits_helper_token::explain::route(&profile, &other, proxy).to_string(),
        "proxy_challenge_negotiate: not applicable (R-2: the proxy does not challenge with \
         Negotiate, so BITS never answers it)"
    );
    // The whole challenge of a target that is not sent says why, in its own words.
    let whole = |job: &JobFacts, target| {
        bits_helper_token::explain::route(&profile, job, Access::WholeChallenge(target)).to_string()
    };
    assert_eq!(
        whole(&quiet, AuthTarget::Server),
        "server_challenge: not applicable (X-3: the server does not challenge)"
    );
    assert_eq!(
        whole(&direct, AuthTarget::Proxy),
        "proxy_challenge: not applicable (X-3: the transfer goes through no proxy (proxy \
         usage no_proxy), so no proxy challenges)"
    );
    assert_eq!(
        whole(&quiet.with_proxy(ProxyUsage::Override), AuthTarget::Proxy),
        "proxy_challenge: not applicable (X-3: the proxy does not challenge)"
    );
    assert_eq!(
        whole(&smb, AuthTarget::Server),
        "server_challenge: not applicable (X-3: an SMB transfer meets no HTTP challenge)"
    );
}

/// L-14: a transfer that starts is explained with the state it enters.
#[test]
fn a_transfer_that_starts_names_the_state_it_enters() {
    use bits_helper_token::scenario::{Scenario, Session, Step};
    let mut s = Scenario::new("svc");
    s.tokens.insert(
        "svc".into(),
        bits_helper_token::token::TokenInfo::network_service(),
    );
    let mut session = Session::new(&s).unwrap();
    session
        .step(&Step::Resume {
            caller: None,
            level: None,
        })
        .unwrap();
    let (_, sentence) = session
        .step_explained(&Step::StartTransfer { to: None })
        .unwrap();
    assert_eq!(
        sentence,
        "start_transfer returns 0x00000000 (S_OK): L-14: the owner S-1-5-20 (NetworkService) \
         is logged on and the network is up, so the queued job started: it is transferring"
    );
}
