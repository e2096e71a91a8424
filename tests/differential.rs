//! The differential harness against a deliberately wrong toy implementation: a BITS that
//! forgets the A-6 veto. The harness must find the disagreement and shrink it to a small
//! scenario that the oracle accepts. Then the harness's own contract: what a
//! disagreement report holds, how many cases run, and that a run is quiet.
#![cfg(feature = "proptest")]

#[path = "../examples/oracle/line.rs"]
mod oracle_line;

use bits_helper_token::scenario::{HandleName, Scenario, Step};
use bits_helper_token::support::harness::{
    Compare, Differential, Observed, SystemUnderTest, compare, run_differential,
};
use bits_helper_token::support::proptest::{AdminGroup, ScenarioParams, token};
use bits_helper_token::{HResult, Identity, Release, RuleId, Sid, Token, TokenInfo};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use std::collections::HashMap;

/// A toy reimplementation of IBitsTokenOptions (1607+ rules with the access gate A-11,
/// default knobs, methods only) with one planted bug: it never applies the A-6 veto.
struct ForgetsTheVeto;

impl SystemUnderTest for ForgetsTheVeto {
    fn run(&mut self, s: &Scenario) -> Result<Vec<Observed>, String> {
        let who = |name: &str| {
            s.tokens
                .get(name)
                .map(Identity::of)
                .ok_or(format!("no token {name}"))
        };
        let mut owner = who(&s.job.owner)?;
        if let Some(e) = s.job.owner_elevated {
            owner.elevated = e;
        }
        if let Some(i) = s.job.owner_integrity {
            owner.integrity = i;
        }
        let mut handles: HashMap<&HandleName, Identity> = HashMap::new();
        let (mut flags, mut helper): (u32, Option<Identity>) = (0, None);
        let mut out = Vec::new();
        for step in &s.steps {
            let access = |h: &HandleName| -> Result<Identity, HResult> {
                let caller = handles.get(h).copied().ok_or(HResult::E_FAIL)?;
                // A-11 first: integrity, then elevation; administrators do not bypass it.
                if caller.integrity < owner.integrity || (owner.elevated && !caller.elevated) {
                    return Err(HResult::E_ACCESSDENIED);
                }
                if caller.admin || caller.sid == owner.sid {
                    Ok(caller)
                } else {
                    Err(HResult::E_ACCESSDENIED)
                }
            };
            let hr = match step {
                Step::QueryInterface { caller, handle } => {
                    handles.insert(handle, who(caller)?);
                    HResult::S_OK
                }
                Step::SetHelperTokenFlags { handle, flags: f } => match access(handle) {
                    // BUG: no check of the stored helper token.
                    Ok(_) if f & !3 != 0 => HResult::E_NOTIMPL,
                    Ok(_) => {
                        flags = *f;
                        HResult::S_OK
                    }
                    Err(hr) => hr,
                },
                Step::SetHelperToken {
                    handle,
                    impersonating,
                    can_impersonate,
                } => match access(handle) {
                    Ok(_) if !can_impersonate => HResult::CO_E_FAILEDTOIMPERSONATE,
                    Ok(caller) => {
                        let token = who(impersonating)?;
                        if token.admin && !caller.admin {
                            HResult::E_ACCESSDENIED
                        } else {
                            helper = Some(token);
                            HResult::S_OK
                        }
                    }
                    Err(hr) => hr,
                },
                Step::ClearHelperToken { handle } => access(handle).map_or_else(
                    |hr| hr,
                    |_| {
                        helper = None;
                        HResult::S_OK
                    },
                ),
                Step::GetHelperTokenFlags { handle } | Step::GetHelperTokenSid { handle } => {
                    access(handle).map_or_else(|hr| hr, |_| HResult::S_OK)
                }
                other => return Err(format!("the toy does not model {}", other.op())),
            };
            out.push(Observed::hresult(hr));
        }
        let _ = flags;
        Ok(out)
    }
}

