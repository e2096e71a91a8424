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

/// Serde for a `bitflags` type as its raw `u32`, unknown bits retained (never dropped):
/// the format is ours, not `bitflags`'s, so an upgrade cannot change it.
#[cfg(feature = "serde")]
macro_rules! serde_as_raw_bits {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_u32(self.bits())
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                <u32 as serde::Deserialize>::deserialize(deserializer).map(<$ty>::from_bits_retain)
            }
        }
    };
}
#[cfg(feature = "serde")]
pub(crate) use serde_as_raw_bits;

mod access;
mod challenge;
pub mod decide;
mod explain;
mod facts;
mod hresult;
mod job;
mod names;
mod net;
mod plan;
mod profile;
mod route;
mod rule;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod scenario;
#[cfg(feature = "serde")]
mod serde_impl;
mod sid;
mod state;
#[cfg(all(feature = "serde", feature = "alloc"))]
mod strict;
#[cfg(feature = "serde")]
mod text;
mod token;
mod usage;

/// The README's code examples, compiled and run as doctests (not part of the API).
#[cfg(all(doctest, feature = "std", feature = "serde"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The normative rules this crate models: `SPEC.md`, version 3 (the model follows version 2 until the "Fidelity v3" work lands). Every rule id a decision
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
pub use challenge::{Challenges, IeSettings};
pub use decide::lifecycle::{
    cancel, complete, helper_session_ended, logoff_owner, logon_owner, query_interface, resume,
    service_stop, take_ownership, transfer,
};
pub use decide::methods::{
    clear_helper_token, client_certificate_failure, get_helper_token_flags, get_helper_token_sid,
    set_helper_token, set_helper_token_flags,
};
pub use decide::{Decision, Event, Impersonation, Method, Operation, Value};
pub use explain::{Explanation, Inputs, PlanExplanation, RouteExplanation};
pub use facts::{Effect, JobError, JobFacts};
pub use hresult::{HResult, ParseHResultError};
pub use job::{Job, JobId, QueryInterfaceError, TokenOptions, WrongJob};
pub use names::ParseNameError;
pub use net::{
    AuthScheme, AuthTarget, Credential, Credentials, InvalidRegistryValue, LmCompatibilityLevel,
    NetworkEnvironment, NullCredentialsError, ProxyUsage, UseLmCompat,
};
pub use plan::{PLAN_CAPACITY, TransferOutcome, TransferPlan, transfer_makes, transfer_plan};
pub use profile::{
    AccessCheck, AdminBypass, DoneJobs, FailureCode, Knobs, LegacySetToken, NotAFailure, Profile,
    Release, TakeOwnership, TokenCheck, UnknownFlags,
};
pub use route::{ImplicitAllowed, Principal, Route, implicit_allowed, route};
pub use rule::{Reason, Rule, RuleId};
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use serde_impl::InvalidJob;
pub use sid::{
    InvalidSid, MAX_AUTHORITY, MAX_BINARY_LEN, MAX_SUB_AUTHORITIES, ParseSidError, Sid, SidBytes,
    SidBytesError,
};
pub use state::{JobState, JobType, Remote};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use token::TokenInfo;
pub use token::{Group, GroupAttributes, Identity, IntegrityLevel, JobOwner, Token};
pub use usage::{ParseUsageError, TokenUsage};
