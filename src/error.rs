//! Every error the crate returns, in one place, and [`Error`], the umbrella that any of
//! them converts into (`?` works across them). Each error says what is wrong and where;
//! none is ever "fixed" silently.
//!
//! ```
//! use bits_helper_token::{Error, Sid};
//! fn owner(s: &str) -> Result<Sid, Error> {
//!     Ok(s.parse::<Sid>()?)
//! }
//! let e = owner("S-1-5-021").unwrap_err();
//! assert!(matches!(e, Error::Sid(_)));
//! assert_eq!(e.to_string(), "at byte 6: leading zero in a decimal component");
//! ```
#![forbid(unsafe_code)]

pub use crate::hresult::ParseHResultError;
pub use crate::job::{QueryInterfaceError, WrongJob};
pub use crate::names::ParseNameError;
pub use crate::net::{InvalidRegistryValue, NullCredentialsError};
pub use crate::profile::NotAFailure;
#[cfg(feature = "json")]
pub use crate::scenario::{JsonError, LineError};
#[cfg(feature = "alloc")]
pub use crate::scenario::{ScenarioError, ScenarioErrorKind};
#[cfg(feature = "serde")]
pub use crate::serde_impl::InvalidJob;
pub use crate::sid::{InvalidSid, ParseSidError, SidBytesError};
pub use crate::usage::ParseUsageError;

/// Any error of this crate. Each variant wraps the specific error, which keeps its own
/// message (`Display` is transparent) and its position where it has one.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
// The refusal of QueryInterface keeps the facts its sentence speaks of (a few hundred bytes,
// inline: the core has no allocator); errors are not a hot path.
#[allow(clippy::large_enum_variant)]
pub enum Error {
    /// A SID string refused by the strict parser (T-2).
    #[error(transparent)]
    Sid(#[from] ParseSidError),
    /// A binary SID refused (T-2).
    #[error(transparent)]
    SidBytes(#[from] SidBytesError),
    /// SID parts out of range (T-2).
    #[error(transparent)]
    InvalidSid(#[from] InvalidSid),
    /// An `HRESULT` that is neither a known name nor `0x` and eight hex digits (T-6).
    #[error(transparent)]
    HResult(#[from] ParseHResultError),
    /// Usage flags that do not parse (T-1).
    #[error(transparent)]
    Usage(#[from] ParseUsageError),
    /// A name that is not one of a vocabulary's names.
    #[error(transparent)]
    Name(#[from] ParseNameError),
    /// A registry value out of its range (R-3).
    #[error(transparent)]
    RegistryValue(#[from] InvalidRegistryValue),
    /// `NULL` credentials for a scheme that has no implicit ones (R-3).
    #[error(transparent)]
    NullCredentials(#[from] NullCredentialsError),
    /// A denial code (Q-5) that is not a failure.
    #[error(transparent)]
    NotAFailure(#[from] NotAFailure),
    /// `QueryInterface` refused (A-2, or A-11/A-4/A-5 under Q-9).
    #[error(transparent)]
    QueryInterface(#[from] QueryInterfaceError),
    /// A handle used on another job.
    #[error(transparent)]
    WrongJob(#[from] WrongJob),
    /// A serialized job the model cannot reach.
    #[cfg(feature = "serde")]
    #[error(transparent)]
    InvalidJob(#[from] InvalidJob),
    /// A JSON line that is not a scenario, with its position.
    #[cfg(feature = "json")]
    #[error(transparent)]
    Json(#[from] JsonError),
    /// An oracle line answered with an error, with its line number.
    #[cfg(feature = "json")]
    #[error(transparent)]
    Line(#[from] LineError),
    /// A scenario refused, with its step.
    #[cfg(feature = "alloc")]
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
}
