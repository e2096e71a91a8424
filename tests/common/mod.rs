//! Shared fixtures for the integration tests.
#![allow(dead_code)]

use bits_helper_token::{Identity, Sid, token::TokenInfo};

pub fn sid(s: &str) -> Sid {
    s.parse().unwrap()
}

/// A standard user, `S-1-5-21-1-2-3-1001`.
pub fn alice() -> TokenInfo {
    TokenInfo::standard_user(sid("S-1-5-21-1-2-3-1001"))
}

/// Another standard user, `S-1-5-21-1-2-3-1002`.
pub fn bob() -> TokenInfo {
    TokenInfo::standard_user(sid("S-1-5-21-1-2-3-1002"))
}

/// An elevated administrator, `S-1-5-21-1-2-3-500`.
pub fn admin() -> TokenInfo {
    TokenInfo::elevated_administrator(sid("S-1-5-21-1-2-3-500"))
}

/// The same administrator, UAC-filtered.
pub fn filtered_admin() -> TokenInfo {
    TokenInfo::filtered_administrator(sid("S-1-5-21-1-2-3-500"))
}

pub fn id(t: &TokenInfo) -> Identity {
    Identity::of(t)
}
