//! The scenario layer (`docs/oracle.md`): names resolved before anything runs, the
//! handles a scenario defines, and the JSON form of its transcript.

use bits_helper_token::scenario::{HandleName, Scenario, ScenarioErrorKind, Step};
use bits_helper_token::{decide::*, job::*, net::*, profile::*, token::*, *};
use serde_json::json;

fn scenario(steps: Vec<Step>) -> Scenario {
    let mut s = Scenario::new("svc");
    s.tokens.insert("svc".into(), TokenInfo::network_service());
    s.steps = steps;
    s
}

fn h() -> HandleName {
    "h".into()
}

#[test]
fn every_step_names_its_json_op() {
    let steps = vec![
        Step::QueryInterface {
            caller: "svc".into(),
            handle: h(),
            level: None,
        },
        Step::SetHelperTokenFlags {
            handle: h(),
            flags: 1,
            level: None,
        },
        Step::GetHelperTokenFlags {
            handle: h(),
            level: None,
        },
        Step::SetHelperToken {
            handle: h(),
            impersonating: "svc".into(),
            can_impersonate: None,
            level: None,
        },
        Step::ClearHelperToken {
            handle: h(),
            level: None,
        },
        Step::GetHelperTokenSid {
            handle: h(),
            level: None,
        },
        Step::LogoffOwner {},
        Step::resume(),
        Step::Transfer {},
        Step::cancel(),
        Step::complete(),
        Step::TakeOwnership {
            caller: "svc".into(),
            level: None,
        },
        Step::Route {
            access: Access::Other,
        },
        Step::SetCredentials {
            target: AuthTarget::Server,
            scheme: AuthScheme::Basic,
            credential: Credential::Explicit,
            caller: None,
            level: None,
        },
        Step::RemoveCredentials {
            target: AuthTarget::Server,
            scheme: AuthScheme::Basic,
            caller: None,
            level: None,
        },
        Step::SetProxyUsage {
            usage: ProxyUsage::NoProxy,
            caller: None,
            level: None,
        },
        Step::SetClientCertificate {
            present: true,
            caller: None,
            level: None,
        },
    ];
    let mut ops = std::collections::BTreeSet::new();
    for step in &steps {
        let json = serde_json::to_value(step).unwrap();
        assert_eq!(json["op"], step.op(), "{json}");
        ops.insert(step.op());
    }
    assert_eq!(ops.len(), steps.len(), "the ops are distinct");
}

#[test]
fn a9_set_helper_token_names_are_checked_before_anything_runs() {
    // An unknown impersonated token refuses the whole scenario, naming the step.
    let s = scenario(vec![
        Step::QueryInterface {
            caller: "svc".into(),
            handle: h(),
            level: None,
        },
        Step::SetHelperToken {
            handle: h(),
            impersonating: "ghost".into(),
            can_impersonate: None,
            level: None,
        },
    ]);
    let e = s.run().unwrap_err();
    assert_eq!(e.step, Some(2));
    assert_eq!(e.kind, ScenarioErrorKind::UnknownToken("ghost".into()));
    assert_eq!(s.validate(), Err(e));
    // So does a handle no query_interface defined.
    let s = scenario(vec![Step::SetHelperToken {
        handle: h(),
        impersonating: "svc".into(),
        can_impersonate: None,
        level: None,
    }]);
    let e = s.run().unwrap_err();
    assert_eq!(e.step, Some(1));
    assert_eq!(e.kind, ScenarioErrorKind::UnknownHandle(h()));
    assert_eq!(
        e.to_string(),
        "step 1: handle \"h\" is not defined by an earlier query_interface"
    );
}

#[test]
fn r5_a_route_to_explicit_credentials_names_target_and_scheme() {
    let s = scenario(vec![
        Step::SetCredentials {
            target: AuthTarget::Proxy,
            scheme: AuthScheme::Digest,
            credential: Credential::Explicit,
            caller: None,
            level: None,
        },
        Step::Route {
            access: Access::ProxyChallenge(AuthScheme::Digest),
        },
    ]);
    // The proxy must be in the way and ask for Digest (X-3, R-7).
    let mut s = s;
    s.job.proxy = ProxyUsage::Override;
    s.job.challenges = Challenges::NONE.with(AuthTarget::Proxy, AuthScheme::Digest);
    let t = serde_json::to_value(s.run().unwrap()).unwrap();
    assert_eq!(
        t["results"][0],
        json!({"hresult": "0x00000000", "name": "S_OK", "rule": "R-5"})
    );
    assert_eq!(
        t["results"][1],
        json!({
            "hresult": "0x00000000",
            "name": "S_OK",
            "rule": "R-5",
            "value": {"identity": "explicit_credentials", "target": "proxy", "scheme": "digest"}
        })
    );
}

