//! The doctor asks the model and decides nothing: every answer of a diagnosis equals the
//! oracle's answer to that step on that job — on every conformance vector (as it is, with
//! its steps run first, and turned into a description of the job as it is after them) and
//! on generated scenarios. The oracle's steps are written here, independently of the
//! doctor's own probe list.

use crate::oracle_line;

use bits_helper_token::doctor::{self, Input, PROBES};
use bits_helper_token::scenario::{HandleName, JobSnapshot, Scenario};
use bits_helper_token::support::proptest::{ScenarioParams, scenario};
use bits_helper_token::{Access, Sid, Token};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The oracle's steps for each probe, written from the doctor's documentation.
fn probe(name: &str, caller: &str) -> Vec<Value> {
    let qi = json!({"op": "query_interface", "caller": caller, "handle": "doctor"});
    let through = |op: &str, extra: Value| {
        let mut step = json!({"op": op, "handle": "doctor"});
        for (k, v) in extra.as_object().unwrap() {
            step[k] = v.clone();
        }
        vec![qi.clone(), step]
    };
    let call = |extra: Value| {
        let mut step = json!({"op": name, "caller": caller});
        for (k, v) in extra.as_object().unwrap() {
            step[k] = v.clone();
        }
        vec![step]
    };
    match name {
        "query_interface" => vec![qi],
        "get_helper_token_flags" | "get_helper_token_sid" | "clear_helper_token" => {
            through(name, json!({}))
        }
        "set_helper_token_flags" => through(name, json!({"flags": 0})),
        "set_helper_token" => through(name, json!({"impersonating": caller})),
        "set_credentials" => {
            call(json!({"target": "server", "scheme": "negotiate", "credential": "implicit"}))
        }
        "remove_credentials" => call(json!({"target": "server", "scheme": "negotiate"})),
        "set_proxy_usage" => call(json!({"usage": "preconfig"})),
        "set_client_certificate" => call(json!({"present": false})),
        "set_job_property" => {
            call(json!({"property": "use_stored_credentials", "target": "proxy"}))
        }
        _ => call(json!({})),
    }
}

/// The oracle's answer to `scenario` with `extra` steps appended: the last result, or
/// the oracle's `{"error"}` for the line.
fn oracle(scenario: &Value, extra: Vec<Value>) -> Value {
    let mut line = scenario.clone();
    let steps = line["steps"].as_array_mut().unwrap();
    steps.extend(extra);
    match oracle_line::answer(1, line.to_string().as_bytes()) {
        Ok(text) => {
            let v: Value = serde_json::from_str(&text).unwrap();
            v["results"].as_array().unwrap().last().unwrap().clone()
        }
        Err(text) => serde_json::from_str(&text).unwrap(),
    }
}

/// Checks one doctor input line against the oracle; the number of answers compared.
fn check(scenario: &Value, caller: &str) -> usize {
    let mut input = scenario.clone();
    input["caller"] = json!(caller);
    let text = doctor::answer_line(1, input.to_string().as_bytes(), true)
        .unwrap_or_else(|e| panic!("the doctor refused {input}: {e}"));
    let d: Value = serde_json::from_str(&text).unwrap();
    let mut scenario = scenario.clone();
    if scenario.get("steps").is_none() {
        scenario["steps"] = json!([]);
    }
    let mut compared = 0;
    let mut same = |what: &str, got: &Value, want: Value| {
        assert_eq!(got, &want, "{what} differs for caller {caller} on {input}");
        compared += 1;
    };
    same(
        "transfer",
        &d["transfer"],
        oracle(&scenario, vec![json!({"op": "transfer"})]),
    );
    assert_eq!(d["caller_may"].as_object().unwrap().len(), PROBES.len());
    for &p in PROBES {
        same(p, &d["caller_may"][p], oracle(&scenario, probe(p, caller)));
    }
    for access in Access::ALL {
        let step = json!({"op": "route", "access": access.name()});
        same(
            access.name(),
            &d["routes"][access.name()],
            oracle(&scenario, vec![step]),
        );
    }
    compared
}

/// The job after `scenario`'s steps, described as a job "as it is now" with no steps; `None`
/// when a stored token has no named token of its user.
fn describe(scenario: &Scenario) -> Option<Scenario> {
    let t = scenario.run().ok()?;
    let now = JobSnapshot::of(&t.job);
    let name_of = |user: Sid, prefer: &str| -> Option<String> {
        if scenario.tokens.get(prefer).is_some_and(|t| t.user == user) {
            return Some(prefer.to_string());
        }
        scenario
            .tokens
            .iter()
            .find(|(_, t)| t.user == user && !t.restricted())
            .map(|(n, _)| n.clone())
    };
    let mut d = scenario.clone();
    d.steps.clear();
    d.environment = t.job.environment();
    d.job.owner = name_of(now.owner, &scenario.job.owner)?;
    d.job.owner_elevated = Some(now.owner_elevated);
    d.job.owner_integrity = Some(now.owner_integrity);
    d.job.owner_logged_on = (!now.owner.is_service_account()).then_some(now.owner_logged_on);
    d.job.state = now.state;
    d.job.error = now.error;
    d.job.flags = now.flags.bits();
    d.job.helper_token = match now.helper_token {
        Some(sid) => Some(name_of(sid, "")?),
        None => None,
    };
    d.job.credentials = now.credentials;
    d.job.client_certificate = now.client_certificate;
    d.job.proxy = now.proxy;
    d.job.use_stored_credentials = now.use_stored_credentials;
    d.job.has_file = now.files == 1;
    Some(d)
}

