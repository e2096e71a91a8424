//! `wine/tokenoptions.c`, the conformance scenarios as a test in the form of Wine's
//! `dlls/qmgr/tests`, is generated from `calibration::SCENARIOS` and the model's answers
//! (`tests/wine_test/generate.rs`): this test fails when the committed file differs from
//! what the generator writes now. `UPDATE_WINE_TEST=1 cargo test --all-features --test
//! all wine_test::` rewrites it. `scripts/wine-tokenoptions` compiles it with mingw-w64 and runs
//! it under Wine.

mod fixed;
mod generate;

use std::path::PathBuf;

use bits_helper_token::calibration::SCENARIOS;

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("wine/tokenoptions.c")
}

fn generated() -> String {
    generate::generate().unwrap_or_else(|e| panic!("the generator failed: {e}"))
}

#[test]
fn wine_tokenoptions_c_is_generated_from_the_scenarios() {
    let expected = generated();
    let on_disk = std::fs::read_to_string(path()).unwrap_or_default();
    if on_disk == expected {
        return;
    }
    if std::env::var_os("UPDATE_WINE_TEST").is_some_and(|v| v == "1") {
        std::fs::write(path(), &expected).expect("wine/tokenoptions.c is writable");
        return;
    }
    let line = on_disk
        .lines()
        .zip(expected.lines())
        .position(|(a, b)| a != b)
        .map_or_else(
            || on_disk.lines().count().min(expected.lines().count()) + 1,
            |i| i + 1,
        );
    panic!(
        "wine/tokenoptions.c differs from what the generator writes (first at line {line}). \
         It is generated: if the scenarios or the model changed deliberately, run\n    \
         UPDATE_WINE_TEST=1 cargo test --all-features --test all wine_test::\nand review the diff."
    );
}

#[test]
fn the_generator_writes_the_same_text_twice() {
    assert_eq!(generated(), generated());
}

/// The lines of one scenario's function.
fn function(text: &str, scenario: &str) -> String {
    let start = format!("static void test_{}(void)", scenario.replace('-', "_"));
    let at = text
        .find(&start)
        .unwrap_or_else(|| panic!("no function for {scenario}"));
    let end = text[at..].find("\n}\n").expect("the function ends") + at;
    text[at..end].to_string()
}

/// The block of step `n` (from its comment to the next step's).
fn step(function: &str, n: usize) -> String {
    let start = format!("    /* {n}. ");
    let at = function
        .find(&start)
        .unwrap_or_else(|| panic!("no step {n}"));
    let next = format!("    /* {}. ", n + 1);
    let end = function[at..]
        .find(&next)
        .or_else(|| function[at..].find("\ndone:"))
        .map_or(function.len(), |e| e + at);
    function[at..end].to_string()
}

#[test]
fn the_checks_say_what_the_model_says() {
    // Spot checks against SPEC, so that a wrong generator cannot pass by itself.
    let text = generated();

    // unknown flag bits are E_NOTIMPL by default, E_INVALIDARG or masked elsewhere.
    let unknown = step(&function(&text, "unknown-flag-bits"), 2);
    assert!(unknown.contains("set_flags(&s, 0, 0x4);"), "{unknown}");
    assert!(
        unknown.contains("ok(hr_is(&s.a, 0x80004001 /* E_NOTIMPL */)"),
        "{unknown}"
    );
    assert!(
        unknown.contains(
            "|| broken(hr_is(&s.a, 0x80070057 /* E_INVALIDARG */)) /* Q-1=invalid_arg */"
        ),
        "{unknown}"
    );
    assert!(
        unknown.contains("trace(\"%s step 2: Q-1=invalid_arg\\n\", s.name);"),
        "{unknown}"
    );
    assert!(
        unknown.contains("|| broken(hr_is(&s.a, 0x00000000 /* S_OK */)) /* Q-1=mask */"),
        "{unknown}"
    );

    // L-2, L-4: the helper set as filtered is read back as filtered's SID, computed in C.
    let owner = function(&text, "owner-flags-and-token");
    let sid = step(&owner, 7);
    assert!(sid.contains("get_sid(&s, 0);"), "{sid}");
    assert!(
        sid.contains("ok(sid_is(&s.a, 0x00000000 /* S_OK */, ROLE_FILTERED),"),
        "{sid}"
    );
    let none = step(&owner, 5);
    assert!(
        none.contains("ok(sid_is_null(&s.a, 0x00000000 /* S_OK */),"),
        "{none}"
    );
    let flags = step(&owner, 9);
    assert!(
        flags.contains("ok(flags_are(&s.a, 0x00000000 /* S_OK */, 0x3),"),
        "{flags}"
    );

    // an identification-level helper fails to impersonate, or is denied.
    let identify = step(&function(&text, "identification-level-client"), 2);
    assert!(
        identify.contains("if (!set_token(&s, 0, ROLE_IDENTIFY)) goto done;"),
        "{identify}"
    );
    assert!(
        identify.contains("ok(hr_is(&s.a, 0x80010123 /* CO_E_FAILEDTOIMPERSONATE */)"),
        "{identify}"
    );
    assert!(identify.contains("/* Q-11=access_denied */"), "{identify}");

    // the filtered caller of an elevated job is refused at QueryInterface, so the next
    // step is not called, unless BITS checks at each call.
    let elevated = function(&text, "elevated-job-filtered-caller");
    let get = step(&elevated, 2);
    assert!(get.contains("ok(no_handle(&s.a)"), "{get}");
    assert!(
        get.contains("|| broken(hr_is(&s.a, 0x80070005 /* E_ACCESSDENIED */)) /* Q-9=per_call */"),
        "{get}"
    );

    // A-4 on the releases before 1607: a filtered owner cannot ask for the interface.
    let vetoes = function(&text, "non-admin-owner-vetoes");
    let first = step(&vetoes, 1);
    assert!(
        first.contains(
            "|| broken(hr_is(&s.a, 0x80070005 /* E_ACCESSDENIED */)) /* release=legacy */"
        ),
        "{first}"
    );
    assert!(
        vetoes.contains("begin(&s, \"non-admin-owner-vetoes\", ROLE_FILTERED, ROLE(ROLE_FILTERED) | ROLE(ROLE_CURRENT))"),
        "{vetoes}"
    );
}

