//! Oracle contract 3 (`../shared/oracle-contract-v3.md`): its worked lines A–E answer
//! exactly as the document writes them (computed by hand from SPEC v3, not by the model),
//! and every row of the "Fidelity v3" table answers as SPEC v3 says.

use crate::oracle_line;

use serde_json::{Value, json};

/// The oracle's answer to one line.
fn answer(line: &Value) -> Value {
    match oracle_line::answer(1, line.to_string().as_bytes()) {
        Ok(json) => serde_json::from_str(&json).unwrap(),
        Err(json) => panic!("refused: {json}\n{line}"),
    }
}

/// `(name, rule)` of each result.
fn results(v: &Value) -> Vec<(String, String)> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"]
                    .as_str()
                    .unwrap_or_else(|| r["hresult"].as_str().unwrap())
                    .to_string(),
                r["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(n, r)| (n.to_string(), r.to_string()))
        .collect()
}

fn alice() -> Value {
    json!({"user": "S-1-5-21-1-2-3-1001"})
}
fn bob() -> Value {
    json!({"user": "S-1-5-21-1-2-3-1002"})
}
fn admin() -> Value {
    json!({"user": "S-1-5-21-1-2-3-500", "groups": [{"sid": "S-1-5-32-544", "attributes": 15}]})
}

/// Line A: a RunAs administrator gets ERROR_NOT_LOGGED_ON, then BG_E_EMPTY (L-11, L-15, L-9).
#[test]
fn worked_line_a_runas_administrator() {
    let v = answer(&json!({
        "tokens": {"admin_runas": {"user": "S-1-5-21-1-2-3-500", "groups": [{"sid": "S-1-5-32-544", "attributes": 15}], "logon": "secondary"}},
        "job": {"owner": "admin_runas", "files": 0},
        "steps": [{"op": "add_file"}, {"op": "resume"}, {"op": "logon_owner"},
                  {"op": "add_file"}, {"op": "resume"}, {"op": "transfer"}]
    }));
    assert_eq!(
        v,
        json!({"results": [{"hresult": "0x800704DD", "name": "ERROR_NOT_LOGGED_ON", "rule": "L-15"},
                     {"hresult": "0x80200003", "name": "BG_E_EMPTY", "rule": "L-9"},
                     {"hresult": "0x00000000", "name": "S_OK", "rule": "L-8"},
                     {"hresult": "0x00000000", "name": "S_OK", "rule": "L-15"},
                     {"hresult": "0x00000000", "name": "S_OK", "rule": "L-9"},
                     {"hresult": "0x00000000", "name": "S_OK", "rule": "T-7"}],
         "job": {"state": "transferred", "error": null, "flags": 0, "helper_token": null,
                 "owner": "S-1-5-21-1-2-3-500", "owner_elevated": true, "owner_integrity": "high",
                 "owner_logged_on": true, "files": 1, "client_certificate": false, "proxy": "preconfig",
                 "credentials": {"server": {}, "proxy": {}}, "use_stored_credentials": false}})
    );
}

/// Line B: a challenge is a set; under v2, step 5 answered 0x80190191.
#[test]
fn worked_line_b_a_challenge_is_a_set() {
    let v = answer(&json!({
        "tokens": {"alice": alice()},
        "job": {"owner": "alice", "challenges": {"server": ["basic", "negotiate"]}},
        "steps": [{"op": "set_credentials", "target": "server", "scheme": "basic", "credential": "explicit"},
                  {"op": "route", "access": "server_challenge"},
                  {"op": "route", "access": "server_challenge_negotiate"},
                  {"op": "resume"}, {"op": "transfer"},
                  {"op": "set_credentials", "target": "server", "scheme": "negotiate", "credential": "implicit"},
                  {"op": "route", "access": "server_challenge"}]
    }));
    assert_eq!(
        v,
        json!({"results": [{"hresult": "0x00000000", "name": "S_OK", "rule": "R-5"},
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
                 "use_stored_credentials": false}})
    );
}

