//! One line of the oracle: a JSON scenario in, a JSON transcript (or error) out.
//!
//! Shared by `main.rs`, the tests and the fuzz target.

use bits_helper_token::scenario::Scenario;

/// The answer to input line `number` (1-based): `Ok(transcript JSON)` or
/// `Err({"error": "line N, column C: …"} JSON)` for a line that is not a scenario (column
/// in characters, from 1), `Err({"error": "line N: step S: …"} JSON)` for one the model
/// refuses. Never panics.
pub fn answer(number: usize, line: &[u8]) -> Result<String, String> {
    let fail = |what: String| {
        let msg = format!("line {number}: {what}");
        Err(serde_json::json!({ "error": msg }).to_string())
    };
    // A UTF-8 byte-order mark (PowerShell writes one) is not part of the line.
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let Ok(text) = std::str::from_utf8(line) else {
        return fail("not valid UTF-8".into());
    };
    // Straight into the typed scenario, as strictly as the library reads it.
    let scenario = match Scenario::from_json_line(text) {
        Ok(s) => s,
        Err(e) => {
            let msg = format!(
                "line {number}, column {}: invalid scenario: {e}",
                e.column()
            );
            return Err(serde_json::json!({ "error": msg }).to_string());
        }
    };
    match scenario.run() {
        Ok(transcript) => match transcript.to_json_line() {
            Ok(json) => Ok(json),
            Err(e) => fail(format!("cannot write the transcript: {e}")),
        },
        Err(e) => fail(e.to_string()),
    }
}

/// Whether a line is blank (skipped, no answer).
#[allow(dead_code)] // used by main.rs; the tests include this file for `answer` only
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}
