//! The network settings of a job that routing reads (SPEC §4, §5): `SetCredentials`
//! entries, the proxy usage, and the `UseLMCompat` / `LMCompatibilityLevel` registry values.
//!
//! Vocabulary only: the rules that read these (R-2, R-3, R-5, R-7, X-3) live in
//! [`crate::route()`] and [`crate::transfer_plan()`].
#![forbid(unsafe_code)]

pub use crate::access::Access;
pub use crate::challenge::{Challenges, IeSettings};

use crate::hresult::HResult;
use crate::names::names;

// ---------------------------------------------------------------------------------------
// Authentication vocabulary
// ---------------------------------------------------------------------------------------

/// `BG_AUTH_TARGET`: whom a set of credentials answers.
///
/// ```
/// use bits_helper_token::net::AuthTarget;
/// assert_eq!(AuthTarget::Proxy.value(), 2); // BG_AUTH_TARGET_PROXY
/// assert_eq!("server".parse::<AuthTarget>(), Ok(AuthTarget::Server));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[allow(clippy::exhaustive_enums)] // BG_AUTH_TARGET has exactly these two values
pub enum AuthTarget {
    /// `BG_AUTH_TARGET_SERVER` (1).
    Server,
    /// `BG_AUTH_TARGET_PROXY` (2).
    Proxy,
}

impl AuthTarget {
    /// The `BG_AUTH_TARGET` value.
    pub const fn value(self) -> u32 {
        match self {
            AuthTarget::Server => 1,
            AuthTarget::Proxy => 2,
        }
    }

    /// The target with this `BG_AUTH_TARGET` value.
    pub const fn from_value(value: u32) -> Option<AuthTarget> {
        match value {
            1 => Some(AuthTarget::Server),
            2 => Some(AuthTarget::Proxy),
            _ => None,
        }
    }
}

names! { AuthTarget, "authentication target"; Server => "server", Proxy => "proxy" }

/// `BG_AUTH_SCHEME`: the HTTP authentication schemes BITS answers.
///
/// Only NTLM and Negotiate have *implicit* credentials (the logon identity, R-2, R-3).
///
/// ```
/// use bits_helper_token::net::AuthScheme;
/// assert_eq!(AuthScheme::Negotiate.value(), 4); // BG_AUTH_SCHEME_NEGOTIATE
/// assert!(AuthScheme::Ntlm.has_implicit_credentials());
/// assert!(!AuthScheme::Passport.has_implicit_credentials());
/// assert_eq!("digest".parse::<AuthScheme>(), Ok(AuthScheme::Digest));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[allow(clippy::exhaustive_enums)] // BG_AUTH_SCHEME has exactly these five values
pub enum AuthScheme {
    /// `BG_AUTH_SCHEME_BASIC` (1).
    Basic,
    /// `BG_AUTH_SCHEME_DIGEST` (2).
    Digest,
    /// `BG_AUTH_SCHEME_NTLM` (3).
    Ntlm,
    /// `BG_AUTH_SCHEME_NEGOTIATE` (4): Kerberos or NTLM, chosen by Snego.
    Negotiate,
    /// `BG_AUTH_SCHEME_PASSPORT` (5): explicit credentials only.
    Passport,
}

impl AuthScheme {
    /// The `BG_AUTH_SCHEME` value.
    pub const fn value(self) -> u32 {
        self.index() as u32 + 1
    }

    /// The scheme with this `BG_AUTH_SCHEME` value.
    pub const fn from_value(value: u32) -> Option<AuthScheme> {
        match value {
            1 => Some(AuthScheme::Basic),
            2 => Some(AuthScheme::Digest),
            3 => Some(AuthScheme::Ntlm),
            4 => Some(AuthScheme::Negotiate),
            5 => Some(AuthScheme::Passport),
            _ => None,
        }
    }

    /// Whether the scheme can be answered with the implicit (logon) credentials of a
    /// token: NTLM and Negotiate (R-2, R-3).
    pub const fn has_implicit_credentials(self) -> bool {
        matches!(self, AuthScheme::Ntlm | AuthScheme::Negotiate)
    }

