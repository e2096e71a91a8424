//! The oracle's JSON Schemas (`schema/scenario.schema.json`, `schema/answer.schema.json`)
//! checked with a well-kept validator (the `jsonschema` crate): they are valid draft
//! 2020-12 schemas; every conformance vector's scenario and answer, generated scenarios
//! and their answers, and error answers validate; documents the parser refuses for their
//! shape are refused by the schema too; and every name the crate knows is in the schema.
#![cfg(feature = "serde")]

#[path = "../../../src/bin/bits-helper-token-oracle/line.rs"]
mod oracle_line;

use bits_helper_token::scenario::{HandleName, Scenario, Step};
use bits_helper_token::{decide::*, job::*, net::*, profile::*, token::*, *};
use jsonschema::Validator;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::OnceLock;

fn load(name: &str) -> Value {
    let path = format!("{}/../../schema/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn scenario_schema() -> &'static Value {
    static S: OnceLock<Value> = OnceLock::new();
    S.get_or_init(|| load("scenario.schema.json"))
}

fn answer_schema() -> &'static Value {
    static S: OnceLock<Value> = OnceLock::new();
    S.get_or_init(|| load("answer.schema.json"))
}

fn validator(schema: &Value) -> Validator {
    jsonschema::draft202012::new(schema).expect("the schema compiles")
}