/// Line C: a transfer in progress, network loss, a logoff's requeue, a takeover (L-14,
/// L-13, L-8, L-7).
#[test]
fn worked_line_c_transfer_network_logoff_takeover() {
    let v = answer(&json!({
        "tokens": {"alice": alice(), "admin": admin()},
        "job": {"owner": "alice"},
        "steps": [{"op": "resume"}, {"op": "start_transfer"}, {"op": "network_lost"}, {"op": "network_restored"},
                  {"op": "start_transfer", "to": "connecting"}, {"op": "logoff_owner"}, {"op": "transfer"},
                  {"op": "take_ownership", "caller": "admin"}, {"op": "transfer"}]
    }));
    assert_eq!(
        results(&v),
        pairs(&[
            ("S_OK", "L-9"),
            ("S_OK", "L-14"),
            ("S_OK", "L-13"),
            ("S_OK", "L-13"),
            ("S_OK", "L-14"),
            ("S_OK", "L-8"),
            ("S_FALSE", "L-8"),
            ("S_OK", "Q-6"),
            ("S_OK", "T-7"),
        ])
    );
    assert_eq!(
        v["job"],
        json!({"state": "transferred", "error": null, "flags": 0, "helper_token": null,
               "owner": "S-1-5-21-1-2-3-500", "owner_elevated": true, "owner_integrity": "high",
               "owner_logged_on": true, "files": 1, "client_certificate": false, "proxy": "preconfig",
               "credentials": {"server": {}, "proxy": {}}, "use_stored_credentials": false})
    );
    // The states between the steps, as the document lists them.
    let states = |n: usize| {
        let mut line = json!({
            "tokens": {"alice": alice(), "admin": admin()},
            "job": {"owner": "alice"},
            "steps": [{"op": "resume"}, {"op": "start_transfer"}, {"op": "network_lost"}, {"op": "network_restored"},
                      {"op": "start_transfer", "to": "connecting"}, {"op": "logoff_owner"}]
        });
        line["steps"].as_array_mut().unwrap().truncate(n);
        let v = answer(&line);
        (v["job"]["state"].clone(), v["job"]["error"].clone())
    };
    assert_eq!(states(1), (json!("queued"), Value::Null));
    assert_eq!(states(2), (json!("transferring"), Value::Null));
    assert_eq!(states(3), (json!("transient_error"), json!("0x80200010")));
    assert_eq!(states(4), (json!("queued"), Value::Null));
    assert_eq!(states(5), (json!("connecting"), Value::Null));
    assert_eq!(states(6), (json!("queued"), Value::Null));
}

/// Line D: callers on job methods, restricted tokens, levels, skipped steps (A-13, A-14,
///
#[test]
fn worked_line_d_callers_restricted_levels_skipped() {
    let v = answer(&json!({
        "tokens": {"alice": alice(), "bob": bob(), "admin": admin(),
                   "alice_restricted": {"user": "S-1-5-21-1-2-3-1001", "restricting_sids": ["S-1-5-12"]}},
        "job": {"owner": "alice"},
        "steps": [
            {"op": "cancel", "caller": "alice_restricted"},
            {"op": "set_credentials", "caller": "admin", "target": "server", "scheme": "ntlm", "credential": "implicit"},
            {"op": "set_proxy_usage", "caller": "admin", "usage": "override"},
            {"op": "set_proxy_usage", "caller": "bob", "usage": "no_proxy"},
            {"op": "query_interface", "caller": "bob", "handle": 1},
            {"op": "get_helper_token_flags", "handle": 1},
            {"op": "query_interface", "caller": "alice", "handle": 2, "level": "anonymous"},
            {"op": "query_interface", "caller": "alice", "handle": 3},
            {"op": "set_helper_token", "handle": 3, "impersonating": "bob", "level": "identify"}
        ]
    }));
    let hr = |r: &Value| {
        (
            r["hresult"].as_str().unwrap().to_string(),
            r["rule"].as_str().unwrap().to_string(),
            r.get("skipped").is_some(),
        )
    };
    let got: Vec<_> = v["results"].as_array().unwrap().iter().map(hr).collect();
    let want = [
        ("0x80070005", "A-14", false),
        ("0x80070005", "A-13", false),
        ("0x00000000", "R-7", false),
        ("0x80070005", "A-13", false),
        ("0x80070005", "A-5", false),
        ("0x80070005", "A-5", true),
        ("0x80070005", "A-9", false),
        ("0x00000000", "A-1", false),
        ("0x80010123", "A-9", false),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(h, r, s)| (h.to_string(), r.to_string(), *s))
        .collect();
    assert_eq!(got, want);
    assert_eq!(v["results"][5]["skipped"], json!(true));
    assert_eq!(v["job"]["state"], "suspended");
    assert_eq!(v["job"]["proxy"], "override");
    assert_eq!(v["job"]["credentials"], json!({"server": {}, "proxy": {}}));
}

