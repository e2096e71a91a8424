//! The integration tests, one test binary: each file of `tests/` is a module here, under
//! the features its tests need (so `cargo test` and `cargo test --no-default-features` run
//! what they can). One binary, so that a change to the library recompiles and links one
//! test crate, not one per file: what makes a mutation run (`cargo mutants`) affordable.
//! One file's tests: `cargo test --all-features --test all job::`.
//!
//! Kept apart, each its own process (see Cargo.toml): `tests/no_alloc.rs` (a counting global
//! allocator) and `tests/windows_*.rs` (run under Wine by `scripts/test-windows`).

// Shared by several files, so declared once here (each file `use`s it).
#[cfg(feature = "std")]
mod common;
#[cfg(all(feature = "std", feature = "serde"))]
#[path = "../src/bin/bits-helper-token-oracle/line.rs"]
mod oracle_line;
#[cfg(feature = "proptest")]
mod reference;

#[cfg(feature = "proptest")]
#[path = "against_reference.rs"]
mod against_reference;
#[cfg(all(feature = "std", feature = "serde"))]
#[path = "auto_traits.rs"]
mod auto_traits;
#[cfg(feature = "cli")]
#[path = "calibration.rs"]
mod calibration;
#[cfg(feature = "cli")]
#[path = "calibration_registry.rs"]
mod calibration_registry;
#[cfg(all(feature = "std", feature = "serde"))]
#[path = "contract_v3.rs"]
mod contract_v3;
#[cfg(feature = "proptest")]
#[path = "differential.rs"]
mod differential;
#[cfg(all(feature = "proptest", feature = "cli"))]
#[path = "doctor.rs"]
mod doctor;
#[path = "exhaustive.rs"]
mod exhaustive;
#[path = "exhaustive_gate_lifecycle_network.rs"]
mod exhaustive_gate_lifecycle_network;
#[cfg(feature = "proptest")]
#[path = "explain.rs"]
mod explain;
#[cfg(all(feature = "std", feature = "serde"))]
#[path = "formats.rs"]
mod formats;
#[cfg(all(feature = "std", feature = "serde"))]
#[path = "job.rs"]
mod job;
#[path = "layers.rs"]
mod layers;
#[cfg(feature = "std")]
#[path = "methods.rs"]
mod methods;
#[cfg(all(feature = "std", feature = "serde"))]
#[path = "oracle.rs"]
mod oracle;
#[cfg(all(feature = "std", feature = "serde"))]
#[path = "oracle_rules.rs"]
mod oracle_rules;
#[cfg(feature = "cli")]
#[path = "readme_calibration.rs"]
mod readme_calibration;
#[cfg(feature = "cli")]
#[path = "readme_doctor.rs"]
mod readme_doctor;
#[path = "readme_routing.rs"]
mod readme_routing;
#[cfg(all(feature = "std", feature = "serde"))]
#[path = "route.rs"]
mod route;
#[cfg(all(feature = "std", feature = "serde"))]
#[path = "scenario.rs"]
mod scenario;
#[cfg(feature = "std")]
#[path = "set_flags.rs"]
mod set_flags;
#[cfg(all(feature = "std", feature = "serde"))]
#[path = "sid.rs"]
mod sid;
#[cfg(feature = "state-machine")]
#[path = "state_machine.rs"]
mod state_machine;
#[cfg(feature = "proptest")]
#[path = "support_proptest.rs"]
mod support_proptest;
#[cfg(all(feature = "std", feature = "serde"))]
#[path = "vectors.rs"]
mod vectors;
#[cfg(all(feature = "std", feature = "serde"))]
#[path = "vocabulary.rs"]
mod vocabulary;
#[cfg(feature = "json")]
#[path = "wine_test.rs"]
mod wine_test;
