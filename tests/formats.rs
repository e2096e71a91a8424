//! Serialized forms, pinned: a dependency upgrade must not silently change them.

use crate::common;
use bits_helper_token::{decide::*, job::*, net::*, profile::*, token::*, *};
use common::*;
use serde_json::{from_str, json, to_value};

#[test]
fn t1_token_usage_serializes_as_the_raw_dword() {
    assert_eq!(to_value(TokenUsage::empty()).unwrap(), json!(0));
    assert_eq!(to_value(TokenUsage::LOCAL_FILE).unwrap(), json!(1));
    assert_eq!(to_value(TokenUsage::NETWORK).unwrap(), json!(2));
    assert_eq!(to_value(TokenUsage::all()).unwrap(), json!(3));
    // Unknown bits survive both ways (T-1): never silently dropped.
    assert_eq!(
        to_value(TokenUsage::from_bits_retain(0x8000_0002)).unwrap(),
        json!(0x8000_0002u32)
    );
    assert_eq!(from_str::<TokenUsage>("6").unwrap().bits(), 6);
    for bad in ["-1", "4294967296", "\"NETWORK\"", "1.5", "null"] {
        assert!(from_str::<TokenUsage>(bad).is_err(), "{bad}");
    }
}

#[test]
fn t6_hresult_serializes_as_upper_case_hex() {
    assert_eq!(
        to_value(HResult::E_ACCESSDENIED).unwrap(),
        json!("0x80070005")
    );
    assert_eq!(to_value(HResult::S_OK).unwrap(), json!("0x00000000"));
    assert_eq!(
        to_value(HResult::from_win32(12186)).unwrap(),
        json!("0x80072F9A")
    );
    assert_eq!(
        from_str::<HResult>("\"E_INVALIDARG\"").unwrap(),
        HResult::E_INVALIDARG
    );
    assert_eq!(
        from_str::<HResult>("\"0x80200056\"").unwrap(),
        HResult::BG_E_TOKEN_REQUIRED
    );
    for bad in ["\"\"", "\"0x\"", "\"E_NOPE\"", "5", "\"0x800700050\""] {
        assert!(from_str::<HResult>(bad).is_err(), "{bad}");
    }
}

