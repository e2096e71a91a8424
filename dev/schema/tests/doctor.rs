//! The doctor's `--json` line (`schema/doctor.schema.json`) checked with the `jsonschema`
//! crate: the schema is valid draft 2020-12 and references the oracle's answer schema; the
//! diagnosis of every conformance vector's job, for each of its tokens as the caller,
//! validates, and so do error lines and a diagnosis with unknown facts; shapes the doctor
//! never writes are refused.
#![cfg(feature = "serde")]

use bits_helper_token::doctor;
use jsonschema::{Registry, Resource, Validator};
use serde_json::{Value, json};

fn load(name: &str) -> Value {
    let path = format!("{}/../../schema/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn validator() -> Validator {
    let answer = load("answer.schema.json");
    let id = answer["$id"].as_str().unwrap().to_string();
    let registry = Registry::new()
        .add(id, Resource::from_contents(answer))
        .and_then(|b| b.prepare())
        .expect("the answer schema registers");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .with_registry(&registry)
        .build(&load("doctor.schema.json"))
        .expect("the doctor schema compiles")
}

fn assert_valid(v: &Validator, doc: &Value) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{doc}");
}

fn diagnose(line: &Value, number: usize) -> Value {
    let text = doctor::answer_line(number, line.to_string().as_bytes(), true).unwrap_or_else(|e| e);
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_schema_is_valid_and_references_the_oracles() {
    let schema = load("doctor.schema.json");
    jsonschema::draft202012::meta::validate(&schema).unwrap();
    let answer_id = load("answer.schema.json")["$id"].clone();
    assert!(schema.to_string().contains(answer_id.as_str().unwrap()));
    // Every probe and access the doctor reports is required by the schema.
    let probes: Vec<&str> = doctor::PROBES.to_vec();
    let required: Vec<&str> = schema["oneOf"][0]["properties"]["caller_may"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, probes);
}

#[test]
fn every_vector_diagnosis_validates() {
    let v = validator();
    let dir = format!("{}/../../tests/vectors", env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for file in std::fs::read_dir(dir).unwrap() {
        let vectors: Value =
            serde_json::from_str(&std::fs::read_to_string(file.unwrap().path()).unwrap()).unwrap();
        for (i, entry) in vectors.as_array().unwrap().iter().enumerate() {
            let mut line = entry["scenario"].clone();
            let tokens: Vec<String> = line["tokens"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            line["caller"] = json!(tokens[i % tokens.len()]);
            if i % 2 == 0 {
                line["explain"] = json!(true);
            }
            let d = diagnose(&line, i + 1);
            assert!(d.get("error").is_none(), "{d}");
            assert_valid(&v, &d);
            checked += 1;
        }
    }
    assert!(checked > 380, "{checked}");
}

#[test]
fn errors_and_unknown_facts_validate_and_foreign_shapes_do_not() {
    let v = validator();
    let base = json!({"tokens": {"me": {"user": "S-1-5-21-1-2-3-1001"}},
        "job": {"owner": "me", "state": "queued"}, "caller": "me", "label": "{GUID} nightly"});
    let mut unknown = base.clone();
    unknown["unknown"] = json!({"owner": "GetOwner: 0x80004001 (E_NOTIMPL)",
        "flags": "IBitsTokenOptions: 0x80004002 (E_NOINTERFACE)"});
    let d = diagnose(&unknown, 1);
    assert_valid(&v, &d);
    assert!(
        d["depends_on_unknown"]
            .as_object()
            .is_some_and(|m| !m.is_empty())
    );
    for bad in [json!([1]), json!({"tokens": {}}), json!({"caller": "x"})] {
        let e = diagnose(&bad, 7);
        assert!(e["error"].as_str().unwrap().starts_with("line 7"), "{e}");
        assert_valid(&v, &e);
    }
    let mut good = diagnose(&base, 1);
    assert_valid(&v, &good);
    good["extra"] = json!(1);
    assert!(!v.is_valid(&good));
    let mut missing = diagnose(&base, 1);
    missing["caller_may"]
        .as_object_mut()
        .unwrap()
        .remove("resume");
    assert!(!v.is_valid(&missing));
}
