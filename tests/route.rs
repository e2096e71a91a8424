//! Routing (SPEC §4, R-1…R-7) and transfer-time failures (§5, X-1, X-2 via L-6): which
//! identity BITS uses for each access, and how a whole transfer ends.
//!
//! Hand-written tests per rule first, then the properties and the serialized forms. The
//! exhaustive matrix is checked against the independent reference in
//! `tests/against_reference.rs`, and `tests/no_alloc.rs` proves routing allocates nothing.

use crate::common;
use bits_helper_token::{decide::*, job::*, net::*, profile::*, token::*, *};
use common::*;
use serde_json::json;

const LATEST: Profile = Profile::new(Release::Win10_1809);
const P1607: Profile = Profile::new(Release::Win10_1607);
const LEGACY: Profile = Profile::new(Release::Legacy);

const NONE: TokenUsage = TokenUsage::empty();
const LOCAL: TokenUsage = TokenUsage::LOCAL_FILE;
const NET: TokenUsage = TokenUsage::NETWORK;
const BOTH: TokenUsage = TokenUsage::all();
const ALL_FLAGS: [TokenUsage; 4] = [NONE, LOCAL, NET, BOTH];

const NEGOTIATE: Access = Access::ServerChallenge(AuthScheme::Negotiate);
const PROXY_NEGOTIATE: Access = Access::ProxyChallenge(AuthScheme::Negotiate);

/// Every scheme, by the server and by the proxy (X-3): the routing tests ask about every
/// challenge, so the world they run in challenges with every scheme.
fn every_challenge() -> Challenges {
    let mut c = Challenges::NONE;
    for &t in AuthTarget::ALL {
        for &s in AuthScheme::ALL {
            c = c.with(t, s);
        }
    }
    c
}

/// A fresh job of `owner` in a world that challenges with every scheme, behind a proxy the
/// IE settings find by auto-detection (R-7, X-3).
fn world(owner: Identity) -> JobFacts {
    bits_helper_token::JobFacts::new(owner)
        .with_challenges(every_challenge())
        .with_ie_settings(IeSettings::Autodetect)
}

/// Alice's job (a standard user), with these flags and helper token.
fn alice_job(flags: TokenUsage, helper: Option<Identity>) -> JobFacts {
    world(id(&alice())).with_flags(flags).with_helper(helper)
}

fn bob_id() -> Identity {
    id(&bob())
}

fn creds(entries: &[(AuthTarget, AuthScheme, Credential)]) -> Credentials {
    entries.iter().fold(Credentials::NONE, |c, &(t, s, v)| {
        c.set(t, s, v).expect("valid credentials")
    })
}

fn implicit(target: AuthTarget, scheme: AuthScheme) -> Credentials {
    creds(&[(target, scheme, Credential::Implicit)])
}

fn env(use_lm_compat: u32, level: u32) -> NetworkEnvironment {
    NetworkEnvironment::new(use_lm_compat, level).expect("valid registry values")
}

fn owner_of(_job: &JobFacts) -> Principal {
    Principal::Owner
}

fn helper_used() -> Principal {
    Principal::Helper
}

/// The sentence of the rule that decided a route: its explanation without the access and
/// the principal.
fn sentence(profile: &Profile, job: &JobFacts, access: Access) -> String {
    let r = route(profile, job, access);
    let full = bits_helper_token::explain::route(profile, job, r.access).to_string();
    let start = full
        .find(&format!(" ({}: ", r.rule.id))
        .unwrap_or_else(|| panic!("{full}"));
    full[start + 2..full.len() - 1].to_string()
}

const FILES: [(JobType, Access); 6] = [
    (JobType::Upload, Access::UploadLocalFile),
    (JobType::UploadReply, Access::UploadLocalFile),
    (JobType::Download, Access::DownloadTempFileCreate),
    (JobType::Download, Access::DownloadTempFileRename),
    (JobType::UploadReply, Access::ReplyFileCreate),
    (JobType::UploadReply, Access::ReplyFileRename),
];

// ---- R-1 -------------------------------------------------------------------------------

#[test]
fn r1_local_files_follow_local_file() {
    for (job_type, access) in FILES {
        for flags in ALL_FLAGS {
            let job = alice_job(flags, Some(bob_id())).with_job_type(job_type);
            let r = route(&LATEST, &job, access);
            assert_eq!(r.access, access);
            assert_eq!(r.rule.id, RuleId::R1, "{access} {flags}");
            if flags.contains(LOCAL) {
                assert_eq!(r.principal, helper_used(), "{access} {flags}");
                assert_eq!(r.rule.reason, Reason::FlagSet);
            } else {
                assert_eq!(r.principal, owner_of(&job), "{access} {flags}");
                assert_eq!(r.rule.reason, Reason::FlagClear);
            }
        }
    }
}

/// A route's short form names its access, its principal and its rule, in that order; the
/// sentence with the facts is `Route::explain`'s.
#[test]
fn a_route_displays_its_access_principal_and_rule() {
    let job = alice_job(LOCAL, Some(bob_id())).with_job_type(JobType::UploadReply);
    assert_eq!(
        route(&LATEST, &job, Access::ReplyFileRename).to_string(),
        "reply_file_rename: helper (R-1 (flag_set))"
    );
    for access in Access::ALL.iter().copied() {
        let r = route(&LATEST, &alice_job(BOTH, Some(bob_id())), access);
        assert_eq!(
            r.to_string(),
            format!("{}: {} ({})", r.access, r.principal, r.rule)
        );
    }
}

#[test]
fn r1_an_upload_reply_job_opens_its_local_file_too() {
    let job = alice_job(LOCAL, Some(bob_id())).with_job_type(JobType::UploadReply);
    assert_eq!(
        route(&LATEST, &job, Access::UploadLocalFile).principal,
        helper_used()
    );
}

#[test]
fn r1_files_of_other_job_types_are_not_applicable() {
    let cases = [
        (JobType::Download, Access::UploadLocalFile),
        (JobType::Download, Access::ReplyFileCreate),
        (JobType::Download, Access::ReplyFileRename),
        (JobType::Upload, Access::DownloadTempFileCreate),
        (JobType::Upload, Access::DownloadTempFileRename),
        (JobType::Upload, Access::ReplyFileCreate),
        (JobType::UploadReply, Access::DownloadTempFileRename),
    ];
    for (job_type, access) in cases {
        let job = alice_job(BOTH, Some(bob_id())).with_job_type(job_type);
        let r = route(&LATEST, &job, access);
        assert_eq!(r.principal, Principal::NotApplicable, "{job_type} {access}");
        assert_eq!(r.rule.id, RuleId::R1);
    }
    let job = alice_job(BOTH, Some(bob_id()));
    assert_eq!(
        sentence(&LATEST, &job, Access::ReplyFileCreate),
        "R-1: a download job over https with proxy usage preconfig and no client certificate never creates a reply file"
    );
}

// ---- R-2 -------------------------------------------------------------------------------

#[test]
fn r2_the_smb_remote_file_follows_network() {
    for flags in ALL_FLAGS {
        let mut job = alice_job(flags, Some(bob_id()));
        job = job.with_remote(Remote::Smb);
        let r = route(&LATEST, &job, Access::SmbRemoteFile);
        assert_eq!(r.rule.id, RuleId::R2);
        let expected = if flags.contains(NET) {
            helper_used()
        } else {
            owner_of(&job)
        };
        assert_eq!(r.principal, expected, "{flags}");
    }
    // Over HTTP(S) there is no SMB file.
    for remote in [Remote::Http, Remote::Https] {
        let mut job = alice_job(NET, Some(bob_id()));
        job = job.with_remote(remote);
        let r = route(&LATEST, &job, Access::SmbRemoteFile);
        assert_eq!(
            (r.principal, r.rule.id),
            (Principal::NotApplicable, RuleId::R2)
        );
    }
}

#[test]
fn r2_network_answers_implicit_challenges_as_the_helper() {
    for &target in AuthTarget::ALL {
        for scheme in [AuthScheme::Ntlm, AuthScheme::Negotiate] {
            let access = Access::challenge(target, scheme);
            let job = alice_job(NET, Some(bob_id())).with_credentials(implicit(target, scheme));
            let r = route(&LATEST, &job, access);
            assert_eq!(r.principal, helper_used(), "{access}");
            assert_eq!(r.rule.reason, Reason::ImplicitAsHelper);
            assert_eq!(r.rule.id, RuleId::R2);
            // LOCAL_FILE alone leaves the challenge with the owner.
            let job = alice_job(LOCAL, Some(bob_id())).with_credentials(implicit(target, scheme));
            let r = route(&LATEST, &job, access);
            assert_eq!(r.principal, owner_of(&job), "{access}");
            assert_eq!(r.rule.id, RuleId::R2);
        }
    }
}

#[test]
fn r2_challenges_need_http_and_proxy_challenges_need_a_proxy() {
    let mut smb = alice_job(NET, Some(bob_id()));
    smb = smb.with_remote(Remote::Smb);
    for &access in Access::ALL {
        if access.as_challenge().is_some() {
            let r = route(&LATEST, &smb, access);
            assert_eq!(
                (r.principal, r.rule.id),
                (Principal::NotApplicable, RuleId::R2)
            );
        }
    }
    let direct = alice_job(NET, Some(bob_id()))
        .with_proxy(ProxyUsage::NoProxy)
        .with_credentials(implicit(AuthTarget::Proxy, AuthScheme::Negotiate));
    assert_eq!(
        route(&LATEST, &direct, PROXY_NEGOTIATE).principal,
        Principal::NotApplicable
    );
    // The implicit proxy credentials still serve the server (R-3).
    assert_eq!(route(&LATEST, &direct, NEGOTIATE).principal, helper_used());
}

// ---- R-3 -------------------------------------------------------------------------------

#[test]
fn r3_by_default_no_implicit_credentials_are_sent() {
    // UseLMCompat 2, no SetCredentials: NETWORK and a helper change nothing.
    for flags in ALL_FLAGS {
        let job = alice_job(flags, Some(bob_id()));
        for access in [
            NEGOTIATE,
            PROXY_NEGOTIATE,
            Access::ServerChallenge(AuthScheme::Ntlm),
        ] {
            let r = route(&LATEST, &job, access);
            assert_eq!(r.principal, Principal::NoCredentials, "{access} {flags}");
            assert_eq!(r.rule.id, RuleId::R3);
        }
    }
    let r = route(&LATEST, &alice_job(NET, None), NEGOTIATE);
    assert_eq!(r.rule.reason, Reason::ImplicitNotAllowed);
    assert_eq!(
        sentence(&LATEST, &alice_job(NET, None), NEGOTIATE),
        "R-3: implicit credentials are not allowed for the server (no SetCredentials(NULL, NULL) for it; UseLMCompat is 2), so none answer its Negotiate challenge"
    );
}

