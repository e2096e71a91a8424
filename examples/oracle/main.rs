//! The language-neutral oracle: reads scenarios from stdin, one JSON object per line, and
//! writes one JSON object per line, in order. See the README's "Oracle" section for the
//! contract. Blank lines are skipped. The exit status is 1 if any line was invalid.
//!
//! ```sh
//! echo '{"tokens": {"svc": {"user": "S-1-5-20"}}, "job": {"owner": "svc"},
//!        "steps": [{"op": "query_interface", "caller": "svc", "handle": 1},
//!                  {"op": "set_helper_token_flags", "handle": 1, "flags": 2}]}' \
//!   | tr -d '\n' | cargo run --example oracle
//! ```

mod line;

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let stdin = io::stdin().lock();
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut invalid = false;
    for (i, chunk) in stdin.split(b'\n').enumerate() {
        let number = i + 1;
        let answer = match chunk {
            Ok(bytes) if line::is_blank(&bytes) => continue,
            Ok(bytes) => line::answer(number, &bytes),
            Err(e) => Err(
                serde_json::json!({ "error": format!("line {number}: cannot read: {e}") })
                    .to_string(),
            ),
        };
        let text = answer.unwrap_or_else(|error| {
            invalid = true;
            error
        });
        if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
            return ExitCode::from(2); // stdout closed
        }
    }
    if invalid {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
