//! `calibration_report`: a conformance runner's report, as `bits-helper-token-calibrate`
//! reads it, on arbitrary bytes.
//!
//! `Report::from_json` never panics; a report it accepts writes back (`to_json`) to one it
//! reads as equal. `calibrate` on it never panics: it infers settings for the report's
//! release, over exactly the report's scenarios and rows, with no more unexplained
//! observations than rows, and the inferred profile is one the oracle reads back; or it
//! refuses the report, naming a scenario of it. (`calibrate` replays the report under every
//! combination of knob settings -- 0.4 s for one one-step scenario with the sanitizer on --
//! so it is asked only of reports of one scenario of at most twelve steps.)
#![no_main]

use bits_helper_token::Profile;
use bits_helper_token::calibration::{Report, calibrate};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(report) = Report::from_json(text) else {
        return;
    };
    let written = report.to_json().expect("an accepted report serializes");
    assert_eq!(
        Report::from_json(&written).expect("a written report reads back"),
        report
    );
    if report.scenarios.len() != 1 || report.scenarios[0].steps.len() > 12 {
        return;
    }
    match calibrate(std::slice::from_ref(&report)) {
        Ok(found) => {
            assert_eq!(found.len(), 1, "one release, one calibration");
            let c = &found[0];
            assert_eq!(c.release, report.release);
            assert_eq!(c.scenarios, report.scenarios.len());
            assert_eq!(c.observations, report.rows().count());
            assert!(c.unexplained.len() <= c.observations);
            let profile = serde_json::to_string(&c.profile()).expect("a profile serializes");
            assert_eq!(
                serde_json::from_str::<Profile>(&profile).expect("the oracle reads it"),
                c.profile()
            );
            let _ = c.to_string();
        }
        Err(e) => assert!(
            report.scenarios.iter().any(|p| p.name == e.scenario),
            "refused for a scenario the report does not hold: {e:?}"
        ),
    }
});
