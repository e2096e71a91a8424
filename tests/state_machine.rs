//! Stateful testing with proptest-state-machine (feature `state-machine`): the model as the
//! reference state machine ([`Model`]), and as the system under test a toy BITS built on
//! the independent reference of `tests/reference/` (written from SPEC.md as tables, sharing
//! no code with the model), driven one generated step at a time. After every step the toy's
//! HRESULT, rule, getter value and job state are compared with the reference state.
//!
//! Then the same toy with a planted bug (`GetHelperTokenFlags` answers 0): the state machine
//! test must fail, and proptest-state-machine's shrinking must bring it down to at most
//! three steps.
#![cfg(feature = "state-machine")]

mod reference;

use bits_helper_token::scenario::{Scenario, Session, Step, StepValue};
use bits_helper_token::support::state_machine::{Model, ReferenceStateMachine};
use proptest::test_runner::{Config, TestError, TestRunner};
use proptest_state_machine::{StateMachineTest, prop_state_machine};

/// The toy system under test: the scenario so far, replayed on the independent reference
/// after each step (quadratic, fine for 30 steps), and what it answered last.
struct Toy {
    scenario: Scenario,
    last: Option<reference::Answer>,
    job: Option<reference::Job>,
    /// The planted bug: `GetHelperTokenFlags` answers 0.
    getter_answers_zero: bool,
}

impl Toy {
    fn new(session: &Session, getter_answers_zero: bool) -> Toy {
        Toy {
            scenario: session.header().clone(),
            last: None,
            job: None,
            getter_answers_zero,
        }
    }

    fn play(&mut self, step: Step) {
        let getter = matches!(step, Step::GetHelperTokenFlags { .. });
        self.scenario.steps.push(step);
        let transcript = reference::run(&self.scenario)
            .unwrap_or_else(|at| panic!("the reference refused step {at} of a valid scenario"));
        let mut last = transcript.results.last().cloned();
        if let (true, true, Some(answer)) = (self.getter_answers_zero, getter, last.as_mut()) {
            if answer.value.is_some() {
                answer.value = Some(reference::StepValue::Flags(0));
            }
        }
        self.last = last;
        self.job = Some(transcript.job);
    }

    /// The toy's last answer and job against the model's (the reference state after the
    /// step).
    fn assert_agrees(&self, model: &Session) {
        let (Some(toy), Some(expected)) = (&self.last, model.last_result()) else {
            panic!("a step was applied, so both answered");
        };
        let step = self.scenario.steps.last().map_or("?", Step::op);
        assert_eq!(toy.hresult, expected.hresult, "{step}: HRESULT");
        assert_eq!(toy.rule, expected.rule.name(), "{step}: rule");
        match (&toy.value, &expected.value) {
            (Some(reference::StepValue::Flags(f)), Some(StepValue::Flags(e))) => {
                assert_eq!(*f, e.bits(), "{step}: GetHelperTokenFlags value");
            }
            (Some(reference::StepValue::Sid(s)), Some(StepValue::Sid(e))) => {
                assert_eq!(s, e, "{step}: GetHelperTokenSid value");
            }
            (Some(reference::StepValue::Route(..)), Some(StepValue::Route { .. }))
            | (None, None) => {}
            (toy, model) => panic!("{step}: value {toy:?} against the model's {model:?}"),
        }
        let (job, expected) = (self.job.as_ref().expect("the toy ran"), model.job());
        assert_eq!(job.state, expected.state(), "{step}: job state");
        assert_eq!(job.flags, expected.flags().bits(), "{step}: stored flags");
        assert_eq!(
            job.helper.map(|h| h.sid),
            expected.helper_token().map(|h| h.sid),
            "{step}: stored helper token"
        );
        assert_eq!(
            job.error.map(|(hr, _)| hr),
            expected.error().map(|e| e.hresult),
            "{step}: job error"
        );
    }
}

/// The toy, as proptest-state-machine runs it.
struct ToyBits;

impl StateMachineTest for ToyBits {
    type SystemUnderTest = Toy;
    type Reference = Model;

    fn init_test(model: &Session) -> Toy {
        Toy::new(model, false)
    }

    fn apply(mut toy: Toy, model: &Session, step: Step) -> Toy {
        toy.play(step);
        toy.assert_agrees(model);
        toy
    }
}

prop_state_machine! {
    #![proptest_config(Config {
        cases: 128,
        failure_persistence: None,
        .. Config::default()
    })]

    /// The toy (the independent reference, step by step) agrees with the model on every
    /// generated step.
    #[test]
    fn the_reference_agrees_with_the_model_step_by_step(sequential 1..30 => ToyBits);
}

/// The toy with the planted bug.
struct BrokenToyBits;

impl StateMachineTest for BrokenToyBits {
    type SystemUnderTest = Toy;
    type Reference = Model;

    fn init_test(model: &Session) -> Toy {
        Toy::new(model, true)
    }

    fn apply(mut toy: Toy, model: &Session, step: Step) -> Toy {
        toy.play(step);
        toy.assert_agrees(model);
        toy
    }
}

#[test]
fn a_getter_answering_zero_is_caught_and_shrunk_to_three_steps() {
    let config = Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config.clone(),
        proptest::test_runner::TestRng::from_seed(
            proptest::test_runner::RngAlgorithm::ChaCha,
            &[5; 32],
        ),
    );
    let result = runner.run(
        &Model::sequential_strategy(1..30),
        |(initial, steps, seen)| {
            BrokenToyBits::test_sequential(config.clone(), initial, steps, seen);
            Ok(())
        },
    );
    let Err(TestError::Fail(why, (initial, steps, _))) = result else {
        panic!("the planted bug must be found: {result:?}");
    };
    assert!(
        why.message().contains("GetHelperTokenFlags value"),
        "the value comparison caught it: {why}"
    );
    // QueryInterface, SetHelperTokenFlags with a non-zero value, GetHelperTokenFlags.
    assert!(
        steps.len() <= 3,
        "shrunk to {} steps: {steps:?}",
        steps.len()
    );
    assert!(
        matches!(steps.last(), Some(Step::GetHelperTokenFlags { .. })),
        "{steps:?}"
    );
    // The shrunk sequence is valid from its initial state, step by step.
    let mut session = initial;
    for step in &steps {
        session.step(step).expect("every shrunk step is valid");
    }
    assert_ne!(session.job().flags().bits(), 0, "{steps:?}");
}