#[test]
fn r3_use_lm_compat_0_always_sends_implicit_credentials() {
    let job = alice_job(NET, Some(bob_id())).with_environment(env(0, 0));
    for access in [
        NEGOTIATE,
        PROXY_NEGOTIATE,
        Access::ProxyChallenge(AuthScheme::Ntlm),
    ] {
        let r = route(&LATEST, &job, access);
        assert_eq!(r.principal, helper_used(), "{access}");
        assert_eq!(r.rule.reason, Reason::ImplicitAsHelper, "{access}");
        let target = access.as_challenge().unwrap().0;
        assert_eq!(
            implicit_allowed(&job, target),
            Some(ImplicitAllowed::UseLmCompatAlways)
        );
    }
}

#[test]
fn r3_use_lm_compat_1_sends_when_lm_compatibility_level_is_2_or_more() {
    for level in 0..=5u32 {
        let job = alice_job(NONE, None).with_environment(env(1, level));
        let r = route(&LATEST, &job, NEGOTIATE);
        if level >= 2 {
            assert_eq!(r.principal, owner_of(&job), "level {level}");
            assert_eq!(r.rule.reason, Reason::ImplicitAsOwner);
            assert_eq!(
                implicit_allowed(&job, AuthTarget::Server),
                Some(ImplicitAllowed::LmCompatibilityLevel)
            );
            assert!(
                bits_helper_token::explain::route(&LATEST, &job, r.access)
                    .to_string()
                    .contains(&format!(
                        "UseLMCompat is 1 and LMCompatibilityLevel is {level}"
                    ))
            );
        } else {
            assert_eq!(r.principal, Principal::NoCredentials, "level {level}");
            assert_eq!(
                sentence(&LATEST, &job, NEGOTIATE),
                format!(
                    "R-3: implicit credentials are not allowed for the server (no SetCredentials(NULL, NULL) for it; UseLMCompat is 1 and LMCompatibilityLevel is {level}), so none answer its Negotiate challenge"
                )
            );
        }
    }
}

#[test]
fn r3_use_lm_compat_2_only_after_set_credentials_for_that_target() {
    for level in [0, 5] {
        let environment = env(2, level);
        let none = alice_job(NET, Some(bob_id())).with_environment(environment);
        assert_eq!(
            route(&LATEST, &none, NEGOTIATE).principal,
            Principal::NoCredentials
        );
        // NTLM or Negotiate opts in both challenge/response schemes of that target.
        for scheme in [AuthScheme::Ntlm, AuthScheme::Negotiate] {
            let server = none.with_credentials(implicit(AuthTarget::Server, scheme));
            assert_eq!(route(&LATEST, &server, NEGOTIATE).principal, helper_used());
            assert_eq!(
                route(&LATEST, &server, Access::ServerChallenge(AuthScheme::Ntlm)).principal,
                helper_used()
            );
            // Server credentials do not serve the proxy.
            assert_eq!(
                route(&LATEST, &server, PROXY_NEGOTIATE).principal,
                Principal::NoCredentials
            );
        }
    }
}

#[test]
fn r3_set_credentials_allows_whatever_the_registry_says() {
    for (use_lm_compat, level) in [(0, 0), (1, 0), (1, 3), (2, 3)] {
        let job = alice_job(NET, Some(bob_id()))
            .with_environment(env(use_lm_compat, level))
            .with_credentials(implicit(AuthTarget::Server, AuthScheme::Negotiate));
        let r = route(&LATEST, &job, NEGOTIATE);
        assert_eq!(r.principal, helper_used());
        assert_eq!(r.rule.reason, Reason::ImplicitAsHelper);
        assert_eq!(
            implicit_allowed(&job, AuthTarget::Server),
            Some(ImplicitAllowed::SetCredentials)
        );
    }
}

#[test]
fn r3_implicit_proxy_credentials_serve_the_server_unless_explicit_server_credentials_exist() {
    let proxy = implicit(AuthTarget::Proxy, AuthScheme::Ntlm);
    let job = alice_job(NET, Some(bob_id())).with_credentials(proxy);
    let r = route(&LATEST, &job, NEGOTIATE);
    assert_eq!(r.principal, helper_used());
    assert_eq!(r.rule.reason, Reason::ImplicitAsHelper);
    assert_eq!(
        implicit_allowed(&job, AuthTarget::Server),
        Some(ImplicitAllowed::ProxyCredentials)
    );

    // Explicit server credentials, of any scheme, stop that.
    for &scheme in AuthScheme::ALL {
        let both = proxy
            .set(AuthTarget::Server, scheme, Credential::Explicit)
            .unwrap();
        let job = job.with_credentials(both);
        let r = route(&LATEST, &job, NEGOTIATE);
        if scheme == AuthScheme::Negotiate {
            assert_eq!(r.rule.id, RuleId::R5);
            continue;
        }
        assert_eq!(r.principal, Principal::NoCredentials, "{scheme}");
        assert_eq!(r.rule.reason, Reason::ImplicitNotAllowed);
        assert!(sentence(&LATEST, &job, NEGOTIATE).contains(
            "the implicit proxy credentials do not serve it because explicit server credentials exist"
        ));
        // The proxy still gets them.
        assert_eq!(
            route(&LATEST, &job, PROXY_NEGOTIATE).principal,
            helper_used()
        );
    }
}

#[test]
fn r3_basic_digest_and_passport_have_no_implicit_credentials() {
    for scheme in [AuthScheme::Basic, AuthScheme::Digest] {
        let refused = Credentials::NONE.set(AuthTarget::Server, scheme, Credential::Implicit);
        let err = refused.unwrap_err();
        assert_eq!(err.scheme, scheme);
        assert_eq!(err.hresult(), HResult::E_INVALIDARG);
    }
    // Passport takes NULL credentials, but BITS sends no implicit Passport credentials,
    // and the entry does not opt in NTLM/Negotiate either.
    let passport = implicit(AuthTarget::Server, AuthScheme::Passport);
    assert!(!passport.has_implicit(AuthTarget::Server));
    for use_lm_compat in 0..=2 {
        let job = alice_job(NET, Some(bob_id()))
            .with_credentials(passport)
            .with_environment(env(use_lm_compat, 5));
        for scheme in [AuthScheme::Basic, AuthScheme::Digest, AuthScheme::Passport] {
            for &target in AuthTarget::ALL {
                let r = route(&LATEST, &job, Access::challenge(target, scheme));
                assert_eq!(r.principal, Principal::NoCredentials);
                assert_eq!(r.rule.reason, Reason::NoImplicitForScheme);
                assert_eq!(r.rule.id, RuleId::R3);
            }
        }
        let negotiate = route(&LATEST, &job, NEGOTIATE).principal;
        let expected = if use_lm_compat == 2 {
            Principal::NoCredentials
        } else {
            helper_used()
        };
        assert_eq!(negotiate, expected, "UseLMCompat {use_lm_compat}");
    }
}

#[test]
fn r3_registry_values_are_refused_never_clamped() {
    assert_eq!(
        UseLmCompat::from_value(3).unwrap_err(),
        NetworkEnvironment::new(3, 0).unwrap_err()
    );
    let e = NetworkEnvironment::new(3, 0).unwrap_err();
    assert_eq!((e.name, e.value, e.max), ("UseLMCompat", 3, 2));
    let e = NetworkEnvironment::new(0, 6).unwrap_err();
    assert_eq!((e.name, e.value, e.max), ("LMCompatibilityLevel", 6, 5));
    assert_eq!(
        e.to_string(),
        "LMCompatibilityLevel is 6; valid values are 0 to 5"
    );
    assert!(LmCompatibilityLevel::new(u32::MAX).is_err());
    assert!(UseLmCompat::try_from(u32::MAX).is_err());
    for v in 0..=2 {
        assert_eq!(UseLmCompat::from_value(v).unwrap().value(), v);
    }
    for v in 0..=5 {
        assert_eq!(LmCompatibilityLevel::new(v).unwrap().value(), v);
    }
    assert_eq!(
        NetworkEnvironment::default(),
        NetworkEnvironment::new(2, 3).unwrap()
    );
}

// ---- R-4 -------------------------------------------------------------------------------

#[test]
fn r4_the_client_certificate_key_is_always_the_owners() {
    for owner in [
        id(&alice()),
        Identity::LOCAL_SYSTEM,
        Identity::LOCAL_SERVICE,
        Identity::NETWORK_SERVICE,
    ] {
        for flags in ALL_FLAGS {
            for h in [None, Some(bob_id())] {
                let facts = world(owner)
                    .with_flags(flags)
                    .with_helper(h)
                    .with_remote(Remote::Https)
                    .with_client_certificate(true);
                let r = route(&LATEST, &facts, Access::ClientCertificateKey);
                assert_eq!(r.principal, Principal::Owner);
                assert_eq!(r.rule.reason, Reason::ClientCertificateKey);
                assert_eq!(r.rule.id, RuleId::R4);
                // Plain HTTP has no TLS handshake: the key is never reached (X-1).
                let http = facts.with_remote(Remote::Http);
                let r = route(&LATEST, &http, Access::ClientCertificateKey);
                assert_eq!(
                    (r.principal, r.rule.id),
                    (Principal::NotApplicable, RuleId::R4)
                );
            }
        }
    }
    // No certificate, or SMB: the key is never reached.
    let r = route(&LATEST, &alice_job(NET, None), Access::ClientCertificateKey);
    assert_eq!(
        (r.principal, r.rule.id),
        (Principal::NotApplicable, RuleId::R4)
    );
}

// ---- R-5 -------------------------------------------------------------------------------

#[test]
fn r5_explicit_credentials_are_sent_as_given_whatever_the_flags() {
    for &target in AuthTarget::ALL {
        for &scheme in AuthScheme::ALL {
            let explicit = creds(&[(target, scheme, Credential::Explicit)]);
            for flags in ALL_FLAGS {
                for h in [None, Some(bob_id())] {
                    let job = alice_job(flags, h)
                        .with_credentials(explicit)
                        .with_environment(env(0, 0));
                    let r = route(&LATEST, &job, Access::challenge(target, scheme));
                    assert_eq!(r.principal, Principal::ExplicitCredentials);
                    assert_eq!(r.rule.reason, Reason::ExplicitCredentials);
                    assert_eq!(r.rule.id, RuleId::R5);
                    assert_eq!(r.failure(), None); // no token, so no L-6
                }
            }
        }
    }
    // Explicit credentials answer their own scheme only.
    let basic = creds(&[(AuthTarget::Server, AuthScheme::Basic, Credential::Explicit)]);
    let job = alice_job(NET, Some(bob_id())).with_credentials(basic);
    assert_eq!(
        route(&LATEST, &job, Access::ServerChallenge(AuthScheme::Digest)).principal,
        Principal::NoCredentials
    );
    assert_eq!(
        route(&LATEST, &job, Access::ProxyChallenge(AuthScheme::Basic)).principal,
        Principal::NoCredentials
    );
}

#[test]
fn r5_remove_credentials_reverts_to_the_implicit_rules() {
    let explicit = creds(&[(
        AuthTarget::Server,
        AuthScheme::Negotiate,
        Credential::Explicit,
    )]);
    let removed = explicit.remove(AuthTarget::Server, AuthScheme::Negotiate);
    assert!(removed.is_empty());
    let job = alice_job(NET, Some(bob_id()))
        .with_credentials(removed)
        .with_environment(env(0, 3));
    assert_eq!(route(&LATEST, &job, NEGOTIATE).principal, helper_used());
}