fn vectors() -> Vec<(String, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for file in files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for entry in v.as_array().unwrap() {
            out.push((
                entry["name"].as_str().unwrap().to_string(),
                entry["scenario"].clone(),
            ));
        }
    }
    out
}

#[test]
fn every_answer_is_the_oracles_on_every_conformance_vector() {
    let (mut lines, mut described, mut compared) = (0, 0, 0);
    for (i, (name, scenario)) in vectors().into_iter().enumerate() {
        let tokens: Vec<String> = scenario["tokens"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        // Each line with a third of its tokens as the caller (all of them across lines),
        // and always the owner.
        let owner = scenario["job"]["owner"].as_str().unwrap().to_string();
        let callers: Vec<&String> = (tokens.iter().enumerate())
            .filter(|(j, t)| (i + j) % 3 == 0 || **t == owner)
            .map(|(_, t)| t)
            .collect();
        let parsed = Scenario::from_json_line(&scenario.to_string()).unwrap();
        let description = describe(&parsed)
            .map(|d| serde_json::to_value(&d).unwrap())
            .unwrap_or_else(|| panic!("{name}: the job cannot be described"));
        described += 1;
        for caller in callers {
            compared += check(&scenario, caller);
            compared += check(&description, caller);
            lines += 2;
        }
    }
    assert!(described > 380, "only {described} vectors described");
    eprintln!("{lines} doctor lines, {compared} answers equal the oracle's");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn every_answer_is_the_oracles_on_generated_jobs(
        s in scenario(ScenarioParams::default()),
        pick in any::<prop::sample::Index>(),
    ) {
        let names: Vec<&String> = s.tokens.keys().collect();
        let caller = names[pick.index(names.len())].clone();
        let line = serde_json::to_value(&s).unwrap();
        check(&line, &caller);
        if let Some(d) = describe(&s) {
            check(&serde_json::to_value(&d).unwrap(), &caller);
        }
    }
}

#[test]
fn an_unknown_fact_names_the_answers_that_depend_on_it() {
    // Wine's BITS answers no IBitsTokenOptions: the flags and the helper token are unknown.
    let line = r#"{"tokens": {"me": {"user": "S-1-5-21-1-2-3-1001"}},
        "job": {"owner": "me", "state": "queued", "challenges": {"server": ["negotiate"]}},
        "caller": "me",
        "unknown": {"flags": "IBitsTokenOptions: 0x80004002", "helper_token": "IBitsTokenOptions: 0x80004002"}}"#;
    let input = Input::from_json_line(line).unwrap();
    let d = doctor::diagnose(&input).unwrap();
    let flags = bits_helper_token::doctor::Fact::Flags;
    // The getters read exactly what is unknown; the transfer needs the helper token once a
    // flag is set (L-6).
    for key in ["get_helper_token_flags", "transfer"] {
        assert!(
            d.depends.get(key).is_some_and(|f| f.contains(&flags)),
            "{key}: {:?}",
            d.depends
        );
    }
    // Cancel does not depend on them.
    assert!(!d.depends.contains_key("cancel"));
    let json: Value = serde_json::from_str(&d.to_json_line(1)).unwrap();
    assert_eq!(json["unknown"]["flags"], "IBitsTokenOptions: 0x80004002");
    assert!(
        json["depends_on_unknown"]["transfer"]
            .as_array()
            .unwrap()
            .contains(&json!("flags"))
    );
}

#[test]
fn an_invalid_line_gets_an_error_and_the_doctor_goes_on() {
    let exe = env!("CARGO_BIN_EXE_bits-helper-token-doctor");
    let good = r#"{"tokens": {"a": {"user": "S-1-5-21-1-2-3-1001"}}, "job": {"owner": "a"}, "caller": "a"}"#;
    let input = format!(
        "{good}\n{{\"tokens\": 1}}\n\n{good}\n{{\"tokens\": {{\"a\": {{\"user\": \"S-1-5-20\"}}}}, \"job\": {{\"owner\": \"a\"}}, \"caller\": \"b\"}}\n"
    );
    let mut child = std::process::Command::new(exe)
        .args(["--offline", "-", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0]["transfer"].is_object());
    let error = lines[1]["error"].as_str().unwrap();
    assert!(error.starts_with("line 2, column "), "{error}");
    assert!(lines[2]["caller_may"].is_object());
    assert_eq!(
        lines[3]["error"],
        "line 5: caller: unknown token \"b\" (not in \"tokens\")"
    );
    // Exit codes like the oracle's: a bad argument is 2.
    let bad = std::process::Command::new(exe)
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let help = std::process::Command::new(exe)
        .arg("--help")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--offline FILE"));
}

