//! One way down: every module of `src/` imports only from its own layer or the layers below
//! it (the order is written in `src/lib.rs` and the crate docs). This test reads every
//! `crate::…` path outside comments and fails on one that climbs.

use std::path::{Path, PathBuf};

/// The layer of each top-level module of `src/`, lowest first.
const LAYERS: &[(&str, u8)] = &[
    // 0: vocabulary
    ("sid", 0),
    ("hresult", 0),
    ("usage", 0),
    ("names", 0),
    ("token", 0),
    ("caller", 0),
    ("profile", 0),
    ("net", 0),
    ("access", 0),
    ("challenge", 0),
    ("state", 0),
    ("rule", 0),
    ("text", 0),
    ("strict", 0),
    // 1: facts
    ("facts", 1),
    // 2: the rules
    ("decide", 2),
    // 3: explanations
    ("explain", 3),
    // 4: the stateful job
    ("job", 4),
    // 5: scenarios and the oracle
    ("scenario", 5),
    ("serde_impl", 5),
    // 6: the tools and the crate's front door
    ("support", 6),
    ("calibration", 6),
    ("windows", 6),
    ("error", 6),
    ("bin", 6),
    // 7: the doctor, which asks every layer below and decides nothing
    ("doctor", 7),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|&(_, l)| l)
}

/// The `crate::module` paths of `source` (outside `//` comments) that climb above the
/// layer of `module`, as `line: crate::target`.
fn upward(module: &str, source: &str) -> Vec<String> {
    let Some(own) = layer(module) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                .collect();
            if layer(&name).is_some_and(|target| target > own) {
                found.push(format!("{}: crate::{name}", n + 1));
            }
            rest = after;
        }
    }
    found
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut climbing = Vec::new();
    let mut checked = 0;
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src/");
        let top = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs"))
            .unwrap_or_default();
        if top == "lib" {
            continue; // the crate root declares the layers and re-exports; it belongs to none
        }
        assert!(
            layer(top).is_some(),
            "{}: module `{top}` has no layer in tests/layers.rs",
            relative.display()
        );
        checked += 1;
        let source = std::fs::read_to_string(file).expect("a source file");
        for hit in upward(top, &source) {
            climbing.push(format!("{}:{hit}", relative.display()));
        }
    }
    assert!(
        checked > 30,
        "only {checked} files read: is src/ where it was?"
    );
    assert!(
        climbing.is_empty(),
        "imports that climb the one-way stack:\n{}",
        climbing.join("\n")
    );
}

#[test]
fn an_upward_import_is_found() {
    // The check itself can fail: a rule importing the stateful job climbs two layers.
    let rule = "use crate::facts::JobFacts;\nuse crate::job::Job; // climbs\n";
    assert_eq!(upward("decide", rule), ["2: crate::job"]);
    // Downward and same-layer paths, and paths inside comments, pass.
    let job = "use crate::decide::route::route;\n// crate::scenario is above\nuse crate::job::Job;";
    assert!(upward("job", job).is_empty());
    // Vocabulary cannot reach the facts.
    assert_eq!(
        upward("token", "fn f(_: &crate::facts::JobFacts) {}"),
        ["1: crate::facts"]
    );
}
