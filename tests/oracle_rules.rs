//! Rules answered through the language-neutral oracle, a scenario line each, where a
//! plausible reading gives another answer (a comment in each test says which): the access
//! gate (A-11), complete and resume (L-10, L-9), logoff and service stop (L-5), flags
//! without a token (L-6, Q-8), a client certificate over HTTP (X-1), challenges nothing
//! answers (X-3), an upload-reply job over SMB (T-7), unknown flag bits (Q-1) and
//! TakeOwnership (Q-6); and bad input — an integrity level, a challenge scheme, IE settings
//! or a Q-8 value that does not exist, a step through a handle Q-9 refused — refused with a
//! positioned error while the oracle goes on.

use crate::oracle_line;

use serde_json::{Value, json};

/// The oracle's answer to one line (line number 1).
fn answer(line: &Value) -> Value {
    let text = line.to_string();
    match oracle_line::answer(1, text.as_bytes()) {
        Ok(json) => serde_json::from_str(&json).unwrap(),
        Err(json) => panic!("refused: {json}"),
    }
}

/// The oracle's error message for one line.
fn refusal(line: &str) -> String {
    match oracle_line::answer(3, line.as_bytes()) {
        Ok(json) => panic!("accepted: {json}"),
        Err(json) => {
            let v: Value = serde_json::from_str(&json).unwrap();
            v["error"].as_str().unwrap().to_owned()
        }
    }
}

fn tokens() -> Value {
    json!({
        "alice": {"user": "S-1-5-21-1-2-3-1001"},
        "bob": {"user": "S-1-5-21-1-2-3-1002"},
        "system": {"user": "S-1-5-18"},
        "network_service": {"user": "S-1-5-20"},
        "admin": {"user": "S-1-5-21-1-2-3-500",
                  "groups": [{"sid": "S-1-5-32-544", "attributes": 7}]},
        "admin_filtered": {"user": "S-1-5-21-1-2-3-500",
                           "groups": [{"sid": "S-1-5-32-544", "attributes": 16}]}
    })
}

fn line(job: Value, steps: Value) -> Value {
    json!({"tokens": tokens(), "job": job, "steps": steps})
}

/// `(hresult name, rule)` of each result.
fn results(v: &Value) -> Vec<(String, String)> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn last(v: &Value) -> (String, String) {
    results(v).pop().unwrap()
}

fn pair(name: &str, rule: &str) -> (String, String) {
    (name.to_owned(), rule.to_owned())
}

#[test]
fn a11_an_elevated_administrator_cannot_change_a_local_system_job() {
    // Not let through by the Q-2 bypass: A-11a (integrity level) refuses the changes.
    for step in [
        json!({"op": "set_helper_token_flags", "handle": 1, "flags": 2}),
        json!({"op": "set_helper_token", "handle": 1, "impersonating": "admin"}),
        json!({"op": "clear_helper_token", "handle": 1}),
    ] {
        let v = answer(&line(
            json!({"owner": "system"}),
            json!([{"op": "query_interface", "caller": "admin", "handle": 1}, step]),
        ));
        assert_eq!(last(&v), pair("E_ACCESSDENIED", "A-11"), "{step}");
    }
    // SPEC v3: A-11 (a) spares the reads (Q-10 `pass`), so the administrator reads the
    // flags (Q-2 lets it past the owner rule) — the issue's "may read but not change".
    for step in [
        json!({"op": "get_helper_token_flags", "handle": 1}),
        json!({"op": "get_helper_token_sid", "handle": 1}),
    ] {
        let v = answer(&line(
            json!({"owner": "system"}),
            json!([{"op": "query_interface", "caller": "admin", "handle": 1}, step]),
        ));
        assert_eq!(last(&v), pair("S_OK", "Q-2"), "{step}");
    }
    let v = answer(&line(
        json!({"owner": "system"}),
        json!([{"op": "take_ownership", "caller": "admin"}]),
    ));
    assert_eq!(last(&v), pair("E_ACCESSDENIED", "A-11"));
    assert_eq!(v["job"]["owner"], "S-1-5-18");
}

#[test]
fn a11_the_uac_split_refuses_the_same_user_from_a_non_elevated_window() {
    // Same SID as the elevated creator, so A-5 would grant; A-11b refuses first.
    let v = answer(&line(
        json!({"owner": "admin"}),
        json!([
            {"op": "query_interface", "caller": "admin_filtered", "handle": 1},
            {"op": "set_helper_token_flags", "handle": 1, "flags": 1},
            {"op": "query_interface", "caller": "admin", "handle": 2},
            {"op": "set_helper_token_flags", "handle": 2, "flags": 1}
        ]),
    ));
    let r = results(&v);
    assert_eq!(r[1], pair("E_ACCESSDENIED", "A-11"));
    assert_eq!(r[3].0, "S_OK");
    assert_eq!(v["job"]["owner_elevated"], true);
}

