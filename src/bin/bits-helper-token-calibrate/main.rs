//! `bits-helper-token-calibrate`: which knob settings make the model reproduce what real
//! Windows answered. It reads conformance reports (`cargo run --example conformance`
//! writes them) and prints, for each release they come from, the inferred settings — or
//! the observations no setting explains. It asks `bits_helper_token::calibration`, which
//! replays the model; it decides nothing itself.

use bits_helper_token::calibration::{self, Report};
use std::process::ExitCode;

const HELP: &str = "\
bits-helper-token-calibrate — knob settings from conformance reports (SPEC version 3)

USAGE:
    bits-helper-token-calibrate [--json] REPORT...

Reads each REPORT (the JSON the conformance runner writes: cargo run --example conformance
--features windows,cli -- --report FILE) and, for each release the reports come from (A-3,
from the Windows build), tries every setting of every Q- knob (Q-5 over the failure codes
observed) and prints the settings under which the model reproduces every observed answer,
the scenarios that measured each knob, and the observations no setting explains (each a
SPEC finding). Among equally good settings, the fewest knobs away from SPEC's defaults win.

OUTPUT:
    text (default)   per release: each knob, its setting, measured by which scenarios
    --json           one line per release: {\"release\": ..., \"knobs\": {...}}, the profile
                     the oracle accepts (its \"release\" and \"knobs\" fields), then
                     \"unexplained\": [...] when some observation is not reproduced

EXIT STATUS:
    0  the reports were read (unexplained observations are measurements, not failures)
    2  a bad argument, or a report that cannot be read or replayed

OPTIONS:
        --json       JSON lines instead of text
    -h, --help       print this help
    -V, --version    print the version
";

fn main() -> ExitCode {
    let mut json = false;
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                return ExitCode::SUCCESS;
            }
            "-V" | "--version" => {
                println!(
                    "bits-helper-token-calibrate {} (report version {}, SPEC version 3)",
                    env!("CARGO_PKG_VERSION"),
                    calibration::REPORT_VERSION
                );
                return ExitCode::SUCCESS;
            }
            "--json" => json = true,
            flag if flag.starts_with('-') && flag != "-" => {
                return fail(&format!("unknown option {flag:?} (try --help)"));
            }
            file => files.push(file.to_string()),
        }
    }
    if files.is_empty() {
        return fail("no report given (try --help)");
    }
    let mut reports = Vec::new();
    for file in &files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) => return fail(&format!("{file}: {e}")),
        };
        match Report::from_json(&text) {
            Ok(report) => reports.push(report),
            Err(e) => {
                return fail(&format!(
                    "{file}, line {}, column {}: not a conformance report: {e}",
                    e.line(),
                    e.column()
                ));
            }
        }
    }
    let found = match calibration::calibrate(&reports) {
        Ok(found) => found,
        Err(e) => return fail(&format!("cannot calibrate: {e}")),
    };
    for c in &found {
        if json {
            let mut line = match serde_json::to_value(c.profile()) {
                Ok(v) => v,
                Err(e) => return fail(&format!("cannot write the profile: {e}")),
            };
            if !c.unexplained.is_empty()
                && let Some(object) = line.as_object_mut()
            {
                object.insert(
                    "unexplained".to_string(),
                    c.unexplained
                        .iter()
                        .map(|o| {
                            serde_json::json!({
                                "scenario": o.scenario,
                                "step": o.step,
                                "call": o.call,
                                "real": o.real,
                                "model": o.model,
                            })
                        })
                        .collect(),
                );
            }
            println!("{line}");
        } else {
            print!("{c}");
        }
    }
    ExitCode::SUCCESS
}

fn fail(message: &str) -> ExitCode {
    eprintln!("bits-helper-token-calibrate: {message}");
    ExitCode::from(2)
}