/// Line E: a service account and the computer's credentials, at the defaults,
/// with `service_proxy_credentials: none`, and without Kerberos.
#[test]
fn worked_line_e_service_account_and_the_computer() {
    let line = |knobs: Value, environment: Value| {
        answer(&json!({
            "knobs": knobs, "environment": environment,
            "tokens": {"svc": {"user": "S-1-5-20"}},
            "job": {"owner": "svc", "proxy": "override", "challenges": {"proxy": ["ntlm"], "server": ["negotiate"]}},
            "steps": [
                {"op": "set_credentials", "target": "proxy", "scheme": "negotiate", "credential": "implicit"},
                {"op": "route", "access": "proxy_challenge"},
                {"op": "route", "access": "proxy_challenge_ntlm"},
                {"op": "route", "access": "server_challenge"},
                {"op": "resume"}, {"op": "transfer"}
            ]
        }))
    };
    let value = |v: &Value, i: usize| v["results"][i]["value"].clone();
    let defaults = line(json!({}), json!({}));
    assert_eq!(
        results(&defaults),
        pairs(&[
            ("S_OK", "R-3"),
            ("S_OK", "R-6"),
            ("S_OK", "R-6"),
            ("S_OK", "R-6"),
            ("S_OK", "L-9"),
            ("S_OK", "T-7")
        ])
    );
    assert_eq!(
        value(&defaults, 1),
        json!({"identity": "computer", "scheme": "ntlm"})
    );
    assert_eq!(value(&defaults, 2), json!({"identity": "computer"}));
    assert_eq!(
        value(&defaults, 3),
        json!({"identity": "computer", "scheme": "negotiate"})
    );

    let none = line(json!({"service_proxy_credentials": "none"}), json!({}));
    assert_eq!(
        results(&none),
        pairs(&[
            ("S_OK", "R-3"),
            ("BG_E_HTTP_ERROR_407", "X-3"),
            ("BG_E_HTTP_ERROR_407", "Q-12"),
            ("S_OK", "R-6"),
            ("S_OK", "L-9"),
            ("BG_E_HTTP_ERROR_407", "X-3")
        ])
    );
    assert_eq!(value(&none, 1), json!({"identity": "unanswered"}));
    assert_eq!(
        value(&none, 2),
        json!({"identity": "no_implicit_credentials"})
    );
    assert_eq!(
        value(&none, 3),
        json!({"identity": "computer", "scheme": "negotiate"})
    );

    // No Kerberos: steps 2 to 4 find no usable credentials; the proxy fails first.
    let no_kerberos = line(json!({}), json!({"kerberos": false}));
    for i in 1..=3 {
        assert_ne!(
            no_kerberos["results"][i]["hresult"],
            "0x00000000",
            "step {}",
            i + 1
        );
    }
    assert_eq!(no_kerberos["results"][5]["hresult"], "0x80190197");
}