#[test]
fn l10_complete_on_an_upload_that_is_not_transferred_is_refused() {
    // Not BG_S_PARTIAL_COMPLETE with the job acknowledged.
    let v = answer(&line(
        json!({"owner": "alice", "type": "upload"}),
        json!([{"op": "resume"}, {"op": "complete"}]),
    ));
    assert_eq!(last(&v), pair("BG_E_INVALID_STATE", "L-10"));
    assert_eq!(v["job"]["state"], "queued");
}

#[test]
fn l9_resume_on_a_queued_job_answers_s_ok() {
    // Not S_FALSE.
    let v = answer(&line(
        json!({"owner": "alice"}),
        json!([{"op": "resume"}, {"op": "resume"}]),
    ));
    assert_eq!(last(&v), pair("S_OK", "L-9"));
}

#[test]
fn l5_a_logoff_leaves_a_job_that_never_held_a_token_untouched() {
    // Flags but no token: the logoff does not put the job in ERROR.
    let v = answer(&line(
        json!({"owner": "alice"}),
        json!([
            {"op": "query_interface", "caller": "alice", "handle": 1},
            {"op": "set_helper_token_flags", "handle": 1, "flags": 2},
            {"op": "resume"},
            {"op": "logoff_owner"}
        ]),
    ));
    assert_eq!(v["job"]["state"], "queued");
    assert_eq!(v["job"]["error"], Value::Null);
}

#[test]
fn l5_a_service_account_never_logs_off_but_a_service_stop_discards_the_token() {
    // A NetworkService "logoff" does not put the job in ERROR.
    let setup = json!([
        {"op": "query_interface", "caller": "network_service", "handle": 1},
        {"op": "set_helper_token", "handle": 1, "impersonating": "bob"},
        {"op": "set_helper_token_flags", "handle": 1, "flags": 2},
        {"op": "resume"},
        {"op": "logoff_owner"}
    ]);
    let v = answer(&line(json!({"owner": "network_service"}), setup.clone()));
    assert_eq!(last(&v).1, "L-5");
    assert_eq!(v["job"]["state"], "queued");
    assert_eq!(v["job"]["helper_token"], "S-1-5-21-1-2-3-1002");
    for end in ["service_stop", "helper_session_ended"] {
        let mut steps = setup.as_array().unwrap().clone();
        steps.push(json!({ "op": end }));
        let v = answer(&line(
            json!({"owner": "network_service"}),
            Value::Array(steps),
        ));
        assert_eq!(v["job"]["state"], "error", "{end}");
        assert_eq!(v["job"]["error"], "0x80200056", "{end}");
        assert_eq!(v["job"]["helper_token"], Value::Null, "{end}");
    }
}

#[test]
fn l6_q8_flags_without_a_token_fail_even_when_no_access_needs_the_helper() {
    // No access is routed to the helper, yet eager L-6 fails the transfer.
    let steps = json!([
        {"op": "query_interface", "caller": "alice", "handle": 1},
        {"op": "set_helper_token_flags", "handle": 1, "flags": 2},
        {"op": "resume"},
        {"op": "transfer"}
    ]);
    let job = json!({"owner": "alice", "proxy": "no_proxy"});
    let v = answer(&line(job.clone(), steps.clone()));
    assert_eq!(last(&v), pair("BG_E_TOKEN_REQUIRED", "L-6"));
    assert_eq!(v["job"]["state"], "error");
    // Q-8 lazy lets it transfer.
    let mut lazy = line(job, steps);
    lazy["knobs"] = json!({"token_check": "lazy"});
    assert_eq!(answer(&lazy)["job"]["state"], "transferred");
}

#[test]
fn x1_a_client_certificate_over_plain_http_transfers() {
    // Not 0x80072F9A: without TLS no certificate is presented.
    let steps = json!([
        {"op": "query_interface", "caller": "network_service", "handle": 1},
        {"op": "set_helper_token", "handle": 1, "impersonating": "bob"},
        {"op": "set_helper_token_flags", "handle": 1, "flags": 2},
        {"op": "resume"},
        {"op": "transfer"}
    ]);
    let http = json!({"owner": "network_service", "remote": "http", "client_certificate": true});
    assert_eq!(
        answer(&line(http, steps.clone()))["job"]["state"],
        "transferred"
    );
    let https = json!({"owner": "network_service", "remote": "https", "client_certificate": true});
    let v = answer(&line(https, steps));
    assert_eq!(last(&v).1, "X-1");
    assert_eq!(v["job"]["error"], "0x80072F9A");
}

