//! A differential harness: compare a system under test (a real BITS, a reimplementation,
//! another oracle) with this model on generated scenarios (feature `proptest`).
//!
//! Implement [`SystemUnderTest`] for your system: it replays a [`Scenario`] and reports,
//! per step, what it [`Observed`]: the `HRESULT`, the value a getter or `route` returned,
//! the job's observable state after the step ([`JobSnapshot`]) and, if it knows them, the
//! SPEC rule ids. Then call [`run_differential`]: it generates scenarios, runs both,
//! compares every step at the chosen [`Compare`] level (by default the `HRESULT` and the
//! value), and on the first disagreement shrinks the scenario — proptest's shrinking, then
//! [`minimize`], which drops steps, whole handles, unused tokens and job settings while the
//! same disagreement stays — and returns a [`Disagreement`] whose Display gives the step,
//! the model's answer with its explanation, the system's answer, and the scenario as one
//! JSON line for the oracle (`bits-helper-token-oracle`).
//!
//! ```
//! use bits_helper_token::scenario::Scenario;
//! use bits_helper_token::support::harness::{run_differential, Differential, Observed, SystemUnderTest};
//!
//! /// The model itself, as a system under test: it must agree with itself.
//! struct Model;
//! impl SystemUnderTest for Model {
//!     fn run(&mut self, s: &Scenario) -> Result<Vec<Observed>, String> {
//!         let t = s.run().map_err(|e| e.to_string())?;
//!         Ok(t.results.iter().map(Observed::from_result).collect())
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
use crate::job::Job;
use crate::rule::RuleId;
use crate::scenario::{Scenario, Session, Step, StepResult, StepValue};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::fmt;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

pub use crate::scenario::JobSnapshot;
pub use minimize::minimize;

mod minimize;

/// What the system under test answered for one step. Only what it reports is compared:
/// a field left `None` fails the comparison only at a level that needs it.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Observed {
    /// The `HRESULT` it returned (for lifecycle events: the job error a transfer ended
    /// with, `S_OK` otherwise, as the oracle's contract says).
    pub hresult: HResult,
    /// The SPEC id of the rule that decided, if the system knows it (`"A-5"`).
    pub rule: Option<RuleId>,
    /// What a getter or `route` returned (`None` for other steps).
    pub value: Option<StepValue>,
    /// The job's observable state after the step, if the system reports it.
    pub job: Option<JobSnapshot>,
}

impl Observed {
    /// An observation of the `HRESULT` only.
    pub fn hresult(hresult: HResult) -> Observed {
        Observed {
            hresult,
            rule: None,
            value: None,
            job: None,
        }
    }

    /// The model's own answer as an observation (`HRESULT`, rule, value): for systems
    /// built on the model, and for tests.
    pub fn from_result(result: &StepResult) -> Observed {
        Observed {
            hresult: result.hresult,
            rule: Some(result.rule),
            value: result.value,
            job: None,
        }
    }

    /// With the rule id.
    #[must_use]
    pub fn with_rule(mut self, rule: RuleId) -> Observed {
        self.rule = Some(rule);
        self
    }

    /// With the value a getter or `route` returned.
    #[must_use]
    pub fn with_value(mut self, value: StepValue) -> Observed {
        self.value = Some(value);
        self
    }

    /// With the job's state after the step.
    #[must_use]
    pub fn with_job(mut self, job: JobSnapshot) -> Observed {
        self.job = Some(job);
        self
    }
}

/// A system to compare with the model.
pub trait SystemUnderTest {
    /// Replays `scenario` from a fresh job and returns one observation per step, in order;
    /// `Err` when the system could not run it (a harness failure, not a disagreement).
    fn run(&mut self, scenario: &Scenario) -> Result<Vec<Observed>, String>;
}

/// How much of each step to compare; each level includes the ones before it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
#[non_exhaustive]
pub enum Compare {
    /// The `HRESULT` of every step.
    HResult,
    /// And the value every getter and `route` returns (the system must report it, and
    /// report none for the other steps).
    #[default]
    Values,
    /// And the job's observable state after every step ([`JobSnapshot`]).
    Job,
    /// And the SPEC rule id that decided every step (the system must report rule ids).
    Rules,
}

/// Which part of a step's answer differs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Mismatch {
    /// The `HRESULT`.
    HResult,
    /// The value a getter or `route` returned.
    Value,
    /// The job's state after the step.
    Job,
    /// The rule id.
    Rule,
    /// The system gave no result for a step of the scenario.
    Missing,
    /// The system gave a result for a step the scenario does not have.
    Extra,
}