// ---- R-6 -------------------------------------------------------------------------------

#[test]
fn r6_service_owners_without_a_helper_in_play_are_the_computer_or_anonymous() {
    let cases = [
        (Identity::LOCAL_SYSTEM, Principal::Computer),
        (Identity::NETWORK_SERVICE, Principal::Computer),
        (Identity::LOCAL_SERVICE, Principal::Anonymous),
    ];
    for (owner, expected) in cases {
        // With or without a stored helper token, NETWORK clear: R-6.
        for h in [None, Some(bob_id())] {
            for flags in [NONE, LOCAL] {
                let facts = world(owner).with_flags(flags).with_helper(h);
                let smb = facts.with_remote(Remote::Smb);
                let r = route(&LATEST, &smb, Access::SmbRemoteFile);
                assert_eq!(r.principal, expected);
                assert_eq!(r.rule.reason, Reason::ServiceOwnerOnNetwork);
                assert_eq!(r.rule.id, RuleId::R6);
                let http =
                    facts.with_credentials(implicit(AuthTarget::Server, AuthScheme::Negotiate));
                let r = route(&LATEST, &http, NEGOTIATE);
                assert_eq!((r.principal, r.rule.id), (expected, RuleId::R6));
            }
        }
        // NETWORK with a helper: the helper (R-2); without one: L-6, not R-6.
        let facts = world(owner).with_flags(NET).with_remote(Remote::Smb);
        let r = route(
            &LATEST,
            &facts.with_helper(Some(bob_id())),
            Access::SmbRemoteFile,
        );
        assert_eq!((r.principal, r.rule.id), (helper_used(), RuleId::R2));
        let r = route(&LATEST, &facts, Access::SmbRemoteFile);
        assert_eq!(r.rule.id, RuleId::L6);
    }
    assert_eq!(
        sentence(
            &LATEST,
            &world(Identity::LOCAL_SERVICE).with_remote(Remote::Smb),
            Access::SmbRemoteFile,
        ),
        "R-6: the owner S-1-5-19 is LocalService, so BITS opens the remote file on the SMB share anonymously"
    );
}

#[test]
fn r6_does_not_apply_to_users_local_files_proxy_discovery_or_refused_implicit_credentials() {
    // A user owner on the network is itself.
    let mut smb = alice_job(NONE, None);
    smb = smb.with_remote(Remote::Smb);
    assert_eq!(
        route(&LATEST, &smb, Access::SmbRemoteFile).principal,
        owner_of(&smb)
    );
    for owner in [Identity::LOCAL_SERVICE, Identity::NETWORK_SERVICE] {
        let job = world(owner);
        for (proxy, access) in [
            (ProxyUsage::Autodetect, Access::ProxyAutoDetect),
            (ProxyUsage::Preconfig, Access::ProxyIeSettings),
        ] {
            let r = route(&LATEST, &job.with_proxy(proxy), access);
            assert_eq!((r.principal, r.rule.id), (owner_of(&job), RuleId::R7));
        }
        let r = route(&LATEST, &job, Access::DownloadTempFileCreate);
        assert_eq!((r.principal, r.rule.id), (owner_of(&job), RuleId::R1));
        // R-3 refuses first: nothing is sent, so nobody appears on the network.
        let r = route(&LATEST, &job, NEGOTIATE);
        assert_eq!(
            (r.principal, r.rule.id),
            (Principal::NoCredentials, RuleId::R3)
        );
    }
}

// ---- R-7 -------------------------------------------------------------------------------

#[test]
fn r7_wpad_runs_as_the_helper_with_network_on_every_release() {
    for &release in Release::ALL {
        let profile = Profile::new(release);
        for flags in ALL_FLAGS {
            let job = alice_job(flags, Some(bob_id())).with_proxy(ProxyUsage::Autodetect);
            let r = route(&profile, &job, Access::ProxyAutoDetect);
            assert_eq!(r.rule.id, RuleId::R7);
            let expected = if flags.contains(NET) {
                helper_used()
            } else {
                owner_of(&job)
            };
            assert_eq!(r.principal, expected, "{release} {flags}");
        }
    }
    // PRECONFIG runs WPAD when its IE settings ask for auto-detection (the world here).
    let job = alice_job(NET, Some(bob_id())).with_proxy(ProxyUsage::Preconfig);
    let r = route(&LATEST, &job, Access::ProxyAutoDetect);
    assert_eq!((r.principal, r.rule.id), (helper_used(), RuleId::R7));
    // Direct IE settings, a fixed proxy, or none: no WPAD.
    for job in [
        job.with_ie_settings(IeSettings::Direct),
        job.with_proxy(ProxyUsage::Override),
        job.with_proxy(ProxyUsage::NoProxy),
    ] {
        let r = route(&LATEST, &job, Access::ProxyAutoDetect);
        assert_eq!(
            (r.principal, r.rule.id),
            (Principal::NotApplicable, RuleId::R7)
        );
    }
}

#[test]
fn r7_ie_settings_run_as_the_helper_only_from_1809() {
    let job = alice_job(NET, Some(bob_id()));
    let r = route(&LATEST, &job, Access::ProxyIeSettings);
    assert_eq!((r.principal, r.rule.id), (helper_used(), RuleId::R7));
    for profile in [P1607, LEGACY] {
        let r = route(&profile, &job, Access::ProxyIeSettings);
        assert_eq!(r.principal, owner_of(&job));
        assert_eq!(r.rule.reason, Reason::PreconfigAsOwner);
        assert_eq!(r.rule.id, RuleId::R7);
        // Before 1809 the missing helper is not needed here: no L-6.
        let r = route(&profile, &alice_job(NET, None), Access::ProxyIeSettings);
        assert_eq!(r.principal, owner_of(&job));
    }
    let r = route(&LATEST, &alice_job(NET, None), Access::ProxyIeSettings);
    assert_eq!(r.rule.id, RuleId::L6);
    assert_eq!(
        sentence(&P1607, &job, Access::ProxyIeSettings),
        "R-7: before Windows 10 1809 (here win10_1607) BITS reads the IE proxy settings as the owner S-1-5-21-1-2-3-1001, even with BG_TOKEN_NETWORK set"
    );
}

// ---- L-6 and the owner's other accesses ----------------------------------------------

#[test]
fn l6_an_access_routed_to_a_missing_helper_fails_with_token_required() {
    let smb = world(id(&alice())).with_remote(Remote::Smb);
    let cases: [(JobFacts, Access, TokenUsage); 6] = [
        (
            alice_job(LOCAL, None),
            Access::DownloadTempFileCreate,
            LOCAL,
        ),
        (
            alice_job(BOTH, None).with_job_type(JobType::Upload),
            Access::UploadLocalFile,
            LOCAL,
        ),
        (smb.with_flags(NET), Access::SmbRemoteFile, NET),
        (
            alice_job(NET, None).with_proxy(ProxyUsage::Autodetect),
            Access::ProxyAutoDetect,
            NET,
        ),
        (
            alice_job(NET, None).with_environment(env(0, 0)),
            PROXY_NEGOTIATE,
            NET,
        ),
        (
            alice_job(NET, None).with_credentials(implicit(AuthTarget::Server, AuthScheme::Ntlm)),
            Access::ServerChallenge(AuthScheme::Ntlm),
            NET,
        ),
    ];
    for (job, access, usage) in cases {
        assert_eq!(access.flag(), Some(usage), "{access}");
        let r = route(&LATEST, &job, access);
        assert_eq!(r.principal, Principal::MissingHelper, "{access}");
        assert_eq!(r.rule.reason, Reason::HelperTokenMissing);
        assert_eq!(r.rule.id, RuleId::L6);
        let failure = r.failure().expect("L-6 fails the job");
        assert_eq!(failure.hresult, HResult::BG_E_TOKEN_REQUIRED);
        assert_eq!(failure.rule.reason, Reason::HelperTokenMissing);
        assert_eq!(failure.rule.id, RuleId::L6);
    }
    assert_eq!(
        sentence(
            &LATEST,
            &alice_job(LOCAL, None),
            Access::DownloadTempFileRename
        ),
        "L-6: BG_TOKEN_LOCAL_FILE routes the access where BITS renames the download's temporary file to its final name to the helper token, and no helper token is stored: the job goes to ERROR with BG_E_TOKEN_REQUIRED"
    );
}

#[test]
fn section4_other_accesses_are_the_owners() {
    for flags in ALL_FLAGS {
        for h in [None, Some(bob_id())] {
            let job = alice_job(flags, h);
            let r = route(&LATEST, &job, Access::Other);
            assert_eq!(r.principal, owner_of(&job));
            assert_eq!(r.rule.reason, Reason::OwnerAccess);
            assert_eq!(r.rule.id, RuleId::R0);
        }
    }
}

// ---- transfer plans, X-1, X-2 ----------------------------------------------------------

/// `profile` with Q-8 set to `check`.
fn with_token_check(profile: Profile, check: TokenCheck) -> Profile {
    let mut knobs = profile.knobs;
    knobs.token_check = check;
    profile.with_knobs(knobs)
}

fn names(plan: &TransferPlan) -> Vec<&'static str> {
    plan.iter().map(|r| r.access.name()).collect()
}

/// The plan tests' world (X-3): the server and the proxy ask for Negotiate; the IE
/// settings auto-detect a proxy (R-7).
fn negotiate(job: JobFacts) -> JobFacts {
    job.with_challenges(
        Challenges::NONE
            .with(AuthTarget::Server, AuthScheme::Negotiate)
            .with(AuthTarget::Proxy, AuthScheme::Negotiate),
    )
}

#[test]
fn plan_order_per_job_type_and_protocol() {
    let job = negotiate(alice_job(NONE, None));
    assert_eq!(
        names(&transfer_plan(&LATEST, &job)),
        [
            "proxy_ie_settings",
            "proxy_auto_detect",
            "proxy_challenge",
            "server_challenge",
            "download_temp_file_create",
            "download_temp_file_rename"
        ]
    );
    let upload_reply = job
        .with_job_type(JobType::UploadReply)
        .with_proxy(ProxyUsage::Autodetect);
    assert_eq!(
        names(&transfer_plan(&LATEST, &upload_reply)),
        [
            "upload_local_file",
            "proxy_auto_detect",
            "proxy_challenge",
            "server_challenge",
            "reply_file_create",
            "reply_file_rename"
        ]
    );
    let upload = job
        .with_job_type(JobType::Upload)
        .with_proxy(ProxyUsage::NoProxy);
    assert_eq!(
        names(&transfer_plan(&LATEST, &upload)),
        ["upload_local_file", "server_challenge"]
    );
    let smb = job
        .with_proxy(ProxyUsage::Override)
        .with_remote(Remote::Smb)
        .with_client_certificate(true);
    assert_eq!(
        names(&transfer_plan(&LATEST, &smb)),
        [
            "smb_remote_file",
            "download_temp_file_create",
            "download_temp_file_rename"
        ]
    );
    // OVERRIDE: no discovery, but a proxy to answer.
    let over = job.with_proxy(ProxyUsage::Override);
    assert_eq!(
        names(&transfer_plan(&LATEST, &over))[..2],
        ["proxy_challenge", "server_challenge"]
    );
    // PRECONFIG with direct IE settings: the IE settings are read, no proxy, no
    // discovery (R-7, X-3).
    let direct = job.with_ie_settings(IeSettings::Direct);
    assert_eq!(
        names(&transfer_plan(&LATEST, &direct))[..2],
        ["proxy_ie_settings", "server_challenge"]
    );
    // Nobody challenges: no challenge steps at all (X-3: none by default).
    let quiet = job.with_challenges(Challenges::NONE);
    assert!(
        !names(&transfer_plan(&LATEST, &quiet))
            .iter()
            .any(|n| n.contains("challenge"))
    );
}