    /// Whether `SetCredentials` accepts a NULL user name and password for this scheme:
    /// every scheme but Basic and Digest (they return `E_INVALIDARG`).
    pub const fn accepts_null_credentials(self) -> bool {
        !matches!(self, AuthScheme::Basic | AuthScheme::Digest)
    }

    const fn index(self) -> usize {
        match self {
            AuthScheme::Basic => 0,
            AuthScheme::Digest => 1,
            AuthScheme::Ntlm => 2,
            AuthScheme::Negotiate => 3,
            AuthScheme::Passport => 4,
        }
    }

    /// How the scheme is written in prose and in HTTP's `WWW-Authenticate` (`NTLM`, `Negotiate`).
    pub(crate) const fn label(self) -> &'static str {
        match self {
            AuthScheme::Basic => "Basic",
            AuthScheme::Digest => "Digest",
            AuthScheme::Ntlm => "NTLM",
            AuthScheme::Negotiate => "Negotiate",
            AuthScheme::Passport => "Passport",
        }
    }
}

names! { AuthScheme, "authentication scheme";
    Basic => "basic", Digest => "digest", Ntlm => "ntlm", Negotiate => "negotiate",
    Passport => "passport",
}

/// What one `SetCredentials` call stored for a target and scheme.
///
/// The user name and password themselves are not modelled: routing depends only on
/// whether the user name was NULL, and a `Copy` value that ends up in logs and
/// serialized forms should not carry secrets.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[allow(clippy::exhaustive_enums)] // the user name is NULL or it is not
pub enum Credential {
    /// A user name and password: sent as given (R-5).
    Explicit,
    /// NULL user name and password: allows the implicit credentials of the token BITS
    /// acts as (R-3).
    Implicit,
}

/// `SetCredentials` refuses a NULL user name and password for Basic and Digest
/// (`E_INVALIDARG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "SetCredentials refuses a NULL user name and password for the {scheme} scheme (E_INVALIDARG): only NTLM, Negotiate and Passport accept them"
)]
#[non_exhaustive]
pub struct NullCredentialsError {
    /// The scheme (Basic or Digest).
    pub scheme: AuthScheme,
}

impl NullCredentialsError {
    /// The `HRESULT` `SetCredentials` returns: `E_INVALIDARG`.
    pub const fn hresult(&self) -> HResult {
        HResult::E_INVALIDARG
    }
}

/// The credentials set on a job with `IBackgroundCopyJob2::SetCredentials`, one slot per
/// target × scheme (R-3, R-5). Fixed size, `Copy`, no heap.
///
/// ```
/// use bits_helper_token::{net::AuthScheme, net::AuthTarget, net::Credential, net::Credentials};
///
/// // SetCredentials(proxy, Negotiate, NULL, NULL) and explicit Basic for the server.
/// let creds = Credentials::NONE
///     .set(AuthTarget::Proxy, AuthScheme::Negotiate, Credential::Implicit)?
///     .set(AuthTarget::Server, AuthScheme::Basic, Credential::Explicit)?;
/// assert!(creds.has_implicit(AuthTarget::Proxy));
/// assert!(creds.has_explicit(AuthTarget::Server));
/// assert_eq!(creds.get(AuthTarget::Server, AuthScheme::Ntlm), None);
///
/// // Basic and Digest need a user name.
/// let refused = Credentials::NONE.set(AuthTarget::Server, AuthScheme::Digest, Credential::Implicit);
/// assert_eq!(refused.unwrap_err().scheme, AuthScheme::Digest);
/// # Ok::<(), bits_helper_token::error::NullCredentialsError>(())
/// ```
///
/// **Serialized form** (feature `serde`): an object per target with one field per scheme
/// that is set, `{"server": {"basic": "explicit"}, "proxy": {"negotiate": "implicit"}}`;
/// missing targets and schemes are unset, unknown fields are refused, and so is an
/// `"implicit"` Basic or Digest entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[allow(clippy::exhaustive_structs)] // the fields are private
pub struct Credentials {
    server: [Option<Credential>; 5],
    proxy: [Option<Credential>; 5],
}

impl Credentials {
    /// No credentials: the state of a new job.
    pub const NONE: Credentials = Credentials {
        server: [None; 5],
        proxy: [None; 5],
    };