impl Mismatch {
    /// The words for it: `the HRESULT`, `the value`, ….
    pub const fn describe(self) -> &'static str {
        match self {
            Mismatch::HResult => "the HRESULT",
            Mismatch::Value => "the value",
            Mismatch::Job => "the job's state after the step",
            Mismatch::Rule => "the rule id",
            Mismatch::Missing => "a missing result",
            Mismatch::Extra => "an extra result",
        }
    }
}

/// A configuration of [`run_differential`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Differential {
    /// How many scenarios to generate (default 1024).
    pub cases: u32,
    /// The comparison level.
    pub mode: Compare,
    /// How scenarios are generated.
    pub params: ScenarioParams,
    /// The seed of the run (default: [`seed_from_env`]; a malformed variable makes
    /// [`run_differential`] fail, saying so). A disagreement names it.
    pub seed: u64,
    /// A malformed [`SEED_VARIABLE`], reported by [`run_differential`].
    seed_error: Option<String>,
}

impl Differential {
    /// The same configuration with another seed.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Differential {
        self.seed = seed;
        self.seed_error = None;
        self
    }
}

impl Default for Differential {
    fn default() -> Differential {
        let (seed, seed_error) = seed_or_error();
        Differential {
            cases: 1024,
            mode: Compare::default(),
            params: ScenarioParams::default(),
            seed,
            seed_error,
        }
    }
}

/// The environment variable that sets the seed: a number, or `random`.
pub const SEED_VARIABLE: &str = "BITS_HELPER_TOKEN_SEED";

/// The seed when [`SEED_VARIABLE`] is unset.
pub const DEFAULT_SEED: u64 = 0x0B17_5EED;

/// The seed [`SEED_VARIABLE`] asks for: unset (or empty), [`DEFAULT_SEED`]; `random`, a
/// fresh one; a decimal or `0x` hexadecimal number, that one. Anything else is an error.
pub fn seed_from_env() -> Result<u64, String> {
    match std::env::var(SEED_VARIABLE) {
        Err(_) => Ok(DEFAULT_SEED),
        Ok(v) if v.is_empty() => Ok(DEFAULT_SEED),
        Ok(v) if v == "random" => Ok(random_seed()),
        Ok(v) => {
            let parsed = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => v.parse(),
            };
            parsed.map_err(|_| {
                format!("{SEED_VARIABLE}={v:?} is not a number (decimal or 0x hex) or \"random\"")
            })
        }
    }
}

/// [`seed_from_env`] for a default configuration: the seed, or [`DEFAULT_SEED`] with the
/// error the run then reports.
pub(crate) fn seed_or_error() -> (u64, Option<String>) {
    match seed_from_env() {
        Ok(seed) => (seed, None),
        Err(e) => (DEFAULT_SEED, Some(e)),
    }
}

/// A fresh seed (from the standard library's randomly keyed hasher).
fn random_seed() -> u64 {
    use core::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
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
    /// What differs (`None` for a harness failure).
    pub mismatch: Option<Mismatch>,
    /// What the model says for that step.
    pub expected: Option<StepResult>,
    /// The model's job after that step.
    pub expected_job: Option<JobSnapshot>,
    /// What the system under test said (`None`: it returned too few results).
    pub observed: Option<Observed>,
    /// A harness failure message, when the system could not run the scenario.
    pub error: Option<String>,
    /// The model's explanation of its answer at that step (the sentence with its facts).
    pub explanation: Option<String>,
    /// The seed of the run that found it ([`run_differential`]), to replay it.
    pub seed: Option<u64>,
}