#[test]
fn x3_challenges_are_a_set_per_target() {
    // Nobody challenges by default; one scheme asked by the server is not asked by the proxy.
    assert!(Challenges::NONE.is_empty());
    assert_eq!(Challenges::default(), Challenges::NONE);
    for &target in AuthTarget::ALL {
        for &scheme in AuthScheme::ALL {
            let one = Challenges::NONE.with(target, scheme);
            assert!(!one.is_empty(), "{target:?} {scheme:?}");
            // Asking twice is asking once: `with` adds to a set, it does not toggle.
            assert_eq!(one.with(target, scheme), one, "{target:?} {scheme:?}");
            assert!(one.with(target, scheme).asks(target, scheme));
            for &other_target in AuthTarget::ALL {
                for &other in AuthScheme::ALL {
                    let expected = other_target == target && other == scheme;
                    assert_eq!(
                        one.asks(other_target, other),
                        expected,
                        "{target:?} {scheme:?}"
                    );
                }
            }
        }
    }
}

/// Alice's network job with Bob's helper token behind a proxy, where the server asks for
/// Basic and NTLM and the proxy for Digest, and credentials answer each: explicit Basic
/// and implicit NTLM for the server, explicit Digest for the proxy.
fn answered_challenges_job() -> JobFacts {
    let c = creds(&[
        (AuthTarget::Server, AuthScheme::Basic, Credential::Explicit),
        (AuthTarget::Server, AuthScheme::Ntlm, Credential::Implicit),
        (AuthTarget::Proxy, AuthScheme::Digest, Credential::Explicit),
    ]);
    // X-3: the challenges are an input; here the ones the credentials answer.
    let asks = Challenges::NONE
        .with(AuthTarget::Server, AuthScheme::Basic)
        .with(AuthTarget::Server, AuthScheme::Ntlm)
        .with(AuthTarget::Proxy, AuthScheme::Digest);
    alice_job(NET, Some(bob_id()))
        .with_credentials(c)
        .with_challenges(asks)
        .with_proxy(ProxyUsage::Override)
}

#[test]
fn plan_challenges_are_the_schemes_the_server_and_the_proxy_ask_for() {
    let job = answered_challenges_job();
    let plan = transfer_plan(&LATEST, &job);
    // X-3 (SPEC v3): one step per target, answered in the strongest answerable scheme:
    // the proxy in Digest (explicit), the server in NTLM (the helper, R-2) over Basic.
    assert_eq!(
        names(&plan),
        [
            "proxy_challenge",
            "server_challenge",
            "download_temp_file_create",
            "download_temp_file_rename"
        ]
    );
    let used: Vec<(&str, Option<AuthScheme>)> = plan
        .iter()
        .map(|r| (r.principal.name(), r.scheme))
        .collect();
    assert_eq!(
        used,
        [
            ("explicit_credentials", Some(AuthScheme::Digest)),
            ("helper", Some(AuthScheme::Ntlm)),
            ("owner", None),
            ("owner", None)
        ]
    );
    assert_eq!(plan.outcome(), TransferOutcome::Transferred);
    assert_eq!(plan.outcome().state(), JobState::Transferred);
    assert_eq!(plan.failing_step(), None);
    // Each step is exactly what `route` says.
    for step in &plan {
        assert_eq!(*step, route(&LATEST, &job, step.access));
    }
    assert_eq!(
        plan.step(Access::WholeChallenge(AuthTarget::Server))
            .map(|r| r.principal),
        Some(helper_used())
    );
    assert_eq!(plan.step(NEGOTIATE), None);
}

#[test]
fn x1_the_client_certificate_job_fails_with_0x80072f9a() {
    // Nobody challenges here (X-3's default): the certificate alone decides.
    for owner in [
        Identity::NETWORK_SERVICE,
        Identity::LOCAL_SERVICE,
        id(&alice()),
    ] {
        let facts = JobFacts::new(owner)
            .with_flags(NET)
            .with_helper(Some(bob_id()))
            .with_client_certificate(true)
            .with_remote(Remote::Https);
        let plan = transfer_plan(&LATEST, &facts);
        let failure = plan.outcome().failure().expect("X-1");
        assert_eq!(failure.hresult, 0x8007_2F9Au32);
        assert_eq!(failure.rule.reason, Reason::ClientCertificateWithNetwork);
        assert_eq!(failure.rule.id, RuleId::X1);
        assert_eq!(plan.outcome().state(), JobState::Error);
        // The failing step is the key, reached as the owner (R-4).
        let step = plan.failing_step().expect("a failing step");
        assert_eq!(step.access, Access::ClientCertificateKey);
        assert_eq!(step.principal, Principal::Owner);
        // The same as what SetHelperTokenFlags predicted.
        assert_eq!(
            Some(failure),
            client_certificate_failure(&facts, facts.flags)
        );
    }
    // LocalSystem, LOCAL_FILE only, no certificate, plain HTTP (no TLS), SMB: transferred.
    let base = JobFacts::new(Identity::NETWORK_SERVICE)
        .with_helper(Some(bob_id()))
        .with_client_certificate(true)
        .with_remote(Remote::Https);
    for facts in [
        base.with_owner(Identity::LOCAL_SYSTEM).with_flags(NET),
        base.with_flags(LOCAL),
        base.with_flags(NET).with_client_certificate(false),
        base.with_flags(NET).with_remote(Remote::Http),
        base.with_flags(NET).with_remote(Remote::Smb),
    ] {
        let plan = transfer_plan(&LATEST, &facts);
        assert_eq!(plan.outcome(), TransferOutcome::Transferred, "{facts:?}");
        assert_eq!(
            client_certificate_failure(&facts, facts.flags),
            None,
            "{facts:?}"
        );
    }
}

#[test]
fn x2_l6_q8_a_job_with_flags_and_no_helper_fails_with_token_required() {
    let lazy = with_token_check(LATEST, TokenCheck::Lazy);
    let quiet = |flags| JobFacts::new(id(&alice())).with_flags(flags);
    // Q-8 eager (the default): any non-zero flags without a token fail before any access.
    for flags in [LOCAL, NET, BOTH] {
        let plan = transfer_plan(&LATEST, &quiet(flags).with_proxy(ProxyUsage::NoProxy));
        let failure = plan.outcome().failure().expect("L-6");
        assert_eq!(failure.hresult, HResult::BG_E_TOKEN_REQUIRED);
        assert_eq!(failure.rule.reason, Reason::HelperTokenMissing);
        assert_eq!(plan.failing_step(), None, "{flags}: before any access");
    }
    assert_eq!(
        transfer_plan(&LATEST, &quiet(NONE)).outcome(),
        TransferOutcome::Transferred
    );
    // Q-8 lazy: LOCAL_FILE fails at the temporary file.
    let plan = transfer_plan(&lazy, &quiet(LOCAL));
    assert_eq!(
        plan.outcome().failure().map(|f| f.rule.reason),
        Some(Reason::HelperTokenMissing)
    );
    assert_eq!(
        plan.failing_step().map(|r| r.access),
        Some(Access::DownloadTempFileCreate)
    );
    // Lazy, NETWORK, nothing routed to the helper (no proxy, nobody challenges): transferred.
    let no_proxy = quiet(NET).with_proxy(ProxyUsage::NoProxy);
    assert_eq!(
        transfer_plan(&lazy, &no_proxy).outcome(),
        TransferOutcome::Transferred
    );
    // Lazy, PRECONFIG with direct IE settings: the IE settings are read as the helper only
    // from 1809 (R-7), so 1607 transfers and 1809 fails at that step.
    let preconfig = quiet(NET).with_ie_settings(IeSettings::Direct);
    let p1607 = P1607.with_knobs(lazy.knobs);
    assert_eq!(
        transfer_plan(&p1607, &preconfig).outcome(),
        TransferOutcome::Transferred
    );
    let plan = transfer_plan(&lazy, &preconfig);
    assert_eq!(
        plan.failing_step().map(|r| r.access),
        Some(Access::ProxyIeSettings)
    );
    assert_eq!(
        bits_helper_token::explain::transfer_plan(&lazy, &preconfig)
            .to_string()
            .lines()
            .last()
            .unwrap(),
        "=> ERROR: transfer returns 0x80200056 (BG_E_TOKEN_REQUIRED): L-6: the flags route an access of this transfer to the helper token (BG_TOKEN_NETWORK), and no helper token is stored"
    );
}

#[test]
fn l6_q8_a_failed_transfer_names_the_access_it_failed_at() {
    // A queued download with both flags and no helper token: under Q-8 lazy its transfer
    // fails at the first access routed to the missing helper, the IE settings read at
    // PRECONFIG (R-7), and the decision (`Decision::failed_at`) and its explanation name
    // that access and its one flag, not the job's two.
    let lazy = with_token_check(LATEST, TokenCheck::Lazy);
    let job = JobFacts::new(id(&alice()))
        .with_state(JobState::Queued)
        .with_flags(BOTH);
    let decision = transfer(&lazy, &job);
    assert_eq!(decision.hresult(), HResult::BG_E_TOKEN_REQUIRED);
    assert_eq!(
        decision.failed_at(),
        Some(Access::ProxyIeSettings),
        "{decision:?}"
    );
    assert_eq!(
        decision.failed_at(),
        transfer_plan(&lazy, &job).failing_step().map(|r| r.access)
    );
    assert_eq!(
        bits_helper_token::explain::transfer_plan(&lazy, &job)
            .to_string()
            .lines()
            .last()
            .unwrap(),
        "=> ERROR: transfer returns 0x80200056 (BG_E_TOKEN_REQUIRED): L-6: the flags route an access of this transfer to the helper token (BG_TOKEN_NETWORK), and no helper token is stored"
    );
    // Q-8 eager: the same job fails before any access.
    let eager = transfer(&LATEST, &job);
    assert_eq!(eager.hresult(), HResult::BG_E_TOKEN_REQUIRED);
    assert_eq!(eager.failed_at(), None);
}

