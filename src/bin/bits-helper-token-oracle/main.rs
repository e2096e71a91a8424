//! `bits-helper-token-oracle`: the language-neutral oracle. Reads scenarios from stdin, one
//! JSON object per line, and writes one JSON object per line, in order. See the README's
//! "The oracle" section for the contract and `schema/` for its JSON Schemas. Blank lines are
//! skipped. The exit status is 1 if any line was invalid, 2 on a bad argument or a closed
//! stdout.
//!
//! ```sh
//! cargo install --path . --features cli      # or: cargo install bits-helper-token --features cli
//! echo '{"tokens": {"svc": {"user": "S-1-5-20"}}, "job": {"owner": "svc"},
//!        "steps": [{"op": "query_interface", "caller": "svc", "handle": 1},
//!                  {"op": "set_helper_token_flags", "handle": 1, "flags": 2}]}' \
//!   | tr -d '\n' | bits-helper-token-oracle
//! ```

mod line;

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use bits_helper_token::scenario::{CONTRACT, schemas_json};

const HELP: &str = "\
bits-helper-token-oracle — the BITS helper-token model as a JSON-lines oracle (contract 3,
SPEC version 3)

USAGE:
    bits-helper-token-oracle [--help | --version | --schema]   < scenarios.jsonl > answers.jsonl

Reads one JSON scenario per line on stdin and writes one JSON answer per line on stdout, in
order; blank lines are skipped, a UTF-8 byte-order mark at the start of a line is ignored.

  input line:  {\"release\", \"knobs\", \"environment\", \"tokens\", \"job\", \"steps\", \"explain\"}
  answer line: {\"results\": [{\"hresult\", \"name\", \"rule\", \"value\"?, \"skipped\"?,
                              \"transfer_failure\"?, \"explanation\"?}, ...],
                \"job\": {\"state\", \"error\", \"flags\", \"helper_token\", \"owner\",
                        \"owner_elevated\", \"owner_integrity\", \"owner_logged_on\",
                        \"files\", \"client_certificate\", \"proxy\", \"credentials\",
                        \"use_stored_credentials\"}}
               or {\"error\": \"line N: what is wrong (step, field)\"}

The contract (contract 3; every contract-2 line stays valid) is docs/oracle.md, summarized
in the README's section \"The oracle: a language-neutral contract\"; --schema prints the
JSON Schemas of both lines (schema/*.schema.json in the crate's repository and package).

EXIT STATUS:
    0  every line was answered with a transcript
    1  at least one line was invalid (each got an {\"error\": ...} answer)
    2  a bad argument, or stdout was closed

OPTIONS:
    -h, --help       print this help
    -V, --version    print the version and the contract's
        --schema     print the JSON Schemas of both lines as one JSON object:
                     {\"contract\": 3, \"scenario\": {...}, \"answer\": {...}}
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    if let Some(arg) = args.next() {
        return match arg.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                ExitCode::SUCCESS
            }
            "-V" | "--version" => {
                println!(
                    "bits-helper-token-oracle {} (contract {CONTRACT}, SPEC version 3)",
                    env!("CARGO_PKG_VERSION")
                );
                ExitCode::SUCCESS
            }
            "--schema" => {
                println!("{}", schemas_json());
                ExitCode::SUCCESS
            }
            other => {
                eprintln!(
                    "bits-helper-token-oracle: unknown argument {other:?} (it takes none; \
                     scenarios come on stdin). Try --help."
                );
                ExitCode::from(2)
            }
        };
    }
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
