//! One line of the oracle: a JSON scenario in, a JSON transcript (or error) out.
//!
//! Shared by `main.rs`, the tests and the fuzz target. The answer itself is the library's
//! [`bits_helper_token::scenario::answer_line`], which the Python package calls too.

/// The answer to input line `number` (1-based): `Ok(transcript JSON)` or
/// `Err({"error": "line N, column C: …"} JSON)` for a line that is not a scenario (column
/// in characters, from 1), `Err({"error": "line N: step S: …"} JSON)` for one the model
/// refuses. Never panics.
pub fn answer(number: usize, line: &[u8]) -> Result<String, String> {
    bits_helper_token::scenario::answer_line(number, line).map_err(|e| e.to_json_line())
}

/// Whether a line is blank (skipped, no answer).
#[allow(dead_code)] // used by main.rs; the tests include this file for `answer` only
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}