#[test]
fn x1_x2_token_required_comes_before_the_certificate_failure() {
    let facts = JobFacts::new(Identity::NETWORK_SERVICE)
        .with_flags(BOTH)
        .with_remote(Remote::Https)
        .with_client_certificate(true);
    for profile in [P1607, with_token_check(P1607, TokenCheck::Lazy)] {
        let plan = transfer_plan(&profile, &facts);
        assert_eq!(
            plan.outcome().failure().map(|f| f.rule.reason),
            Some(Reason::HelperTokenMissing)
        );
        // Lazy: at the key, whose TLS connection the missing helper would make.
        let lazy = profile.knobs.token_check == TokenCheck::Lazy;
        assert_eq!(
            plan.failing_step().map(|r| r.access),
            lazy.then_some(Access::ClientCertificateKey)
        );
        // With a token, X-1.
        let plan = transfer_plan(&profile, &facts.with_helper(Some(bob_id())));
        assert_eq!(
            plan.outcome().failure().map(|f| f.rule.id),
            Some(RuleId::X1)
        );
    }
}

#[test]
fn x3_a_challenge_nothing_answers_fails_with_401_or_407() {
    let job = JobFacts::new(id(&alice()))
        .with_flags(NET)
        .with_helper(Some(bob_id()))
        .with_proxy(ProxyUsage::Override);
    // The server asks for Basic and no explicit credentials answer: 401.
    let basic = job.with_challenges(Challenges::NONE.with(AuthTarget::Server, AuthScheme::Basic));
    let plan = transfer_plan(&LATEST, &basic);
    let failure = plan.outcome().failure().expect("X-3");
    assert_eq!(failure.hresult, HResult::BG_E_HTTP_ERROR_401);
    assert_eq!(
        (failure.rule.id, failure.rule.reason),
        (RuleId::X3, Reason::ServerChallengeUnanswered)
    );
    assert_eq!(
        plan.failing_step().map(|r| (r.access, r.principal)),
        Some((
            Access::WholeChallenge(AuthTarget::Server),
            Principal::Unanswered
        ))
    );
    // Explicit credentials answer it (R-5).
    let answered = basic.with_credentials(creds(&[(
        AuthTarget::Server,
        AuthScheme::Basic,
        Credential::Explicit,
    )]));
    assert_eq!(
        transfer_plan(&LATEST, &answered).outcome(),
        TransferOutcome::Transferred
    );
    // The proxy asks for Negotiate and implicit credentials are not allowed (R-3): 407.
    let proxy =
        job.with_challenges(Challenges::NONE.with(AuthTarget::Proxy, AuthScheme::Negotiate));
    let failure = transfer_plan(&LATEST, &proxy)
        .outcome()
        .failure()
        .expect("X-3");
    assert_eq!(failure.hresult, HResult::BG_E_HTTP_ERROR_407);
    assert_eq!(failure.rule.reason, Reason::ProxyChallengeUnanswered);
    // SetCredentials(NULL, NULL) allows the helper's implicit credentials (R-2, R-3).
    let allowed = proxy.with_credentials(implicit(AuthTarget::Proxy, AuthScheme::Negotiate));
    assert_eq!(
        transfer_plan(&LATEST, &allowed).outcome(),
        TransferOutcome::Transferred
    );
    // No proxy in the way: the proxy cannot challenge.
    let direct = proxy.with_proxy(ProxyUsage::NoProxy);
    assert_eq!(
        transfer_plan(&LATEST, &direct).outcome(),
        TransferOutcome::Transferred
    );
    // R-6 (SPEC v3): a NetworkService helper presents the computer only through a
    // Negotiate entry with Kerberos, whatever the scheme offered. An NTLM entry alone gives
    // it nothing usable, for NTLM and Negotiate alike (C6 a).
    let service = job.with_helper(Some(Identity::NETWORK_SERVICE));
    let ntlm_entry = service.with_credentials(implicit(AuthTarget::Server, AuthScheme::Ntlm));
    for scheme in [AuthScheme::Ntlm, AuthScheme::Negotiate] {
        let offered = ntlm_entry.with_challenges(Challenges::NONE.with(AuthTarget::Server, scheme));
        let failure = transfer_plan(&LATEST, &offered)
            .outcome()
            .failure()
            .expect("X-3");
        assert_eq!(failure.hresult, HResult::BG_E_HTTP_ERROR_401, "{scheme}");
    }
    // A Negotiate entry: the computer answers NTLM too (C6 b), and Negotiate.
    let negotiate_entry =
        service.with_credentials(implicit(AuthTarget::Server, AuthScheme::Negotiate));
    for scheme in [AuthScheme::Ntlm, AuthScheme::Negotiate] {
        let offered =
            negotiate_entry.with_challenges(Challenges::NONE.with(AuthTarget::Server, scheme));
        let plan = transfer_plan(&LATEST, &offered);
        assert_eq!(plan.outcome(), TransferOutcome::Transferred, "{scheme}");
        assert_eq!(
            plan.step(Access::WholeChallenge(AuthTarget::Server))
                .map(|r| (r.principal, r.scheme)),
            Some((Principal::Computer, Some(scheme)))
        );
        // Without Kerberos in the domain, nothing usable (R-6).
        let no_kerberos =
            offered.with_environment(NetworkEnvironment::DEFAULT.with_kerberos(false));
        let failure = transfer_plan(&LATEST, &no_kerberos)
            .outcome()
            .failure()
            .expect("X-3 without Kerberos");
        assert_eq!(failure.hresult, HResult::BG_E_HTTP_ERROR_401, "{scheme}");
    }
}

/// R-6 (SPEC v3) per source of the permission: only a Negotiate entry — the target's own,
/// or for the server the proxy's (R-3 (ii)) — lets LocalSystem or NetworkService present
/// the computer; an NTLM entry, `UseLMCompat` 0, or `UseLMCompat` 1 with LMCompatibilityLevel
/// ≥ 2 allow implicit credentials (R-3) that these accounts cannot present.
#[test]
fn r6_the_computer_needs_a_negotiate_entry_and_kerberos() {
    let ntlm = Access::ServerChallenge(AuthScheme::Ntlm);
    let negotiate = Access::ServerChallenge(AuthScheme::Negotiate);
    let both = Challenges::NONE
        .with(AuthTarget::Server, AuthScheme::Ntlm)
        .with(AuthTarget::Server, AuthScheme::Negotiate)
        .with(AuthTarget::Proxy, AuthScheme::Ntlm);
    for owner in [Identity::LOCAL_SYSTEM, Identity::NETWORK_SERVICE] {
        let job = JobFacts::new(owner)
            .with_challenges(both)
            .with_proxy(ProxyUsage::Override);
        let who = |j: &JobFacts, access| {
            let r = route(&LATEST, j, access);
            (r.principal, r.rule.id)
        };
        let computer = (Principal::Computer, RuleId::R6);
        let nothing = (Principal::NoCredentials, RuleId::R6);
        // The server's own Negotiate entry: NTLM and Negotiate as the computer.
        let own = job.with_credentials(implicit(AuthTarget::Server, AuthScheme::Negotiate));
        assert_eq!(
            (who(&own, ntlm), who(&own, negotiate)),
            (computer, computer)
        );
        // The proxy's Negotiate entry serves the server (R-3 (ii)), and the proxy.
        let proxy = job.with_credentials(implicit(AuthTarget::Proxy, AuthScheme::Negotiate));
        assert_eq!(who(&proxy, negotiate), computer);
        assert_eq!(
            who(&proxy, Access::ProxyChallenge(AuthScheme::Ntlm)),
            computer
        );
        // ... unless explicit server credentials exist: then R-3 (ii) does not apply.
        let explicit = proxy.with_credentials(
            Credentials::NONE
                .set(
                    AuthTarget::Proxy,
                    AuthScheme::Negotiate,
                    Credential::Implicit,
                )
                .and_then(|c| c.set(AuthTarget::Server, AuthScheme::Basic, Credential::Explicit))
                .unwrap(),
        );
        assert_eq!(who(&explicit, negotiate).0, Principal::NoCredentials);
        // An NTLM entry (C6 a), or the registry alone: no usable credentials.
        let ntlm_entry = job.with_credentials(implicit(AuthTarget::Server, AuthScheme::Ntlm));
        assert_eq!(
            (who(&ntlm_entry, ntlm), who(&ntlm_entry, negotiate)),
            (nothing, nothing)
        );
        for env in [
            NetworkEnvironment::new(0, 3).unwrap(),
            NetworkEnvironment::new(1, 2).unwrap(),
        ] {
            let registry = job.with_environment(env);
            assert!(
                implicit_allowed(&registry, AuthTarget::Server).is_some(),
                "{env:?}"
            );
            assert_eq!(who(&registry, negotiate), nothing, "{env:?}");
        }
        // Kerberos unavailable: the Negotiate entry gives nothing either.
        let no_kerberos = own.with_environment(NetworkEnvironment::DEFAULT.with_kerberos(false));
        assert_eq!(who(&no_kerberos, negotiate), nothing);
    }
    // LocalService is anonymous whatever the entry, and anonymous answers nothing (X-3).
    let local_service = JobFacts::new(Identity::LOCAL_SERVICE)
        .with_challenges(both)
        .with_credentials(implicit(AuthTarget::Server, AuthScheme::Negotiate));
    let r = route(&LATEST, &local_service, negotiate);
    assert_eq!((r.principal, r.rule.id), (Principal::Anonymous, RuleId::R6));
    assert_eq!(
        r.failure().map(|f| f.hresult),
        Some(HResult::BG_E_HTTP_ERROR_401)
    );
}

/// Q-12: with `service_proxy_credentials: none`, LocalSystem and NetworkService answer no
/// proxy challenge implicitly (rule Q-12, which decided); the server is unaffected, and at
/// the default R-6 decides (the contract's worked line E).
#[test]
fn q12_service_accounts_behind_an_authenticating_proxy() {
    let none = Profile::new(Release::Win10_1809)
        .with_knobs(Knobs::default().with_service_proxy_credentials(ServiceProxyCredentials::None));
    let svc = JobFacts::new(Identity::NETWORK_SERVICE)
        .with_proxy(ProxyUsage::Override)
        .with_challenges(
            Challenges::NONE
                .with(AuthTarget::Proxy, AuthScheme::Ntlm)
                .with(AuthTarget::Server, AuthScheme::Negotiate),
        )
        .with_credentials(implicit(AuthTarget::Proxy, AuthScheme::Negotiate));
    let proxy_ntlm = Access::ProxyChallenge(AuthScheme::Ntlm);
    let server = Access::ServerChallenge(AuthScheme::Negotiate);
    let r = route(&LATEST, &svc, proxy_ntlm);
    assert_eq!((r.principal, r.rule.id), (Principal::Computer, RuleId::R6));
    let r = route(&none, &svc, proxy_ntlm);
    assert_eq!(
        (r.principal, r.rule.id),
        (Principal::NoCredentials, RuleId::Q12)
    );
    assert_eq!(
        r.failure().map(|f| f.hresult),
        Some(HResult::BG_E_HTTP_ERROR_407)
    );
    // The server's challenge, served by the proxy's Negotiate entry (R-3 (ii)): the computer.
    for p in [LATEST, none] {
        let r = route(&p, &svc, server);
        assert_eq!((r.principal, r.rule.id), (Principal::Computer, RuleId::R6));
    }
    assert_eq!(
        transfer_plan(&LATEST, &svc).outcome(),
        TransferOutcome::Transferred
    );
    let failure = transfer_plan(&none, &svc).outcome().failure().expect("407");
    assert_eq!(
        (failure.hresult, failure.rule.id),
        (HResult::BG_E_HTTP_ERROR_407, RuleId::X3)
    );
    // Where R-6 already withholds the computer (no Negotiate entry), Q-12 did not decide.
    let ntlm_entry = svc.with_credentials(implicit(AuthTarget::Proxy, AuthScheme::Ntlm));
    assert_eq!(route(&none, &ntlm_entry, proxy_ntlm).rule.id, RuleId::R6);
    assert!(
        bits_helper_token::explain::route(&none, &svc, proxy_ntlm)
            .to_string()
            .contains(
                "with service_proxy_credentials none these accounts answer no proxy challenge"
            )
    );
}

