//! Shared fixtures for the integration tests.
#![allow(dead_code)]

use bits_helper_token::{Identity, Sid, token::TokenInfo};

pub fn sid(s: &str) -> Sid {
    s.parse().unwrap()
}

/// A standard user, `S-1-5-21-1-2-3-1001`.
pub fn alice() -> TokenInfo {
    TokenInfo::standard_user(sid("S-1-5-21-1-2-3-1001"))
}

/// Another standard user, `S-1-5-21-1-2-3-1002`.
pub fn bob() -> TokenInfo {
    TokenInfo::standard_user(sid("S-1-5-21-1-2-3-1002"))
}

/// An elevated administrator, `S-1-5-21-1-2-3-500`.
pub fn admin() -> TokenInfo {
    TokenInfo::elevated_administrator(sid("S-1-5-21-1-2-3-500"))
}

/// The same administrator, UAC-filtered.
pub fn filtered_admin() -> TokenInfo {
    TokenInfo::filtered_administrator(sid("S-1-5-21-1-2-3-500"))
}

pub fn id(t: &TokenInfo) -> Identity {
    Identity::of(t)
}

/// The output of [`test_in_child`]: whether it passed, and what it printed.
pub struct ChildRun {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the test `name` (its full path in `tests/all.rs`, as `state_machine::seed_probe`)
/// alone in a child process of this test binary, its output not captured, with
/// `environment` applied to the command first. `ignored`: a probe, a test ignored because
/// only such a child runs it (with the environment that only a child can have).
pub fn test_in_child(
    name: &str,
    ignored: bool,
    environment: impl FnOnce(&mut std::process::Command),
) -> ChildRun {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child.args(["--exact", name, "--nocapture"]);
    if ignored {
        child.arg("--ignored");
    }
    environment(&mut child);
    let out = child.output().unwrap();
    ChildRun {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