#[test]
fn x3_a_challenge_nothing_answers_fails_with_401_or_407() {
    // Not a transfer: the job fails.
    let steps = json!([{"op": "resume"}, {"op": "transfer"}]);
    let server = json!({"owner": "alice", "challenges": {"server": ["ntlm"]}});
    let v = answer(&line(server, steps.clone()));
    assert_eq!(last(&v), pair("BG_E_HTTP_ERROR_401", "X-3"));
    assert_eq!(v["job"]["error"], "0x80190191");
    let proxy = json!({"owner": "alice", "proxy": "override", "challenges": {"proxy": ["basic"]}});
    let v = answer(&line(proxy, steps));
    assert_eq!(last(&v), pair("BG_E_HTTP_ERROR_407", "X-3"));
}

#[test]
fn t7_an_upload_reply_job_over_smb_cannot_exist() {
    // Not a job that transfers: the line is refused.
    let e = refusal(
        &line(
            json!({"owner": "alice", "type": "upload_reply", "remote": "smb"}),
            json!([]),
        )
        .to_string(),
    );
    assert_eq!(
        e,
        "line 3: job: an upload-reply job cannot use SMB (T-7: adding its file fails with E_INVALIDARG)"
    );
}

#[test]
fn q1_unknown_flag_bits_answer_e_notimpl() {
    // Not E_INVALIDARG.
    let v = answer(&line(
        json!({"owner": "alice"}),
        json!([
            {"op": "query_interface", "caller": "alice", "handle": 1},
            {"op": "set_helper_token_flags", "handle": 1, "flags": 4}
        ]),
    ));
    assert_eq!(last(&v), pair("E_NOTIMPL", "Q-1"));
    assert_eq!(v["job"]["flags"], 0);
}

#[test]
fn q6_take_ownership_drops_the_token_and_keeps_the_flags() {
    // The token is not kept.
    let v = answer(&line(
        json!({"owner": "alice"}),
        json!([
            {"op": "query_interface", "caller": "alice", "handle": 1},
            {"op": "set_helper_token", "handle": 1, "impersonating": "bob"},
            {"op": "set_helper_token_flags", "handle": 1, "flags": 3},
            {"op": "take_ownership", "caller": "admin"}
        ]),
    ));
    assert_eq!(last(&v).0, "S_OK");
    assert_eq!(v["job"]["helper_token"], Value::Null);
    assert_eq!(v["job"]["flags"], 3);
    assert_eq!(v["job"]["owner"], "S-1-5-21-1-2-3-500");
}