#[test]
fn a_session_plays_one_step_at_a_time_and_a_refused_step_changes_nothing() {
    use bits_helper_token::scenario::Session;
    let mut s = scenario(vec![]);
    s.tokens.insert(
        "alice".into(),
        TokenInfo::standard_user("S-1-5-21-1-2-3-1001".parse().unwrap()),
    );
    s.tokens.insert(
        "alice_low".into(),
        TokenInfo::standard_user("S-1-5-21-1-2-3-1001".parse().unwrap())
            .with_integrity(IntegrityLevel::Low),
    );
    s.job.owner = "alice".into();
    s.knobs.access_check = AccessCheck::QueryInterface;
    // Q-10 `refuse`: QueryInterface is a read, which A-11 (a) refuses only under it.
    s.knobs.integrity_reads = IntegrityReads::Refuse;
    let mut session = Session::new(&s).unwrap();
    assert_eq!(session.header(), &s);
    assert_eq!(session.last_result(), None);
    assert_eq!(
        session.token_names().collect::<Vec<_>>(),
        ["alice", "alice_low", "svc"]
    );

    let query = |caller: &str, handle: u64| Step::QueryInterface {
        caller: caller.into(),
        handle: handle.into(),
        level: None,
    };
    let set = |handle: u64, flags| Step::SetHelperTokenFlags {
        handle: handle.into(),
        flags,
        level: None,
    };
    // Each refusal: the error Session::check gives too, numbered as the next step, and
    // nothing changes.
    let refused = |session: &mut Session, step: Step, kind: ScenarioErrorKind| {
        let before = (
            session.job().clone(),
            session.steps_taken(),
            session.handles().count(),
        );
        let e = session.step(&step).unwrap_err();
        assert_eq!(session.check(&step), Err(e.clone()));
        assert_eq!((e.step, e.kind), (Some(before.1 + 1), kind));
        assert_eq!(
            (
                session.job().clone(),
                session.steps_taken(),
                session.handles().count()
            ),
            before
        );
    };
    refused(
        &mut session,
        set(1, 2),
        ScenarioErrorKind::UnknownHandle(1.into()),
    );
    refused(
        &mut session,
        query("mallory", 1),
        ScenarioErrorKind::UnknownToken("mallory".into()),
    );

    let r = session.step(&query("alice", 1)).unwrap();
    assert_eq!((r.hresult, r.rule), (HResult::S_OK, RuleId::A1));
    assert_eq!(session.last_result(), Some(&r));
    refused(
        &mut session,
        query("svc", 1),
        ScenarioErrorKind::HandleRedefined(1.into()),
    );
    // Q-9 at QueryInterface: Alice at Low integrity gets no handle (A-11 (a) on a read,
    // under Q-10 `refuse`).
    let r = session.step(&query("alice_low", 2)).unwrap();
    assert_eq!((r.hresult, r.rule), (HResult::E_ACCESSDENIED, RuleId::Q10));
    assert_eq!(
        session.handles().collect::<Vec<_>>(),
        [(&HandleName::from(1), true), (&HandleName::from(2), false)]
    );
    // Contract 3, §1.7: a step through the refused handle answers with its refusal,
    // marked skipped, and changes nothing.
    let before = session.job().clone();
    let (r, why) = session.step_explained(&set(2, 2)).unwrap();
    assert_eq!(
        (r.hresult, r.rule, r.skipped),
        (HResult::E_ACCESSDENIED, RuleId::Q10, true)
    );
    assert!(why.starts_with("skipped"), "{why}");
    assert_eq!(session.job(), &before);

    let (r, why) = session.step_explained(&set(1, 2)).unwrap();
    assert_eq!((r.hresult, r.rule), (HResult::S_OK, RuleId::A5));
    assert!(!r.skipped);
    assert!(why.contains("A-5"), "{why}");
    assert_eq!(session.job().flags(), TokenUsage::NETWORK);
    assert_eq!(session.steps_taken(), 4);

    // A whole run is the same steps through a session.
    s.steps = vec![
        query("alice", 1),
        query("alice_low", 2),
        set(2, 2),
        set(1, 2),
    ];
    let t = s.run().unwrap();
    assert_eq!(t.results.last(), Some(&r));
    assert_eq!(&t.job, session.job());
    assert_eq!(session.into_job(), t.job);
}

