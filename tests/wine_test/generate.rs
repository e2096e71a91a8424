//! Writes `wine/tokenoptions.c` from `calibration::SCENARIOS`: each scenario one can cast
//! on one machine without a second account becomes a test function whose every step
//! checks the model's default answer, with `broken()` for the answers the model gives
//! under another knob setting or release and a `trace()` naming that setting.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use bits_helper_token::HResult;
use bits_helper_token::calibration::{
    self, Answer, Casting, ModelCast, Role, SCENARIOS, Scenario, Setup, Step,
};
use bits_helper_token::profile::{Profile, Release};

use super::fixed;

/// The roles the C test casts from its own process token.
pub const CAST: [Role; 4] = [Role::Current, Role::Filtered, Role::Low, Role::Identify];

/// Why a scenario is not in the C test, or `None` when it is.
pub fn left_out(scenario: &Scenario) -> Option<String> {
    if scenario.setup != Setup::Empty {
        return Some("it transfers a file from a local HTTP server".to_string());
    }
    if let Some(role) = scenario.roles().into_iter().find(|r| !CAST.contains(r)) {
        let what = match role {
            Role::System => "LocalSystem",
            _ => "a second local account",
        };
        return Some(format!("it casts {role}, which needs {what}"));
    }
    if scenario
        .steps
        .iter()
        .any(|s| matches!(s, Step::Resume | Step::Transfer))
    {
        return Some("it resumes the job".to_string());
    }
    None
}

/// The profile whose answers the test expects: the latest release, SPEC's defaults.
fn default_profile() -> Profile {
    Profile::new(Release::LATEST)
}

/// Every other setting the test accepts as `broken()`, by name: one knob changed at a
/// time, then each other release that has the interface (one without it is the skip).
fn variants() -> Vec<(String, Profile)> {
    let base = default_profile();
    calibration::variants(base)
        .into_iter()
        .filter(|(_, v)| v.release == base.release || v.release.has_token_options())
        .collect()
}

/// The model's answer to every step of `scenario` under `profile`, with the rule.
fn answers(scenario: &Scenario, profile: Profile) -> Result<Vec<(Answer, &'static str)>, String> {
    let oracle = scenario.oracle(profile, &ModelCast::new())?;
    let answers = calibration::answers(&oracle);
    if answers.len() != scenario.steps.len() {
        return Err(format!(
            "{}: the model answers {} of {} steps",
            scenario.name,
            answers.len(),
            scenario.steps.len()
        ));
    }
    Ok(answers)
}

fn c_role(role: Role) -> String {
    format!("ROLE_{}", role.name().to_uppercase())
}

fn hresult(hr: HResult) -> String {
    format!(
        "0x{:08x} /* {} */",
        hr.as_u32(),
        hr.name().unwrap_or("an HRESULT the model does not name")
    )
}

fn hresult_text(hr: HResult) -> String {
    match hr.name() {
        Some(name) => format!("0x{:08x} ({name})", hr.as_u32()),
        None => format!("0x{:08x}", hr.as_u32()),
    }
}

/// Text for a C string literal.
fn c_string(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%%")
}

/// One answer as a C condition on `s.a`, and as words for the failure message.
struct Expected {
    condition: String,
    words: String,
}

/// The helper whose SID a `GetHelperTokenSid` at step `at` should give: the role of the
/// last `SetHelperToken` before it that succeeded, unless a `ClearHelperToken` succeeded
/// since (under the answers `answers`).
fn helper_before(steps: &[Step], answers: &[(Answer, &str)], at: usize) -> Option<Role> {
    let mut helper = None;
    for (step, (answer, _)) in steps.iter().zip(answers).take(at) {
        if answer.hresult != HResult::S_OK || answer.value == Answer::no_handle().value {
            continue;
        }
        match *step {
            Step::SetToken { helper: h, .. } => helper = Some(h),
            Step::Clear { .. } => helper = None,
            _ => {}
        }
    }
    helper
}

/// The role whose user SID `sid` is: `helper` when it is that one, else the first role
/// the scenario casts, else any role the test casts.
fn role_of_sid(sid: &str, helper: Option<Role>, roles: &[Role]) -> Option<Role> {
    let cast = ModelCast::new();
    let is = |role: Role| cast.token(role).is_ok_and(|t| t.user.to_string() == sid);
    helper
        .into_iter()
        .chain(roles.iter().copied())
        .chain(CAST)
        .find(|&r| CAST.contains(&r) && is(r))
}

