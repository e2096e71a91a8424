//! `bits-helper-token-doctor`: why is this BITS job stuck, and what may I do to it. It asks
//! the model (the same engine as `bits-helper-token-oracle`) about each job and prints the
//! diagnosis: a table for people, or one JSON line per job (`--json`).
//!
//! Offline (any platform, feature `cli`): `--offline FILE` (`-` for stdin) reads one job
//! per line in the oracle's scenario format plus `"caller"`. Live (Windows, feature
//! `windows`): reads the jobs the caller may see through BITS, read-only; `--export` writes
//! them in the offline format. See `docs/doctor.md`.

#[cfg(all(windows, feature = "windows"))]
mod live;

use bits_helper_token::doctor;
use std::io::{self, BufRead, Write};
use std::process::ExitCode;

const HELP: &str = "\
bits-helper-token-doctor — why is this BITS job stuck, and what may I do to it (the
bits-helper-token model, oracle contract 3, SPEC version 3)

USAGE:
    bits-helper-token-doctor --offline FILE [--json]    diagnose the jobs in FILE (- for stdin)
    bits-helper-token-doctor [--json]                   diagnose this machine's jobs (Windows)
    bits-helper-token-doctor --export                   write this machine's jobs as offline input

Offline input: one JSON object per line, the oracle's scenario with the job as it is now
(state, error, flags, helper_token, credentials, owner_logged_on, ...) plus \"caller\" (the
name of the token that asks); \"steps\" may be absent (when present they run first);
optional \"unknown\": {FACT: why} and \"label\". Blank lines are skipped.

Output: per job, what the next transfer does (\"transfer\"), what the caller may do
(\"caller_may\": every IBitsTokenOptions method and job method, each the oracle's result),
which identity each access uses (\"routes\"), the fixes the rules suggest (\"advice\"), the
model's sentences, and which answers depend on an unknown fact. schema/doctor.schema.json
describes the --json line; docs/doctor.md the rest.

The live mode never changes a job. It reads every job the caller may see (all users' for
an administrator), and reports what BITS would not tell as unknown.

EXIT STATUS:
    0  every line (job) was diagnosed
    1  at least one line was invalid (each got an {\"error\": ...} answer)
    2  a bad argument, an unreadable file, no live mode here, or stdout was closed

OPTIONS:
        --offline FILE   read jobs from FILE (- for stdin) instead of this machine
        --json           one JSON line per job instead of the table
        --export         (live) write the jobs as offline input lines, no diagnosis
    -h, --help           print this help
    -V, --version        print the version
";

/// What the command line asks for.
struct Args {
    offline: Option<String>,
    json: bool,
    export: bool,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        offline: None,
        json: false,
        export: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(None);
            }
            "-V" | "--version" => {
                println!(
                    "bits-helper-token-doctor {} (contract 3, SPEC version 3)",
                    env!("CARGO_PKG_VERSION")
                );
                return Ok(None);
            }
            "--json" => args.json = true,
            "--export" => args.export = true,
            "--offline" => match it.next() {
                Some(file) => args.offline = Some(file),
                None => return Err("--offline needs a FILE (or - for stdin)".into()),
            },
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if args.export && (args.offline.is_some() || args.json) {
        return Err("--export writes the live jobs; it takes neither --offline nor --json".into());
    }
    Ok(Some(args))
}

/// Diagnoses every line of `input`; the exit status.
fn offline(input: impl BufRead, json: bool, out: &mut impl Write) -> ExitCode {
    let mut invalid = false;
    let mut first = true;
    for (i, chunk) in input.split(b'\n').enumerate() {
        let number = i + 1;
        let answer = match chunk {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => continue,
            Ok(bytes) => doctor::answer_line(number, &bytes, json),
            Err(e) => Err(if json {
                serde_json::json!({ "error": format!("line {number}: cannot read: {e}") })
                    .to_string()
            } else {
                format!("error: line {number}: cannot read: {e}\n")
            }),
        };
        let text = answer.unwrap_or_else(|error| {
            invalid = true;
            error
        });
        let written = if json {
            writeln!(out, "{text}")
        } else if first {
            write!(out, "{text}")
        } else {
            write!(out, "\n{text}")
        };
        first = false;
        if written.and_then(|()| out.flush()).is_err() {
            return ExitCode::from(2); // stdout closed
        }
    }
    if invalid {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bits-helper-token-doctor: {e}. Try --help.");
            return ExitCode::from(2);
        }
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.offline.as_deref() {
        Some("-") => offline(io::stdin().lock(), args.json, &mut out),
        Some(file) => match std::fs::File::open(file) {
            Ok(f) => offline(io::BufReader::new(f), args.json, &mut out),
            Err(e) => {
                eprintln!("bits-helper-token-doctor: cannot read {file}: {e}");
                ExitCode::from(2)
            }
        },
        None => live_mode(&args, &mut out),
    }
}

#[cfg(all(windows, feature = "windows"))]
fn live_mode(args: &Args, out: &mut impl Write) -> ExitCode {
    let inputs = match live::read_jobs() {
        Ok(inputs) => inputs,
        Err(e) => {
            eprintln!("bits-helper-token-doctor: cannot read this machine's jobs: {e}");
            return ExitCode::from(2);
        }
    };
    let mut lines = Vec::new();
    for input in &inputs {
        match input.to_json_line() {
            Ok(line) => lines.push(line),
            Err(e) => {
                eprintln!("bits-helper-token-doctor: cannot write a job: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if args.export {
        for line in &lines {
            if writeln!(out, "{line}").is_err() {
                return ExitCode::from(2);
            }
        }
        return if out.flush().is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        };
    }
    let text = lines.join("\n");
    offline(io::Cursor::new(text.into_bytes()), args.json, out)
}

#[cfg(not(all(windows, feature = "windows")))]
fn live_mode(_args: &Args, _out: &mut impl Write) -> ExitCode {
    eprintln!(
        "bits-helper-token-doctor: the live mode reads BITS jobs on Windows (feature \
         `windows`); here, use --offline FILE. Try --help."
    );
    ExitCode::from(2)
}