/// A written scenario says only what differs from a fresh job and the default profile:
/// fields at their defaults are left out, and the parser puts them back.
#[test]
fn a_serialized_scenario_leaves_out_its_defaults() {
    let set = |can_impersonate| Step::SetHelperToken {
        handle: h(),
        impersonating: "svc".into(),
        can_impersonate,
        level: None,
    };
    let plain = scenario(vec![set(None)]);
    let json = serde_json::to_value(&plain).unwrap();
    assert_eq!(json["job"], json!({"owner": "svc"}), "{json}");
    assert!(json.get("knobs").is_none(), "{json}");
    assert!(json.get("environment").is_none(), "{json}");
    assert_eq!(
        json["steps"],
        json!([{"op": "set_helper_token", "handle": "h", "impersonating": "svc"}])
    );
    assert_eq!(serde_json::from_value::<Scenario>(json).unwrap(), plain);

    let mut full = scenario(vec![set(Some(false))]);
    full.knobs.admin_bypass = AdminBypass::NoBypass;
    full.environment = NetworkEnvironment::new(0, 5).unwrap();
    full.job.job_type = JobType::Upload;
    full.job.remote = Remote::Http;
    full.job.client_certificate = true;
    full.job.proxy = ProxyUsage::NoProxy;
    full.job.ie_settings = IeSettings::Pac;
    let json = serde_json::to_value(&full).unwrap();
    for key in [
        "type",
        "remote",
        "client_certificate",
        "proxy",
        "ie_settings",
    ] {
        assert!(json["job"].get(key).is_some(), "job.{key}: {json}");
    }
    assert!(json.get("knobs").is_some(), "{json}");
    assert!(json.get("environment").is_some(), "{json}");
    assert_eq!(json["steps"][0]["can_impersonate"], json!(false));
    assert_eq!(serde_json::from_value::<Scenario>(json).unwrap(), full);
}

/// The tokens must be an object of objects and the steps an array of objects; anything
/// else is refused, saying what was expected.
#[test]
fn tokens_and_steps_of_the_wrong_shape_are_refused_saying_what_is_expected() {
    let base = json!({
        "tokens": {"svc": {"user": "S-1-5-20", "groups": []}},
        "job": {"owner": "svc"},
        "steps": []
    });
    assert!(serde_json::from_value::<Scenario>(base.clone()).is_ok());
    for (field, bad, expected) in [
        ("tokens", json!(5), "expected a JSON object of tokens"),
        ("tokens", json!([]), "expected a JSON object of tokens"),
        (
            "tokens",
            json!({"svc": 5}),
            r#"tokens."svc": invalid type: integer `5`, expected a JSON object (a token) or a token shorthand"#,
        ),
        ("steps", json!(5), "expected an array of JSON objects"),
        ("steps", json!({}), "expected an array of JSON objects"),
    ] {
        let mut doc = base.clone();
        doc[field] = bad.clone();
        let e = serde_json::from_value::<Scenario>(doc)
            .unwrap_err()
            .to_string();
        assert!(e.contains(expected), "{field}: {bad}: {e}");
    }
}