fn expected(
    step: Step,
    answer: &Answer,
    helper: Option<Role>,
    roles: &[Role],
) -> Result<Expected, String> {
    let hr = answer.hresult;
    if answer.value == Answer::no_handle().value {
        return Ok(Expected {
            condition: "no_handle(&s.a)".to_string(),
            words: "not called (no handle)".to_string(),
        });
    }
    if answer.value.is_empty() {
        return Ok(Expected {
            condition: format!("hr_is(&s.a, {})", hresult(hr)),
            words: hresult_text(hr),
        });
    }
    match step {
        Step::GetFlags { .. } => {
            let digits = answer.value.trim_start_matches("0x");
            let flags = u32::from_str_radix(digits, 16)
                .map_err(|e| format!("flags {:?}: {e}", answer.value))?;
            Ok(Expected {
                condition: format!("flags_are(&s.a, {}, {flags:#x})", hresult(hr)),
                words: format!("{} and flags {flags:#x}", hresult_text(hr)),
            })
        }
        Step::GetSid { .. } if answer.value == "NULL" => Ok(Expected {
            condition: format!("sid_is_null(&s.a, {})", hresult(hr)),
            words: format!("{} and no SID", hresult_text(hr)),
        }),
        Step::GetSid { .. } => {
            let role = role_of_sid(&answer.value, helper, roles)
                .ok_or_else(|| format!("SID {} is no role's the test casts", answer.value))?;
            Ok(Expected {
                condition: format!("sid_is(&s.a, {}, {})", hresult(hr), c_role(role)),
                words: format!("{} and the SID of {role}", hresult_text(hr)),
            })
        }
        _ => Err(format!(
            "{step}: no C form for the value {:?}",
            answer.value
        )),
    }
}

/// The call of one step, and whether it can stop the scenario (it impersonates).
fn call(step: Step) -> Result<(String, bool), String> {
    Ok(match step {
        Step::QueryInterface { caller, handle } => (
            format!("query_interface(&s, {}, {handle})", c_role(caller)),
            true,
        ),
        Step::SetFlags { handle, flags } => (format!("set_flags(&s, {handle}, {flags:#x})"), false),
        Step::GetFlags { handle } => (format!("get_flags(&s, {handle})"), false),
        Step::SetToken { handle, helper } => {
            (format!("set_token(&s, {handle}, {})", c_role(helper)), true)
        }
        Step::Clear { handle } => (format!("clear_token(&s, {handle})"), false),
        Step::GetSid { handle } => (format!("get_sid(&s, {handle})"), false),
        Step::Cancel => ("cancel(&s)".to_string(), false),
        Step::TakeOwnership { by } => (format!("take_ownership(&s, {})", c_role(by)), true),
        other => return Err(format!("{other}: the C test has no such step")),
    })
}

fn function_name(scenario: &Scenario) -> String {
    format!("test_{}", scenario.name.replace('-', "_"))
}

