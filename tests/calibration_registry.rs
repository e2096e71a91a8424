//! The calibration registry (`calibration/`): every committed report is read as strictly as
//! `bits-helper-token-calibrate` reads it, calibrated, and replayed under the inferred
//! settings — every observation is reproduced except those the table lists as unexplained;
//! and `calibration/README.md`'s table (build → release → inferred knobs → unexplained) is
//! what the reports imply; its second table says what each transfer scenario measures and
//! what the model expects of it. `UPDATE_CALIBRATION=1` rewrites both.

use bits_helper_token::Profile;
use bits_helper_token::calibration::{self, ModelCast, Report, SCENARIOS, Setup, Step};

const START: &str = "<!-- registry:start -->\n";
const END: &str = "<!-- registry:end -->";

fn reports() -> Vec<(String, Report)> {
    let mut files: Vec<_> = std::fs::read_dir("calibration/reports")
        .expect("calibration/reports")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable");
            let report = Report::from_json(&text)
                .unwrap_or_else(|e| panic!("{}:{}:{}: {e}", path.display(), e.line(), e.column()));
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, report)
        })
        .collect()
}

fn table(reports: &[(String, Report)]) -> String {
    let mut out = String::from(
        "| report | provider | build | release | knobs off SPEC's default | unexplained |\n|---|---|---|---|---|---|\n",
    );
    for (name, report) in reports {
        let found = calibration::calibrate(std::slice::from_ref(report)).expect("calibrate");
        for c in &found {
            let off: Vec<String> = c
                .findings
                .iter()
                .filter(|f| f.measured())
                .filter(|f| {
                    let default = bits_helper_token::profile::Knobs::DEFAULT;
                    let mut k = c.knobs;
                    // A finding is off default when setting it back changes the knobs.
                    if f.id == "Q-5" {
                        k.denial = default.denial;
                    } else if let Some(knob) = calibration::KNOBS.iter().find(|k| k.id == f.id) {
                        (knob.set)(&mut k, (knob.get)(&default));
                    }
                    k != c.knobs
                })
                .map(|f| format!("{}={}", f.id, f.setting))
                .collect();
            let unexplained: Vec<String> = c
                .unexplained
                .iter()
                .map(|o| {
                    format!(
                        "{} step {}: {} (model {})",
                        o.scenario, o.step, o.real, o.model
                    )
                })
                .collect();
            out.push_str(&format!(
                "| `{name}` | {} | {} | {} | {} | {} |\n",
                report.provider,
                report
                    .build
                    .map_or("unknown".to_string(), |b| b.to_string()),
                c.release,
                if off.is_empty() {
                    "none".to_string()
                } else {
                    off.join(", ")
                },
                if unexplained.is_empty() {
                    "none".to_string()
                } else {
                    unexplained.join("; ")
                },
            ));
        }
    }
    out
}

#[test]
fn every_committed_report_is_reproduced_by_its_inferred_settings() {
    let reports = reports();
    for (name, report) in &reports {
        for c in calibration::calibrate(std::slice::from_ref(report)).expect("calibrate") {
            // Replay every played scenario under the inferred profile: each answer is the
            // report's, or is listed as unexplained.
            for played in &report.scenarios {
                let mut s = played.scenario.clone();
                s.release = c.release;
                s.knobs = c.knobs;
                let model = calibration::answers(&s);
                for (i, row) in played.steps.iter().enumerate() {
                    let listed = c
                        .unexplained
                        .iter()
                        .any(|o| o.scenario == played.name && o.step == i);
                    assert_eq!(
                        model.get(i).map(|(a, _)| a) == Some(&row.real),
                        !listed,
                        "{name}: {} step {i}",
                        played.name
                    );
                }
            }
        }
    }
    let text = std::fs::read_to_string("calibration/README.md").expect("calibration/README.md");
    let (Some(a), Some(b)) = (text.find(START), text.find(END)) else {
        panic!("calibration/README.md lacks the registry markers");
    };
    let expected = table(&reports);
    if std::env::var_os("UPDATE_CALIBRATION").is_some() {
        std::fs::write(
            "calibration/README.md",
            format!("{}{START}{expected}{}", &text[..a], &text[b..]),
        )
        .unwrap();
        return;
    }
    assert_eq!(
        &text[a + START.len()..b],
        expected,
        "rerun with UPDATE_CALIBRATION=1"
    );
}

const TRANSFERS_START: &str = "<!-- transfers:start -->\n";
const TRANSFERS_END: &str = "<!-- transfers:end -->";

/// The transfer scenarios: the server each meets, the rules it is written for, and what the
/// model expects under SPEC's defaults (the transfer's outcome; who answered the challenge).
fn transfers_table() -> String {
    let mut out = String::from(
        "| scenario | the local server | rules | the model expects (SPEC's defaults) |\n|---|---|---|---|\n",
    );
    let transferring: Vec<_> = SCENARIOS
        .iter()
        .filter(|s| s.setup != Setup::Empty)
        .copied()
        .collect();
    let cast = ModelCast::new();
    let profile = Profile::default();
    let report = calibration::play_model(profile, profile, &cast, &transferring).expect("played");
    for scenario in &transferring {
        let server = match scenario.setup {
            Setup::Challenged { target, offers } => format!("challenges as the {target}: {offers}"),
            _ => "asks nothing".to_string(),
        };
        let expects: Vec<String> = report
            .rows()
            .filter(|(name, _, _)| *name == scenario.name)
            .filter_map(|(_, i, row)| match scenario.steps[i] {
                Step::Transfer => Some(format!("{} {}", row.model.value, row.model.hresult)),
                Step::Presented { .. } => Some(format!("answered by {}", who(&row.model.value))),
                _ => None,
            })
            .collect();
        out.push_str(&format!(
            "| `{}` (owner {}) | {server} | {} | {} |\n",
            scenario.name,
            scenario.owner,
            scenario.rules.join(", "),
            expects.join("; ")
        ));
    }
    out
}

/// A presented SID as the role whose user it is (`current`, `other`), else as recorded.
fn who(value: &str) -> String {
    use bits_helper_token::calibration::{Casting, Role};
    let cast = ModelCast::new();
    [Role::Current, Role::Other]
        .into_iter()
        .find(|&r| cast.token(r).is_ok_and(|t| t.user.to_string() == value))
        .map_or_else(|| value.to_string(), |r| format!("{r} ({value})"))
}

#[test]
fn the_registry_says_what_each_transfer_scenario_measures() {
    let text = std::fs::read_to_string("calibration/README.md").expect("calibration/README.md");
    let (Some(a), Some(b)) = (text.find(TRANSFERS_START), text.find(TRANSFERS_END)) else {
        panic!("calibration/README.md lacks the transfers markers");
    };
    let expected = transfers_table();
    // Every scenario that meets a challenge asks who answered it.
    for s in SCENARIOS
        .iter()
        .filter(|s| matches!(s.setup, Setup::Challenged { .. }))
    {
        assert!(
            s.steps
                .iter()
                .any(|st| matches!(st, Step::Presented { .. })),
            "{}",
            s.name
        );
    }
    if std::env::var_os("UPDATE_CALIBRATION").is_some() {
        std::fs::write(
            "calibration/README.md",
            format!("{}{TRANSFERS_START}{expected}{}", &text[..a], &text[b..]),
        )
        .unwrap();
        return;
    }
    assert_eq!(
        &text[a + TRANSFERS_START.len()..b],
        expected,
        "rerun with UPDATE_CALIBRATION=1"
    );
}