/// A token of `tokens` may be a well-known token's shorthand (docs/oracle.md): each stands
/// for exactly what the `TokenInfo` constructor of its name builds.
#[test]
fn each_token_shorthand_is_its_constructors_token() {
    let user = || "S-1-5-21-1-2-3-1001".parse::<Sid>().unwrap();
    let read = |tokens: serde_json::Value| {
        serde_json::from_value::<Scenario>(json!({
            "tokens": tokens,
            "job": {"owner": "svc"},
            "steps": []
        }))
    };
    let s = read(json!({
        "svc": "network_service",
        "system": "local_system",
        "local": "local_service",
        "alice": {"standard_user": "S-1-5-21-1-2-3-1001"},
        "boss": {"administrator": "S-1-5-21-1-2-3-1001"},
        "filtered": {"filtered_administrator": "S-1-5-21-1-2-3-1001"},
        "longhand": {"user": "S-1-5-21-1-2-3-1001", "logon": "batch"}
    }))
    .unwrap();
    let expected = [
        ("svc", TokenInfo::network_service()),
        ("system", TokenInfo::local_system()),
        ("local", TokenInfo::local_service()),
        ("alice", TokenInfo::standard_user(user())),
        ("boss", TokenInfo::elevated_administrator(user())),
        ("filtered", TokenInfo::filtered_administrator(user())),
        (
            "longhand",
            TokenInfo::new(user(), vec![]).with_logon(LogonType::Batch),
        ),
    ];
    assert_eq!(s.tokens.len(), expected.len());
    for (name, token) in expected {
        assert_eq!(s.tokens[name], token, "{name}");
    }
    // What the shorthands stand for, as the rules see it (T-5, T-9).
    assert!(s.tokens["boss"].identity().admin && s.tokens["boss"].identity().elevated);
    assert!(!s.tokens["filtered"].identity().admin);
    assert!(s.tokens["system"].identity().admin);
    // Written back, a shorthand is the token object it stands for.
    let written = serde_json::to_value(&s).unwrap();
    assert_eq!(
        written["tokens"]["svc"],
        serde_json::to_value(TokenInfo::network_service()).unwrap()
    );
    assert_eq!(serde_json::from_value::<Scenario>(written).unwrap(), s);

    // Refused, naming the shorthand and listing the accepted ones.
    let accepted = r#"expected a token object {"user": SID, …}, "local_system", "local_service", "network_service", {"standard_user": SID}, {"administrator": SID} or {"filtered_administrator": SID}"#;
    for (tokens, said) in [
        (
            json!({"svc": "superuser"}),
            format!(r#"tokens."svc": unknown token shorthand "superuser"; {accepted}"#),
        ),
        (
            json!({"svc": {"admin": "S-1-5-21-1-2-3-1001"}}),
            format!(r#"tokens."svc": unknown token field or shorthand "admin"; {accepted}"#),
        ),
        (
            json!({"svc": "administrator"}),
            r#"tokens."svc": token shorthand "administrator" needs the user's SID: {"administrator": SID}"#.to_string(),
        ),
        (
            json!({"svc": {"standard_user": "S-1-5-21-1-2-3-1001", "logon": "batch"}}),
            r#"tokens."svc": token shorthand {"standard_user": SID} stands alone (found "logon" beside it)"#.to_string(),
        ),
        (
            json!({"svc": {"administrator": 500}}),
            r#"tokens."svc": invalid type: integer `500`"#.to_string(),
        ),
    ] {
        let e = read(tokens.clone()).unwrap_err().to_string();
        assert!(e.contains(&said), "{tokens}\n  got: {e}\n  want: {said}");
    }
    // A shorthand beside a token field is refused in either order, naming both.
    for token in [
        r#"{"administrator": "S-1-5-21-1-2-3-500", "groups": []}"#,
        r#"{"groups": [], "administrator": "S-1-5-21-1-2-3-500"}"#,
        r#"{"groups": [], "user": "S-1-5-20", "administrator": "S-1-5-21-1-2-3-500"}"#,
    ] {
        let line =
            format!(r#"{{"tokens": {{"svc": {token}}}, "job": {{"owner": "svc"}}, "steps": []}}"#);
        let e = serde_json::from_str::<Scenario>(&line)
            .unwrap_err()
            .to_string();
        let said = r#"tokens."svc": token shorthand {"administrator": SID} stands alone (found "groups" beside it)"#;
        assert!(e.contains(said), "{token}\n  got: {e}");
    }
}

/// L-11 and Q-6: a user's logon is the user's, not the job's. The owner logged off stays
/// logged off when an administrator takes the job; the new owner's logon is its own.
#[test]
fn an_owner_logged_off_stays_logged_off_after_another_takes_the_job() {
    use bits_helper_token::scenario::Session;
    let alice: Sid = "S-1-5-21-1-2-3-1001".parse().unwrap();
    let boss: Sid = "S-1-5-21-1-2-3-500".parse().unwrap();
    let mut s = scenario(vec![]);
    s.tokens
        .insert("alice".into(), TokenInfo::standard_user(alice));
    s.tokens
        .insert("boss".into(), TokenInfo::elevated_administrator(boss));
    s.job.owner = "alice".into();
    let mut session = Session::new(&s).unwrap();
    assert!(session.is_logged_on(alice) && session.is_logged_on(boss));
    session.step(&Step::LogoffOwner {}).unwrap();
    assert!(!session.is_logged_on(alice));
    let r = session.step(&Step::take_ownership("boss")).unwrap();
    assert_eq!((r.hresult, r.rule), (HResult::S_OK, RuleId::Q6));
    assert_eq!(session.job().owner().sid, boss);
    assert!(
        !session.is_logged_on(alice),
        "alice logged off, and did not log on again"
    );
    assert!(session.is_logged_on(boss));
}

/// L-15: `Session::check` refuses a second file on a download as `Session::step` does,
/// numbered as the next step.
#[test]
fn check_refuses_a_second_file_as_the_next_step() {
    use bits_helper_token::scenario::Session;
    let s = scenario(vec![]);
    let mut session = Session::new(&s).unwrap();
    for taken in 0..3 {
        assert_eq!(session.steps_taken(), taken);
        let e = session.check(&Step::add_file()).unwrap_err();
        assert_eq!(e.step, Some(taken + 1));
        assert!(matches!(e.kind, ScenarioErrorKind::SecondFile(_)), "{e}");
        assert_eq!(session.step(&Step::add_file()), Err(e));
        session.step(&Step::suspend()).unwrap();
    }
}
