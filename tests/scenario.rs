//! The scenario layer (README "The oracle"): names resolved before anything runs, the
//! handles a scenario defines, and the JSON form of its transcript.

use bits_helper_token::scenario::{HandleName, Scenario, ScenarioErrorKind, Step};
use bits_helper_token::*;
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
        },
        Step::SetHelperTokenFlags {
            handle: h(),
            flags: 1,
        },
        Step::GetHelperTokenFlags { handle: h() },
        Step::SetHelperToken {
            handle: h(),
            impersonating: "svc".into(),
            can_impersonate: true,
        },
        Step::ClearHelperToken { handle: h() },
        Step::GetHelperTokenSid { handle: h() },
        Step::LogoffOwner {},
        Step::Resume {},
        Step::Transfer {},
        Step::Cancel {},
        Step::Complete {},
        Step::TakeOwnership {
            caller: "svc".into(),
        },
        Step::Route {
            access: Access::Other,
        },
        Step::SetCredentials {
            target: AuthTarget::Server,
            scheme: AuthScheme::Basic,
            credential: Credential::Explicit,
        },
        Step::RemoveCredentials {
            target: AuthTarget::Server,
            scheme: AuthScheme::Basic,
        },
        Step::SetProxyUsage {
            usage: ProxyUsage::NoProxy,
        },
        Step::SetClientCertificate { present: true },
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
        },
        Step::SetHelperToken {
            handle: h(),
            impersonating: "ghost".into(),
            can_impersonate: true,
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
        can_impersonate: true,
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
        },
        Step::Route {
            access: Access::ProxyChallenge(AuthScheme::Digest),
        },
    ]);
    // The proxy must be in the way and ask for Digest.
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