/// Every error the validator finds, for the failure message.
fn errors(v: &Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn assert_valid(v: &Validator, doc: &Value, what: &str) {
    let e = errors(v, doc);
    assert!(e.is_empty(), "{what} does not validate: {e:?}\n{doc}");
}

#[test]
fn both_schemas_are_valid_draft_2020_12() {
    for schema in [scenario_schema(), answer_schema()] {
        jsonschema::draft202012::meta::validate(schema)
            .unwrap_or_else(|e| panic!("not a valid 2020-12 schema: {e}"));
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }
}

#[test]
fn every_conformance_vector_and_its_answer_validate() {
    let (input, output) = (validator(scenario_schema()), validator(answer_schema()));
    let mut n = 0;
    for file in ["methods", "lifecycle", "routing"] {
        let path = format!(
            "{}/../../tests/vectors/{file}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let vectors: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for v in &vectors {
            let what = format!("{file}: {}", v["name"]);
            assert_valid(&input, &v["scenario"], &what);
            assert_valid(&output, &v["expected"], &what);
            // And the oracle's own answer to it, with explanations.
            let mut scenario = v["scenario"].clone();
            scenario["explain"] = json!(true);
            let answer = oracle_line::answer(1, scenario.to_string().as_bytes())
                .expect("a vector is a valid scenario");
            assert_valid(&output, &serde_json::from_str(&answer).unwrap(), &what);
            n += 1;
        }
    }
    assert!(n >= 200, "{n} vectors");
}

#[cfg(feature = "proptest")]
#[test]
fn generated_scenarios_and_their_answers_validate() {
    use bits_helper_token::support::proptest::{ScenarioParams, scenario};
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    let (input, output) = (validator(scenario_schema()), validator(answer_schema()));
    let mut runner = TestRunner::deterministic();
    let mut params = ScenarioParams::default();
    let mut values = BTreeSet::new();
    for i in 0..3000 {
        params.random_knobs = i % 2 == 1;
        let mut s = scenario(params.clone())
            .new_tree(&mut runner)
            .unwrap()
            .current();
        s.explain = i % 3 == 0;
        let line = serde_json::to_string(&s).unwrap();
        let doc: Value = serde_json::from_str(&line).unwrap();
        assert_valid(&input, &doc, "a generated scenario");
        let answer =
            oracle_line::answer(i + 1, line.as_bytes()).expect("a generated scenario runs");
        let doc: Value = serde_json::from_str(&answer).unwrap();
        assert_valid(&output, &doc, "its answer");
        for r in doc["results"].as_array().unwrap() {
            if let Some(v) = r.get("value") {
                values.insert(match v {
                    Value::Object(o) => format!("route {}", o["identity"]),
                    other => type_name(other).to_string(),
                });
            }
        }
    }
    // The answers exercised every shape of value, every identity of a route among them.
    for identity in [
        "owner",
        "helper",
        "computer",
        "anonymous",
        "explicit_credentials",
        "no_implicit_credentials",
        "not_applicable",
        "token_required",
    ] {
        assert!(
            values.contains(&format!("route \"{identity}\"")),
            "{values:?}"
        );
    }
    for shape in ["number", "string", "null"] {
        assert!(values.contains(shape), "{values:?}");
    }
}

#[cfg(feature = "proptest")]
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

const TOKENS: &str = r#""tokens": {"svc": {"user": "S-1-5-20"}}"#;

/// A valid scenario with `job` and `steps` (JSON fragments) and `extra` top-level fields.
fn line(extra: &str, job: &str, steps: &str) -> Value {
    let text = format!(r#"{{{extra}{TOKENS}, "job": {job}, "steps": [{steps}]}}"#);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn error_answers_validate_and_refused_shapes_are_refused_by_both() {
    let (input, output) = (validator(scenario_schema()), validator(answer_schema()));
    let qi = r#"{"op": "query_interface", "caller": "svc", "handle": 1}"#;
    let ok = line("", r#"{"owner": "svc"}"#, qi);
    assert_valid(&input, &ok, "the base scenario");
    // Each of these has a shape the parser refuses: the schema must refuse it too, and the
    // oracle's error answer must validate against the answer schema.
    let bad = [
        line(r#""extra": 1, "#, r#"{"owner": "svc"}"#, qi),
        line(r#""release": "win11", "#, r#"{"owner": "svc"}"#, qi),
        line(r#""knobs": {"unknown_flags": "ignore"}, "#, r#"{"owner": "svc"}"#, qi),
        line(r#""knobs": {"q1": "mask"}, "#, r#"{"owner": "svc"}"#, qi),
        line(r#""knobs": {"denial": "access denied"}, "#, r#"{"owner": "svc"}"#, qi),
        line(r#""environment": {"use_lm_compat": 3}, "#, r#"{"owner": "svc"}"#, qi),
        line("", r#"{"owner": "svc", "type": "upload-reply"}"#, qi),
        line("", r#"{"owner": "svc", "colour": "red"}"#, qi),
        line("", r#"{"owner": "svc", "challenges": {"server": ["kerberos"]}}"#, qi),
        line("", r#"{}"#, qi),
        line("", r#"{"owner": "svc"}"#, r#"{"op": "fly"}"#),
        line("", r#"{"owner": "svc"}"#, r#"{"op": "resume", "now": true}"#),
        line("", r#"{"owner": "svc"}"#, r#"{"op": "query_interface", "caller": "svc"}"#),
        line(
            "",
            r#"{"owner": "svc"}"#,
            r#"{"op": "set_helper_token_flags", "handle": 1, "flags": -1}"#,
        ),
        line("", r#"{"owner": "svc"}"#, r#"{"op": "route", "access": "ftp"}"#),
        line(
            "",
            r#"{"owner": "svc"}"#,
            r#"{"op": "set_credentials", "target": "server", "scheme": "basic"}"#,
        ),
        serde_json::from_str(r#"{"tokens": {"svc": {"user": "S-1-5-018"}}, "job": {"owner": "svc"}, "steps": []}"#).unwrap(),
        serde_json::from_str(r#"{"tokens": {"svc": {"user": "S-1-5-20", "integrity": "ultra"}}, "job": {"owner": "svc"}, "steps": []}"#).unwrap(),
        serde_json::from_str(r#"{"job": {"owner": "svc"}, "steps": []}"#).unwrap(),
        // Q-5: the denial code must be a failure code.
        line(r#""knobs": {"denial": "S_OK"}, "#, r#"{"owner": "svc"}"#, qi),
        line(r#""knobs": {"denial": "0x00000001"}, "#, r#"{"owner": "svc"}"#, qi),
        line(r#""knobs": {"denial": "0x5"}, "#, r#"{"owner": "svc"}"#, qi),
        // Array forms, wherever an object is expected.
        serde_json::from_str(r#"[{"svc": {"user": "S-1-5-20"}}, {"owner": "svc"}, []]"#).unwrap(),
        serde_json::from_str(r#"{"tokens": {"svc": ["S-1-5-20", []]}, "job": {"owner": "svc"}, "steps": []}"#).unwrap(),
        serde_json::from_str(r#"{"tokens": {"svc": {"user": "S-1-5-20"}}, "job": ["svc"], "steps": []}"#).unwrap(),
        line("", r#"{"owner": "svc"}"#, r#"["resume"]"#),
        line(r#""knobs": ["not_impl"], "#, r#"{"owner": "svc"}"#, qi),
        // Out of range and wrong types.
        line("", r#"{"owner": "svc"}"#, r#"{"op": "set_helper_token_flags", "handle": 1, "flags": 4294967296}"#),
        line("", r#"{"owner": "svc"}"#, r#"{"op": "set_helper_token_flags", "handle": 1, "flags": "2"}"#),
        line("", r#"{"owner": "svc"}"#, r#"{"op": "set_helper_token_flags", "handle": 1, "flags": 2.5}"#),
        line("", r#"{"owner": "svc", "client_certificate": "yes"}"#, qi),
        line(r#""environment": {"lm_compatibility_level": 6}, "#, r#"{"owner": "svc"}"#, qi),
        // A SID the strict parser refuses (T-2).
        serde_json::from_str(r#"{"tokens": {"svc": {"user": "S-1-5-20-"}}, "job": {"owner": "svc"}, "steps": []}"#).unwrap(),
        serde_json::from_str(r#"{"tokens": {"svc": {"user": "S-1-5-20", "groups": [{"sid": "S-1-5-32-544", "attributes": -1}]}}, "job": {"owner": "svc"}, "steps": []}"#).unwrap(),
    ];
    for doc in &bad {
        assert!(!input.is_valid(doc), "the schema accepts {doc}");
        let answer = oracle_line::answer(4, doc.to_string().as_bytes())
            .expect_err("the parser refuses it too");
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_valid(&output, &answer, "an error answer");
        assert!(answer["error"].as_str().unwrap().starts_with("line 4: "));
    }
    // The answer schema refuses what the oracle never writes.
    for doc in [
        json!({"results": [], "job": {}}),
        json!({"results": [{"hresult": "0x80070005", "rule": "A-5"}]}),
        json!({"error": "no line number"}),
        json!({"results": [{"hresult": "0x80070005", "rule": "A-12"}], "job": null}),
    ] {
        assert!(!output.is_valid(&doc), "the answer schema accepts {doc}");
    }
}

/// Two refusals of the oracle are of the JSON text, not of the value JSON Schema sees: a
/// field given twice (a parser keeps one) and an integer written as `2.0` (JSON Schema's
/// data model has one number 2). The oracle refuses both; the schema cannot, and says so
/// where a reader looks: the scenario's description and the `u32` definition.
#[test]
fn what_json_schema_cannot_see_the_oracle_refuses_and_the_schema_says() {
    let input = validator(scenario_schema());
    let twice = r#"{"tokens": {"svc": {"user": "S-1-5-20"}}, "job": {"owner": "svc"}, "steps": [], "steps": []}"#;
    let float = r#"{"tokens": {"svc": {"user": "S-1-5-20"}}, "job": {"owner": "svc"}, "steps": [{"op": "query_interface", "caller": "svc", "handle": 1}, {"op": "set_helper_token_flags", "handle": 1, "flags": 2.0}]}"#;
    for (text, needle) in [(twice, "duplicate field"), (float, "floating point")] {
        let err = oracle_line::answer(1, text.as_bytes()).expect_err(text);
        assert!(err.contains(needle), "{err}");
        // The value the schema sees is valid: the refusal is the oracle's alone.
        let value: Value = serde_json::from_str(text).unwrap();
        assert!(input.is_valid(&value), "{text}");
    }
    let schema = scenario_schema();
    let said = schema["description"].as_str().unwrap_or_default();
    assert!(said.contains("field given twice"), "{said}");
    let u32_said = schema["$defs"]["u32"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(u32_said.contains("2.0"), "{u32_said}");
}

/// The `enum` at a JSON pointer into a schema, as a set of strings.
fn enum_at(schema: &Value, pointer: &str) -> BTreeSet<String> {
    schema
        .pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no enum at {pointer}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

fn names<T: std::fmt::Display>(all: &[T]) -> BTreeSet<String> {
    all.iter().map(ToString::to_string).collect()
}

#[test]
fn every_name_the_crate_knows_is_in_the_schemas() {
    let (s, a) = (scenario_schema(), answer_schema());
    let d = "/$defs";
    assert_eq!(enum_at(s, "/properties/release/enum"), names(Release::ALL));
    for (knob, all) in [
        ("unknown_flags", names(UnknownFlags::ALL)),
        ("admin_bypass", names(AdminBypass::ALL)),
        ("done_jobs", names(DoneJobs::ALL)),
        ("take_ownership", names(TakeOwnership::ALL)),
        ("legacy_set_token", names(LegacySetToken::ALL)),
        ("token_check", names(TokenCheck::ALL)),
        ("access_check", names(AccessCheck::ALL)),
    ] {
        assert_eq!(
            enum_at(s, &format!("{d}/knobs/properties/{knob}/enum")),
            all,
            "{knob}"
        );
    }
    // Every knob field of the serialized Knobs, and nothing else.
    let knob_fields: BTreeSet<String> = serde_json::to_value(Knobs::DEFAULT)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let schema_fields: BTreeSet<String> = s
        .pointer(&format!("{d}/knobs/properties"))
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(schema_fields, knob_fields);
    assert_eq!(
        enum_at(s, &format!("{d}/integrity/enum")),
        names(IntegrityLevel::ALL)
    );
    assert_eq!(
        enum_at(a, &format!("{d}/job/properties/owner_integrity/enum")),
        names(IntegrityLevel::ALL)
    );
    assert_eq!(
        enum_at(s, &format!("{d}/job/properties/type/enum")),
        names(JobType::ALL)
    );
    assert_eq!(
        enum_at(s, &format!("{d}/job/properties/remote/enum")),
        names(Remote::ALL)
    );
    assert_eq!(
        enum_at(s, &format!("{d}/job/properties/ie_settings/enum")),
        names(IeSettings::ALL)
    );
    assert_eq!(
        enum_at(s, &format!("{d}/proxy_usage/enum")),
        names(ProxyUsage::ALL)
    );
    assert_eq!(
        enum_at(s, &format!("{d}/target/enum")),
        names(AuthTarget::ALL)
    );
    assert_eq!(
        enum_at(s, &format!("{d}/scheme/enum")),
        names(AuthScheme::ALL)
    );
    assert_eq!(
        enum_at(a, &format!("{d}/route/properties/identity/enum")),
        names(Principal::ALL)
    );
    assert_eq!(
        enum_at(a, &format!("{d}/result/properties/rule/enum")),
        names(RuleId::ALL)
    );
    assert_eq!(
        enum_at(a, &format!("{d}/job/properties/state/enum")),
        names(JobState::ALL)
    );
    let known: BTreeSet<String> = HResult::known().map(|(_, n)| n.to_string()).collect();
    assert_eq!(
        enum_at(a, &format!("{d}/result/properties/name/enum")),
        known
    );
    // Every step op, each from a real step of the crate.
    let h = || HandleName::from(1);
    let steps = [
        Step::QueryInterface {
            caller: "a".into(),
            handle: h(),
        },
        Step::SetHelperTokenFlags {
            handle: h(),
            flags: 0,
        },
        Step::GetHelperTokenFlags { handle: h() },
        Step::SetHelperToken {
            handle: h(),
            impersonating: "a".into(),
            can_impersonate: true,
        },
        Step::ClearHelperToken { handle: h() },
        Step::GetHelperTokenSid { handle: h() },
        Step::LogoffOwner {},
        Step::LogonOwner {},
        Step::HelperSessionEnded {},
        Step::ServiceStop {},
        Step::Resume {},
        Step::Transfer {},
        Step::Cancel {},
        Step::Complete {},
        Step::TakeOwnership { caller: "a".into() },
        Step::Route {
            access: Access::Other,
        },
        Step::SetCredentials {
            target: AuthTarget::Server,
            scheme: AuthScheme::Ntlm,
            credential: Credential::Implicit,
        },
        Step::RemoveCredentials {
            target: AuthTarget::Proxy,
            scheme: AuthScheme::Basic,
        },
        Step::SetProxyUsage {
            usage: ProxyUsage::Override,
        },
        Step::SetClientCertificate { present: true },
    ];
    let ops: BTreeSet<String> = s
        .pointer(&format!("{d}/step/oneOf"))
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["properties"]["op"]["const"].as_str().unwrap().to_string())
        .collect();
    let ours: BTreeSet<String> = steps.iter().map(|s| s.op().to_string()).collect();
    assert_eq!(ops, ours);
    // And each of those steps, serialized, validates as a step.
    let step = validator(
        &json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": "#/$defs/step", "$defs": s["$defs"]}),
    );
    for st in &steps {
        assert_valid(&step, &serde_json::to_value(st).unwrap(), st.op());
    }
    let _ = Scenario::new("a");
}
