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
mod against_reference;
#[cfg(all(feature = "std", feature = "serde"))]
mod auto_traits;
#[cfg(feature = "cli")]
mod calibration;
#[cfg(feature = "cli")]
mod calibration_registry;
#[cfg(all(feature = "std", feature = "serde"))]
mod contract_v3;
#[cfg(feature = "proptest")]
mod differential;
#[cfg(all(feature = "proptest", feature = "cli"))]
mod doctor;
mod exhaustive;
mod exhaustive_gate_lifecycle_network;
#[cfg(feature = "proptest")]
mod explain;
#[cfg(all(feature = "std", feature = "serde"))]
mod formats;
#[cfg(all(feature = "std", feature = "serde"))]
mod job;
mod layers;
#[cfg(feature = "std")]
mod methods;
#[cfg(all(feature = "std", feature = "serde"))]
mod oracle;
#[cfg(all(feature = "std", feature = "serde"))]
mod oracle_rules;
#[cfg(feature = "cli")]
mod readme_calibration;
#[cfg(feature = "cli")]
mod readme_doctor;
mod readme_routing;
#[cfg(all(feature = "std", feature = "serde"))]
mod route;
#[cfg(all(feature = "std", feature = "serde"))]
mod scenario;
#[cfg(feature = "std")]
mod set_flags;
#[cfg(all(feature = "std", feature = "serde"))]
mod sid;
#[cfg(feature = "state-machine")]
mod state_machine;
#[cfg(feature = "proptest")]
mod support_proptest;
#[cfg(all(feature = "std", feature = "serde"))]
mod vectors;
#[cfg(all(feature = "std", feature = "serde"))]
mod vocabulary;
#[cfg(feature = "json")]
mod wine_test;