/// One scenario as a C test function.
fn scenario_function(scenario: &Scenario, out: &mut String) -> Result<(), String> {
    let roles = scenario.roles();
    let expected_answers = answers(scenario, default_profile())?;
    let mut others = Vec::new();
    for (name, profile) in variants() {
        others.push((name, answers(scenario, profile)?));
    }
    let mask = roles
        .iter()
        .map(|&r| format!("ROLE({})", c_role(r)))
        .collect::<Vec<_>>()
        .join(" | ");
    let w = |out: &mut String, line: &str| {
        out.push_str(line);
        out.push('\n');
    };
    w(
        out,
        &format!(
            "/* {} ({}): a job of {}'s */",
            scenario.name,
            scenario.rules.join(", "),
            scenario.owner
        ),
    );
    w(
        out,
        &format!("static void {}(void)", function_name(scenario)),
    );
    w(out, "{");
    w(out, "    struct scenario s;");
    w(out, "");
    w(
        out,
        &format!(
            "    if (!begin(&s, \"{}\", {}, {mask}))",
            scenario.name,
            c_role(scenario.owner)
        ),
    );
    w(out, "        return;");
    let mut stops = false;
    for (i, &step) in scenario.steps.iter().enumerate() {
        let n = i + 1;
        let (answer, rule) = &expected_answers[i];
        let helper = helper_before(scenario.steps, &expected_answers, i);
        let expect = expected(step, answer, helper, &roles)?;
        // The other answers the model gives at this step, each with its settings.
        let mut alternatives: BTreeMap<String, (Expected, Vec<String>)> = BTreeMap::new();
        let mut order = Vec::new();
        for (name, theirs) in &others {
            let (other, _) = &theirs[i];
            if other == answer {
                continue;
            }
            let helper = helper_before(scenario.steps, theirs, i);
            let e = expected(step, other, helper, &roles)?;
            if e.condition == expect.condition {
                continue;
            }
            let key = e.condition.clone();
            if !alternatives.contains_key(&key) {
                order.push(key.clone());
            }
            alternatives
                .entry(key)
                .or_insert_with(|| (e, Vec::new()))
                .1
                .push(name.clone());
        }
        let step_text = c_string(&step.to_string());
        w(out, "");
        w(
            out,
            &format!(
                "    /* {n}. {step}: expect {}, rule {rule} */",
                expect.words
            ),
        );
        let (call, impersonates) = call(step)?;
        if impersonates {
            w(out, &format!("    if (!{call}) goto done;"));
            stops = true;
        } else {
            w(out, &format!("    {call};"));
        }
        let mut condition = format!("    ok({}", expect.condition);
        for key in &order {
            let (e, names) = &alternatives[key];
            write!(
                condition,
                "\n       || broken({}) /* {} */",
                e.condition,
                names.join(", ")
            )
            .map_err(|e| e.to_string())?;
        }
        w(out, &format!("{condition},"));
        w(
            out,
            &format!(
                "       \"%s step {n}, {step_text}: got %s, expected {}\\n\", s.name, describe(&s.a));",
                c_string(&expect.words)
            ),
        );
        for key in &order {
            let (e, names) = &alternatives[key];
            w(
                out,
                &format!(
                    "    if ({}) trace(\"%s step {n}: {}\\n\", s.name);",
                    e.condition,
                    c_string(&names.join(" or "))
                ),
            );
        }
    }
    if stops {
        w(out, "");
        w(out, "done:");
    }
    w(out, "    end(&s);");
    w(out, "}");
    w(out, "");
    Ok(())
}

/// The file's opening comment, before the scenarios left out.
const HEADER: &[&str] = &[
    "Unit test suite for IBitsTokenOptions: the helper token of a BITS job",
    "",
    "Generated by tests/wine_test.rs of the Rust crate bits-helper-token from its",
    "conformance scenarios (calibration::SCENARIOS) and its model's answers; do not edit.",
    "Regenerate with: UPDATE_WINE_TEST=1 cargo test --all-features --test all wine_test::",
    "SPDX-License-Identifier: MIT OR Apache-2.0",
    "",
    "Each scenario creates a job as its owner and plays its steps, impersonating the role",
    "each step names. Every answer is checked against the model's default (Windows 10",
    "1809 and later, the knobs at SPEC's defaults). An answer the model gives only under",
    "another knob setting or an older release is accepted as broken(), and a trace line",
    "names that setting (\"Q-1=invalid_arg\"): the log tells how this Windows is",
    "calibrated. Under Wine, which has no IBitsTokenOptions, the test skips.",
    "",
    "Roles: current is this process's token, an elevated administrator (scenarios that",
    "cast it, or its copy, are skipped otherwise); filtered is the same with",
    "BUILTIN\\Administrators deny-only; low is filtered at Low integrity; identify is",
    "current copied at identification level.",
    "",
    "Left out:",
];

/// The whole of `wine/tokenoptions.c`.
pub fn generate() -> Result<String, String> {
    let played: Vec<&Scenario> = SCENARIOS.iter().filter(|s| left_out(s).is_none()).collect();
    let mut out = String::new();
    out.push_str("/*\n");
    for line in HEADER {
        if line.is_empty() {
            out.push_str(" *\n");
        } else {
            writeln!(out, " * {line}").map_err(|e| e.to_string())?;
        }
    }
    for scenario in SCENARIOS {
        if let Some(why) = left_out(scenario) {
            writeln!(out, " *   {}: {why}", scenario.name).map_err(|e| e.to_string())?;
        }
    }
    out.push_str(" */\n\n");
    out.push_str(fixed::INCLUDES);
    let handles = played
        .iter()
        .flat_map(|s| s.steps.iter().map(|step| step.handle() + 1))
        .max()
        .unwrap_or(1);
    writeln!(out, "\n#define MAX_HANDLES {handles}").map_err(|e| e.to_string())?;
    out.push_str(fixed::HELPERS);
    out.push('\n');
    for scenario in &played {
        scenario_function(scenario, &mut out)?;
    }
    out.push_str(fixed::MAIN_HEAD.trim_start_matches('\n'));
    for scenario in &played {
        writeln!(out, "        {}();", function_name(scenario)).map_err(|e| e.to_string())?;
    }
    out.push_str(fixed::MAIN_TAIL);
    Ok(out)
}
