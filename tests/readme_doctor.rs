//! The README's three diagnoses (between `<!-- doctor-examples:start -->` and
//! `<!-- doctor-examples:end -->`) are what `bits-helper-token-doctor --offline
//! docs/doctor/examples.jsonl` prints; and the README stays under 15,000 bytes.
//! `UPDATE_README=1 cargo test --features cli --test all readme_doctor::` rewrites the block.

use std::path::Path;
use std::process::Command;

const START: &str = "<!-- doctor-examples:start -->\n```text\n";
const END: &str = "```\n<!-- doctor-examples:end -->";

#[test]
fn the_readme_shows_the_doctors_own_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_bits-helper-token-doctor"))
        .args(["--offline", "docs/doctor/examples.jsonl"])
        .current_dir(root)
        .output()
        .expect("the doctor runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).expect("UTF-8");
    // The three cases the README promises.
    assert!(printed.contains("L-11: log on as S-1-5-21-1-2-3-1001 interactively"));
    assert!(printed.contains("E_ACCESSDENIED A-11: take_ownership"));
    assert!(printed.contains("R-3: call SetCredentials(server, Negotiate, NULL, NULL)"));

    let path = root.join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let start = readme.find(START).expect("the start marker") + START.len();
    let end = start + readme[start..].find(END).expect("the end marker");
    if std::env::var_os("UPDATE_README").is_some() {
        let updated = format!("{}{printed}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).expect("README.md is writable");
        return;
    }
    assert_eq!(
        readme[start..end],
        printed,
        "the README's diagnoses differ from the doctor's output; \
         UPDATE_README=1 cargo test --features cli --test all readme_doctor:: rewrites them"
    );
    assert!(readme.len() < 15_000, "README.md is {} bytes", readme.len());
}
