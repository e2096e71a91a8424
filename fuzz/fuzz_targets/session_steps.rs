//! `session_steps`: the step-at-a-time model on arbitrary scenarios.
//!
//! Whatever JSON scenario the bytes hold, a `Session` plays its steps one at a time
//! without panicking; a step it refuses is refused by `check` with the same error and
//! changes nothing (job, steps taken, handles); and the steps it accepted, run as a whole
//! scenario, give the same results and the same job.
#![no_main]

use bits_helper_token::scenario::{Scenario, Session};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(scenario) = serde_json::from_slice::<Scenario>(data) else {
        return;
    };
    let mut session = match Session::new(&scenario) {
        Ok(session) => session,
        Err(e) => {
            // The job itself is refused: so is the whole scenario, with the same error.
            assert_eq!(scenario.run().unwrap_err(), e);
            return;
        }
    };
    let mut accepted = scenario.clone();
    accepted.steps.clear();
    let mut results = Vec::new();
    for step in &scenario.steps {
        let before = (
            session.job().clone(),
            session.steps_taken(),
            session.handles().map(|(h, ok)| (h.clone(), ok)).collect::<Vec<_>>(),
        );
        let check = session.check(step);
        match session.step(step) {
            Ok(result) => {
                assert_eq!(check, Ok(()));
                assert_eq!(session.last_result(), Some(&result));
                results.push(result);
                accepted.steps.push(step.clone());
            }
            Err(e) => {
                assert_eq!(check, Err(e));
                let after = (
                    session.job().clone(),
                    session.steps_taken(),
                    session.handles().map(|(h, ok)| (h.clone(), ok)).collect::<Vec<_>>(),
                );
                assert_eq!(after, before, "a refused step changed the session");
            }
        }
    }
    let whole = accepted.run().expect("the accepted steps make a valid scenario");
    assert_eq!(whole.results, results);
    assert_eq!(&whole.job, session.job());
});
