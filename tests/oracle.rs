//! The language-neutral oracle's contract (`docs/oracle.md`): defaults, values, and
//! invalid lines, through the line handler and through the real process.

use crate::oracle_line;

use serde_json::{Value, json};
#[cfg(feature = "cli")]
use std::io::Write;
#[cfg(feature = "cli")]
use std::process::{Command, Stdio};

fn answer(line: &str) -> Result<Value, String> {
    match oracle_line::answer(7, line.as_bytes()) {
        Ok(json) => Ok(serde_json::from_str(&json).unwrap()),
        Err(json) => {
            let v: Value = serde_json::from_str(&json).unwrap();
            Err(v["error"].as_str().unwrap().to_string())
        }
    }
}

const TOKENS: &str =
    r#""tokens": {"svc": {"user": "S-1-5-20"}, "a": {"user": "S-1-5-21-1-2-3-1001"}}"#;

fn scenario(job: &str, steps: &str) -> String {
    format!(r#"{{{TOKENS}, "job": {job}, "steps": [{steps}]}}"#)
}

#[test]
fn defaults_are_the_latest_release_and_a_fresh_job() {
    let v = answer(&scenario(r#"{"owner": "svc"}"#, r#"{"op": "query_interface", "caller": "svc", "handle": "h"}, {"op": "get_helper_token_flags", "handle": "h"}, {"op": "get_helper_token_sid", "handle": "h"}, {"op": "route", "access": "proxy_ie_settings"}"#)).unwrap();
    assert_eq!(
        v["results"][0],
        json!({"hresult": "0x00000000", "name": "S_OK", "rule": "A-1"})
    );
    // value present: flags 0, SID null (L-4) — null is not absence.
    assert_eq!(v["results"][1]["value"], json!(0));
    assert!(v["results"][2].as_object().unwrap().contains_key("value"));
    assert_eq!(v["results"][2]["value"], Value::Null);
    // No value for a call that returns none.
    assert!(!v["results"][0].as_object().unwrap().contains_key("value"));
    assert_eq!(v["results"][3]["value"]["identity"], "owner");
    assert_eq!(
        v["job"],
        json!({"state": "suspended", "error": null, "flags": 0, "helper_token": null,
               "owner": "S-1-5-20", "owner_elevated": false, "owner_integrity": "system",
               "owner_logged_on": true, "files": 1, "client_certificate": false,
               "proxy": "preconfig", "credentials": {"server": {}, "proxy": {}},
               "use_stored_credentials": false})
    );
}

#[test]
fn handles_are_strings_or_numbers_and_releases_and_knobs_apply() {
    let line = format!(
        r#"{{"release": "legacy", "knobs": {{"unknown_flags": "not_impl"}}, {TOKENS}, "job": {{"owner": "svc"}}, "steps": [{{"op": "query_interface", "caller": "svc", "handle": 3}}, {{"op": "set_helper_token_flags", "handle": 3, "flags": 1}}]}}"#
    );
    let v = answer(&line).unwrap();
    assert_eq!(v["results"][1]["rule"], "A-4");
    assert_eq!(v["results"][1]["name"], "E_ACCESSDENIED");
    let line = line
        .replace("legacy", "win10_1607")
        .replace(r#""flags": 1"#, r#""flags": 4"#);
    assert_eq!(answer(&line).unwrap()["results"][1]["name"], "E_NOTIMPL");
}

#[test]
fn invalid_lines_say_what_and_where() {
    let cases: &[(&str, &str)] = &[
        ("{", "line 7, column 1: invalid scenario: EOF while parsing"),
        (
            "[]",
            "line 7, column 1: invalid scenario: a scenario is a JSON object",
        ),
        (
            "42",
            "line 7, column 1: invalid scenario: a scenario is a JSON object",
        ),
        (
            r#"{"job": {"owner": "svc"}, "steps": []}"#,
            "missing field `tokens`",
        ),
        (&scenario(r#"{}"#, ""), "missing field `owner`"),
        (
            &format!(r#"{{{TOKENS}, "job": {{"owner": "svc"}}}}"#),
            "missing field `steps`",
        ),
        (
            &scenario(r#"{"owner": "nobody"}"#, ""),
            "line 7: job.owner: unknown token \"nobody\"",
        ),
        (
            &scenario(r#"{"owner": "svc"}"#, r#"{"op": "fly"}"#),
            "unknown variant `fly`",
        ),
        (
            &scenario(r#"{"owner": "svc"}"#, r#"{"op": "resume", "now": true}"#),
            "unknown field `now`",
        ),
        (
            &scenario(
                r#"{"owner": "svc"}"#,
                r#"{"op": "get_helper_token_flags", "handle": 1}"#,
            ),
            "line 7: step 1: handle 1 is not defined by an earlier query_interface",
        ),
        (
            &scenario(
                r#"{"owner": "svc"}"#,
                r#"{"op": "query_interface", "caller": "svc", "handle": 1}, {"op": "query_interface", "caller": "a", "handle": 1}"#,
            ),
            "step 2: handle 1 is already defined",
        ),
        (
            &scenario(
                r#"{"owner": "svc"}"#,
                r#"{"op": "query_interface", "caller": "svc", "handle": 1}, {"op": "set_helper_token_flags", "handle": 1, "flags": -1}"#,
            ),
            "invalid value: integer `-1`",
        ),
        (
            &scenario(
                r#"{"owner": "svc"}"#,
                r#"{"op": "query_interface", "caller": "svc", "handle": 1}, {"op": "set_helper_token_flags", "handle": 1, "flags": 4294967296}"#,
            ),
            "invalid value: integer `4294967296`",
        ),
        (
            &scenario(
                r#"{"owner": "svc"}"#,
                r#"{"op": "take_ownership", "caller": "x"}"#,
            ),
            "step 1: unknown token \"x\"",
        ),
        (
            &scenario(
                r#"{"owner": "svc"}"#,
                r#"{"op": "route", "access": "teleport"}"#,
            ),
            "teleport",
        ),
        (
            &scenario(r#"{"owner": "svc", "type": "sideload"}"#, ""),
            r#"invalid value: string "sideload", expected one of "download", "upload", "upload_reply" (job type)"#,
        ),
        (
            &format!(r#"{{"release": "win11", {TOKENS}, "job": {{"owner": "svc"}}, "steps": []}}"#),
            r#"invalid value: string "win11", expected one of "pre_bits4""#,
        ),
        (
            r#"{"tokens": {"t": {"user": "S-1-5-18 "}}, "job": {"owner": "t"}, "steps": []}"#,
            "at byte 8: unexpected character ' '",
        ),
        (
            &format!(
                r#"{{"environment": {{"use_lm_compat": 3}}, {TOKENS}, "job": {{"owner": "svc"}}, "steps": []}}"#
            ),
            "3",
        ),
        (
            &scenario(
                r#"{"owner": "svc"}"#,
                r#"{"op": "set_credentials", "target": "server", "scheme": "basic", "credential": "maybe"}"#,
            ),
            "unknown variant `maybe`",
        ),
    ];
    for (line, needle) in cases {
        let err = answer(line).expect_err(line);
        assert!(
            err.starts_with("line 7: ") || err.starts_with("line 7, column "),
            "{err}"
        );
        assert!(
            !err.contains(" at line "),
            "the position is said once: {err}"
        );
        assert!(
            err.contains(needle),
            "for {line}\n  got: {err}\n  want: {needle}"
        );
    }
    let bad_utf8 = oracle_line::answer(2, b"{\"tokens\": \xff}").unwrap_err();
    assert_eq!(bad_utf8, r#"{"error":"line 2: not valid UTF-8"}"#);
}

/// Runs the installed-to-be binary with `args`, `input` on stdin: (exit code, stdout, stderr).
#[cfg(feature = "cli")]
fn oracle_process(args: &[&str], input: &str) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bits-helper-token-oracle"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the oracle binary runs");
    // A process that reads nothing (--help, a bad argument) may exit before it is fed.
    match child.stdin.take().unwrap().write_all(input.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.unwrap(),
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[cfg(feature = "cli")]
#[test]
fn the_binary_answers_help_version_and_refuses_other_arguments() {
    for flag in ["--help", "-h"] {
        let (code, out, err) = oracle_process(&[flag], "");
        assert_eq!(code, Some(0), "{err}");
        assert!(out.starts_with("bits-helper-token-oracle — "), "{out}");
        for needle in [
            "USAGE:",
            "--schema",
            "contract 3",
            "EXIT STATUS:",
            "--version",
        ] {
            assert!(out.contains(needle), "--help lacks {needle}: {out}");
        }
    }
    for flag in ["--version", "-V"] {
        let (code, out, _) = oracle_process(&[flag], "");
        assert_eq!(code, Some(0));
        assert_eq!(
            out,
            format!(
                "bits-helper-token-oracle {} (contract 3, SPEC version 3)\n",
                env!("CARGO_PKG_VERSION")
            )
        );
    }
    let (code, out, err) = oracle_process(&["--frobnicate"], "{}\n");
    assert_eq!(code, Some(2));
    assert_eq!(out, "", "nothing is read or answered");
    assert!(err.contains("unknown argument \"--frobnicate\""), "{err}");
}

#[cfg(feature = "cli")]
#[test]
fn the_process_answers_line_by_line_and_exits_1_on_an_invalid_line() {
    let good = scenario(
        r#"{"owner": "svc"}"#,
        r#"{"op": "query_interface", "caller": "svc", "handle": 1}, {"op": "set_helper_token_flags", "handle": 1, "flags": 2}"#,
    );
    let run = |input: String| {
        let (code, out, _) = oracle_process(&[], &input);
        (code, out)
    };
    let (code, out) = run(format!("{good}\n\n{good}\n"));
    assert_eq!(code, Some(0));
    // A line from PowerShell: a byte-order mark first, CRLF at the end.
    let (code, crlf) = run(format!("\u{FEFF}{good}\r\n"));
    assert_eq!(code, Some(0), "{crlf}");
    assert_eq!(crlf.lines().count(), 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "blank lines are skipped: {out}");
    for l in &lines {
        let v: Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["results"][1]["rule"], "A-5");
    }
    let (code, out) = run(format!("{good}\nnot json\n{good}\n"));
    assert_eq!(code, Some(1));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines[1].starts_with(r#"{"error":"line 2, column 1: invalid scenario"#),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with(r#"{"results""#),
        "the oracle goes on after an invalid line"
    );
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let line = scenario(r#"{"owner": "svc"}"#, "");
    let plain = answer(&line).unwrap();
    let bom = oracle_line::answer(7, format!("\u{FEFF}{line}").as_bytes()).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&bom).unwrap(), plain);
}

#[test]
fn duplicate_fields_and_array_forms_are_refused() {
    let cases = [
        (
            format!(
                r#"{{{TOKENS}, "job": {{"owner": "svc"}}, "job": {{"owner": "a"}}, "steps": []}}"#
            ),
            "duplicate field `job`",
        ),
        (
            scenario(r#"{"owner": "svc", "owner": "a"}"#, ""),
            "duplicate field `owner`",
        ),
        (
            scenario(
                r#"{"owner": "svc"}"#,
                r#"{"op": "query_interface", "caller": "svc", "handle": 1, "handle": 2}"#,
            ),
            "duplicate field `handle`",
        ),
        (
            r#"[{"svc": {"user": "S-1-5-20"}}, {"owner": "svc"}, []]"#.to_string(),
            "a scenario is a JSON object",
        ),
    ];
    for (line, needle) in cases {
        let err = answer(&line).expect_err(&line);
        assert!(
            err.starts_with("line 7: ") || err.starts_with("line 7, column "),
            "{err}"
        );
        assert!(
            !err.contains(" at line "),
            "the position is said once: {err}"
        );
        assert!(
            err.contains(needle),
            "for {line}\n  got: {err}\n  want: {needle}"
        );
    }
}

#[test]
fn nested_array_forms_and_duplicate_token_names_are_refused_where_they_are() {
    let cases = [
        (
            r#"{"tokens": {"svc": {"user": "S-1-5-20"}, "svc": {"user": "S-1-5-18"}}, "job": {"owner": "svc"}, "steps": []}"#.to_string(),
            r#"tokens: duplicate key "svc""#,
        ),
        (
            r#"{"tokens": {"svc": ["S-1-5-20", []]}, "job": {"owner": "svc"}, "steps": []}"#.to_string(),
            r#"tokens."svc": invalid type: sequence, expected a JSON object"#,
        ),
        (
            r#"{"tokens": {"svc": {"user": "S-1-5-20", "groups": [["S-1-5-32-544", 15]]}}, "job": {"owner": "svc"}, "steps": []}"#.to_string(),
            r#"tokens."svc": group 1: invalid type: sequence, expected a JSON object"#,
        ),
        (
            format!(r#"{{{TOKENS}, "job": ["svc", false, "download"], "steps": []}}"#),
            "invalid type: sequence, expected a JSON object",
        ),
        (
            format!(r#"{{{TOKENS}, "knobs": ["not_impl"], "job": {{"owner": "svc"}}, "steps": []}}"#),
            "invalid type: sequence, expected a JSON object",
        ),
        (
            scenario(
                r#"{"owner": "svc"}"#,
                r#"{"op": "resume"}, ["query_interface", "svc", 1]"#,
            ),
            "step 2: invalid type: sequence, expected a JSON object",
        ),
        (
            scenario(r#"{"owner": "svc"}"#, r#"{"op": "resume"}, {"op": "resume", "extra": 1}"#),
            "step 2: unknown field `extra`",
        ),
    ];
    for (line, needle) in cases {
        let err = answer(&line).expect_err(&line);
        assert!(
            err.starts_with("line 7: ") || err.starts_with("line 7, column "),
            "{err}"
        );
        assert!(
            !err.contains(" at line "),
            "the position is said once: {err}"
        );
        assert!(
            err.contains(needle),
            "for {line}\n  got: {err}\n  want: {needle}"
        );
    }
}

#[test]
fn explanations_come_on_request_with_the_facts() {
    let plain = answer(&format!(
        r#"{{"knobs": {{"access_check": "per_call"}}, {TOKENS}, "job": {{"owner": "svc"}}, "steps": [{{"op": "query_interface", "caller": "a", "handle": 1}}, {{"op": "set_helper_token_flags", "handle": 1, "flags": 1}}]}}"#
    ))
    .unwrap();
    assert!(plain["results"][1].get("explanation").is_none());
    let line = format!(
        r#"{{"explain": true, "knobs": {{"access_check": "per_call"}}, {TOKENS}, "job": {{"owner": "svc"}}, "steps": [{{"op": "query_interface", "caller": "a", "handle": 1}}, {{"op": "set_helper_token_flags", "handle": 1, "flags": 1}}, {{"op": "route", "access": "other"}}]}}"#
    );
    let v = answer(&line).unwrap();
    assert_eq!(
        v["results"][1]["explanation"],
        "SetHelperTokenFlags returns 0x80070005 (E_ACCESSDENIED): A-11: the caller \
         S-1-5-21-1-2-3-1001 runs at integrity level medium, below the job's system (owner \
         S-1-5-20 (NetworkService)); no one, administrator or owner, may change the job from there"
    );
    assert_eq!(
        v["results"][2]["explanation"],
        "other: the owner S-1-5-20 (NetworkService) (R-0: no flag names this access, so BITS \
         makes any other access for the job as the owner S-1-5-20 (NetworkService))"
    );
    // Apart from the explanations, the answers are the same.
    let mut stripped = v.clone();
    for r in stripped["results"].as_array_mut().unwrap() {
        r.as_object_mut().unwrap().remove("explanation");
    }
    assert_eq!(stripped["results"][1], plain["results"][1]);
}

/// A scenario whose tokens are shorthands, with group attributes by name, answers exactly
/// as the same scenario written out in full (docs/oracle.md, `tokens`).
#[test]
fn shorthand_tokens_and_named_attributes_answer_as_written_out() {
    let admin = r#"{"user": "S-1-5-21-1-2-3-500", "groups": [{"sid": "S-1-1-0", "attributes": 7}, {"sid": "S-1-5-32-544", "attributes": 15}, {"sid": "S-1-5-32-545", "attributes": 7}, {"sid": "S-1-5-4", "attributes": 7}, {"sid": "S-1-5-11", "attributes": 7}]}"#;
    let filtered = admin.replace(
        r#""S-1-5-32-544", "attributes": 15"#,
        r#""S-1-5-32-544", "attributes": 16"#,
    );
    let named = admin
        .replace(
            r#""attributes": 7"#,
            r#""attributes": ["mandatory", "enabled_by_default", "enabled"]"#,
        )
        .replace(
            r#""attributes": 15"#,
            r#""attributes": ["enabled", "owner", "mandatory", "enabled_by_default"]"#,
        );
    let user = r#"{"user": "S-1-5-21-1-2-3-1002", "groups": [{"sid": "S-1-1-0", "attributes": 7}, {"sid": "S-1-5-32-545", "attributes": 7}, {"sid": "S-1-5-4", "attributes": 7}, {"sid": "S-1-5-11", "attributes": 7}]}"#;
    let service = r#"{"user": "S-1-5-20", "groups": [{"sid": "S-1-1-0", "attributes": 7}, {"sid": "S-1-5-32-545", "attributes": 7}, {"sid": "S-1-5-6", "attributes": 7}, {"sid": "S-1-5-11", "attributes": 7}]}"#;
    let steps = r#""job": {"owner": "svc"}, "steps": [
        {"op": "query_interface", "caller": "svc", "handle": 1},
        {"op": "set_helper_token", "handle": 1, "impersonating": "admin"},
        {"op": "set_helper_token", "handle": 1, "impersonating": "filtered"},
        {"op": "set_helper_token_flags", "handle": 1, "flags": 2},
        {"op": "get_helper_token_sid", "handle": 1},
        {"op": "query_interface", "caller": "boss", "handle": 2},
        {"op": "set_helper_token", "handle": 2, "impersonating": "helper"},
        {"op": "query_interface", "caller": "helper", "handle": 3},
        {"op": "get_helper_token_flags", "handle": 3},
        {"op": "route", "access": "server_challenge"}]}"#;
    let short = format!(
        r#"{{"tokens": {{"svc": "network_service", "admin": {{"administrator": "S-1-5-21-1-2-3-500"}},
            "filtered": {{"filtered_administrator": "S-1-5-21-1-2-3-500"}}, "boss": {named},
            "helper": {{"standard_user": "S-1-5-21-1-2-3-1002"}}}}, {steps}"#
    );
    let long = format!(
        r#"{{"tokens": {{"svc": {service}, "admin": {admin}, "filtered": {filtered}, "boss": {admin},
            "helper": {user}}}, {steps}"#
    );
    let (short, long) = (short.replace('\n', ""), long.replace('\n', ""));
    let answered = answer(&short).unwrap();
    assert_eq!(answered, answer(&long).unwrap());
    // And the answers are the rules': A-7 vetoes the administrator, not the filtered one,
    // which its owner may set (A-5).
    let rules: Vec<&str> = answered["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(&rules[..3], ["A-1", "A-7", "A-5"]);
    assert_eq!(answered["results"][2]["name"], "S_OK");
    assert_eq!(answered["results"][4]["value"], "S-1-5-21-1-2-3-500");
    assert_eq!(answered["job"]["owner"], "S-1-5-20");
}

/// `docs/oracle.md`'s example tokens are tokens the oracle reads, as the text says.
#[test]
fn the_documented_example_tokens_read_as_described() {
    use bits_helper_token::scenario::Scenario;
    use bits_helper_token::token::{IntegrityLevel, TokenInfo};
    use bits_helper_token::{Identity, Sid};
    let doc = include_str!("../docs/oracle.md");
    let example = doc
        .split_once("**`tokens`**")
        .and_then(|(_, r)| r.split_once("```json\n"))
        .and_then(|(_, r)| r.split_once("\n```"))
        .map(|(json, _)| json)
        .expect("docs/oracle.md shows example tokens");
    let line = format!(r#"{{"tokens": {{{example}}}, "job": {{"owner": "svc"}}, "steps": []}}"#);
    assert!(answer(&line).is_ok(), "{line}");
    let s: Scenario = serde_json::from_str(&line).unwrap();
    let admin: Sid = "S-1-5-21-1-2-3-500".parse().unwrap();
    assert_eq!(s.tokens["svc"], TokenInfo::network_service());
    assert_eq!(s.tokens["admin"], TokenInfo::elevated_administrator(admin));
    assert_eq!(
        Identity::of(&s.tokens["alice_low"]).integrity,
        IntegrityLevel::Low
    );
    assert_eq!(s.tokens["alice_low"].groups[0].attributes.bits(), 0x60);
}

/// An unknown shorthand, a shorthand that needs a SID, and an unknown or repeated attribute
/// name are lines that are not scenarios: the error says the line, the column and the name.
#[test]
fn unknown_shorthands_and_attribute_names_are_refused_with_line_and_column() {
    for (line, column, said) in [
        (
            r#"{"tokens": {"svc": "root"}, "job": {"owner": "svc"}, "steps": []}"#,
            25,
            r#"tokens."svc": unknown token shorthand "root"; expected a token object {"user": SID, …}, "local_system", "local_service", "network_service", {"standard_user": SID}, {"administrator": SID} or {"filtered_administrator": SID}"#,
        ),
        (
            r#"{"tokens": {"svc": "standard_user"}, "job": {"owner": "svc"}, "steps": []}"#,
            34,
            r#"tokens."svc": token shorthand "standard_user" needs the user's SID"#,
        ),
        (
            r#"{"tokens": {"svc": {"user": "S-1-5-20", "groups": [{"sid": "S-1-5-32-544", "attributes": ["enabled", "deny"]}]}}, "job": {"owner": "svc"}, "steps": []}"#,
            107,
            r#"tokens."svc": group 1: invalid value: string "deny", expected one of "mandatory""#,
        ),
        (
            r#"{"tokens": {"svc": {"user": "S-1-5-20", "groups": [{"sid": "S-1-5-32-544", "attributes": ["owner", "owner"]}]}}, "job": {"owner": "svc"}, "steps": []}"#,
            107,
            r#"tokens."svc": group 1: group attribute "owner" is named twice"#,
        ),
    ] {
        let err = answer(line).expect_err(line);
        let prefix = format!("line 7, column {column}: invalid scenario: ");
        assert!(err.starts_with(&prefix), "{err}");
        assert!(err.contains(said), "{err}");
        assert!(
            !err.contains(" at line "),
            "the position is said once: {err}"
        );
    }
}

/// `docs/oracle.md` "A worked example": the `echo '…'` line, answered, is the JSON block
/// below it.
#[test]
fn the_worked_example_answers_as_shown() {
    let readme = include_str!("../docs/oracle.md");
    let from = readme
        .find("**A worked example**")
        .expect("docs/oracle.md has its worked example");
    let rest = &readme[from..];
    let input = rest
        .split_once("echo '")
        .and_then(|(_, r)| r.split_once("' | tr -d"))
        .map(|(line, _)| line.replace('\n', ""))
        .expect("the example's echo line");
    let shown = rest
        .split_once("```json\n")
        .and_then(|(_, r)| r.split_once("\n```"))
        .map(|(json, _)| json)
        .expect("the example's answer");
    let shown: Value = serde_json::from_str(shown).expect("the shown answer is JSON");
    assert_eq!(answer(&input).unwrap(), shown);
}

/// `--schema` prints both JSON Schemas, exactly the files of `schema/` (which
/// `dev/schema`'s test validates every vector and answer against), with the contract's
/// version; `--version` names the contract.
#[cfg(feature = "cli")]
#[test]
fn the_binary_prints_its_schemas_and_contract_version() {
    use std::process::Command;
    let bin = env!("CARGO_BIN_EXE_bits-helper-token-oracle");
    let out = Command::new(bin).arg("--schema").output().unwrap();
    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = |name: &str| -> Value {
        let path = format!("{}/schema/{name}.schema.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    assert_eq!(printed["contract"], 3);
    assert_eq!(printed["scenario"], file("scenario"));
    assert_eq!(printed["answer"], file("answer"));
    assert!(
        printed["scenario"]["$comment"]
            .as_str()
            .is_some_and(|c| c.contains("contract 3"))
    );
    let out = Command::new(bin).arg("--version").output().unwrap();
    let version = String::from_utf8(out.stdout).unwrap();
    assert!(
        version.contains("(contract 3, SPEC version 3)"),
        "{version}"
    );
}

/// A job may start in ERROR with an error a rule gives it (L-5/L-6, X-1, X-3, X-4), or in
/// TRANSIENT_ERROR with any failure code; any other error, or none, is refused before a step
/// runs, and says why.
#[test]
fn a_job_starts_in_error_only_with_an_error_it_can_have() {
    let job = |state: &str, error: &str| {
        let error = if error.is_empty() {
            String::new()
        } else {
            format!(r#", "error": "{error}""#)
        };
        answer(&scenario(
            &format!(r#"{{"owner": "svc", "state": "{state}"{error}}}"#),
            "",
        ))
    };
    for (state, error) in [
        ("error", "0x80200056"),
        ("error", "0x80190191"),
        ("transient_error", "0x80200010"),
        ("transient_error", "0x80070005"),
    ] {
        let v = job(state, error).unwrap();
        assert_eq!(v["job"]["state"], state);
        assert_eq!(v["job"]["error"], error);
    }
    for (state, error, why) in [
        (
            "error",
            "",
            r#"a job in state error has an error; give it in "error""#,
        ),
        (
            "transient_error",
            "",
            r#"a job in state transient_error has an error; give it in "error""#,
        ),
        (
            "error",
            "0x80070005",
            "error 0x80070005 (E_ACCESSDENIED) is not one a rule puts a job in ERROR with (L-5, L-6, X-1, X-3, X-4)",
        ),
        (
            "transient_error",
            "0x00000000",
            "error 0x00000000 (S_OK) is not a failure code",
        ),
        (
            "queued",
            "0x80200056",
            "error 0x80200056 (BG_E_TOKEN_REQUIRED) on a job in state queued: only a job in error or transient_error has one",
        ),
    ] {
        assert_eq!(
            job(state, error).unwrap_err(),
            format!("line 7: job: {why}")
        );
    }
}

/// `answer_line`'s error says where: the line always, the column of a line that is not a
/// scenario, the step of one the model refuses (none when the job is at fault).
#[test]
fn a_line_error_gives_its_line_column_and_step() {
    use bits_helper_token::scenario::{Scenario, answer_line};
    let err = |number, line: &str| answer_line(number, line.as_bytes()).unwrap_err();

    let e = answer_line(4, b"{\"tokens\": \xff}").unwrap_err();
    assert_eq!((e.line(), e.column(), e.step()), (4, None, None));

    // Not a scenario: the column (from 1) where reading stopped.
    let e = err(5, r#"{"tokens": {"e": 7}}"#);
    assert_eq!((e.line(), e.column(), e.step()), (5, Some(18), None));
    assert!(
        e.to_string()
            .starts_with("line 5, column 18: invalid scenario: "),
        "{e}"
    );
    assert_eq!(
        e.to_json_line(),
        json!({ "error": e.to_string() }).to_string()
    );
    // Not an object, after blank space: the place of its first character.
    let e = err(6, "  \t42");
    assert_eq!((e.line(), e.column(), e.step()), (6, Some(4), None));

    // Refused by the model: the step, from 1.
    let e = err(
        8,
        &scenario(
            r#"{"owner": "svc"}"#,
            r#"{"op": "resume"}, {"op": "take_ownership", "caller": "x"}"#,
        ),
    );
    assert_eq!((e.line(), e.column(), e.step()), (8, None, Some(2)));
    assert_eq!(
        e.to_string(),
        r#"line 8: step 2: unknown token "x" (not in "tokens")"#
    );
    // The job at fault: no step.
    let e = err(9, &scenario(r#"{"owner": "nobody"}"#, ""));
    assert_eq!((e.line(), e.column(), e.step()), (9, None, None));

    // A scenario's own JSON error, on input of several lines: line and column in it.
    let e = Scenario::from_json_line("\n\n  [1]").unwrap_err();
    assert_eq!((e.line(), e.column()), (3, 3));
    let e = Scenario::from_json_line("{\n  \"tokens\": 7}").unwrap_err();
    assert_eq!((e.line(), e.column()), (2, 13));
    assert!(!e.to_string().contains(" at line "), "{e}");
}
