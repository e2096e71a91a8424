//! Mutation testing (issue 7, item 2): the `proptest` support — strategies and the
//! differential harness (README "The oracle"). Each test pins a documented behaviour that
//! a surviving `cargo mutants` mutant showed no other test pinned.
#![cfg(feature = "proptest")]

use bits_helper_token::scenario::{Scenario, Step};
use bits_helper_token::support::harness::{
    Compare, Differential, Observed, SystemUnderTest, compare, run_differential,
};
use bits_helper_token::support::proptest::{AdminGroup, token};
use bits_helper_token::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

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
            "step 1 (query_interface): the model says 0x00000000 (S_OK) (rule A-1), the system \
             under test 0x80070005 (E_ACCESSDENIED) (rule -){}",
            tail(&d)
        )
    );
    // The last line is the scenario, as the oracle reads it.
    let line = d.to_string().lines().last().unwrap().to_string();
    assert_eq!(serde_json::from_str::<Scenario>(&line).unwrap(), s);
    // More results than steps, fewer results than steps, no results at all.
    let extra = vec![
        Observed::with_rule(HResult::S_OK, "A-1"),
        Observed::hresult(HResult::S_OK),
    ];
    let d = compare(&mut Fixed(Ok(extra)), &s, Compare::HResultAndRule).unwrap_err();
    assert_eq!(
        d.to_string(),
        format!(
            "step 2 (?): the model has no such step, the system under test 0x00000000 (S_OK) \
             (rule -){}",
            tail(&d)
        )
    );
    let d = compare(&mut Fixed(Ok(vec![])), &s, Compare::HResult).unwrap_err();
    assert_eq!(
        d.to_string(),
        format!(
            "step 1 (query_interface): the model says 0x00000000 (S_OK) (rule A-1), the system \
             under test gave no result{}",
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
