//! Prints generated scenarios as JSON lines, for the oracle and for tools in other languages
//! (feature `proptest`): `N` scenarios (default 100) from `SEED` (default 1), the same lines
//! for the same seed. Every other scenario has random knobs, every third asks for
//! explanations.
//!
//! ```sh
//! cargo run -q --example scenarios --features proptest -- 1000 7 | bits-helper-token-oracle
//! ```

use bits_helper_token::support::proptest::{ScenarioParams, scenario};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64, what: &str| match args.get(i) {
        None => Ok(default),
        Some(text) => text
            .parse::<u64>()
            .map_err(|e| format!("scenarios: argument {} ({what}) {text:?}: {e}", i + 1)),
    };
    let (count, seed) = match (number(0, 100, "count"), number(1, 1, "seed")) {
        (Ok(count), Ok(seed)) if args.len() <= 2 => (count, seed),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}\nusage: scenarios [COUNT [SEED]]");
            return ExitCode::from(2);
        }
        _ => {
            eprintln!("usage: scenarios [COUNT [SEED]]");
            return ExitCode::from(2);
        }
    };
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    let mut params = ScenarioParams::default();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for i in 0..count {
        params.random_knobs = i % 2 == 1;
        let tree = scenario(params.clone()).new_tree(&mut runner);
        let Ok(tree) = tree else {
            eprintln!("scenarios: the generator gave up at scenario {}", i + 1);
            return ExitCode::FAILURE;
        };
        let mut s = tree.current();
        s.explain = i % 3 == 0;
        let line = match serde_json::to_string(&s) {
            Ok(line) => line,
            Err(e) => {
                eprintln!("scenarios: scenario {} does not serialize: {e}", i + 1);
                return ExitCode::FAILURE;
            }
        };
        if writeln!(out, "{line}").is_err() {
            return ExitCode::from(2); // stdout closed
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}