#[test]
fn the_harness_finds_and_shrinks_the_missing_veto() {
    let mut params = ScenarioParams::default();
    params.releases = vec![Release::Win10_1809];
    params.events = false;
    params.network = false;
    params.random_tokens = false;
    params.unknown_flags = false;
    let mut config = Differential::default();
    config.cases = 2000;
    config.mode = Compare::HResult;
    config.params = params;
    config.seed = Some([7; 32]);

    let d =
        run_differential(&mut ForgetsTheVeto, &config).expect_err("the planted bug must be found");
    println!("{d}");
    assert_eq!(d.error, None, "{d}");
    // The disagreement is the veto itself.
    let step = &d.scenario.steps[d.step - 1];
    assert!(matches!(step, Step::SetHelperTokenFlags { .. }), "{d}");
    let expected = d.expected.expect("the model answered");
    assert_eq!(expected.rule, RuleId::A6);
    assert_eq!(expected.hresult, HResult::E_ACCESSDENIED);
    assert_eq!(d.observed.as_ref().map(|o| o.hresult), Some(HResult::S_OK));
    // Shrunk: an administrator stores an administrator token, then the non-admin owner
    // sets flags — about four steps, nothing after the disagreement.
    assert!(
        d.scenario.steps.len() <= 6,
        "not shrunk: {} steps\n{d}",
        d.scenario.steps.len()
    );
    assert_eq!(
        d.step,
        d.scenario.steps.len(),
        "steps after the disagreement were not shrunk away"
    );
    // The vetoed caller is a non-administrator (A-6 binds only those).
    let Step::SetHelperTokenFlags { handle, .. } = step else {
        unreachable!()
    };
    let caller = d.scenario.steps.iter().find_map(|s| match s {
        Step::QueryInterface { caller, handle: h } if h == handle => Some(caller),
        _ => None,
    });
    let caller = Identity::of(&d.scenario.tokens[caller.expect("the handle was queried")]);
    assert!(!caller.admin, "{d}");
    assert_ne!(caller.sid, Sid::LOCAL_SYSTEM);

    // The printed JSON is a scenario the oracle accepts, and it answers A-6 at that step.
    let json = d.scenario_json();
    let answer =
        oracle_line::answer(1, json.as_bytes()).expect("the oracle accepts the shrunk scenario");
    let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(v["results"][d.step - 1]["rule"], "A-6");
}

#[test]
fn hresult_and_rule_mode_needs_rule_ids() {
    // A system that reports the right HRESULTs but no rule ids passes in HResult mode and
    // fails in HResultAndRule mode at the first step.
    struct NoRules;
    impl SystemUnderTest for NoRules {
        fn run(&mut self, s: &Scenario) -> Result<Vec<Observed>, String> {
            let t = s.run().map_err(|e| e.to_string())?;
            Ok(t.results
                .iter()
                .map(|r| Observed::hresult(r.hresult))
                .collect())
        }
    }
    let mut config = Differential::default();
    config.cases = 64;
    config.seed = Some([1; 32]);
    let report = run_differential(&mut NoRules, &config).expect("same HRESULTs");
    assert_eq!(report.cases, 64);
    assert!(report.steps >= 64);
    config.mode = Compare::HResultAndRule;
    let d = run_differential(&mut NoRules, &config).expect_err("no rule ids");
    assert_eq!(d.step, 1);
    // One step, plus at most the query_interface that defines its handle.
    assert!(d.scenario.steps.len() <= 2, "not shrunk:\n{d}");
}

/// Answers with fixed results, whatever the scenario.
struct Fixed(Result<Vec<Observed>, String>);

impl SystemUnderTest for Fixed {
    fn run(&mut self, _: &Scenario) -> Result<Vec<Observed>, String> {
        self.0.clone()
    }
}

/// The model itself, counting the scenarios it is given.
struct CountingModel(u32);

impl SystemUnderTest for CountingModel {
    fn run(&mut self, s: &Scenario) -> Result<Vec<Observed>, String> {
        self.0 += 1;
        let t = s.run().map_err(|e| e.to_string())?;
        Ok(t.results
            .iter()
            .map(|r| Observed::with_rule(r.hresult, r.rule))
            .collect())
    }
}

fn one_query() -> Scenario {
    let mut s = Scenario::new("svc");
    s.tokens.insert("svc".into(), TokenInfo::network_service());
    s.steps.push(Step::QueryInterface {
        caller: "svc".into(),
        handle: "h".into(),
    });
    s
}

