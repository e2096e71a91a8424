//! Stateful testing against the model (feature `state-machine`): the model as a reference
//! state machine for [`proptest-state-machine`](https://docs.rs/proptest-state-machine), a
//! runner that needs no macro, and failure reports short enough to read.
//!
//! [`Model`] implements [`ReferenceStateMachine`]: its state is a [`ModelState`] (the
//! session — tokens, handles, the job — and the steps so far), its transitions are
//! [`ModelStep`]s generated one at a time, always valid for the state they come from.
//! Steer the generation with a [`ModelParams`] type: which operations, tokens, releases and
//! knobs ([`ScenarioParams`]), so a system that implements part of BITS is tested on that
//! part. Write a [`StateMachineTest`] for the system under test — `init_test` builds it
//! from [`ModelState::header`], `apply` plays the step on it and hands what it answered to
//! [`ModelState::assert_agrees`] — and run it with [`check`].
//!
//! Both crates are re-exported ([`proptest`](mod@proptest), [`proptest_state_machine`]): a test needs no
//! dependency of its own on them, and never meets a second version.
//!
//! **Reproducible.** [`Settings::default`] takes its seed from the environment variable
//! `BITS_HELPER_TOKEN_SEED`: unset, a fixed seed (so CI is deterministic); a number, that
//! seed; `random`, a fresh one. A failure names its seed and the line that replays it.
//!
//! **Short failures.** A failing run returns a [`Failure`] whose `Display` fits in 60
//! lines: the disagreeing step, the model's answer with its explanation, the system's
//! answer, the minimal sequence as one line for `bits-helper-token-oracle` (runnable as it
//! is), and the seed. While shrinking, the disagreements [`ModelState::assert_agrees`]
//! raises print nothing.
//!
//! ```
//! use bits_helper_token::scenario::{Session, Step};
//! use bits_helper_token::support::harness::Observed;
//! use bits_helper_token::support::state_machine::{
//!     Defaults, Model, ModelState, ModelStep, Settings, StateMachineTest, check,
//! };
//!
//! /// A toy BITS under test: the model itself, with a planted bug — every getter answers
//! /// flags 0.
//! struct Toy {
//!     session: Session,
//! }
//!
//! struct ToyTest;
//!
//! impl StateMachineTest for ToyTest {
//!     type SystemUnderTest = Toy;
//!     type Reference = Model<Defaults>;
//!
//!     fn init_test(model: &ModelState) -> Toy {
//!         Toy { session: Session::new(model.header()).expect("the model's own header") }
//!     }
//!
//!     fn apply(mut toy: Toy, model: &ModelState, step: ModelStep) -> Toy {
//!         let step: Step = step.into_step();
//!         let mut answer = toy.session.step(&step).expect("a valid step");
//!         if let Some(bits_helper_token::scenario::StepValue::Flags(f)) = &mut answer.value {
//!             *f = bits_helper_token::TokenUsage::empty(); // the bug
//!         }
//!         model.assert_agrees(&Observed::from_result(&answer));
//!         toy
//!     }
//! }
//!
//! let failure = check::<ToyTest>(&Settings::default()).expect_err("the bug is found");
//! let report = failure.to_string();
//! assert!(report.contains("get_helper_token_flags"), "{report}");
//! assert!(report.lines().count() <= 60, "{report}");
//! ```

use super::harness::{Compare, Disagreement, Observed};
use super::proptest::{ScenarioParams, scenario_header, step};
use crate::scenario::{Scenario, Session, Step};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestError, TestRunner};

pub use super::harness::{DEFAULT_SEED, SEED_VARIABLE, seed_from_env};
pub use proptest;
pub use proptest_state_machine;
pub use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};

/// How [`Model`] generates: the [`ScenarioParams`] of its scenarios.
pub trait ModelParams: 'static {
    /// The parameters (default: [`ScenarioParams::default`]).
    fn params() -> ScenarioParams {
        ScenarioParams::default()
    }
}

/// The default parameters.
#[derive(Clone, Copy, Debug)]
#[allow(clippy::exhaustive_structs)] // a marker
pub struct Defaults;

impl ModelParams for Defaults {}

/// The model as a reference state machine, generating as `P` says.
#[derive(Clone, Copy, Debug)]
#[allow(clippy::exhaustive_structs)] // a marker
pub struct Model<P: ModelParams = Defaults>(PhantomData<P>);

/// The reference state: the session before or after a step, and the steps played so far.
#[derive(Clone)]
pub struct ModelState {
    session: Session,
    steps: Vec<Step>,
}

impl ModelState {
    /// The state before any step of `header`.
    pub fn new(header: &Scenario) -> Option<ModelState> {
        Some(ModelState {
            session: Session::new(header).ok()?,
            steps: Vec::new(),
        })
    }

    /// The scenario the system under test starts from: release, knobs, environment,
    /// tokens, job (no steps).
    pub fn header(&self) -> &Scenario {
        self.session.header()
    }

    /// The model's session now.
    pub const fn session(&self) -> &Session {
        &self.session
    }

