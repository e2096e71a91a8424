//! The oracle's JSON Schemas (`schema/scenario.schema.json`, `schema/answer.schema.json`)
//! checked with a well-kept validator (the `jsonschema` crate): they are valid draft
//! 2020-12 schemas; every conformance vector's scenario and answer, generated scenarios
//! and their answers, and error answers validate; documents the parser refuses for their
//! shape are refused by the schema too; and every name the crate knows is in the schema.
#![cfg(feature = "serde")]

#[path = "../../../src/bin/bits-helper-token-oracle/line.rs"]
mod oracle_line;

use bits_helper_token::scenario::{HandleName, JobProperty, PropertyTarget, Scenario, Step};
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
    // Every shape of value, every identity of a route among them.
    let wanted: Vec<String> = [
        "owner",
        "helper",
        "computer",
        "anonymous",
        "explicit_credentials",
        "no_implicit_credentials",
        "not_applicable",
        "token_required",
        "unanswered",
    ]
    .iter()
    .map(|identity| format!("route \"{identity}\""))
    .chain(["number", "string", "null"].map(String::from))
    .collect();
    // At least 3,000 scenarios, and on until every wanted value has been seen (at most
    // 30,000).
    for i in 0..30_000 {
        if i >= 3000 && wanted.iter().all(|w| values.contains(w)) {
            break;
        }
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
    for w in &wanted {
        assert!(values.contains(w), "{w} never answered: {values:?}");
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
        // A group names its attributes (docs/oracle.md: `{"sid": SID, "attributes": NUMBER}`).
        serde_json::from_str(r#"{"tokens": {"svc": {"user": "S-1-5-20", "groups": [{"sid": "S-1-5-32-544"}]}}, "job": {"owner": "svc"}, "steps": []}"#).unwrap(),
    ];
    for doc in &bad {
        assert!(!input.is_valid(doc), "the schema accepts {doc}");
        let answer = oracle_line::answer(4, doc.to_string().as_bytes())
            .expect_err("the parser refuses it too");
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_valid(&output, &answer, "an error answer");
        let error = answer["error"].as_str().unwrap();
        assert!(
            error.starts_with("line 4: ") || error.starts_with("line 4, column "),
            "{error}"
        );
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
        Step::query_interface("a", 1),
        Step::SetHelperTokenFlags {
            handle: h(),
            flags: 0,
            level: Some(ImpersonationLevel::Identify),
        },
        Step::GetHelperTokenFlags {
            handle: h(),
            level: None,
        },
        Step::SetHelperToken {
            handle: h(),
            impersonating: "a".into(),
            can_impersonate: Some(true),
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
        Step::LogonOwner {},
        Step::HelperSessionEnded {},
        Step::ServiceStop {},
        Step::resume(),
        Step::suspend(),
        Step::add_file(),
        Step::Transfer {},
        Step::cancel(),
        Step::Complete {
            caller: Some("a".into()),
            level: Some(ImpersonationLevel::Anonymous),
        },
        Step::take_ownership("a"),
        Step::Route {
            access: Access::WholeChallenge(AuthTarget::Server),
        },
        Step::SetCredentials {
            target: AuthTarget::Server,
            scheme: AuthScheme::Ntlm,
            credential: Credential::Implicit,
            caller: None,
            level: None,
        },
        Step::RemoveCredentials {
            target: AuthTarget::Proxy,
            scheme: AuthScheme::Basic,
            caller: None,
            level: None,
        },
        Step::SetProxyUsage {
            usage: ProxyUsage::Override,
            caller: None,
            level: None,
        },
        Step::SetClientCertificate {
            present: true,
            caller: None,
            level: None,
        },
        Step::SetJobProperty {
            property: JobProperty::UseStoredCredentials,
            target: PropertyTarget::Proxy,
            caller: None,
            level: None,
        },
        Step::StartTransfer {
            to: Some(StartTo::Connecting),
        },
        Step::NetworkLost {},
        Step::NetworkRestored {},
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

/// A group's attributes by name and the token shorthands: the schema's names are exactly
/// the parser's, each standing for what the schema says; lines using them validate and
/// run, and the shapes the parser refuses the schema refuses too.
#[test]
fn attribute_names_and_token_shorthands_are_the_parsers() {
    let s = scenario_schema();
    let d = "/$defs";
    // Each attribute name is one named flag, with the value the description gives it, and
    // together they name every flag.
    let said = s["$defs"]["group_attribute"]["description"]
        .as_str()
        .unwrap();
    let named: Vec<GroupAttributes> = GroupAttributes::all().iter().collect();
    let mut union = GroupAttributes::empty();
    for name in enum_at(s, &format!("{d}/group_attribute/enum")) {
        let flag: GroupAttributes = serde_json::from_value(json!([name])).unwrap();
        assert!(named.contains(&flag), "{name}: {flag:?}");
        assert!(!union.intersects(flag), "{name} names a flag twice");
        assert!(
            said.contains(&format!("{name} 0x{:X}", flag.bits())),
            "{name}: {said}"
        );
        union |= flag;
    }
    assert_eq!(union, GroupAttributes::all());
    // Each shorthand is its constructor's token.
    let sid: Sid = "S-1-5-21-1-2-3-1001".parse().unwrap();
    let shorthand = |token: Value| -> TokenInfo {
        let line = json!({"tokens": {"t": token}, "job": {"owner": "t"}, "steps": []});
        serde_json::from_value::<Scenario>(line).unwrap().tokens["t"].clone()
    };
    type Service = fn() -> TokenInfo;
    type Person = fn(Sid) -> TokenInfo;
    let services: [(&str, Service); 3] = [
        ("local_system", TokenInfo::local_system),
        ("local_service", TokenInfo::local_service),
        ("network_service", TokenInfo::network_service),
    ];
    let people: [(&str, Person); 3] = [
        ("standard_user", TokenInfo::standard_user),
        ("administrator", TokenInfo::elevated_administrator),
        ("filtered_administrator", TokenInfo::filtered_administrator),
    ];
    let forms = &s["$defs"]["token_shorthand"]["oneOf"];
    assert_eq!(
        enum_at(forms, "/0/enum"),
        services.iter().map(|(n, _)| n.to_string()).collect()
    );
    let keys: BTreeSet<String> = forms[1]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, people.iter().map(|(n, _)| n.to_string()).collect());
    for (name, make) in services {
        assert_eq!(shorthand(json!(name)), make(), "{name}");
    }
    for (name, make) in people {
        assert_eq!(
            shorthand(json!({name: sid.to_string()})),
            make(sid),
            "{name}"
        );
    }

    let (input, output) = (validator(s), validator(answer_schema()));
    let with = |tokens: &str| -> Value {
        let text = format!(
            r#"{{"tokens": {tokens}, "job": {{"owner": "a"}}, "steps": [{{"op": "query_interface", "caller": "a", "handle": 1}}]}}"#
        );
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
    };
    let good = with(
        r#"{"a": "network_service", "b": "local_system", "c": "local_service",
            "d": {"standard_user": "S-1-5-21-1-2-3-1001"}, "e": {"administrator": "S-1-5-21-1-2-3-500"},
            "f": {"filtered_administrator": "S-1-5-21-1-2-3-500"},
            "g": {"user": "S-1-5-21-1-2-3-1002", "groups": [{"sid": "S-1-5-32-545", "attributes": ["mandatory", "enabled_by_default", "enabled"]},
                  {"sid": "S-1-16-4096", "attributes": ["integrity", "integrity_enabled"]}, {"sid": "S-1-5-32-544", "attributes": []}]}}"#,
    );
    assert_valid(&input, &good, "shorthands and attribute names");
    let answer = oracle_line::answer(1, good.to_string().as_bytes()).expect("it runs");
    assert_valid(
        &output,
        &serde_json::from_str(&answer).unwrap(),
        "its answer",
    );
    let group = |attributes: &str| {
        with(&format!(
            r#"{{"a": {{"user": "S-1-5-20", "groups": [{{"sid": "S-1-5-32-544", "attributes": {attributes}}}]}}}}"#
        ))
    };
    for (doc, needle) in [
        (group(r#"["enabled", "deny"]"#), r#"string "deny""#),
        (
            group(r#"["enabled", "enabled"]"#),
            r#"group attribute "enabled" is named twice"#,
        ),
        (group(r#"["enabled", 4]"#), "invalid type: integer `4`"),
        (group(r#""enabled""#), r#"invalid type: string "enabled""#),
        (
            with(r#"{"a": "root"}"#),
            r#"unknown token shorthand "root""#,
        ),
        (
            with(r#"{"a": "administrator"}"#),
            r#"token shorthand "administrator" needs the user's SID"#,
        ),
        (
            with(r#"{"a": {"admin": "S-1-5-21-1-2-3-500"}}"#),
            r#"unknown token field or shorthand "admin""#,
        ),
        (
            with(r#"{"a": {"administrator": "S-1-5-21-1-2-3-500", "logon": "batch"}}"#),
            "stands alone",
        ),
        (
            with(r#"{"a": {"standard_user": "S-1-5-21-1-2-3-1001x"}}"#),
            "unexpected character 'x'",
        ),
        (with(r#"{"a": {}}"#), "missing field `user`"),
    ] {
        assert!(!input.is_valid(&doc), "the schema accepts {doc}");
        let err = oracle_line::answer(4, doc.to_string().as_bytes()).expect_err("refused");
        let err: Value = serde_json::from_str(&err).unwrap();
        assert_valid(&output, &err, "an error answer");
        let err = err["error"].as_str().unwrap();
        assert!(err.starts_with("line 4, column "), "{err}");
        assert!(
            err.contains(needle),
            "{doc}\n  got: {err}\n  want: {needle}"
        );
    }
}

// Contract 3 (`/work/shared/oracle-contract-v3.md` at the time of writing; `docs/oracle.md`).
// The worked lines A–E of its section 4 and their answers, written out here as JSON so that
// the schemas are checked against the contract itself, not against the model (which may not
// follow contract 3 yet).

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Line A: a RunAs administrator gets ERROR_NOT_LOGGED_ON, then BG_E_EMPTY (L-11, L-15, L-9).
const LINE_A: &str = r#"{"tokens": {"admin_runas": {"user": "S-1-5-21-1-2-3-500", "groups": [{"sid": "S-1-5-32-544", "attributes": 15}], "logon": "secondary"}},
 "job": {"owner": "admin_runas", "files": 0},
 "steps": [{"op": "add_file"}, {"op": "resume"}, {"op": "logon_owner"},
           {"op": "add_file"}, {"op": "resume"}, {"op": "transfer"}]}"#;

const ANSWER_A: &str = r#"{"results": [{"hresult": "0x800704DD", "name": "ERROR_NOT_LOGGED_ON", "rule": "L-15"},
             {"hresult": "0x80200003", "name": "BG_E_EMPTY", "rule": "L-9"},
             {"hresult": "0x00000000", "name": "S_OK", "rule": "L-8"},
             {"hresult": "0x00000000", "name": "S_OK", "rule": "L-15"},
             {"hresult": "0x00000000", "name": "S_OK", "rule": "L-9"},
             {"hresult": "0x00000000", "name": "S_OK", "rule": "T-7"}],
 "job": {"state": "transferred", "error": null, "flags": 0, "helper_token": null,
         "owner": "S-1-5-21-1-2-3-500", "owner_elevated": true, "owner_integrity": "high",
         "owner_logged_on": true, "files": 1, "client_certificate": false, "proxy": "preconfig",
         "credentials": {"server": {}, "proxy": {}}, "use_stored_credentials": false}}"#;

/// Line B: a challenge is a set (X-3).
const LINE_B: &str = r#"{"tokens": {"alice": {"user": "S-1-5-21-1-2-3-1001"}},
 "job": {"owner": "alice", "challenges": {"server": ["basic", "negotiate"]}},
 "steps": [{"op": "set_credentials", "target": "server", "scheme": "basic", "credential": "explicit"},
           {"op": "route", "access": "server_challenge"},
           {"op": "route", "access": "server_challenge_negotiate"},
           {"op": "resume"}, {"op": "transfer"},
           {"op": "set_credentials", "target": "server", "scheme": "negotiate", "credential": "implicit"},
           {"op": "route", "access": "server_challenge"}]}"#;

const ANSWER_B: &str = r#"{"results": [{"hresult": "0x00000000", "name": "S_OK", "rule": "R-5"},
             {"hresult": "0x00000000", "name": "S_OK", "rule": "R-5", "value": {"identity": "explicit_credentials", "target": "server", "scheme": "basic"}},
             {"hresult": "0x80190191", "name": "BG_E_HTTP_ERROR_401", "rule": "R-3", "value": {"identity": "no_implicit_credentials"}},
             {"hresult": "0x00000000", "name": "S_OK", "rule": "L-9"},
             {"hresult": "0x00000000", "name": "S_OK", "rule": "T-7"},
             {"hresult": "0x00000000", "name": "S_OK", "rule": "R-3"},
             {"hresult": "0x00000000", "name": "S_OK", "rule": "R-2", "value": {"identity": "owner", "sid": "S-1-5-21-1-2-3-1001", "scheme": "negotiate"}}],
 "job": {"state": "transferred", "error": null, "flags": 0, "helper_token": null,
         "owner": "S-1-5-21-1-2-3-1001", "owner_elevated": false, "owner_integrity": "medium",
         "owner_logged_on": true, "files": 1, "client_certificate": false, "proxy": "preconfig",
         "credentials": {"server": {"basic": "explicit", "negotiate": "implicit"}, "proxy": {}},
         "use_stored_credentials": false}}"#;

/// Line C: a transfer in progress, a network loss, a logoff requeue, a takeover (L-14, L-13,
/// L-8, L-7).
const LINE_C: &str = r#"{"tokens": {"alice": {"user": "S-1-5-21-1-2-3-1001"},
            "admin": {"user": "S-1-5-21-1-2-3-500", "groups": [{"sid": "S-1-5-32-544", "attributes": 15}]}},
 "job": {"owner": "alice"},
 "steps": [{"op": "resume"}, {"op": "start_transfer"}, {"op": "network_lost"}, {"op": "network_restored"},
           {"op": "start_transfer", "to": "connecting"}, {"op": "logoff_owner"}, {"op": "transfer"},
           {"op": "take_ownership", "caller": "admin"}, {"op": "transfer"}]}"#;

/// The tokens of line D: alice, bob, admin (as in C) and a restricted copy of alice.
const TOKENS_D: &str = r#"{"alice": {"user": "S-1-5-21-1-2-3-1001"},
  "bob": {"user": "S-1-5-21-1-2-3-1002"},
  "admin": {"user": "S-1-5-21-1-2-3-500", "groups": [{"sid": "S-1-5-32-544", "attributes": 15}]},
  "alice_restricted": {"user": "S-1-5-21-1-2-3-1001", "restricting_sids": ["S-1-5-12"]}}"#;

/// Line D's steps (callers on job methods, restricted tokens, levels, skipped steps) and their
/// answers: (step, hresult, name, rule, skipped).
const STEPS_D: [(&str, &str, &str, &str, bool); 9] = [
    (
        r#"{"op": "cancel", "caller": "alice_restricted"}"#,
        "0x80070005",
        "E_ACCESSDENIED",
        "A-14",
        false,
    ),
    (
        r#"{"op": "set_credentials", "caller": "admin", "target": "server", "scheme": "ntlm", "credential": "implicit"}"#,
        "0x80070005",
        "E_ACCESSDENIED",
        "A-13",
        false,
    ),
    (
        r#"{"op": "set_proxy_usage", "caller": "admin", "usage": "override"}"#,
        "0x00000000",
        "S_OK",
        "R-7",
        false,
    ),
    (
        r#"{"op": "set_proxy_usage", "caller": "bob", "usage": "no_proxy"}"#,
        "0x80070005",
        "E_ACCESSDENIED",
        "A-13",
        false,
    ),
    (
        r#"{"op": "query_interface", "caller": "bob", "handle": 1}"#,
        "0x80070005",
        "E_ACCESSDENIED",
        "A-5",
        false,
    ),
    (
        r#"{"op": "get_helper_token_flags", "handle": 1}"#,
        "0x80070005",
        "E_ACCESSDENIED",
        "A-5",
        true,
    ),
    (
        r#"{"op": "query_interface", "caller": "alice", "handle": 2, "level": "anonymous"}"#,
        "0x80070005",
        "E_ACCESSDENIED",
        "A-9",
        false,
    ),
    (
        r#"{"op": "query_interface", "caller": "alice", "handle": 3}"#,
        "0x00000000",
        "S_OK",
        "A-1",
        false,
    ),
    (
        r#"{"op": "set_helper_token", "handle": 3, "impersonating": "bob", "level": "identify"}"#,
        "0x80010123",
        "CO_E_FAILEDTOIMPERSONATE",
        "A-9",
        false,
    ),
];

fn line_d() -> Value {
    let steps: Vec<&str> = STEPS_D.iter().map(|s| s.0).collect();
    parse(&format!(
        r#"{{"tokens": {TOKENS_D}, "job": {{"owner": "alice"}}, "steps": [{}]}}"#,
        steps.join(", ")
    ))
}

/// A job object of an answer: a new job of `owner` with `changes` applied.
fn answer_job(owner: &str, elevated: bool, integrity: &str, changes: Value) -> Value {
    let mut job = json!({"state": "suspended", "error": null, "flags": 0, "helper_token": null,
        "owner": owner, "owner_elevated": elevated, "owner_integrity": integrity,
        "owner_logged_on": true, "files": 1, "client_certificate": false, "proxy": "preconfig",
        "credentials": {"server": {}, "proxy": {}}, "use_stored_credentials": false});
    for (k, v) in changes.as_object().unwrap() {
        job[k] = v.clone();
    }
    job
}

fn answer_d() -> Value {
    let results: Vec<Value> = STEPS_D
        .iter()
        .map(|&(_, hresult, name, rule, skipped)| {
            let mut r = json!({"hresult": hresult, "name": name, "rule": rule});
            if skipped {
                r["skipped"] = json!(true);
            }
            r
        })
        .collect();
    json!({"results": results,
           "job": answer_job("S-1-5-21-1-2-3-1001", false, "medium", json!({"proxy": "override"}))})
}

/// Line E: a service account and the computer's credentials (R-6, Q-12), with `extra`
/// top-level fields (knobs, environment).
fn line_e(extra: &str) -> Value {
    parse(&format!(
        r#"{{{extra}"tokens": {{"svc": {{"user": "S-1-5-20"}}}},
 "job": {{"owner": "svc", "proxy": "override", "challenges": {{"proxy": ["ntlm"], "server": ["negotiate"]}}}},
 "steps": [{{"op": "set_credentials", "target": "proxy", "scheme": "negotiate", "credential": "implicit"}},
           {{"op": "route", "access": "proxy_challenge"}},
           {{"op": "route", "access": "proxy_challenge_ntlm"}},
           {{"op": "route", "access": "server_challenge"}},
           {{"op": "resume"}}, {{"op": "transfer"}}]}}"#
    ))
}

/// Line E's answers: by default, and with `service_proxy_credentials: none`.
fn answers_e() -> [Value; 2] {
    let ok = |rule: &str| json!({"hresult": "0x00000000", "name": "S_OK", "rule": rule});
    let e407 = |rule: &str, value: Value| json!({"hresult": "0x80190197", "name": "BG_E_HTTP_ERROR_407", "rule": rule, "value": value});
    let computer = |scheme: Option<&str>| {
        let mut r = ok("R-6");
        r["value"] = match scheme {
            Some(s) => json!({"identity": "computer", "scheme": s}),
            None => json!({"identity": "computer"}),
        };
        r
    };
    let credentials = json!({"server": {}, "proxy": {"negotiate": "implicit"}});
    let job = |changes: Value| {
        let mut job = answer_job(
            "S-1-5-20",
            false,
            "system",
            json!({"proxy": "override", "credentials": credentials}),
        );
        for (k, v) in changes.as_object().unwrap() {
            job[k] = v.clone();
        }
        job
    };
    [
        json!({"results": [ok("R-3"), computer(Some("ntlm")), computer(None),
                           computer(Some("negotiate")), ok("L-9"), ok("T-7")],
               "job": job(json!({"state": "transferred"}))}),
        json!({"results": [ok("R-3"),
                           e407("X-3", json!({"identity": "unanswered"})),
                           e407("Q-12", json!({"identity": "no_implicit_credentials"})),
                           computer(Some("negotiate")), ok("L-9"),
                           json!({"hresult": "0x80190197", "name": "BG_E_HTTP_ERROR_407", "rule": "X-3"})],
               "job": job(json!({"state": "error", "error": "0x80190197"}))}),
    ]
}

#[test]
fn contract_3_worked_lines_validate() {
    let input = validator(scenario_schema());
    for (what, doc) in [
        ("line A", parse(LINE_A)),
        ("line B", parse(LINE_B)),
        ("line C", parse(LINE_C)),
        ("line D", line_d()),
        ("line E", line_e("")),
        (
            "line E, service_proxy_credentials none",
            line_e(r#""knobs": {"service_proxy_credentials": "none"}, "#),
        ),
        (
            "line E, no Kerberos",
            line_e(r#""environment": {"kerberos": false}, "#),
        ),
    ] {
        assert_valid(&input, &doc, what);
    }
    // The examples of sections 1.2 to 1.6: v2's defaults pinned, the network, the tokens of
    // 1.4, and a job as it is now (1.5b) with every current-state field.
    let pinned = parse(
        r#"{"knobs": {"access_check": "per_call", "integrity_reads": "refuse", "identify_on_set_token": "access_denied"},
            "environment": {"network": "disconnected", "kerberos": true},
            "tokens": {"admin_runas": {"user": "S-1-5-21-1-2-3-500", "groups": [{"sid": "S-1-5-32-544", "attributes": 15}], "logon": "secondary"},
                       "alice_restricted": {"user": "S-1-5-21-1-2-3-1001", "restricting_sids": ["S-1-5-12"]},
                       "alice": {"user": "S-1-5-21-1-2-3-1001", "logon": "remote_powershell"}},
            "job": {"owner": "alice", "type": "upload", "files": 1, "owner_logged_on": false,
                    "server_requests_certificate": true, "use_stored_credentials": true,
                    "state": "transient_error", "error": "0x80070005", "flags": 3, "helper_token": "admin_runas",
                    "credentials": {"server": {"basic": "explicit"}, "proxy": {"negotiate": "implicit", "ntlm": "implicit"}}},
            "steps": [{"op": "start_transfer", "to": "transferring"}, {"op": "suspend", "caller": "admin_runas", "level": "delegate"},
                      {"op": "add_file", "caller": "alice"}, {"op": "set_job_property", "property": "use_stored_credentials", "target": "proxy"},
                      {"op": "take_ownership", "caller": "admin_runas", "level": "identify"},
                      {"op": "set_helper_token", "handle": 1, "impersonating": "alice", "can_impersonate": false},
                      {"op": "get_helper_token_sid", "handle": 1, "level": "impersonate"},
                      {"op": "route", "access": "proxy_challenge"}, {"op": "network_restored"}]}"#,
    );
    assert_valid(&input, &pinned, "the contract's new fields together");
    for job in [
        r#"{"owner": "alice", "state": "error", "error": "BG_E_TOKEN_REQUIRED"}"#,
        r#"{"owner": "alice", "state": "cancelled", "files": 0, "error": null, "helper_token": "alice"}"#,
        r#"{"owner": "alice", "state": "queued", "credentials": {}}"#,
        // Reachable through L-5 (a logoff or service stop of an empty job with a helper token
        // and flags), though section 1.5b lists only SUSPENDED, CANCELLED and ACKNOWLEDGED.
        r#"{"owner": "alice", "state": "error", "error": "0x80200056", "files": 0, "flags": 2}"#,
    ] {
        let doc = parse(&format!(
            r#"{{"tokens": {{"alice": {{"user": "S-1-5-21-1-2-3-1001"}}}}, "job": {job}, "steps": []}}"#
        ));
        assert_valid(&input, &doc, job);
    }
}

#[test]
fn contract_3_worked_answers_validate() {
    let output = validator(answer_schema());
    assert_valid(&output, &parse(ANSWER_A), "answer A");
    assert_valid(&output, &parse(ANSWER_B), "answer B");
    assert_valid(&output, &answer_d(), "answer D");
    let [e, e_none] = answers_e();
    assert_valid(&output, &e, "answer E");
    assert_valid(&output, &e_none, "answer E, service_proxy_credentials none");
    // A set_helper_token_flags result with X-1's warning (section 2.1), a whole-challenge
    // route that needs the helper, and a job in TRANSIENT_ERROR after network_lost.
    let doc = json!({"results": [
        {"hresult": "0x00000000", "name": "S_OK", "rule": "A-5",
         "transfer_failure": {"hresult": "0x80072F9A", "name": "ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY", "rule": "X-1"}},
        {"hresult": "0x80200056", "name": "BG_E_TOKEN_REQUIRED", "rule": "L-6",
         "value": {"identity": "token_required", "usage": 2, "scheme": "negotiate"}},
        {"hresult": "0x00000000", "name": "S_OK", "rule": "L-13"}],
        "job": answer_job("S-1-5-21-1-2-3-1001", false, "medium",
            json!({"state": "transient_error", "error": "0x80200010", "flags": 2, "client_certificate": true}))});
    assert_valid(&output, &doc, "transfer_failure and a transient error");
}

#[test]
fn contract_3_refusals_are_refused_by_the_schemas() {
    let (input, output) = (validator(scenario_schema()), validator(answer_schema()));
    let with = |token: &str, job: &str, steps: &str| {
        parse(&format!(
            r#"{{"tokens": {{"alice": {token}}}, "job": {job}, "steps": [{steps}]}}"#
        ))
    };
    let alice = r#"{"user": "S-1-5-21-1-2-3-1001"}"#;
    let job = r#"{"owner": "alice"}"#;
    let qi = r#"{"op": "query_interface", "caller": "alice", "handle": 1}, "#;
    // Each refused line next to the valid line it differs from.
    let cases = [
        (
            "level and can_impersonate together",
            with(
                alice,
                job,
                &format!(
                    r#"{qi}{{"op": "set_helper_token", "handle": 1, "impersonating": "alice", "level": "identify"}}"#
                ),
            ),
            with(
                alice,
                job,
                &format!(
                    r#"{qi}{{"op": "set_helper_token", "handle": 1, "impersonating": "alice", "level": "identify", "can_impersonate": false}}"#
                ),
            ),
        ),
        (
            "an unknown logon type",
            with(
                r#"{"user": "S-1-5-21-1-2-3-1001", "logon": "batch"}"#,
                job,
                "",
            ),
            with(
                r#"{"user": "S-1-5-21-1-2-3-1001", "logon": "ssh"}"#,
                job,
                "",
            ),
        ),
        (
            "a restricting SID named twice",
            with(
                r#"{"user": "S-1-5-21-1-2-3-1001", "restricting_sids": ["S-1-5-12", "S-1-1-0"]}"#,
                job,
                "",
            ),
            with(
                r#"{"user": "S-1-5-21-1-2-3-1001", "restricting_sids": ["S-1-5-12", "S-1-5-12"]}"#,
                job,
                "",
            ),
        ),
        (
            "files 2",
            with(alice, r#"{"owner": "alice", "files": 0}"#, ""),
            with(alice, r#"{"owner": "alice", "files": 2}"#, ""),
        ),
        (
            "start_transfer to queued",
            with(
                alice,
                job,
                r#"{"op": "start_transfer", "to": "connecting"}"#,
            ),
            with(alice, job, r#"{"op": "start_transfer", "to": "queued"}"#),
        ),
        (
            "an error outside error and transient_error",
            with(
                alice,
                r#"{"owner": "alice", "state": "transient_error", "error": "0x80200010"}"#,
                "",
            ),
            with(
                alice,
                r#"{"owner": "alice", "state": "queued", "error": "0x80200010"}"#,
                "",
            ),
        ),
        (
            "no error in error",
            with(
                alice,
                r#"{"owner": "alice", "state": "error", "error": "0x80200056"}"#,
                "",
            ),
            with(
                alice,
                r#"{"owner": "alice", "state": "error", "error": null}"#,
                "",
            ),
        ),
        (
            "files 0 on a queued job",
            with(
                alice,
                r#"{"owner": "alice", "state": "acknowledged", "files": 0}"#,
                "",
            ),
            with(
                alice,
                r#"{"owner": "alice", "state": "queued", "files": 0}"#,
                "",
            ),
        ),
        (
            "unknown bits in the stored flags",
            with(alice, r#"{"owner": "alice", "flags": 3}"#, ""),
            with(alice, r#"{"owner": "alice", "flags": 4}"#, ""),
        ),
        (
            "a level on an event",
            with(alice, job, r#"{"op": "network_lost"}"#),
            with(alice, job, r#"{"op": "network_lost", "level": "identify"}"#),
        ),
        (
            "a caller on a handle step",
            with(
                alice,
                job,
                &format!(r#"{qi}{{"op": "clear_helper_token", "handle": 1, "level": "delegate"}}"#),
            ),
            with(
                alice,
                job,
                &format!(r#"{qi}{{"op": "clear_helper_token", "handle": 1, "caller": "alice"}}"#),
            ),
        ),
        (
            "set_job_property for the server",
            with(
                alice,
                job,
                r#"{"op": "set_job_property", "property": "use_stored_credentials", "target": "proxy"}"#,
            ),
            with(
                alice,
                job,
                r#"{"op": "set_job_property", "property": "use_stored_credentials", "target": "server"}"#,
            ),
        ),
        (
            "an unknown scheme in the job's credentials",
            with(
                alice,
                r#"{"owner": "alice", "credentials": {"proxy": {"ntlm": "implicit"}}}"#,
                "",
            ),
            with(
                alice,
                r#"{"owner": "alice", "credentials": {"proxy": {"kerberos": "implicit"}}}"#,
                "",
            ),
        ),
    ];
    for (what, ok, bad) in &cases {
        assert_valid(&input, ok, what);
        assert!(
            !input.is_valid(bad),
            "the scenario schema accepts {what}: {bad}"
        );
    }
    // Answers.
    let a = parse(ANSWER_A);
    let without = |field: &str| {
        let mut doc = a.clone();
        doc["job"].as_object_mut().unwrap().remove(field);
        doc
    };
    let mut answer_cases = vec![(
        "a job without owner_logged_on".to_string(),
        without("owner_logged_on"),
    )];
    for field in [
        "files",
        "client_certificate",
        "proxy",
        "credentials",
        "use_stored_credentials",
    ] {
        answer_cases.push((format!("a job without {field}"), without(field)));
    }
    // `field` of the object at `pointer` set to `value`.
    let mut changed = |what: &str, pointer: &str, field: &str, value: Value| {
        let mut doc = a.clone();
        doc.pointer_mut(pointer).unwrap()[field] = value;
        answer_cases.push((what.to_string(), doc));
    };
    changed("a job with files 2", "/job", "files", json!(2));
    changed(
        "credentials without proxy",
        "/job",
        "credentials",
        json!({"server": {}}),
    );
    changed(
        "credentials with an unknown scheme",
        "/job/credentials",
        "server",
        json!({"kerberos": "implicit"}),
    );
    changed("skipped false", "/results/0", "skipped", json!(false));
    changed(
        "transfer_failure without a rule",
        "/results/0",
        "transfer_failure",
        json!({"hresult": "0x80072F9A", "name": "ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY"}),
    );
    changed(
        "transfer_failure with an extra field",
        "/results/0",
        "transfer_failure",
        json!({"hresult": "0x80072F9A", "name": "ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY", "rule": "X-1", "step": 3}),
    );
    changed(
        "an unknown identity",
        "/results/0",
        "value",
        json!({"identity": "nobody"}),
    );
    for (what, bad) in &answer_cases {
        assert!(
            !output.is_valid(bad),
            "the answer schema accepts {what}: {bad}"
        );
    }
}
