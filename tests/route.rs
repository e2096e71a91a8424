//! Routing (SPEC §4, R-1…R-7) and transfer-time failures (§5, X-1, X-2 via L-6): which
//! identity BITS uses for each access, and how a whole transfer ends (issue 4).
//!
//! Hand-written tests per rule first, then an exhaustive matrix against an independent
//! restatement of the SPEC, then the properties, the serialized forms and the proof that
//! routing allocates nothing.

mod common;
use bits_helper_token::*;
use common::*;
use proptest::prelude::*;
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

/// Alice's job (a standard user), with these flags and helper token.
fn alice_job(flags: TokenUsage, helper: Option<Identity>) -> TransferJob {
    TransferJob::new(
        JobFacts::new(id(&alice()))
            .with_flags(flags)
            .with_helper(helper),
    )
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

fn owner_of(job: &TransferJob) -> Used {
    Used::Owner {
        sid: job.facts.owner.sid,
    }
}

fn helper_used() -> Used {
    Used::Helper { sid: bob().user }
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
            assert_eq!(r.rule.id(), "R-1", "{access} {flags}");
            if flags.contains(LOCAL) {
                assert_eq!(r.identity, helper_used(), "{access} {flags}");
                assert_eq!(
                    r.rule,
                    RouteRule::FlagSet {
                        access,
                        usage: LOCAL,
                        helper: bob().user
                    }
                );
            } else {
                assert_eq!(r.identity, owner_of(&job), "{access} {flags}");
                assert_eq!(
                    r.rule,
                    RouteRule::FlagClear {
                        access,
                        usage: LOCAL,
                        owner: alice().user
                    }
                );
            }
        }
    }
}

#[test]
fn r1_an_upload_reply_job_opens_its_local_file_too() {
    let job = alice_job(LOCAL, Some(bob_id())).with_job_type(JobType::UploadReply);
    assert_eq!(
        route(&LATEST, &job, Access::UploadLocalFile).identity,
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
        assert_eq!(r.identity, Used::NotApplicable, "{job_type} {access}");
        assert_eq!(r.rule.id(), "R-1");
    }
    let job = alice_job(BOTH, Some(bob_id()));
    assert_eq!(
        route(&LATEST, &job, Access::ReplyFileCreate)
            .rule
            .to_string(),
        "R-1: a download job over https with proxy usage preconfig and no client certificate never creates a reply file"
    );
}

// ---- R-2 -------------------------------------------------------------------------------

#[test]
fn r2_the_smb_remote_file_follows_network() {
    for flags in ALL_FLAGS {
        let mut job = alice_job(flags, Some(bob_id()));
        job.facts = job.facts.with_remote(Remote::Smb);
        let r = route(&LATEST, &job, Access::SmbRemoteFile);
        assert_eq!(r.rule.id(), "R-2");
        let expected = if flags.contains(NET) {
            helper_used()
        } else {
            owner_of(&job)
        };
        assert_eq!(r.identity, expected, "{flags}");
    }
    // Over HTTP(S) there is no SMB file.
    for remote in [Remote::Http, Remote::Https] {
        let mut job = alice_job(NET, Some(bob_id()));
        job.facts = job.facts.with_remote(remote);
        let r = route(&LATEST, &job, Access::SmbRemoteFile);
        assert_eq!((r.identity, r.rule.id()), (Used::NotApplicable, "R-2"));
    }
}

#[test]
fn r2_network_answers_implicit_challenges_as_the_helper() {
    for target in AuthTarget::ALL {
        for scheme in [AuthScheme::Ntlm, AuthScheme::Negotiate] {
            let access = Access::challenge(target, scheme);
            let job = alice_job(NET, Some(bob_id())).with_credentials(implicit(target, scheme));
            let r = route(&LATEST, &job, access);
            assert_eq!(r.identity, helper_used(), "{access}");
            assert_eq!(
                r.rule,
                RouteRule::ImplicitAsHelper {
                    target,
                    scheme,
                    allowed: ImplicitAllowed::SetCredentials,
                    helper: bob().user
                }
            );
            assert_eq!(r.rule.id(), "R-2");
            // LOCAL_FILE alone leaves the challenge with the owner.
            let job = alice_job(LOCAL, Some(bob_id())).with_credentials(implicit(target, scheme));
            let r = route(&LATEST, &job, access);
            assert_eq!(r.identity, owner_of(&job), "{access}");
            assert_eq!(r.rule.id(), "R-2");
        }
    }
}

#[test]
fn r2_challenges_need_http_and_proxy_challenges_need_a_proxy() {
    let mut smb = alice_job(NET, Some(bob_id()));
    smb.facts = smb.facts.with_remote(Remote::Smb);
    for &access in Access::ALL {
        if access.as_challenge().is_some() {
            let r = route(&LATEST, &smb, access);
            assert_eq!((r.identity, r.rule.id()), (Used::NotApplicable, "R-2"));
        }
    }
    let direct = alice_job(NET, Some(bob_id()))
        .with_proxy(ProxyUsage::NoProxy)
        .with_credentials(implicit(AuthTarget::Proxy, AuthScheme::Negotiate));
    assert_eq!(
        route(&LATEST, &direct, PROXY_NEGOTIATE).identity,
        Used::NotApplicable
    );
    // The implicit proxy credentials still serve the server.
    assert_eq!(route(&LATEST, &direct, NEGOTIATE).identity, helper_used());
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
            assert_eq!(r.identity, Used::NoImplicitCredentials, "{access} {flags}");
            assert_eq!(r.rule.id(), "R-3");
        }
    }
    let r = route(&LATEST, &alice_job(NET, None), NEGOTIATE);
    assert_eq!(
        r.rule,
        RouteRule::ImplicitNotAllowed {
            target: AuthTarget::Server,
            scheme: AuthScheme::Negotiate,
            proxy_credentials_blocked: false,
            environment: NetworkEnvironment::DEFAULT,
        }
    );
    assert_eq!(
        r.rule.to_string(),
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
        assert_eq!(r.identity, helper_used(), "{access}");
        let RouteRule::ImplicitAsHelper { allowed, .. } = r.rule else {
            panic!("{access}: {:?}", r.rule)
        };
        assert_eq!(allowed, ImplicitAllowed::UseLmCompatAlways);
    }
}