    const fn slots(&self, target: AuthTarget) -> &[Option<Credential>; 5] {
        match target {
            AuthTarget::Server => &self.server,
            AuthTarget::Proxy => &self.proxy,
        }
    }

    /// What is set for this target and scheme.
    pub const fn get(&self, target: AuthTarget, scheme: AuthScheme) -> Option<Credential> {
        self.slots(target)[scheme.index()]
    }

    /// `SetCredentials(target, scheme, …)`: these credentials replace any previous ones
    /// for the pair. Refuses implicit Basic and Digest, as `SetCredentials` does.
    pub const fn set(
        self,
        target: AuthTarget,
        scheme: AuthScheme,
        credential: Credential,
    ) -> Result<Credentials, NullCredentialsError> {
        if matches!(credential, Credential::Implicit) && !scheme.accepts_null_credentials() {
            return Err(NullCredentialsError { scheme });
        }
        Ok(self.put(target, scheme, Some(credential)))
    }

    /// `RemoveCredentials(target, scheme)`.
    pub const fn remove(self, target: AuthTarget, scheme: AuthScheme) -> Credentials {
        self.put(target, scheme, None)
    }

    const fn put(
        mut self,
        target: AuthTarget,
        scheme: AuthScheme,
        value: Option<Credential>,
    ) -> Credentials {
        match target {
            AuthTarget::Server => self.server[scheme.index()] = value,
            AuthTarget::Proxy => self.proxy[scheme.index()] = value,
        }
        self
    }

    /// Whether explicit credentials are set for this target, for any scheme (R-3, R-5).
    pub const fn has_explicit(&self, target: AuthTarget) -> bool {
        let slots = self.slots(target);
        let mut i = 0;
        while i < slots.len() {
            if matches!(slots[i], Some(Credential::Explicit)) {
                return true;
            }
            i += 1;
        }
        false
    }

    /// Whether `SetCredentials(NULL, NULL)` was called for this target with NTLM or
    /// Negotiate, the schemes with implicit credentials (R-3). An implicit Passport entry
    /// does not count: Passport supports explicit credentials only.
    pub const fn has_implicit(&self, target: AuthTarget) -> bool {
        matches!(
            self.get(target, AuthScheme::Ntlm),
            Some(Credential::Implicit)
        ) || matches!(
            self.get(target, AuthScheme::Negotiate),
            Some(Credential::Implicit)
        )
    }

    /// Whether any credentials are set for this target.
    pub const fn any(&self, target: AuthTarget) -> bool {
        let slots = self.slots(target);
        let mut i = 0;
        while i < slots.len() {
            if slots[i].is_some() {
                return true;
            }
            i += 1;
        }
        false
    }

    /// Whether nothing is set.
    pub const fn is_empty(&self) -> bool {
        !self.any(AuthTarget::Server) && !self.any(AuthTarget::Proxy)
    }

    /// Every entry that is set, server first, schemes in `BG_AUTH_SCHEME` order.
    pub fn iter(&self) -> impl Iterator<Item = (AuthTarget, AuthScheme, Credential)> + '_ {
        AuthTarget::ALL.iter().copied().flat_map(move |target| {
            AuthScheme::ALL
                .iter()
                .copied()
                .filter_map(move |scheme| self.get(target, scheme).map(|c| (target, scheme, c)))
        })
    }
}