#[test]
fn every_scenario_one_machine_can_cast_is_played_and_the_others_are_named() {
    let text = generated();
    let calls = &text[text.find("START_TEST(tokenoptions)").expect("START_TEST")..];
    let mut played = 0;
    for scenario in SCENARIOS {
        let name = format!("test_{}", scenario.name.replace('-', "_"));
        match generate::left_out(scenario) {
            None => {
                played += 1;
                let body = function(&text, scenario.name);
                assert!(calls.contains(&format!("        {name}();")), "{name}");
                // One check per step, each after the step's call.
                assert_eq!(
                    body.matches("\n    ok(").count(),
                    scenario.steps.len(),
                    "{body}"
                );
            }
            Some(why) => {
                assert!(!text.contains(&format!("{name}(")), "{name} is played");
                assert!(
                    text.contains(&format!(" *   {}: {why}\n", scenario.name)),
                    "{} is not named as left out",
                    scenario.name
                );
            }
        }
    }
    // The scenarios with another account, LocalSystem or a transfer are the only ones out.
    assert_eq!(played, 12);
    for out in [
        "take-another-users-job",
        "another-users-job",
        "system-job",
        "helper-flags-without-a-token",
    ] {
        assert!(text.contains(&format!(" *   {out}: ")), "{out}");
    }
}

#[test]
fn without_the_interface_the_test_skips() {
    // scripts/wine-tokenoptions looks for this line in the output under Wine.
    let text = generated();
    let probe = &text[text
        .find("static BOOL token_options_available(void)")
        .expect("the probe")..];
    assert!(probe.contains(
        "if (hr == E_NOINTERFACE)\n    {\n        todo_wine win_skip(\"IBitsTokenOptions not available\\n\");\n        return FALSE;"
    ));
    let main = &text[text.find("START_TEST(tokenoptions)").expect("START_TEST")..];
    assert!(main.contains("if (token_options_available())\n    {\n        cast_roles();"));
    assert!(text.contains("EOAC_DYNAMIC_CLOAKING"));
    assert!(text.contains("BITS_COST_STATE_TRANSFER_ALWAYS"));
    // Every helper the fixed part defines is used (the build has -Werror).
    for helper in [
        "query_interface(&s",
        "set_flags(&s",
        "get_flags(&s",
        "set_token(&s",
        "clear_token(&s",
        "get_sid(&s",
        "cancel(&s)",
        "take_ownership(&s",
        "no_handle(&s.a)",
        "hr_is(&s.a",
        "flags_are(&s.a",
        "sid_is(&s.a",
        "sid_is_null(&s.a",
    ] {
        assert!(text.contains(helper), "{helper} is never called");
    }
    assert!(fixed::HELPERS.contains("static void get_flags(struct scenario *s, int h)"));
}
