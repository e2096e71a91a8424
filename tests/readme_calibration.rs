//! The README's knob table (between `<!-- calibration-table:start -->` and
//! `<!-- calibration-table:end -->`) names, for each knob of SPEC §6, the conformance
//! scenarios whose answers change with its setting — computed here by calibrating the
//! model's own report — or why no single machine can tell its settings apart.
//! `UPDATE_README=1 cargo test --all-features --test all readme_calibration::` rewrites it.

use bits_helper_token::calibration::{self, KNOBS, ModelCast, SCENARIOS};
use bits_helper_token::profile::{Profile, Release};

const START: &str = "<!-- calibration-table:start -->\n";
const END: &str = "<!-- calibration-table:end -->";

/// Knobs no scenario of one machine tells apart, and why (tests/calibration.rs checks
/// that calibration says so rather than guess).
const WHY_NOT: &[(&str, &str)] = &[(
    "Q-12",
    "no single machine: R-6 needs a domain's Kerberos proxy",
)];

/// Settings no scenario tells from the default even where the knob is measured, and why
/// (tests/calibration.rs, `unmeasurable`, checks calibration keeps the default for them).
const NOT_TOLD: &[(&str, &str)] = &[("Q-7", "not `owner_only`: A-11, A-5 refuse first")];

fn table() -> String {
    let cast = ModelCast::new();
    let mut rows = String::from("| knob | told apart by (scenario) |\n|---|---|\n");
    let found: Vec<_> = [Release::LATEST, Release::Legacy]
        .iter()
        .map(|&r| {
            let report =
                calibration::play_model(Profile::new(r), Profile::new(r), &cast, SCENARIOS)
                    .expect("the model's report");
            calibration::calibrate(&[report])
                .expect("calibrate")
                .remove(0)
        })
        .collect();
    let ids = KNOBS
        .iter()
        .map(|k| (k.id, k.field))
        .chain([("Q-5", "denial")]);
    let mut ids: Vec<_> = ids.collect();
    ids.sort_by_key(|(id, _)| id[2..].parse::<u32>().unwrap());
    for (id, field) in ids {
        // The scenarios of the latest release, else those before 1607; at most two.
        let by: Vec<String> = found
            .iter()
            .map(|c| {
                let f = c.findings.iter().find(|f| f.id == id).unwrap();
                let names: Vec<String> =
                    f.told_by.iter().take(2).map(|s| format!("`{s}`")).collect();
                let mut cell = names.join(", ");
                if f.told_by.len() > 2 {
                    cell.push_str(", …");
                }
                if !cell.is_empty() && c.release != Release::LATEST {
                    cell.push_str(" (a release before 1607)");
                }
                cell
            })
            .filter(|cell| !cell.is_empty())
            .take(1)
            .collect();
        let why = WHY_NOT.iter().find(|(k, _)| *k == id).map(|(_, w)| *w);
        let cell = match (by.is_empty(), why) {
            (false, None) => by
                .into_iter()
                .chain(
                    NOT_TOLD
                        .iter()
                        .filter(|(k, _)| *k == id)
                        .map(|(_, n)| n.to_string()),
                )
                .collect::<Vec<_>>()
                .join("; "),
            (true, Some(why)) => why.to_string(),
            (false, Some(_)) => panic!("{id} is measured by {by:?}: drop it from WHY_NOT"),
            (true, None) => panic!("no scenario tells {id} apart: add one, or say why in WHY_NOT"),
        };
        rows.push_str(&format!("| {id} `{field}` | {cell} |\n"));
    }
    rows
}

#[test]
fn the_readme_names_the_scenario_that_measures_each_knob() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let expected = table();
    let (Some(a), Some(b)) = (readme.find(START), readme.find(END)) else {
        panic!("README.md lacks the calibration-table markers");
    };
    let current = &readme[a + START.len()..b];
    if std::env::var_os("UPDATE_README").is_some() {
        let updated = format!("{}{START}{expected}{}", &readme[..a], &readme[b..]);
        std::fs::write("README.md", updated).unwrap();
        return;
    }
    assert_eq!(current, expected, "rerun with UPDATE_README=1");
}