#[cfg(feature = "serde")]
mod credentials_serde {
    use super::{AuthScheme, AuthTarget, Credential, Credentials};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize, Default)]
    #[serde(remote = "Self", default, deny_unknown_fields)]
    struct TargetRepr {
        #[serde(skip_serializing_if = "Option::is_none")]
        basic: Option<Credential>,
        #[serde(skip_serializing_if = "Option::is_none")]
        digest: Option<Credential>,
        #[serde(skip_serializing_if = "Option::is_none")]
        ntlm: Option<Credential>,
        #[serde(skip_serializing_if = "Option::is_none")]
        negotiate: Option<Credential>,
        #[serde(skip_serializing_if = "Option::is_none")]
        passport: Option<Credential>,
    }

    crate::names::strict_object!(TargetRepr, "credentials of a target");

    #[derive(Serialize, Deserialize, Default)]
    #[serde(remote = "Self", default, deny_unknown_fields)]
    struct CredentialsRepr {
        server: TargetRepr,
        proxy: TargetRepr,
    }

    crate::names::strict_object!(CredentialsRepr, "credentials");

    impl TargetRepr {
        fn of(c: &Credentials, t: AuthTarget) -> TargetRepr {
            TargetRepr {
                basic: c.get(t, AuthScheme::Basic),
                digest: c.get(t, AuthScheme::Digest),
                ntlm: c.get(t, AuthScheme::Ntlm),
                negotiate: c.get(t, AuthScheme::Negotiate),
                passport: c.get(t, AuthScheme::Passport),
            }
        }

        fn entries(&self) -> [(AuthScheme, Option<Credential>); 5] {
            [
                (AuthScheme::Basic, self.basic),
                (AuthScheme::Digest, self.digest),
                (AuthScheme::Ntlm, self.ntlm),
                (AuthScheme::Negotiate, self.negotiate),
                (AuthScheme::Passport, self.passport),
            ]
        }
    }

    impl Serialize for Credentials {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            CredentialsRepr {
                server: TargetRepr::of(self, AuthTarget::Server),
                proxy: TargetRepr::of(self, AuthTarget::Proxy),
            }
            .serialize(serializer)
        }
    }

    /// Refuses what `SetCredentials` refuses (implicit Basic or Digest).
    impl<'de> Deserialize<'de> for Credentials {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Credentials, D::Error> {
            let repr = <CredentialsRepr as Deserialize>::deserialize(deserializer)?;
            let mut creds = Credentials::NONE;
            for (target, slots) in [
                (AuthTarget::Server, &repr.server),
                (AuthTarget::Proxy, &repr.proxy),
            ] {
                for (scheme, value) in slots.entries() {
                    if let Some(c) = value {
                        creds = creds
                            .set(target, scheme, c)
                            .map_err(serde::de::Error::custom)?;
                    }
                }
            }
            Ok(creds)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Proxy usage and the registry
// ---------------------------------------------------------------------------------------

/// `BG_JOB_PROXY_USAGE`: how the job finds its proxy (`SetProxySettings`).
///
/// ```
/// use bits_helper_token::net::ProxyUsage;
/// assert_eq!(ProxyUsage::default(), ProxyUsage::Preconfig);
/// assert_eq!(ProxyUsage::Autodetect.value(), 3);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
#[allow(clippy::exhaustive_enums)] // BG_JOB_PROXY_USAGE has exactly these four values
pub enum ProxyUsage {
    /// `BG_JOB_PROXY_USAGE_PRECONFIG` (0, the default): the IE proxy settings.
    #[default]
    Preconfig,
    /// `BG_JOB_PROXY_USAGE_NO_PROXY` (1): connect directly.
    NoProxy,
    /// `BG_JOB_PROXY_USAGE_OVERRIDE` (2): the application's proxy list.
    Override,
    /// `BG_JOB_PROXY_USAGE_AUTODETECT` (3): WPAD.
    Autodetect,
}

impl ProxyUsage {
    /// The `BG_JOB_PROXY_USAGE` value.
    pub const fn value(self) -> u32 {
        match self {
            ProxyUsage::Preconfig => 0,
            ProxyUsage::NoProxy => 1,
            ProxyUsage::Override => 2,
            ProxyUsage::Autodetect => 3,
        }
    }

    /// The proxy usage with this `BG_JOB_PROXY_USAGE` value.
    pub const fn from_value(value: u32) -> Option<ProxyUsage> {
        match value {
            0 => Some(ProxyUsage::Preconfig),
            1 => Some(ProxyUsage::NoProxy),
            2 => Some(ProxyUsage::Override),
            3 => Some(ProxyUsage::Autodetect),
            _ => None,
        }
    }
}

names! { ProxyUsage, "proxy usage";
    Preconfig => "preconfig", NoProxy => "no_proxy", Override => "override",
    Autodetect => "autodetect",
}

mod environment;
pub use environment::{
    InvalidRegistryValue, LmCompatibilityLevel, NetworkEnvironment, NetworkState, UseLmCompat,
};
