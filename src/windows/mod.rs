//! The model bound to real Windows access tokens (feature `windows`, Windows targets only).
//!
//! This module is the crate's only contact with Win32. It *reads* tokens and converts
//! values; it never decides anything — the rules stay in the pure core (SPEC §2).
//!
//! - [`WindowsToken`] owns a token handle (closed on drop) and implements
//!   [`Token`](crate::Token): [`WindowsToken::caller`] opens the token whose identity a
//!   `QueryInterface` for `IBitsTokenOptions` would remember (A-1) — the thread's
//!   impersonation token, or the process token when the thread is not impersonating.
//!   Its user and groups are read with `GetTokenInformation` (`TokenUser`, `TokenGroups`,
//!   `TokenElevation`, `TokenIntegrityLevel`, `TokenRestrictedSids` for T-11) and every
//!   SID is copied into a [`Sid`](crate::Sid) through its binary form (T-2); its logon type
//!   (L-11) from its logon session (`LsaGetLogonSessionData`), else its logon-type groups,
//!   and `None` where those do not decide ([`WindowsToken::logon_source`]).
//!   [`WindowsToken::snapshot`] gives a plain-data [`TokenInfo`](crate::token::TokenInfo).
//! - [`ComJob`]: `IBitsTokenOptions` as a real COM object for a BITS reimplementation
//!   to hand its clients. [`ComJob::query_interface`] stands for the job's
//!   `QueryInterface` (A-1: it reads the identity of the client COM presents); every
//!   method asks the model's [`TokenOptions`](crate::TokenOptions) and applies its
//!   decision; `SetHelperToken` takes the client's token at call time (A-9) and keeps a
//!   duplicated handle for the accesses R-1 and R-2 make with it. [`client_level`] reads
//!   the impersonation level the client of the COM call in progress allows (T-10).
//! - [`jobs`]: this machine's BITS jobs read through BITS without changing any, and a
//!   user's logon sessions (L-11) through LSA — what the doctor's live mode reports.
//! - Conversions: [`HResult`](crate::HResult) ↔ `windows::core::HRESULT`,
//!   [`TokenUsage`](crate::TokenUsage) ↔ `BG_TOKEN`, [`Sid`](crate::Sid) ↔
//!   [`WindowsSid`] (an owned, aligned Windows SID). A compile-time check pins the
//!   crate's named HRESULTs (T-6), group attributes (T-4) and usage flags (T-1) to
//!   windows-rs's.
//!
//! `windows` types appear in the public API only in the conversion impls and
//! [`WindowsSid::as_psid`] (`conv.rs`), and in the interface [`ComJob::query_interface`]
//! returns (`com.rs`), so a windows-rs release that renames its modules is absorbed there.
//! No `windows` type appears outside this module.
//!
//! Every `unsafe` block in this module carries a `SAFETY:` comment; the rest of the crate
//! forbids `unsafe`.
//!
//! ```
//! use bits_helper_token::windows::WindowsToken;
//! use bits_helper_token::{Identity, Token};
//!
//! // What QueryInterface would remember of us (A-1).
//! let caller = WindowsToken::caller()?;
//! let who = Identity::of(&caller);
//! println!("caller {} admin={} (T-5)", who.sid, who.admin);
//! # Ok::<(), bits_helper_token::windows::TokenError>(())
//! ```
#![allow(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate std;

mod com;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub mod conformance;
mod conv;
mod error;
mod info;
pub mod jobs;
mod token;

pub use com::{ComError, ComJob, client_level};
pub use conv::WindowsSid;
pub use error::TokenError;
pub use token::{ImpersonationGuard, ImpersonationLevel, LogonSource, TokenKind, WindowsToken};
