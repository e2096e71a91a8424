//! A differential harness: compare a system under test (a real BITS, a reimplementation,
//! another oracle) with this model on generated scenarios (feature `proptest`).
//!
//! Implement [`SystemUnderTest`] for your system: it replays a [`Scenario`] and reports,
//! per step, the `HRESULT` it saw and, if it knows them, the SPEC rule ids. Then call
//! [`run_differential`]: it generates scenarios, runs both, compares step by step in the
//! chosen [`Compare`] mode, and on the first disagreement shrinks the scenario with
//! proptest and returns a [`Disagreement`] whose Display includes the shrunk scenario as
//! one JSON line that `cargo run --example oracle` accepts.
//!
//! ```
//! use bits_helper_token::scenario::Scenario;
//! use bits_helper_token::support::harness::{run_differential, Compare, Differential, Observed, SystemUnderTest};
//!
//! /// The model itself, as a system under test: it must agree with itself.
//! struct Model;
//! impl SystemUnderTest for Model {
//!     fn run(&mut self, s: &Scenario) -> Result<Vec<Observed>, String> {
//!         let t = s.run().map_err(|e| e.to_string())?;
//!         Ok(t.results.iter().map(|r| Observed::with_rule(r.hresult, r.rule)).collect())
//!     }
//! }
//! let mut config = Differential::default();
//! config.cases = 32;
//! let report = run_differential(&mut Model, &config).expect("the model agrees with itself");
//! assert_eq!(report.cases, 32);
//! ```

// A `Disagreement` carries the whole scenario; it is returned once per run, not on a hot path.
#![allow(clippy::result_large_err)]

use super::proptest::{ScenarioParams, scenario};
use crate::hresult::HResult;
use crate::rule::RuleId;
use crate::scenario::{Scenario, StepResult};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

/// What the system under test answered for one step.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Observed {
    /// The `HRESULT` it returned (for lifecycle events: the job error a transfer ended
    /// with, `S_OK` otherwise, as the oracle's contract says).
    pub hresult: HResult,
    /// The SPEC id of the rule that decided, if the system knows it (`"A-5"`).
    pub rule: Option<RuleId>,
}

impl Observed {
    /// An observation of the `HRESULT` only (a real BITS knows no rule ids).
    pub fn hresult(hresult: HResult) -> Observed {
        Observed {
            hresult,
            rule: None,
        }
    }

    /// An observation with the rule id.
    pub fn with_rule(hresult: HResult, rule: RuleId) -> Observed {
        Observed {
            hresult,
            rule: Some(rule),
        }
    }
}

/// A system to compare with the model.
pub trait SystemUnderTest {
    /// Replays `scenario` from a fresh job and returns one observation per step, in order;
    /// `Err` when the system could not run it (a harness failure, not a disagreement).
    fn run(&mut self, scenario: &Scenario) -> Result<Vec<Observed>, String>;
}

/// How strictly to compare.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum Compare {
    /// The `HRESULT` of every step.
    #[default]
    HResult,
    /// The `HRESULT` and the rule id of every step (the system must report rule ids).
    HResultAndRule,
}

/// A configuration of [`run_differential`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Differential {
    /// How many scenarios to generate.
    pub cases: u32,
    /// The comparison mode.
    pub mode: Compare,
    /// How scenarios are generated.
    pub params: ScenarioParams,
    /// The proptest seed is random unless this is set (a 32-byte seed for reproducible runs).
    pub seed: Option<[u8; 32]>,
}

impl Default for Differential {
    fn default() -> Differential {
        Differential {
            cases: 256,
            mode: Compare::HResult,
            params: ScenarioParams::default(),
            seed: None,
        }
    }
}

/// What a passing run covered.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Report {
    /// Scenarios compared.
    pub cases: u32,
    /// Steps compared.
    pub steps: u64,
}

/// The first step where the system under test and the model differ, in the shrunk
/// scenario.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Disagreement {
    /// The scenario (shrunk, when it came from [`run_differential`]).
    pub scenario: Scenario,
    /// The step, from 1 (0 when the system could not run the scenario at all).
    pub step: usize,
    /// What the model says for that step.
    pub expected: Option<StepResult>,
    /// What the system under test said (`None`: it returned too few results).
    pub observed: Option<Observed>,
    /// A harness failure message, when the system could not run the scenario.
    pub error: Option<String>,
    /// The model's explanation of its answer at that step (the sentence with its facts).
    pub explanation: Option<String>,
}

impl Disagreement {
    /// The scenario as one JSON line for `cargo run --example oracle`.
    pub fn scenario_json(&self) -> String {
        serde_json::to_string(&self.scenario).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(error) = &self.error {
            write!(
                f,
                "the system under test could not run the scenario: {error}"
            )?;
        } else {
            let op = self
                .scenario
                .steps
                .get(self.step.wrapping_sub(1))
                .map_or("?", |s| s.op());
            write!(f, "step {} ({op}): ", self.step)?;
            match (&self.expected, &self.explanation) {
                (Some(_), Some(why)) => write!(f, "the model says {why}")?,
                (Some(e), None) => write!(f, "the model says {} (rule {})", e.hresult, e.rule)?,
                (None, _) => write!(f, "the model has no such step")?,
            }
            match &self.observed {
                Some(o) => write!(
                    f,
                    "\nthe system under test says {} (rule {})",
                    o.hresult,
                    o.rule.map_or("-", RuleId::name)
                )?,
                None => write!(f, "\nthe system under test gave no result")?,
            }
        }
        write!(
            f,
            "\nscenario (one line, for `cargo run --example oracle`):\n{}",
            self.scenario_json()
        )
    }
}

