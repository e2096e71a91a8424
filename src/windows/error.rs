//! The binding's error type.

use crate::hresult::HResult;
use crate::sid::SidBytesError;

/// Why a real token could not be opened, read or used.
///
/// The binding never panics on what Windows returns: a failed call, a SID that is not a
/// valid binary SID (T-2) and a malformed `GetTokenInformation` buffer are all reported
/// here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// A Win32 call failed; `code` is its error as an `HRESULT`
    /// (`HRESULT_FROM_WIN32(GetLastError())` for BOOL-returning functions, T-6).
    #[error("{call} failed: {code}")]
    Win32 {
        /// The Win32 function that failed, e.g. `"OpenThreadToken"`.
        call: &'static str,
        /// Its error.
        code: HResult,
    },
    /// Windows returned a SID that is not a valid binary SID (T-2).
    #[error("{what}{}: {source}", IndexSuffix(*index))]
    BadSid {
        /// Which SID: `"TokenUser"`, `"TokenGroups"` or the caller-given name.
        what: &'static str,
        /// Index of the group for `TokenGroups`, `None` otherwise.
        index: Option<usize>,
        /// What is wrong with it.
        source: SidBytesError,
    },
    /// A `GetTokenInformation` buffer does not hold what its class promises (a count or a
    /// pointer runs outside the returned bytes).
    #[error("{what}: malformed GetTokenInformation buffer ({detail})")]
    Malformed {
        /// Which information class, e.g. `"TokenGroups"`.
        what: &'static str,
        /// What did not fit.
        detail: &'static str,
    },
}

/// Formats `Some(i)` as `[i]`, `None` as nothing.
struct IndexSuffix(Option<usize>);

impl core::fmt::Display for IndexSuffix {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(i) => write!(f, "[{i}]"),
            None => Ok(()),
        }
    }
}

impl TokenError {
    /// The `HRESULT` of a failed Win32 call, if that is what this error is.
    pub const fn code(&self) -> Option<HResult> {
        match self {
            TokenError::Win32 { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub(crate) fn win32(call: &'static str, error: &windows::core::Error) -> TokenError {
        TokenError::Win32 {
            call,
            code: HResult::new(error.code().0),
        }
    }
}