/// The "Fidelity v3" table, row by row (the rows the worked lines do not already cover).
#[test]
fn a_local_system_job_meets_ntlm_and_negotiate_with_a_negotiate_entry() {
    // the computer answers the set through the Negotiate entry.
    let v = answer(&json!({
        "tokens": {"system": {"user": "S-1-5-18"}},
        "job": {"owner": "system", "challenges": {"server": ["ntlm", "negotiate"]}},
        "steps": [
            {"op": "set_credentials", "target": "server", "scheme": "negotiate", "credential": "implicit"},
            {"op": "route", "access": "server_challenge"},
            {"op": "resume"}, {"op": "transfer"}
        ]
    }));
    assert_eq!(
        v["results"][1]["value"],
        json!({"identity": "computer", "scheme": "negotiate"})
    );
    assert_eq!(v["results"][3]["rule"], "T-7");
    assert_eq!(v["job"]["state"], "transferred");
}

#[test]
fn an_ntlm_entry_gives_local_system_nothing_against_negotiate() {
    // the entry's scheme decides; an NTLM entry never presents the computer.
    let v = answer(&json!({
        "tokens": {"system": {"user": "S-1-5-18"}},
        "job": {"owner": "system", "challenges": {"server": ["negotiate"]}},
        "steps": [
            {"op": "set_credentials", "target": "server", "scheme": "ntlm", "credential": "implicit"},
            {"op": "route", "access": "server_challenge_negotiate"},
            {"op": "resume"}, {"op": "transfer"}
        ]
    }));
    assert_eq!(
        (
            v["results"][1]["rule"].clone(),
            v["results"][1]["value"].clone()
        ),
        (json!("R-6"), json!({"identity": "no_implicit_credentials"}))
    );
    assert_eq!(v["results"][3]["hresult"], "0x80190191");
}

#[test]
fn every_job_method_on_a_local_system_job_is_guarded() {
    // an elevated administrator (High) cannot change a LocalSystem job (System)
    // with any job method; a standard user is refused too; only owner-only methods name A-13.
    let steps: Vec<Value> = [
        json!({"op": "cancel"}),
        json!({"op": "complete"}),
        json!({"op": "resume"}),
        json!({"op": "suspend"}),
        json!({"op": "add_file"}),
        json!({"op": "set_credentials", "target": "server", "scheme": "negotiate", "credential": "implicit"}),
        json!({"op": "remove_credentials", "target": "server", "scheme": "negotiate"}),
        json!({"op": "set_proxy_usage", "usage": "no_proxy"}),
        json!({"op": "set_client_certificate", "present": true}),
        json!({"op": "set_job_property", "property": "use_stored_credentials", "target": "proxy"}),
    ]
    .into_iter()
    .flat_map(|s| {
        ["admin", "alice"].map(|caller| {
            let mut s = s.clone();
            s["caller"] = json!(caller);
            s
        })
    })
    .collect();
    let v = answer(&json!({
        "tokens": {"system": {"user": "S-1-5-18", "groups": [{"sid": "S-1-5-32-544", "attributes": 15}]},
                   "admin": admin(), "alice": alice()},
        "job": {"owner": "system"},
        "steps": steps
    }));
    for (i, r) in v["results"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            (r["hresult"].as_str(), r["rule"].as_str()),
            (Some("0x80070005"), Some("A-11")),
            "step {}",
            i + 1
        );
    }
    assert_eq!(v["job"]["state"], "suspended");
    // Without the gate in the way (Alice's job), an administrator may change it, but only
    // the owner sets credentials or a certificate.
    let v = answer(&json!({
        "tokens": {"admin": admin(), "alice": alice()},
        "job": {"owner": "alice"},
        "steps": [
            {"op": "suspend", "caller": "admin"},
            {"op": "set_credentials", "caller": "admin", "target": "proxy", "scheme": "ntlm", "credential": "implicit"},
            {"op": "set_client_certificate", "caller": "admin", "present": true},
            {"op": "set_client_certificate", "caller": "admin", "present": false},
            {"op": "cancel", "caller": "admin"}
        ]
    }));
    assert_eq!(
        results(&v),
        pairs(&[
            ("S_OK", "L-12"),
            ("E_ACCESSDENIED", "A-13"),
            ("E_ACCESSDENIED", "A-13"),
            ("S_FALSE", "R-4"),
            ("S_OK", "T-7")
        ])
    );
}