/// Runs one scenario on both and compares every step; `Ok(steps compared)`.
pub fn compare<S: SystemUnderTest + ?Sized>(
    sut: &mut S,
    scenario: &Scenario,
    mode: Compare,
) -> Result<usize, Disagreement> {
    let disagreement = |step: usize, expected, observed, error| {
        // The model's sentence for that step, from a replay that explains itself.
        let mut explained = scenario.clone();
        explained.explain = true;
        let explanation = step
            .checked_sub(1)
            .and_then(|i| explained.run().ok()?.explanations.get(i).cloned());
        Disagreement {
            scenario: scenario.clone(),
            step,
            expected,
            observed,
            error,
            explanation,
        }
    };
    let expected = scenario.run().map_err(|e| {
        disagreement(
            0,
            None,
            None,
            Some(format!("the model refused the scenario: {e}")),
        )
    })?;
    let observed = sut
        .run(scenario)
        .map_err(|e| disagreement(0, None, None, Some(e)))?;
    let n = expected.results.len().max(observed.len());
    for i in 0..n {
        let (e, o) = (expected.results.get(i), observed.get(i));
        let same = match (e, o) {
            (Some(e), Some(o)) => {
                e.hresult == o.hresult && (mode == Compare::HResult || o.rule == Some(e.rule))
            }
            _ => false,
        };
        if !same {
            return Err(disagreement(i + 1, e.copied(), o.cloned(), None));
        }
    }
    Ok(n)
}

/// After proptest's shrinking: drops every step after the first disagreement, then every
/// earlier step whose removal keeps a disagreement at the last step (a handle's
/// `query_interface` goes only when no remaining step uses the handle: the scenario must
/// stay valid). `None` when the scenario does not disagree at all.
fn minimize<S: SystemUnderTest + ?Sized>(
    sut: &mut S,
    scenario: &Scenario,
    mode: Compare,
) -> Option<Disagreement> {
    let mut best = compare(sut, scenario, mode).err()?;
    if best.step == 0 {
        return Some(best);
    }
    let mut current = scenario.clone();
    current.steps.truncate(best.step);
    if let Err(d) = compare(sut, &current, mode) {
        best = d;
    }
    let mut i = current.steps.len().saturating_sub(1);
    while i > 0 {
        i -= 1;
        let mut candidate = current.clone();
        candidate.steps.remove(i);
        if candidate.validate().is_err() {
            continue;
        }
        if let Err(d) = compare(sut, &candidate, mode) {
            if d.step == candidate.steps.len() && d.error.is_none() {
                current = candidate;
                best = d;
                i = i.min(current.steps.len().saturating_sub(1));
            }
        }
    }
    Some(best)
}

/// Generates `config.cases` scenarios and compares the system under test with the model
/// on each. On a disagreement, proptest shrinks the scenario to a minimal one and the
/// returned [`Disagreement`] describes that one.
pub fn run_differential<S: SystemUnderTest + ?Sized>(
    sut: &mut S,
    config: &Differential,
) -> Result<Report, Disagreement> {
    let proptest_config = Config {
        cases: config.cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = match config.seed {
        Some(seed) => TestRunner::new_with_rng(
            proptest_config,
            proptest::test_runner::TestRng::from_seed(
                proptest::test_runner::RngAlgorithm::ChaCha,
                &seed,
            ),
        ),
        None => TestRunner::new(proptest_config),
    };
    let sut = RefCell::new(sut);
    let steps = RefCell::new(0u64);
    let result = runner.run(&scenario(config.params.clone()), |s| {
        let n = compare(&mut **sut.borrow_mut(), &s, config.mode)
            .map_err(|d| TestCaseError::fail(d.to_string()))?;
        *steps.borrow_mut() += n as u64;
        Ok(())
    });
    match result {
        Ok(()) => Ok(Report {
            cases: config.cases,
            steps: steps.into_inner(),
        }),
        Err(TestError::Fail(_, minimal)) => Err(minimize(&mut **sut.borrow_mut(), &minimal, config.mode)
            .unwrap_or_else(|| Disagreement {
                scenario: minimal,
                step: 0,
                expected: None,
                observed: None,
                error: Some("the disagreement did not reproduce on the shrunk scenario (is the system deterministic?)".into()),
                explanation: None,
            })),
        Err(TestError::Abort(reason)) => Err(Disagreement {
            scenario: Scenario::new("-"),
            step: 0,
            expected: None,
            observed: None,
            error: Some(format!("proptest aborted: {reason}")),
            explanation: None,
        }),
    }
}
