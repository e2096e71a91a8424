//! The model as a reference state machine for
//! [`proptest-state-machine`](https://docs.rs/proptest-state-machine) (feature
//! `state-machine`).
//!
//! [`Model`] implements [`ReferenceStateMachine`]: its state is a [`Session`] (the job,
//! the tokens, the handles obtained so far), its transitions are [`Step`]s generated one at
//! a time by [`step`] (always valid for the state they are generated from), and applying a
//! step plays it on the session. proptest-state-machine's shrinking removes steps and keeps
//! only sequences whose every step is still valid ([`Session::check`]).
//!
//! Write a [`StateMachineTest`](proptest_state_machine::StateMachineTest) for the system
//! under test: `init_test` builds it from [`Session::header`] (the release, knobs, tokens
//! and job), and `apply` plays the step on it and compares what it answers with
//! [`Session::last_result`] and [`Session::job`] — the reference state *after* the step.
//! `tests/state_machine.rs` in the repository does this for a toy BITS.
//!
//! The generated scenarios use [`ScenarioParams::default`]; to steer them, write a
//! reference machine of your own around [`scenario_header`] and [`step`].

use super::proptest::{ScenarioParams, scenario_header, step};
use crate::scenario::{Session, Step};
use proptest::prelude::*;
pub use proptest_state_machine::ReferenceStateMachine;

/// The model as a reference state machine: state [`Session`], transition [`Step`].
#[derive(Clone, Copy, Debug)]
#[allow(clippy::exhaustive_structs)] // a marker
pub struct Model;

impl ReferenceStateMachine for Model {
    type State = Session;
    type Transition = Step;

    /// A [`scenario_header`] with the default parameters, as a session before any step.
    fn init_state() -> BoxedStrategy<Session> {
        scenario_header(ScenarioParams::default())
            .prop_filter_map("a header the model accepts", |header| {
                Session::new(&header).ok()
            })
            .boxed()
    }

    /// One step valid in `state` ([`step`]).
    fn transitions(state: &Session) -> BoxedStrategy<Step> {
        step(&ScenarioParams::default(), state)
    }

    /// Plays the step; a step the session refuses (which `preconditions` rules out)
    /// leaves it as it was.
    fn apply(mut state: Session, transition: &Step) -> Session {
        // A refused step changes nothing, and preconditions keep refused steps out.
        let _refused = state.step(transition).is_err();
        state
    }

    /// Whether the session can apply the step ([`Session::check`]): what keeps shrunk
    /// sequences valid (a step through a handle whose `query_interface` was removed goes).
    fn preconditions(state: &Session, transition: &Step) -> bool {
        state.check(transition).is_ok()
    }
}