#[test]
fn a_disagreement_says_which_step_both_answers_and_the_scenario_line() {
    let s = one_query();
    let tail = |d: &bits_helper_token::support::harness::Disagreement| {
        format!(
            "\nscenario (one line, for `cargo run --example oracle`):\n{}",
            d.scenario_json()
        )
    };
    // A different HRESULT at step 1.
    let wrong = vec![Observed::hresult(HResult::E_ACCESSDENIED)];
    let d = compare(&mut Fixed(Ok(wrong)), &s, Compare::HResult).unwrap_err();
    assert_eq!(
        d.to_string(),
        format!(
            "step 1 (query_interface): the model says query_interface returns 0x00000000 (S_OK): \
             A-1: QueryInterface succeeds and the handle remembers the caller S-1-5-20\n\
             the system under test says 0x80070005 (E_ACCESSDENIED) (rule -){}",
            tail(&d)
        )
    );
    // The last line is the scenario, as the oracle reads it.
    let line = d.to_string().lines().last().unwrap().to_string();
    assert_eq!(serde_json::from_str::<Scenario>(&line).unwrap(), s);
    // More results than steps, fewer results than steps, no results at all.
    let extra = vec![
        Observed::with_rule(HResult::S_OK, RuleId::A1),
        Observed::hresult(HResult::S_OK),
    ];
    let d = compare(&mut Fixed(Ok(extra)), &s, Compare::HResultAndRule).unwrap_err();
    assert_eq!(
        d.to_string(),
        format!(
            "step 2 (?): the model has no such step\n\
             the system under test says 0x00000000 (S_OK) (rule -){}",
            tail(&d)
        )
    );
    let d = compare(&mut Fixed(Ok(vec![])), &s, Compare::HResult).unwrap_err();
    assert_eq!(
        d.to_string(),
        format!(
            "step 1 (query_interface): the model says query_interface returns 0x00000000 (S_OK): \
             A-1: QueryInterface succeeds and the handle remembers the caller S-1-5-20\n\
             the system under test gave no result{}",
            tail(&d)
        )
    );
    let d = compare(&mut Fixed(Err("boom".into())), &s, Compare::HResult).unwrap_err();
    assert_eq!(
        d.to_string(),
        format!(
            "the system under test could not run the scenario: boom{}",
            tail(&d)
        )
    );
}

#[test]
fn run_differential_generates_config_cases_scenarios() {
    for cases in [1, 7] {
        let mut sut = CountingModel(0);
        let mut config = Differential::default();
        config.cases = cases;
        config.seed = Some([7; 32]);
        let report = run_differential(&mut sut, &config).unwrap();
        assert_eq!(report.cases, cases);
        assert_eq!(sut.0, cases, "the system under test ran once per case");
    }
}

#[test]
fn generated_tokens_have_everyone_users_and_the_administrators_group_asked_for() {
    let mut runner = TestRunner::deterministic();
    let count = |t: &TokenInfo, sid: Sid| t.groups.iter().filter(|g| g.sid == sid).count();
    for admin in AdminGroup::ALL {
        let strategy = token(Just(admin));
        for _ in 0..64 {
            let t = strategy.new_tree(&mut runner).unwrap().current();
            assert_eq!(count(&t, Sid::EVERYONE), 1, "{t:?}");
            assert_eq!(count(&t, Sid::BUILTIN_USERS), 1, "{t:?}");
            let admins = count(&t, Sid::BUILTIN_ADMINISTRATORS);
            assert_eq!(admins, usize::from(admin != AdminGroup::Absent), "{t:?}");
            assert_eq!(t.has_admin_enabled(), admin == AdminGroup::Enabled, "{t:?}");
            assert_eq!(t.groups.len(), 2 + admins, "{t:?}");
        }
    }
    // `any::<TokenInfo>()` is the same strategy over every AdminGroup.
    let strategy = any::<TokenInfo>();
    for _ in 0..64 {
        let t = strategy.new_tree(&mut runner).unwrap().current();
        assert_eq!(count(&t, Sid::BUILTIN_USERS), 1, "{t:?}");
    }
}

/// Run in a child process by `run_differential_prints_no_proptest_warnings`.
#[test]
#[ignore = "run in a child process by run_differential_prints_no_proptest_warnings"]
fn child_runs_an_agreeing_differential() {
    let mut config = Differential::default();
    config.cases = 2;
    config.seed = Some([1; 32]);
    run_differential(&mut CountingModel(0), &config).unwrap();
}

/// The harness keeps no proptest failure files (it has no source file to put them beside),
/// so proptest has nothing to warn about: a run prints nothing on stderr.
#[cfg(not(windows))]
#[test]
fn run_differential_prints_no_proptest_warnings() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_runs_an_agreeing_differential",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("1 passed"),
        "the child ran the test: {stdout}"
    );
    assert!(!stderr.contains("proptest:"), "{stderr}");
}
