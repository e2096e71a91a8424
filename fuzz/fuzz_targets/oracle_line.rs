//! `oracle_line`: the oracle's line handling, on arbitrary bytes.
//!
//! Whatever the line, the handler never panics and gives exactly one single-line JSON
//! answer: a transcript `{"results", "job"}` with one result per step, or
//! `{"error": "line N: …"}` or `{"error": "line N, column C: …"}`. The same line always
//! gives the same answer.
#![no_main]

#[path = "../../src/bin/bits-helper-token-oracle/line.rs"]
mod line;

use serde_json::Value;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let answer = line::answer(3, data);
    let text = match &answer {
        Ok(t) | Err(t) => t,
    };
    assert!(!text.contains('\n'), "multi-line answer {text:?}");
    let v: Value = serde_json::from_str(text).expect("every answer is JSON");
    match &answer {
        Ok(_) => {
            // One result per step of the scenario the line held (after the UTF-8 byte-order
            // mark the oracle skips).
            let json = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
            let scenario: Value = serde_json::from_slice(json).expect("an accepted line is JSON");
            let steps = scenario["steps"].as_array().map_or(0, Vec::len);
            assert_eq!(v["results"].as_array().map(Vec::len), Some(steps));
            for r in v["results"].as_array().into_iter().flatten() {
                let hr = r["hresult"].as_str().expect("hresult is a string");
                assert!(hr.len() == 10 && hr.starts_with("0x"), "{hr}");
            }
            assert!(v["job"]["state"].is_string());
        }
        Err(_) => {
            let msg = v["error"].as_str().expect("an error answer has a message");
            assert!(
                (msg.starts_with("line 3: ") || msg.starts_with("line 3, column "))
                    && msg.len() > "line 3: ".len(),
                "{msg}"
            );
        }
    }
    assert_eq!(line::answer(3, data), answer, "not deterministic");
});
