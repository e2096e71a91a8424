//! `doctor_line`: the doctor's line handling (`bits-helper-token-doctor --offline` and its
//! `--json` form), on arbitrary bytes.
//!
//! Whatever the line, `doctor::answer_line` never panics. With `--json` its answer is one
//! single-line JSON object: the diagnosis (no `"error"` key) or `{"error": "line N…"}`; the table form fails exactly when the JSON form does. The same
//! line always gives the same answer.
#![no_main]

use bits_helper_token::doctor::answer_line;
use serde_json::Value;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let json = answer_line(3, data, true);
    let text = match &json {
        Ok(t) | Err(t) => t,
    };
    let text = text.strip_suffix('\n').unwrap_or(text);
    assert!(!text.contains('\n'), "multi-line JSON answer {text:?}");
    let v: Value = serde_json::from_str(text).expect("every --json answer is JSON");
    assert!(v.is_object(), "{text}");
    match &json {
        Ok(_) => assert!(v.get("error").is_none(), "{text}"),
        Err(_) => {
            let msg = v["error"].as_str().expect("an error answer has a message");
            assert!(
                msg.starts_with("line 3: ") || msg.starts_with("line 3, column "),
                "{msg}"
            );
        }
    }
    let table = answer_line(3, data, false);
    assert_eq!(table.is_ok(), json.is_ok(), "the table and --json disagree on {data:?}");
    if let Err(t) = &table {
        assert!(t.starts_with("error: line 3"), "{t}");
    }
    assert_eq!(answer_line(3, data, true), json, "a second answer differs");
});