    /// The steps played so far.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The scenario played so far: the header and the steps (one line for the oracle with
    /// `serde_json::to_string`), keeping only the tokens of the users the job and the
    /// steps name (a user's other tokens stay: they decide whether it is logged on, L-11).
    pub fn scenario(&self) -> Scenario {
        let mut s = self.header().clone();
        s.steps = self.steps.clone();
        let mut named: Vec<&str> = alloc::vec![s.job.owner.as_str()];
        named.extend(s.job.helper_token.as_deref());
        named.extend(s.steps.iter().flat_map(Step::tokens));
        let users: Vec<crate::sid::Sid> = named
            .iter()
            .filter_map(|n| s.tokens.get(*n).map(|t| t.user))
            .collect();
        s.tokens.retain(|_, t| users.contains(&t.user));
        s
    }

    /// Compares what the system under test answered for the last step with the model (the
    /// HRESULT and the value; [`Compare::Values`]). On a difference it panics with a short
    /// report: the step, both answers, the model's explanation and the scenario so far as
    /// one oracle line. [`check`] keeps such panics quiet while it shrinks and returns the
    /// report of the minimal sequence.
    #[track_caller]
    pub fn assert_agrees(&self, observed: &Observed) {
        self.assert_agrees_at(Compare::Values, observed);
    }

    /// [`ModelState::assert_agrees`] at another comparison level.
    #[track_caller]
    pub fn assert_agrees_at(&self, mode: Compare, observed: &Observed) {
        if let Some(d) = self.disagreement(mode, observed) {
            disagree(d);
        }
    }

    /// What differs between `observed` and the model's answer to the last step, if
    /// anything.
    pub fn disagreement(&self, mode: Compare, observed: &Observed) -> Option<Disagreement> {
        let expected = self.session.last_result()?;
        let job = crate::scenario::JobSnapshot::of(self.session.job());
        let mismatch = super::harness::mismatch(mode, expected, &job, observed)?;
        let scenario = self.scenario();
        let explanation = replay_explanation(&scenario);
        Some(Disagreement::at(
            scenario,
            self.steps.len(),
            mismatch,
            *expected,
            job,
            observed.clone(),
            explanation,
        ))
    }
}

/// Fails the current sequence with `report`, as [`ModelState::assert_agrees`] does — for a
/// system under test that compares in its own way: quiet while [`check`] shrinks, and
/// `report` (keep it short) in the [`Failure`] of the minimal sequence.
#[track_caller]
pub fn disagree(report: impl fmt::Display) -> ! {
    std::panic::panic_any(format!("{MARKER}{report}"))
}

/// The sentence the model gives for the last step of `scenario`.
fn replay_explanation(scenario: &Scenario) -> Option<String> {
    let mut s = scenario.clone();
    s.explain = true;
    s.run().ok()?.explanations.pop()
}

/// The first line of every disagreement [`ModelState::assert_agrees`] raises.
const MARKER: &str = "the system under test disagrees with the model: ";

/// One line: the header as the oracle reads it, and the steps so far.
impl fmt::Debug for ModelState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = serde_json::to_string(self.header()).map_err(|_| fmt::Error)?;
        write!(f, "ModelState({header}, {} steps)", self.steps.len())
    }
}

/// A transition: one step, printed as its oracle JSON.
#[derive(Clone, PartialEq, Eq)]
#[allow(clippy::exhaustive_structs)] // a step, and nothing else
pub struct ModelStep(pub Step);

impl ModelStep {
    /// The step.
    pub fn into_step(self) -> Step {
        self.0
    }
}

impl fmt::Debug for ModelStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&serde_json::to_string(&self.0).map_err(|_| fmt::Error)?)
    }
}

impl<P: ModelParams> ReferenceStateMachine for Model<P> {
    type State = ModelState;
    type Transition = ModelStep;

    /// A [`scenario_header`] with `P`'s parameters, as a state before any step.
    fn init_state() -> BoxedStrategy<ModelState> {
        scenario_header(P::params())
            .prop_filter_map("a header the model accepts", |h| ModelState::new(&h))
            .boxed()
    }

    /// One step valid in `state` ([`step`]).
    fn transitions(state: &ModelState) -> BoxedStrategy<ModelStep> {
        step(&P::params(), &state.session)
            .prop_map(ModelStep)
            .boxed()
    }

    /// Plays the step; a step the session refuses (which `preconditions` rules out)
    /// leaves it as it was.
    fn apply(mut state: ModelState, transition: &ModelStep) -> ModelState {
        if state.session.step(&transition.0).is_ok() {
            state.steps.push(transition.0.clone());
        }
        state
    }

    /// Whether the session can apply the step ([`Session::check`]): what keeps shrunk
    /// sequences valid.
    fn preconditions(state: &ModelState, transition: &ModelStep) -> bool {
        state.session.check(&transition.0).is_ok()
    }
}

