#![doc = include_str!("../README.md")]
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

mod decide;
mod hresult;
mod job;
mod profile;
mod route;
#[cfg(feature = "alloc")]
pub mod scenario;
mod sid;
mod state;
#[cfg(feature = "serde")]
mod text;
mod token;
mod usage;
/// Support for downstream tests (feature `proptest`).
#[cfg(feature = "proptest")]
pub mod support {
    pub mod harness;
    pub mod proptest;
}
#[cfg(all(windows, feature = "windows"))]
#[cfg_attr(docsrs, doc(cfg(all(windows, feature = "windows"))))]
pub mod windows;

pub use decide::{
    Decision, Effect, Impersonation, JobFacts, Method, Rule, TransferFailure, Value,
    clear_helper_token, client_certificate_failure, get_helper_token_flags, get_helper_token_sid,
    set_helper_token, set_helper_token_flags,
};
pub use hresult::{HResult, ParseHResultError};
pub use job::{Event, EventOutcome, InvalidJob, Job, QueryInterfaceError, TokenOptions};
pub use profile::{
    AdminBypass, DoneJobs, FailureCode, Knobs, LegacySetToken, NotAFailure, ParseReleaseError,
    Profile, Release, TakeOwnership, UnknownFlags,
};
pub use route::{
    Access, AuthScheme, AuthTarget, Credential, Credentials, ImplicitAllowed, InvalidRegistryValue,
    LmCompatibilityLevel, NetworkEnvironment, NullCredentialsError, Outcome, PLAN_CAPACITY,
    ProxyUsage, Route, RouteRule, TransferJob, TransferPlan, UseLmCompat, Used, route,
    transfer_plan,
};
pub use sid::{
    InvalidSid, MAX_AUTHORITY, MAX_BINARY_LEN, MAX_SUB_AUTHORITIES, ParseSidError, Sid, SidBytes,
    SidBytesError,
};
pub use state::{JobState, JobType, ParseNameError, Remote};
#[cfg(feature = "alloc")]
pub use token::TokenInfo;
pub use token::{Group, GroupAttributes, Identity, JobOwner, Token};
pub use usage::{ParseUsageError, TokenUsage};