#[test]
fn plan_display_lists_the_steps_and_the_outcome() {
    let job = negotiate(alice_job(NET, Some(bob_id())))
        .with_proxy(ProxyUsage::NoProxy)
        .with_job_type(JobType::Upload)
        .with_credentials(implicit(AuthTarget::Server, AuthScheme::Negotiate));
    assert_eq!(
        bits_helper_token::explain::transfer_plan(&LATEST, &job).to_string(),
        "1. upload_local_file: the owner S-1-5-21-1-2-3-1001 (R-1: BG_TOKEN_LOCAL_FILE is not set, so BITS opens the upload's local file as the owner S-1-5-21-1-2-3-1001)\n\
         2. server_challenge: BITS answers in Negotiate, the strongest scheme the server offers that can be answered (X-3), as the helper token S-1-5-21-1-2-3-1002 (R-2: BG_TOKEN_NETWORK is set, so BITS answers the server's Negotiate challenge with the implicit credentials of the helper token S-1-5-21-1-2-3-1002 (R-3 allows them: SetCredentials(NULL, NULL) was called for this target))\n\
         => TRANSFERRED"
    );
}

// ---- properties ------------------------------------------------------------------------

/// The properties use the `proptest` crate, which comes with the crate's own `proptest`
/// feature (`cargo test --all-features`); a plain `cargo test` leaves them out.
#[cfg(feature = "proptest")]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn pool_identity() -> impl Strategy<Value = Identity> {
        (
            prop_oneof![
                Just(Sid::LOCAL_SYSTEM),
                Just(Sid::LOCAL_SERVICE),
                Just(Sid::NETWORK_SERVICE),
                (1000u32..1003).prop_map(|rid| Sid::new(5, &[21, 1, 2, 3, rid]).unwrap()),
            ],
            any::<bool>(),
        )
            .prop_map(|(sid, admin)| Identity::new(sid, admin))
    }

    fn credentials() -> impl Strategy<Value = Credentials> {
        prop::collection::vec(
            (
                prop::sample::select(AuthTarget::ALL.to_vec()),
                prop::sample::select(AuthScheme::ALL.to_vec()),
                prop::sample::select(vec![Credential::Explicit, Credential::Implicit]),
            ),
            0..6,
        )
        .prop_map(|entries| {
            // Refused entries (implicit Basic/Digest) leave the credentials as they were.
            entries.into_iter().fold(Credentials::NONE, |c, (t, s, v)| {
                c.set(t, s, v).unwrap_or(c)
            })
        })
    }

    fn transfer_job() -> impl Strategy<Value = JobFacts> {
        (
            (
                pool_identity(),
                0u32..4,
                prop::option::of(pool_identity()),
                any::<bool>(),
                prop::sample::select(Remote::ALL.to_vec()),
            ),
            (
                prop::sample::select(JobType::ALL.to_vec()),
                credentials(),
                prop::sample::select(ProxyUsage::ALL.to_vec()),
                0u32..3,
                0u32..6,
            ),
            (
                prop::collection::vec(any::<bool>(), AuthTarget::ALL.len() * AuthScheme::ALL.len()),
                prop::sample::select(IeSettings::ALL.to_vec()),
            ),
        )
            .prop_map(
                |(
                    (owner, flags, h, cert, remote),
                    (job_type, c, proxy, use_lm, level),
                    (asks, ie),
                )| {
                    // X-3: a random set of challenges, by the server and by the proxy.
                    let pairs = AuthTarget::ALL
                        .iter()
                        .flat_map(|&t| AuthScheme::ALL.iter().map(move |&s| (t, s)));
                    let challenges = pairs
                        .zip(asks)
                        .filter(|&(_, ask)| ask)
                        .fold(Challenges::NONE, |c, ((t, s), _)| c.with(t, s));
                    let facts = JobFacts::new(owner)
                        .with_challenges(challenges)
                        .with_ie_settings(ie)
                        .with_flags(TokenUsage::from_bits_retain(flags))
                        .with_helper(h)
                        .with_client_certificate(cert)
                        .with_remote(remote);
                    facts
                        .with_job_type(job_type)
                        .with_credentials(c)
                        .with_proxy(proxy)
                        .with_environment(env(use_lm, level))
                },
            )
            // An upload-reply job cannot use SMB.
            .prop_filter("the job can exist", JobFacts::can_exist)
    }

    fn any_profile() -> impl Strategy<Value = Profile> {
        (
            prop::sample::select(Release::ALL.to_vec()),
            prop::sample::select(vec![TokenCheck::Eager, TokenCheck::Lazy]),
        )
            .prop_map(|(release, check)| with_token_check(Profile::new(release), check))
    }

    fn any_access() -> impl Strategy<Value = Access> {
        prop::sample::select(Access::ALL.to_vec())
    }

    /// The flag SPEC §4 names for each access that can go to the helper (R-1, R-2, R-7).
    fn naming_flag(access: Access) -> Option<TokenUsage> {
        match access {
            Access::UploadLocalFile
            | Access::DownloadTempFileCreate
            | Access::DownloadTempFileRename
            | Access::ReplyFileCreate
            | Access::ReplyFileRename => Some(LOCAL),
            Access::SmbRemoteFile
            | Access::ProxyAutoDetect
            | Access::ProxyIeSettings
            | Access::ServerChallenge(AuthScheme::Ntlm | AuthScheme::Negotiate)
            | Access::ProxyChallenge(AuthScheme::Ntlm | AuthScheme::Negotiate) => Some(NET),
            _ => None,
        }
    }

    /// The flag that routes an access — for a whole challenge, its chosen scheme's (X-3).
    fn routed_flag(r: &Route) -> Option<TokenUsage> {
        match (r.access, r.scheme) {
            (Access::WholeChallenge(t), Some(s)) => naming_flag(Access::challenge(t, s)),
            _ => naming_flag(r.access),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// T-1, R-1, R-2: with flags 0 nothing goes to the helper, and nothing needs it (L-6,
        /// X-1): the only way such a transfer fails is a challenge nothing answers (X-3).
        #[test]
        fn prop_flags_0_never_route_to_the_helper(
            p in any_profile(), job in transfer_job(), access in any_access()
        ) {
            let job = job.with_flags(NONE);
            let r = route(&p, &job, access);
            prop_assert!(r.principal != Principal::Helper, "{}", bits_helper_token::explain::route(&p, &job, r.access));
            prop_assert!(r.principal != Principal::MissingHelper, "{}", bits_helper_token::explain::route(&p, &job, r.access));
            prop_assert!(r.failure().is_none_or(|f| f.rule.id == RuleId::X3), "{}", bits_helper_token::explain::route(&p, &job, r.access));
            let plan = transfer_plan(&p, &job);
            prop_assert!(plan.outcome().failure().is_none_or(|f| f.rule.id == RuleId::X3));
            prop_assert_eq!(client_certificate_failure(&job, NONE), None);
        }

        /// R-4: the client certificate's key is always the owner's.
        #[test]
        fn prop_the_client_certificate_is_always_the_owners(
            p in any_profile(), job in transfer_job()
        ) {
            let job = job.with_client_certificate(true).with_remote(Remote::Https);
            let r = route(&p, &job, Access::ClientCertificateKey);
            prop_assert_eq!(r.principal, Principal::Owner);
            prop_assert_eq!(r.rule.id, RuleId::R4);
        }

        /// R-1, R-2, R-7, L-6: an access goes to the helper (or needs it) only if the flag
        /// SPEC §4 names for it is set, and then it is the stored helper.
        #[test]
        fn prop_the_helper_only_when_its_flag_is_set(
            p in any_profile(), job in transfer_job(), access in any_access()
        ) {
            let r = route(&p, &job, access);
            match r.principal {
                Principal::Helper => {
                    let flag = routed_flag(&r);
                    prop_assert!(flag.is_some_and(|f| job.flags.contains(f)), "{}", bits_helper_token::explain::route(&p, &job, r.access));
                    prop_assert_eq!(r.principal.sid(&job), job.helper.map(|h| h.sid));
                    prop_assert!(job.helper.is_some());
                }
                Principal::MissingHelper => {
                    let usage = routed_flag(&r);
                    prop_assert!(usage.is_some_and(|u| job.flags.contains(u)));
                    prop_assert!(job.helper.is_none());
                }
                _ => {}
            }
            prop_assert_eq!(access.flag(), naming_flag(access));
        }

        /// X-1, X-2, X-3, Q-8: a plan holds exactly the accesses the job makes, each routed by
        /// `route`. Eager L-6 fails a job with flags and no token before any step; otherwise
        /// the plan fails at its first step whose route fails (L-6 lazy, X-3) or whose key X-1
        /// puts out of reach, and with that step's failure.
        #[test]
        fn prop_plans_agree_with_route_and_the_failures(p in any_profile(), job in transfer_job()) {
            let plan = transfer_plan(&p, &job);
            let mut seen = std::collections::HashSet::new();
            for step in &plan {
                prop_assert!(transfer_makes(&job, step.access));
                prop_assert_ne!(step.principal, Principal::NotApplicable);
                prop_assert_eq!(*step, route(&p, &job, step.access));
                prop_assert!(seen.insert(step.access), "duplicate {}", step.access);
            }
            let x1 = client_certificate_failure(&job, job.flags);
            let eager = p.knobs.token_check == TokenCheck::Eager && !job.flags.is_empty() && job.helper.is_none();
            // The helper makes X-1's TLS connection: without one the key step is L-6.
            let at_key = x1.map(|f| if job.helper.is_none() { JobError::of(Reason::HelperTokenMissing).unwrap() } else { f });
            let first = plan.iter().find_map(|s| match s.access {
                Access::ClientCertificateKey => at_key,
                _ => s.failure(),
            });
            if eager {
                prop_assert_eq!(plan.outcome().failure().map(|f| f.rule.reason), Some(Reason::HelperTokenMissing));
                prop_assert_eq!(plan.failing_step(), None);
            } else {
                prop_assert_eq!(plan.outcome().failure(), first);
                prop_assert_eq!(plan.failing_step().is_some(), first.is_some());
            }
            // X-1 is predicted whenever the key step is in the plan and the flags are NETWORK.
            if plan.step(Access::ClientCertificateKey).is_some() {
                prop_assert_eq!(x1.is_some(), job.flags.contains(NET) && job.owner.sid != Sid::LOCAL_SYSTEM);
            }
        }
    }
}

