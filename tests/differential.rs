//! The differential harness against a deliberately wrong toy implementation: a BITS that
//! forgets the A-6 veto. The harness must find the disagreement and shrink it to a small
//! scenario that the oracle accepts.
#![cfg(feature = "proptest")]

#[path = "../examples/oracle/line.rs"]
mod oracle_line;

use bits_helper_token::scenario::{HandleName, Scenario, Step};
use bits_helper_token::support::harness::{
    Compare, Differential, Observed, SystemUnderTest, run_differential,
};
use bits_helper_token::support::proptest::ScenarioParams;
use bits_helper_token::{HResult, Identity, Release, Sid};
use std::collections::HashMap;

/// A toy reimplementation of IBitsTokenOptions (1607+ rules, default knobs, methods only)
/// with one planted bug: it never applies the A-6 veto.
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
            owner.admin = e;
        }
        let mut handles: HashMap<&HandleName, Identity> = HashMap::new();
        let (mut flags, mut helper): (u32, Option<Identity>) = (0, None);
        let mut out = Vec::new();
        for step in &s.steps {
            let access = |h: &HandleName| -> Result<Identity, HResult> {
                let caller = handles.get(h).copied().ok_or(HResult::E_FAIL)?;
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
                    Ok(_) if f & !3 != 0 => HResult::E_INVALIDARG,
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
    assert_eq!(expected.rule, "A-6");
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
