//! Mutation testing (issue 7, item 2): the routing vocabulary and texts (R-1…R-7, L-6).
//! Each test pins a documented behaviour that a surviving `cargo mutants` mutant showed no
//! other test pinned.

use bits_helper_token::*;

#[test]
fn r3_r5_auth_targets_are_the_bg_auth_target_values() {
    assert_eq!(AuthTarget::from_value(1), Some(AuthTarget::Server));
    assert_eq!(AuthTarget::from_value(2), Some(AuthTarget::Proxy));
    assert_eq!(AuthTarget::from_value(0), None);
    assert_eq!(AuthTarget::from_value(3), None);
    for t in AuthTarget::ALL {
        assert_eq!(AuthTarget::from_value(t.value()), Some(t));
        assert_eq!(t.to_string(), t.name());
        assert_eq!(serde_json::to_value(t).unwrap(), t.name());
    }
}

#[test]
fn r3_r5_auth_schemes_are_the_bg_auth_scheme_values_and_names() {
    let names: Vec<String> = AuthScheme::ALL.iter().map(|s| s.to_string()).collect();
    assert_eq!(names, ["basic", "digest", "ntlm", "negotiate", "passport"]);
    for (i, s) in AuthScheme::ALL.into_iter().enumerate() {
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
    for p in ProxyUsage::ALL {
        assert_eq!(ProxyUsage::from_value(p.value()), Some(p));
        assert_eq!(p.name().parse::<ProxyUsage>(), Ok(p));
        assert_eq!(p.to_string(), p.name());
    }
    assert_eq!(ProxyUsage::from_value(4), None);
    let uses: Vec<bool> = ProxyUsage::ALL.iter().map(|p| p.uses_proxy()).collect();
    assert_eq!(uses, [true, false, true, true]);
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
    assert_eq!(env.allows_implicit(), None);
    let always = env.with_use_lm_compat(UseLmCompat::Always);
    assert_eq!(always.use_lm_compat, UseLmCompat::Always);
    assert_eq!(always.lm_compatibility_level, level(3));
    assert_eq!(
        always.allows_implicit(),
        Some(ImplicitAllowed::UseLmCompatAlways)
    );
    let one = env.with_use_lm_compat(UseLmCompat::WhenLmCompatibilityLevel2);
    for (v, allowed) in [(0, false), (1, false), (2, true), (3, true), (5, true)] {
        let e = one.with_lm_compatibility_level(level(v));
        assert_eq!(e.lm_compatibility_level, level(v));
        assert_eq!(e.use_lm_compat, UseLmCompat::WhenLmCompatibilityLevel2);
        assert_eq!(
            e.allows_implicit(),
            allowed.then_some(ImplicitAllowed::LmCompatibilityLevel { level: level(v) }),
            "level {v}"
        );
        assert_eq!(NetworkEnvironment::new(1, v), Ok(e));
    }
    assert_eq!(
        env.with_lm_compatibility_level(level(5)).allows_implicit(),
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
    for t in AuthTarget::ALL {
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
        let facts = JobFacts::new(owner).with_remote(Remote::Smb);
        route(
            &Profile::default(),
            &TransferJob::new(facts),
            Access::SmbRemoteFile,
        )
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
        assert_eq!(r.rule.id(), "R-6");
        assert_eq!(
            r.rule.to_string(),
            format!(
                "R-6: the owner {who} and no helper token is in play, so BITS opens the remote \
                 file on the SMB share {appears}"
            )
        );
    }
}

#[test]
fn r1_r7_access_names_deserialize_strictly_and_say_what_is_expected() {
    for a in Access::ALL {
        let json = serde_json::to_value(a).unwrap();
        assert_eq!(json, a.name());
        assert_eq!(serde_json::from_value::<Access>(json).unwrap(), *a);
    }
    let expected = r#"expected an access name such as "server_challenge_negotiate""#;
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
    let https = TransferJob::new(JobFacts::new(owner));
    let smb = TransferJob::new(JobFacts::new(owner).with_remote(Remote::Smb));
    let a = transfer_plan(&p, &https);
    let b = transfer_plan(&p, &smb);
    // Both transfer, with different accesses: different plans.
    assert_eq!(a.outcome, Outcome::Transferred);
    assert_eq!(b.outcome, Outcome::Transferred);
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
            a.outcome
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