/// The doctor's arguments: each misuse exits 2 and says which; `--export` takes neither
/// `--offline` nor `--json`; without `--offline`, off Windows, the live mode says where it
/// runs.
#[test]
fn the_doctors_arguments_are_checked_and_each_misuse_named() {
    let exe = env!("CARGO_BIN_EXE_bits-helper-token-doctor");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(exe).args(args).output().unwrap();
        (out.status.code(), String::from_utf8(out.stderr).unwrap())
    };
    let export = "--export writes the live jobs; it takes neither --offline nor --json";
    for args in [
        &["--export", "--json"][..],
        &["--export", "--offline", "-"],
        &["--json", "--offline", "-", "--export"],
    ] {
        let (code, err) = run(args);
        assert_eq!(code, Some(2), "{args:?}");
        assert!(err.contains(export), "{args:?}: {err}");
    }
    let (code, err) = run(&["--offline"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--offline needs a FILE"), "{err}");
    #[cfg(not(all(windows, feature = "windows")))]
    for args in [&[][..], &["--json"], &["--export"]] {
        let (code, err) = run(args);
        assert_eq!(code, Some(2), "{args:?}");
        assert!(
            err.contains("the live mode reads BITS jobs on Windows"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn the_doctors_handle_is_one_no_step_uses() {
    // The doctor asks through a handle of its own (`doctor::free_handle`): "doctor", or
    // "doctor2", "doctor3", … when the scenario's steps already use that name.
    let with_handles = |handles: &[&str]| {
        let steps: Vec<Value> = handles
            .iter()
            .map(|h| json!({"op": "query_interface", "caller": "alice", "handle": h}))
            .collect();
        let line = json!({
            "tokens": {"alice": {"user": "S-1-5-21-1-2-3-1001"}},
            "job": {"owner": "alice"},
            "steps": steps,
        });
        doctor::free_handle(&Scenario::from_json_line(&line.to_string()).unwrap())
    };
    let name = |n: &str| HandleName::from(n);
    assert_eq!(with_handles(&[]), name("doctor"));
    assert_eq!(with_handles(&["doctor0", "doctor1", "h"]), name("doctor"));
    assert_eq!(with_handles(&["doctor"]), name("doctor2"));
    assert_eq!(with_handles(&["doctor", "doctor0"]), name("doctor2"));
    assert_eq!(
        with_handles(&["doctor3", "doctor", "doctor2"]),
        name("doctor4")
    );
}

#[test]
fn answers_get_finds_every_answer_by_its_key() {
    // `Answers::get` is how the advice reads a probe's, the transfer's or a route's
    // answer: each key `Answers::all` lists finds that very answer, and no other key
    // finds one.
    for (name, v) in vectors().into_iter().take(24) {
        let scenario = Scenario::from_json_line(&v.to_string()).unwrap();
        let answers = doctor::ask_all(&scenario, v["job"]["owner"].as_str().unwrap());
        let mut keys = 0;
        for (key, answer) in answers.all() {
            let found = answers
                .get(&key)
                .unwrap_or_else(|| panic!("{name}: no {key}"));
            assert!(
                std::ptr::eq(found, answer),
                "{name}: {key} finds another answer"
            );
            keys += 1;
        }
        assert_eq!(keys, 1 + PROBES.len() + Access::ALL.len(), "{name}");
        for unknown in [
            "",
            "no_such_probe",
            "route:",
            "route:no_such_access",
            "Transfer",
        ] {
            assert!(
                answers.get(unknown).is_none(),
                "{name}: {unknown:?} finds an answer"
            );
        }
    }
}

/// Each piece of advice comes with the rule whose fix it is, chosen from the model's
/// answers: the job below calls for it (SPEC ids L-11, A-11, R-3, X-3, L-6, X-1, L-13,
/// A-13, A-14).
#[test]
fn each_piece_of_advice_names_its_rule() {
    let svc = r#""svc": {"user": "S-1-5-20"}"#;
    let alice = r#""alice": {"user": "S-1-5-21-1-2-3-1001"}"#;
    let admin = r#""admin": {"user": "S-1-5-21-1-2-3-500", "groups": [{"sid": "S-1-5-32-544", "attributes": 15}]}"#;
    let cases = [
        (
            "L-11",
            r#"{"tokens": {"alice": {"user": "S-1-5-21-1-2-3-1001", "logon": "batch"}}, "job": {"owner": "alice", "state": "queued"}, "caller": "alice"}"#.to_string(),
        ),
        (
            "A-11",
            r#"{"tokens": {"system": {"user": "S-1-5-18"}, "admin": {"user": "S-1-5-21-1-2-3-500", "groups": [{"sid": "S-1-5-32-544", "attributes": 16}]}}, "job": {"owner": "system", "state": "suspended"}, "caller": "admin"}"#.to_string(),
        ),
        (
            "R-3",
            format!(
                r#"{{"tokens": {{{svc}, {alice}}}, "job": {{"owner": "svc", "state": "queued", "flags": 2, "helper_token": "alice", "challenges": {{"server": ["negotiate"]}}}}, "caller": "svc"}}"#
            ),
        ),
        (
            "X-3",
            format!(
                r#"{{"tokens": {{{svc}, {alice}}}, "job": {{"owner": "svc", "state": "queued", "flags": 2, "helper_token": "alice", "challenges": {{"server": ["negotiate"]}}}}, "caller": "svc"}}"#
            ),
        ),
        (
            "L-6",
            format!(
                r#"{{"tokens": {{{svc}}}, "job": {{"owner": "svc", "state": "queued", "flags": 1}}, "caller": "svc"}}"#
            ),
        ),
        (
            "X-1",
            format!(
                r#"{{"tokens": {{{svc}, {alice}}}, "job": {{"owner": "svc", "state": "queued", "flags": 2, "helper_token": "alice", "remote": "https", "client_certificate": true}}, "caller": "svc"}}"#
            ),
        ),
        (
            "L-13",
            format!(
                r#"{{"environment": {{"network": "disconnected"}}, "tokens": {{{svc}}}, "job": {{"owner": "svc", "state": "queued"}}, "caller": "svc"}}"#
            ),
        ),
        (
            "A-13",
            format!(
                r#"{{"tokens": {{{alice}, {admin}}}, "job": {{"owner": "alice", "state": "suspended"}}, "caller": "admin"}}"#
            ),
        ),
        (
            "A-14",
            format!(
                r#"{{"tokens": {{{alice}, "boxed": {{"user": "S-1-5-21-1-2-3-1001", "restricting_sids": ["S-1-5-12"]}}}}, "job": {{"owner": "alice", "state": "suspended"}}, "caller": "boxed"}}"#
            ),
        ),
    ];
    for (rule, line) in cases {
        let input = Input::from_json_line(&line).unwrap_or_else(|e| panic!("{rule}: {e}"));
        let d = doctor::diagnose(&input).unwrap_or_else(|e| panic!("{rule}: {e}"));
        let rules: Vec<String> = d.advice.iter().map(|a| a.rule.to_string()).collect();
        assert!(rules.iter().any(|r| r == rule), "{rule}: advice {rules:?}");
        for a in &d.advice {
            assert!(
                !a.because.is_empty(),
                "{rule}: advice without a cause: {a:?}"
            );
        }
    }
}

/// The doctor's input is the oracle's scenario: its tokens take the same shorthands, and its
/// diagnosis is the one of the tokens written out.
#[test]
fn the_doctors_tokens_take_the_oracles_shorthands() {
    use bits_helper_token::token::TokenInfo;
    let short = r#"{"tokens": {"svc": "network_service", "me": {"administrator": "S-1-5-21-1-2-3-500"}},
        "job": {"owner": "svc", "state": "queued"}, "caller": "me"}"#;
    let me: Sid = "S-1-5-21-1-2-3-500".parse().unwrap();
    let long = serde_json::to_string(&json!({
        "tokens": {
            "svc": TokenInfo::network_service(),
            "me": TokenInfo::elevated_administrator(me),
        },
        "job": {"owner": "svc", "state": "queued"},
        "caller": "me"
    }))
    .unwrap();
    let (short, long) = (
        Input::from_json_line(short).unwrap(),
        Input::from_json_line(&long).unwrap(),
    );
    assert_eq!(short, long);
    assert_eq!(
        short.scenario.tokens["me"],
        TokenInfo::elevated_administrator(me)
    );
    let d = doctor::diagnose(&short).unwrap();
    assert_eq!(
        d.to_json_line(1),
        doctor::diagnose(&long).unwrap().to_json_line(1)
    );
    let e = Input::from_json_line(
        r#"{"tokens": {"me": "admin"}, "job": {"owner": "me"}, "caller": "me"}"#,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains(r#"unknown token shorthand "admin""#),
        "{e}"
    );
    assert_eq!((e.line(), e.column()), (1, 25));
}

/// The advice for `rule` in the diagnosis of `line`, each as `(text, because)`.
fn advice_of(line: &str, rule: &str) -> Vec<(String, Vec<String>)> {
    let input = Input::from_json_line(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    let d = doctor::diagnose(&input).unwrap_or_else(|e| panic!("{line}: {e}"));
    d.advice
        .iter()
        .filter(|a| a.rule.to_string() == rule)
        .map(|a| (a.text.clone(), a.because.clone()))
        .collect()
}

/// L-11's two pieces of advice: the owner who is not logged on interactively (the job does
/// not transfer, L-8) and the caller who is not (it cannot add files, L-15). When the caller
/// is that owner the two are one piece of advice with both reasons; when the caller is
/// someone else, or the owner's job is not waiting to transfer, each stands alone.
#[test]
fn the_logon_advice_is_one_piece_when_the_caller_is_the_owner_who_is_not_logged_on() {
    let alice = r#""alice": {"user": "S-1-5-21-1-2-3-1001", "logon": "batch"}"#;
    let admin = r#""admin": {"user": "S-1-5-21-1-2-3-500", "groups": [{"sid": "S-1-5-32-544", "attributes": 15}], "logon": "batch"}"#;
    let owner_text = "log on as S-1-5-21-1-2-3-1001 interactively (console or Remote Desktop; \
                      RunAs, a scheduled task, a service or WinRM does not count)";
    let caller_text = |sid: &str| {
        format!("log on as {sid} interactively (console or Remote Desktop) to add files")
    };
    let l11 = |line: &str| advice_of(line, "L-11");
    let strs = |v: &[&str]| -> Vec<String> { v.iter().map(|s| s.to_string()).collect() };

    // The owner asks about its queued job from a scheduled task: one piece of advice, both
    // reasons.
    let own = l11(&format!(
        r#"{{"tokens": {{{alice}}}, "job": {{"owner": "alice", "state": "queued"}}, "caller": "alice"}}"#
    ));
    assert_eq!(own.len(), 1, "{own:?}");
    assert!(own[0].0.starts_with(owner_text), "{own:?}");
    assert_eq!(own[0].1, strs(&["transfer: L-8", "add_file: L-15"]));

    // An administrator, also in a batch logon, asks about it: the owner's advice has only
    // the transfer's reason; the caller's own advice has the add_file's.
    let other = l11(&format!(
        r#"{{"tokens": {{{alice}, {admin}}}, "job": {{"owner": "alice", "state": "queued"}}, "caller": "admin"}}"#
    ));
    assert_eq!(other.len(), 2, "{other:?}");
    assert!(other[0].0.starts_with(owner_text), "{other:?}");
    assert_eq!(other[0].1, strs(&["transfer: L-8"]));
    assert!(
        other[1].0.starts_with(&caller_text("S-1-5-21-1-2-3-500")),
        "{other:?}"
    );
    assert_eq!(other[1].1, strs(&["add_file: L-15"]));

    // The owner's job is suspended (it is not waiting to transfer, so L-8 says nothing): the
    // owner gets only the advice about adding files.
    let suspended = l11(&format!(
        r#"{{"tokens": {{{alice}}}, "job": {{"owner": "alice", "state": "suspended"}}, "caller": "alice"}}"#
    ));
    assert_eq!(suspended.len(), 1, "{suspended:?}");
    assert!(
        suspended[0]
            .0
            .starts_with(&caller_text("S-1-5-21-1-2-3-1001")),
        "{suspended:?}"
    );
    assert_eq!(suspended[0].1, strs(&["add_file: L-15"]));
}

/// A-11's advice depends on how high the job was made: a job of an elevated (High) owner
/// is changed by elevating; a System job cannot be changed from an elevated prompt at all.
#[test]
fn the_gates_advice_says_elevate_for_a_high_job_and_who_may_change_a_system_job() {
    let a11 = |line: &str| advice_of(line, "A-11");
    // The same administrator, elevated when it made the job, filtered (Medium) now.
    let high = a11(
        r#"{"tokens": {"hi": {"user": "S-1-5-21-1-2-3-500", "groups": [{"sid": "S-1-5-32-544", "attributes": 15}]}, "lo": {"user": "S-1-5-21-1-2-3-500", "groups": [{"sid": "S-1-5-32-544", "attributes": 16}]}}, "job": {"owner": "hi", "state": "suspended"}, "caller": "lo"}"#,
    );
    assert_eq!(high.len(), 1, "{high:?}");
    assert!(
        high[0]
            .0
            .starts_with("elevate: run from an elevated prompt (Run as administrator)"),
        "{high:?}"
    );
    assert!(high[0].1.contains(&"resume: A-11".to_string()), "{high:?}");
    // A SYSTEM job, an elevated administrator asks: it may read, not change.
    let system = a11(
        r#"{"tokens": {"sys": {"user": "S-1-5-18"}, "admin": {"user": "S-1-5-21-1-2-3-500", "groups": [{"sid": "S-1-5-32-544", "attributes": 15}]}}, "job": {"owner": "sys", "state": "suspended"}, "caller": "admin"}"#,
    );
    assert_eq!(system.len(), 1, "{system:?}");
    assert!(
        system[0]
            .0
            .starts_with("the job was made at integrity level system: change it as S-1-5-18"),
        "{system:?}"
    );
    assert!(system[0].1.contains(&"resume: A-11".to_string()));
    assert!(!system[0].1.contains(&"query_interface: A-11".to_string()));
}

/// `Input::to_json_line` writes what `Input::from_json_line` reads back as the same input:
/// `steps` only when there are some, `unknown` only when a fact is unknown, `label` only
/// when there is one.
#[test]
fn an_input_line_written_reads_back_as_the_same_input() {
    let base = r#"{"tokens": {"a": {"user": "S-1-5-21-1-2-3-1001"}}, "job": {"owner": "a", "state": "queued"}, "caller": "a""#;
    let lines = [
        format!("{base}}}"),
        format!(
            r#"{base}, "unknown": {{"flags": "IBitsTokenOptions: 0x80004002", "owner": "GetOwner: E_NOTIMPL"}}, "label": "{{0A1B}} nightly"}}"#
        ),
        format!(
            r#"{base}, "steps": [{{"op": "suspend", "caller": "a"}}], "unknown": {{"challenges": "BITS never shows them"}}}}"#
        ),
    ];
    for line in &lines {
        let input = Input::from_json_line(line).unwrap();
        let written = input.to_json_line().unwrap();
        assert_eq!(
            Input::from_json_line(&written).unwrap(),
            input,
            "{line}\n{written}"
        );
        let json: Value = serde_json::from_str(&written).unwrap();
        let object = json.as_object().unwrap();
        assert_eq!(json["caller"], "a");
        assert_eq!(object.contains_key("steps"), line.contains("\"steps\""));
        assert_eq!(object.contains_key("unknown"), line.contains("\"unknown\""));
        assert_eq!(object.contains_key("label"), line.contains("\"label\""));
    }
    let empty = Input::from_json_line(&lines[0]).unwrap();
    assert!(empty.unknown.is_empty() && empty.label.is_none());
}

/// `unknown` is an object of facts, each named once, each a fact the doctor knows; anything
/// else is refused with what was expected and where.
#[test]
fn the_unknown_facts_are_an_object_each_fact_once() {
    let base = r#"{"tokens": {"a": {"user": "S-1-5-21-1-2-3-1001"}}, "job": {"owner": "a"}, "caller": "a", "unknown": "#;
    for (unknown, says) in [
        (
            r#"["flags"]"#,
            "invalid type: sequence, expected a JSON object of facts and why each is unknown",
        ),
        (
            "1",
            "invalid type: integer `1`, expected a JSON object of facts and why each is unknown",
        ),
        (
            r#"{"flags": "x", "flags": "y"}"#,
            "unknown: flags is named twice",
        ),
        (
            r#"{"flag": "x"}"#,
            r#"invalid value: string "flag", expected one of"#,
        ),
        (
            r#"{"flags": 1}"#,
            "invalid type: integer `1`, expected a string",
        ),
    ] {
        let line = format!("{base}{unknown}}}");
        let e = Input::from_json_line(&line).unwrap_err();
        assert!(e.to_string().contains(says), "{unknown}: {e}");
        assert_eq!(e.line(), 1, "{unknown}: {e}");
        assert!(e.column() >= base.len(), "{unknown}: {e}");
    }
}

/// The table of the diagnosis of `line`, after `edit`.
fn table_of(line: &str, edit: impl FnOnce(&mut doctor::Diagnosis)) -> String {
    let input = Input::from_json_line(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    let mut d = doctor::diagnose(&input).unwrap_or_else(|e| panic!("{line}: {e}"));
    edit(&mut d);
    let table = d.to_table();
    for row in table.lines() {
        assert!(row.chars().count() <= 96, "past column 96: {row:?}");
    }
    table
}

/// The table for people (`Diagnosis::to_table`), beyond the README's three: a job in ERROR
/// with the rule that put it there (and without one), the calls the caller may make listed
/// up to six and counted from seven, no `may` row when there is none, the calls through a
/// refused handle counted with it, and the unknown facts with the answers that depend on
/// them (or "no answer").
#[test]
fn the_table_shows_each_part_of_a_diagnosis() {
    let failed = r#"{"label": "failed", "tokens": {"svc": {"user": "S-1-5-20"}, "alice": {"user": "S-1-5-21-1-2-3-1001"}},
        "job": {"owner": "svc", "state": "queued", "flags": 2, "helper_token": "alice", "challenges": {"server": ["negotiate"]}},
        "steps": [{"op": "transfer"}], "caller": "svc",
        "unknown": {"credentials": "BITS has no getter", "helper_token": "IBitsTokenOptions: 0x80004002"}}"#;
    let body = "  owner     S-1-5-20 (logged on, not elevated, system)
  caller    S-1-5-20
  transfer  transfer returns 0x00000001 (S_FALSE): T-7: nothing to do for a job in state error
  may       the 15 other calls
  refused   E_ACCESSDENIED L-7: take_ownership
  refused   outside the model: add_file
  routes    proxy_ie_settings → helper S-1-5-21-1-2-3-1001, server_challenge_negotiate →
            no_implicit_credentials, server_challenge → unanswered
  advice    R-3: call SetCredentials(server, Negotiate, NULL, NULL) to allow implicit
            credentials (or give explicit ones)
  advice    X-3: a challenge no offered scheme can answer: set credentials for one of its
            schemes
  unknown   credentials (BITS has no getter); depends on it:
            complete, remove_credentials, route:server_challenge,
            route:server_challenge_negotiate
  unknown   helper_token (IBitsTokenOptions: 0x80004002); depends on it:
            get_helper_token_sid, route:proxy_ie_settings
";
    assert_eq!(
        table_of(failed, |_| {}),
        format!("failed: error, error BG_E_HTTP_ERROR_401 (X-3)\n{body}")
    );
    // An error whose rule is not known is shown without one.
    assert_eq!(
        table_of(failed, |d| d.job_error_rule = None),
        format!("failed: error, error BG_E_HTTP_ERROR_401\n{body}")
    );

    // Before BITS 4.0, an administrator asks about Alice's job: seven calls it may make,
    // counted; with one more refused, the six left are listed.
    let admin = r#"{"release": "pre_bits4", "tokens": {"alice": {"user": "S-1-5-21-1-2-3-1001"},
        "admin": {"user": "S-1-5-21-1-2-3-500", "groups": [{"sid": "S-1-5-32-544", "attributes": 15}]}},
        "job": {"owner": "alice", "state": "suspended"}, "caller": "admin"}"#;
    let head = "job: suspended
  owner     S-1-5-21-1-2-3-1001 (logged on, not elevated, medium)
  caller    S-1-5-21-1-2-3-500
  transfer  transfer returns 0x00000001 (S_FALSE): T-7: nothing to do for a job in state
            suspended
";
    let tail = "  refused   outside the model: add_file
  refused   E_ACCESSDENIED A-13: set_credentials, remove_credentials
  routes    every access as the owner
  advice    A-13: call these as the owner S-1-5-21-1-2-3-1001 (an administrator may call only
            the others)
  advice    A-2: IBitsTokenOptions needs BITS 4.0 or later (Windows 7, Server 2008 R2)
";
    assert_eq!(
        table_of(admin, |_| {}),
        format!(
            "{head}  may       the 7 other calls
  refused   E_NOINTERFACE A-2: query_interface, get_helper_token_flags, get_helper_token_sid,
            set_helper_token_flags, set_helper_token, clear_helper_token, set_job_property
{tail}"
        )
    );
    let six = table_of(admin, |d| {
        let refusal = d.answers.caller_may[0].1.clone();
        let (_, take) = (d.answers.caller_may.iter_mut())
            .find(|(key, _)| *key == "take_ownership")
            .unwrap();
        *take = refusal;
    });
    assert_eq!(
        six,
        format!(
            "{head}  may       resume, suspend, cancel, complete, set_proxy_usage, set_client_certificate
  refused   E_NOINTERFACE A-2: query_interface, get_helper_token_flags, get_helper_token_sid,
            set_helper_token_flags, set_helper_token, clear_helper_token, take_ownership,
            set_job_property
{tail}"
        )
    );

    // Bob may make no call on Alice's job: no `may` row; the five calls through the handle
    // his query_interface did not get are counted with it.
    let bob = r#"{"tokens": {"alice": {"user": "S-1-5-21-1-2-3-1001"}, "bob": {"user": "S-1-5-21-1-2-3-1002"}},
        "job": {"owner": "alice", "state": "queued"}, "caller": "bob", "unknown": {"client_certificate": "x", "helper_token": "y"}}"#;
    assert_eq!(
        table_of(bob, |_| {}),
        "job: queued
  owner     S-1-5-21-1-2-3-1001 (logged on, not elevated, medium)
  caller    S-1-5-21-1-2-3-1002
  transfer  transfer returns 0x00000000 (S_OK): T-7: the job went from queued to transferred
  refused   E_ACCESSDENIED A-5: query_interface (and the 5 calls through its handle)
  refused   E_ACCESSDENIED L-7: take_ownership
  refused   E_ACCESSDENIED A-13: resume, suspend, cancel, complete, add_file, set_credentials,
            remove_credentials, set_proxy_usage, set_client_certificate, set_job_property
  routes    every access as the owner
  advice    A-13: call these as the owner S-1-5-21-1-2-3-1001 (an administrator may call only
            the others)
  unknown   client_certificate (x); depends on it:
            route:client_certificate_key
  unknown   helper_token (y); depends on it:
            no answer
"
    );
}

/// A row of the table breaks before a word that would pass column 96, and not before one
/// that ends at it: a word of 79 characters after `  unknown   type ` (16 columns) ends
/// at column 96 and stays; one of 80 goes to the next line, indented.
#[test]
fn a_table_row_wraps_before_column_96() {
    let unknown_row = |k: usize| {
        let why = "a".repeat(k);
        let line = format!(
            r#"{{"tokens": {{"alice": {{"user": "S-1-5-21-1-2-3-1001"}}}}, "job": {{"owner": "alice", "state": "suspended"}}, "caller": "alice", "unknown": {{"type": "{why}"}}}}"#
        );
        let table = table_of(&line, |_| {});
        let start = table.find("  unknown").unwrap();
        let rows: Vec<String> = table[start..].lines().map(String::from).collect();
        (why, rows)
    };
    let (why, rows) = unknown_row(76);
    assert_eq!(rows[0], format!("  unknown   type ({why});"));
    assert_eq!(rows[0].chars().count(), 96);
    assert_eq!(rows[1], "            depends on it:");
    let (why, rows) = unknown_row(77);
    assert_eq!(rows[0], "  unknown   type");
    assert_eq!(rows[1], format!("            ({why});"));
    assert_eq!(rows[2], "            depends on it:");
    let (why, rows) = unknown_row(2);
    assert_eq!(rows[0], format!("  unknown   type ({why}); depends on it:"));
    assert!(rows[1].starts_with("            add_file, complete, route:"));
}

/// Each fact the doctor may not know, alone unknown on a job where it matters: the answers
/// that change when it takes another value are named (a few of them checked), and an
/// answer it cannot change is not. On the same job, a fact that changes nothing names no
/// answer.
#[test]
fn each_unknown_fact_names_the_answers_it_changes() {
    // The network service's queued job with Alice's token as its helper (NETWORK) and a
    // server that challenges with Negotiate.
    let helper = |fact: &str| {
        format!(
            r#"{{"tokens": {{"svc": {{"user": "S-1-5-20"}}, "alice": {{"user": "S-1-5-21-1-2-3-1001"}}}},
            "job": {{"owner": "svc", "state": "queued", "flags": 2, "helper_token": "alice", "challenges": {{"server": ["negotiate"]}}}},
            "caller": "svc", "unknown": {{"{fact}": "not read"}}}}"#
        )
    };
    // Alice's queued job behind a proxy that challenges with Negotiate (BITS 10).
    let proxied = |fact: &str| {
        format!(
            r#"{{"release": "win10_1809", "tokens": {{"alice": {{"user": "S-1-5-21-1-2-3-1001"}}}},
            "job": {{"owner": "alice", "state": "queued", "proxy": "override", "challenges": {{"proxy": ["negotiate"]}}}},
            "caller": "alice", "unknown": {{"{fact}": "not read"}}}}"#
        )
    };
    type Line = fn(&str) -> String;
    let cases: [(&str, Line, &[&str], &str); 14] = [
        (
            "release",
            helper,
            &["query_interface", "set_job_property"],
            "cancel",
        ),
        ("owner", helper, &["cancel", "route:other"], "transfer"),
        (
            "owner_elevated",
            helper,
            &["take_ownership", "resume"],
            "transfer",
        ),
        ("owner_integrity", helper, &["suspend"], "query_interface"),
        (
            "owner_logged_on",
            proxied,
            &["transfer", "add_file"],
            "resume",
        ),
        (
            "type",
            helper,
            &["add_file", "route:upload_local_file"],
            "transfer",
        ),
        (
            "remote",
            helper,
            &["route:smb_remote_file", "transfer"],
            "cancel",
        ),
        (
            "client_certificate",
            helper,
            &["route:client_certificate_key"],
            "cancel",
        ),
        ("proxy", helper, &["route:proxy_auto_detect"], "transfer"),
        (
            "challenges",
            helper,
            &["route:server_challenge_ntlm", "transfer"],
            "cancel",
        ),
        (
            "credentials",
            helper,
            &["remove_credentials", "transfer"],
            "cancel",
        ),
        (
            "flags",
            helper,
            &["get_helper_token_flags", "route:proxy_ie_settings"],
            "transfer",
        ),
        (
            "helper_token",
            helper,
            &["get_helper_token_sid", "transfer"],
            "cancel",
        ),
        (
            "use_stored_credentials",
            proxied,
            &["route:proxy_challenge_negotiate", "transfer"],
            "cancel",
        ),
    ];
    for (fact, line, changes, stays) in cases {
        let input = Input::from_json_line(&line(fact)).unwrap_or_else(|e| panic!("{fact}: {e}"));
        let d = doctor::diagnose(&input).unwrap_or_else(|e| panic!("{fact}: {e}"));
        let f = *input.unknown.keys().next().unwrap();
        assert_eq!(f.name(), fact);
        for key in changes.iter().copied() {
            assert_eq!(
                d.depends.get(key),
                Some(&[f].into()),
                "{fact}: {key}: {:?}",
                d.depends
            );
        }
        assert!(
            !d.depends.contains_key(stays),
            "{fact}: {stays}: {:?}",
            d.depends
        );
    }
    // The helper's job does not depend on the stored-credentials property (it is the
    // server that challenges), nor, its owner being a service, on its owner's logon.
    for fact in ["use_stored_credentials", "owner_logged_on"] {
        let input = Input::from_json_line(&helper(fact)).unwrap();
        assert!(
            doctor::diagnose(&input).unwrap().depends.is_empty(),
            "{fact}"
        );
    }
}