// ---- names and serialized forms ---------------------------------------------------------

#[test]
fn access_names_are_stable_unique_and_parse_back() {
    let names: Vec<&str> = Access::ALL.iter().map(|a| a.name()).collect();
    assert_eq!(
        names,
        [
            "upload_local_file",
            "download_temp_file_create",
            "download_temp_file_rename",
            "reply_file_create",
            "reply_file_rename",
            "smb_remote_file",
            "proxy_auto_detect",
            "proxy_ie_settings",
            "proxy_challenge_basic",
            "proxy_challenge_digest",
            "proxy_challenge_ntlm",
            "proxy_challenge_negotiate",
            "proxy_challenge_passport",
            "server_challenge_basic",
            "server_challenge_digest",
            "server_challenge_ntlm",
            "server_challenge_negotiate",
            "server_challenge_passport",
            "proxy_challenge",
            "server_challenge",
            "client_certificate_key",
            "other"
        ]
    );
    for &a in Access::ALL {
        assert_eq!(a.name().parse::<Access>(), Ok(a));
        assert_eq!(a.to_string(), a.name());
    }
    for bad in [
        "",
        "Other",
        "server_challenges",
        "server_challenge_kerberos",
        " other",
    ] {
        let e = bad.parse::<Access>().unwrap_err();
        assert!(
            e.to_string()
                .starts_with("not a known access; expected one of \"upload_local_file\", "),
            "{e}"
        );
    }
    let values = |v: Vec<u32>| v;
    assert_eq!(
        values(AuthScheme::ALL.iter().map(|s| s.value()).collect()),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(
        values(AuthTarget::ALL.iter().map(|t| t.value()).collect()),
        [1, 2]
    );
    assert_eq!(
        values(ProxyUsage::ALL.iter().map(|p| p.value()).collect()),
        [0, 1, 2, 3]
    );
    assert_eq!("no_proxy".parse::<ProxyUsage>(), Ok(ProxyUsage::NoProxy));
}

#[test]
fn serialized_forms_are_pinned() {
    use serde_json::{from_value, to_value};
    assert_eq!(
        to_value(NEGOTIATE).unwrap(),
        json!("server_challenge_negotiate")
    );
    assert_eq!(
        from_value::<Access>(json!("proxy_auto_detect")).unwrap(),
        Access::ProxyAutoDetect
    );
    assert!(from_value::<Access>(json!("nope")).is_err());

    let c = creds(&[
        (
            AuthTarget::Proxy,
            AuthScheme::Negotiate,
            Credential::Implicit,
        ),
        (AuthTarget::Server, AuthScheme::Basic, Credential::Explicit),
    ]);
    let v = json!({"server": {"basic": "explicit"}, "proxy": {"negotiate": "implicit"}});
    assert_eq!(to_value(c).unwrap(), v);
    assert_eq!(from_value::<Credentials>(v).unwrap(), c);
    assert_eq!(
        from_value::<Credentials>(json!({})).unwrap(),
        Credentials::NONE
    );
    for bad in [
        json!({"server": {"basic": "implicit"}}),
        json!({"server": {"kerberos": "implicit"}}),
        json!({"client": {}}),
        json!({"proxy": {"ntlm": "maybe"}}),
    ] {
        assert!(from_value::<Credentials>(bad.clone()).is_err(), "{bad}");
    }

    let e = env(1, 2);
    assert_eq!(
        to_value(e).unwrap(),
        json!({"use_lm_compat": 1, "lm_compatibility_level": 2, "kerberos": true, "network": "connected"})
    );
    assert_eq!(
        from_value::<NetworkEnvironment>(json!({})).unwrap(),
        NetworkEnvironment::DEFAULT
    );
    // R-6: Kerberos in the domain, an input (default yes).
    assert!(
        !from_value::<NetworkEnvironment>(json!({"kerberos": false}))
            .unwrap()
            .kerberos
    );
    assert!(from_value::<NetworkEnvironment>(json!({"kerberos": "no"})).is_err());
    for bad in [
        json!({"use_lm_compat": 3}),
        json!({"lm_compatibility_level": 6}),
        json!({"use_lm_compat": -1}),
        json!({"other": 1}),
    ] {
        assert!(
            from_value::<NetworkEnvironment>(bad.clone()).is_err(),
            "{bad}"
        );
    }

    // X-3's challenges: the schemes each target asks for, in BG_AUTH_SCHEME order.
    let asks = Challenges::NONE
        .with(AuthTarget::Server, AuthScheme::Negotiate)
        .with(AuthTarget::Server, AuthScheme::Basic)
        .with(AuthTarget::Proxy, AuthScheme::Ntlm);
    let v = json!({"server": ["basic", "negotiate"], "proxy": ["ntlm"]});
    assert_eq!(to_value(asks).unwrap(), v);
    assert_eq!(from_value::<Challenges>(v).unwrap(), asks);
    assert_eq!(
        from_value::<Challenges>(json!({})).unwrap(),
        Challenges::NONE
    );
    // Each refusal says what is wrong.
    for (bad, says) in [
        (
            json!({"server": ["kerberos"]}),
            "string \"kerberos\", expected one of \"basic\"",
        ),
        (json!({"client": []}), "unknown field `client`"),
        (
            json!({"server": "basic"}),
            "expected a list of authentication scheme names",
        ),
        (
            json!({"proxy": ["ntlm", "basic", "ntlm"]}),
            "scheme \"ntlm\" is named twice",
        ),
    ] {
        let e = from_value::<Challenges>(bad.clone())
            .unwrap_err()
            .to_string();
        assert!(e.contains(says), "{bad}: {e}");
    }
    assert_eq!(to_value(IeSettings::Pac).unwrap(), json!("pac"));
    assert!(from_value::<IeSettings>(json!("wpad")).is_err());

    // A route as the oracle sees it: ids and names, never copies of the inputs.
    let job = alice_job(NET, Some(bob_id()))
        .with_credentials(implicit(AuthTarget::Server, AuthScheme::Negotiate));
    let r = route(&LATEST, &job, NEGOTIATE);
    assert_eq!(
        to_value(r).unwrap(),
        json!({
            "access": "server_challenge_negotiate",
            "principal": "helper",
            "rule": "R-2",
            "reason": "implicit_as_helper"
        })
    );
    assert_eq!(
        to_value(Principal::MissingHelper).unwrap(),
        json!("token_required")
    );
    assert_eq!(to_value(Principal::Computer).unwrap(), json!("computer"));

    // A plan: its steps and its outcome.
    let plan = transfer_plan(
        &LATEST,
        &negotiate(alice_job(LOCAL, None)).with_proxy(ProxyUsage::NoProxy),
    );
    assert_eq!(
        to_value(plan).unwrap(),
        json!({
            "steps": [
                {"access": "server_challenge", "principal": "unanswered",
                 "rule": "X-3", "reason": "server_challenge_unanswered"},
                {"access": "download_temp_file_create", "principal": "token_required",
                 "rule": "L-6", "reason": "helper_token_missing"},
                {"access": "download_temp_file_rename", "principal": "token_required",
                 "rule": "L-6", "reason": "helper_token_missing"}
            ],
            "outcome": {"error": {"hresult": "0x80200056", "rule": "L-6",
                                  "reason": "helper_token_missing"}}
        })
    );

    // X-3: a whole challenge that is answered names the scheme it is answered in (the
    // proxy's in Digest, explicitly; the server's in NTLM, by the helper), and only a
    // whole challenge does: a per-scheme challenge's access already names its scheme.
    let answered = answered_challenges_job();
    assert_eq!(
        to_value(transfer_plan(&LATEST, &answered)).unwrap(),
        json!({
            "steps": [
                {"access": "proxy_challenge", "principal": "explicit_credentials",
                 "rule": "R-5", "reason": "explicit_credentials", "scheme": "digest"},
                {"access": "server_challenge", "principal": "helper",
                 "rule": "R-2", "reason": "implicit_as_helper", "scheme": "ntlm"},
                {"access": "download_temp_file_create", "principal": "owner",
                 "rule": "R-1", "reason": "flag_clear"},
                {"access": "download_temp_file_rename", "principal": "owner",
                 "rule": "R-1", "reason": "flag_clear"}
            ],
            "outcome": "transferred"
        })
    );
    let digest = route(
        &LATEST,
        &answered,
        Access::ProxyChallenge(AuthScheme::Digest),
    );
    assert_eq!(digest.scheme, Some(AuthScheme::Digest));
    assert_eq!(
        to_value(digest).unwrap(),
        json!({"access": "proxy_challenge_digest", "principal": "explicit_credentials",
               "rule": "R-5", "reason": "explicit_credentials"})
    );
}

// ---- the routing vocabulary: values, names, the registry and plans as values -----------

#[test]
fn r3_r5_auth_targets_are_the_bg_auth_target_values() {
    assert_eq!(AuthTarget::from_value(1), Some(AuthTarget::Server));
    assert_eq!(AuthTarget::from_value(2), Some(AuthTarget::Proxy));
    assert_eq!(AuthTarget::from_value(0), None);
    assert_eq!(AuthTarget::from_value(3), None);
    for &t in AuthTarget::ALL {
        assert_eq!(AuthTarget::from_value(t.value()), Some(t));
        assert_eq!(t.to_string(), t.name());
        assert_eq!(serde_json::to_value(t).unwrap(), t.name());
    }
}

#[test]
fn r3_r5_auth_schemes_are_the_bg_auth_scheme_values_and_names() {
    let names: Vec<String> = AuthScheme::ALL.iter().map(|s| s.to_string()).collect();
    assert_eq!(names, ["basic", "digest", "ntlm", "negotiate", "passport"]);
    for (i, s) in AuthScheme::ALL.iter().copied().enumerate() {
        assert_eq!(s.value(), i as u32 + 1);
        assert_eq!(AuthScheme::from_value(s.value()), Some(s));
        assert_eq!(s.to_string(), s.name());
        assert_eq!(s.name().parse::<AuthScheme>(), Ok(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.name());
    }
    assert_eq!(AuthScheme::from_value(0), None);
    assert_eq!(AuthScheme::from_value(6), None);
}

#[test]
fn r7_proxy_usages_are_the_bg_job_proxy_usage_values() {
    let values: Vec<u32> = ProxyUsage::ALL.iter().map(|p| p.value()).collect();
    assert_eq!(values, [0, 1, 2, 3]);
    for &p in ProxyUsage::ALL {
        assert_eq!(ProxyUsage::from_value(p.value()), Some(p));
        assert_eq!(p.name().parse::<ProxyUsage>(), Ok(p));
        assert_eq!(p.to_string(), p.name());
    }
    assert_eq!(ProxyUsage::from_value(4), None);
    // X-3: whether a transfer goes through a proxy is the job's (JobFacts::through_proxy),
    // for PRECONFIG decided by the IE settings.
    let through = |p: ProxyUsage, ie: IeSettings| {
        alice_job(TokenUsage::empty(), None)
            .with_proxy(p)
            .with_ie_settings(ie)
            .through_proxy()
    };
    let direct: Vec<bool> = ProxyUsage::ALL
        .iter()
        .map(|&p| through(p, IeSettings::Direct))
        .collect();
    assert_eq!(direct, [false, false, true, true]);
    let pac: Vec<bool> = ProxyUsage::ALL
        .iter()
        .map(|&p| through(p, IeSettings::Pac))
        .collect();
    assert_eq!(pac, [true, false, true, true]);
}

#[test]
fn r3_registry_values_and_what_they_allow() {
    let values: Vec<u32> = UseLmCompat::ALL.iter().map(|u| u.value()).collect();
    assert_eq!(values, [0, 1, 2]);
    for u in UseLmCompat::ALL {
        assert_eq!(UseLmCompat::from_value(u.value()), Ok(u));
        assert_eq!(u32::from(u), u.value());
    }
    let e = UseLmCompat::from_value(3).unwrap_err();
    assert_eq!(e.to_string(), "UseLMCompat is 3; valid values are 0 to 2");
    for v in 0..=5 {
        let level = LmCompatibilityLevel::new(v).unwrap();
        assert_eq!(level.value(), v);
        assert_eq!(u32::from(level), v);
        assert_eq!(level.to_string(), v.to_string());
    }
    assert_eq!(
        LmCompatibilityLevel::new(6).unwrap_err().to_string(),
        "LMCompatibilityLevel is 6; valid values are 0 to 5"
    );
    assert_eq!(LmCompatibilityLevel::default().value(), 3);

    let level = |v| LmCompatibilityLevel::new(v).unwrap();
    let env = NetworkEnvironment::DEFAULT;
    let registry = |e: NetworkEnvironment| {
        implicit_allowed(
            &world(Identity::NETWORK_SERVICE).with_environment(e),
            AuthTarget::Server,
        )
    };
    assert_eq!(registry(env), None);
    let always = env.with_use_lm_compat(UseLmCompat::Always);
    assert_eq!(always.use_lm_compat, UseLmCompat::Always);
    assert_eq!(always.lm_compatibility_level, level(3));
    assert_eq!(registry(always), Some(ImplicitAllowed::UseLmCompatAlways));
    let one = env.with_use_lm_compat(UseLmCompat::WhenLmCompatibilityLevel2);
    for (v, allowed) in [(0, false), (1, false), (2, true), (3, true), (5, true)] {
        let e = one.with_lm_compatibility_level(level(v));
        assert_eq!(e.lm_compatibility_level, level(v));
        assert_eq!(e.use_lm_compat, UseLmCompat::WhenLmCompatibilityLevel2);
        assert_eq!(
            registry(e),
            allowed.then_some(ImplicitAllowed::LmCompatibilityLevel),
            "level {v}"
        );
        assert_eq!(NetworkEnvironment::new(1, v), Ok(e));
    }
    assert_eq!(
        registry(env.with_lm_compatibility_level(level(5))),
        None,
        "UseLMCompat 2 never allows by itself"
    );
}

#[test]
fn r3_r5_credentials_predicates() {
    use AuthScheme::*;
    use AuthTarget::*;
    let none = Credentials::NONE;
    assert!(none.is_empty());
    for &t in AuthTarget::ALL {
        assert!(!none.any(t) && !none.has_explicit(t) && !none.has_implicit(t));
    }
    let c = none.set(Proxy, Basic, Credential::Explicit).unwrap();
    assert!(!c.is_empty());
    assert!(c.any(Proxy) && c.has_explicit(Proxy) && !c.has_implicit(Proxy));
    assert!(!c.any(Server) && !c.has_explicit(Server));
    let c = none.set(Server, Passport, Credential::Implicit).unwrap();
    assert!(c.any(Server) && !c.has_explicit(Server));
    assert!(
        !c.has_implicit(Server),
        "an implicit Passport entry does not count"
    );
    for s in [Ntlm, Negotiate] {
        let c = none.set(Server, s, Credential::Implicit).unwrap();
        assert!(c.has_implicit(Server) && !c.has_implicit(Proxy));
        assert!(c.remove(Server, s).is_empty());
    }
    let accepts: Vec<bool> = AuthScheme::ALL
        .iter()
        .map(|s| s.accepts_null_credentials())
        .collect();
    assert_eq!(accepts, [false, false, true, true, true]);
    let implicit: Vec<bool> = AuthScheme::ALL
        .iter()
        .map(|s| s.has_implicit_credentials())
        .collect();
    assert_eq!(implicit, [false, false, true, true, false]);
    let e = none.set(Server, Digest, Credential::Implicit).unwrap_err();
    assert_eq!(e.scheme, Digest);
    assert_eq!(e.hresult(), HResult::E_INVALIDARG);
    let all: Vec<_> = none
        .set(Proxy, Ntlm, Credential::Implicit)
        .unwrap()
        .set(Server, Basic, Credential::Explicit)
        .unwrap()
        .iter()
        .collect();
    assert_eq!(
        all,
        [
            (Server, Basic, Credential::Explicit),
            (Proxy, Ntlm, Credential::Implicit)
        ]
    );
}

#[test]
fn r6_service_owners_are_named_in_the_rule_text() {
    let smb = |owner: Identity| {
        let facts = world(owner).with_remote(Remote::Smb);
        route(&Profile::default(), &facts, Access::SmbRemoteFile)
    };
    let cases = [
        (
            Identity::LOCAL_SYSTEM,
            "S-1-5-18 is LocalSystem",
            "as the computer account",
        ),
        (
            Identity::NETWORK_SERVICE,
            "S-1-5-20 is NetworkService",
            "as the computer account",
        ),
        (
            Identity::LOCAL_SERVICE,
            "S-1-5-19 is LocalService",
            "anonymously",
        ),
    ];
    for (owner, who, appears) in cases {
        let r = smb(owner);
        assert_eq!(r.rule.id, RuleId::R6);
        let job = world(owner).with_remote(Remote::Smb);
        assert_eq!(
            bits_helper_token::explain::route(&Profile::default(), &job, r.access).to_string(),
            format!(
                "smb_remote_file: {} (R-6: the owner {who}, so BITS opens the remote \
                 file on the SMB share {appears})",
                if owner == Identity::LOCAL_SERVICE {
                    "anonymous"
                } else {
                    "the computer account"
                }
            )
        );
    }
}

#[test]
fn r6_explanations_name_whose_token_is_seen_and_the_negotiate_limit() {
    // The SMB file as the helper token (NETWORK set), a NetworkService helper: the
    // sentence names the helper token, not the owner.
    let helper = alice_job(NET, Some(Identity::NETWORK_SERVICE)).with_remote(Remote::Smb);
    let r = route(&LATEST, &helper, Access::SmbRemoteFile);
    assert_eq!((r.rule.id, r.principal), (RuleId::R6, Principal::Computer));
    let text = bits_helper_token::explain::route(&LATEST, &helper, r.access).to_string();
    assert!(
        text.contains("the helper token S-1-5-20 is NetworkService"),
        "{text}"
    );
    // The flag clear, the same helper stored: the owner, LocalSystem here, is the one seen.
    let owner = world(Identity::LOCAL_SYSTEM)
        .with_helper(Some(Identity::NETWORK_SERVICE))
        .with_remote(Remote::Smb);
    let r = route(&LATEST, &owner, Access::SmbRemoteFile);
    assert_eq!((r.rule.id, r.principal), (RuleId::R6, Principal::Computer));
    let text = bits_helper_token::explain::route(&LATEST, &owner, r.access).to_string();
    assert!(text.contains("the owner S-1-5-18 is LocalSystem"), "{text}");
    // An NTLM challenge answered with the implicit credentials of a NetworkService helper
    // that only an NTLM entry allows: the computer needs a Negotiate entry (R-6, SPEC v3).
    let ntlm = alice_job(NET, Some(Identity::NETWORK_SERVICE))
        .with_credentials(implicit(AuthTarget::Server, AuthScheme::Ntlm));
    let r = route(&LATEST, &ntlm, Access::ServerChallenge(AuthScheme::Ntlm));
    assert_eq!(r.rule.reason, Reason::ComputerOnlyThroughNegotiate);
    assert_eq!(
        bits_helper_token::explain::route(&LATEST, &ntlm, r.access).to_string(),
        "server_challenge_ntlm: no credentials (R-6: the helper token S-1-5-20 is \
         NetworkService, which appears on the network as the computer; the computer answers \
         only through a Negotiate entry that allows implicit credentials \
         (SetCredentials(server, Negotiate, NULL, NULL)) with Kerberos in the domain \
         (available): BITS answers the server's NTLM challenge with no usable credentials)"
    );
}

#[test]
fn r1_r7_access_names_deserialize_strictly_and_say_what_is_expected() {
    for &a in Access::ALL {
        let json = serde_json::to_value(a).unwrap();
        assert_eq!(json, a.name());
        assert_eq!(serde_json::from_value::<Access>(json).unwrap(), a);
    }
    let expected = r#"expected one of "upload_local_file""#;
    let e = serde_json::from_str::<Access>(r#""nope""#)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(r#"invalid value: string "nope""#) && e.contains(expected),
        "{e}"
    );
    let e = serde_json::from_str::<Access>("5").unwrap_err().to_string();
    assert!(e.contains(expected), "{e}");
}

#[test]
fn x1_l6_transfer_plans_compare_by_their_steps_and_outcome() {
    let p = Profile::default();
    let owner = Identity::NETWORK_SERVICE;
    let https = JobFacts::new(owner).with_remote(Remote::Https);
    let smb = JobFacts::new(owner).with_remote(Remote::Smb);
    let a = transfer_plan(&p, &https);
    let b = transfer_plan(&p, &smb);
    // Both transfer, with different accesses: different plans.
    assert_eq!(a.outcome(), TransferOutcome::Transferred);
    assert_eq!(b.outcome(), TransferOutcome::Transferred);
    assert_ne!(a.steps(), b.steps());
    assert_ne!(a, b);
    assert_ne!(b, a);
    // The same job plans the same way.
    assert!(a == transfer_plan(&p, &https));
    assert_eq!(b, transfer_plan(&p, &smb));
    // Debug shows the accesses made (not the unused capacity) and the outcome.
    assert_eq!(
        format!("{a:?}"),
        format!(
            "TransferPlan {{ steps: {:?}, outcome: {:?} }}",
            a.steps(),
            a.outcome()
        )
    );
    // A plan iterates over its steps, by reference too.
    let by_ref: Vec<&Route> = (&a).into_iter().collect();
    assert_eq!(by_ref.len(), a.steps().len());
    let mut n = 0;
    for step in &a {
        assert_eq!(step, &a.steps()[n]);
        n += 1;
    }
    assert_eq!(n, a.steps().len());
}