impl Disagreement {
    /// The scenario as one JSON line for the oracle.
    pub fn scenario_json(&self) -> String {
        serde_json::to_string(&self.scenario).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The op of the step that differs (`"?"` past the scenario's end).
    pub fn op(&self) -> &'static str {
        self.scenario
            .steps
            .get(self.step.wrapping_sub(1))
            .map_or("?", Step::op)
    }

    /// The disagreement at `step` (from 1) of `scenario`.
    #[cfg(feature = "state-machine")]
    pub(crate) fn at(
        scenario: Scenario,
        step: usize,
        mismatch: Mismatch,
        expected: StepResult,
        expected_job: JobSnapshot,
        observed: Observed,
        explanation: Option<String>,
    ) -> Disagreement {
        Disagreement {
            scenario,
            step,
            mismatch: Some(mismatch),
            expected: Some(expected),
            expected_job: Some(expected_job),
            observed: Some(observed),
            error: None,
            explanation,
            seed: None,
        }
    }

    fn failure(scenario: &Scenario, error: String) -> Disagreement {
        Disagreement {
            scenario: scenario.clone(),
            step: 0,
            mismatch: None,
            expected: None,
            expected_job: None,
            observed: None,
            error: Some(error),
            explanation: None,
            seed: None,
        }
    }
}

/// One answer as the report prints it: `0x80070005 (E_ACCESSDENIED), rule A-5, value 2`.
fn answer(
    f: &mut fmt::Formatter<'_>,
    hresult: HResult,
    rule: Option<RuleId>,
    value: Option<&StepValue>,
) -> fmt::Result {
    write!(f, "{hresult}, rule {}", rule.map_or("-", RuleId::name))?;
    if let Some(v) = value {
        let json = serde_json::to_string(v).map_err(|_| fmt::Error)?;
        write!(f, ", value {json}")?;
    }
    Ok(())
}

/// ```text
/// step 3 (get_helper_token_flags): the value differs
///   the model says:  0x00000000 (S_OK), rule A-5, value 1
///     because get_helper_token_flags returns 0x00000000 (S_OK): A-5: …
///   the system says: 0x00000000 (S_OK), rule -, value 0
/// scenario (3 steps, 1 token), one line for `bits-helper-token-oracle`:
/// {"tokens":…}
/// ```
impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(error) = &self.error {
            write!(
                f,
                "the system under test could not run the scenario: {error}"
            )?;
        } else {
            write!(f, "step {} ({}): ", self.step, self.op())?;
            match self.mismatch {
                Some(Mismatch::Missing) => f.write_str("the system under test gave no result")?,
                Some(Mismatch::Extra) => f.write_str("the model has no such step")?,
                Some(m) => write!(f, "{} differs", m.describe())?,
                None => f.write_str("no difference")?,
            }
            if let Some(e) = &self.expected {
                f.write_str("\n  the model says:  ")?;
                answer(f, e.hresult, Some(e.rule), e.value.as_ref())?;
                if let Some(why) = &self.explanation {
                    write!(f, "\n    because {why}")?;
                }
            }
            if let Some(o) = &self.observed {
                f.write_str("\n  the system says: ")?;
                answer(f, o.hresult, o.rule, o.value.as_ref())?;
            }
            if self.mismatch == Some(Mismatch::Job) {
                if let Some(job) = &self.expected_job {
                    write!(f, "\n  the model's job after it:  {job}")?;
                }
                if let Some(job) = self.observed.as_ref().and_then(|o| o.job.as_ref()) {
                    write!(f, "\n  the system's job after it: {job}")?;
                }
            }
        }
        let (steps, tokens) = (self.scenario.steps.len(), self.scenario.tokens.len());
        write!(
            f,
            "\nscenario ({steps} step{}, {tokens} token{}), one line for `bits-helper-token-oracle`:\n{}",
            if steps == 1 { "" } else { "s" },
            if tokens == 1 { "" } else { "s" },
            self.scenario_json()
        )?;
        if let Some(seed) = self.seed {
            write!(f, "\nseed {seed:#x}; replay with {SEED_VARIABLE}={seed:#x}")?;
        }
        Ok(())
    }
}

/// What differs between the model's answer and the system's at `mode`, if anything.
pub(crate) fn mismatch(
    mode: Compare,
    expected: &StepResult,
    expected_job: &JobSnapshot,
    observed: &Observed,
) -> Option<Mismatch> {
    if observed.hresult != expected.hresult {
        Some(Mismatch::HResult)
    } else if mode >= Compare::Values && observed.value != expected.value {
        Some(Mismatch::Value)
    } else if mode >= Compare::Job && observed.job.as_ref() != Some(expected_job) {
        Some(Mismatch::Job)
    } else if mode >= Compare::Rules && observed.rule != Some(expected.rule) {
        Some(Mismatch::Rule)
    } else {
        None
    }
}