#[test]
fn t4_tokens_and_identities() {
    let t = TokenInfo::filtered_administrator(sid("S-1-5-21-1-2-3-500"));
    let v = to_value(&t).unwrap();
    assert_eq!(
        v,
        json!({
            "user": "S-1-5-21-1-2-3-500",
            "groups": [
                {"sid": "S-1-1-0", "attributes": 7},
                {"sid": "S-1-5-32-544", "attributes": 16},
                {"sid": "S-1-5-32-545", "attributes": 7},
                {"sid": "S-1-5-4", "attributes": 7},
                {"sid": "S-1-5-11", "attributes": 7}
            ]
        })
    );
    assert_eq!(from_str::<TokenInfo>(&v.to_string()).unwrap(), t);
    assert_eq!(
        to_value(Identity::NETWORK_SERVICE).unwrap(),
        json!({"sid": "S-1-5-20", "admin": false, "elevated": false, "integrity": "system"})
    );
    // T-8, T-9: elevation and integrity as stated, else inferred from the SID and T-5.
    let plain: Identity = from_str(r#"{"sid": "S-1-5-21-1-2-3-500", "admin": true}"#).unwrap();
    assert_eq!(
        (plain.elevated, plain.integrity),
        (true, IntegrityLevel::High)
    );
    let stated: Identity = from_str(
        r#"{"sid": "S-1-5-21-1-2-3-500", "admin": true, "elevated": false, "integrity": "medium"}"#,
    )
    .unwrap();
    assert_eq!(
        (stated.elevated, stated.integrity),
        (false, IntegrityLevel::Medium)
    );
    assert!(
        from_str::<Identity>(r#"{"sid": "S-1-5-18", "admin": true, "integrity": "root"}"#).is_err()
    );
    // T-11: a restricted identity says so, and reads back restricted; unsaid, it is not.
    let restricted = Identity::new(sid("S-1-5-21-1-2-3-1001"), false).with_restricted(true);
    let v = to_value(restricted).unwrap();
    assert_eq!(
        v,
        json!({"sid": "S-1-5-21-1-2-3-1001", "admin": false, "elevated": false,
               "integrity": "medium", "restricted": true})
    );
    assert_eq!(from_str::<Identity>(&v.to_string()).unwrap(), restricted);
    let said: Identity =
        from_str(r#"{"sid": "S-1-5-21-1-2-3-1001", "admin": false, "restricted": true}"#).unwrap();
    assert!(said.restricted);
    let unsaid: Identity = from_str(r#"{"sid": "S-1-5-21-1-2-3-1001", "admin": false}"#).unwrap();
    assert!(!unsaid.restricted);
    // A token states them, or a group S-1-16-<rid> with SE_GROUP_INTEGRITY (0x20) does.
    let labelled: TokenInfo = from_str(
        r#"{"user": "S-1-5-21-1-2-3-1001", "groups": [{"sid": "S-1-16-4096", "attributes": 96}]}"#,
    )
    .unwrap();
    assert_eq!(Identity::of(&labelled).integrity, IntegrityLevel::Low);
    let stated: TokenInfo =
        from_str(r#"{"user": "S-1-5-21-1-2-3-1001", "elevated": true, "integrity": "high"}"#)
            .unwrap();
    assert_eq!(
        (
            Identity::of(&stated).elevated,
            Identity::of(&stated).integrity
        ),
        (true, IntegrityLevel::High)
    );
    assert_eq!(
        to_value(&stated).unwrap(),
        json!({"user": "S-1-5-21-1-2-3-1001", "groups": [], "elevated": true, "integrity": "high"})
    );
    // Unknown fields and bad SIDs are refused.
    assert!(from_str::<TokenInfo>(r#"{"user": "S-1-5-18", "grups": []}"#).is_err());
    assert!(from_str::<TokenInfo>(r#"{"user": "S-1-5-018"}"#).is_err());
    assert!(from_str::<Identity>(r#"{"sid": "S-1-5-18"}"#).is_err());
}

/// T-4: a group's attributes are read from the number or from the flags' names, each name
/// at most once; they are always written as the number.
#[test]
fn t4_group_attributes_by_name_read_as_the_number_and_are_written_as_it() {
    let named = |names: &str| {
        from_str::<TokenInfo>(&format!(
            r#"{{"user": "S-1-5-21-1-2-3-1001", "groups": [{{"sid": "S-1-5-32-544", "attributes": {names}}}]}}"#
        ))
    };
    for (names, number) in [
        (r#"["enabled", "enabled_by_default", "mandatory"]"#, 0x7),
        (
            r#"["mandatory", "enabled_by_default", "enabled", "owner"]"#,
            0xF,
        ),
        (r#"["deny_only"]"#, 0x10),
        (r#"["integrity", "integrity_enabled"]"#, 0x60),
        (r#"["resource"]"#, 0x2000_0000),
        (r#"["logon_id", "enabled"]"#, 0xC000_0004),
        ("[]", 0),
    ] {
        let by_name = named(names).unwrap_or_else(|e| panic!("{names}: {e}"));
        let by_number = named(&number.to_string()).unwrap();
        assert_eq!(by_name, by_number, "{names}");
        assert_eq!(by_name.groups[0].attributes.bits(), number, "{names}");
        let written = to_value(&by_name).unwrap();
        assert_eq!(written["groups"][0]["attributes"], json!(number), "{names}");
    }
    // The number keeps its unknown bits, and its range.
    assert_eq!(
        named("4294967295").unwrap().groups[0].attributes.bits(),
        u32::MAX
    );
    // Refused, saying what: an unknown name, a name twice, a name that is not a string, a
    // bare name, and numbers out of range or with a fraction.
    let all = r#"expected one of "mandatory", "enabled_by_default", "enabled", "owner", "deny_only", "integrity", "integrity_enabled", "resource", "logon_id" (group attribute)"#;
    for (names, said) in [
        (
            r#"["enabled", "use_for_deny_only"]"#,
            format!(r#"invalid value: string "use_for_deny_only", {all}"#),
        ),
        (
            r#"["enabled", "owner", "enabled"]"#,
            r#"group attribute "enabled" is named twice"#.to_string(),
        ),
        (
            r#"["enabled", 4]"#,
            format!("invalid type: integer `4`, {all}"),
        ),
        (
            r#""enabled""#,
            r#"invalid type: string "enabled", expected a u32 or a list of group attribute names"#
                .to_string(),
        ),
        ("-1", "invalid value: integer `-1`".to_string()),
        (
            "4294967296",
            "invalid value: integer `4294967296`".to_string(),
        ),
        ("7.0", "invalid type: floating point `7.0`".to_string()),
        ("null", "invalid type: null".to_string()),
    ] {
        let e = named(names).unwrap_err().to_string();
        assert!(e.contains(&said), "{names}: {e}");
    }
}

#[test]
fn a3_profile_and_knobs() {
    assert_eq!(
        to_value(Profile::default()).unwrap(),
        json!({
            "release": "win10_1809",
            "knobs": {
                "unknown_flags": "not_impl",
                "admin_bypass": "owner_rule_and_vetoes",
                "done_jobs": "invalid_state",
                "denial": "0x80070005",
                "take_ownership": "drop_token",
                "legacy_set_token": "caller_and_owner",
                "token_check": "eager",
                "access_check": "query_interface",
                "integrity_reads": "pass",
                "identify_on_set_token": "failed_to_impersonate",
                "service_proxy_credentials": "computer"
            }
        })
    );
    let names: Vec<_> = Release::ALL.iter().map(|r| to_value(r).unwrap()).collect();
    assert_eq!(
        names,
        vec![
            json!("pre_bits4"),
            json!("legacy"),
            json!("win10_1607"),
            json!("win10_1809")
        ]
    );
    // Missing fields take their defaults; unknown ones are refused.
    let p: Profile =
        from_str(r#"{"release": "legacy", "knobs": {"unknown_flags": "mask"}}"#).unwrap();
    assert_eq!(p.release, Release::Legacy);
    assert_eq!(p.knobs.unknown_flags, UnknownFlags::Mask);
    assert_eq!(p.knobs.admin_bypass, AdminBypass::OwnerRuleAndVetoes);
    assert!(from_str::<Profile>(r#"{"relase": "legacy"}"#).is_err());
    assert!(from_str::<Profile>(r#"{"release": "win11"}"#).is_err());
    // Q-5: a success code cannot be configured as a denial.
    let e = from_str::<Knobs>(r#"{"denial": "0x00000000"}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("success code"), "{e}");
}

#[test]
fn t7_job_vocabulary() {
    assert_eq!(
        to_value(JobState::TransientError).unwrap(),
        json!("transient_error")
    );
    assert_eq!(
        to_value(JobType::UploadReply).unwrap(),
        json!("upload_reply")
    );
    assert_eq!(to_value(Remote::Smb).unwrap(), json!("smb"));
    assert!(from_str::<JobState>("\"Error\"").is_err());
}

#[test]
fn rule_ids_and_reasons_serialize_as_their_names() {
    assert_eq!(to_value(RuleId::A5).unwrap(), json!("A-5"));
    assert_eq!(to_value(RuleId::A10).unwrap(), json!("A-10"));
    assert_eq!(from_str::<RuleId>("\"R-0\"").unwrap(), RuleId::R0);
    assert!(from_str::<RuleId>("\"A-55\"").is_err());
    assert!(from_str::<RuleId>("\"§4\"").is_err());
    assert_eq!(
        to_value(Reason::NotJobOwner).unwrap(),
        json!("not_job_owner")
    );
    assert_eq!(
        to_value(Reason::CannotImpersonate).unwrap(),
        json!("cannot_impersonate")
    );
    // A job's error carries its code, rule id and reason; one the model cannot produce is
    // refused.
    let e = JobError::of(Reason::HelperTokenMissing).unwrap();
    assert_eq!(
        to_value(e).unwrap(),
        json!({"hresult": "0x80200056", "rule": "L-6", "reason": "helper_token_missing"})
    );
    for bad in [
        json!({"hresult": "0x80070005", "rule": "L-6", "reason": "helper_token_missing"}),
        json!({"hresult": "0x80200056", "rule": "L-5", "reason": "helper_token_missing"}),
        json!({"hresult": "0x80200056", "rule": "A-5", "reason": "not_job_owner"}),
        json!({"hresult": "0x80200056", "rule": "L-6", "reason": "helper_token_missing", "x": 1}),
    ] {
        assert!(
            serde_json::from_value::<JobError>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

/// A serialized job the model cannot reach is refused, saying what is wrong.
#[test]
fn jobs_in_unreachable_states_are_refused() {
    let owner = json!({"sid": "S-1-5-20", "admin": false});
    let error = json!({"hresult": "0x80200056", "rule": "L-6", "reason": "helper_token_missing"});
    let ok = json!({"owner": owner, "state": "error", "error": error});
    assert!(serde_json::from_value::<Job>(ok).is_ok());
    for (bad, needle) in [
        (json!({"owner": owner, "state": "error"}), "must have one"),
        (
            json!({"owner": owner, "state": "queued", "error": error}),
            "has no error",
        ),
        (json!({"owner": owner, "flags": 6}), "unknown bits 0x4"),
        (
            json!({"owner": owner, "sate": "queued"}),
            "unknown field `sate`",
        ),
    ] {
        let e = serde_json::from_value::<Job>(bad.clone())
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle), "{bad}: {e}");
    }
}

/// A job's serialized form keeps every fact: what it was built with comes back, network
/// environment, challenges and IE settings included.
#[test]
fn a_job_round_trips_with_every_fact() {
    let owner = Identity::new("S-1-5-21-1-2-3-1001".parse().unwrap(), false);
    let mut facts = JobFacts::new(owner);
    facts.flags = TokenUsage::NETWORK;
    facts.helper = Some(owner);
    facts.client_certificate = true;
    facts.remote = Remote::Http;
    facts.job_type = JobType::Upload;
    facts.proxy = ProxyUsage::NoProxy;
    facts.environment = NetworkEnvironment::new(0, 5).unwrap();
    facts.owner_logged_on = false;
    facts.challenges = Challenges::NONE
        .with(AuthTarget::Server, AuthScheme::Ntlm)
        .with(AuthTarget::Proxy, AuthScheme::Negotiate);
    facts.ie_settings = IeSettings::Autodetect;
    assert!(facts.can_exist());
    let job = Job::with_facts(Profile::default(), facts);
    let json = to_value(&job).unwrap();
    let back: Job = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back.facts(), &facts, "{json}");
    assert_eq!(back, job);
}

/// The library is as strict as the oracle: every type that deserializes from an object
/// refuses the array form serde's derive would also take, a field given twice and an
/// unknown field — `serde_json::from_str` on the type itself, not only through the binary.
#[test]
fn every_object_type_refuses_arrays_duplicates_and_unknown_fields() {
    fn strict<T: serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug + PartialEq>(
        value: T,
    ) {
        let name = std::any::type_name::<T>();
        let object = to_value(&value).unwrap();
        let map = object
            .as_object()
            .unwrap_or_else(|| panic!("{name} is an object"));
        // It round-trips.
        assert_eq!(from_str::<T>(&object.to_string()).unwrap(), value, "{name}");
        // The array form of the same fields.
        let array = serde_json::Value::Array(map.values().cloned().collect());
        let err = from_str::<T>(&array.to_string())
            .expect_err(name)
            .to_string();
        assert!(err.contains("as a JSON object"), "{name}: {err}");
        // A field given twice: the object's text with its first field repeated.
        let (key, first) = map
            .iter()
            .next()
            .unwrap_or_else(|| panic!("{name} has a field"));
        let text = object.to_string();
        let twice = format!("{{{}:{},{}", json!(key), first, &text[1..]);
        let err = from_str::<T>(&twice).expect_err(&twice).to_string();
        assert!(err.contains("duplicate field"), "{name}: {err}");
        // An unknown field.
        let unknown = format!("{{\"no_such_field\":1,{}", &text[1..]);
        let err = from_str::<T>(&unknown).expect_err(&unknown).to_string();
        assert!(err.contains("unknown field"), "{name}: {err}");
    }
    let owner = id(&alice());
    let facts = JobFacts::new(owner)
        .with_flags(TokenUsage::NETWORK)
        .with_helper(Some(id(&bob())))
        .with_client_certificate(true)
        .with_proxy(ProxyUsage::Override)
        .with_challenges(Challenges::NONE.with(AuthTarget::Server, AuthScheme::Ntlm))
        .with_credentials(
            Credentials::NONE
                .set(
                    AuthTarget::Proxy,
                    AuthScheme::Negotiate,
                    Credential::Implicit,
                )
                .unwrap(),
        );
    strict(facts);
    strict(Job::with_facts(Profile::new(Release::Legacy), facts));
    strict(owner);
    strict(alice());
    strict(Group::new(
        Sid::BUILTIN_ADMINISTRATORS,
        GroupAttributes::DEFAULT_ENABLED,
    ));
    strict(Profile::new(Release::Win10_1607));
    strict(Knobs::default().with_token_check(TokenCheck::Lazy));
    strict(NetworkEnvironment::DEFAULT);
    strict(
        Credentials::NONE
            .set(AuthTarget::Server, AuthScheme::Basic, Credential::Explicit)
            .unwrap(),
    );
    let failed = JobFacts::new(owner).with_flags(TokenUsage::LOCAL_FILE);
    let mut job = Job::with_facts(Profile::default(), failed);
    job.resume();
    job.transfer();
    strict(job.error().expect("L-6: BG_E_TOKEN_REQUIRED"));
    let line = r#"{"tokens": {"a": {"user": "S-1-5-21-1-2-3-1001"}}, "job": {"owner": "a", "proxy": "override"}, "steps": [{"op": "query_interface", "caller": "a", "handle": 1}]}"#;
    let scenario = bits_helper_token::scenario::Scenario::from_json_line(line).unwrap();
    strict(scenario.job.clone());
    strict(scenario.steps[0].clone());
    strict(scenario);
}

/// A `JobFacts` has no profile: a job's serialized form with one is refused as facts.
#[test]
fn job_facts_refuse_a_profile() {
    let job = Job::new(Profile::default(), &Identity::NETWORK_SERVICE);
    let text = serde_json::to_string(&job).unwrap();
    assert!(text.contains("\"profile\""));
    let err = from_str::<JobFacts>(&text).unwrap_err().to_string();
    assert!(err.contains("the facts of a job have no profile"), "{err}");
    assert_eq!(
        from_str::<JobFacts>(&serde_json::to_string(job.facts()).unwrap()).unwrap(),
        *job.facts()
    );
}