/// How [`check`] runs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// Sequences to run (default 1024).
    pub cases: u32,
    /// The most steps in one sequence (default 30).
    pub max_steps: usize,
    /// The seed (default: [`seed_from_env`], or [`DEFAULT_SEED`] if the variable is
    /// malformed — [`check`] then fails, saying so).
    pub seed: u64,
    /// A malformed [`SEED_VARIABLE`], reported by [`check`].
    seed_error: Option<String>,
}

impl Default for Settings {
    fn default() -> Settings {
        let (seed, seed_error) = super::harness::seed_or_error();
        Settings {
            cases: 1024,
            max_steps: 30,
            seed,
            seed_error,
        }
    }
}

impl Settings {
    /// The same settings with another seed.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Settings {
        self.seed = seed;
        self.seed_error = None;
        self
    }

    /// The same settings with another number of sequences.
    #[must_use]
    pub fn with_cases(mut self, cases: u32) -> Settings {
        self.cases = cases;
        self
    }
}

/// A passing run: how many sequences and steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pass {
    /// Sequences run.
    pub cases: u32,
    /// The seed used.
    pub seed: u64,
}

/// A failing run: the minimal failing sequence and why it fails.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failure {
    /// The seed of the run.
    pub seed: u64,
    /// Whether the system under test reported the disagreement through
    /// [`ModelState::assert_agrees`] (then `message` is its report: the step, both
    /// answers, the model's explanation and the minimal sequence as one oracle line).
    pub reported: bool,
    /// The failure's message: the disagreement's report, or another panic's message.
    pub message: String,
    /// The minimal failing sequence as one oracle line (header and steps).
    pub scenario: String,
}

/// At most 60 lines: the report (with the minimal sequence as one oracle line), the seed.
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Another panic's message is cut to fit.
        for line in self
            .message
            .lines()
            .take(if self.reported { 50 } else { 40 })
        {
            writeln!(f, "{line}")?;
        }
        if !self.reported && !self.scenario.is_empty() {
            writeln!(
                f,
                "the minimal sequence, one line for `bits-helper-token-oracle`:\n{}",
                self.scenario
            )?;
        }
        write!(
            f,
            "seed {seed:#x}; replay with {SEED_VARIABLE}={seed:#x}",
            seed = self.seed
        )
    }
}

/// Runs `T` against the model: `settings.cases` sequences of up to `settings.max_steps`
/// steps from `T::Reference`, each played on a fresh system under test; on a failure,
/// proptest-state-machine shrinks the sequence and the minimal one is reported.
/// Disagreements raised by [`ModelState::assert_agrees`] print nothing while shrinking.
pub fn check<T>(settings: &Settings) -> Result<Pass, Failure>
where
    T: StateMachineTest,
    T::Reference: ReferenceStateMachine<State = ModelState, Transition = ModelStep>,
{
    if let Some(e) = &settings.seed_error {
        return Err(Failure {
            seed: settings.seed,
            reported: false,
            message: e.clone(),
            scenario: String::new(),
        });
    }
    install_quiet_hook();
    let config = Config {
        cases: settings.cases,
        rng_seed: RngSeed::Fixed(settings.seed),
        failure_persistence: None,
        // Never "Aborting shrinking after …": a minimal sequence is a few steps. (u32::MAX
        // itself would mean "four times the cases".)
        max_shrink_iters: u32::MAX - 1,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config.clone());
    let strategy = T::Reference::sequential_strategy(1..=settings.max_steps.max(1));
    let result = runner.run(&strategy, |(initial, transitions, seen)| {
        T::test_sequential(config.clone(), initial, transitions, seen);
        Ok(())
    });
    match result {
        Ok(()) => Ok(Pass {
            cases: settings.cases,
            seed: settings.seed,
        }),
        Err(TestError::Fail(reason, (initial, transitions, _))) => {
            let mut state = initial;
            for t in &transitions {
                state = T::Reference::apply(state, t);
            }
            Err(failure(settings.seed, &reason, &state))
        }
        Err(TestError::Abort(reason)) => Err(Failure {
            seed: settings.seed,
            reported: false,
            message: format!("proptest aborted: {reason}"),
            scenario: String::new(),
        }),
    }
}

/// The report of a failure at `state` (the minimal sequence played on the model).
fn failure(seed: u64, reason: &proptest::test_runner::Reason, state: &ModelState) -> Failure {
    let message = reason.message().to_string();
    let scenario = serde_json::to_string(&state.scenario()).unwrap_or_default();
    match message.strip_prefix(MARKER) {
        Some(report) => Failure {
            seed,
            reported: true,
            message: report.to_string(),
            scenario,
        },
        None => Failure {
            seed,
            reported: false,
            message,
            scenario,
        },
    }
}

/// A panic hook that stays silent for the disagreements [`ModelState::assert_agrees`]
/// raises (they are reported once, by [`check`]) and defers to the previous hook for any
/// other panic. Installed once.
fn install_quiet_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(alloc::boxed::Box::new(move |info| {
            let ours = info
                .payload()
                .downcast_ref::<String>()
                .is_some_and(|m| m.starts_with(MARKER));
            if !ours {
                previous(info);
            }
        }));
    });
}