/// Runs one scenario on both and compares every step at `mode`; `Ok(steps compared)`.
/// The model plays the scenario one step at a time ([`Session`]), so its job after every
/// step and the sentence explaining every answer are at hand.
pub fn compare<S: SystemUnderTest + ?Sized>(
    sut: &mut S,
    scenario: &Scenario,
    mode: Compare,
) -> Result<usize, Disagreement> {
    let refused = |e: &dyn fmt::Display| {
        Disagreement::failure(scenario, format!("the model refused the scenario: {e}"))
    };
    scenario.validate().map_err(|e| refused(&e))?;
    let mut session = Session::new(scenario).map_err(|e| refused(&e))?;
    let mut model = Vec::with_capacity(scenario.steps.len());
    for step in &scenario.steps {
        let (result, why) = session.step_explained(step).map_err(|e| refused(&e))?;
        model.push((result, why, JobSnapshot::of(session.job())));
    }
    let observed = sut
        .run(scenario)
        .map_err(|e| Disagreement::failure(scenario, e))?;
    let n = model.len().max(observed.len());
    for i in 0..n {
        let (e, o) = (model.get(i), observed.get(i));
        let differs = match (e, o) {
            (Some((e, _, job)), Some(o)) => mismatch(mode, e, job, o),
            (Some(_), None) => Some(Mismatch::Missing),
            (None, _) => Some(Mismatch::Extra),
        };
        if let Some(m) = differs {
            return Err(Disagreement {
                scenario: scenario.clone(),
                step: i + 1,
                mismatch: Some(m),
                expected: e.map(|(r, _, _)| *r),
                expected_job: e.map(|(_, _, job)| *job),
                observed: o.cloned(),
                error: None,
                explanation: e.map(|(_, why, _)| why.clone()),
                seed: None,
            });
        }
    }
    Ok(n)
}

/// How many scenarios proptest's shrinking may try after the first failure; [`minimize`]
/// then shrinks further by its own, deterministic means.
const SHRINK_BUDGET: u32 = 1024;

/// Generates `config.cases` scenarios and compares the system under test with the model
/// on each. On a disagreement, proptest shrinks the scenario, then [`minimize`] makes it
/// a smallest faithful one, and the returned [`Disagreement`] describes that one.
pub fn run_differential<S: SystemUnderTest + ?Sized>(
    sut: &mut S,
    config: &Differential,
) -> Result<Report, Disagreement> {
    if let Some(e) = &config.seed_error {
        return Err(Disagreement::failure(&Scenario::new("-"), e.clone()));
    }
    let proptest_config = Config {
        cases: config.cases,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(config.seed),
        // Never reached: SHRINK_BUDGET ends shrinking first, so proptest prints nothing.
        max_shrink_iters: u32::MAX - 1,
        ..Config::default()
    };
    let mut runner = TestRunner::new(proptest_config);
    let sut = RefCell::new(sut);
    let steps = RefCell::new(0u64);
    // Candidates tried since the first failure; past the budget every candidate "passes",
    // which ends proptest's shrinking at the last failing scenario (`minimize` goes on).
    let shrinking: Cell<Option<u32>> = Cell::new(None);
    let result = runner.run(&scenario(config.params.clone()), |s| {
        if let Some(tried) = shrinking.get() {
            if tried >= SHRINK_BUDGET {
                return Ok(());
            }
            shrinking.set(Some(tried + 1));
        }
        let n = compare(&mut **sut.borrow_mut(), &s, config.mode).map_err(|d| {
            shrinking.set(Some(shrinking.get().unwrap_or(0)));
            TestCaseError::fail(d.to_string())
        })?;
        *steps.borrow_mut() += n as u64;
        Ok(())
    });
    match result {
        Ok(()) => Ok(Report {
            cases: config.cases,
            steps: steps.into_inner(),
        }),
        Err(TestError::Fail(_, minimal)) => {
            let mut d = minimize(&mut **sut.borrow_mut(), &minimal, config.mode).unwrap_or_else(|| {
                Disagreement::failure(
                    &minimal,
                    "the disagreement did not reproduce on the shrunk scenario (is the system deterministic?)".into(),
                )
            });
            d.seed = Some(config.seed);
            Err(d)
        }
        Err(TestError::Abort(reason)) => Err(Disagreement::failure(
            &Scenario::new("-"),
            format!("proptest aborted: {reason}"),
        )),
    }
}

/// The observation a system built on the model makes of one step: everything the model
/// answered and the job after it. For systems under test that wrap the model.
pub fn observe(result: &StepResult, job: &Job) -> Observed {
    Observed::from_result(result).with_job(JobSnapshot::of(job))
}