#[test]
fn bad_input_is_refused_where_it_is_and_the_oracle_goes_on() {
    let with = |job: Value, knobs: Value, steps: Value| {
        json!({"tokens": tokens(), "knobs": knobs, "job": job, "steps": steps}).to_string()
    };
    let with_token = |name: &str, token: Value, job: Value, steps: Value| {
        let mut all = tokens();
        all[name] = token;
        json!({"tokens": all, "job": job, "steps": steps}).to_string()
    };
    let mut bad_integrity = with(json!({"owner": "alice"}), json!({}), json!([]));
    bad_integrity = bad_integrity.replace(
        r#""S-1-5-21-1-2-3-1001"}"#,
        r#""S-1-5-21-1-2-3-1001","integrity":"ultra"}"#,
    );
    let cases = [
        (
            bad_integrity,
            "tokens.\"alice\": invalid value: string \"ultra\"",
        ),
        (
            with(
                json!({"owner": "alice", "challenges": {"server": ["basic", "kerberos"]}}),
                json!({}),
                json!([]),
            ),
            "invalid value: string \"kerberos\", expected one of \"basic\"",
        ),
        (
            with(
                json!({"owner": "alice", "ie_settings": "wpad"}),
                json!({}),
                json!([]),
            ),
            "invalid value: string \"wpad\", expected one of \"direct\"",
        ),
        (
            with(
                json!({"owner": "alice"}),
                json!({"token_check": "sometimes"}),
                json!([]),
            ),
            "invalid value: string \"sometimes\", expected one of \"eager\", \"lazy\"",
        ),
        // Contract 3's new fields: an unknown logon type, an unknown level, a restricting
        // SID named twice, both `level` and `can_impersonate`, a logged-off service
        // account, a restricted owner, a second file on a download.
        (
            with_token(
                "runas",
                json!({"user": "S-1-5-21-1-2-3-500", "logon": "runas"}),
                json!({"owner": "alice"}),
                json!([]),
            ),
            "tokens.\"runas\": invalid value: string \"runas\", expected one of \"interactive\"",
        ),
        (
            with(
                json!({"owner": "alice"}),
                json!({}),
                json!([{"op": "resume", "level": "none"}]),
            ),
            "invalid value: string \"none\", expected one of \"anonymous\"",
        ),
        (
            with_token(
                "r",
                json!({"user": "S-1-5-21-1-2-3-1001", "restricting_sids": ["S-1-5-12", "s-1-5-12"]}),
                json!({"owner": "alice"}),
                json!([]),
            ),
            "tokens.\"r\": restricting SID S-1-5-12 is named twice",
        ),
        (
            with(
                json!({"owner": "alice"}),
                json!({}),
                json!([
                    {"op": "query_interface", "caller": "alice", "handle": 1},
                    {"op": "set_helper_token", "handle": 1, "impersonating": "bob",
                     "level": "identify", "can_impersonate": false}
                ]),
            ),
            "step 2: give \"level\" or \"can_impersonate\", not both",
        ),
        (
            with(
                json!({"owner": "network_service", "owner_logged_on": false}),
                json!({}),
                json!([]),
            ),
            "job: a service account is always logged on (L-11)",
        ),
        (
            with_token(
                "r",
                json!({"user": "S-1-5-21-1-2-3-1001", "restricting_sids": ["S-1-5-12"]}),
                json!({"owner": "r"}),
                json!([]),
            ),
            "job: the owner token \"r\" is restricted and cannot have created the job (A-14)",
        ),
        (
            with(
                json!({"owner": "alice"}),
                json!({}),
                json!([{"op": "resume"}, {"op": "add_file"}]),
            ),
            "step 2: add_file: the model's download job already holds its file (L-15)",
        ),
    ];
    for (text, expected) in &cases {
        let e = refusal(text);
        assert!(
            e.starts_with("line 3: ") || e.starts_with("line 3, column "),
            "{e}"
        );
        assert!(e.contains(expected), "{e}\nexpected: {expected}");
        // Parse errors say where: a column of the line, once.
        if !expected.starts_with("step") && !expected.starts_with("job:") {
            assert!(e.starts_with("line 3, column "), "{e}");
            assert!(!e.contains(" at line "), "{e}");
        }
    }
    // The process answers every line of a stream, invalid ones included, in order.
    #[cfg(feature = "cli")]
    {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let good = line(json!({"owner": "alice"}), json!([{"op": "logon_owner"}])).to_string();
        let input: Vec<&str> = cases
            .iter()
            .map(|(t, _)| t.as_str())
            .chain([good.as_str()])
            .collect();
        let mut child = Command::new(env!("CARGO_BIN_EXE_bits-helper-token-oracle"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all((input.join("\n") + "\n").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let lines: Vec<Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), cases.len() + 1);
        for (n, v) in lines.iter().take(cases.len()).enumerate() {
            let e = v["error"].as_str().unwrap();
            // `line N: …` for a scenario the model refuses, `line N, column C: …` for a
            // line that is not a scenario.
            assert!(
                e.starts_with(&format!("line {}: ", n + 1))
                    || e.starts_with(&format!("line {}, column ", n + 1)),
                "{e}"
            );
        }
        assert_eq!(lines[cases.len()]["results"][0]["rule"], "L-8");
        assert_eq!(out.status.code(), Some(1));
    }
}

/// L-7 (SPEC v3; the oracle contract's class C7 and its worked line C, steps 6 to 9): the
/// owner logs off, the job waits (L-8); an elevated administrator takes ownership and the
/// job follows the new owner's logon state: it transfers.
#[test]
fn l7_take_ownership_rescues_a_logged_off_users_job() {
    let v = answer(&line(
        json!({"owner": "alice"}),
        json!([
            {"op": "resume"},
            {"op": "logoff_owner"},
            {"op": "transfer"},
            {"op": "take_ownership", "caller": "admin"},
            {"op": "transfer"}
        ]),
    ));
    assert_eq!(
        results(&v),
        [
            pair("S_OK", "L-9"),
            pair("S_OK", "L-8"),
            pair("S_FALSE", "L-8"),
            pair("S_OK", "Q-6"),
            pair("S_OK", "T-7"),
        ]
    );
    assert_eq!(v["job"]["state"], "transferred");
    assert_eq!(v["job"]["owner"], "S-1-5-21-1-2-3-500");
}
