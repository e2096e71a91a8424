//! The `bits-helper-token-calibrate` binary, run as a user runs it: its options, its exit
//! status (0 when the reports were read, 2 for a bad argument or report), the text and the
//! JSON lines it prints, with and without observations no setting explains.
#![cfg(feature = "cli")]

use bits_helper_token::calibration::{self, ModelCast, Report, SCENARIOS};
use bits_helper_token::profile::Profile;
use std::path::PathBuf;
use std::process::{Command, Output};

fn calibrate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bits-helper-token-calibrate"))
        .args(args)
        .output()
        .expect("the calibrate binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// The report of a Windows that answers as SPEC's defaults say.
fn agreeing_report() -> Report {
    calibration::play_model(
        Profile::default(),
        Profile::default(),
        &ModelCast::new(),
        SCENARIOS,
    )
    .expect("the model plays every scenario")
}

/// Writes `contents` to a file of this test's own and returns its path.
fn file(name: &str, contents: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "bits-helper-token-calibrate-cli-{}-{name}",
        std::process::id()
    ));
    std::fs::write(&path, contents).expect("a temporary file");
    path
}

#[test]
fn help_and_version_succeed() {
    let help = calibrate(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("USAGE:"), "{help:?}");
    let version = calibrate(&["-V"]);
    assert_eq!(version.status.code(), Some(0));
    let out = text(&version.stdout);
    assert!(
        out.starts_with("bits-helper-token-calibrate ") && out.contains("report version"),
        "{out}"
    );
}

#[test]
fn bad_arguments_exit_2_and_say_why() {
    let none = calibrate(&[]);
    assert_eq!(none.status.code(), Some(2));
    assert!(text(&none.stderr).contains("no report given"), "{none:?}");

    let unknown = calibrate(&["--bogus"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains(r#"unknown option "--bogus""#),
        "{unknown:?}"
    );

    // A lone `-` is a file name, not an option: here, one that does not exist.
    let dash = calibrate(&["-"]);
    assert_eq!(dash.status.code(), Some(2));
    let err = text(&dash.stderr);
    assert!(
        err.starts_with("bits-helper-token-calibrate: -: ") && !err.contains("unknown option"),
        "{err}"
    );
}

#[test]
fn a_bad_report_exits_2_with_its_place() {
    let bad = file("bad.json", "{\"version\": 1}");
    let out = calibrate(&[bad.to_str().unwrap()]);
    std::fs::remove_file(&bad).ok();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("line 1, column") && err.contains("not a conformance report"),
        "{err}"
    );
}

#[test]
fn an_agreeing_report_calibrates_to_the_defaults_in_text_and_json() {
    let report = agreeing_report();
    let path = file("agreeing.json", &report.to_json().unwrap());
    let path = path.to_str().unwrap();
    let found = calibration::calibrate(std::slice::from_ref(&report)).unwrap();

    let plain = calibrate(&[path]);
    assert_eq!(plain.status.code(), Some(0), "{plain:?}");
    assert_eq!(text(&plain.stdout), found[0].to_string());

    let json = calibrate(&["--json", path]);
    std::fs::remove_file(path).ok();
    assert_eq!(json.status.code(), Some(0), "{json:?}");
    let out = text(&json.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "one line per release: {out}");
    let line: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(line, serde_json::to_value(Profile::default()).unwrap());
    assert!(line.get("unexplained").is_none(), "{line}");
}

#[test]
fn an_observation_no_setting_explains_is_listed_in_the_json_line() {
    let mut report = agreeing_report();
    // Flags no knob ever stores: the owner sets LOCAL_FILE and reads back 0x3.
    let played = report
        .scenarios
        .iter_mut()
        .find(|p| p.name == "owner-flags-and-token")
        .unwrap();
    played.steps[3].real.value = "0x3".to_string();
    let path = file("unexplained.json", &report.to_json().unwrap());
    let out = calibrate(&["--json", path.to_str().unwrap()]);
    std::fs::remove_file(&path).ok();
    assert_eq!(
        out.status.code(),
        Some(0),
        "a measurement, not a failure: {out:?}"
    );
    let line: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    let unexplained = line["unexplained"].as_array().expect("an array");
    assert_eq!(unexplained.len(), 1, "{line}");
    assert_eq!(unexplained[0]["scenario"], "owner-flags-and-token");
    assert_eq!(unexplained[0]["step"], 3);
    assert_eq!(unexplained[0]["real"]["value"], "0x3");
    assert_eq!(unexplained[0]["model"]["value"], "0x1");
    assert_eq!(
        line["release"],
        serde_json::to_value(Profile::default()).unwrap()["release"]
    );
}