#[test]
fn a_client_certificate_the_server_asks_for_is_gone_after_take_ownership() {
    // X-4 after L-7: TakeOwnership removes the certificate; the HTTPS server asks for one.
    let v = answer(&json!({
        "tokens": {"alice": alice(), "admin": admin()},
        "job": {"owner": "alice", "client_certificate": true, "server_requests_certificate": true},
        "steps": [{"op": "take_ownership", "caller": "admin"}, {"op": "resume"}, {"op": "transfer"}]
    }));
    assert_eq!(
        results(&v),
        pairs(&[
            ("S_OK", "Q-6"),
            ("S_OK", "L-9"),
            ("ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED", "X-4")
        ])
    );
    assert_eq!(v["job"]["error"], "0x80072F0C");
    assert_eq!(v["job"]["client_certificate"], false);
}

#[test]
fn use_stored_credentials_allows_implicit_proxy_credentials() {
    // R-3 (iv): the proxy's NTLM challenge is answered by the owner once the property is
    // set; the server is not (reading).
    let v = answer(&json!({
        "tokens": {"alice": alice()},
        "job": {"owner": "alice", "proxy": "override", "challenges": {"proxy": ["ntlm"]}},
        "steps": [
            {"op": "route", "access": "proxy_challenge"},
            {"op": "set_job_property", "property": "use_stored_credentials", "target": "proxy"},
            {"op": "route", "access": "proxy_challenge"},
            {"op": "resume"}, {"op": "transfer"}
        ]
    }));
    assert_eq!(v["results"][0]["hresult"], "0x80190197");
    assert_eq!(v["results"][2]["value"]["identity"], "owner");
    assert_eq!(v["results"][4]["rule"], "T-7");
    assert_eq!(v["job"]["use_stored_credentials"], true);
}

#[test]
fn a_suspended_job_and_a_network_loss_and_a_logoff_mid_transfer() {
    // L-12, L-13, L-8: Suspend clears a transient error; a logoff requeues a running job.
    let v = answer(&json!({
        "tokens": {"alice": alice()},
        "job": {"owner": "alice", "state": "transferring"},
        "steps": [{"op": "network_lost"}, {"op": "suspend"}, {"op": "resume"},
                  {"op": "start_transfer"}, {"op": "network_restored"},
                  {"op": "start_transfer"}, {"op": "logoff_owner"}, {"op": "logon_owner"},
                  {"op": "start_transfer"}, {"op": "transfer"}]
    }));
    assert_eq!(
        results(&v),
        pairs(&[
            ("S_OK", "L-13"),
            ("S_OK", "L-12"),
            ("S_OK", "L-9"),
            ("S_FALSE", "L-13"),
            ("S_OK", "L-13"),
            ("S_OK", "L-14"),
            ("S_OK", "L-8"),
            ("S_OK", "L-8"),
            ("S_OK", "L-14"),
            ("S_OK", "T-7")
        ])
    );
}

#[test]
fn a_refused_query_interface_is_answered_at_query_interface() {
    // Q-9's default: refused at QueryInterface; `per_call` hands out the handle and the
    // method refuses.
    let line = |knobs: Value| {
        answer(&json!({
            "knobs": knobs,
            "tokens": {"alice": alice(), "bob": bob()},
            "job": {"owner": "alice"},
            "steps": [{"op": "query_interface", "caller": "bob", "handle": 1},
                      {"op": "set_helper_token_flags", "handle": 1, "flags": 1}]
        }))
    };
    let v = line(json!({}));
    assert_eq!(
        results(&v),
        pairs(&[("E_ACCESSDENIED", "A-5"), ("E_ACCESSDENIED", "A-5")])
    );
    assert_eq!(v["results"][1]["skipped"], true);
    let v = line(json!({"access_check": "per_call"}));
    assert_eq!(
        results(&v),
        pairs(&[("S_OK", "A-1"), ("E_ACCESSDENIED", "A-5")])
    );
    assert!(v["results"][1].get("skipped").is_none());
}
