#![doc = include_str!("front.md")]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![cfg_attr(not(all(windows, feature = "windows")), forbid(unsafe_code))]
#![warn(clippy::exhaustive_enums, clippy::exhaustive_structs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

// The layers, each importing only from the ones above it in this list (a test,
// `tests/layers.rs`, reads every `use crate::…` and fails on an upward one):
// 0 vocabulary: sid, hresult, usage, names, token, profile, net, access, challenge, state,
//   rule, text, strict
// 1 facts · 2 decide (every rule) · 3 explain · 4 job · 5 scenario, serde_impl
// 6 support, windows, error (the crate's front door), bin
// 7 doctor: asks the model (through scenarios, as the oracle does) and decides nothing
mod access;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub mod calibration;
mod caller;
mod challenge;
pub mod decide;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub mod doctor;
pub mod error;
pub mod explain;
mod facts;
mod hresult;
pub mod job;
mod names;
pub mod net;
pub mod profile;
mod rule;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod scenario;
#[cfg(feature = "serde")]
mod serde_impl;
pub mod sid;
mod state;
#[cfg(all(feature = "serde", feature = "alloc"))]
mod strict;
#[cfg(feature = "serde")]
mod text;
pub mod token;
mod usage;

/// The README's code examples, compiled and run as doctests (not part of the API).
#[cfg(all(doctest, feature = "std", feature = "serde"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The normative rules this crate models: `SPEC.md`, version 3. Every rule id a decision
/// reports ([`RuleId`]) is defined here.
#[doc = include_str!("../SPEC.md")]
pub mod spec {}

/// Support for downstream tests (feature `proptest`).
#[cfg(feature = "proptest")]
#[cfg_attr(docsrs, doc(cfg(feature = "proptest")))]
pub mod support {
    pub mod harness;
    pub mod proptest;
    #[cfg(feature = "state-machine")]
    #[cfg_attr(docsrs, doc(cfg(feature = "state-machine")))]
    pub mod state_machine;
}
#[cfg(all(windows, feature = "windows"))]
#[cfg_attr(docsrs, doc(cfg(all(windows, feature = "windows"))))]
pub mod windows;

pub use access::Access;
pub use decide::route::{Route, route};
pub use decide::transfer::{TransferPlan, transfer_plan};
pub use decide::{Decision, RuleId};
pub use error::Error;
pub use facts::JobFacts;
pub use hresult::HResult;
pub use job::{Job, TokenOptions};
pub use profile::Profile;
pub use sid::Sid;
pub use state::JobState;
pub use token::{Identity, Token};
pub use usage::TokenUsage;
