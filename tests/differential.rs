//! The differential harness against deliberately wrong implementations: a toy BITS that
//! forgets the A-6 veto, and three BITSes built on the model with one planted bug each (a
//! getter that answers a wrong value, `SetHelperToken` judged by the call-time identity
//! instead of the one remembered at `QueryInterface`, a missing A-11 gate). The harness must
//! find each disagreement, with values compared, and shrink it to at most three steps and
//! the tokens they use, with the model's explanation in the report and a scenario the oracle
//! accepts. Then the harness's own contract: each comparison level, what a report holds,
//! how many cases run, and that a run is quiet.

use crate::common::test_in_child;
use crate::oracle_line;

use bits_helper_token::scenario::{HandleName, Scenario, Step};
use bits_helper_token::scenario::{Session, StepValue};
use bits_helper_token::support::harness::{
    Compare, Differential, Disagreement, JobSnapshot, Mismatch, Observed, SystemUnderTest, compare,
    minimize, observe, run_differential,
};
use bits_helper_token::support::proptest::{AdminGroup, ScenarioParams, token};
use bits_helper_token::{
    HResult, Identity, RuleId, Sid, Token, TokenUsage, profile::Release, token::ImpersonationLevel,
    token::IntegrityLevel, token::TokenInfo,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use std::collections::BTreeSet;
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
        // A handle: the identity remembered, or QueryInterface's refusal (Q-9's default).
        let mut handles: HashMap<&HandleName, Result<Identity, HResult>> = HashMap::new();
        let (mut flags, mut helper): (u32, Option<Identity>) = (0, None);
        let mut out = Vec::new();
        let denied = HResult::E_ACCESSDENIED;
        for step in &s.steps {
            let level = step.level().map_err(|e| e.to_string())?.unwrap_or_default();
            // A-9, A-11 (integrity for changes, elevation always), A-14, then the owner rule.
            let judge = |caller: Identity, changes: bool| -> Result<Identity, HResult> {
                if level == ImpersonationLevel::Anonymous {
                    return Err(denied);
                }
                if (changes && caller.integrity < owner.integrity)
                    || (owner.elevated && !caller.elevated)
                    || (changes && caller.restricted)
                {
                    return Err(denied);
                }
                if caller.admin || caller.sid == owner.sid {
                    Ok(caller)
                } else {
                    Err(denied)
                }
            };
            let access = |h: &HandleName, changes: bool| -> Result<Identity, HResult> {
                let caller = handles.get(h).copied().ok_or(HResult::E_FAIL)??;
                judge(caller, changes)
            };
            let hr = match step {
                Step::QueryInterface { caller, handle, .. } => {
                    let r = judge(who(caller)?, false);
                    handles.insert(handle, r);
                    r.err().unwrap_or(HResult::S_OK)
                }
                Step::SetHelperTokenFlags {
                    handle, flags: f, ..
                } => match access(handle, true) {
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
                    ..
                } => match access(handle, true) {
                    Ok(_) if !level.can_impersonate() => HResult::CO_E_FAILEDTOIMPERSONATE,
                    Ok(caller) => {
                        let token = who(impersonating)?;
                        if token.admin && !caller.admin {
                            denied
                        } else {
                            helper = Some(token);
                            HResult::S_OK
                        }
                    }
                    Err(hr) => hr,
                },
                Step::ClearHelperToken { handle, .. } => access(handle, true).map_or_else(
                    |hr| hr,
                    |_| {
                        helper = None;
                        HResult::S_OK
                    },
                ),
                Step::GetHelperTokenFlags { handle, .. }
                | Step::GetHelperTokenSid { handle, .. } => {
                    access(handle, false).map_or_else(|hr| hr, |_| HResult::S_OK)
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
    config = config.with_seed(7);

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
        Step::QueryInterface {
            caller, handle: h, ..
        } if h == handle => Some(caller),
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

/// The model, reporting only what `level` asks for: the HRESULT, then the value, then the
/// job after each step, then the rule.
struct ReportsUpTo(Compare);

impl SystemUnderTest for ReportsUpTo {
    fn run(&mut self, s: &Scenario) -> Result<Vec<Observed>, String> {
        let mut session = Session::new(s).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for step in &s.steps {
            let r = session.step(step).map_err(|e| e.to_string())?;
            let mut o = Observed::hresult(r.hresult);
            o.value = (self.0 >= Compare::Values).then_some(r.value).flatten();
            if self.0 >= Compare::Job {
                o = o.with_job(JobSnapshot::of(session.job()));
            }
            if self.0 >= Compare::Rules {
                o = o.with_rule(r.rule);
            }
            out.push(o);
        }
        Ok(out)
    }
}

#[test]
fn each_comparison_level_needs_its_part_of_the_answer() {
    let levels = [
        Compare::HResult,
        Compare::Values,
        Compare::Job,
        Compare::Rules,
    ];
    assert_eq!(
        Compare::default(),
        Compare::Values,
        "values are compared by default"
    );
    let mut config = Differential::default();
    config.cases = 64;
    config = config.with_seed(1);
    for (i, &reports) in levels.iter().enumerate() {
        for (j, &mode) in levels.iter().enumerate() {
            config.mode = mode;
            let result = run_differential(&mut ReportsUpTo(reports), &config);
            if j <= i {
                let report = result.unwrap_or_else(|d| panic!("{reports:?} at {mode:?}:\n{d}"));
                assert!(report.steps >= 64);
            } else {
                let d = result.expect_err("a level the system does not report must fail");
                let kind = |level| match level {
                    Compare::Values => Mismatch::Value,
                    Compare::Job => Mismatch::Job,
                    _ => Mismatch::Rule,
                };
                // One of the parts it does not report, the next level's when only that is asked.
                let missing: Vec<Mismatch> = levels[i + 1..=j].iter().map(|&l| kind(l)).collect();
                assert!(
                    d.mismatch.is_some_and(|m| missing.contains(&m)),
                    "{reports:?} at {mode:?}:\n{d}"
                );
                if j == i + 1 {
                    assert_eq!(d.mismatch, Some(kind(mode)), "{d}");
                }
                assert_eq!(d.step, d.scenario.steps.len(), "{d}");
                // One step, plus at most the query_interface that defines its handle.
                assert!(d.scenario.steps.len() <= 2, "not shrunk:\n{d}");
            }
        }
    }
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
        Ok(t.results.iter().map(Observed::from_result).collect())
    }
}

fn one_query() -> Scenario {
    let mut s = Scenario::new("svc");
    s.tokens.insert("svc".into(), TokenInfo::network_service());
    s.steps.push(Step::QueryInterface {
        caller: "svc".into(),
        handle: "h".into(),
        level: None,
    });
    s
}

#[test]
fn a_disagreement_says_which_step_both_answers_and_the_scenario_line() {
    let s = one_query();
    let tail = |d: &Disagreement| {
        format!(
            "\nscenario (1 step, 1 token), one line for `bits-helper-token-oracle`:\n{}",
            d.scenario_json()
        )
    };
    let model = "  the model says:  0x00000000 (S_OK), rule A-1\n    because query_interface \
                 returns 0x00000000 (S_OK): A-1: QueryInterface succeeds and the handle \
                 remembers the caller S-1-5-20 (NetworkService)";
    // A different HRESULT at step 1.
    let wrong = vec![Observed::hresult(HResult::E_ACCESSDENIED)];
    let d = compare(&mut Fixed(Ok(wrong)), &s, Compare::HResult).unwrap_err();
    assert_eq!(d.mismatch, Some(Mismatch::HResult));
    assert_eq!(
        d.to_string(),
        format!(
            "step 1 (query_interface): the HRESULT differs\n{model}\n  \
             the system says: 0x80070005 (E_ACCESSDENIED), rule -{}",
            tail(&d)
        )
    );
    // The last line is the scenario, as the oracle reads it.
    let line = d.to_string().lines().last().unwrap().to_string();
    assert_eq!(serde_json::from_str::<Scenario>(&line).unwrap(), s);
    // More results than steps, fewer results than steps, no results at all.
    let extra = vec![
        Observed::hresult(HResult::S_OK).with_rule(RuleId::A1),
        Observed::hresult(HResult::S_OK),
    ];
    let d = compare(&mut Fixed(Ok(extra)), &s, Compare::Rules).unwrap_err();
    assert_eq!(d.mismatch, Some(Mismatch::Job), "no job reported at step 1");
    let extra = vec![
        Observed::hresult(HResult::S_OK),
        Observed::hresult(HResult::S_OK),
    ];
    let d = compare(&mut Fixed(Ok(extra)), &s, Compare::Values).unwrap_err();
    assert_eq!(
        d.to_string(),
        format!(
            "step 2 (?): the model has no such step\n  \
             the system says: 0x00000000 (S_OK), rule -{}",
            tail(&d)
        )
    );
    let d = compare(&mut Fixed(Ok(vec![])), &s, Compare::HResult).unwrap_err();
    assert_eq!(
        d.to_string(),
        format!(
            "step 1 (query_interface): the system under test gave no result\n{model}{}",
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
    // A value and a job that differ: both answers and both jobs are printed.
    let mut s = one_query();
    s.steps.push(Step::GetHelperTokenFlags {
        handle: "h".into(),
        level: None,
    });
    let mut session = Session::new(&s).unwrap();
    let first = session.step(&s.steps[0]).unwrap();
    let job = JobSnapshot::of(session.job());
    let wrong = vec![
        observe(&first, session.job()),
        Observed::hresult(HResult::S_OK).with_value(StepValue::Flags(TokenUsage::LOCAL_FILE)),
    ];
    let d = compare(&mut Fixed(Ok(wrong.clone())), &s, Compare::Values).unwrap_err();
    assert_eq!((d.step, d.mismatch), (2, Some(Mismatch::Value)));
    let text = d.to_string();
    assert!(
        text.contains("the model says:  0x00000000 (S_OK), rule A-5, value 0"),
        "{text}"
    );
    assert!(
        text.contains("the system says: 0x00000000 (S_OK), rule -, value 1"),
        "{text}"
    );
    assert!(
        text.contains("because GetHelperTokenFlags returns"),
        "{text}"
    );
    let mut right_value = wrong;
    right_value[1] = Observed::hresult(HResult::S_OK)
        .with_value(StepValue::Flags(TokenUsage::empty()))
        .with_job({
            let mut other = job;
            other.flags = TokenUsage::LOCAL_FILE;
            other
        });
    compare(&mut Fixed(Ok(right_value.clone())), &s, Compare::Values).expect("values agree");
    let d = compare(&mut Fixed(Ok(right_value)), &s, Compare::Job).unwrap_err();
    assert_eq!((d.step, d.mismatch), (2, Some(Mismatch::Job)));
    let text = d.to_string();
    assert!(
        text.contains(&format!("the model's job after it:  {job}")),
        "{text}"
    );
    assert!(text.contains("\"flags\":1"), "{text}");
}

#[test]
fn run_differential_generates_config_cases_scenarios() {
    for cases in [1, 7] {
        let mut sut = CountingModel(0);
        let mut config = Differential::default();
        config.cases = cases;
        config = config.with_seed(7);
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
    config = config.with_seed(1);
    run_differential(&mut CountingModel(0), &config).unwrap();
}

/// The harness keeps no proptest failure files (it has no source file to put them beside),
/// so proptest has nothing to warn about: a run prints nothing on stderr.
#[cfg(not(windows))]
#[test]
fn run_differential_prints_no_proptest_warnings() {
    let child = test_in_child(
        "differential::child_runs_an_agreeing_differential",
        true,
        |c| {
            c.arg("--test-threads=1");
        },
    );
    let (stdout, stderr) = (child.stdout, child.stderr);
    assert!(child.success, "{stdout}{stderr}");
    assert!(
        stdout.contains("1 passed"),
        "the child ran the test: {stdout}"
    );
    assert!(!stderr.contains("proptest:"), "{stderr}");
}

// ---- three planted bugs in BITSes built on the model ----------------------------------

/// A BITS built on the model, step by step ([`Session`]), reporting everything (HRESULT,
/// value, job after the step, no rule ids: a real BITS knows none), with one planted bug:
/// `bug` may answer a step itself instead of the model.
struct Planted<F>(F);

impl<F: FnMut(&mut Session, &Step) -> Option<Observed>> SystemUnderTest for Planted<F> {
    fn run(&mut self, s: &Scenario) -> Result<Vec<Observed>, String> {
        let mut session = Session::new(s).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for step in &s.steps {
            let o = match (self.0)(&mut session, step) {
                Some(o) => o,
                None => {
                    let r = session.step(step).map_err(|e| e.to_string())?;
                    let mut o = observe(&r, session.job());
                    o.rule = None;
                    o
                }
            };
            out.push(o);
        }
        Ok(out)
    }
}

/// Bug 1: `GetHelperTokenFlags` answers flags 0 whatever is stored (right HRESULT).
fn getter_answers_zero(session: &mut Session, step: &Step) -> Option<Observed> {
    let Step::GetHelperTokenFlags { .. } = step else {
        return None;
    };
    let r = session.step(step).ok()?;
    let mut o = Observed::hresult(r.hresult).with_job(JobSnapshot::of(session.job()));
    if r.value.is_some() {
        o = o.with_value(StepValue::Flags(TokenUsage::empty()));
    }
    Some(o)
}

/// Bug 2: `SetHelperToken` judged by the token impersonated at call time, as if the
/// handle had been obtained by it (not by the caller remembered at QueryInterface, A-1).
fn call_time_identity(session: &mut Session, step: &Step) -> Option<Observed> {
    let Step::SetHelperToken { impersonating, .. } = step else {
        return None;
    };
    if !step.level().ok()?.unwrap_or_default().can_impersonate() {
        return None;
    }
    let handle = bits_helper_token::scenario::HandleName::Name(format!(
        "call-time-{}",
        session.steps_taken()
    ));
    session
        .step(&Step::QueryInterface {
            caller: impersonating.clone(),
            handle: handle.clone(),
            level: None,
        })
        .ok()?;
    let r = session.step(&Step::SetHelperToken {
        handle,
        impersonating: impersonating.clone(),
        can_impersonate: None,
        level: None,
    });
    Some(match r {
        Ok(r) => Observed::hresult(r.hresult).with_job(JobSnapshot::of(session.job())),
        // Its own QueryInterface was refused: it answers access denied.
        Err(_) => {
            Observed::hresult(HResult::E_ACCESSDENIED).with_job(JobSnapshot::of(session.job()))
        }
    })
}

/// Bug 3: no A-11 gate: it plays the scenario with an owner whose integrity level and
/// elevation never refuse anyone.
struct NoAccessGate;

impl SystemUnderTest for NoAccessGate {
    fn run(&mut self, s: &Scenario) -> Result<Vec<Observed>, String> {
        let mut relaxed = s.clone();
        relaxed.job.owner_integrity = Some(IntegrityLevel::Untrusted);
        relaxed.job.owner_elevated = Some(false);
        // Without the gate, a caller the gate refused may reach a second `AddFile` on a
        // download, which the model leaves outside itself (L-15); a real BITS adds the
        // file, and so does this toy.
        Planted(|session: &mut Session, step: &Step| match step {
            Step::AddFile { .. } if session.check(step).is_err() => {
                Some(Observed::hresult(HResult::S_OK).with_job(JobSnapshot::of(session.job())))
            }
            _ => None,
        })
        .run(&relaxed)
    }
}

/// What a shrunk disagreement must show: found with values compared, at most three steps,
/// only the tokens they use, the model's explanation in the report, a line the oracle
/// accepts with the model's answer at that step.
fn assert_shrunk(d: &Disagreement) {
    println!("{d}\n");
    assert_eq!(d.error, None, "{d}");
    assert!(d.scenario.steps.len() <= 3, "not shrunk to 3 steps:\n{d}");
    assert_eq!(d.step, d.scenario.steps.len(), "{d}");
    let mut used: BTreeSet<&str> = BTreeSet::from([d.scenario.job.owner.as_str()]);
    for step in &d.scenario.steps {
        used.extend(step.tokens());
    }
    let tokens: BTreeSet<&str> = d.scenario.tokens.keys().map(String::as_str).collect();
    assert_eq!(tokens, used, "only the tokens the steps use:\n{d}");
    let why = d
        .explanation
        .as_deref()
        .expect("the model explains its answer");
    assert!(d.to_string().contains(&format!("because {why}")), "{d}");
    let expected = d.expected.expect("the model answered");
    assert!(why.contains(expected.rule.name()), "{why}");
    let answer =
        oracle_line::answer(1, d.scenario_json().as_bytes()).expect("the oracle accepts it");
    let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        v["results"][d.step - 1]["rule"],
        expected.rule.name(),
        "{d}"
    );
}

fn planted_config(seed: u8) -> Differential {
    let mut params = ScenarioParams::default();
    params.releases = vec![Release::Win10_1809];
    let mut config = Differential::default();
    config.cases = 1000;
    config.params = params;
    config = config.with_seed(u64::from(seed));
    config
}

#[test]
fn a_getter_answering_a_wrong_value_is_caught_by_value_and_shrunk() {
    let config = planted_config(11);
    assert_eq!(config.mode, Compare::Values);
    let d = run_differential(&mut Planted(getter_answers_zero), &config)
        .expect_err("the wrong value must be found");
    assert_shrunk(&d);
    assert_eq!(d.mismatch, Some(Mismatch::Value), "{d}");
    assert_eq!(d.op(), "get_helper_token_flags");
    // The HRESULTs agree: only the value shows the bug.
    let (expected, observed) = (d.expected.unwrap(), d.observed.clone().unwrap());
    assert_eq!(expected.hresult, observed.hresult);
    assert_eq!(observed.value, Some(StepValue::Flags(TokenUsage::empty())));
    assert_ne!(expected.value, observed.value);
    // QueryInterface, SetHelperTokenFlags, GetHelperTokenFlags.
    assert_eq!(d.scenario.steps.len(), 3, "{d}");
    // With HRESULTs alone, the bug passes.
    let mut blind = config.clone();
    blind.mode = Compare::HResult;
    blind.cases = 200;
    run_differential(&mut Planted(getter_answers_zero), &blind).expect("HRESULTs agree");
}

#[test]
fn a_call_time_identity_is_caught_and_shrunk() {
    let d = run_differential(&mut Planted(call_time_identity), &planted_config(12))
        .expect_err("the call-time identity must be found");
    assert_shrunk(&d);
    assert_eq!(d.op(), "set_helper_token");
    assert_eq!(d.mismatch, Some(Mismatch::HResult), "{d}");
    // QueryInterface as one token, SetHelperToken impersonating another whose access
    // differs: the remembered caller decides in the model, not the impersonated one.
    assert_eq!(d.scenario.steps.len(), 2, "{d}");
    let (Step::QueryInterface { caller, .. }, Step::SetHelperToken { impersonating, .. }) =
        (&d.scenario.steps[0], &d.scenario.steps[1])
    else {
        panic!("{d}")
    };
    assert_ne!(caller, impersonating, "{d}");
}

#[test]
fn a_missing_a11_gate_is_caught_and_shrunk() {
    let d = run_differential(&mut NoAccessGate, &planted_config(13))
        .expect_err("the missing access gate must be found");
    assert_shrunk(&d);
    let expected = d.expected.unwrap();
    assert_eq!(
        (expected.hresult, expected.rule),
        (HResult::E_ACCESSDENIED, RuleId::A11),
        "{d}"
    );
    assert_eq!(d.mismatch, Some(Mismatch::HResult), "{d}");
    assert!(d.to_string().contains("A-11"), "{d}");
}

#[test]
fn minimize_keeps_a_scenario_that_agrees_out() {
    // `minimize` answers None for a scenario on which the system agrees.
    let mut s = one_query();
    s.steps.push(Step::SetHelperTokenFlags {
        handle: "h".into(),
        flags: 2,
        level: None,
    });
    assert!(minimize(&mut CountingModel(0), &s, Compare::Values).is_none());
    // and shrinks one that disagrees.
    let d = minimize(&mut Fixed(Ok(vec![])), &s, Compare::HResult).expect("no results");
    assert_eq!(
        (d.step, d.mismatch, d.scenario.steps.len()),
        (1, Some(Mismatch::Missing), 1)
    );
}

/// A BITS built on the model that answers `E_FAIL` wherever `bug(position, step)` holds
/// (positions count steps from 0), and as the model everywhere else.
fn fails_when(bug: impl Fn(usize, &Step) -> bool) -> impl SystemUnderTest {
    Planted(move |session: &mut Session, step: &Step| {
        let position = session.steps_taken();
        let r = session.step(step).ok()?;
        let mut o = observe(&r, session.job());
        o.rule = None;
        if bug(position, step) {
            o = Observed::hresult(HResult::E_FAIL).with_job(JobSnapshot::of(session.job()));
        }
        Some(o)
    })
}

/// Every answer to `op` at one of `positions` is `E_FAIL`: a bug that depends on where
/// the step falls.
fn fails_at(op: &'static str, positions: &'static [usize]) -> impl SystemUnderTest {
    fails_when(move |position, step| step.op() == op && positions.contains(&position))
}

#[test]
fn minimize_keeps_the_disagreeing_step_itself() {
    // The disagreement is at the last step, on handle b. Dropping handle b whole would
    // leave `get(a)` last, at a position where this system also fails: a smaller
    // scenario, but another step's disagreement. The shrinker keeps the last step's handle.
    let s = scenario_of(vec![query("a"), query("b"), get("b"), get("a"), get("b")]);
    let mut sut = fails_at("get_helper_token_flags", &[1, 4]);
    let d = minimize(&mut sut, &s, Compare::Values).expect("step 5 disagrees");
    assert_eq!(d.scenario.steps.last(), Some(&get("b")), "{d}");
    assert_eq!(d.step, d.scenario.steps.len(), "{d}");
}

#[test]
fn minimize_drops_a_whole_handle_that_no_single_step_can_leave() {
    // The system fails `get_helper_token_flags` at positions 1 and 3 only. Here the last
    // step, `get(a)`, is at 3. Dropping `get(b)` alone moves it to 2 (no disagreement),
    // dropping `query(b)` alone leaves `get(b)` without its handle, and b merged into a
    // puts a `get` at 1 before the last step (another step's disagreement). Only handle b
    // dropped whole, its query and its use together, keeps the disagreement, at 1.
    let s = scenario_of(vec![query("a"), query("b"), get("b"), get("a")]);
    let mut sut = fails_at("get_helper_token_flags", &[1, 3]);
    let d = minimize(&mut sut, &s, Compare::Values).expect("step 4 disagrees");
    assert_eq!(d.scenario.steps, [query("a"), get("a")], "{d}");
    assert_eq!(d.step, 2, "{d}");
}

#[test]
fn minimize_merges_two_handles_into_one() {
    // A system whose GetHelperTokenFlags fails once the job has flags. The flags are set
    // through handle b, read through handle a: no step can go alone (the set is the bug's
    // cause, each query has a use) and neither handle whole. With b's use through a, b's
    // query goes: three steps.
    let set = |h: &str| Step::SetHelperTokenFlags {
        handle: h.into(),
        flags: 1,
        level: None,
    };
    let mut sut = Planted(|session: &mut Session, step: &Step| {
        let r = session.step(step).ok()?;
        let job = JobSnapshot::of(session.job());
        if matches!(step, Step::GetHelperTokenFlags { .. }) && !job.flags.is_empty() {
            return Some(Observed::hresult(HResult::E_FAIL).with_job(job));
        }
        let mut o = observe(&r, session.job());
        o.rule = None;
        Some(o)
    });
    let s = scenario_of(vec![query("a"), query("b"), set("b"), get("a")]);
    let d = minimize(&mut sut, &s, Compare::Values).expect("step 4 disagrees");
    assert_eq!(d.scenario.steps, [query("a"), set("a"), get("a")], "{d}");
}

#[test]
fn minimize_counts_impersonated_tokens_as_used() {
    // Three tokens of one identity: the shrinker may call with any of them, and prefers
    // the first by name. "alice" appears only as the impersonated token: it is in use, so
    // it is kept, and the caller becomes it.
    let mut s = scenario_of(vec![
        Step::QueryInterface {
            caller: "zed".into(),
            handle: "h".into(),
            level: None,
        },
        set_token("alice"),
    ]);
    for name in ["alice", "zed"] {
        s.tokens.insert(name.into(), TokenInfo::network_service());
    }
    let mut sut = fails_at("set_helper_token", &[1]);
    let d = minimize(&mut sut, &s, Compare::Values).expect("step 2 disagrees");
    assert_eq!(
        d.scenario.steps[0],
        Step::QueryInterface {
            caller: "alice".into(),
            handle: "h".into(),
            level: None
        },
        "{d}"
    );
    assert_eq!(
        d.scenario.tokens.keys().collect::<Vec<_>>(),
        ["alice", "svc"],
        "{d}"
    );
}

/// The network service's `query_interface` for handle `h`.
fn query(h: &str) -> Step {
    Step::QueryInterface {
        caller: "svc".into(),
        handle: h.into(),
        level: None,
    }
}

/// `get_helper_token_flags` through handle `h`.
fn get(h: &str) -> Step {
    Step::GetHelperTokenFlags {
        handle: h.into(),
        level: None,
    }
}

/// `set_helper_token` through handle `h`, impersonating `impersonating` at the default level.
fn set_token(impersonating: &str) -> Step {
    Step::SetHelperToken {
        handle: "h".into(),
        impersonating: impersonating.into(),
        can_impersonate: None,
        level: None,
    }
}

/// A scenario of the network service's job, with its token named "svc".
fn scenario_of(steps: Vec<Step>) -> Scenario {
    let mut s = Scenario::new("svc");
    s.tokens.insert("svc".into(), TokenInfo::network_service());
    s.steps = steps;
    s
}

/// Every `SetHelperTokenFlags` whose flags pass `bug` is answered `E_FAIL`.
fn fails_set_flags_when(bug: fn(u32) -> bool) -> impl SystemUnderTest {
    fails_when(
        move |_, step| matches!(step, Step::SetHelperTokenFlags { flags, .. } if bug(*flags)),
    )
}

/// The flags the shrunk scenario's last step sets.
fn shrunk_flags(sut: &mut impl SystemUnderTest, caller: &str, flags: u32) -> u32 {
    let mut s = scenario_of(vec![
        Step::QueryInterface {
            caller: caller.into(),
            handle: "h".into(),
            level: None,
        },
        Step::SetHelperTokenFlags {
            handle: "h".into(),
            flags,
            level: None,
        },
    ]);
    s.tokens.insert(
        "alice".into(),
        TokenInfo::standard_user("S-1-5-21-1-2-3-1001".parse().unwrap()),
    );
    let d = minimize(sut, &s, Compare::Values).expect("the last step disagrees");
    match d.scenario.steps.last() {
        Some(Step::SetHelperTokenFlags { flags, .. }) => *flags,
        other => panic!("the last step is {other:?}: {d}"),
    }
}

#[test]
fn minimize_shrinks_flags_bit_by_bit_while_the_disagreement_stays() {
    // The owner's unknown bits are refused by T-1 whatever the rest: from 0x6 the shrinker
    // drops the lowest bit (0x4, still refused); 0x0, 0x2 and 0x3 would be accepted, another
    // rule, so 0x4 is as small as it goes.
    assert_eq!(
        shrunk_flags(&mut fails_set_flags_when(|_| true), "svc", 0x6),
        0x4
    );
    // A caller who is not the owner is refused before the flags are read: every value is
    // the same disagreement while the bug (LOCAL_FILE set) fires. From 0x11 that is the
    // known bits (0x1); from 0x3, half of it (0x1).
    let local_file = |f: u32| f & 1 != 0;
    assert_eq!(
        shrunk_flags(&mut fails_set_flags_when(local_file), "alice", 0x11),
        0x1
    );
    assert_eq!(
        shrunk_flags(&mut fails_set_flags_when(local_file), "alice", 0x3),
        0x1
    );
}

#[test]
fn minimize_impersonates_the_first_token_by_name_that_keeps_the_disagreement() {
    let mut s = scenario_of(vec![query("h"), set_token("zed")]);
    s.tokens.insert("zed".into(), TokenInfo::network_service());
    let mut sut = fails_at("set_helper_token", &[1]);
    let d = minimize(&mut sut, &s, Compare::Values).expect("step 2 disagrees");
    assert_eq!(d.scenario.steps[1], set_token("svc"), "{d}");
    assert_eq!(d.scenario.tokens.keys().collect::<Vec<_>>(), ["svc"], "{d}");
}

#[test]
fn minimize_drops_a_stated_impersonation_level_that_does_not_matter() {
    // a SetHelperToken that states `can_impersonate` or a `level` is shrunk to one
    // that states neither (the default level) when the disagreement stays.
    for (can_impersonate, level) in [
        (Some(true), None),
        (None, Some(ImpersonationLevel::Impersonate)),
    ] {
        let s = scenario_of(vec![
            query("h"),
            Step::SetHelperToken {
                handle: "h".into(),
                impersonating: "svc".into(),
                can_impersonate,
                level,
            },
        ]);
        let mut sut = fails_at("set_helper_token", &[1]);
        let d = minimize(&mut sut, &s, Compare::Values).expect("step 2 disagrees");
        assert_eq!(d.scenario.steps[1], set_token("svc"), "{d}");
    }
}

/// Bug A for the harness: the A-6 veto ignored — where the model refuses with A-6, the
/// system says S_OK.
fn veto_ignored(session: &mut Session, step: &Step) -> Option<Observed> {
    let Step::SetHelperTokenFlags { .. } = step else {
        return None;
    };
    let r = session.step(step).ok()?;
    (r.rule == RuleId::A6)
        .then(|| Observed::hresult(HResult::S_OK).with_job(JobSnapshot::of(session.job())))
}

/// Issue #27: with the documented defaults ([`Differential::default`]), each of three
/// planted bugs — the A-6 veto ignored, the call-time identity, no A-11 gate — is caught
/// under each of 20 fixed seeds, and each report fits in 60 lines with a runnable oracle
/// line that names its seed.
#[test]
#[allow(clippy::result_large_err)] // the harness's own Result, as it returns it
fn each_planted_bug_is_caught_under_twenty_seeds() {
    type Run =
        fn(&Differential) -> Result<bits_helper_token::support::harness::Report, Disagreement>;
    let bugs: [(&str, Run); 3] = [
        ("the A-6 veto ignored", |c| {
            run_differential(&mut Planted(veto_ignored), c)
        }),
        ("the call-time identity", |c| {
            run_differential(&mut Planted(call_time_identity), c)
        }),
        ("no A-11 gate", |c| run_differential(&mut NoAccessGate, c)),
    ];
    let mut longest = 0;
    for (what, run) in bugs {
        for seed in 1..=20u64 {
            let config = Differential::default().with_seed(seed);
            let d = run(&config).expect_err(&format!("{what}: not caught under seed {seed}"));
            assert_eq!(d.error, None, "{what}, seed {seed}: {d}");
            let report = d.to_string();
            longest = longest.max(report.lines().count());
            assert!(report.lines().count() <= 60, "{report}");
            assert!(report.contains(&format!("seed {seed:#x}")), "{report}");
            oracle_line::answer(1, d.scenario_json().as_bytes()).expect("a runnable line");
        }
    }
    println!("3 planted bugs x 20 seeds: all caught; the longest report has {longest} lines");
}

// ---- a report depends on the seed alone ------------------------------------------------

/// The run [`a_report_depends_on_the_seed_and_the_system_alone`] repeats: the model
/// reporting HRESULTs only, compared up to the rules, so every scenario disagrees at its
/// first step and shrinking runs its full course.
fn hresults_only_report(seed: u64, cases: u32) -> String {
    let mut config = Differential::default().with_seed(seed);
    config.cases = cases;
    config.mode = Compare::Rules;
    run_differential(&mut ReportsUpTo(Compare::HResult), &config)
        .expect_err("a system that reports no rules disagrees")
        .to_string()
}

/// The child side of [`a_report_depends_on_the_seed_and_the_system_alone`]: prints the
/// report of seed 7 in this process's environment. Ignored: the environment is the
/// process's, so only a child started with `PROPTEST_*` variables set runs this.
#[test]
#[ignore = "a probe: run in a child process by a_report_depends_on_the_seed_and_the_system_alone"]
fn report_probe() {
    println!("probe {:?}", hresults_only_report(7, 64));
}

/// A disagreement's report depends on the seed and the system alone: not on how many
/// cases the run allows past the one that failed (proptest caps its shrinking at four times
/// the cases unless told otherwise, which would cut a short run's shrinking short), and not
/// on the `PROPTEST_*` environment variables of the settings the harness fixes itself
/// (cases, seed, shrink iterations, failure persistence), so the report printed in CI
/// replays the same anywhere with its seed. The environment is checked in child processes
/// of this test binary ([`report_probe`]).
#[test]
fn a_report_depends_on_the_seed_and_the_system_alone() {
    for seed in [1, 7, 0x0B17_5EED] {
        let report = hresults_only_report(seed, 1);
        for cases in [2, 64, 1024] {
            assert_eq!(
                hresults_only_report(seed, cases),
                report,
                "seed {seed}, {cases} cases"
            );
        }
    }

    let probe = |vars: &[(&str, &str)]| -> String {
        let child = test_in_child("differential::report_probe", true, |child| {
            for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("PROPTEST_")) {
                child.env_remove(name);
            }
            child.envs(vars.iter().copied());
        });
        let stdout = child.stdout;
        assert!(child.success, "{vars:?}: {stdout}");
        stdout
            .lines()
            .find_map(|l| l.strip_prefix("probe "))
            .unwrap_or_else(|| panic!("{vars:?}: the probe printed no line:\n{stdout}"))
            .to_owned()
    };
    let report = format!("{:?}", hresults_only_report(7, 64));
    assert_eq!(probe(&[]), report);
    for vars in [
        &[("PROPTEST_MAX_SHRINK_ITERS", "1")][..],
        &[("PROPTEST_MAX_SHRINK_ITERS", "0")],
        &[("PROPTEST_CASES", "1")],
        &[("PROPTEST_RNG_SEED", "12345")],
        &[("PROPTEST_FAILURE_PERSISTENCE", "file")],
    ] {
        assert_eq!(probe(vars), report, "{vars:?}");
    }
}