#[test]
fn r3_use_lm_compat_1_sends_when_lm_compatibility_level_is_2_or_more() {
    for level in 0..=5u32 {
        let job = alice_job(NONE, None).with_environment(env(1, level));
        let r = route(&LATEST, &job, NEGOTIATE);
        if level >= 2 {
            assert_eq!(r.identity, owner_of(&job), "level {level}");
            let RouteRule::ImplicitAsOwner { allowed, .. } = r.rule else {
                panic!("{:?}", r.rule)
            };
            assert_eq!(
                allowed,
                ImplicitAllowed::LmCompatibilityLevel {
                    level: LmCompatibilityLevel::new(level).unwrap()
                }
            );
        } else {
            assert_eq!(r.identity, Used::NoImplicitCredentials, "level {level}");
            assert_eq!(
                r.rule.to_string(),
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
            route(&LATEST, &none, NEGOTIATE).identity,
            Used::NoImplicitCredentials
        );
        // NTLM or Negotiate opts in both challenge/response schemes of that target.
        for scheme in [AuthScheme::Ntlm, AuthScheme::Negotiate] {
            let server = none.with_credentials(implicit(AuthTarget::Server, scheme));
            assert_eq!(route(&LATEST, &server, NEGOTIATE).identity, helper_used());
            assert_eq!(
                route(&LATEST, &server, Access::ServerChallenge(AuthScheme::Ntlm)).identity,
                helper_used()
            );
            // Server credentials do not serve the proxy.
            assert_eq!(
                route(&LATEST, &server, PROXY_NEGOTIATE).identity,
                Used::NoImplicitCredentials
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
        assert_eq!(r.identity, helper_used());
        let RouteRule::ImplicitAsHelper { allowed, .. } = r.rule else {
            panic!("{:?}", r.rule)
        };
        assert_eq!(allowed, ImplicitAllowed::SetCredentials);
    }
}

#[test]
fn r3_implicit_proxy_credentials_serve_the_server_unless_explicit_server_credentials_exist() {
    let proxy = implicit(AuthTarget::Proxy, AuthScheme::Ntlm);
    let job = alice_job(NET, Some(bob_id())).with_credentials(proxy);
    let r = route(&LATEST, &job, NEGOTIATE);
    assert_eq!(r.identity, helper_used());
    let RouteRule::ImplicitAsHelper { allowed, .. } = r.rule else {
        panic!("{:?}", r.rule)
    };
    assert_eq!(allowed, ImplicitAllowed::ProxyCredentials);

    // Explicit server credentials, of any scheme, stop that.
    for scheme in AuthScheme::ALL {
        let both = proxy
            .set(AuthTarget::Server, scheme, Credential::Explicit)
            .unwrap();
        let job = job.with_credentials(both);
        let r = route(&LATEST, &job, NEGOTIATE);
        if scheme == AuthScheme::Negotiate {
            assert_eq!(r.rule.id(), "R-5");
            continue;
        }
        assert_eq!(r.identity, Used::NoImplicitCredentials, "{scheme}");
        assert_eq!(
            r.rule,
            RouteRule::ImplicitNotAllowed {
                target: AuthTarget::Server,
                scheme: AuthScheme::Negotiate,
                proxy_credentials_blocked: true,
                environment: NetworkEnvironment::DEFAULT,
            }
        );
        assert!(r.rule.to_string().contains(
            "the implicit proxy credentials do not serve it because explicit server credentials exist"
        ));
        // The proxy still gets them.
        assert_eq!(
            route(&LATEST, &job, PROXY_NEGOTIATE).identity,
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
            for target in AuthTarget::ALL {
                let r = route(&LATEST, &job, Access::challenge(target, scheme));
                assert_eq!(r.identity, Used::NoImplicitCredentials);
                assert_eq!(r.rule, RouteRule::NoImplicitForScheme { target, scheme });
                assert_eq!(r.rule.id(), "R-3");
            }
        }
        let negotiate = route(&LATEST, &job, NEGOTIATE).identity;
        let expected = if use_lm_compat == 2 {
            Used::NoImplicitCredentials
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
                for remote in [Remote::Http, Remote::Https] {
                    let facts = JobFacts::new(owner)
                        .with_flags(flags)
                        .with_helper(h)
                        .with_remote(remote)
                        .with_client_certificate(true);
                    let r = route(
                        &LATEST,
                        &TransferJob::new(facts),
                        Access::ClientCertificateKey,
                    );
                    assert_eq!(r.identity, Used::Owner { sid: owner.sid });
                    assert_eq!(r.rule, RouteRule::ClientCertificateKey { owner: owner.sid });
                    assert_eq!(r.rule.id(), "R-4");
                }
            }
        }
    }
    // No certificate, or SMB: the key is never reached.
    let r = route(&LATEST, &alice_job(NET, None), Access::ClientCertificateKey);
    assert_eq!((r.identity, r.rule.id()), (Used::NotApplicable, "R-4"));
}

// ---- R-5 -------------------------------------------------------------------------------

#[test]
fn r5_explicit_credentials_are_sent_as_given_whatever_the_flags() {
    for target in AuthTarget::ALL {
        for scheme in AuthScheme::ALL {
            let explicit = creds(&[(target, scheme, Credential::Explicit)]);
            for flags in ALL_FLAGS {
                for h in [None, Some(bob_id())] {
                    let job = alice_job(flags, h)
                        .with_credentials(explicit)
                        .with_environment(env(0, 0));
                    let r = route(&LATEST, &job, Access::challenge(target, scheme));
                    assert_eq!(r.identity, Used::ExplicitCredentials { target, scheme });
                    assert_eq!(r.rule, RouteRule::ExplicitCredentials { target, scheme });
                    assert_eq!(r.rule.id(), "R-5");
                    assert_eq!(r.failure(), None); // no token, so no L-6
                }
            }
        }
    }
    // Explicit credentials answer their own scheme only.
    let basic = creds(&[(AuthTarget::Server, AuthScheme::Basic, Credential::Explicit)]);
    let job = alice_job(NET, Some(bob_id())).with_credentials(basic);
    assert_eq!(
        route(&LATEST, &job, Access::ServerChallenge(AuthScheme::Digest)).identity,
        Used::NoImplicitCredentials
    );
    assert_eq!(
        route(&LATEST, &job, Access::ProxyChallenge(AuthScheme::Basic)).identity,
        Used::NoImplicitCredentials
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
    assert_eq!(route(&LATEST, &job, NEGOTIATE).identity, helper_used());
}

// ---- R-6 -------------------------------------------------------------------------------

#[test]
fn r6_service_owners_without_a_helper_in_play_are_the_computer_or_anonymous() {
    let cases = [
        (Identity::LOCAL_SYSTEM, Used::Computer),
        (Identity::NETWORK_SERVICE, Used::Computer),
        (Identity::LOCAL_SERVICE, Used::Anonymous),
    ];
    for (owner, expected) in cases {
        // With or without a stored helper token, NETWORK clear: R-6.
        for h in [None, Some(bob_id())] {
            for flags in [NONE, LOCAL] {
                let facts = JobFacts::new(owner).with_flags(flags).with_helper(h);
                let smb = TransferJob::new(facts.with_remote(Remote::Smb));
                let r = route(&LATEST, &smb, Access::SmbRemoteFile);
                assert_eq!(r.identity, expected);
                assert_eq!(
                    r.rule,
                    RouteRule::ServiceOwnerOnNetwork {
                        access: Access::SmbRemoteFile,
                        owner: owner.sid
                    }
                );
                assert_eq!(r.rule.id(), "R-6");
                let http = TransferJob::new(facts)
                    .with_credentials(implicit(AuthTarget::Server, AuthScheme::Negotiate));
                let r = route(&LATEST, &http, NEGOTIATE);
                assert_eq!((r.identity, r.rule.id()), (expected, "R-6"));
            }
        }
        // NETWORK with a helper: the helper; without one: L-6, not R-6.
        let facts = JobFacts::new(owner)
            .with_flags(NET)
            .with_remote(Remote::Smb);
        let r = route(
            &LATEST,
            &TransferJob::new(facts.with_helper(Some(bob_id()))),
            Access::SmbRemoteFile,
        );
        assert_eq!((r.identity, r.rule.id()), (helper_used(), "R-2"));
        let r = route(&LATEST, &TransferJob::new(facts), Access::SmbRemoteFile);
        assert_eq!(r.rule.id(), "L-6");
    }
    let r = route(
        &LATEST,
        &TransferJob::new(JobFacts::new(Identity::LOCAL_SERVICE).with_remote(Remote::Smb)),
        Access::SmbRemoteFile,
    );
    assert_eq!(
        r.rule.to_string(),
        "R-6: the owner S-1-5-19 is LocalService and no helper token is in play, so BITS opens the remote file on the SMB share anonymously"
    );
}

#[test]
fn r6_does_not_apply_to_users_local_files_proxy_discovery_or_refused_implicit_credentials() {
    // A user owner on the network is itself.
    let mut smb = alice_job(NONE, None);
    smb.facts = smb.facts.with_remote(Remote::Smb);
    assert_eq!(
        route(&LATEST, &smb, Access::SmbRemoteFile).identity,
        owner_of(&smb)
    );
    for owner in [Identity::LOCAL_SERVICE, Identity::NETWORK_SERVICE] {
        let job = TransferJob::new(JobFacts::new(owner));
        for (proxy, access) in [
            (ProxyUsage::Autodetect, Access::ProxyAutoDetect),
            (ProxyUsage::Preconfig, Access::ProxyIeSettings),
        ] {
            let r = route(&LATEST, &job.with_proxy(proxy), access);
            assert_eq!((r.identity, r.rule.id()), (owner_of(&job), "R-7"));
        }
        let r = route(&LATEST, &job, Access::DownloadTempFileCreate);
        assert_eq!((r.identity, r.rule.id()), (owner_of(&job), "R-1"));
        // R-3 refuses first: nothing is sent, so nobody appears on the network.
        let r = route(&LATEST, &job, NEGOTIATE);
        assert_eq!(
            (r.identity, r.rule.id()),
            (Used::NoImplicitCredentials, "R-3")
        );
    }
}

// ---- R-7 -------------------------------------------------------------------------------

#[test]
fn r7_wpad_runs_as_the_helper_with_network_on_every_release() {
    for release in Release::ALL {
        let profile = Profile::new(release);
        for flags in ALL_FLAGS {
            let job = alice_job(flags, Some(bob_id())).with_proxy(ProxyUsage::Autodetect);
            let r = route(&profile, &job, Access::ProxyAutoDetect);
            assert_eq!(r.rule.id(), "R-7");
            let expected = if flags.contains(NET) {
                helper_used()
            } else {
                owner_of(&job)
            };
            assert_eq!(r.identity, expected, "{release} {flags}");
        }
    }
    // Only AUTODETECT runs WPAD.
    for proxy in [
        ProxyUsage::Preconfig,
        ProxyUsage::Override,
        ProxyUsage::NoProxy,
    ] {
        let job = alice_job(NET, Some(bob_id())).with_proxy(proxy);
        let r = route(&LATEST, &job, Access::ProxyAutoDetect);
        assert_eq!((r.identity, r.rule.id()), (Used::NotApplicable, "R-7"));
    }
}

#[test]
fn r7_ie_settings_run_as_the_helper_only_from_1809() {
    let job = alice_job(NET, Some(bob_id()));
    let r = route(&LATEST, &job, Access::ProxyIeSettings);
    assert_eq!((r.identity, r.rule.id()), (helper_used(), "R-7"));
    for profile in [P1607, LEGACY] {
        let r = route(&profile, &job, Access::ProxyIeSettings);
        assert_eq!(r.identity, owner_of(&job));
        assert_eq!(
            r.rule,
            RouteRule::PreconfigAsOwner {
                release: profile.release,
                owner: alice().user
            }
        );
        assert_eq!(r.rule.id(), "R-7");
        // Before 1809 the missing helper is not needed here: no L-6.
        let r = route(&profile, &alice_job(NET, None), Access::ProxyIeSettings);
        assert_eq!(r.identity, owner_of(&job));
    }
    let r = route(&LATEST, &alice_job(NET, None), Access::ProxyIeSettings);
    assert_eq!(r.rule.id(), "L-6");
    assert_eq!(
        route(&P1607, &job, Access::ProxyIeSettings)
            .rule
            .to_string(),
        "R-7: before Windows 10 1809 (here win10_1607) BITS reads the IE proxy settings as the owner S-1-5-21-1-2-3-1001, even with NETWORK set"
    );
}

// ---- L-6 and the owner's other accesses ----------------------------------------------

#[test]
fn l6_an_access_routed_to_a_missing_helper_fails_with_token_required() {
    let smb = JobFacts::new(id(&alice())).with_remote(Remote::Smb);
    let cases: [(TransferJob, Access, TokenUsage); 6] = [
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
        (
            TransferJob::new(smb.with_flags(NET)),
            Access::SmbRemoteFile,
            NET,
        ),
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
        let r = route(&LATEST, &job, access);
        assert_eq!(r.identity, Used::TokenRequired { usage }, "{access}");
        assert_eq!(r.rule, RouteRule::HelperTokenMissing { access, usage });
        assert_eq!(r.rule.id(), "L-6");
        let failure = r.failure().expect("L-6 fails the job");
        assert_eq!(failure.hresult, HResult::BG_E_TOKEN_REQUIRED);
        assert_eq!(failure.rule, Rule::HelperTokenMissing { usage });
        assert_eq!(failure.rule.id(), "L-6");
    }
    let r = route(
        &LATEST,
        &alice_job(LOCAL, None),
        Access::DownloadTempFileRename,
    );
    assert_eq!(
        r.rule.to_string(),
        "L-6: LOCAL_FILE routes the access where BITS renames the download's temporary file to its final name to the helper token, and no helper token is stored: the job goes to ERROR with BG_E_TOKEN_REQUIRED"
    );
}

#[test]
fn section4_other_accesses_are_the_owners() {
    for flags in ALL_FLAGS {
        for h in [None, Some(bob_id())] {
            let job = alice_job(flags, h);
            let r = route(&LATEST, &job, Access::Other);
            assert_eq!(r.identity, owner_of(&job));
            assert_eq!(
                r.rule,
                RouteRule::OwnerAccess {
                    owner: alice().user
                }
            );
            assert_eq!(r.rule.id(), "§4");
        }
    }
}

// ---- transfer plans, X-1, X-2 ----------------------------------------------------------

fn names(plan: &TransferPlan) -> Vec<&'static str> {
    plan.iter().map(|r| r.access.name()).collect()
}

#[test]
fn plan_order_per_job_type_and_protocol() {
    let job = alice_job(NONE, None);
    assert_eq!(
        names(&transfer_plan(&LATEST, &job)),
        [
            "proxy_ie_settings",
            "proxy_challenge_negotiate",
            "server_challenge_negotiate",
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
            "proxy_challenge_negotiate",
            "server_challenge_negotiate",
            "reply_file_create",
            "reply_file_rename"
        ]
    );
    let upload = job
        .with_job_type(JobType::Upload)
        .with_proxy(ProxyUsage::NoProxy);
    assert_eq!(
        names(&transfer_plan(&LATEST, &upload)),
        ["upload_local_file", "server_challenge_negotiate"]
    );
    let mut smb = job.with_proxy(ProxyUsage::Override);
    smb.facts = smb
        .facts
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
        ["proxy_challenge_negotiate", "server_challenge_negotiate"]
    );
}

#[test]
fn plan_challenges_are_the_schemes_with_credentials_else_negotiate() {
    let c = creds(&[
        (AuthTarget::Server, AuthScheme::Basic, Credential::Explicit),
        (AuthTarget::Server, AuthScheme::Ntlm, Credential::Implicit),
        (AuthTarget::Proxy, AuthScheme::Digest, Credential::Explicit),
    ]);
    let job = alice_job(NET, Some(bob_id()))
        .with_credentials(c)
        .with_proxy(ProxyUsage::Override);
    let plan = transfer_plan(&LATEST, &job);
    assert_eq!(
        names(&plan),
        [
            "proxy_challenge_digest",
            "server_challenge_basic",
            "server_challenge_ntlm",
            "download_temp_file_create",
            "download_temp_file_rename"
        ]
    );
    let used: Vec<&str> = plan.iter().map(|r| r.identity.name()).collect();
    assert_eq!(
        used,
        [
            "explicit_credentials",
            "explicit_credentials",
            "helper",
            "owner",
            "owner"
        ]
    );
    assert_eq!(plan.outcome, Outcome::Transferred);
    assert_eq!(plan.outcome.state(), JobState::Transferred);
    assert_eq!(plan.failing_step(), None);
    // Each step is exactly what `route` says.
    for step in &plan {
        assert_eq!(*step, route(&LATEST, &job, step.access));
    }
    assert_eq!(
        plan.step(Access::ServerChallenge(AuthScheme::Ntlm))
            .map(|r| r.identity),
        Some(helper_used())
    );
    assert_eq!(plan.step(NEGOTIATE), None);
}

#[test]
fn x1_the_client_certificate_job_fails_with_0x80072f9a() {
    for owner in [
        Identity::NETWORK_SERVICE,
        Identity::LOCAL_SERVICE,
        id(&alice()),
    ] {
        for remote in [Remote::Http, Remote::Https] {
            let facts = JobFacts::new(owner)
                .with_flags(NET)
                .with_helper(Some(bob_id()))
                .with_client_certificate(true)
                .with_remote(remote);
            let plan = transfer_plan(&LATEST, &TransferJob::new(facts));
            let failure = plan.outcome.failure().expect("X-1");
            assert_eq!(failure.hresult, 0x8007_2F9Au32);
            assert_eq!(
                failure.rule,
                Rule::ClientCertificateWithNetwork { owner: owner.sid }
            );
            assert_eq!(failure.rule.id(), "X-1");
            assert_eq!(plan.outcome.state(), JobState::Error);
            // The failing step is the key, reached as the owner.
            let step = plan.failing_step().expect("a failing step");
            assert_eq!(step.access, Access::ClientCertificateKey);
            assert_eq!(step.identity, Used::Owner { sid: owner.sid });
            // The same as what SetHelperTokenFlags predicted.
            assert_eq!(
                Some(failure),
                client_certificate_failure(&facts, facts.flags)
            );
        }
    }
    // LocalSystem, LOCAL_FILE only, no certificate, SMB: transferred.
    let base = JobFacts::new(Identity::NETWORK_SERVICE)
        .with_helper(Some(bob_id()))
        .with_client_certificate(true);
    for facts in [
        JobFacts::new(Identity::LOCAL_SYSTEM)
            .with_flags(NET)
            .with_helper(Some(bob_id()))
            .with_client_certificate(true),
        base.with_flags(LOCAL),
        base.with_flags(NET).with_client_certificate(false),
        base.with_flags(NET).with_remote(Remote::Smb),
    ] {
        let plan = transfer_plan(&LATEST, &TransferJob::new(facts));
        assert_eq!(plan.outcome, Outcome::Transferred, "{facts:?}");
    }
}

#[test]
fn x2_l6_a_plan_needing_a_missing_helper_fails_with_token_required() {
    // LOCAL_FILE without a token: the temp file creation fails.
    let plan = transfer_plan(&LATEST, &alice_job(LOCAL, None));
    let failure = plan.outcome.failure().expect("L-6");
    assert_eq!(failure.hresult, HResult::BG_E_TOKEN_REQUIRED);
    assert_eq!(failure.rule, Rule::HelperTokenMissing { usage: LOCAL });
    assert_eq!(
        plan.failing_step().map(|r| r.access),
        Some(Access::DownloadTempFileCreate)
    );
    // NETWORK without a token, but nothing routed to it (no proxy discovery as helper
    // before 1809, no implicit credentials allowed): transferred.
    let quiet = alice_job(NET, None).with_proxy(ProxyUsage::NoProxy);
    assert_eq!(transfer_plan(&LATEST, &quiet).outcome, Outcome::Transferred);
    let preconfig = alice_job(NET, None);
    assert_eq!(
        transfer_plan(&P1607, &preconfig).outcome,
        Outcome::Transferred
    );
    // From 1809 PRECONFIG needs the helper: L-6.
    let plan = transfer_plan(&LATEST, &preconfig);
    assert_eq!(plan.outcome.failure().map(|f| f.rule.id()), Some("L-6"));
    assert_eq!(
        plan.outcome.to_string(),
        "ERROR: the transfer will fail with 0x80200056 (BG_E_TOKEN_REQUIRED): L-6: the flags route an access of this transfer to the helper token (NETWORK), and no helper token is stored"
    );
}

#[test]
fn x1_x2_token_required_comes_before_the_certificate_failure() {
    let facts = JobFacts::new(Identity::NETWORK_SERVICE)
        .with_flags(BOTH)
        .with_client_certificate(true);
    let plan = transfer_plan(&P1607, &TransferJob::new(facts));
    // The first step routed to the missing helper is the temporary file (after the key).
    assert_eq!(
        plan.outcome.failure().map(|f| f.rule),
        Some(Rule::HelperTokenMissing { usage: LOCAL })
    );
    assert_eq!(
        plan.failing_step().map(|r| r.access),
        Some(Access::DownloadTempFileCreate)
    );
    // With a token, X-1.
    let plan = transfer_plan(&P1607, &TransferJob::new(facts.with_helper(Some(bob_id()))));
    assert_eq!(plan.outcome.failure().map(|f| f.rule.id()), Some("X-1"));
}

#[test]
fn plan_display_lists_the_steps_and_the_outcome() {
    let job = alice_job(NET, Some(bob_id()))
        .with_proxy(ProxyUsage::NoProxy)
        .with_job_type(JobType::Upload)
        .with_credentials(implicit(AuthTarget::Server, AuthScheme::Negotiate));
    assert_eq!(
        transfer_plan(&LATEST, &job).to_string(),
        "1. upload_local_file: the owner S-1-5-21-1-2-3-1001 (R-1: LOCAL_FILE is not set, so BITS opens the upload's local file as the owner S-1-5-21-1-2-3-1001)\n\
         2. server_challenge_negotiate: the helper token S-1-5-21-1-2-3-1002 (R-2: NETWORK is set, so BITS answers the server's Negotiate challenge with the implicit credentials of the helper token S-1-5-21-1-2-3-1002 (R-3 allows them: SetCredentials(NULL, NULL) was called for this target))\n\
         => TRANSFERRED"
    );
}

// ---- every access × flags × helper × UseLMCompat, against the SPEC restated -----------

/// SPEC §4 restated independently: the identity's name and the rule id.
fn expected(release: Release, job: &TransferJob, access: Access) -> (&'static str, &'static str) {
    let f = &job.facts;
    let http = matches!(f.remote, Remote::Http | Remote::Https);
    let net = f.flags.contains(NET);
    let local = f.flags.contains(LOCAL);
    let na = |id| ("not_applicable", id);
    let helper_or_l6 = |id| {
        if f.helper.is_some() {
            ("helper", id)
        } else {
            ("token_required", "L-6")
        }
    };
    let on_network = |id| {
        if f.owner.sid == Sid::LOCAL_SYSTEM || f.owner.sid == Sid::NETWORK_SERVICE {
            ("computer", "R-6")
        } else if f.owner.sid == Sid::LOCAL_SERVICE {
            ("anonymous", "R-6")
        } else {
            ("owner", id)
        }
    };
    let file = |applies: bool| match (applies, local) {
        (false, _) => na("R-1"),
        (true, true) => helper_or_l6("R-1"),
        (true, false) => ("owner", "R-1"),
    };
    let c = &job.credentials;
    let implicit_set = |t| {
        [AuthScheme::Ntlm, AuthScheme::Negotiate]
            .iter()
            .any(|&s| c.get(t, s) == Some(Credential::Implicit))
    };
    let explicit_server = AuthScheme::ALL
        .iter()
        .any(|&s| c.get(AuthTarget::Server, s) == Some(Credential::Explicit));
    let allowed = |t: AuthTarget| {
        implicit_set(t)
            || (t == AuthTarget::Server && implicit_set(AuthTarget::Proxy) && !explicit_server)
            || job.environment.use_lm_compat == UseLmCompat::Always
            || (job.environment.use_lm_compat == UseLmCompat::WhenLmCompatibilityLevel2
                && job.environment.lm_compatibility_level.value() >= 2)
    };
    match access {
        Access::UploadLocalFile => file(job.job_type != JobType::Download),
        Access::DownloadTempFileCreate | Access::DownloadTempFileRename => {
            file(job.job_type == JobType::Download)
        }
        Access::ReplyFileCreate | Access::ReplyFileRename => {
            file(job.job_type == JobType::UploadReply)
        }
        Access::SmbRemoteFile if f.remote != Remote::Smb => na("R-2"),
        Access::SmbRemoteFile if net => helper_or_l6("R-2"),
        Access::SmbRemoteFile => on_network("R-2"),
        Access::ProxyAutoDetect if !http || job.proxy != ProxyUsage::Autodetect => na("R-7"),
        Access::ProxyAutoDetect if net => helper_or_l6("R-7"),
        Access::ProxyIeSettings if !http || job.proxy != ProxyUsage::Preconfig => na("R-7"),
        Access::ProxyIeSettings if net && release == Release::Win10_1809 => helper_or_l6("R-7"),
        Access::ProxyAutoDetect | Access::ProxyIeSettings => ("owner", "R-7"),
        Access::ClientCertificateKey if !http || !f.client_certificate => na("R-4"),
        Access::ClientCertificateKey => ("owner", "R-4"),
        Access::Other => ("owner", "§4"),
        challenge => {
            let (t, s) = challenge.as_challenge().expect("the rest are challenges");
            if !http || (t == AuthTarget::Proxy && job.proxy == ProxyUsage::NoProxy) {
                na("R-2")
            } else if c.get(t, s) == Some(Credential::Explicit) {
                ("explicit_credentials", "R-5")
            } else if !matches!(s, AuthScheme::Ntlm | AuthScheme::Negotiate) || !allowed(t) {
                ("no_implicit_credentials", "R-3")
            } else if net {
                helper_or_l6("R-2")
            } else {
                on_network("R-2")
            }
        }
    }
}

fn credential_sets() -> Vec<Credentials> {
    use AuthScheme::*;
    use AuthTarget::*;
    use Credential::*;
    vec![
        Credentials::NONE,
        creds(&[(Server, Negotiate, Implicit)]),
        creds(&[(Proxy, Ntlm, Implicit)]),
        creds(&[(Proxy, Negotiate, Implicit), (Server, Basic, Explicit)]),
        creds(&[(Server, Ntlm, Explicit), (Proxy, Negotiate, Explicit)]),
        creds(&[(Server, Passport, Implicit), (Proxy, Digest, Explicit)]),
    ]
}

#[test]
fn every_access_under_every_flag_helper_and_use_lm_compat_matches_the_spec() {
    let owners = [
        id(&alice()),
        Identity::LOCAL_SYSTEM,
        Identity::LOCAL_SERVICE,
        Identity::NETWORK_SERVICE,
    ];
    let environments = [env(0, 0), env(1, 1), env(1, 2), env(2, 5)];
    let credential_sets = credential_sets();
    let mut seen_ids = std::collections::BTreeSet::new();
    let mut checked = 0usize;
    for release in [Release::Win10_1607, Release::Win10_1809] {
        let profile = Profile::new(release);
        for owner in owners {
            for flags in ALL_FLAGS {
                for h in [None, Some(bob_id())] {
                    for remote in Remote::ALL {
                        for cert in [false, true] {
                            let facts = JobFacts::new(owner)
                                .with_flags(flags)
                                .with_helper(h)
                                .with_remote(remote)
                                .with_client_certificate(cert);
                            for job_type in JobType::ALL {
                                for proxy in ProxyUsage::ALL {
                                    for environment in environments {
                                        for &c in &credential_sets {
                                            let job = TransferJob::new(facts)
                                                .with_job_type(job_type)
                                                .with_proxy(proxy)
                                                .with_environment(environment)
                                                .with_credentials(c);
                                            for &access in Access::ALL {
                                                let r = route(&profile, &job, access);
                                                let want = expected(release, &job, access);
                                                let got = (r.identity.name(), r.rule.id());
                                                assert_eq!(got, want, "{access} {job:?} {release}");
                                                match r.identity {
                                                    Used::Helper { sid } => {
                                                        assert_eq!(sid, bob().user)
                                                    }
                                                    Used::Owner { sid } => {
                                                        assert_eq!(sid, owner.sid)
                                                    }
                                                    _ => {}
                                                }
                                                seen_ids.insert(got.1);
                                                checked += 1;
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
    assert_eq!(
        seen_ids.into_iter().collect::<Vec<_>>(),
        ["L-6", "R-1", "R-2", "R-3", "R-4", "R-5", "R-6", "R-7", "§4"]
    );
    assert!(checked > 1_000_000, "{checked}");
}

// ---- properties ------------------------------------------------------------------------

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

fn transfer_job() -> impl Strategy<Value = TransferJob> {
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
    )
        .prop_map(
            |((owner, flags, h, cert, remote), (job_type, c, proxy, use_lm, level))| {
                let facts = JobFacts::new(owner)
                    .with_flags(TokenUsage::from_bits_retain(flags))
                    .with_helper(h)
                    .with_client_certificate(cert)
                    .with_remote(remote);
                TransferJob::new(facts)
                    .with_job_type(job_type)
                    .with_credentials(c)
                    .with_proxy(proxy)
                    .with_environment(env(use_lm, level))
            },
        )
}

fn any_profile() -> impl Strategy<Value = Profile> {
    prop::sample::select(Release::ALL.to_vec()).prop_map(Profile::new)
}

fn any_access() -> impl Strategy<Value = Access> {
    prop::sample::select(Access::ALL.to_vec())
}

/// The flag SPEC §4 names for each access that can go to the helper.
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// T-1, R-1, R-2: with flags 0 nothing goes to the helper, and nothing needs it (L-6).
    #[test]
    fn prop_flags_0_never_route_to_the_helper(
        p in any_profile(), job in transfer_job(), access in any_access()
    ) {
        let job = job.with_facts(job.facts.with_flags(NONE));
        let r = route(&p, &job, access);
        prop_assert!(!r.identity.is_helper(), "{}", r);
        prop_assert!(r.failure().is_none(), "{}", r);
        prop_assert_eq!(transfer_plan(&p, &job).outcome.failure().map(|f| f.rule.id()),
            client_certificate_failure(&job.facts, NONE).map(|f| f.rule.id()));
    }

    /// the client certificate's key is always the owner's.
    #[test]
    fn prop_the_client_certificate_is_always_the_owners(
        p in any_profile(), job in transfer_job()
    ) {
        let facts = job.facts.with_client_certificate(true).with_remote(Remote::Https);
        let job = job.with_facts(facts);
        let r = route(&p, &job, Access::ClientCertificateKey);
        prop_assert_eq!(r.identity, Used::Owner { sid: job.facts.owner.sid });
        prop_assert_eq!(r.rule.id(), "R-4");
    }

    /// L-6: an access goes to the helper (or needs it) only if the flag
    /// SPEC §4 names for it is set, and then it is the stored helper.
    #[test]
    fn prop_the_helper_only_when_its_flag_is_set(
        p in any_profile(), job in transfer_job(), access in any_access()
    ) {
        let r = route(&p, &job, access);
        match r.identity {
            Used::Helper { sid } => {
                let flag = naming_flag(access);
                prop_assert!(flag.is_some_and(|f| job.facts.flags.contains(f)), "{}", r);
                prop_assert_eq!(Some(sid), job.facts.helper.map(|h| h.sid));
            }
            Used::TokenRequired { usage } => {
                prop_assert_eq!(Some(usage), naming_flag(access));
                prop_assert!(job.facts.flags.contains(usage));
                prop_assert!(job.facts.helper.is_none());
            }
            _ => {}
        }
        prop_assert_eq!(access.flag(), naming_flag(access));
    }

    /// a plan holds exactly the accesses the job makes, each routed by `route`,
    /// and fails with L-6 exactly when a step needs the missing helper, else with X-1
    /// exactly when `client_certificate_failure` says so.
    #[test]
    fn prop_plans_agree_with_route_and_the_failures(p in any_profile(), job in transfer_job()) {
        let plan = transfer_plan(&p, &job);
        let mut seen = std::collections::HashSet::new();
        for step in &plan {
            prop_assert!(step.access.applies_to(&job));
            prop_assert_ne!(step.identity, Used::NotApplicable);
            prop_assert_eq!(*step, route(&p, &job, step.access));
            prop_assert!(seen.insert(step.access), "duplicate {}", step.access);
        }
        let missing = plan.iter().find_map(|s| s.failure());
        let expected = missing.or_else(|| client_certificate_failure(&job.facts, job.facts.flags));
        prop_assert_eq!(plan.outcome.failure(), expected);
        prop_assert_eq!(plan.failing_step().is_some(), expected.is_some());
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
        "server_challenge",
        "server_challenge_kerberos",
        " other",
    ] {
        let e = bad.parse::<Access>().unwrap_err();
        assert_eq!(e.to_string(), "unknown access name");
    }
    assert_eq!(AuthScheme::ALL.map(AuthScheme::value), [1, 2, 3, 4, 5]);
    assert_eq!(AuthTarget::ALL.map(AuthTarget::value), [1, 2]);
    assert_eq!(ProxyUsage::ALL.map(ProxyUsage::value), [0, 1, 2, 3]);
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
        json!({"use_lm_compat": 1, "lm_compatibility_level": 2})
    );
    assert_eq!(
        from_value::<NetworkEnvironment>(json!({})).unwrap(),
        NetworkEnvironment::DEFAULT
    );
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

    // A route as the oracle sees it.
    let job = alice_job(NET, Some(bob_id()))
        .with_credentials(implicit(AuthTarget::Server, AuthScheme::Negotiate));
    let r = route(&LATEST, &job, NEGOTIATE);
    let v = to_value(r).unwrap();
    assert_eq!(
        v,
        json!({
            "access": "server_challenge_negotiate",
            "identity": {"helper": {"sid": "S-1-5-21-1-2-3-1002"}},
            "rule": {"implicit_as_helper": {
                "target": "server", "scheme": "negotiate",
                "allowed": "set_credentials", "helper": "S-1-5-21-1-2-3-1002"
            }}
        })
    );
    assert_eq!(from_value::<Route>(v).unwrap(), r);
    assert_eq!(
        to_value(Used::TokenRequired { usage: NET }).unwrap(),
        json!({"token_required": {"usage": 2}})
    );
    assert_eq!(to_value(Used::Computer).unwrap(), json!("computer"));

    // A plan: its steps and its outcome.
    let plan = transfer_plan(
        &LATEST,
        &alice_job(LOCAL, None).with_proxy(ProxyUsage::NoProxy),
    );
    assert_eq!(
        to_value(plan).unwrap(),
        json!({
            "steps": [
                {"access": "server_challenge_negotiate", "identity": "no_implicit_credentials",
                 "rule": {"implicit_not_allowed": {"target": "server", "scheme": "negotiate",
                    "proxy_credentials_blocked": false,
                    "environment": {"use_lm_compat": 2, "lm_compatibility_level": 3}}}},
                {"access": "download_temp_file_create", "identity": {"token_required": {"usage": 1}},
                 "rule": {"helper_token_missing": {"access": "download_temp_file_create", "usage": 1}}},
                {"access": "download_temp_file_rename", "identity": {"token_required": {"usage": 1}},
                 "rule": {"helper_token_missing": {"access": "download_temp_file_rename", "usage": 1}}}
            ],
            "outcome": {"error": {"hresult": "0x80200056",
                                  "rule": {"helper_token_missing": {"usage": 1}}}}
        })
    );
}

// ---- no allocation -----------------------------------------------------------------------

mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        /// Allocations made by this thread (tests run on several threads at once).
        pub static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    }

    pub struct Counting;

    // SAFETY: delegates to the system allocator unchanged; only counts calls.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
            // SAFETY: same contract as our caller's.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` came from `System.alloc` with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    pub fn count() -> usize {
        ALLOCATIONS.with(Cell::get)
    }
}

#[test]
fn routing_and_plans_allocate_nothing() {
    // Inputs are built (and may allocate) before counting starts.
    let mut jobs = Vec::new();
    for owner in [
        id(&alice()),
        Identity::LOCAL_SERVICE,
        Identity::NETWORK_SERVICE,
    ] {
        for flags in ALL_FLAGS {
            for h in [None, Some(bob_id())] {
                for remote in Remote::ALL {
                    for job_type in JobType::ALL {
                        for proxy in ProxyUsage::ALL {
                            for &c in &credential_sets() {
                                let facts = JobFacts::new(owner)
                                    .with_flags(flags)
                                    .with_helper(h)
                                    .with_remote(remote)
                                    .with_client_certificate(true);
                                jobs.push(
                                    TransferJob::new(facts)
                                        .with_job_type(job_type)
                                        .with_proxy(proxy)
                                        .with_credentials(c)
                                        .with_environment(env(1, 2)),
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    let profiles = Release::ALL.map(Profile::new);
    let mut helpers = 0usize;
    let mut failures = 0usize;
    let before = counting::count();
    for p in &profiles {
        for job in &jobs {
            for &access in Access::ALL {
                helpers += usize::from(route(p, job, access).identity.is_helper());
            }
            failures += usize::from(transfer_plan(p, job).outcome.failure().is_some());
        }
    }
    let allocations = counting::count() - before;
    assert_eq!(allocations, 0);
    assert!(helpers > 0 && failures > 0);
}
